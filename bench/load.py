"""Benchmark task completion through the API under load: throughput and server CPU.

Starts the app as a real server in a separate process over a seeded database (the same
seeding as ``inbox.py``; a database that already holds ``--cases`` cases is used as it is):
gunicorn with ``gunicorn.conf.py`` (``server_cpu.Server``: one worker by default, the threaded
worker, the scheduler off). From this process, N concurrent clients (threads, one keep-alive
connection each) complete distinct ready tasks — the 南坪街道 street office's referrals —
through ``POST /api/v1/tasks/<id>/complete``, ``--requests`` per concurrency level. A share of
the requests is sent twice for the same task by two clients at once (one must win, the other
get 409) and a share carries invalid form data (422, nothing written).

Prints per level the throughput, median and p95 latency (the 200 answers), the server's CPU
time per answered request (``/proc`` of its process tree; 200, 409 and 422 are all answers)
and its ratio to the full engine step (``engine_step.py``, measured first in the same
invocation), and the answers (200 / 409 / 422 / other); then checks the database: every 200 is
a completed task with exactly one ``task_completed`` event and an intact audit chain, no 422 or
lost race wrote anything, and no task was completed twice. One JSON line per level, measure
"completions per second, N clients": no goal (``"goal": null``); ``"met"`` says the check
passed with no other answers.

    .venv/bin/python bench/load.py [--cases 100000] [--clients 1,4,16] [--requests 200]
        [--database-url postgresql+psycopg://…] [--workers 1] [--threads 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_step
import server_cpu
from seeding import (
    PASSWORD,
    default_url,
    header,
    kind,
    make_app,
    reset_database,
    seed,
    summary,
)

from server.audit import verify_chain
from server.extensions import db
from server.models import Agency, Case, Event, Task
from server.operations import today_shanghai
from tests.support.major_hazard import sample

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "wuling.nanping"
TASK = "refer_to_fire_rescue"


@dataclass
class Level:
    clients: int
    requests: list[tuple[str, bool]]  # (task id, valid data)
    answers: list[tuple[str, int, float, bool]] = field(default_factory=list)
    wall: float = 0.0
    batch: server_cpu.Batch | None = None


def token(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": USERNAME, "password": PASSWORD})
    connection.request("POST", "/api/v1/tokens", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert response.status == 201, answer
    return answer["token"]


def run_level(server: server_cpu.Server, bearer: str, level: Level, warmup: list[str]) -> None:
    """Send the level's requests from ``level.clients`` keep-alive clients; record the answers
    and the server's CPU time. ``warmup``: referrals completed first, not measured."""
    headers = {"Authorization": f"Bearer {bearer}"}
    valid = {"data": sample(TASK, today_shanghai())}
    invalid = {"data": {**sample(TASK, today_shanghai()), "letter_no": ""}}
    lock = threading.Lock()

    def job(task_id: str, ok: bool, record: bool = True) -> server_cpu.Job:
        def send(client: server_cpu.Client) -> int:
            started = time.perf_counter()
            answer = client.post_json(f"/api/v1/tasks/{task_id}/complete", valid if ok else invalid)
            elapsed = (time.perf_counter() - started) * 1000
            if record:
                with lock:
                    level.answers.append((task_id, answer.status, elapsed, ok))
            return answer.status

        return send

    clients = [server_cpu.Client(server.port, headers) for _ in range(level.clients)]
    level.batch = server_cpu.run_batch(
        server,
        clients,
        [job(task_id, ok) for task_id, ok in level.requests],
        good=(200, 409, 422),
        warmup=[job(task_id, True, record=False) for task_id in warmup],
    )
    level.wall = level.batch.wall_seconds
    for client in clients:
        client.close()


def plan(task_ids: list[str], clients: int, count: int, twice: float, invalid: float) -> Level:
    """``count`` requests: pairs for the same task side by side, some invalid, the rest single."""
    pairs = int(count * twice / 2)
    bad = int(count * invalid)
    single = count - 2 * pairs - bad
    requests: list[tuple[str, bool]] = []
    for _ in range(pairs):
        task_id = task_ids.pop()
        requests += [(task_id, True), (task_id, True)]
    requests += [(task_ids.pop(), False) for _ in range(bad)]
    requests += [(task_ids.pop(), True) for _ in range(single)]
    # Shuffle, but keep each pair adjacent so that two clients send it at the same time.
    chunks = [requests[i : i + 2] for i in range(0, 2 * pairs, 2)]
    chunks += [[r] for r in requests[2 * pairs :]]
    random.shuffle(chunks)
    return Level(clients, [r for chunk in chunks for r in chunk])


def check(levels: list[Level]) -> list[str]:
    """Compare the answers with the database; return the problems found."""
    problems: list[str] = []
    answers: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for level in levels:
        for task_id, status, _, ok in level.answers:
            answers[task_id].append((status, ok))
    tasks = {
        t.id: t for t in db.session.scalars(select(Task).where(Task.id.in_(list(answers)))).all()
    }
    completions = Counter(
        db.session.scalars(
            select(Event.case_id).where(
                Event.kind == "task_completed",
                Event.task_name == TASK,
                Event.case_id.in_({t.case_id for t in tasks.values()}),
            )
        ).all()
    )
    for task_id, got in answers.items():
        task = tasks[task_id]
        applied = sum(1 for status, _ in got if status == 200)
        statuses = sorted(status for status, _ in got)
        if applied > 1:
            problems.append(f"task {task_id}: completed {applied} times {statuses}")
        if applied == 1 and task.state != "completed":
            problems.append(f"task {task_id}: answered 200 but is {task.state} (lost update)")
        if applied == 0 and task.state != "ready":
            problems.append(f"task {task_id}: answered {statuses} but is {task.state}")
        if completions[task.case_id] != applied:
            problems.append(
                f"case {task.case_id}: {completions[task.case_id]} task_completed events "
                f"for {applied} answers 200"
            )
        for status, ok in got:
            if not ok and status != 422:
                problems.append(f"task {task_id}: invalid data answered {status}")
    for case_id in {t.case_id for t in tasks.values()}:
        chain = verify_chain(case_id)
        if not chain.ok:
            problems.append(f"case {case_id}: audit chain broken: {chain.problems}")
    return problems


def run_size(args, url: str, levels_wanted: list[int], engine: dict[str, float]) -> list[dict]:
    """Every level at one database: the table, the check, and one JSON line per level."""
    if args.reset:
        reset_database(url)
    app = make_app(url)
    warmup = args.warmup
    with app.app_context():
        seeded = seed(args.cases_now, args.events_per_case)
        cases = db.session.scalar(select(func.count(Case.id)))
        street = db.session.scalar(select(Agency.id).where(Agency.code == "street:wuling:nanping"))
        needed = len(levels_wanted) * (args.requests + warmup)
        task_ids = list(
            db.session.scalars(
                select(Task.id)
                .where(Task.agency_id == street, Task.state == "ready", Task.name == TASK)
                .order_by(Task.case_id.desc())
                .limit(needed)
            )
        )
        if len(task_ids) < needed:
            sys.exit(f"only {len(task_ids)} ready {TASK} tasks left, {needed} needed (--reset)")
        db.session.remove()
        db.engine.dispose()
    random.seed(1)
    random.shuffle(task_ids)
    warm = [[task_ids.pop() for _ in range(warmup)] for _ in levels_wanted]
    levels = [plan(task_ids, n, args.requests, args.twice, args.invalid) for n in levels_wanted]

    with server_cpu.Server(url, args.workers, args.threads) as server:
        bearer = token(server.port)
        for level, warm_ids in zip(levels, warm, strict=True):
            sys.stderr.write(f"{level.clients} clients, {len(level.requests)} requests\n")
            run_level(server, bearer, level, warm_ids)
        server_name = server.description
    with app.app_context():
        problems = check(levels)
        db.session.remove()
        db.engine.dispose()
    for level in levels:
        errors = Counter(s for _, s, _, _ in level.answers if s not in (200, 409, 422))
        if errors:
            problems.append(f"{level.clients} clients: other answers {dict(errors)}")

    bare, engine_ms = engine["bare_ms"], engine["duban_cpu_ms"]
    print(
        f"{cases:,} cases (seeded in {seeded:.0f} s; 0: reused); server: {server_name}; "
        f"{kind(url)}; {args.requests} requests per level after {warmup} to warm up, "
        f"{args.twice:.0%} sent twice at once, {args.invalid:.0%} invalid"
    )
    print(
        f"engine step (same run, {args.rounds} rounds): bare SpiffWorkflow median {bare:.2f} ms, "
        f"full step median {engine['duban_ms']:.2f} ms, CPU {engine_ms:.3f} ms"
    )
    print(f"{'clients':>7} {'req/s':>7} {'median':>9} {'p95':>9} {'CPU/req':>9} {'ratio':>6}   "
          "answers")  # fmt: skip
    lines = []
    for level in levels:
        batch = level.batch
        assert batch is not None
        timings = [elapsed for _, status, elapsed, ok in level.answers if ok and status == 200]
        median, p95 = summary(timings) if timings else (None, None)
        counts = Counter(status for _, status, _, _ in level.answers)
        other = sum(n for status, n in counts.items() if status not in (200, 409, 422))
        noun = "client" if level.clients == 1 else "clients"
        line = server_cpu.figure_line(
            f"completions per second, {level.clients} {noun}",
            server_cpu_ms=batch.server_cpu_ms,
            engine_step_ms=engine_ms,
            cases=cases,
            requests=batch.requests,
            errors=batch.errors,
            median_ms=median,
            p95_ms=p95,
            database=kind(url),
            goal=None,
            clients=level.clients,
            completions_per_second=round(counts[200] / level.wall, 1),
            requests_per_second=round(len(level.answers) / level.wall, 1),
            answers={str(k): v for k, v in sorted(counts.items())},
            check="ok" if not problems else f"{len(problems)} problems",
            server=server_name,
            load=server_cpu.load_average(),
        )
        line["met"] = not problems and other == 0
        lines.append(line)
        print(
            f"{level.clients:>7} {len(level.answers) / level.wall:>7.1f} "
            f"{median or float('nan'):>6.1f} ms {p95 or float('nan'):>6.1f} ms "
            f"{batch.server_cpu_ms:>6.2f} ms {line['ratio']:>6.1f}   200: {counts[200]}, "
            f"409: {counts[409]}, 422: {counts[422]}, other: {other}"
        )
    print(
        "(latency: the 200 answers; req/s: all requests of the level over its wall time; "
        "CPU/req: the server's CPU per answer; ratio: CPU/req over the full engine step)"
    )
    if problems:
        print(f"check: {len(problems)} PROBLEMS")
        for problem in problems[:20]:
            print(f"  {problem}")
    else:
        print("check: ok — no errors; every 200 applied once (task completed, one event, chain "
              "intact); every 409/422 left nothing behind")  # fmt: skip
    print(f"(server log: {server_cpu.Server.log_path()})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="100000", help="case counts, e.g. 2000,100000")
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--clients", default="1,4,16", help="concurrency levels")
    parser.add_argument("--requests", type=int, default=200, help="requests per level")
    parser.add_argument("--twice", type=float, default=0.1, help="share sent twice at once")
    parser.add_argument("--invalid", type=float, default=0.05, help="share with invalid data")
    parser.add_argument("--rounds", type=int, default=300, help="engine benchmark rounds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reset", action="store_true", help="empty the database(s) first")
    server_cpu.add_arguments(parser)
    args = parser.parse_args()
    levels_wanted = [int(n) for n in args.clients.split(",")]
    sizes = sorted(server_cpu.parse_sizes(args.cases))
    base = args.database_url or default_url()

    sys.stderr.write(f"engine benchmark ({args.rounds} rounds)\n")
    engine = engine_step.measure(args.rounds)
    print(header(base))
    lines = []
    for size in sizes:
        args.cases_now = size
        lines += run_size(args, server_cpu.sized_url(base, size, len(sizes) > 1), levels_wanted,
                          engine)  # fmt: skip
    for line in lines:
        server_cpu.emit(line, args.json)


if __name__ == "__main__":
    main()
