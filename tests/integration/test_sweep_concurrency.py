"""Several sweepers at once (gunicorn workers, servers, a sweep by hand): each timer fires once.

The scheduler of every process takes turns through :func:`server.sweep.sweeper_lock`; the
sweeps that do overlap are kept apart by the per-case claim (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a lease on SQLite) and the case's row version.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.audit import verify_chain
from server.extensions import db
from server.models import Case, Event, User
from server.operations import start_case, today_shanghai
from server.sweep import claim, due_case_ids, lease, scheduled_sweep, sweep, sweeper_lock
from tests.support.major_hazard import sample

SWEEPERS = 4
CASES = 24


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def open_due_cases(app, time_machine, count: int) -> list[int]:
    """Open ``count`` cases whose referral deadline has passed; move the clock past them."""
    with app.app_context():
        found = today_shanghai() - timedelta(days=1)
        officer = user("wuling.nanping")
        ids = [
            start_case(officer, "major_hazard", sample("register_hazard", found)).id
            for _ in range(count)
        ]
        latest = max(db.session.get(Case, i).next_timer_at for i in ids)
        db.session.remove()
    time_machine.move_to(latest + timedelta(hours=1), tick=False)
    return ids


def fired_once(app, ids: list[int]) -> None:
    """Every case's referral timer fired exactly once, and every chain verifies."""
    with app.app_context():
        for case_id in ids:
            kinds = Counter(
                db.session.scalars(select(Event.kind).where(Event.case_id == case_id)).all()
            )
            assert kinds["timer_fired"] == 1, (case_id, kinds)
            assert kinds["deadline_missed"] == 1, (case_id, kinds)
            assert kinds["escalation"] == 1, (case_id, kinds)
            assert verify_chain(case_id).ok
            case = db.session.get(Case, case_id)
            assert case.sweep_owner is None and case.sweep_error is None


def test_sweepers_started_together_fire_each_timer_once(app, time_machine):
    ids = open_due_cases(app, time_machine, CASES)
    barrier = threading.Barrier(SWEEPERS)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait()
                results.append(sweep())  # not through the lock: the claims alone must hold
                db.session.remove()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(SWEEPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == SWEEPERS
    assert sum(r["cases"] for r in results) == CASES
    assert sum(r["fired"] for r in results) == CASES
    assert sum(r["failed"] for r in results) == 0
    fired_once(app, ids)
    with app.app_context():
        assert sweep()["cases"] == 0


def test_a_case_claimed_by_another_sweeper_is_skipped_not_waited_for(app, time_machine):
    ids = open_due_cases(app, time_machine, 3)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite leases")
        # Another sweeper holds the first case (its row lock, transaction still open).
        with db.engine.connect() as other:
            locked = other.scalar(select(Case.id).where(Case.id == ids[0]).with_for_update(of=Case))
            assert locked == ids[0]
            assert sweep() == {"cases": 2, "fired": 2, "failed": 0, "skipped": 1}
            other.rollback()
        assert sweep() == {"cases": 1, "fired": 1, "failed": 0, "skipped": 0}
    fired_once(app, ids)


def test_a_sweeper_with_a_stale_list_of_due_cases_fires_nothing_twice(app, time_machine):
    ids = open_due_cases(app, time_machine, 3)
    with app.app_context():
        now = datetime.now(UTC)
        stale = due_case_ids(now)  # this sweeper read the due cases …
        assert set(stale) == set(ids)
        assert sweep()["fired"] == 3  # … then another swept them all
        # The claim re-checks that the case is still due (PostgreSQL re-reads the row under
        # its lock; SQLite's lease statement re-checks in its WHERE).
        leased = lease(stale, "late-sweeper", now) if db.engine.dialect.name == "sqlite" else None
        assert [claim(i, "late-sweeper", now, leased) for i in stale] == [None] * 3
        db.session.rollback()
    fired_once(app, ids)


def test_one_sweeper_at_a_time_through_the_lock(app, time_machine):
    ids = open_due_cases(app, time_machine, 2)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with app.app_context(), sweeper_lock() as held:
            assert held
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        with app.app_context():
            assert scheduled_sweep() is None  # someone else sweeps: this tick skips
            with sweeper_lock() as held:
                assert not held
            case = db.session.get(Case, ids[0])
            assert case.next_timer_at is not None  # nothing swept meanwhile
    finally:
        release.set()
        holder.join()
    with app.app_context():
        assert scheduled_sweep() == {"cases": 2, "fired": 2, "failed": 0, "skipped": 0}
        with sweeper_lock() as held:
            assert held  # released after the sweep
    fired_once(app, ids)
