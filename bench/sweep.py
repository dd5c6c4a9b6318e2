"""Benchmark the timer sweep: 10 due timers among 1,000 and among 100,000 waiting cases.

The sweep selects cases by the indexed ``next_timer_at``, so its cost should follow the due
timers, not the waiting cases. For each size the database holds that many cases waiting on a
future deadline; each round adds 10 cases whose referral deadline has passed and times one
``sweep()`` (which fires exactly those 10). Prints the median per size and the ratio.

Each size gets a fresh database: SQLite files in a temporary folder, or with
``--database-url postgresql+psycopg://…/NAME`` the databases ``NAME_sweep_1000`` and
``NAME_sweep_100000`` on that server (dropped and recreated).

    .venv/bin/python bench/sweep.py [--small 1000] [--large 100000] [--rounds 5]
        [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeding import (
    Cloner,
    add_clones,
    checkpoint,
    default_url,
    ensure_directory,
    header,
    make_app,
    scratch_url,
    user,
)

from server.extensions import db
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


def measure(waiting: int, rounds: int, url: str) -> tuple[float, int]:
    """Median sweep time (ms) with ``waiting`` waiting cases, and the timers fired per sweep."""
    app = make_app(url)
    timings, fired = [], 0
    with app.app_context():
        ensure_directory()
        waiting_case, due_case = waiting_template(), due_template()
        sys.stderr.write(f"seeding {waiting:,} waiting cases into {make_url(url).database}\n")
        add_clones(lambda n: waiting_case, waiting - 1, show=True)
        checkpoint()
        for _ in range(rounds):
            add_clones(lambda n: due_case, DUE_PER_ROUND)
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
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    base = args.database_url or default_url("sweep")
    parsed = make_url(base)
    name = "sweep" if parsed.get_backend_name() == "sqlite" else f"{parsed.database}_sweep"
    small, fired_small = measure(args.small, args.rounds, scratch_url(base, f"{name}_{args.small}"))
    large, fired_large = measure(args.large, args.rounds, scratch_url(base, f"{name}_{args.large}"))
    print(header(base))
    print(f"sweep, {fired_small} due among {args.small:>7,} waiting: median {small:7.1f} ms")
    print(f"sweep, {fired_large} due among {args.large:>7,} waiting: median {large:7.1f} ms")
    print(f"ratio: {large / small:.2f} (goal ≤ 1.5)")


if __name__ == "__main__":
    main()
