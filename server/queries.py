"""The case-list and inbox queries, built once for the HTML views and the API (with the few
smaller statements both of them run: a task's follow-up steps, a case's attachments).

Both are scoped through :mod:`server.scoping` and use the one definition of "overdue"
(:mod:`server.overdue`). The callers parse their own input (form fields or query parameters)
into :class:`CaseFilters` / :class:`InboxFilters` and run the statement (paged) themselves.

The inbox statement reads the task index (``ix_task_inbox_order``: agency, state, due_at,
created_at, id) for the default order, and joins the case only when a filter, the keyword
search or the sort needs it. A page of the inbox is read as plain rows (:func:`inbox_rows`:
the page's task ids chosen on the index, then the columns a row shows joined for those only;
no ORM object, no workflow state).
"""

from __future__ import annotations

import functools
import itertools
from collections import namedtuple
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from server import overdue
from server.models import Agency, Attachment, Case, Task, User, UTCDateTime
from server.scoping import bound_task_filter, case_filter, task_filter_params
from workflows.jurisdiction import DIVISIONS, Division

_Row = TypeVarTuple("_Row")

#: Longest keyword searched (longer input is cut).
MAX_KEYWORD = 100
#: Inbox sort keys → Chinese column names.
INBOX_SORTS = {
    "due": "截止时间",
    "arrival": "到达时间",
    "unit": "单位名称",
    "step": "当前环节",
    "district": "辖区",
}
ORDERS = ("asc", "desc")
#: A task is "new" (新) for this long after it arrived in the agency's inbox.
NEW_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class CaseFilters:
    """Case-list filters; empty values mean "all"."""

    status: str = ""
    district: str = ""
    process: str = ""
    overdue: bool | None = None
    attention: bool = False
    q: str = ""


@dataclass(frozen=True)
class InboxFilters:
    """Inbox filters and order; empty values mean "all"."""

    process: str = ""
    district: str = ""
    stage: str = ""
    overdue: bool | None = None
    q: str = ""
    sort: str = "due"
    order: str = "asc"


def keyword(text: str | None) -> str:
    """A search keyword: stripped and cut to :data:`MAX_KEYWORD` characters."""
    return (text or "").strip()[:MAX_KEYWORD]


#: The columns the keyword search reads.
_SEARCHED = (Case.unit_name, Case.address, Case.number, Case.case_no)


def _search(text: str) -> ColumnElement[bool]:
    """Cases whose unit name, address, 督办编号 or 立案号 contains ``text`` (literally)."""
    return or_(*(column.contains(text, autoescape=True) for column in _SEARCHED))


def in_district_and_process(query: Select[*_Row], district: str, process: str) -> Select[*_Row]:
    """``query`` (over :class:`Case`) narrowed to a district and a process code (each only
    when given)."""
    if district:
        query = query.where(Case.district == district)
    if process:
        query = query.where(Case.process_id == process)
    return query


def case_list(user: User, filters: CaseFilters, now: datetime) -> Select[Any]:
    """The cases ``user`` may see, narrowed by ``filters``, newest first."""
    query = select(Case).where(case_filter(user))
    if filters.status:
        query = query.where(Case.status == filters.status)
    query = in_district_and_process(query, filters.district, filters.process)
    if filters.overdue is not None:
        late = overdue.case_clause(now)
        query = query.where(late if filters.overdue else ~late)
    if filters.attention:
        query = query.where(Case.needs_attention.is_not(None))
    text = keyword(filters.q)
    if text:
        query = query.where(_search(text))
    return query.order_by(Case.opened_at.desc(), Case.id.desc())


def served_districts(user: User) -> tuple[Division, ...]:
    """The divisions the user's agency serves: its own, or every one for a city-level agency
    (the inbox's district filter offers these only)."""
    if user.agency.is_city_level:
        return DIVISIONS
    return tuple(d for d in DIVISIONS if d.code == user.agency.division)


def _inbox_order(filters: InboxFilters) -> list[Any]:
    descending = filters.order == "desc"
    column: Any = {
        "arrival": Task.created_at,
        "unit": Case.unit_name,
        "step": Task.label,
        "district": Case.district,
    }.get(filters.sort)
    if filters.sort == "due" or column is None:
        # due_at only once: a second sort key on the same column orders nothing, and SQLite
        # then sorts every ready task of the agency instead of reading the index's order
        due = Task.due_at.desc().nulls_last() if descending else Task.due_at.asc().nulls_last()
        return [due, Task.created_at, Task.id]
    order = column.desc() if descending else column.asc()
    return [order, Task.due_at.asc().nulls_last(), Task.created_at, Task.id]


# The API's inbox row, in parts: the task's columns, its case's (not the workflow state), who
# claimed it, the task's agency and the case's discovering agency.
InboxTask = namedtuple(
    "InboxTask",
    "id name label lane state case_id claimed_by_id claimed_at created_at due_at completed_at",
)
InboxCase = namedtuple(
    "InboxCase",
    "id number case_no process_id process_version status stage district unit_name address"
    " opened_at closed_at needs_attention campaign_area",
)
InboxPerson = namedtuple("InboxPerson", "username name")
InboxAgency = namedtuple("InboxAgency", "code name kind division")

# The inbox row's joined tables and columns, built once: building aliases per request cost
# more than running the statement.
_CLAIMANT, _AGENCY, _DISCOVERER = aliased(User), aliased(Agency), aliased(Agency)
_INBOX_PARTS: tuple[tuple[Any, Any], ...] = (
    (InboxTask, Task),
    (InboxCase, Case),
    (InboxPerson, _CLAIMANT),
    (InboxAgency, _AGENCY),
    (InboxAgency, _DISCOVERER),
)
#: The API's inbox columns, flat, in the order of :data:`_INBOX_PARTS`' fields.
_INBOX_COLUMNS: tuple[Any, ...] = tuple(
    getattr(entity, name) for part, entity in _INBOX_PARTS for name in part._fields
)
_INBOX_SLICES = tuple(
    (part, slice(start, start + len(part._fields)))
    for (part, _), start in zip(
        _INBOX_PARTS,
        itertools.accumulate((len(p._fields) for p, _ in _INBOX_PARTS), initial=0),
        strict=False,
    )
)


def inbox_row_parts(row: Any) -> tuple[Any, ...]:
    """A row of :func:`inbox_rows` with ``full`` as its parts: (:class:`InboxTask`,
    :class:`InboxCase`, :class:`InboxPerson` who claimed it (both None when unclaimed),
    :class:`InboxAgency` of the task, :class:`InboxAgency` that discovered the case), then
    ``case_overdue`` when the statement reads it."""
    parts = tuple(part._make(row[where]) for part, where in _INBOX_SLICES)
    return parts + tuple(row[_INBOX_WIDTH:])


_INBOX_WIDTH = len(_INBOX_COLUMNS)


# What the HTML inbox shows of a row (its table), a subset of the API's item and flat: half
# the statement's cost (fewer datetimes parsed, no agencies joined, no bundles to build).
_INBOX_PAGE_COLUMNS: tuple[Any, ...] = (
    Task.id,
    Task.label,
    Task.state,
    Task.case_id,
    Task.claimed_by_id,
    Task.created_at,
    Task.due_at,
    Case.number,
    Case.case_no,
    Case.unit_name,
    Case.address,
    Case.district,
    _CLAIMANT.name.label("claimant"),
)


def inbox_rows(
    window: Select[Any],
    filters: InboxFilters,
    *,
    full: bool = True,
    case_overdue_at: Any = None,
) -> Select[Any]:
    """The rows an inbox page shows, as plain rows, for ``window``: the inbox's task ids
    (:func:`inbox_query`) limited to one page (``.limit().offset()``), with the same
    ``filters``.

    With ``full``, a flat row of the task's, its case's, its claimant's and both agencies'
    columns, in the inbox's order, to read with :func:`inbox_row_parts` (a plain row run on
    the connection: :func:`server.reads.columns`; bundles cost more to build). Without
    ``full``, a flat row of the columns the HTML inbox shows (:data:`_INBOX_PAGE_COLUMNS`:
    the task's ``id``, ``label``, ``state``, ``case_id``, ``claimed_by_id``, ``created_at``
    and ``due_at``, the case's ``number``, ``case_no``, ``unit_name``, ``address`` and
    ``district``, the ``claimant``'s name). With ``case_overdue_at``, also
    ``row.case_overdue``: whether the case has an overdue deadline then
    (:func:`server.overdue.case_clause`), read in the same statement (a datetime, or a bound
    parameter in a statement built once).

    The page's task ids are chosen first on the task index, and only those rows are joined:
    joining every ready task of the agency before sorting cost 20 ms at 2,500 of them
    (SQLite); loading a hundred ORM objects with their cases cost more than the rest of the
    page.
    """
    page = window.with_only_columns(Task.id).subquery("page")
    columns: list[Any] = list(_INBOX_COLUMNS if full else _INBOX_PAGE_COLUMNS)
    if case_overdue_at is not None:
        columns.append(overdue.case_clause(case_overdue_at).label("case_overdue"))
    query = (
        select(*columns)
        .select_from(page)
        .join(Task, Task.id == page.c.id)
        .join(Case, Case.id == Task.case_id)
    )
    if full:
        query = query.join(_AGENCY, _AGENCY.id == Task.agency_id).join(
            _DISCOVERER, _DISCOVERER.id == Case.discoverer_agency_id
        )
    return query.outerjoin(_CLAIMANT, _CLAIMANT.id == Task.claimed_by_id).order_by(
        *_inbox_order(filters)
    )


@dataclass(frozen=True)
class InboxQuery:
    """One page of the inbox as statements built once per shape of the filters (which filters
    are given, the order, the columns), with the parameters to run them with.

    ``rows``: the page's plain rows (:func:`inbox_rows`'s, in the inbox's order; the page is
    chosen on the task index first); ``count``: how many tasks the filters leave;
    ``params``: the values of both (the user's agency, the filters' values, the moment, the
    page's ``limit`` and ``offset``: see :meth:`page`).
    """

    rows: Select[Any]
    count: Select[Any]
    params: dict[str, Any]

    def page(self, number: int, size: int) -> dict[str, Any]:
        """``params`` for page ``number`` (from 1) of ``size`` rows."""
        return {**self.params, "limit": size, "offset": (number - 1) * size}


#: The moment the overdue clauses read, bound (the inbox statements are built once).
_NOW: Any = bindparam("now", type_=UTCDateTime())
#: The LIKE escape character of the keyword search (as SQLAlchemy's ``autoescape`` uses).
_LIKE_ESCAPE = "/"


def _like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` escaped (``contains(autoescape=True)``)."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _bound_search() -> ColumnElement[bool]:
    """:func:`_search` with the pattern bound as ``q`` (:func:`_like_pattern`)."""
    pattern: Any = bindparam("q")
    return or_(*(column.like(pattern, escape=_LIKE_ESCAPE) for column in _SEARCHED))


def inbox_query(
    user: User, filters: InboxFilters, now: datetime, *, full: bool = True,
    case_overdue: bool = False,
) -> InboxQuery:  # fmt: skip
    """The ready tasks of ``user``'s agency narrowed and ordered by ``filters``, one page of
    them as :func:`inbox_rows`: statements built once per shape of ``filters``
    (:class:`InboxQuery`, :func:`_inbox_statements`), for the HTML inbox (``full=False``) and
    the API (``full=True``, ``case_overdue=True``: each row's ``case_overdue`` at ``now``)."""
    officer, params = task_filter_params(user)
    text = keyword(filters.q)
    statements = _inbox_statements(
        officer,
        bool(filters.process),
        bool(filters.district),
        bool(filters.stage),
        filters.overdue,
        bool(text),
        filters.sort,
        filters.order,
        full,
        case_overdue,
    )
    params = {**params, "now": now}
    if filters.process:
        params["process"] = filters.process
    if filters.district:
        params["district"] = filters.district
    if filters.stage:
        params["stage"] = filters.stage
    if text:
        params["q"] = _like_pattern(text)
    return InboxQuery(*statements, params)


@functools.lru_cache(maxsize=256)
def _inbox_statements(
    officer: bool, process: bool, district: bool, stage: bool, late: bool | None, search: bool,
    sort: str, order: str, full: bool, case_overdue: bool,
) -> tuple[Select[Any], Select[Any]]:  # fmt: skip
    """The rows and count statements of :func:`inbox_query` for one shape (built once): the
    ready tasks of the user's agency, narrowed and ordered by the filters.

    The default order (due date, earliest first, none last; then arrival) follows the index
    (``ix_task_inbox_order``), and the case is joined only when a filter, the keyword search or
    the sort needs it. Ties of every other order fall back to the default, so pages never
    shuffle.
    """
    query = select(Task.id).where(bound_task_filter(officer), Task.state == "ready")
    if process or district or search or late is not None or sort in ("unit", "district"):
        query = query.join(Case, Case.id == Task.case_id)
    if district:
        query = query.where(Case.district == bindparam("district"))
    if process:
        query = query.where(Case.process_id == bindparam("process"))
    if stage:
        query = query.where(Task.name == bindparam("stage"))
    if late is not None:
        clause = overdue.task_clause(_NOW)
        query = query.where(clause if late else ~clause)
    if search:
        query = query.where(_bound_search())
    filters = InboxFilters(sort=sort, order=order)
    count = select(func.count()).select_from(query.subquery())
    window = (
        query.order_by(*_inbox_order(filters)).limit(bindparam("limit")).offset(bindparam("offset"))
    )
    rows = inbox_rows(window, filters, full=full, case_overdue_at=_NOW if case_overdue else None)
    return rows, count


def inbox_stages(user: User) -> tuple[Select[str, str, int], dict[str, Any]]:
    """(task name, label, ready tasks) of the steps waiting in ``user``'s inbox, by label: the
    step filter's choices, and summed the inbox's total when no filter narrows it (read from
    ``ix_task_inbox_stages`` alone). The statement (built once) and its parameters."""
    officer, params = task_filter_params(user)
    return _INBOX_STAGES[officer], params


_INBOX_STAGES = {
    officer: select(Task.name, Task.label, func.count())
    .where(bound_task_filter(officer), Task.state == "ready")
    .group_by(Task.name, Task.label)
    .order_by(Task.label)
    for officer in (True, False)
}


def narrowed(filters: InboxFilters) -> bool:
    """Whether ``filters`` leave out some of the inbox's tasks (an order only does not)."""
    return bool(
        filters.process or filters.district or filters.stage or filters.overdue is not None
    ) or bool(keyword(filters.q))


def is_new(task: Any, now: datetime) -> bool:
    """Whether the task (a Task or a plain row with its ``created_at``) arrived within
    :data:`NEW_FOR` of ``now`` (the 新 mark)."""
    created = task.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return now - created < NEW_FOR


def following_tasks(task: Task) -> Select[Any]:
    """The steps that completing ``task`` opened (created in its completion's transaction),
    by due date."""
    return (
        select(Task)
        .where(
            Task.case_id == task.case_id,
            Task.created_at == task.completed_at,
            Task.id != task.id,
        )
        .order_by(Task.due_at, Task.id)
    )


#: The files attached to a case, oldest first, with who uploaded them: built once, the case
#: bound as ``case_id``.
CASE_ATTACHMENTS = (
    select(Attachment)
    .where(Attachment.case_id == bindparam("case_id"))
    .options(selectinload(Attachment.uploaded_by))
    .order_by(Attachment.uploaded_at, Attachment.id)
)
