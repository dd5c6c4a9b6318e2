"""The API twins of supervision that reaches the supervised: a supervisor's follow-ups
(督办, 催办, 约谈, 曝光) and every user's messages.

Routes on the API blueprint (:data:`server.api.bp`, imported at the end of :mod:`server.api`);
described in :mod:`server.openapi`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify
from sqlalchemy import func, select

from server import operations
from server.api import (
    ApiError,
    _boolean,
    bp,
    caller,
    case_summaries,
    iso,
    json_body,
    paged,
    query_args,
)
from server.extensions import db
from server.models import Case, Notification, User
from server.notifications import mark_read, open_tasks, target_of, unread_count
from server.scoping import visible_case


@bp.post("/cases/<int:case_id>/follow-ups")
def create_follow_up(case_id: int) -> Any:
    """Record a 督办 / 催办 / 约谈 / 曝光 on a case and notify the late agency (supervisors
    only; others get 404)."""
    user = caller()
    if not user.has_role("supervisor"):
        raise ApiError(404)
    case = visible_case(user, case_id)
    body = json_body(("action", "note"), required=("action", "note"))
    now = datetime.now(UTC)
    notified = operations.record_follow_up(user, case, body["action"], body["note"], now)
    return jsonify(
        {
            "case_id": case.id,
            "action": body["action"],
            "label": operations.FOLLOW_UP_ACTIONS[body["action"]],
            "note": body["note"].strip(),
            "notified_agencies": notified,
            "recorded_at": iso(now),
        }
    ), 201


def notification_json(
    user: User, notification: Notification, workable: set[str] | None = None
) -> dict[str, Any]:
    """One message, with where it leads (``target``: task, case or none).

    :param workable: the open tasks the user may work on among the messages' (looked up when
        not given).
    """
    if workable is None:
        kind, target = target_of(user, notification)
    elif notification.task_id in workable:
        kind, target = "task", notification.task_id
    elif notification.case_id is not None:
        kind, target = "case", notification.case_id
    else:
        kind, target = "none", None
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "case_id": notification.case_id,
        "task_id": notification.task_id,
        "overdue_days": notification.overdue_days,
        "target": {"kind": kind, "id": None if target is None else str(target)},
        "created_at": iso(notification.created_at),
        "read_at": iso(notification.read_at),
    }


def _groups(user: User, items: list[Notification]) -> list[dict[str, Any]]:
    """The cases of a page's messages with the user's counts about each (grouping info)."""
    case_ids = list(dict.fromkeys(n.case_id for n in items if n.case_id is not None))
    if not case_ids:
        return []
    counts = {
        case_id: (total, unread or 0)
        for case_id, total, unread in db.session.execute(
            select(
                Notification.case_id,
                func.count(Notification.id),
                func.count(Notification.id).filter(Notification.read_at.is_(None)),
            )
            .where(Notification.user_id == user.id, Notification.case_id.in_(case_ids))
            .group_by(Notification.case_id)
        )
    }
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    ordered = [cases[c] for c in case_ids if c in cases]
    return [
        {"case": summary, "total": counts[case.id][0], "unread": counts[case.id][1]}
        for case, summary in zip(ordered, case_summaries(ordered, datetime.now(UTC)), strict=True)
    ]


@bp.get("/notifications")
def list_notifications() -> Any:
    """The caller's messages, newest first (``unread``, ``case_id`` filters), with the cases
    they are about (``groups``) and the unread count."""
    user = caller()
    args = query_args(unread=_boolean, case_id=lambda v: int(_positive(v)))
    query = select(Notification).where(Notification.user_id == user.id)
    if args["unread"] is True:
        query = query.where(Notification.read_at.is_(None))
    elif args["unread"] is False:
        query = query.where(Notification.read_at.is_not(None))
    if args["case_id"] is not None:
        query = query.where(Notification.case_id == args["case_id"])
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    page = paged(query, args, lambda rows: rows)
    items: list[Notification] = page["items"]
    page["groups"] = _groups(user, items)
    workable = open_tasks(user, {n.task_id for n in items if n.task_id})
    page["items"] = [notification_json(user, n, workable) for n in items]
    page["unread"] = unread_count(user)
    return jsonify(page)


def _positive(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise ValueError("应为正整数")
    return int(value)


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int) -> Any:
    """Mark one of the caller's messages read (another user's: 404)."""
    user = caller()
    notification = db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if notification is None:
        raise ApiError(404)
    mark_read(user, notification_id)
    db.session.refresh(notification)
    return jsonify(notification_json(user, notification))


@bp.post("/notifications/read-all")
def read_all_notifications() -> Any:
    """Mark all of the caller's messages read."""
    user = caller()
    return jsonify({"marked": mark_read(user), "unread": unread_count(user)})
