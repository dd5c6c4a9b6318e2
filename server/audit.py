"""The audit log: append-only events, hash-chained per case.

Each event's hash covers the previous event's hash and the event's own content, so changing,
removing or reordering a stored event breaks the chain from that point on. Removing the last
events breaks nothing, so each case row also records its chain's head (``Case.event_seq`` and
``Case.event_head``, written with every append), the system chain's head is the ``chain_head``
row, and verification compares the two. Verification also compares what the case's rows say
(unit, address, status, attachments…) with what its events say (:mod:`server.case_facts`), so
that a row changed behind the application's back cannot be shown as verified. The application
has no path that updates or deletes events, and :func:`init_app` makes sure none appears: any
flush that would update or delete an ``Event`` row, and any ORM ``update(Event)`` /
``delete(Event)`` statement, raises :class:`AppendOnlyViolation` (the transaction is then
rolled back by the caller). Only raw SQL gets past it — and ``audit verify`` detects that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from server.extensions import db
from server.models import GENESIS, Case, ChainHead, Event, User

#: The ``chain_head`` key of the system chain (events without a case: logins and the like).
SYSTEM = "system"


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


_EVENT_COLUMNS = tuple(attr.key for attr in Event.__mapper__.column_attrs if attr.key != "id")
_INSERT_EVENT = insert(Event.__table__)  # built once: its construction costs more than its run


def append_event(
    case_id: int | None,
    kind: str,
    *,
    actor: User | None = None,
    task_name: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Append an event at the end of its case's chain (committed by the caller).

    :param case_id: the case, or None for the system chain (logins and the like).
    :param kind: e.g. ``case_opened``, ``task_completed``, ``deadline_missed``.

    Two transactions must never both extend a chain from the same head. A case's chain is
    guarded by the case's row version (appending writes the new head to the case row, so every
    appender bumps it) and the unique (case_id, seq). The system chain's head is the
    ``chain_head`` row, locked before it is read (``FOR UPDATE`` on PostgreSQL; on SQLite a
    write to it takes the database's write lock first, so the head read is the latest): parallel
    appenders, e.g. concurrent logins, queue behind each other and never fail. The unique index
    on the system chain's seq stays as the last line of defence.
    """
    case = db.session.get(Case, case_id) if case_id is not None else None
    head: ChainHead | None = None
    if case is not None:
        # The case row carries its chain's head (written below, in the same transaction).
        prev_seq, prev_hash = case.event_seq, case.event_head
    elif case_id is None:
        head = _locked_system_head()
        prev_seq, prev_hash = head.seq, head.hash
    else:
        prev_seq, prev_hash = _last_event(case_id)
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
    # Inserted at once by a Core statement on the session's connection (same transaction): the
    # event is never changed after, so the unit of work has nothing to track. The returned
    # object holds what was written; a query loads the row as stored.
    db.session.connection().execute(
        _INSERT_EVENT, {key: getattr(event, key) for key in _EVENT_COLUMNS}
    )
    if case is not None:
        case.event_seq, case.event_head = event.seq, event.hash
    if head is not None:
        head.seq, head.hash = event.seq, event.hash
    return event


#: ``Session.info`` key: (the transaction that locked the system chain's head, the head row).
_HEAD_LOCK = "duban_system_head"


def _locked_system_head() -> ChainHead:
    """The system chain's head row, locked for the rest of this transaction (once per
    transaction: a second append in the same transaction continues from the row in memory)."""
    session = db.session()
    session.connection()  # begin the transaction, if not yet begun
    transaction = session.get_transaction()
    held = session.info.get(_HEAD_LOCK)
    if held is not None and held[0] is transaction:
        return held[1]
    if session.get_bind().dialect.name == "sqlite":
        # SELECT … FOR UPDATE does not exist on SQLite: a write takes the database's write
        # lock (waiting up to busy_timeout for the writer ahead), after which no other
        # transaction can commit, so the head read next is the latest.
        session.execute(text("UPDATE chain_head SET seq = seq WHERE chain = :c"), {"c": SYSTEM})
    head = _select_head()
    if head is None:
        # No head stored yet (a fresh database): start it from the stored chain. A parallel
        # first appender that inserts it too waits for us and then takes our committed row.
        seq, hash_ = _last_event(None)
        session.execute(
            text(
                "INSERT INTO chain_head (chain, seq, hash) VALUES (:c, :s, :h) "
                "ON CONFLICT (chain) DO NOTHING"
            ),
            {"c": SYSTEM, "s": seq, "h": hash_},
        )
        head = _select_head()
        assert head is not None
    session.info[_HEAD_LOCK] = (transaction, head)
    return head


def _select_head() -> ChainHead | None:
    return db.session.scalars(
        select(ChainHead)
        .where(ChainHead.chain == SYSTEM)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _last_event(case_id: int | None) -> tuple[int, str]:
    """(seq, hash) of the last stored event of a chain (the system chain, or a chain whose case
    row is gone), counting the events of this transaction not flushed yet."""
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
    """The result of verifying one chain (and, for a case, its facts and files)."""

    case_id: int | None
    events: int
    ok: bool
    head: str
    problems: list[str]


def verify_chain(case_id: int | None, *, files: bool = False, cached: bool = False) -> ChainCheck:
    """Recompute a chain and report changed, removed or reordered events; the chain must also
    end where its stored head (the case row, or the system chain's ``chain_head`` row) says it
    does, since a removed last event leaves no gap.

    For a case, the facts its row and its task and attachment rows show (number, unit,
    address, district, 立案编号, status, who opened and completed what and when, the
    attachments' names and hashes) are compared with what the chain's events say
    (:mod:`server.case_facts`); a difference is a problem like a broken link.

    :param files: also re-hash the case's attachment files against the SHA-256 the chain
        recorded (reads every file; the dossier always does).
    :param cached: with ``files``, trust this process's digest of a file whose inode, size and
        modification time are unchanged (the case page, shown on every visit).
    """
    events = db.session.scalars(
        select(Event)
        .where(Event.case_id.is_(None) if case_id is None else Event.case_id == case_id)
        .order_by(Event.seq)
    ).all()
    case = db.session.get(Case, case_id) if case_id is not None else None
    return verify_events(case_id, events, case=case, files=files, cached=cached)


def verify_events(
    case_id: int | None,
    events: Sequence[Event],
    *,
    case: Case | None = None,
    files: bool = False,
    cached: bool = False,
    tasks: Sequence[Any] | None = None,
    attachments: Sequence[Any] | None = None,
    documents: Sequence[Any] | None = None,
) -> ChainCheck:
    """:func:`verify_chain` on rows already loaded: a chain's ``events`` in seq order (the
    system chain's when ``case_id`` is None), with the ``case`` row (None when it is gone) and,
    when the caller holds them, its ``tasks``, ``attachments`` and ``documents``."""
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
    last_seq = events[-1].seq if events else 0
    if case_id is None:
        head = db.session.get(ChainHead, SYSTEM)
        stored = (head.seq, head.hash) if head is not None else None
        if stored is None and events:
            problems.append("系统事件链的链尾记录缺失：无法确认链尾的事件未被删除")
        elif stored is not None and stored != (last_seq, prev):
            problems.append(
                f"事件链止于第{last_seq}号事件，而记录的链尾是第{stored[0]}号事件"
                f"（哈希 {stored[1][:12]}…）：链尾的事件被删除或改动"
            )
        return ChainCheck(None, len(events), not problems, prev, problems)
    if case is not None:
        if (case.event_seq, case.event_head) != (last_seq, prev):
            problems.append(
                f"事件链止于第{last_seq}号事件，而案件记录的链尾是第{case.event_seq}号事件"
                f"（哈希 {case.event_head[:12]}…）：链尾的事件被删除或改动"
            )
        from server.case_facts import fact_problems  # it reads attachments, which append

        problems += fact_problems(
            case,
            events,
            files=files,
            cached=cached,
            tasks=tasks,
            attachments=attachments,
            documents=documents,
        )
    return ChainCheck(case_id, len(events), not problems, prev, problems)


def verify_all(*, files: bool = False) -> list[ChainCheck]:
    """Verify every case's chain (a case whose events are all gone too) and the system chain.

    :param files: also re-hash every attachment file (slow on a large store).
    """
    case_ids: list[int | None] = list(db.session.scalars(select(Case.id).order_by(Case.id)))
    orphans = select(Event.case_id).where(Event.case_id.not_in(select(Case.id)))
    case_ids += db.session.scalars(orphans.group_by(Event.case_id)).all()
    checks = [verify_chain(case_id, files=files) for case_id in case_ids]
    checks.append(verify_chain(None))
    return checks


def event_count() -> int:
    """Total number of events (for benchmarks and the admin page)."""
    return db.session.scalar(select(func.count(Event.id))) or 0
