"""Supervisors' follow-up actions on a case (督办, 约谈, 曝光), from a form on the case page.

The form is drawn by ``cases/_follow_up.html`` on the case page for supervisors (whoever sees
the case page is within scope: :func:`server.scoping.visible_case`); a refused submission shows
the case page again with the errors next to the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_login import current_user

from server import operations
from server.auth import roles_required
from server.models import Case
from server.scoping import visible_case

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
        operations.record_follow_up(current_user, case, values["action"], values["note"])
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
    flash(f"督办措施已记录：{label}。已写入办理记录。", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="h-timeline"), code=303)
