"""One task completion: server CPU over HTTP (issue 20's measure), and its anatomy in-process.

Completes ready tasks of a seeded database (``bench/seeding.py``; seeded here when it has fewer
cases than ``--cases``), each step of ``--task`` apart: ``file_case`` (the 武陵区 brigade files
the case: no document) and ``refer_to_fire_rescue`` (the 南坪街道 street office's referral,
which issues the 函告书 PDF). Each is measured in two ways:

- in-process, through the Flask test client (no HTTP, no second process): per completion the
  median and p95 latency, the number of SQL statements and the time spent executing them, next
  to the bare SpiffWorkflow step and the Duban step of the same run; ``--profile`` adds the
  functions of ``server/`` and ``workflows/`` by cumulative time (``--no-in-process``: skip);
- over HTTP, one keep-alive client against the app under gunicorn (``server_cpu.Server``, one
  worker): the server's CPU time per completion (``/proc`` of its process tree) in ratio to
  the full engine step (``engine_step.py``, its CPU time, same invocation), and the client's
  median and p95. One JSON line per step, measure "completion over HTTP (<step>)": goal ratio
  ≤ 4 and p95 ≤ 2 × median, no errors. The line also gives the measured step's own full
  engine step (``task_engine_step_ms``: its stored state loaded, completed, dumped) and the
  server CPU in ratio to it (``ratio_to_task_step``), a diagnostic: how far a completion is
  from the engine's own work for that very step.

Several sizes (``--cases 2000,100000``) use one database per size beside ``--database-url``.

    .venv/bin/python bench/completion.py --cases 100000 --database-url sqlite:////tmp/scale.sqlite3
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
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

from server.engine import get_engine
from server.extensions import db
from server.models import Agency, Case, Task
from server.operations import today_shanghai
from tests.support.major_hazard import sample

STREET = "street:wuling:nanping"
#: The steps measured (``--task``): the street office's referral, which issues a document (函告书),
#: and the brigade's filing (立案), which issues none. Each: (agency, user).
STEPS = {
    "refer_to_fire_rescue": (STREET, "wuling.nanping"),
    "file_case": ("fire_brigade:wuling", "wuling.fire"),
}


class StatementLog:
    """Counts the SQL statements a block runs and the time they take in the database."""

    def __init__(self, engine) -> None:
        self.reset()
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def close(self) -> None:
        """Stop counting (the next step's log listens on the same engine)."""
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started")
        self.count += 1
        self.seconds += elapsed
        kind = " ".join(statement.split()[:4])[:60]
        self.kinds[kind] += 1
        self.kind_seconds[kind] += elapsed

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0
        self.kinds: Counter[str] = Counter()
        self.kind_seconds: Counter[str] = Counter()


def ready_referrals(app, count: int, task: str = "refer_to_fire_rescue") -> list[str]:
    """``count`` ready tasks ``task`` (``STEPS``), the newest cases first."""
    with app.app_context():
        agency = db.session.scalar(select(Agency.id).where(Agency.code == STEPS[task][0]))
        ids = list(
            db.session.scalars(
                select(Task.id)
                .where(Task.agency_id == agency, Task.state == "ready")
                .where(Task.name == task)
                .order_by(Task.case_id.desc())
                .limit(count)
            )
        )
        db.session.remove()
    if len(ids) < count:
        sys.exit(f"only {len(ids)} ready {task} left, {count} needed; seed more (--reset)")
    return ids


def in_process(app, args, step: dict[str, float], ids: list[str]) -> None:
    """The anatomy: completions through the Flask test client, SQL statements counted."""
    with app.app_context():
        log = StatementLog(db.engine)
    try:
        _in_process(app, args, step, ids, log)
    finally:
        log.close()


def _in_process(app, args, step: dict[str, float], ids: list[str], log: StatementLog) -> None:
    client = app.test_client()
    login = {"username": STEPS[args.task][1], "password": PASSWORD}
    answer = client.post("/api/v1/tokens", json=login)
    headers = {"Authorization": "Bearer " + answer.json["token"]}
    body = {"data": sample(args.task, today_shanghai())}

    def complete(task_id: str) -> float:
        started = time.perf_counter()
        response = client.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.json
        return elapsed

    for task_id in ids[:10]:  # warm-up: caches, the process spec, connections
        complete(task_id)
    log.reset()
    times = [complete(task_id) for task_id in ids[10 : 10 + args.requests]]
    median, p95 = (seconds * 1000 for seconds in summary(times))
    n = len(times)
    print(f"completion in-process ({n}): median {median:.2f} ms, p95 {p95:.2f} ms "
          f"({p95 / step['bare_ms']:.1f} × bare step)")  # fmt: skip
    print(f"per completion: {log.count / n:.1f} SQL statements, "
          f"{log.seconds / n * 1000:.2f} ms executing them")  # fmt: skip
    for statement, count in log.kinds.most_common():
        print(f"  {count / n:4.1f} × {statement}  {log.kind_seconds[statement] / n * 1000:.2f} ms")

    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for task_id in ids[10 + args.requests :]:
            complete(task_id)
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(r"(server|workflows)/", 40)
        stats.print_stats(30)  # everything, the libraries too
        print(out.getvalue())


def task_engine_step(app, task: str, task_id: str, rounds: int) -> float:
    """The full engine step of the task measured (load the stored state of a seeded case at
    that step, complete it, run the engine, extract the deadlines, dump the state): median CPU
    ms of ``rounds``, nothing written. A diagnostic beside the goal's denominator
    (``engine_step.py``'s step, another task): it says how much of a completion is the
    engine's own work for that very step."""
    with app.app_context():
        row = db.session.get(Task, task_id)
        case = db.session.get(Case, row.case_id)
        process, version, state = case.process_id, case.process_version, case.state
        db.session.remove()
        engine = get_engine()
    data = sample(task, today_shanghai())
    times = []
    for _ in range(rounds):
        started = time.thread_time()
        instance = engine.load(process, version, state)
        ready = next(t for t in instance.ready_tasks() if t.name == task)
        instance.complete(ready.id, dict(data))
        instance.waiting_timers()
        instance.next_timer_at()
        instance.dumps()
        times.append(time.thread_time() - started)
    return statistics.median(times) * 1000


def over_http(
    url: str, args, engine_ms: float, cases: int, ids: list[str], task_step_ms: float
) -> dict:
    """Completions over HTTP at 1 client: server CPU per completion (``server_cpu``)."""
    body = {"data": sample(args.task, today_shanghai())}

    def job(task_id: str) -> server_cpu.Job:
        return lambda client: client.post_json(f"/api/v1/tasks/{task_id}/complete", body).status

    warm, measured = ids[: args.warmup], ids[args.warmup :]
    with server_cpu.Server(url, args.workers, args.threads) as server:
        client = server_cpu.api_client(server.port, STEPS[args.task][1], PASSWORD)
        batch = server_cpu.run_batch(
            server, [client], [job(t) for t in measured], warmup=[job(t) for t in warm]
        )
        description = server.description
    line = server_cpu.figure_line(
        f"completion over HTTP ({args.task})",
        server_cpu_ms=batch.server_cpu_ms,
        engine_step_ms=engine_ms,
        cases=cases,
        requests=batch.requests,
        errors=batch.errors,
        median_ms=batch.median_ms,
        p95_ms=batch.p95_ms,
        database=kind(url),
        goal=server_cpu.COMPLETION_GOAL,
        p95_limit=True,
        clients=1,
        server=description,
        load=server_cpu.load_average(),
        task_engine_step_ms=round(task_step_ms, 3),
        ratio_to_task_step=round(batch.server_cpu_ms / task_step_ms, 2),
    )
    errors = f"; {batch.errors} ERRORS {dict(batch.statuses)}" if batch.errors else ""
    print(
        f"completion over HTTP ({description}, 1 client, {batch.requests} after "
        f"{len(warm)} to warm up): server CPU {line['server_cpu_ms']:.2f} ms per completion = "
        f"{line['ratio']:.1f} × the full engine step (goal ≤ {server_cpu.COMPLETION_GOAL:g}); "
        f"median {line['median_ms']} ms, p95 {line['p95_ms']} ms "
        f"(p95/median {line['p95_over_median']}, goal ≤ {server_cpu.P95_OVER_MEDIAN_MAX:g})"
        f"{errors}; the {args.task} step's own full engine step {task_step_ms:.3f} ms CPU "
        f"({line['ratio_to_task_step']} × that)"
    )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="100000", help="case counts, e.g. 2000,100000")
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=300, help="engine benchmark rounds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reset", action="store_true", help="empty the database(s) first")
    parser.add_argument("--profile", action="store_true", help="print a profile of 20 more")
    parser.add_argument("--no-in-process", action="store_true", help="over HTTP only")
    parser.add_argument(
        "--task",
        default="file_case,refer_to_fire_rescue",
        help="the steps completed, each measured apart: the filing (file_case, no document) "
        "and the referral (refer_to_fire_rescue, issues the 函告书)",
    )
    server_cpu.add_arguments(parser)
    args = parser.parse_args()
    sizes = sorted(server_cpu.parse_sizes(args.cases))
    tasks = [task.strip() for task in args.task.split(",") if task.strip()]
    if not tasks or set(tasks) - set(STEPS):
        parser.error(f"--task: one or more of {', '.join(sorted(STEPS))}, separated by commas")
    base = args.database_url or default_url()
    print(header(base))

    step = engine_step.measure(args.rounds)
    engine_ms = step["duban_cpu_ms"]
    print(f"bare SpiffWorkflow step: median {step['bare_ms']:.2f} ms; full engine step (load, "
          f"complete, save) median {step['duban_ms']:.2f} ms, CPU {engine_ms:.3f} ms")  # fmt: skip

    lines = []
    for size in sizes:
        url = server_cpu.sized_url(base, size, len(sizes) > 1)
        if args.reset:
            reset_database(url)
        app = make_app(url)
        with app.app_context():
            have = db.session.scalar(select(func.count()).select_from(Case))
            if have < size:
                print(f"seeding {size - have} cases …", flush=True)
                seed(size, args.events_per_case)
            cases = db.session.scalar(select(func.count()).select_from(Case))
            db.session.remove()
        print(f"{cases:,} cases")
        for task in tasks:
            run = argparse.Namespace(**{**vars(args), "task": task})
            local = 0 if args.no_in_process else args.requests + 10 + (20 if args.profile else 0)
            ids = ready_referrals(app, local + args.warmup + args.requests + 1, task)
            task_step_ms = task_engine_step(app, task, ids.pop(), args.rounds)
            if local:
                in_process(app, run, step, ids[:local])
            with app.app_context():
                db.engine.dispose()
            lines.append(over_http(url, run, engine_ms, cases, ids[local:], task_step_ms))
    for line in lines:
        server_cpu.emit(line, args.json)


if __name__ == "__main__":
    main()
