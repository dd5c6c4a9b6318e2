"""The audit log: append-only events, hash-chained per case.

Each event's hash covers the previous event's hash and the event's own content, so changing,
removing or reordering a stored event breaks the chain from that point on. The application
has no path that updates or deletes events.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from server.extensions import db
from server.models import Event, User

GENESIS = "0" * 64


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
    """
    last = db.session.execute(
        select(Event.seq, Event.hash)
        .where(Event.case_id.is_(None) if case_id is None else Event.case_id == case_id)
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    pending = [
        e for e in db.session.new if isinstance(e, Event) and e.case_id == case_id
    ]  # events of this transaction not flushed yet
    if pending:
        prev_seq, prev_hash = max((e.seq, e.hash) for e in pending)
    elif last is not None:
        prev_seq, prev_hash = last
    else:
        prev_seq, prev_hash = 0, GENESIS
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
    return event


@dataclass(frozen=True)
class ChainCheck:
    """The result of verifying one chain."""

    case_id: int | None
    events: int
    ok: bool
    head: str
    problems: list[str]


def verify_chain(case_id: int | None) -> ChainCheck:
    """Recompute a case's chain and report changed, removed or reordered events."""
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
    return ChainCheck(case_id, len(events), not problems, prev, problems)


def verify_all() -> list[ChainCheck]:
    """Verify every case chain and the system chain."""
    case_ids = db.session.scalars(select(Event.case_id).group_by(Event.case_id)).all()
    return [verify_chain(case_id) for case_id in case_ids]


def event_count() -> int:
    """Total number of events (for benchmarks and the admin page)."""
    return db.session.scalar(select(func.count(Event.id))) or 0
