"""Graded public warnings (分级预警) of the accountability process: the warning board's rows.

The process's ``publish_warning`` task publishes a warning at the scope its decision table
chose; ``report_warning_to_province`` adds the report to the province. Each completion writes
or completes the board row in the same transaction as the step (see
:func:`server.operations.complete_task`). Who may read a warning: :func:`server.scoping.
warning_filter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from server.audit import append_event
from server.display import cn_date
from server.extensions import db
from server.models import Case, Document, PublicWarning, Task
from server.parsing import positive_int

SCOPE_LABELS = {
    "county": "事故发生地全县范围",
    "city": "全市范围",
    "province": "全市范围并上报省级",
}


def record_warning(
    case: Case, task: Task, form: Mapping[str, Any], data: Mapping[str, Any], now: datetime
) -> None:
    """Write the board row when a warning is published or reported to the province."""
    warning: PublicWarning | None
    if task.name == "publish_warning":
        warning = PublicWarning(
            case_id=case.id,
            scope=str(data.get("warning_scope") or "county"),
            district=case.district,
            fire_level=str(data.get("fire_level_name") or ""),
            title=str(form["title"]),
            text=_issued_text(task) or str(form["text"]),
            published_on=str(form["published_on"]),
            publisher_agency_id=task.agency_id,
            published_at=now,
        )
        db.session.add(warning)
        append_event(case.id, "warning_published", data={"scope": warning.scope,
                     "title": warning.title}, at=now)  # fmt: skip
    elif task.name == "report_warning_to_province":
        warning = db.session.scalar(select(PublicWarning).where(PublicWarning.case_id == case.id))
        if warning is not None:
            warning.province_report = (
                f"{cn_date(form['reported_on'])}报{form['recipient']}（{form['report_no']}）"
            )


def _issued_text(task: Task) -> str:
    """The body of the 预警通报 the completion just issued (the facts generated from the case,
    then the publisher's requirements), for the board; empty if none was issued."""
    document = db.session.scalar(
        select(Document)
        .where(Document.task_id == task.id, Document.kind == "fire_warning_notice")
        .order_by(Document.id.desc())
    )
    if document is None or not document.filled:
        return ""
    return "\n".join(str(p) for p in document.filled.get("paragraphs", []))


def parse_year(value: str) -> int:
    """A board filter's year (2000–2100).

    :raises ValueError: with a Chinese message otherwise.
    """
    try:
        return positive_int(value, 2100, minimum=2000)
    except ValueError:
        raise ValueError("应为2000至2100之间的年份") from None


def board_query(scope: str | None = None, year: int | None = None) -> Select[Any]:
    """Published warnings, newest first, optionally of one scope or year (not yet scoped)."""
    query = select(PublicWarning)
    if scope:
        query = query.where(PublicWarning.scope == scope)
    if year:
        query = query.where(PublicWarning.published_on.startswith(f"{year}-"))
    return query.order_by(PublicWarning.published_on.desc(), PublicWarning.id.desc())
