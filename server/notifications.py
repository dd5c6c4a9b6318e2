"""The notification centre: supervision reaches the supervised agency.

A missed deadline (an escalation fired by the sweep) and a supervisor's follow-up (督办, 催办,
约谈, 曝光) are sent to the officers and supervisors of the agency answerable for the late step,
and to the supervisors it escalates to: the agency's own and the level above
(:func:`workflows.lanes.escalation_targets`; a people's government acts through its safety
committee office, so the supervisors of that office are told as well). One notification per
user, naming the case, the step, the agency and the working days overdue; an officer who may
work on the task is led to it, everyone else to the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, bindparam, func, or_, select, update

from server.due import working_days_overdue
from server.extensions import db
from server.models import Agency, Case, Deadline, Notification, Task, User
from workflows.jurisdiction import agency_code
from workflows.lanes import escalation_targets


def supervisor_agencies(targets: list[str]) -> set[str]:
    """The agency codes whose supervisors hear about an escalation to ``targets``."""
    codes = set(targets)
    for code in targets:
        kind, _, rest = code.partition(":")
        if kind == "government":
            codes.add(agency_code("safety_office", rest.split(":")[0]))
    return codes


def _recipients(case: Case, agency: Agency) -> list[tuple[User, bool]]:
    """Who hears about a late step of ``agency``: its officers and supervisors, and the
    supervisors the missed deadline escalates to; with whether they may work on its tasks."""
    targets = escalation_targets(agency.code, case.district)
    supervising = supervisor_agencies(targets)
    users = db.session.scalars(
        select(User)
        .join(Agency, User.agency_id == Agency.id)
        .where(
            or_(User.agency_id == agency.id, Agency.code.in_(supervising)),
            User.active.is_(True),
        )
        .order_by(User.id)
    ).all()
    chosen = []
    for user in users:
        own = user.agency_id == agency.id
        if user.has_role("supervisor") or (own and user.has_role("officer")):
            chosen.append((user, own and user.has_role("officer")))
    return chosen


def _state(step: LateStep) -> str:
    if not step.late:
        return "尚未办结"
    return f"已逾期{step.overdue_days}个工作日" if step.overdue_days else "已超过期限"


@dataclass(frozen=True)
class LateStep:
    """A step of a case an agency is answerable for: the open task (if any), its deadline's
    label, and how many working days it is overdue (0: due today or not yet due)."""

    agency: Agency
    label: str
    task: Task | None
    overdue_days: int
    late: bool = True  # past its deadline (else an open step a 督办 presses on early)


def late_steps(case: Case, now: datetime) -> list[LateStep]:
    """The steps of ``case`` a follow-up presses on, most overdue first.

    The overdue deadlines of the case (missed and not met, or past and pending), with the open
    task of the answerable agency; when nothing is overdue, the case's open tasks (a 督办 can
    come before a deadline is missed).
    """
    tasks = db.session.scalars(
        select(Task).where(Task.case_id == case.id, Task.state == "ready").order_by(Task.id)
    ).all()
    by_id = {t.id: t for t in tasks}
    deadlines = db.session.scalars(
        select(Deadline)
        .where(
            Deadline.case_id == case.id,
            Deadline.agency_id.is_not(None),
            or_(
                and_(Deadline.state == "missed", Deadline.met_at.is_(None)),
                and_(Deadline.state == "pending", Deadline.due_at < now),
            ),
        )
        .order_by(Deadline.due_at, Deadline.id)
    ).all()
    steps: list[LateStep] = []
    for deadline in deadlines:
        agency = deadline.agency
        assert agency is not None
        task = by_id.get(deadline.task_id or "") or next(
            (t for t in tasks if t.agency_id == agency.id), None
        )
        steps.append(
            LateStep(
                agency,
                stage_label(deadline.label),
                task,
                working_days_overdue(deadline.due_at, now),
            )
        )
    if not steps:
        steps = [LateStep(t.agency, t.label, t, 0, late=False) for t in tasks]
    return steps


def stage_label(label: str) -> str:
    """``函告消防救援机构 5个工作日`` → ``函告消防救援机构``."""
    return label.split(" ")[0]


def _notify(
    case: Case,
    steps: list[LateStep],
    kind: str,
    title: str,
    note: str,
    now: datetime,
) -> list[Notification]:
    """One notification per user concerned by ``steps`` (the worst step first), naming the
    case, the step, the agency, the working days overdue and the note; it leads to the task
    for the officers who may work on it, to the case for everyone else."""
    chosen: dict[int, tuple[User, LateStep, bool]] = {}
    for step in steps:
        for user, works in _recipients(case, step.agency):
            if user.id not in chosen:
                chosen[user.id] = (user, step, works)
    created = []
    for user, step, works in chosen.values():
        others = [s for s in steps if s is not step]
        body = f"{case.unit_name}：{step.agency.name}办理的“{step.label}”{_state(step)}。"
        if others:
            listed = "、".join(f"{s.agency.name}“{s.label}”（{_state(s)}）" for s in others[:3])
            body += f"另有{listed}" + (f"等{len(others)}个环节。" if len(others) > 3 else "。")
        if note:
            body += note
        notification = Notification(
            user_id=user.id,
            case_id=case.id,
            task_id=step.task.id if works and step.task is not None else None,
            overdue_days=step.overdue_days,
            kind=kind,
            title=f"{title}：{case.number} {step.label}"[:200],
            body=body,
            created_at=now,
        )
        db.session.add(notification)
        created.append(notification)
    return created


def notify_escalation(
    case: Case, name: str, deadline: Deadline | None, now: datetime | None = None
) -> list[Notification]:
    """A missed deadline: tell the answerable agency's officers and supervisors, and the
    supervisors it escalates to (in the session; one notification per user)."""
    now = now or datetime.now(UTC)
    if deadline is None or deadline.agency_id is None:
        return []
    agency = db.session.get(Agency, deadline.agency_id)
    if agency is None:
        return []
    task = db.session.get(Task, deadline.task_id) if deadline.task_id else None
    if task is not None and task.state != "ready":
        task = None
    step = LateStep(
        agency, stage_label(deadline.label), task, working_days_overdue(deadline.due_at, now)
    )
    return _notify(case, [step], "escalation", "超期督办", f"{name}。请及时办理。", now)


def notify_follow_up(
    case: Case, action_label: str, kind: str, note: str, supervisor: User, now: datetime
) -> tuple[list[Notification], list[str]]:
    """A supervisor's 督办, 催办, 约谈 or 曝光: tell the agencies answerable for the case's late
    steps (or its open steps) and the supervisors above them (in the session).

    :returns: the notifications, and the names of the supervised agencies.
    """
    steps = late_steps(case, now)
    by = f"{supervisor.agency.name} {supervisor.name}"
    note = f"{action_label}意见（{by}）：{note}"
    sent = _notify(case, steps, f"follow_up_{kind}", action_label, note, now)
    return sent, list(dict.fromkeys(s.agency.name for s in steps))


def unread_count(user: User) -> int:
    """How many unread notifications ``user`` has (every page's navigation shows it)."""
    # plain columns: on the session's connection, without the ORM's execution
    return db.session.connection().execute(_UNREAD_COUNT, {"user_id": user.id}).scalar() or 0


# Built once: building the statement and its cache key per page cost more than running it.
_UNREAD_COUNT = select(func.count(Notification.id)).where(
    Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)
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


@dataclass(frozen=True)
class CaseGroup:
    """A user's notifications about one case (``case`` None: about no case), newest first."""

    case: Case | None
    items: list[Notification]
    unread: int
    total: int


def grouped(user: User, case_ids: list[int | None], unread_only: bool = False) -> list[CaseGroup]:
    """``user``'s notifications about ``case_ids`` (in that order), grouped per case.

    :param unread_only: only the unread ones.
    """
    if not case_ids:
        return []
    known = [c for c in case_ids if c is not None]
    about: ColumnElement[bool] = Notification.case_id.in_(known)
    if None in case_ids:
        about = or_(about, Notification.case_id.is_(None))
    query = select(Notification).where(Notification.user_id == user.id, about)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
    ).all()
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(known)))}
    groups = []
    for case_id in case_ids:
        items = [n for n in rows if n.case_id == case_id]
        unread = sum(1 for n in items if n.read_at is None)
        groups.append(CaseGroup(cases.get(case_id) if case_id else None, items, unread, len(items)))
    return groups


def group_query(user: User, unread_only: bool = False):
    """The case ids of ``user``'s notifications, the case with the newest message first (a
    query for :func:`server.views.common.paginate`)."""
    query = select(Notification.case_id).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.group_by(Notification.case_id).order_by(
        func.max(Notification.created_at).desc(), Notification.case_id.desc()
    )


def open_tasks(user: User, task_ids: set[str]) -> set[str]:
    """Those of ``task_ids`` that are open and ``user``'s to work on."""
    from server.scoping import task_filter

    if not task_ids:
        return set()
    return set(
        db.session.scalars(
            select(Task.id).where(Task.id.in_(task_ids), Task.state == "ready", task_filter(user))
        )
    )


def target_of(user: User, notification: Notification) -> tuple[str, Any]:
    """Where a message leads ``user``: ``("task", id)`` when its task is still open and theirs
    to work on, else ``("case", id)``, or ``("none", None)`` for a message about no case."""
    if notification.task_id is not None and open_tasks(user, {notification.task_id}):
        return "task", notification.task_id
    if notification.case_id is not None:
        return "case", notification.case_id
    return "none", None
