"""Benchmark the timer sweep: 10 due timers among 1,000 and among 100,000 waiting cases.

The sweep selects cases by the indexed ``next_timer_at``, so its cost should follow the due
timers, not the waiting cases. For each size the database holds that many cases waiting on a
future deadline; each round adds 10 cases whose referral deadline has passed and times one
``sweep()`` (which fires exactly those 10). Prints the median per size and the ratio.

    .venv/bin/python bench/sweep.py [--small 1000] [--large 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from inbox import PASSWORD, Cloner, checkpoint, progress, user

from server import create_app
from server.directory import ensure_agencies, ensure_demo_users
from server.extensions import db
from server.models import Case, Deadline, Event, Task
from server.operations import start_case, today_shanghai
from server.sweep import sweep
from tests.support.major_hazard import sample

DUE_PER_ROUND = 10


def waiting_template() -> Cloner:
    """A case registered today: its referral deadline lies days ahead."""
    case = start_case(
        user("wuling.nanping"), "major_hazard", sample("register_hazard", today_shanghai())
    )
    return Cloner(case)


def due_template() -> Cloner:
    """A case registered 10 days ago (clock moved back): its referral deadline has passed."""
    with time_machine.travel(datetime.now(UTC) - timedelta(days=10), tick=False):
        found = today_shanghai()
        case = start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found))
    assert case.next_timer_at is not None and case.next_timer_at < datetime.now(UTC)
    cloner = Cloner(case)
    case.next_timer_at = None  # the template itself is not swept; its clones are
    db.session.commit()
    return cloner


def add_clones(cloner: Cloner, count: int, show: bool = False) -> None:
    """Bulk-insert ``count`` clones of a template case."""
    next_id = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    started = time.perf_counter()
    batch: tuple[list, list, list, list] = ([], [], [], [])
    for n in range(count):
        for rows, new in zip(batch, cloner.rows(next_id + n), strict=True):
            rows.extend(new if isinstance(new, list) else [new])
        if len(batch[0]) == 2000 or n == count - 1:
            for model, rows in zip((Case, Task, Deadline, Event), batch, strict=True):
                if rows:
                    db.session.execute(insert(model), rows)
            db.session.commit()
            batch = ([], [], [], [])
            if show:
                progress(n + 1, count, started)


def measure(waiting: int, rounds: int, workdir: Path) -> tuple[float, int]:
    """Median sweep time (ms) with ``waiting`` waiting cases, and the timers fired per sweep."""
    url = f"sqlite:///{workdir / f'sweep-{waiting}.sqlite3'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
         "SWEEP_SECONDS": 0}
    )  # fmt: skip
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    timings, fired = [], 0
    with app.app_context():
        ensure_agencies()
        ensure_demo_users(PASSWORD)
        waiting_case, due_case = waiting_template(), due_template()
        sys.stderr.write(f"seeding {waiting:,} waiting cases\n")
        add_clones(waiting_case, waiting - 1, show=True)
        checkpoint()
        for _ in range(rounds):
            add_clones(due_case, DUE_PER_ROUND)
            started = time.perf_counter()
            result = sweep()
            timings.append((time.perf_counter() - started) * 1000)
            fired = result["fired"]
            assert result["failed"] == 0, result
        db.engine.dispose()
    return statistics.median(timings), fired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="duban-sweep-"))
    small, fired_small = measure(args.small, args.rounds, workdir)
    large, fired_large = measure(args.large, args.rounds, workdir)
    machine = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {machine}, {datetime.now(UTC):%Y-%m-%d}, database sqlite")
    print(f"sweep, {fired_small} due among {args.small:>7,} waiting: median {small:7.1f} ms")
    print(f"sweep, {fired_large} due among {args.large:>7,} waiting: median {large:7.1f} ms")
    print(f"ratio: {large / small:.2f} (goal ≤ 1.5)")


if __name__ == "__main__":
    main()
