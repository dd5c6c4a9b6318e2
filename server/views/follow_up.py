"""Supervisors' follow-up actions on a case (督办, 催办, 约谈, 曝光), from a form on the case
page, and the one-click 催办 of an overdue deadline (dashboard and case page).

The form is drawn by ``cases/_follow_up.html`` on the case page for supervisors (whoever sees
the case page is within scope: :func:`server.scoping.visible_case`); a refused submission shows
the case page again with the errors next to the fields. Every follow-up is recorded on the
case's chain and notifies the late agency (:func:`server.operations.record_follow_up`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server import operations, reads
from server.auth import roles_required
from server.due import working_days_overdue
from server.models import Case, Deadline
from server.notifications import stage_label
from server.scoping import visible_case
from server.views.common import safe_next

bp = Blueprint("follow_up", __name__)
NOTE_MAX = 2000


@dataclass(frozen=True)
class FollowUpForm:
    """The follow-up form: the choices, the submitted values and the errors by field."""

    actions: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    note_max: int = NOTE_MAX


def follow_up_form(case: Case) -> FollowUpForm | None:
    """The case page's follow-up form, or None when the user may not record one."""
    if not current_user.has_role("supervisor") or case.status != "open":
        return None
    return g.get("follow_up_form") or FollowUpForm(operations.FOLLOW_UP_ACTIONS)


@bp.app_context_processor
def follow_up_context() -> dict[str, Any]:
    """Templates call ``follow_up_form(case)`` (nothing is computed until they do)."""
    return {"follow_up_form": follow_up_form}


@bp.route("/cases/<int:case_id>/follow-up", methods=["POST"])
@roles_required("supervisor")
def record(case_id: int) -> Any:
    """Record a follow-up on a case; errors answer 422 with the case page and the form."""
    case = visible_case(current_user, case_id)
    values = {"action": request.form.get("action", ""), "note": request.form.get("note", "")}
    try:
        notified = operations.record_follow_up(current_user, case, values["action"], values["note"])
    except operations.FormInvalid as exc:
        g.follow_up_form = FollowUpForm(
            operations.FOLLOW_UP_ACTIONS, values, exc.fields or {"_form": exc.message}
        )
        from server.views.cases import show

        return show(case_id), 422
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.show", case_id=case.id), code=303)
    label = operations.FOLLOW_UP_ACTIONS[values["action"]]
    flash(f"督办措施已记录：{label}。已写入办理记录{_told(notified)}。", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="h-timeline"), code=303)


def _told(agencies: list[str]) -> str:
    return f"，已通知{'、'.join(agencies)}" if agencies else ""


def urge_note(deadline: Deadline | None, now: datetime) -> str:
    """The note of a one-click 催办: the step and how many working days it is overdue."""
    if deadline is None:
        return "本案有逾期未办结的环节，请尽快办理。"
    days = working_days_overdue(deadline.due_at, now)
    late = f"已逾期{days}个工作日" if days else "已超过期限"
    return f"“{stage_label(deadline.label)}”{late}，请尽快办理。"


@bp.route("/cases/<int:case_id>/urge", methods=["POST"])
@roles_required("supervisor")
def urge(case_id: int) -> Any:
    """One-click 催办 of an overdue deadline (``deadline_id``), back to ``next``."""
    case = visible_case(current_user, case_id)
    back = safe_next(url_for("cases.show", case_id=case.id))
    deadline = None
    if request.form.get("deadline_id", "").isdigit():
        deadline = reads.scalar(
            select(Deadline).where(
                Deadline.id == int(request.form["deadline_id"]), Deadline.case_id == case.id
            )
        )
    now = datetime.now(UTC)
    try:
        notified = operations.record_follow_up(
            current_user, case, "urge", urge_note(deadline, now), now
        )
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(back, code=303)
    flash(f"已催办 {case.number}{_told(notified)}，并写入办理记录。", "success")
    return redirect(back, code=303)
