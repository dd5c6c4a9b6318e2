"""The timer sweep: fire due timers of the cases whose ``next_timer_at`` has come.

Its cost follows the due timers, not the waiting cases: it selects by the indexed
``next_timer_at``. Several processes or servers may sweep at once: a case is claimed before it
is worked on — ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a lease (``sweep_until``,
``sweep_owner``) on SQLite — and the case's row version makes a second writer fail rather than
fire a timer twice. A case that fails is logged, recorded on the case and retried after a delay;
it never stops the sweep of the others.

The scheduler of every app process (every gunicorn worker of every server) ticks, but only the
holder of :func:`sweeper_lock` sweeps at a time: a PostgreSQL advisory lock, a file lock beside
a SQLite database. The lock saves work, correctness does not depend on it: two sweeps that do
run at once (``flask --app server sweep`` by hand, a lock-less database) still fire each timer
once, through the claims above.

Each sweep first recounts the provisional deadlines whose years have got the State Council's
schedule since they were computed (after an upgrade of ``chinese-calendar``):
:func:`server.operations.recompute_outdated_provisional_deadlines`, one indexed query when there
is nothing to do; and marks failed the auditors' batch exports whose worker is gone
(:func:`server.exports.recover_stale_jobs`), removing their partial ZIPs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, text, update

from server.exports import recover_stale_jobs
from server.extensions import db
from server.models import Case
from server.operations import Conflict, fire_due_timers, recompute_outdated_provisional_deadlines

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
BATCH = 200
# pg_try_advisory_lock's key for "one sweeper at a time" (any constant unique in the database).
SWEEPER_LOCK_KEY = 0x44554241  # "DUBA"


def sweeper_id() -> str:
    """A name for this sweeper (host, process, random), stored with its leases."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _due(now: datetime):
    return (
        Case.next_timer_at <= now,
        Case.status == "open",
        Case.needs_attention.is_(None),
        or_(Case.sweep_until.is_(None), Case.sweep_until <= now),
    )


def due_case_ids(now: datetime, limit: int = BATCH) -> list[int]:
    """Ids of the cases with a due timer, earliest first (uses the next_timer_at index)."""
    return list(
        db.session.scalars(
            select(Case.id).where(*_due(now)).order_by(Case.next_timer_at).limit(limit)
        )
    )


def lease(case_ids: list[int], owner: str, now: datetime) -> set[int]:
    """Lease the still-due cases among ``case_ids`` to this sweeper in one statement (SQLite).

    Returns the ids this sweeper holds; another sweeper's leased cases are left out.
    """
    if not case_ids:
        return set()
    until = now + LEASE
    db.session.execute(
        update(Case)
        .where(Case.id.in_(case_ids), *_due(now))
        .values(sweep_until=until, sweep_owner=owner)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return set(
        db.session.scalars(select(Case.id).where(Case.id.in_(case_ids), Case.sweep_owner == owner))
    )


def claim(case_id: int, owner: str, now: datetime, leased: set[int] | None) -> Case | None:
    """The case to sweep, claimed for this sweeper, or None when another sweeper has it.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` — the row lock lasts until this case's transaction
    commits. SQLite: the case must be among the ones :func:`lease` gave this sweeper.
    """
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(
            select(Case)
            .where(Case.id == case_id, *_due(now))
            .with_for_update(skip_locked=True, of=Case)
        )
    if leased is None or case_id not in leased:
        return None
    return db.session.get(Case, case_id, populate_existing=True)


def _record_failure(case_id: int, error: str, now: datetime) -> None:
    case = db.session.get(Case, case_id, populate_existing=True)
    if case is None:
        return
    delay = RETRY_DELAYS[min(case.sweep_failures, len(RETRY_DELAYS) - 1)]
    db.session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(
            sweep_error=error[:2000],
            sweep_failures=Case.sweep_failures + 1,
            sweep_until=now + delay,
            sweep_owner=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def sweep(now: datetime | None = None, owner: str | None = None) -> dict[str, int]:
    """Fire the due timers of every due case once; returns counts of cases, timers, failures."""
    now = now or datetime.now(UTC)
    owner = owner or sweeper_id()
    cases = fired = failed = skipped = 0
    # First, so that no timer fires on a provisional date its year's schedule has changed.
    try:
        recompute_outdated_provisional_deadlines()
    except Exception:  # the timers must fire all the same
        db.session.rollback()
        log.exception("sweep: recomputing outdated provisional deadlines failed")
    try:  # batch exports whose worker is gone (a crash, a restart): failed, partial ZIP removed
        recover_stale_jobs(now)
    except Exception:
        db.session.rollback()
        log.exception("sweep: recovering stale exports failed")
    due = due_case_ids(now)
    # SQLite has no row locks: lease the batch at once (one commit instead of one per case).
    leased = lease(due, owner, now) if db.engine.dialect.name != "postgresql" else None
    for case_id in due:
        case = claim(case_id, owner, now, leased)
        if case is None:
            skipped += 1
            continue
        cases += 1
        try:
            case.sweep_until, case.sweep_owner = None, None
            case.sweep_error, case.sweep_failures = None, 0
            fired += len(fire_due_timers(case, now).fired_timers)
        except Conflict as exc:
            # Changed by an officer meanwhile, or its state cannot be read (then marked).
            db.session.rollback()
            log.warning("sweep: case %s not swept: %s", case_id, exc.message)
            _record_failure(case_id, exc.message, now)
            failed += 1
        except Exception as exc:  # one broken case must not stop the sweep
            db.session.rollback()
            log.exception("sweep: case %s failed", case_id)
            _record_failure(case_id, repr(exc), now)
            failed += 1
    return {"cases": cases, "fired": fired, "failed": failed, "skipped": skipped}


@contextmanager
def sweeper_lock() -> Iterator[bool]:
    """Hold the one-sweeper-at-a-time lock for the block if it is free; yields whether it is.

    Never waits: a scheduler tick that finds the lock taken simply skips (another process is
    sweeping). PostgreSQL: a session advisory lock on a connection of its own, so the sweep's
    per-case commits keep it; it goes with the connection if the process dies. SQLite: ``flock``
    on ``<database>.sweep-lock`` (one machine: SQLite is not shared between servers). An
    in-memory database has a single process: always held.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        held = False
        try:
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": SWEEPER_LOCK_KEY}))  # fmt: skip
            connection.commit()  # a session lock: no transaction is kept open meanwhile
            yield held
        finally:
            try:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                       {"key": SWEEPER_LOCK_KEY})  # fmt: skip
                    connection.commit()
            except Exception:
                connection.invalidate()  # closing the session releases the lock
                raise
            finally:
                connection.close()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield True
        return
    with open(f"{database}.sweep-lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def scheduled_sweep(now: datetime | None = None) -> dict[str, int] | None:
    """One scheduler tick: sweep if no other process is sweeping; None when one is."""
    with sweeper_lock() as held:
        if not held:
            return None
        return sweep(now)
