"""Benchmark the inbox API and the case page over 100,000 cases and 1,000,000 audit events.

Seeds a database (``--database-url``, default a fresh SQLite file) with the Changde directory,
runs a few real cases through the engine, then clones them (fresh task ids inside their
workflow states, audit chains re-hashed and padded to ``--events-per-case``) until there are
``--cases`` cases, a share of them waiting at the 武陵区 brigade (see ``seeding.py``). A database
that already holds ``--cases`` cases is used as it is (``--reset`` empties it first). Prints the
median and p95 of ``GET /api/v1/inbox`` for that brigade (≥ 2,000 ready tasks) and of the case
page and case API, through the app in-process, then the storage per case and in total.

    .venv/bin/python bench/inbox.py [--cases 100000] [--events-per-case 10] [--requests 200]
        [--database-url postgresql+psycopg://…] [--reset]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeding import (
    PASSWORD,
    default_url,
    header,
    make_app,
    print_storage,
    reset_database,
    seed,
    storage,
    summary,
)

from server.extensions import db
from server.models import Case, Event, Task


def measure(client, path: str, headers: dict[str, str], requests: int) -> tuple[float, float]:
    """Median and p95 in milliseconds of ``requests`` GETs of ``path``."""
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return summary(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reset", action="store_true", help="empty the database first")
    args = parser.parse_args()
    url = args.database_url or default_url()
    if args.reset:
        reset_database(url)
    app = make_app(url)
    started = time.perf_counter()
    with app.app_context():
        seeded = seed(args.cases, args.events_per_case)
        cases = db.session.scalar(select(func.count(Case.id)))
        events = db.session.scalar(select(func.count(Event.id)))
        brigade_ready = db.session.scalar(
            select(func.count(Task.id))
            .join(Task.agency)
            .where(Task.state == "ready", Task.agency.has(code="fire_brigade:wuling"))
        )
        sample_case = db.session.scalar(
            select(Task.case_id)
            .where(Task.agency.has(code="fire_brigade:wuling"))
            .order_by(Task.case_id.desc())
            .limit(1)
        )
        figures = storage()
        measured_storage = time.perf_counter() - started - seeded
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "wuling.fire", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    login = client.get("/login")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login.text)
    client.post(
        "/login",
        data={"username": "wuling.fire", "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    inbox = measure(client, "/api/v1/inbox", headers, args.requests)
    inbox_overdue = measure(client, "/api/v1/inbox?overdue=true&page=3", headers, args.requests)
    case_page = measure(client, f"/cases/{sample_case}", {}, args.requests)
    case_api = measure(client, f"/api/v1/cases/{sample_case}", headers, args.requests)

    print(header(url))
    print(
        f"{cases:,} cases (seeded in {seeded:.0f} s; 0: reused), {events:,} audit events; "
        f"武陵区消防救援大队 ready: {brigade_ready:,}; {args.requests} requests each"
    )
    for name, (median, p95) in (
        ("GET /api/v1/inbox (page 1)", inbox),
        ("GET /api/v1/inbox?overdue=true&page=3", inbox_overdue),
        ("GET /cases/<id> (HTML case page)", case_page),
        ("GET /api/v1/cases/<id>", case_api),
    ):
        verdict = "ok" if p95 <= 50 else "over"
        print(f"{name:40} median {median:6.1f} ms  p95 {p95:6.1f} ms  (p95 ≤ 50 ms: {verdict})")
    print_storage(figures)
    print(f"(storage measured in {measured_storage:.0f} s)")


if __name__ == "__main__":
    main()
