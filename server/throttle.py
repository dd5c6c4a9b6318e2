"""Login throttling: password attempts counted per account, per client address and per pair.

Follows the OWASP Authentication Cheat Sheet (account lockout): instead of locking an account
for everyone, each key gets a growing delay (exponential back-off), so that a guessing attack is
stopped while an attacker elsewhere cannot lock an officer out for long:

- ``pair:<username>|<address>``: ``LOGIN_MAX_FAILURES`` (default 5) wrong passwords for one
  account from one client address, then a wait;
- ``address:<address>``: ``LOGIN_MAX_FAILURES_PER_ADDRESS`` (default 20) over all accounts from
  one address (password spraying);
- ``account:<username>``: ``LOGIN_MAX_FAILURES_PER_ACCOUNT`` (default 20) over all addresses
  (a distributed attack on one account).

The first wait is ``LOGIN_BACKOFF_SECONDS`` (default 30 s); every further failure doubles it, up
to ``LOGIN_LOCK_MINUTES`` (default 15). Counts are forgotten ``FORGET_AFTER`` (an hour) after a
key's last failure. A success only takes its own attempt off the count (and ends the wait that
attempt started, or any once the count is below the limit again): resetting the count would let
guesses sent alongside a correct password start afresh. Unknown usernames are counted exactly
like known ones, so the answers never tell whether an account exists.

Counting and deciding are atomic: :func:`reserve` counts the attempt as a failure and commits
BEFORE the password hash is checked, under a lock on the key rows (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the database write lock, which the first statement, an INSERT, takes).
So of any number of parallel guesses at most the limit of wrong passwords are ever checked; a
success then takes only its own attempt off the count (:func:`clear`).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db
from server.models import LoginThrottle

log = logging.getLogger(__name__)

#: Counts of a key without a failure for this long are forgotten (and their rows removed).
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Policy:
    """The limits and delays of the throttle, from the app config."""

    per_pair: int = 5
    per_address: int = 20
    per_account: int = 20
    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        """The policy of the ``LOGIN_*`` settings."""
        return cls(
            per_pair=max(1, int(config.get("LOGIN_MAX_FAILURES", 5))),
            per_address=max(1, int(config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20))),
            per_account=max(1, int(config.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", 20))),
            first_delay=timedelta(seconds=float(config.get("LOGIN_BACKOFF_SECONDS", 30))),
            longest_delay=timedelta(minutes=float(config.get("LOGIN_LOCK_MINUTES", 15))),
        )

    def delay(self, failures: int, limit: int) -> timedelta | None:
        """The wait after the ``failures``-th failure of a key allowing ``limit`` (None: none)."""
        if failures < limit:
            return None
        doubled = self.first_delay * (2 ** min(failures - limit, 30))
        return min(doubled, self.longest_delay)


def keys(username: str, address: str, policy: Policy) -> dict[str, int]:
    """The throttling keys of an attempt and the failures each allows before a wait."""
    name = username[:80]
    return {
        f"pair:{name}|{address}": policy.per_pair,
        f"account:{name}": policy.per_account,
        f"address:{address}": policy.per_address,
    }


@dataclass(frozen=True)
class Reservation:
    """The outcome of :func:`reserve`.

    ``allowed``: the password may be checked (the attempt is counted as a failure already).
    ``wait_until``: refused, or allowed but a wait starts should this attempt fail: when the
    next attempt may be made.
    """

    allowed: bool
    wait_until: datetime | None = None
    #: (key, end) of the waits this attempt started, which a success ends again.
    started: tuple[tuple[str, datetime], ...] = ()


def _insert_missing(names: list[str]) -> None:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(LoginThrottle).values([{"key": k, "failures": 0} for k in names])
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def _lock(names: list[str]) -> dict[str, Any]:
    """Lock the rows of ``names`` (created if missing) in key order; returns them by key.

    The INSERT comes first: on SQLite it takes the write lock before anything is read, so two
    attempts never decide on the same count; on PostgreSQL the rows are locked FOR UPDATE, in
    one order so that two attempts sharing keys cannot deadlock.
    """
    db.session.commit()  # start a transaction of our own; nothing of the caller's is pending
    rows: dict[str, Any] = {}
    for _ in range(3):  # a row pruned between the INSERT and the SELECT is inserted again
        _insert_missing(names)
        found = db.session.execute(
            select(
                LoginThrottle.key,
                LoginThrottle.failures,
                LoginThrottle.blocked_until,
                LoginThrottle.last_failure_at,
            )
            .where(LoginThrottle.key.in_(names))
            .order_by(LoginThrottle.key)
            .with_for_update()
        )
        rows = {row.key: row for row in found}
        if len(rows) == len(names):
            break
    return rows


def reserve(username: str, address: str, now: datetime, policy: Policy) -> Reservation:
    """Count an attempt before its password is checked (committed), or refuse it.

    Refused (nothing counted, nothing committed: the caller records the refusal and commits)
    while any key of the attempt waits. Otherwise every key's count
    goes up by one and, once over its limit, the key waits for the back-off delay.
    """
    limits = keys(username, address, policy)
    names = sorted(limits)
    rows = _lock(names)
    waits = [r.blocked_until for r in rows.values() if r.blocked_until and r.blocked_until > now]
    if waits:  # the rows stay locked for the caller's audit event; the caller commits
        return Reservation(False, max(waits))
    forget = now - FORGET_AFTER
    starts: list[tuple[str, datetime]] = []
    for name in names:
        row = rows[name]
        fresh = row.last_failure_at is None or row.last_failure_at <= forget
        failures = 1 if fresh else row.failures + 1
        delay = policy.delay(failures, limits[name])
        until = now + delay if delay is not None else None
        if until is not None:
            starts.append((name, until))
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == name)
            .values(failures=failures, blocked_until=until, last_failure_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    _maybe_prune(forget)
    return Reservation(True, max(u for _, u in starts) if starts else None, tuple(starts))


def hold(username: str, address: str, policy: Policy) -> None:
    """After a failed password check: lock the attempt's rows again without changing them (it
    stays counted), so that the caller's audit events are serialised like the count (the caller
    commits)."""
    _lock(sorted(keys(username, address, policy)))


def clear(username: str, address: str, policy: Policy, reservation: Reservation) -> None:
    """After a success: each key forgets this attempt, and a wait ends once the key's count is
    below its limit again (the caller commits with the login's audit event).

    The earlier failures stay counted until forgotten: guesses in flight alongside a correct
    password therefore never get more checks than the limit.
    """
    limits = keys(username, address, policy)
    started = dict(reservation.started)
    rows = _lock(sorted(limits))
    for name, row in rows.items():
        failures = max(0, row.failures - 1)
        values: dict[str, Any] = {"failures": failures}
        if failures < limits[name] or (
            row.blocked_until is not None and row.blocked_until == started.get(name)
        ):
            values["blocked_until"] = None
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == name)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _maybe_prune(forget: datetime) -> None:
    """Now and then remove rows of keys forgotten long ago (an attacker may try many names)."""
    if random.random() > float(current_app.config.get("LOGIN_PRUNE_CHANCE", 0.02)):  # noqa: S311
        return
    try:
        db.session.execute(
            delete(LoginThrottle)
            .where(LoginThrottle.last_failure_at <= forget)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(LoginThrottle)
            .where(LoginThrottle.failures == 0)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except SQLAlchemyError:  # pruning is housekeeping: never fail a login for it
        log.warning("pruning login_throttle failed", exc_info=True)
        db.session.rollback()
