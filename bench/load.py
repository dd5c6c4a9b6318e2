"""Benchmark task completion through the API under load, at 100,000 cases.

Starts the app as a real HTTP server in a separate process over a seeded database (the same
seeding as ``inbox.py``; a database that already holds ``--cases`` cases is used as it is),
then, from this process, N concurrent clients (threads, one keep-alive connection each)
complete distinct ready tasks — the 南坪街道 street office's referrals — through
``POST /api/v1/tasks/<id>/complete``, ``--requests`` per concurrency level. A share of the
requests is sent twice for the same task by two clients at once (one must win, the other get
409) and a share carries invalid form data (422, nothing written).

Prints per level the throughput, median and p95 latency and the answers (200 / 409 / 422 /
other); then checks the database: every 200 is a completed task with exactly one
``task_completed`` event and an intact audit chain, no 422 or lost race wrote anything, and no
task was completed twice. The bare SpiffWorkflow step of ``engine_step.py`` is measured first
in the same invocation, and the completion p95 is compared with it (goal ≤ 3×).

The server is Flask's (werkzeug's) threaded server, ``flask run --no-reload --with-threads``
(``--server werkzeug``, the default, no extra dependency); ``--server gunicorn`` runs
``gunicorn --workers W --threads T`` instead when gunicorn is installed in .venv.

    .venv/bin/python bench/load.py [--cases 100000] [--clients 1,4,16] [--requests 200]
        [--database-url postgresql+psycopg://…] [--server werkzeug|gunicorn]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_step
from seeding import PASSWORD, default_url, header, kind, make_app, seed, summary

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, kind_: str, workers: int, threads: int, log: Path):
    """Start the app in its own process; return it and its port once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCHEDULER_ENABLED": "0",
        "SWEEP_SECONDS": "0",
        "LOGIN_MAX_FAILURES": "1000",
        "UPLOAD_DIR": str(Path(tempfile.gettempdir()) / "duban-bench-attachments"),
        "EXPORT_DIR": str(Path(tempfile.gettempdir()) / "duban-bench-exports"),
    }
    bin_ = Path(sys.executable).parent
    if kind_ == "gunicorn":
        gunicorn = shutil.which("gunicorn", path=str(bin_))
        if gunicorn is None:
            sys.exit(
                "gunicorn is not installed in .venv: pip install gunicorn, or --server werkzeug"
            )
        command = [gunicorn, "--workers", str(workers), "--threads", str(threads),
                   "--bind", f"127.0.0.1:{port}", "server:create_app()"]  # fmt: skip
    else:
        command = [str(bin_ / "flask"), "--app", "server", "run", "--no-reload",
                   "--with-threads", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server stopped: see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/openapi.json")
            connection.getresponse().read()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit(f"the server did not answer within 60 s: see {log}")


def token(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": USERNAME, "password": PASSWORD})
    connection.request("POST", "/api/v1/tokens", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert response.status == 201, answer
    return answer["token"]


def worker(port: int, bearer: str, work: queue.Queue, level: Level, lock: threading.Lock):
    """Complete tasks from the queue until it is empty, on one keep-alive connection."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
    valid = json.dumps({"data": sample(TASK, today_shanghai())}, ensure_ascii=False).encode()
    invalid_data = {**sample(TASK, today_shanghai()), "letter_no": ""}
    invalid = json.dumps({"data": invalid_data}, ensure_ascii=False).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        try:
            task_id, ok = work.get_nowait()
        except queue.Empty:
            break
        started = time.perf_counter()
        try:
            connection.request(
                "POST", f"/api/v1/tasks/{task_id}/complete", valid if ok else invalid, headers
            )
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0  # connection error: counted as "other"
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            level.answers.append((task_id, status, elapsed, ok))
    connection.close()


def run_level(port: int, bearer: str, level: Level) -> None:
    work: queue.Queue = queue.Queue()
    for item in level.requests:
        work.put(item)
    lock = threading.Lock()
    threads = [
        threading.Thread(target=worker, args=(port, bearer, work, level, lock))
        for _ in range(level.clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    level.wall = time.perf_counter() - started


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--clients", default="1,4,16", help="concurrency levels")
    parser.add_argument("--requests", type=int, default=200, help="requests per level")
    parser.add_argument("--twice", type=float, default=0.1, help="share sent twice at once")
    parser.add_argument("--invalid", type=float, default=0.05, help="share with invalid data")
    parser.add_argument("--rounds", type=int, default=300, help="engine benchmark rounds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    args = parser.parse_args()
    levels_wanted = [int(n) for n in args.clients.split(",")]

    sys.stderr.write(f"engine benchmark ({args.rounds} rounds)\n")
    engine = engine_step.measure(args.rounds)

    url = args.database_url or default_url()
    app = make_app(url)
    with app.app_context():
        seeded = seed(args.cases, args.events_per_case)
        cases = db.session.scalar(select(func.count(Case.id)))
        street = db.session.scalar(select(Agency.id).where(Agency.code == "street:wuling:nanping"))
        needed = len(levels_wanted) * args.requests
        task_ids = list(
            db.session.scalars(
                select(Task.id)
                .where(Task.agency_id == street, Task.state == "ready", Task.name == TASK)
                .order_by(Task.case_id.desc())
                .limit(needed)
            )
        )
        if len(task_ids) < needed:
            sys.exit(f"only {len(task_ids)} ready {TASK} tasks left, {needed} needed")
        db.session.remove()
    random.seed(1)
    random.shuffle(task_ids)
    levels = [plan(task_ids, n, args.requests, args.twice, args.invalid) for n in levels_wanted]

    log = Path(tempfile.gettempdir()) / f"duban-bench-server-{os.getpid()}.log"
    server, port = start_server(url, args.server, args.workers, args.threads, log)
    try:
        bearer = token(port)
        for level in levels:
            sys.stderr.write(f"{level.clients} clients, {len(level.requests)} requests\n")
            run_level(port, bearer, level)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with app.app_context():
        problems = check(levels)
    for level in levels:
        errors = Counter(s for _, s, _, _ in level.answers if s not in (200, 409, 422))
        if errors:
            problems.append(f"{level.clients} clients: other answers {dict(errors)}")

    bare = engine["bare_ms"]
    server_name = (
        f"gunicorn --workers {args.workers} --threads {args.threads}"
        if args.server == "gunicorn"
        else "flask run --no-reload --with-threads (werkzeug)"
    )
    print(header(url))
    print(
        f"{cases:,} cases (seeded in {seeded:.0f} s; 0: reused); server: {server_name}; "
        f"{kind(url)}; {args.requests} requests per level, {args.twice:.0%} sent twice at "
        f"once, {args.invalid:.0%} invalid"
    )
    print(
        f"engine step (same run, {args.rounds} rounds): bare SpiffWorkflow median {bare:.2f} ms, "
        f"Duban step median {engine['duban_ms']:.2f} ms → goal completion p95 ≤ {3 * bare:.1f} ms"
    )
    print(f"{'clients':>7} {'req/s':>7} {'median':>9} {'p95':>9} {'p95/bare':>8}   answers")
    for level in levels:
        timings = [elapsed for _, status, elapsed, ok in level.answers if ok and status == 200]
        median, p95 = summary(timings) if timings else (float("nan"), float("nan"))
        counts = Counter(status for _, status, _, _ in level.answers)
        other = sum(n for status, n in counts.items() if status not in (200, 409, 422))
        print(
            f"{level.clients:>7} {len(level.answers) / level.wall:>7.1f} {median:>6.1f} ms "
            f"{p95:>6.1f} ms {p95 / bare:>8.1f}   200: {counts[200]}, 409: {counts[409]}, "
            f"422: {counts[422]}, other: {other}"
        )
    print("(latency: the 200 answers; req/s: all requests of the level over its wall time)")
    if problems:
        print(f"check: {len(problems)} PROBLEMS")
        for problem in problems[:20]:
            print(f"  {problem}")
    else:
        print("check: ok — no errors; every 200 applied once (task completed, one event, chain "
              "intact); every 409/422 left nothing behind")  # fmt: skip
    print(f"(server log: {log})")


if __name__ == "__main__":
    main()
