"""The timer sweep: fire due timers of the cases whose ``next_timer_at`` has come.

Its cost follows the due timers, not the waiting cases: it selects by the indexed
``next_timer_at``. Several processes or servers may sweep at once: a case is claimed before it
is worked on — ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a lease (``sweep_until``,
``sweep_owner``) on SQLite — and the case's row version makes a second writer fail rather than
fire a timer twice. A case that fails is logged, recorded on the case and retried after a delay;
it never stops the sweep of the others.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from server.extensions import db
from server.models import Case
from server.operations import Conflict, fire_due_timers

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
BATCH = 200


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
