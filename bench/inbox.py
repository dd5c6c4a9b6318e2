"""Benchmark the inbox API and the case page over 100,000 cases.

Seeds a fresh SQLite database (or ``--database-url``) with the Changde directory, runs a few
real cases through the engine, then clones them (fresh task ids inside their workflow states)
until there are ``--cases`` cases, a share of them waiting at the 武陵区 brigade. Prints the
median and p95 of ``GET /api/v1/inbox`` for that brigade (≥ 2,000 ready tasks) and of the HTML
case page, through the app in-process.

    .venv/bin/python bench/inbox.py [--cases 100000] [--requests 200]
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import zstandard
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app
from server.directory import ensure_agencies, ensure_demo_users
from server.extensions import db
from server.models import Case, Deadline, Event, Task, User
from server.operations import complete_task, start_case, today_shanghai
from tests.support.major_hazard import sample

PASSWORD = "bench-password"
HEX = re.compile(r"[0-9a-f]{32}")
BRIGADE_SHARE = 40  # one case in 40 waits at the 武陵区 brigade: 2,500 of 100,000


def progress(done: int, total: int, started: float) -> None:
    """Draw a one-line progress bar on stderr."""
    width = 40
    filled = width * done // total
    rate = done / max(time.perf_counter() - started, 1e-9)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r  [{bar}] {done:>7}/{total} cases  {rate:,.0f}/s")
    if done == total:
        sys.stderr.write("\n")


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def template_cases() -> list[Case]:
    """Real cases made by the engine: one waiting at each of two stages."""
    street = user("wuling.nanping")
    found = today_shanghai() - timedelta(days=3)
    waiting_referral = start_case(street, "major_hazard", sample("register_hazard", found))
    at_brigade = start_case(street, "major_hazard", sample("register_hazard", found))
    task = db.session.scalar(
        select(Task).where(Task.case_id == at_brigade.id, Task.state == "ready")
    )
    complete_task(street, task, sample("refer_to_fire_rescue", found + timedelta(days=1)))
    return [waiting_referral, at_brigade]


class Cloner:
    """Copies a template case with fresh workflow task ids, as rows ready for bulk insert."""

    def __init__(self, case: Case) -> None:
        # A snapshot: the template may change afterwards (a sweep fires its timer).
        self.case = SimpleNamespace(**{c.name: getattr(case, c.name) for c in Case.__table__.c})
        self.text = zstandard.ZstdDecompressor().decompress(case.state).decode()
        self.ids = sorted(set(HEX.findall(self.text)))
        self.tasks = db.session.scalars(select(Task).where(Task.case_id == case.id)).all()
        self.deadlines = db.session.scalars(
            select(Deadline).where(Deadline.case_id == case.id)
        ).all()
        self.events = db.session.scalars(select(Event).where(Event.case_id == case.id)).all()
        self.compressor = zstandard.ZstdCompressor(level=1)

    def rows(self, case_id: int) -> tuple[dict, list[dict], list[dict], list[dict]]:
        mapping = {old: uuid.uuid4().hex for old in self.ids}
        text = HEX.sub(lambda m: mapping.get(m.group(0), m.group(0)), self.text)

        def new_id(old: str | None) -> str | None:
            return None if old is None else str(uuid.UUID(mapping[uuid.UUID(old).hex]))

        c = self.case
        case_row = {
            "id": case_id,
            "number": f"DB2026-{case_id:06d}",
            "case_no": c.case_no,
            "process_id": c.process_id,
            "process_version": c.process_version,
            "state": self.compressor.compress(text.encode()),
            "row_version": c.row_version,
            "status": c.status,
            "stage": c.stage,
            "district": c.district,
            "unit_name": f"{c.unit_name}{case_id}",
            "address": c.address,
            "discoverer_agency_id": c.discoverer_agency_id,
            "opened_by_id": c.opened_by_id,
            "opened_at": c.opened_at,
            "next_timer_at": c.next_timer_at,
        }
        tasks = [
            {
                "id": new_id(t.id),
                "case_id": case_id,
                "name": t.name,
                "label": t.label,
                "lane": t.lane,
                "agency_id": t.agency_id,
                "state": t.state,
                "created_at": t.created_at,
                "due_at": t.due_at,
                "completed_at": t.completed_at,
                "completed_by_id": t.completed_by_id,
            }
            for t in self.tasks
        ]
        deadlines = [
            {
                "case_id": case_id,
                "timer_task_id": new_id(d.timer_task_id),
                "timer": d.timer,
                "label": d.label,
                "guards": d.guards,
                "task_id": new_id(d.task_id),
                "agency_id": d.agency_id,
                "due_at": d.due_at,
                "provisional": d.provisional,
                "state": d.state,
            }
            for d in self.deadlines
        ]
        events = [
            {
                "case_id": case_id,
                "seq": e.seq,
                "kind": e.kind,
                "at": e.at,
                "actor_id": e.actor_id,
                "agency_id": e.agency_id,
                "task_name": e.task_name,
                "data": e.data,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in self.events
        ]
        return case_row, tasks, deadlines, events


def checkpoint() -> None:
    """Fold SQLite's write-ahead log into the database, as it is between bursts of writes.

    Right after a bulk load the WAL holds hundreds of MB and every read searches it; a running
    system checkpoints continually, so measure in that steady state.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()


def seed(total: int) -> None:
    """Fill the database up to ``total`` cases."""
    ensure_agencies()
    ensure_demo_users(PASSWORD)
    waiting_referral, at_brigade = (Cloner(c) for c in template_cases())
    next_id = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    remaining = total - (next_id - 1)
    started = time.perf_counter()
    batch: tuple[list, list, list, list] = ([], [], [], [])
    for n in range(remaining):
        cloner = at_brigade if n % BRIGADE_SHARE == 0 else waiting_referral
        for rows, new in zip(batch, cloner.rows(next_id + n), strict=True):
            rows.extend(new if isinstance(new, list) else [new])
        if len(batch[0]) == 2000 or n == remaining - 1:
            for model, rows in zip((Case, Task, Deadline, Event), batch, strict=True):
                if rows:
                    db.session.execute(insert(model), rows)
            db.session.commit()
            batch = ([], [], [], [])
            progress(n + 1, remaining, started)


def measure(client, path: str, headers: dict[str, str], requests: int) -> tuple[float, float]:
    """Median and p95 in milliseconds of ``requests`` GETs of ``path``."""
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SWEEP_SECONDS": 0,
            "UPLOAD_DIR": str(workdir / "attachments"),
        }
    )
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    started = time.perf_counter()
    with app.app_context():
        sys.stderr.write(f"seeding {args.cases:,} cases into {url}\n")
        seed(args.cases)
        checkpoint()
        seeded = time.perf_counter() - started
        cases = db.session.scalar(select(func.count(Case.id)))
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

    machine = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {machine}, {datetime.now(UTC):%Y-%m-%d}, database {url.split(':')[0]}")
    print(f"seeded {cases:,} cases in {seeded:.0f} s; 武陵区消防救援大队 ready: {brigade_ready:,}")
    for name, (median, p95) in (
        ("GET /api/v1/inbox (page 1)", inbox),
        ("GET /api/v1/inbox?overdue=true&page=3", inbox_overdue),
        ("GET /cases/<id> (HTML case page)", case_page),
        ("GET /api/v1/cases/<id>", case_api),
    ):
        verdict = "ok" if p95 <= 50 else "over"
        print(f"{name:40} median {median:6.1f} ms  p95 {p95:6.1f} ms  (p95 ≤ 50 ms: {verdict})")


if __name__ == "__main__":
    main()
