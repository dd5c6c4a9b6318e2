"""The audit log: append-only events, hash-chained per case.

Each event's hash covers the previous event's hash and the event's own content, so changing,
removing or reordering a stored event breaks the chain from that point on. Removing the last
events breaks nothing, so each case row also records its chain's head (``Case.event_seq`` and
``Case.event_head``, written with every append) and verification compares the two. The application
has no path that updates or deletes events, and :func:`init_app` makes sure none appears: any
flush that would update or delete an ``Event`` row, and any ORM ``update(Event)`` /
``delete(Event)`` statement, raises :class:`AppendOnlyViolation` (the transaction is then
rolled back by the caller). Only raw SQL gets past it — and ``audit verify`` detects that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from server.extensions import db
from server.models import GENESIS, Case, Event, User

#: PostgreSQL advisory lock key serialising appends to the system chain (any fixed bigint).
SYSTEM_CHAIN_LOCK = 0x6475_6261_6E00  # "duban"


class AppendOnlyViolation(RuntimeError):
    """Something tried to change or delete a stored audit event."""

    def __init__(self, action: str) -> None:
        """:param action: what was attempted (update, delete, bulk update, bulk delete)."""
        super().__init__(f"审计事件只能追加，不能修改或删除（{action}）")
        self.action = action


def _refuse_update(mapper: Mapper, connection: object, target: object) -> None:
    raise AppendOnlyViolation("update")


def _refuse_delete(mapper: Mapper, connection: object, target: object) -> None:
    raise AppendOnlyViolation("delete")


def _refuse_dirty_events(session: Session, flush_context: object, instances: object) -> None:
    # Caught before the flush starts, so that nothing of the flush reaches the database.
    for obj in session.deleted:
        if isinstance(obj, Event):
            raise AppendOnlyViolation("delete")
    for obj in session.dirty:
        if isinstance(obj, Event) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation("update")


def _refuse_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, Event):
        raise AppendOnlyViolation("bulk update" if state.is_update else "bulk delete")


def init_app(app: Flask) -> None:
    """Install the append-only guard on ``Event`` (once per process)."""
    listeners = (
        (Event, "before_update", _refuse_update),
        (Event, "before_delete", _refuse_delete),
        (Session, "before_flush", _refuse_dirty_events),
        (Session, "do_orm_execute", _refuse_bulk),
    )
    for target, name, listener in listeners:
        if not sa_event.contains(target, name, listener):
            sa_event.listen(target, name, listener)


def _digest(event: Event) -> str:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    content = {
        "case": event.case_id,
        "seq": event.seq,
        "kind": event.kind,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "agency": event.agency_id,
        "task": event.task_name,
        "data": event.data,
    }
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((event.prev_hash + text).encode("utf-8")).hexdigest()


def append_event(
    case_id: int | None,
    kind: str,
    *,
    actor: User | None = None,
    task_name: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Add an event to the session at the end of its case's chain (committed by the caller).

    :param case_id: the case, or None for the system chain (logins and the like).
    :param kind: e.g. ``case_opened``, ``task_completed``, ``deadline_missed``.

    Two transactions must never both extend a chain from the same head. A case's chain is
    guarded by the case's row version (appending writes the new head to the case row, so every
    appender bumps it) and the unique (case_id, seq); the system chain, which no row guards, by
    a unique index on its seq and, on PostgreSQL, by a transaction-level advisory lock taken
    before its head is read, so concurrent logins queue instead of failing.
    """
    case = db.session.get(Case, case_id) if case_id is not None else None
    if case is not None:
        # The case row carries its chain's head (written below, in the same transaction).
        prev_seq, prev_hash = case.event_seq, case.event_head
    else:
        prev_seq, prev_hash = _system_head(case_id)
    event = Event(
        case_id=case_id,
        seq=prev_seq + 1,
        kind=kind,
        at=at or datetime.now(UTC),
        actor_id=actor.id if actor is not None else None,
        agency_id=actor.agency_id if actor is not None else None,
        task_name=task_name,
        data=data or {},
        prev_hash=prev_hash,
    )
    event.hash = _digest(event)
    db.session.add(event)
    if case is not None:
        case.event_seq, case.event_head = event.seq, event.hash
    return event


def _system_head(case_id: int | None) -> tuple[int, str]:
    """(seq, hash) of the last event of the system chain (or of a chain without its case row),
    counting the events of this transaction not flushed yet."""
    if case_id is None and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYSTEM_CHAIN_LOCK})
    last = db.session.execute(
        select(Event.seq, Event.hash)
        .where(Event.case_id.is_(None) if case_id is None else Event.case_id == case_id)
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    pending = [e for e in db.session.new if isinstance(e, Event) and e.case_id == case_id]
    if pending:
        return max((e.seq, e.hash) for e in pending)
    if last is not None:
        return last.seq, last.hash
    return 0, GENESIS


@dataclass(frozen=True)
class ChainCheck:
    """The result of verifying one chain."""

    case_id: int | None
    events: int
    ok: bool
    head: str
    problems: list[str]


def verify_chain(case_id: int | None) -> ChainCheck:
    """Recompute a chain and report changed, removed or reordered events; a case's chain must
    also end where its case row says it does (a removed last event leaves no gap)."""
    events = db.session.scalars(
        select(Event)
        .where(Event.case_id.is_(None) if case_id is None else Event.case_id == case_id)
        .order_by(Event.seq)
    ).all()
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            # Report the gap once, then follow the stored numbering.
            problems.append(f"第{expected_seq}号事件缺失或顺序被改动（实际序号 {event.seq}）")
            expected_seq = event.seq
        expected_seq += 1
        if event.prev_hash != prev:
            problems.append(f"第{event.seq}号事件的前序哈希与链不符")
        if _digest(event) != event.hash:
            problems.append(f"第{event.seq}号事件内容已被改动（哈希不符）")
        prev = event.hash
    case = db.session.get(Case, case_id) if case_id is not None else None
    last_seq = events[-1].seq if events else 0
    if case is not None and (case.event_seq, case.event_head) != (last_seq, prev):
        problems.append(
            f"事件链止于第{last_seq}号事件，而案件记录的链尾是第{case.event_seq}号事件"
            f"（哈希 {case.event_head[:12]}…）：链尾的事件被删除或改动"
        )
    return ChainCheck(case_id, len(events), not problems, prev, problems)


def verify_all() -> list[ChainCheck]:
    """Verify every case's chain (a case whose events are all gone too) and the system chain."""
    case_ids: list[int | None] = list(db.session.scalars(select(Case.id).order_by(Case.id)))
    orphans = select(Event.case_id).where(Event.case_id.not_in(select(Case.id)))
    case_ids += db.session.scalars(orphans.group_by(Event.case_id)).all()
    return [verify_chain(case_id) for case_id in [*case_ids, None]]


def event_count() -> int:
    """Total number of events (for benchmarks and the admin page)."""
    return db.session.scalar(select(func.count(Event.id))) or 0
