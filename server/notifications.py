"""The notification centre: escalations of missed deadlines reach the supervisors concerned.

Supervisors sit in the fire safety committee offices (消安委办) and agency leaderships. A missed
deadline of an agency is sent to the supervisors of that agency and of the level above
(:func:`workflows.lanes.escalation_targets`); a people's government acts through its safety
committee office, so the supervisors of that office are told as well.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from server.extensions import db
from server.models import Agency, Case, Notification, User
from workflows.jurisdiction import agency_code


def supervisor_agencies(targets: list[str]) -> set[str]:
    """The agency codes whose supervisors hear about an escalation to ``targets``."""
    codes = set(targets)
    for code in targets:
        kind, _, rest = code.partition(":")
        if kind == "government":
            codes.add(agency_code("safety_office", rest.split(":")[0]))
    return codes


def notify_escalation(
    case: Case, name: str, code: str, targets: list[str], now: datetime | None = None
) -> list[Notification]:
    """Create one notification per supervisor of the target agencies (in the session)."""
    recipients = db.session.scalars(
        select(User)
        .join(Agency, User.agency_id == Agency.id)
        .where(Agency.code.in_(supervisor_agencies(targets)), User.active.is_(True))
    ).all()
    created = []
    for user in recipients:
        if not user.has_role("supervisor"):
            continue
        notification = Notification(
            user_id=user.id,
            case_id=case.id,
            kind="escalation",
            title=f"督办提醒：{case.number} {name}",
            body=f"{case.unit_name}（{case.stage or '—'}）：{name}。请及时督办。",
            created_at=now or datetime.now(UTC),
        )
        db.session.add(notification)
        created.append(notification)
    return created


def unread_count(user: User) -> int:
    """How many unread notifications ``user`` has."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def unread_for_case(user: User, case_id: int) -> list[Notification]:
    """``user``'s unread notifications about one case, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.case_id == case_id,
                Notification.read_at.is_(None),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        )
    )


def mark_read(user: User, notification_id: int | None = None, *, case_id: int | None = None) -> int:
    """Mark one, all, or all about ``case_id`` of ``user``'s notifications read.

    :param notification_id: only this notification.
    :param case_id: only the notifications about this case.
    :return: how many changed.
    """
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    if case_id is not None:
        statement = statement.where(Notification.case_id == case_id)
    result = db.session.execute(statement.values(read_at=datetime.now(UTC)))
    db.session.commit()
    return cast("CursorResult[Any]", result).rowcount or 0
