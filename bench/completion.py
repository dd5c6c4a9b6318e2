"""Anatomy of one task completion in-process: latency, SQL statements, time in the database.

Completes the 南坪街道 street office's ready referrals of a seeded database (``bench/seeding.py``;
seeded here when it has fewer cases than ``--cases``) through the Flask test client, so no HTTP
or second process is involved, and prints per completion: the median and p95 latency, the
number of SQL statements and the time spent executing them, next to the bare SpiffWorkflow
step and the Duban step (``bench/engine_step.py``) of the same run. ``--profile`` adds the
functions of ``server/`` and ``workflows/`` by cumulative time.

    .venv/bin/python bench/completion.py --cases 100000 --database-url sqlite:////tmp/scale.sqlite3
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_step
from seeding import PASSWORD, default_url, header, make_app, seed, summary

from server.extensions import db
from server.models import Agency, Case, Task
from server.operations import today_shanghai
from tests.support.major_hazard import sample

STREET = "street:wuling:nanping"


class StatementLog:
    """Counts the SQL statements a block runs and the time they take in the database."""

    def __init__(self, engine) -> None:
        self.reset()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=300, help="engine benchmark rounds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", action="store_true", help="print a profile of 20 more")
    args = parser.parse_args()
    url = args.database_url or default_url()
    app = make_app(url)
    print(header(url))

    step = engine_step.measure(args.rounds)
    print(f"bare SpiffWorkflow step: median {step['bare_ms']:.2f} ms, "
          f"Duban step (load, complete, dump) {step['duban_ms']:.2f} ms")  # fmt: skip

    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Case))
        if have < args.cases:
            print(f"seeding {args.cases - have} cases …", flush=True)
            seed(args.cases - have, args.events_per_case)
        street = db.session.scalar(select(Agency.id).where(Agency.code == STREET))
        wanted = args.requests + 10 + (20 if args.profile else 0)
        ids = list(
            db.session.scalars(
                select(Task.id)
                .where(Task.agency_id == street, Task.state == "ready")
                .where(Task.name == "refer_to_fire_rescue")
                .order_by(Task.case_id.desc())
                .limit(wanted)
            )
        )
        if len(ids) < wanted:
            sys.exit(f"only {len(ids)} ready referrals left; seed more cases")
        log = StatementLog(db.engine)
        db.session.remove()

    client = app.test_client()
    login = {"username": "wuling.nanping", "password": PASSWORD}
    answer = client.post("/api/v1/tokens", json=login)
    headers = {"Authorization": "Bearer " + answer.json["token"]}
    body = {"data": sample("refer_to_fire_rescue", today_shanghai())}

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
        print(out.getvalue())


if __name__ == "__main__":
    main()
