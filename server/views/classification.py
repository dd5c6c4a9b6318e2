"""A supervisor's correction of a hazard's classification (专项整治领域 and 行业主管部门),
from a form on the case page.

The 两个清单 and the monthly table group hazards by these two facts; registration sets them,
the classification migration gave older cases a default, and a supervisor corrects them here
(:func:`server.operations.reclassify_case`, recorded on the case's chain). A refused
submission shows the case page again with the errors next to the fields.
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
from workflows import campaign_areas

bp = Blueprint("classification", __name__)
REASON_MAX = 500


@dataclass(frozen=True)
class ClassificationForm:
    """The form: the choices, the values (current or submitted) and the errors by field."""

    areas: list[tuple[str, str]]
    departments: list[tuple[str, str]]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    reason_max: int = REASON_MAX


def classification_form(case: Case) -> ClassificationForm | None:
    """The case page's form, or None when the user may not change the classification."""
    if not current_user.has_role("supervisor") or case.process_id != "major_hazard":
        return None
    submitted = g.get("classification_form")
    if submitted is not None:
        return submitted
    department = case.responsible_department.code if case.responsible_department else ""
    return ClassificationForm(
        campaign_areas.options(),
        operations.industry_agency_options(),
        {"campaign_area": case.campaign_area or "", "responsible_department": department},
    )


@bp.app_context_processor
def classification_context() -> dict[str, Any]:
    """Templates call ``classification_form(case)`` (nothing is computed until they do)."""
    return {"classification_form": classification_form}


@bp.route("/cases/<int:case_id>/classification", methods=["POST"])
@roles_required("supervisor")
def update(case_id: int) -> Any:
    """Change the classification; errors answer 422 with the case page and the form."""
    case = visible_case(current_user, case_id)
    values = {
        name: request.form.get(name, "")
        for name in ("campaign_area", "responsible_department", "reason")
    }
    try:
        changed = operations.reclassify_case(
            current_user,
            case,
            values["campaign_area"],
            values["responsible_department"],
            values["reason"],
        )
    except operations.FormInvalid as exc:
        g.classification_form = ClassificationForm(
            campaign_areas.options(),
            operations.industry_agency_options(),
            values,
            exc.fields or {"_form": exc.message},
        )
        from server.views.cases import show

        return show(case_id), 422
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.show", case_id=case.id), code=303)
    if changed:
        flash("隐患分类已修改，已写入办理记录；两个清单和月报按新分类统计。", "success")
    else:
        flash("分类没有变化，未作修改。", "info")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="classification"), code=303)
