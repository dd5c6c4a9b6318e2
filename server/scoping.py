"""The one place that decides which cases, tasks and events a user may see or act on.

- officers see the cases their agency discovered or has (had) a task in, and act only on their
  agency's tasks;
- supervisors and auditors see the cases of their jurisdiction (a county-level agency: its
  division; a city-level agency: the whole city);
- administrators see everything.
A case or task outside this scope answers 404, never 403, so its existence does not leak.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import lazyload

from server.extensions import db
from server.models import Case, Document, PublicWarning, Report, Task, User
from workflows.jurisdiction import DIVISIONS


def case_filter(user: User, *, case_id: int | None = None) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` selecting the cases ``user`` may see.

    :param case_id: the one case looked up, when it is one: whether the officer's agency has
        (had) a task in it is then read from that case's tasks (``ix_task_case_id``) instead of
        the list of every case the agency has a task in (3 ms at 100,000 cases on SQLite).
    """
    shape = _case_scope(user)
    return _case_clause(shape, case_id=case_id, **_scope_values(user, shape))


def _case_scope(user: User) -> tuple[bool, bool] | None:
    """The shape of ``user``'s case scope: None for every case; else (the cases of the
    agency's division, the cases of the officer's agency)."""
    if user.has_role("admin"):
        return None
    by_district = False
    if user.has_role("supervisor") or user.has_role("auditor"):
        if user.agency.is_city_level:
            return None
        by_district = True
    return by_district, user.has_role("officer")


def _scope_values(user: User, shape: tuple[bool, bool] | None) -> dict[str, Any]:
    """The values a scope's shape reads: the division (``district``) and the officer's agency
    (``agency_id``), as far as the shape has them."""
    values: dict[str, Any] = {}
    if shape is not None and shape[0]:
        values["district"] = user.agency.division
    if shape is not None and shape[1]:
        values["agency_id"] = user.agency_id
    return values


def _case_clause(
    shape: tuple[bool, bool] | None,
    *,
    district: Any = None,
    agency_id: Any = None,
    case_id: Any = None,
) -> ColumnElement[bool]:
    """:func:`case_filter` of a scope's shape (:func:`_case_scope`), with its values given as
    they are or as bound parameters (:func:`visible_case`'s statements built once)."""
    if shape is None:
        return true()
    by_district, officer = shape
    clauses: list[ColumnElement[bool]] = []
    if by_district:
        clauses.append(Case.district == district)
    if officer:
        clauses.append(Case.discoverer_agency_id == agency_id)
        if case_id is None:
            agency_cases = select(Task.case_id).where(Task.agency_id == agency_id)
            clauses.append(Case.id.in_(agency_cases))
        else:
            clauses.append(exists().where(Task.case_id == case_id, Task.agency_id == agency_id))
    return or_(*clauses) if clauses else false()


def district_options(user: User) -> list[tuple[str, str]]:
    """(code, name) of the districts a user's dashboard and lists can be narrowed to: their
    own, or all for the city level and administrators."""
    if user.has_role("admin") or user.agency.is_city_level:
        return [(d.code, d.name) for d in DIVISIONS]
    return [(d.code, d.name) for d in DIVISIONS if d.code == user.agency.division]


def hazard_list_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` selecting the rows of the 两个清单 ``user`` may see: the
    cases they may see, and for an officer of an industry department also the hazards that
    name the department as responsible (行业主管部门: its own lists)."""
    if user.has_role("officer") and user.agency.kind == "industry":
        return or_(case_filter(user), Case.responsible_department_id == user.agency_id)
    return case_filter(user)


#: The agency every report is sent to (月报 附件8 and 年度工作报告: “报市消安委办公室”).
REPORT_RECEIVER = "safety_office:city"


def report_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Report`` selecting the reports ``user`` may see: those whose case
    they may see (a reporting office its own, supervisors and auditors their jurisdiction's),
    and every report for the city safety committee office, which receives them all."""
    if user.has_role("admin") or user.agency.code == REPORT_RECEIVER:
        return true()
    return Report.case_id.in_(select(Case.id).where(case_filter(user)))


def visible_case_ids(user: User, case_ids: Iterable[int]) -> set[int]:
    """Those of ``case_ids`` that ``user`` may see (for links on lists that show more than
    cases, such as the warning board)."""
    ids = list(case_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(ids), case_filter(user))))


def task_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Task`` selecting the tasks ``user`` may work on."""
    if user.has_role("officer"):
        return Task.agency_id == user.agency_id
    return false()


#: :func:`task_filter` for an officer with the agency as the bound parameter ``agency_id``, built
#: once: a statement built once (per request, building one and its cache key costs more than
#: running it) uses :func:`bound_task_filter`, and runs with :func:`task_filter_params`.
_OFFICER_TASKS = Task.agency_id == bindparam("agency_id")


def bound_task_filter(officer: bool) -> ColumnElement[bool]:
    """:func:`task_filter` as a clause built once: an officer's agency's tasks (its value
    bound as ``agency_id``: :func:`task_filter_params`), or no task for anyone else."""
    return _OFFICER_TASKS if officer else false()


def task_filter_params(user: User) -> tuple[bool, dict[str, Any]]:
    """Whether ``user`` works on tasks (an officer), and the parameters of
    :func:`bound_task_filter` for them."""
    if user.has_role("officer"):
        return True, {"agency_id": user.agency_id}
    return False, {}


def may_work_on(user: User, task: Task) -> bool:
    """:func:`task_filter` for a task row already read (the case page's tasks)."""
    return user.has_role("officer") and task.agency_id == user.agency_id


def visible_case(user: User, case_id: int) -> Case:
    """Return the case if ``user`` may see it; otherwise abort with 404."""
    shape = _case_scope(user)
    params = {"case_id": case_id, **_scope_values(user, shape)}
    case = db.session.scalar(_visible_case(shape), params)
    if case is None:
        abort(404)
    return case


@functools.cache
def _visible_case(shape: tuple[bool, bool] | None) -> Select[Any]:
    """:func:`visible_case`'s statement for one shape of scope, built once (per request,
    building it and its cache key cost more than running it)."""
    case_id: Any = bindparam("case_id")
    clause = _case_clause(
        shape, district=bindparam("district"), agency_id=bindparam("agency_id"), case_id=case_id
    )
    return select(Case).where(Case.id == case_id, clause)


def workable_task(user: User, task_id: str, *, with_case: bool = True) -> Task:
    """Return the task if ``user`` may work on it; otherwise abort with 404.

    Its agency is the user's (already loaded with the user). :param with_case: load its case in
    the same query (pages that show it); a mutation that locks and reads the case itself
    passes False (``task.case`` then comes from the session once the case is locked).
    """
    officer, params = task_filter_params(user)
    if not officer:  # bound_task_filter: no task for anyone else
        abort(404)
    task = db.session.scalar(_WORKABLE_TASK[with_case], {"task_id": task_id, **params})
    if task is None:
        abort(404)
    return task


# :func:`workable_task`'s statements, built once (per request, building one and its cache key
# costs more than running it).
_WORKABLE_TASK = {
    with_case: select(Task)
    .where(Task.id == bindparam("task_id"), bound_task_filter(True))
    .options(lazyload(Task.agency), *(() if with_case else (lazyload(Task.case),)))
    for with_case in (True, False)
}


def correctable_document(user: User, case_id: int, document_id: int) -> Document:
    """Return the document if ``user`` may correct it (更正): an officer of the agency that
    issued it, in a case the user sees; otherwise abort with 404."""
    case = visible_case(user, case_id)
    if not user.has_role("officer"):
        abort(404)
    document = db.session.scalar(
        select(Document).where(
            Document.id == document_id,
            Document.case_id == case.id,
            Document.agency_id == user.agency_id,
        )
    )
    if document is None:
        abort(404)
    return document


def may_correct(user: User, document: Document) -> bool:
    """Whether the case page offers ``user`` the correction of ``document`` (in force)."""
    return user.has_role("officer") and document.agency_id == user.agency_id and not document.void


def warning_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``PublicWarning`` selecting the warnings ``user`` may read.

    A warning is public within its scope: a county-wide one in its division (and to city-level
    agencies), a city-wide one or one reported to the province in the whole city.
    """
    if user.has_role("admin") or user.agency.is_city_level:
        return true()
    return or_(PublicWarning.scope != "county", PublicWarning.district == user.agency.division)
