"""Shared set-up of the benchmarks: databases, the app, and fast seeding of many cases.

Real cases are made by the engine (``template_cases``), then cloned row by row with fresh
workflow task ids inside their states (``Cloner``) and bulk-inserted (``seed``). Each clone's
audit events are re-chained for its own case id (the hash covers the case id) and padded with
supervision events (督办 follow-ups, claims and releases) up to ``events_per_case``, so that
100,000 cases carry 1,000,000 events whose chains verify like the app's own.

Databases: ``--database-url`` everywhere (``sqlite:///…`` or ``postgresql+psycopg://…``);
without it a SQLite file in a temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
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
from typing import Any

import zstandard
from flask import Flask
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app
from server.audit import GENESIS
from server.directory import ensure_agencies, ensure_demo_users
from server.extensions import db
from server.models import Case, Deadline, Event, Task, User
from server.operations import complete_task, start_case, today_shanghai
from tests.support.major_hazard import sample

PASSWORD = "bench-password"
HEX = re.compile(r"[0-9a-f]{32}")
BRIGADE_SHARE = 40  # one case in 40 waits at the 武陵区 brigade: 2,500 of 100,000
BRIGADE_MIN = 150  # …but at least this many, so that its inbox fills a page of 100 rows
BATCH = 2000  # cases per bulk insert and commit
START_LOAD = os.getloadavg()  # the machine is shared: print the load before and after

# Supervision notes of realistic length for the padding events (督办 follow-ups).
NOTES = [
    "已电话督促南坪街道加快移送进度，要求本周内完成函告并报送材料。",
    "现场督办：单位负责人到场，承诺三日内清理疏散通道杂物，增设应急照明和疏散指示标志。",
    "约谈单位法定代表人，宣讲重大火灾隐患整改要求，明确整改责任人和时限，签订承诺书。",
    "复查发现疏散通道仍有部分杂物堆放，已责令当场清理，并通报属地街道加强日常巡查。",
]


# --- machine and databases -------------------------------------------------------------------


def machine() -> str:
    """CPU model, cores, RAM (from /proc) and Python, for the results table."""
    cpu, ram = platform.processor() or platform.machine(), ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
        cpu = found.group(1).strip() if found else cpu
        mem = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        ram = f", {int(mem.group(1)) / 1024 / 1024:.0f} GB RAM" if mem else ""
    except OSError:
        pass
    load = ", load average {:.2f} {:.2f} {:.2f} at the start, ".format(*START_LOAD)
    load += "{:.2f} {:.2f} {:.2f} now".format(*os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores{ram}, {platform.python_implementation()} "
        f"{platform.python_version()}{load}"
    )


def header(url: str) -> str:
    """The first line every benchmark prints: machine, date and database."""
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return f"machine: {machine()}\ndate: {when}, database {kind(url)}"


def kind(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return make_url(url).get_backend_name()


def default_url(name: str = "bench") -> str:
    """A SQLite file in a fresh temporary folder."""
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    return f"sqlite:///{workdir / f'{name}.sqlite3'}"


def reset_database(url: str) -> None:
    """Empty a database: remove the SQLite file, or recreate PostgreSQL's schema (or database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError:  # no such database yet
        scratch_url(url, str(parsed.database))
    finally:
        engine.dispose()


def scratch_url(url: str | None, name: str) -> str:
    """A fresh database called ``name`` beside ``url`` (same folder / same server)."""
    if url is None:
        return default_url(name)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        folder = Path(parsed.database or tempfile.mkdtemp(prefix="duban-bench-")).parent
        fresh = f"sqlite:///{folder / f'{name}.sqlite3'}"
        reset_database(fresh)
        return fresh
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the database of ``url`` if it does not exist yet (SQLite: its folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError:  # no such database yet
        scratch_url(url, str(parsed.database))
    finally:
        engine.dispose()


def make_app(url: str) -> Flask:
    """The app on ``url`` (created if missing), migrated to the head; no scheduler."""
    ensure_database(url)
    upload = Path(tempfile.gettempdir()) / "duban-bench-attachments"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SWEEP_SECONDS": 0,
            "UPLOAD_DIR": str(upload),
        }
    )
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return app


def checkpoint() -> None:
    """Fold SQLite's write-ahead log into the database, as it is between bursts of writes.

    Right after a bulk load the WAL holds hundreds of MB and every read searches it; a running
    system checkpoints continually, so measure in that steady state. PostgreSQL: ANALYZE, as
    autovacuum would soon after a bulk load.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
    else:
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


# --- seeding -----------------------------------------------------------------------------------


def progress(done: int, total: int, started: float, what: str = "cases") -> None:
    """Draw a one-line progress bar on stderr."""
    width = 40
    filled = width * done // max(total, 1)
    rate = done / max(time.perf_counter() - started, 1e-9)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r  [{bar}] {done:>7}/{total} {what}  {rate:,.0f}/s")
    if done == total:
        sys.stderr.write("\n")


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def digest(event: dict[str, Any]) -> str:
    """The audit hash of an event row (as ``server.audit`` computes it)."""
    at = event["at"] if event["at"].tzinfo else event["at"].replace(tzinfo=UTC)
    content = {
        "case": event["case_id"],
        "seq": event["seq"],
        "kind": event["kind"],
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event["actor_id"],
        "agency": event["agency_id"],
        "task": event["task_name"],
        "data": event["data"],
    }
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((event["prev_hash"] + body).encode("utf-8")).hexdigest()


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
    """Copies a template case with fresh workflow task ids, as rows ready for bulk insert.

    :param events_per_case: pad each clone's audit chain with supervision events up to this
        many events (0: the template's events only).
    """

    def __init__(self, case: Case, events_per_case: int = 0) -> None:
        # A snapshot: the template may change afterwards (a sweep fires its timer).
        self.case = SimpleNamespace(**{c.name: getattr(case, c.name) for c in Case.__table__.c})
        self.text = zstandard.ZstdDecompressor().decompress(case.state).decode()
        self.ids = sorted(set(HEX.findall(self.text)))
        self.tasks = db.session.scalars(select(Task).where(Task.case_id == case.id)).all()
        self.deadlines = db.session.scalars(
            select(Deadline).where(Deadline.case_id == case.id)
        ).all()
        self.events = db.session.scalars(
            select(Event).where(Event.case_id == case.id).order_by(Event.seq)
        ).all()
        self.events_per_case = events_per_case
        self.compressor = zstandard.ZstdCompressor(level=1)
        street, supervisor = user("wuling.nanping"), user("wuling.supervisor")
        self.street = (street.id, street.agency_id)
        self.supervisor = (supervisor.id, supervisor.agency_id)
        ready = [t for t in self.tasks if t.state == "ready"]
        self.open_task = ready[0].name if ready else None

    def padding(self, n: int, case_id: int) -> tuple[str, tuple[int, int], str | None, dict]:
        """The ``n``-th padding event: mostly 督办 follow-ups, some claims and releases."""
        if n % 5 == 3:
            return "task_claimed", self.street, self.open_task, {}
        if n % 5 == 4:
            return "task_released", self.street, self.open_task, {}
        note = NOTES[(case_id + n) % len(NOTES)]
        data = {"action": "supervise", "label": "督办", "note": note}
        return "follow_up", self.supervisor, None, data

    def chain(self, case_id: int) -> list[dict]:
        """The template's events re-chained for ``case_id``, padded to ``events_per_case``."""
        events: list[dict] = []
        prev = GENESIS
        registered = False
        for e in self.events:
            # The clone's own number and unit name, as its case row shows them (verification
            # compares the row's facts with the events).
            data = e.data
            if e.kind == "case_opened":
                data = {**data, "number": f"DB2026-{case_id:06d}"}
            elif e.kind == "task_completed" and not registered:
                registered = True
                form = data.get("form") or {}
                data = {**data, "form": {**form, "unit_name": f"{self.case.unit_name}{case_id}"}}
            row = {
                "case_id": case_id,
                "seq": e.seq,
                "kind": e.kind,
                "at": e.at,
                "actor_id": e.actor_id,
                "agency_id": e.agency_id,
                "task_name": e.task_name,
                "data": data,
                "prev_hash": prev,
            }
            prev = row["hash"] = digest(row)
            events.append(row)
        last_at = self.events[-1].at if self.events else datetime.now(UTC)
        for n in range(self.events_per_case - len(events)):
            kind_, (actor, agency), task_name, data = self.padding(n, case_id)
            row = {
                "case_id": case_id,
                "seq": len(events) + 1,
                "kind": kind_,
                "at": last_at + timedelta(minutes=7 * (n + 1)),
                "actor_id": actor,
                "agency_id": agency,
                "task_name": task_name,
                "data": data,
                "prev_hash": prev,
            }
            prev = row["hash"] = digest(row)
            events.append(row)
        return events

    def rows(self, case_id: int) -> tuple[dict, list[dict], list[dict], list[dict]]:
        mapping = {old: uuid.uuid4().hex for old in self.ids}
        text_ = HEX.sub(lambda m: mapping.get(m.group(0), m.group(0)), self.text)

        def new_id(old: str | None) -> str | None:
            return None if old is None else str(uuid.UUID(mapping[uuid.UUID(old).hex]))

        c = self.case
        case_row = {
            "id": case_id,
            "number": f"DB2026-{case_id:06d}",
            "case_no": c.case_no,
            "process_id": c.process_id,
            "process_version": c.process_version,
            "state": self.compressor.compress(text_.encode()),
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
        events = self.chain(case_id)
        case_row["event_seq"] = events[-1]["seq"] if events else 0
        case_row["event_head"] = events[-1]["hash"] if events else GENESIS
        return case_row, tasks, deadlines, events


def add_clones(pick: Any, count: int, show: bool = False, what: str = "cases") -> None:
    """Bulk-insert ``count`` clones; ``pick(n)`` chooses the Cloner of the ``n``-th."""
    next_id = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    started = time.perf_counter()
    batch: tuple[list, list, list, list] = ([], [], [], [])
    for n in range(count):
        for rows, new in zip(batch, pick(n).rows(next_id + n), strict=True):
            rows.extend(new if isinstance(new, list) else [new])
        if len(batch[0]) == BATCH or n == count - 1:
            for model, rows in zip((Case, Task, Deadline, Event), batch, strict=True):
                if rows:
                    db.session.execute(insert(model.__table__), rows)
            db.session.commit()
            batch = ([], [], [], [])
            if show:
                progress(n + 1, count, started, what)
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), max(id)) FROM \"case\"")
        )
        db.session.commit()


def ensure_directory() -> None:
    """The Changde agencies and one user per agency and role (password ``PASSWORD``)."""
    ensure_agencies()
    ensure_demo_users(PASSWORD)


def brigade_share(total: int) -> int:
    """One case in how many waits at the brigade: ``BRIGADE_SHARE``, or fewer in a database
    too small to give ``BRIGADE_MIN`` that way (1,000 cases: one in 6, 167)."""
    return max(1, min(BRIGADE_SHARE, total // BRIGADE_MIN))


def seed(total: int, events_per_case: int = 0) -> float:
    """Fill the database up to ``total`` cases; return the seconds it took (0: already full).

    One case in ``BRIGADE_SHARE`` waits at the 武陵区 brigade (file_case), the others at the
    南坪街道 street office (refer_to_fire_rescue); in a small database one in fewer, so that at
    least ``BRIGADE_MIN`` wait there (a full inbox page of 100 rows at 1,000 cases). Every
    clone's audit chain is padded to ``events_per_case`` events.
    """
    if (db.session.scalar(select(func.count(Case.id))) or 0) >= total:
        return 0.0
    share = brigade_share(total)
    started = time.perf_counter()
    ensure_directory()
    waiting_referral, at_brigade = (Cloner(c, events_per_case) for c in template_cases())
    remaining = total - (db.session.scalar(select(func.max(Case.id))) or 0)
    sys.stderr.write(f"seeding {remaining:,} cases ({events_per_case} events each)\n")
    add_clones(
        lambda n: at_brigade if n % share == 0 else waiting_referral,
        remaining,
        show=True,
    )
    checkpoint()
    return time.perf_counter() - started


# --- figures -----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * q + 0.999999) - 1))]


def summary(values: list[float]) -> tuple[float, float]:
    """Median and p95."""
    return statistics.median(values), percentile(values, 0.95)


def storage() -> dict[str, float]:
    """Bytes per case (stored state + audit events) and the total size of the database.

    An event's bytes are those of its stored fields: the JSON data as text, kind, task name,
    the two hashes, plus 40 bytes of numbers and timestamps; the total is the whole database
    (tables and indexes: SQLite's pages, PostgreSQL's ``pg_database_size``).
    """
    sqlite = db.engine.dialect.name == "sqlite"
    length = "length(CAST({} AS BLOB))" if sqlite else "octet_length({})"
    data = length.format("data" if sqlite else "data::text")
    state_rows = db.session.execute(text(f'SELECT id, {length.format("state")} FROM "case"')).all()
    event_rows = db.session.execute(
        text(
            f"SELECT case_id, sum({data} + length(kind) + coalesce(length(task_name), 0) "
            "+ length(hash) + length(prev_hash) + 40), count(*) FROM event "
            "WHERE case_id IS NOT NULL GROUP BY case_id"
        )
    ).all()
    events = {case_id: (int(size), count) for case_id, size, count in event_rows}
    states = [size for _, size in state_rows]
    per_case = [size + events.get(case_id, (0, 0))[0] for case_id, size in state_rows]
    event_bytes = [events.get(case_id, (0, 0))[0] for case_id, _ in state_rows]
    if sqlite:
        page = db.session.execute(text("PRAGMA page_size")).scalar() or 0
        pages = db.session.execute(text("PRAGMA page_count")).scalar() or 0
        total = page * pages
    else:
        total = db.session.execute(text("SELECT pg_database_size(current_database())")).scalar()
    cases = len(state_rows)
    return {
        "cases": cases,
        "events": sum(count for _, count in events.values()),
        "state_avg": statistics.fmean(states) if states else 0,
        "state_p95": percentile(states, 0.95) if states else 0,
        "events_avg": statistics.fmean(event_bytes) if event_bytes else 0,
        "per_case_avg": statistics.fmean(per_case) if per_case else 0,
        "per_case_p95": percentile(per_case, 0.95) if per_case else 0,
        "total": float(total or 0),
        "total_per_case": (total or 0) / max(cases, 1),
    }


def print_storage(figures: dict[str, float]) -> None:
    mb = 1024 * 1024
    print(
        f"storage: {figures['cases']:,.0f} cases, {figures['events']:,.0f} case events\n"
        f"  state per case:            avg {figures['state_avg']:8,.0f} B   "
        f"p95 {figures['state_p95']:8,.0f} B\n"
        f"  state + events per case:   avg {figures['per_case_avg']:8,.0f} B   "
        f"p95 {figures['per_case_p95']:8,.0f} B  (events avg {figures['events_avg']:,.0f} B)\n"
        f"  database total: {figures['total'] / mb:,.0f} MB "
        f"({figures['total_per_case']:,.0f} B per case, tables and indexes)"
    )
