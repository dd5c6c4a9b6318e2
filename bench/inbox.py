"""Benchmark the inbox page and the case page: server CPU per request, over a real server.

Seeds a database (``--database-url``, default a fresh SQLite file) with the Changde directory,
runs a few real cases through the engine, then clones them (fresh task ids inside their
workflow states, audit chains re-hashed and padded to ``--events-per-case``) until there are
``--cases`` cases, a share of them waiting at the 武陵区 brigade (see ``seeding.py``). A database
that already holds the cases is used as it is (``--reset`` empties it first).

Then starts the app under gunicorn (``server_cpu.Server``: one worker, the scheduler off) and
measures, as the brigade officer ``wuling.fire``, the inbox page of 100 rows (HTML ``/`` and
``GET /api/v1/inbox?per_page=100``) and the page of one of the brigade's cases (HTML
``/cases/<id>`` and ``GET /api/v1/cases/<id>``): ``--requests`` each after ``--warmup``, one
keep-alive client. Prints per measure the server CPU per request (``/proc`` of the server's
process tree) and its ratio to the full engine step measured first in the same invocation
(``engine_step.py``), the client's median and p95, one JSON line each (goal ≤ 8 ×; at the
bigger of several sizes also within 1.3 × of the smallest, ``ratio_to_small``); then the
storage per case.

Several sizes in one invocation (``--cases 1000,100000``) use one database per size beside
``--database-url`` (``name-1000.sqlite3``, PostgreSQL ``name_1000``).

    .venv/bin/python bench/inbox.py [--cases 1000,100000] [--events-per-case 10]
        [--requests 200] [--database-url postgresql+psycopg://…] [--reset] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
    print_storage,
    reset_database,
    seed,
    storage,
)

from server.extensions import db
from server.models import Case, Event, Task

OFFICER = "wuling.fire"
BRIGADE = "fire_brigade:wuling"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="100000", help="case counts, e.g. 1000,100000")
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=300, help="engine benchmark rounds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reset", action="store_true", help="empty the database(s) first")
    parser.add_argument("--no-storage", action="store_true", help="skip the storage figures")
    server_cpu.add_arguments(parser)
    args = parser.parse_args()
    sizes = sorted(server_cpu.parse_sizes(args.cases))
    base = args.database_url or default_url()

    sys.stderr.write(f"engine benchmark ({args.rounds} rounds)\n")
    step = engine_step.measure(args.rounds)
    engine_ms = step["duban_cpu_ms"]
    print(header(base))
    print(f"full engine step (load, complete, save; same run): CPU median {engine_ms:.3f} ms, "
          f"wall median {step['duban_ms']:.3f} ms")  # fmt: skip

    smallest: dict[str, dict] = {}
    lines: list[dict] = []
    for size in sizes:
        url = server_cpu.sized_url(base, size, len(sizes) > 1)
        if args.reset:
            reset_database(url)
        app = make_app(url)
        with app.app_context():
            seeded = seed(size, args.events_per_case)
            cases = db.session.scalar(select(func.count(Case.id)))
            events = db.session.scalar(select(func.count(Event.id)))
            brigade_ready = db.session.scalar(
                select(func.count(Task.id)).where(
                    Task.state == "ready", Task.agency.has(code=BRIGADE)
                )
            )
            sample_case = db.session.scalar(
                select(Task.case_id)
                .where(Task.agency.has(code=BRIGADE))
                .order_by(Task.case_id.desc())
                .limit(1)
            )
            started = time.perf_counter()
            figures = None if args.no_storage else storage()
            measured_storage = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()

        print(
            f"{cases:,} cases (seeded in {seeded:.0f} s; 0: reused), {events:,} audit events; "
            f"武陵区消防救援大队 ready: {brigade_ready:,}"
        )
        with server_cpu.Server(url, args.workers, args.threads) as server:
            api = server_cpu.api_client(server.port, OFFICER, PASSWORD)
            web = server_cpu.web_client(server.port, OFFICER, PASSWORD)
            api_rows = len(json.loads(api.get("/api/v1/inbox?per_page=100").body)["items"])
            html_rows = web.get("/").body.count('data-label="案件编号"'.encode())
            measures = [
                ("inbox page (HTML)", web, "/", html_rows),
                ("inbox page (API)", api, "/api/v1/inbox?per_page=100", api_rows),
                ("case page (HTML)", web, f"/cases/{sample_case}", None),
                ("case page (API)", api, f"/api/v1/cases/{sample_case}", None),
            ]
            print(f"server: {server.description}; {args.requests} requests each after "
                  f"{args.warmup} to warm up, 1 client (keep-alive)")  # fmt: skip
            for name, client, path, rows in measures:
                job = server_cpu.get_job(path)
                batch = server_cpu.run_batch(
                    server, [client], [job] * args.requests, warmup=[job] * args.warmup
                )
                extra = {"rows": rows} if rows is not None else {}
                line = server_cpu.figure_line(
                    name,
                    server_cpu_ms=batch.server_cpu_ms,
                    engine_step_ms=engine_ms,
                    cases=cases,
                    requests=batch.requests,
                    errors=batch.errors,
                    median_ms=batch.median_ms,
                    p95_ms=batch.p95_ms,
                    database=kind(url),
                    goal=server_cpu.PAGE_GOAL,
                    small=smallest.get(name) if size != sizes[0] else None,
                    path=path.replace(str(sample_case), "<id>"),
                    **extra,
                    server=server.description,
                    load=server_cpu.load_average(),
                )
                if size == sizes[0]:
                    smallest[name] = line
                lines.append(line)
                to_small = (
                    f", {line['ratio_to_small']:.2f} × at {line['small_cases']:,} cases"
                    if "ratio_to_small" in line
                    else ""
                )
                print(
                    f"  {name:18} {path.replace(str(sample_case), '<id>'):28} server CPU "
                    f"{line['server_cpu_ms']:6.2f} ms/request = {line['ratio']:5.1f} × step"
                    f"{to_small}; median {line['median_ms']} ms, p95 {line['p95_ms']} ms"
                    f"{f', {rows} rows' if rows is not None else ''}"
                    f"{f', {batch.errors} ERRORS {dict(batch.statuses)}' if batch.errors else ''}"
                )
        if figures is not None:
            print_storage(figures)
            print(f"(storage measured in {measured_storage:.0f} s)")
    for line in lines:
        server_cpu.emit(line, args.json)


if __name__ == "__main__":
    main()
