"""JSON API under /api/v1 (DESIGN.md, "API contract"); described by :mod:`server.openapi`.

API clients authenticate with ``Authorization: Bearer <token>`` only (``POST /api/v1/tokens``
hands one out); a browser session cookie is ignored here, so the blueprint needs no CSRF token.
Which cases, tasks and deadlines a caller sees is decided by :mod:`server.scoping` alone;
anything outside that scope answers 404. Every error is ``{"error", "message", "fields"}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import contains_eager, lazyload
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

from server import operations, queries
from server.admin.legal_settings import save_setting, setting_states
from server.auth import (
    attempt_login,
    bearer_token,
    issue_token,
    load_user_from_bearer,
    revoke_token,
)
from server.case_facts import amended_forms
from server.case_view import case_deadlines, verdict_lines
from server.case_view import case_events as events_of
from server.display import campaign_area_name
from server.due import is_due_soon
from server.engine import get_engine
from server.extensions import csrf, db
from server.models import (
    Agency,
    Attachment,
    Case,
    Deadline,
    Event,
    PublicWarning,
    Task,
    TaskDraft,
    User,
)
from server.overdue import (
    OVERDUE,
    deadline_status,
    overdue_case_ids,
    overdue_task_ids,
    task_columns_overdue,
)
from server.overdue import deadline_clause as overdue_deadline_clause
from server.parsing import MAX_PAGE, JsonTooDeep, loads_json, positive_int
from server.public_warnings import SCOPE_LABELS, board_query, parse_year
from server.scoping import (
    case_filter,
    may_work_on,
    visible_case,
    visible_case_ids,
    warning_filter,
    workable_task,
)
from workflows.calendar import SHANGHAI, CalendarError, WorkingCalendar, parse_year_entry
from workflows.forms import all_task_ids, has_forbidden_chars, resolve_form
from workflows.jurisdiction import DIVISIONS_BY_CODE, division_name

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PREFIX = "/api/v1"

#: Endpoints that answer without a bearer token.
PUBLIC_ENDPOINTS = frozenset({"api.create_token", "api.openapi"})
MAX_PER_PAGE = 100
CASE_STATUSES = ("open", "closed")
DEADLINE_STATES = ("pending", "overdue", "met", "missed")
#: Years the calendar endpoints accept.
MIN_YEAR, MAX_YEAR = 2000, 2100

#: The ``error`` code answered with each status.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_attempts",
    500: "server_error",
}
ERROR_MESSAGES = {
    400: "请求有误",
    401: "请先登录（需要有效的访问令牌）",
    403: "无权执行此操作",
    404: "未找到",
    405: "不支持该请求方法",
    409: "操作冲突，请刷新后重试",
    413: "请求内容过大",
    415: "不支持的请求格式",
    422: "提交的数据有误",
    429: "尝试次数过多，请稍后再试",
    500: "服务器内部错误",
}


class ApiError(Exception):
    """An error answered as JSON with ``status``."""

    def __init__(
        self, status: int, message: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        """:param status: HTTP status; :param message: Chinese text; :param fields: per field."""
        self.status = status
        self.message = message or ERROR_MESSAGES.get(status, "请求失败")
        self.fields = dict(fields or {})
        super().__init__(self.message)


def error_response(status: int, message: str | None = None, fields: dict | None = None) -> Any:
    """The JSON error body with its status (and the headers the status calls for)."""
    body = {
        "error": ERROR_CODES.get(status, "error"),
        "message": message or ERROR_MESSAGES.get(status, "请求失败"),
        "fields": dict(fields or {}),
    }
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="duban"'
    return response


# --- errors, authentication ----------------------------------------------------------------------


@bp.record_once
def _on_register(state: Any) -> None:
    """Exempt the API from CSRF (bearer tokens cannot be sent by a cross-site form)."""
    csrf.exempt(bp)


def _is_api_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@bp.before_app_request
def _routing_errors_as_json() -> Any:
    """Answer JSON when no /api/v1 route matches the URL (404) or the method (405).

    Routing errors happen before a blueprint is known, so the blueprint's own error handlers
    never see them; HTML pages keep whatever handlers the app has.
    """
    exc = request.routing_exception
    if exc is None or not _is_api_path(request.path):
        return None
    if isinstance(exc, MethodNotAllowed):
        response = error_response(405)
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or []))
        return response
    if isinstance(exc, NotFound):
        return error_response(404)
    return None  # redirects and the like: let Flask answer them


@bp.before_request
def _authenticate() -> Any:
    """Require a valid bearer token (a session cookie does not count)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = load_user_from_bearer(request)
    if user is None:
        return error_response(401)
    g.api_user = user
    return None


def caller() -> User:
    """The user of the bearer token of this request."""
    return g.api_user


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    db.session.rollback()
    return error_response(exc.status, exc.message, exc.fields)


@bp.errorhandler(operations.OperationError)
def _operation_error(exc: operations.OperationError) -> Any:
    db.session.rollback()
    return error_response(exc.status, exc.message, exc.fields)


def _http_error(exc: HTTPException) -> Any:
    db.session.rollback()
    status = exc.code or 500
    response = error_response(status)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


# Registered per status code: the app's HTML error pages are registered per code too, and for
# a given code Flask asks the blueprint before the app (a class-based handler would come last).
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


# --- request parsing -----------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _holds_nul(value: Any) -> bool:
    """Whether a JSON value has a NUL character in any of its strings (keys included)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def created(body: Any, location: str | None = None) -> Response:
    """A 201 answer with ``body`` as JSON, and the new resource's address when it has one."""
    response = jsonify(body)
    response.status_code = 201
    if location is not None:
        response.headers["Location"] = location
    return response


def json_body(allowed: Iterable[str], required: Iterable[str] = ()) -> dict[str, Any]:
    """The request body as a JSON object with only ``allowed`` keys and every ``required`` one.

    :raises ApiError: 400 when the body is not JSON or not an object, 422 on bad keys.
    """
    raw = request.get_data(cache=True)  # 413 when longer than MAX_CONTENT_LENGTH
    try:
        body = loads_json(raw.decode("utf-8"), parse_constant=_reject_constant)
    except JsonTooDeep as exc:
        raise ApiError(400, f"请求内容（JSON）{exc}") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        raise ApiError(400, "请求内容不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "请求内容必须是 JSON 对象")
    with_nul = {str(key)[:64]: "含有不允许的控制字符（NUL）" for key, value in body.items()
                if _holds_nul(key) or _holds_nul(value)}  # fmt: skip
    if with_nul:
        raise ApiError(422, "请求内容有误", with_nul)
    allowed = set(allowed)
    fields = {str(key)[:64]: "不支持的字段" for key in body if key not in allowed}
    fields.update({key: "必填" for key in required if key not in body})
    if fields:
        raise ApiError(422, "请求内容有误", fields)
    return body


def _page(value: str) -> int:
    return positive_int(value, MAX_PAGE)


def _per_page(value: str) -> int:
    return positive_int(value, MAX_PER_PAGE)


def _boolean(value: str) -> bool:
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ValueError("应为 true 或 false")


def _one_of(choices: Iterable[str]) -> Callable[[str], str]:
    choices = tuple(choices)

    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError("可选值：" + "、".join(choices))
        return value

    return parse


def _district(value: str) -> str:
    if value not in DIVISIONS_BY_CODE:
        raise ValueError("未知的行政区划代码")
    return value


def _process(value: str) -> str:
    if value not in get_engine().catalog.process_ids():
        raise ValueError("未知的流程")
    return value


def _keyword(value: str) -> str:
    return queries.keyword(value)


def _task_name(value: str) -> str:
    if value not in all_task_ids():
        raise ValueError("未知的办理环节")
    return value


def _agency(value: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == value))
    if agency is None:
        raise ValueError("未知的机构代码")
    return agency


def query_args(**parsers: Callable[[str], Any]) -> dict[str, Any]:
    """Parse the query string: each known name at most once, no unknown names.

    ``page`` and ``per_page`` are always accepted. Missing parameters are ``None``.

    :raises ApiError: 422 with the offending parameters in ``fields``.
    """
    parsers = {"page": _page, "per_page": _per_page, **parsers}
    fields = {str(name)[:64]: "不支持的查询参数" for name in request.args if name not in parsers}
    values: dict[str, Any] = {}
    for name, parse in parsers.items():
        given = request.args.getlist(name)
        if len(given) > 1:
            fields[name] = "该参数只能出现一次"
        elif given and has_forbidden_chars(given[0], multiline=False):  # NUL breaks PostgreSQL
            fields[name] = "含有不允许的控制字符"
        elif given:
            try:
                values[name] = parse(given[0])
            except ValueError as exc:
                fields[name] = str(exc)
        else:
            values[name] = None
    if fields:
        raise ApiError(422, "查询参数有误", fields)
    values["page"] = values["page"] or 1
    values["per_page"] = values["per_page"] or min(
        int(current_app.config.get("PAGE_SIZE", 20)), MAX_PER_PAGE
    )
    return values


def paged(
    query: Select, args: dict[str, Any], serialize: Callable[[list[Any]], list[dict]]
) -> dict[str, Any]:
    """Run one page of ``query`` and answer ``{"items", "page", "per_page", "total"}``.

    :param serialize: turns the page's rows (``query``'s scalars) into items (all at once, so
        that it can look up what the rows need in one query).
    """
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page, per_page = args["page"], args["per_page"]
    found = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique()
    return page_answer(serialize(list(found)), args, total)


def page_answer(items: list[dict], args: dict[str, Any], total: int | None) -> dict[str, Any]:
    """One page's answer: its ``items``, the ``page`` and ``per_page`` asked, the ``total``."""
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total or 0}


# --- serializers ---------------------------------------------------------------------------------


def aware(value: datetime | None) -> datetime | None:
    """A stored datetime as an aware one (SQLite hands back naive values: they are UTC)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in Asia/Shanghai with its offset (``2026-10-09T23:59:59+08:00``), or None."""
    moment = aware(value)
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None


def agency_json(agency: Agency | None) -> dict[str, Any] | None:
    """An agency as clients see it."""
    if agency is None:
        return None
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind,
        "division": agency.division,
    }


def person_json(user: User | None) -> dict[str, str] | None:
    """A user named on a task or an event."""
    return {"username": user.username, "name": user.name} if user is not None else None


def user_json(user: User) -> dict[str, Any]:
    """The caller (GET /me)."""
    return {
        "username": user.username,
        "name": user.name,
        "agency": agency_json(user.agency),
        "roles": user.role_list,
        "can_register": bool(operations.startable_processes(user)),
    }


def case_summary(case: Case, *, overdue: bool | None = None) -> dict[str, Any]:
    """A case as lists show it. ``overdue``: it has an overdue deadline (computed if None)."""
    if overdue is None:
        overdue = case.id in overdue_case_ids([case.id], datetime.now(UTC))
    return _case_summary(case, overdue, agency_json(case.discoverer_agency))


def _case_summary(case: Any, overdue: bool, discoverer: dict[str, Any] | None) -> dict[str, Any]:
    """:func:`case_summary` from ``case``'s columns (a Case or a plain row with its names)."""
    return {
        "id": case.id,
        "number": case.number,
        "case_no": case.case_no,
        "process": case.process_id,
        "process_version": case.process_version,
        "status": case.status,
        "stage": case.stage,
        "district": case.district,
        "district_name": division_name(case.district),
        "unit_name": case.unit_name,
        "address": case.address,
        "discoverer_agency": discoverer,
        "opened_at": iso(case.opened_at),
        "closed_at": iso(case.closed_at),
        "overdue": overdue,
        "needs_attention": case.needs_attention is not None,
        "campaign_area": case.campaign_area,
    }


def classification_json(case: Case) -> dict[str, Any] | None:
    """A hazard's campaign area and responsible department (None for other processes)."""
    if case.process_id != operations.CLASSIFIED_PROCESS:
        return None
    department = case.responsible_department
    return {
        "campaign_area": case.campaign_area,
        "campaign_area_name": campaign_area_name(case.campaign_area),
        "responsible_department": agency_json(department) if department else None,
    }


def case_summaries(cases: list[Case], now: datetime) -> list[dict[str, Any]]:
    """Summaries of several cases, their overdue flags found in one query."""
    late = overdue_case_ids({case.id for case in cases}, now)
    return [case_summary(case, overdue=case.id in late) for case in cases]


def task_json(task: Task, now: datetime | None = None) -> dict[str, Any]:
    """A task with its due date and overdue flags (the inbox row)."""
    now = now or datetime.now(UTC)
    overdue = task.id in overdue_task_ids([task], now)
    return _task_json(task, now, overdue, agency_json(task.agency), person_json(task.claimed_by))


def _task_json(
    task: Any,
    now: datetime,
    overdue: bool,
    agency: dict[str, Any] | None,
    claimed_by: dict[str, str] | None,
    calendar: WorkingCalendar | None = None,
) -> dict[str, Any]:
    """:func:`task_json` from ``task``'s columns (a Task or a plain row with its names)."""
    due = aware(task.due_at)
    calendar = calendar or get_engine().calendar
    due_soon = False
    days_overdue = 0
    if task.state == "ready" and due is not None:
        due_soon = not overdue and is_due_soon(due, now, calendar)
        days_overdue = calendar.working_days_between(due, now) if overdue else 0
    return {
        "id": task.id,
        "name": task.name,
        "label": task.label,
        "lane": task.lane,
        "state": task.state,
        "agency": agency,
        "case_id": task.case_id,
        "created_at": iso(task.created_at),
        "new": task.state == "ready" and queries.is_new(task, now),
        "due_at": iso(due),
        "overdue": overdue,
        "working_days_overdue": days_overdue,
        "due_soon": due_soon,
        "claimed_by": claimed_by,
        "claimed_at": iso(task.claimed_at),
        "completed_at": iso(task.completed_at),
    }


def deadline_json(deadline: Deadline, now: datetime | None = None) -> dict[str, Any]:
    """A statutory deadline of a case."""
    now = now or datetime.now(UTC)
    due = aware(deadline.due_at)
    status = deadline_status(
        deadline.state, due, deadline.met_at, deadline.case.status == "open", now
    )
    return {
        "id": deadline.id,
        "case_id": deadline.case_id,
        "timer": deadline.timer,
        "label": deadline.label,
        "guards": deadline.guards,
        "task_id": deadline.task_id,
        "agency": agency_json(deadline.agency),
        "due_at": iso(due),
        "provisional": deadline.provisional,
        "state": deadline.state,
        "status": status,
        "overdue": status == OVERDUE,
        "met_at": iso(deadline.met_at),
        "missed_at": iso(deadline.missed_at),
    }


def event_json(event: Event) -> dict[str, Any]:
    """An audit event with its place in the hash chain."""
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": iso(event.at),
        "actor": person_json(event.actor),
        "agency": agency_json(event.agency),
        "task": event.task_name,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def timeline_json(event: Event) -> dict[str, Any]:
    """An audit event as a line of the case's timeline (form data left to /events)."""
    data = event.data if isinstance(event.data, dict) else {}
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": iso(event.at),
        "actor": person_json(event.actor),
        "agency": agency_json(event.agency),
        "task": event.task_name,
        "label": data.get("label"),
    }


def case_detail(user: User, case: Case) -> dict[str, Any]:
    """A case with its open tasks, deadlines and timeline."""
    now = datetime.now(UTC)
    tasks = db.session.scalars(_READY_TASKS, {"case_id": case.id}).all()
    deadlines = [deadline_json(d, now) for d in case_deadlines(case)]
    events = events_of(case)
    verdict = next(
        (
            e.data["result"]
            for e in events
            if e.kind == "task_completed"
            and isinstance(e.data, dict)
            and isinstance(e.data.get("result"), dict)
            and e.data["result"]
        ),
        None,
    )
    return {
        **case_summary(case, overdue=any(d["overdue"] for d in deadlines)),
        # the decisions taken at registration (GB 35181: judgement_edition names the edition
        # used, judgement_applicable_edition the one in force), with the lines the page shows
        "verdict": None if verdict is None else verdict_json(verdict),
        "classification": classification_json(case),
        "tasks": [{**task_json(t, now), "workable": may_work_on(user, t)} for t in tasks],
        "deadlines": deadlines,
        "timeline": [timeline_json(e) for e in events],
    }


# :func:`case_detail`'s open tasks, built once (building a statement per request cost more
# than running it); the case is at hand, not joined again.
_READY_TASKS = (
    select(Task)
    .where(Task.case_id == bindparam("case_id"), Task.state == "ready")
    .options(lazyload(Task.case))
    .order_by(Task.created_at, Task.id)
)


def last_submission(task: Task) -> dict[str, Any] | None:
    """The form data last submitted for this task's form in its case (by this task, when it
    is completed; by an earlier round of a loop, when it is open), or None."""
    query = select(Event).where(
        Event.case_id == task.case_id,
        Event.kind == "task_completed",
        Event.task_name == task.name,
    )
    if task.completed_at is not None:  # its own submission, not a later round's
        query = query.where(Event.at <= task.completed_at)
    event = db.session.scalar(query.order_by(Event.seq.desc()).limit(1))
    form = event.data.get("form") if event is not None and isinstance(event.data, dict) else None
    if event is None or not isinstance(form, dict):
        return None
    # as amended by the corrections (更正) of the documents it issued
    corrections = db.session.scalars(
        select(Event)
        .where(
            Event.case_id == task.case_id,
            Event.kind == "document_voided",
            Event.seq > event.seq,
        )
        .order_by(Event.seq)
    ).all()
    return amended_forms([event, *corrections]).get(event.seq, form)


# --- tokens and the caller -----------------------------------------------------------------------


@bp.post("/tokens")
def create_token() -> Any:
    """Exchange a username and password for a bearer token."""
    body = json_body(("username", "password"), ("username", "password"))
    username, password = body["username"], body["password"]
    fields = {k: "应为文字" for k in ("username", "password") if not isinstance(body[k], str)}
    if fields:
        raise ApiError(422, "请求内容有误", fields)
    outcome = attempt_login(username, password, via="api")
    if outcome.locked_until is not None:
        response = error_response(429, outcome.message)
        wait = (outcome.locked_until - datetime.now(UTC)).total_seconds()
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    if outcome.user is None:
        raise ApiError(401, outcome.message)
    token, expires = issue_token(outcome.user)
    return jsonify({"token": token, "expires_at": iso(expires)}), 201


@bp.delete("/tokens")
def delete_token() -> Any:
    """Revoke the bearer token of this request."""
    token = bearer_token(request.headers)
    if token:
        revoke_token(token)
    return Response(status=204)


@bp.get("/me")
def me() -> Any:
    """The caller, their agency and roles."""
    return jsonify(user_json(caller()))


@bp.get("/me/mail")
def get_my_mail() -> Any:
    """The caller's e-mail address and whether their messages are sent there."""
    from server.mail import preferences_json

    return jsonify(preferences_json(caller()))


@bp.put("/me/mail")
def put_my_mail() -> Any:
    """Set the caller's e-mail address (``null``: none) and choice (the /account form's twin)."""
    from server.mail import preferences_json, set_mail_preferences

    user = caller()
    body = json_body(("email", "mail_enabled"), required=("email", "mail_enabled"))
    fields = {}
    if body["email"] is not None and not isinstance(body["email"], str):
        fields["email"] = "应为文字或 null"
    if not isinstance(body["mail_enabled"], bool):
        fields["mail_enabled"] = "应为 true 或 false"
    if fields:
        raise ApiError(422, "请求内容有误", fields)
    errors = set_mail_preferences(user, body["email"], body["mail_enabled"])
    if errors:
        db.session.rollback()
        raise ApiError(422, next(iter(errors.values())), errors)
    db.session.commit()
    return jsonify(preferences_json(user))


# --- processes and cases -------------------------------------------------------------------------


@bp.get("/processes")
def processes() -> Any:
    """Processes the caller may start, with the schema of their start form."""
    user = caller()
    engine = get_engine()
    options = operations.form_options()
    items = []
    for process_id in operations.startable_processes(user):
        process = engine.catalog.latest(process_id)
        form = operations.start_form(process_id)
        items.append(
            {
                "id": process_id,
                "name": process.name,
                "version": process.version,
                "start_task": form,
                "form": resolve_form(form, options),
            }
        )
    return jsonify({"items": items})


def verdict_json(verdict: dict[str, Any]) -> dict[str, Any]:
    """Registration decisions with the lines (label, value, basis) the pages show."""
    lines = [{"label": v.label, "value": v.value, "basis": v.basis} for v in verdict_lines(verdict)]
    return {**verdict, "lines": lines}


def _registration_body() -> tuple[str, dict[str, Any]]:
    body = json_body(("process", "data"), ("process", "data"))
    if not isinstance(body["process"], str):
        raise ApiError(422, "请求内容有误", {"process": "应为流程标识"})
    if not isinstance(body["data"], dict):
        raise ApiError(422, "表单数据有误", {"data": "表单数据必须是由字段和值组成的对象"})
    return body["process"], body["data"]


@bp.post("/cases/preview")
def preview_case() -> Any:
    """The decisions a registration would record (GB 35181 judgement naming its edition, or a
    fire's grading), without opening a case."""
    process, data = _registration_body()
    return jsonify(
        {"verdict": verdict_json(operations.preview_registration(caller(), process, data))}
    )


@bp.post("/cases")
def create_case() -> Any:
    """Register a hazard: start a process with its start form's data."""
    process, data = _registration_body()
    user = caller()
    case = operations.start_case(user, process, data)
    return created(case_detail(user, case), url_for("api.get_case", case_id=case.id))


@bp.get("/cases")
def list_cases() -> Any:
    """The cases the caller may see, newest first (:func:`server.queries.case_list`)."""
    user = caller()
    args = query_args(
        status=_one_of(CASE_STATUSES),
        district=_district,
        process=_process,
        overdue=_boolean,
        q=_keyword,
    )
    now = datetime.now(UTC)
    filters = queries.CaseFilters(
        status=args["status"] or "",
        district=args["district"] or "",
        process=args["process"] or "",
        overdue=args["overdue"],
        q=args["q"] or "",
    )
    query = queries.case_list(user, filters, now)
    return jsonify(paged(query, args, lambda cases: case_summaries(cases, now)))


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int) -> Any:
    """A case with its open tasks, deadlines and timeline."""
    user = caller()
    return jsonify(case_detail(user, visible_case(user, case_id)))


@bp.put("/cases/<int:case_id>/classification")
def reclassify_case(case_id: int) -> Any:
    """Correct a hazard's campaign area and responsible department (supervisors only; others
    get 404); recorded on the case's chain unless nothing changed."""
    user = caller()
    if not user.has_role("supervisor"):
        raise ApiError(404)
    case = visible_case(user, case_id)
    fields = ("campaign_area", "responsible_department", "reason")
    body = json_body(fields, required=fields)
    operations.reclassify_case(
        user, case, body["campaign_area"], body["responsible_department"], body["reason"]
    )
    return jsonify(classification_json(visible_case(user, case_id)))


@bp.get("/cases/<int:case_id>/events")
def case_events(case_id: int) -> Any:
    """The audit events of a case in chain order, with their hashes."""
    case = visible_case(caller(), case_id)
    events = db.session.scalars(
        select(Event).where(Event.case_id == case.id).order_by(Event.seq)
    ).all()
    return jsonify({"items": [event_json(e) for e in events]})


@bp.post("/cases/<int:case_id>/dossier.pdf")
def case_dossier(case_id: int) -> Any:
    """The case dossier as PDF (auditors and supervisors; others 404). Printing is audited, so
    it is a POST (a GET answers 405)."""
    from server.dossier import may_print_dossier, pdf_response, print_dossier

    user = caller()
    if not may_print_dossier(user):
        raise ApiError(404)
    return pdf_response(print_dossier(user, visible_case(user, case_id)))


def document_json(document: Any) -> dict[str, Any]:
    """An issued document as the API lists it."""
    return {
        "id": document.id,
        "kind": document.kind,
        "title": document.title,
        "number": document.number,
        "issued_at": iso(document.issued_at),
        "issuer": agency_json(document.agency),
        "issued_by": person_json(document.issued_by),
        "task": document.task_name,
        "void": document.void,
        "void_reason": document.void_reason,
        "voided_at": iso(document.voided_at) if document.voided_at else None,
        "voided_by": person_json(document.voided_by) if document.voided_by else None,
        "replaced_by": document.replaced_by_id,
        "replaced_by_number": document.replaced_by.number if document.replaced_by else None,
        "sha256": document.sha256,
        "url": url_for("api.case_document_pdf", case_id=document.case_id, document_id=document.id),
    }


@bp.get("/cases/<int:case_id>/documents")
def case_documents(case_id: int) -> Any:
    """The official documents issued in a case, in the order they were issued."""
    from server.documents import case_documents as documents_of

    case = visible_case(caller(), case_id)
    return jsonify({"items": [document_json(d) for d in documents_of(case)]})


@bp.get("/cases/<int:case_id>/documents/<int:document_id>.pdf")
def case_document_pdf(case_id: int, document_id: int) -> Any:
    """An issued document's PDF (re-hashed first: a changed file answers 409)."""
    from server.documents import document_response, find_document

    case = visible_case(caller(), case_id)
    document = find_document(case, document_id)
    if document is None:
        raise ApiError(404)
    return document_response(document)


@bp.post("/cases/<int:case_id>/documents/<int:document_id>/print")
def case_document_print(case_id: int, document_id: int) -> Any:
    """Print a document: the stored PDF with a print mark, recorded as ``document_printed`` in
    the case's chain (a POST: it writes an audit event). A void document answers 409."""
    from server.documents import find_document, pdf_response
    from server.documents.printing import print_document

    user = caller()
    document = find_document(visible_case(user, case_id), document_id)
    if document is None:
        raise ApiError(404)
    printed = print_document(user, document)
    response = pdf_response(
        printed.pdf,
        f"{document.title}（{document.number}）打印件{printed.count}.pdf",
        f"document-{document.id}-print-{printed.count}.pdf",
        inline=True,
    )
    response.headers["X-Print-Count"] = str(printed.count)
    return response


@bp.post("/cases/<int:case_id>/documents/<int:document_id>/correction")
def case_document_correction(case_id: int, document_id: int) -> Any:
    """Correct (更正) an issued document: ``{"fields": {...}, "reason": "..."}``. The old one is
    voided (keeping its number), a new one issued with the next number: 201 with it. Officers
    of the issuing agency only (others 404); 409 when void already; 422 naming a bad field."""
    from server.documents.correction import correct_document
    from server.scoping import correctable_document

    user = caller()
    document = correctable_document(user, case_id, document_id)
    body = json_body(("fields", "reason"), ("reason",))
    replacement = correct_document(user, document, body.get("fields", {}), body["reason"])
    return jsonify(document_json(replacement)), 201


# --- tasks ---------------------------------------------------------------------------------------


@bp.get("/inbox")
def inbox() -> Any:
    """Ready tasks of the caller's agency, earliest due first (no due date last), or in the
    order asked; searched and filtered (:func:`server.queries.inbox_query`, as the HTML inbox)."""
    user = caller()
    args = query_args(
        process=_process,
        district=_district,
        stage=_task_name,
        overdue=_boolean,
        q=_keyword,
        sort=_one_of(queries.INBOX_SORTS),
        order=_one_of(queries.ORDERS),
    )
    now = datetime.now(UTC)
    filters = queries.InboxFilters(
        process=args["process"] or "",
        district=args["district"] or "",
        stage=args["stage"] or "",
        overdue=args["overdue"],
        q=args["q"] or "",
        sort=args["sort"] or "due",
        order=args["order"] or "asc",
    )
    # :func:`paged` with the inbox's statements built once (their parameters bound)
    inbox = queries.inbox_query(user, filters, now, full=True, case_overdue=True)
    page, per_page = args["page"], args["per_page"]
    total = db.session.connection().execute(inbox.count, inbox.params).scalar()
    # plain columns (queries.inbox_row_parts): on the connection, without the ORM's execution
    rows = db.session.connection().execute(inbox.rows, inbox.page(page, per_page)).all()
    return jsonify(page_answer(inbox_items(list(rows), now), args, total))


def inbox_items(rows: list[Any], now: datetime) -> list[dict[str, Any]]:
    """The API's inbox items (:func:`task_json` with its ``case`` summary) of plain inbox rows
    (:func:`server.queries.inbox_rows` with ``full`` and ``case_overdue_at=now``)."""
    agencies: dict[str, dict[str, Any] | None] = {}
    calendar = get_engine().calendar

    def agency(found: Any) -> dict[str, Any] | None:
        if found.code not in agencies:
            agencies[found.code] = agency_json(found)
        return agencies[found.code]

    items = []
    for row in rows:
        task, case, claimant, task_agency, discoverer, case_overdue = queries.inbox_row_parts(row)
        overdue = task_columns_overdue(task.state, task.due_at, case.status, now)
        person = None if claimant.username is None else person_json(claimant)
        item = _task_json(task, now, overdue, agency(task_agency), person, calendar)
        item["case"] = _case_summary(case, bool(case_overdue), agency(discoverer))
        items.append(item)
    return items


@bp.get("/tasks/<task_id>")
def get_task(task_id: str) -> Any:
    """A task the caller may work on, with its form schema, the case summary and the documents
    the step decides on (their text as issued)."""
    from server.documents import issued_text, shown_documents

    task = workable_task(caller(), task_id)
    documents = [
        {**document_json(d), "text": text.to_json() if (text := issued_text(d)) else None}
        for d in shown_documents(task)
    ]
    return jsonify(
        {
            **task_json(task),
            "form": operations.task_form(task),
            "data": last_submission(task),
            "case": case_summary(task.case),
            "documents": documents,
        }
    )


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str) -> Any:
    """Take a task so that colleagues see who works on it."""
    user = caller()
    task = workable_task(user, task_id)
    operations.claim_task(user, task)
    return jsonify(task_json(task))


@bp.post("/tasks/<task_id>/release")
def release_task(task_id: str) -> Any:
    """Give a claimed task back to the agency."""
    user = caller()
    task = workable_task(user, task_id)
    operations.release_task(user, task)
    return jsonify(task_json(task))


@bp.post("/tasks/claim")
def claim_tasks() -> Any:
    """Claim several tasks at once (``{"tasks": [id, ...]}``), all or nothing: 200 with the
    claimed tasks; 404 if one is not the caller's agency's; 409 naming the tasks done or
    claimed by a colleague meanwhile (then none is claimed)."""
    user = caller()
    body = json_body(("tasks",), ("tasks",))
    ids = body["tasks"]
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and i for i in ids)
        or len(ids) > operations.MAX_BULK_CLAIM
    ):
        raise ApiError(
            422,
            "请求内容有误",
            {"tasks": f"应为 1 至 {operations.MAX_BULK_CLAIM} 个任务标识组成的列表"},
        )
    tasks = [workable_task(user, task_id) for task_id in dict.fromkeys(ids)]
    operations.claim_tasks(user, tasks)
    return jsonify({"items": [task_json(t) for t in tasks]})


@bp.post("/tasks/<task_id>/reassign")
def reassign_task(task_id: str) -> Any:
    """转办: give a task the caller claimed to a colleague of the same agency
    (``{"to": username}``): 200 with the task; 404 for a colleague of another agency (or none);
    409 when the task is not claimed by the caller or no longer ready."""
    user = caller()
    task = workable_task(user, task_id)
    body = json_body(("to",), ("to",))
    if not isinstance(body["to"], str) or not body["to"].strip():
        raise ApiError(422, "请求内容有误", {"to": "应为同事的用户名"})
    colleague = db.session.scalar(select(User).where(User.username == body["to"].strip()))
    operations.reassign_task(user, task, colleague)
    return jsonify(task_json(task))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> Any:
    """Complete a task with its form data; answers the case's version, status and stage, the
    steps the completion opened and the case's deadlines (the full case: GET /cases/{id})."""
    user = caller()
    task = workable_task(user, task_id, with_case=False)
    body = json_body(("data", "late_reason"), ("data",))
    if not isinstance(body["data"], dict):
        raise ApiError(422, "表单数据有误", {"data": "表单数据必须是由字段和值组成的对象"})
    done = operations.complete_task(
        user, task, body["data"], late_reason=body.get("late_reason"), require_late_reason=True
    )
    return jsonify(completion_json(done))


def completion_json(done: operations.Completion) -> dict[str, Any]:
    """The answer to a completion, small (the full case stays on ``GET /cases/{id}``): the
    case's version, status and stage, the steps it opened and its deadlines, from the rows the
    completion just wrote and the agencies they name (read by the completion's transaction)."""
    case = done.case
    agencies: dict[int | None, dict[str, str]] = {
        agency_id: {"code": code, "name": name} for agency_id, (code, name) in done.agencies.items()
    }

    def by_due(row: Task | Deadline) -> tuple[bool, datetime, Any]:
        due = aware(row.due_at)
        return (due is None, due or datetime.min.replace(tzinfo=UTC), row.id)

    now, is_open = datetime.now(UTC), case.status == "open"
    return {
        "id": case.id,
        "number": case.number,
        "version": case.row_version,
        "status": case.status,
        "stage": case.stage,
        "next_tasks": [
            {
                "id": t.id,
                "name": t.name,
                "label": t.label,
                "agency": agencies.get(t.agency_id),
                "due_at": iso(t.due_at),
            }
            for t in sorted(done.opened, key=by_due)
        ],
        "deadlines": [
            {
                "id": d.id,
                "timer": d.timer,
                "label": d.label,
                "task_id": d.task_id,
                "agency": agencies.get(d.agency_id),
                "due_at": iso(d.due_at),
                "provisional": d.provisional,
                "state": d.state,
                "status": (
                    status := deadline_status(d.state, aware(d.due_at), d.met_at, is_open, now)
                ),
                "overdue": status == OVERDUE,
            }
            for d in sorted(done.deadlines, key=by_due)
        ],
    }


# --- drafts of task forms ------------------------------------------------------------------------


def draft_json(draft: TaskDraft) -> dict[str, Any]:
    """A saved draft of a task form."""
    return {
        "task_id": draft.task_id,
        "data": draft.data,
        "late_reason": draft.late_reason,
        "saved_at": iso(draft.saved_at),
    }


@bp.get("/tasks/<task_id>/draft")
def get_draft(task_id: str) -> Any:
    """The caller's draft of a task form (404 when there is none)."""
    user = caller()
    task = workable_task(user, task_id)
    draft = db.session.get(TaskDraft, (task.id, user.id))
    if draft is None:
        raise ApiError(404, "该任务没有保存的草稿")
    return jsonify(draft_json(draft))


@bp.put("/tasks/<task_id>/draft")
def put_draft(task_id: str) -> Any:
    """Save (replace) the caller's draft of a task form: not validated."""
    user = caller()
    task = workable_task(user, task_id, with_case=False)
    body = json_body(("data", "late_reason"), ("data",))
    draft = operations.save_draft(user, task, body["data"], body.get("late_reason"))
    return jsonify(draft_json(draft))


@bp.delete("/tasks/<task_id>/draft")
def delete_draft(task_id: str) -> Any:
    """Discard the caller's draft of a task form (404 when there is none)."""
    user = caller()
    task = workable_task(user, task_id)
    if not operations.delete_draft(user, task):
        raise ApiError(404, "该任务没有保存的草稿")
    return Response(status=204)


# --- attachments ---------------------------------------------------------------------------------


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """A file attached to a case."""
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "mime": attachment.mime,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": person_json(attachment.uploaded_by),
        "uploaded_at": iso(attachment.uploaded_at),
        "url": url_for(
            "api.get_attachment", case_id=attachment.case_id, attachment_id=attachment.id
        ),
    }


@bp.get("/cases/<int:case_id>/attachments")
def list_attachments(case_id: int) -> Any:
    """The files attached to a visible case, oldest first."""
    case = visible_case(caller(), case_id)
    found = db.session.scalars(queries.CASE_ATTACHMENTS, {"case_id": case.id}).all()
    return jsonify({"items": [attachment_json(a) for a in found]})


@bp.post("/cases/<int:case_id>/attachments")
def upload_attachments(case_id: int) -> Any:
    """Attach files (multipart ``file``, one or more) to a case: officers of the agencies that
    see it; each file is recorded in the case's chain."""
    from server.attachments import MAX_FILES, add_attachments, check_upload

    user = caller()
    case = visible_case(user, case_id)
    if not user.has_role("officer"):
        raise ApiError(404)
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "请以 multipart/form-data 上传文件（字段 file）")
    files = [f for f in request.files.getlist("file") if f.filename]
    if not files:
        raise ApiError(422, "请选择要上传的文件", {"file": "请选择要上传的文件"})
    if len(files) > MAX_FILES:
        raise ApiError(422, "文件过多", {"file": f"一次最多上传{MAX_FILES}个文件"})
    uploads = [check_upload(f) for f in files]
    attachments = add_attachments(user, case, uploads)
    return created({"items": [attachment_json(a) for a in attachments]})


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
def get_attachment(case_id: int, attachment_id: int) -> Any:
    """An attachment's bytes as uploaded (re-hashed: a file changed on disk answers 409)."""
    from server.attachments import content_disposition, verified_content

    case = visible_case(caller(), case_id)
    attachment = db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    )
    if attachment is None:
        raise ApiError(404)
    response = Response(verified_content(attachment), mimetype=attachment.mime)
    response.headers["Content-Disposition"] = content_disposition(attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- deadlines -----------------------------------------------------------------------------------


@bp.get("/deadlines")
def deadlines() -> Any:
    """Deadlines of the cases the caller may see, earliest first."""
    user = caller()
    args = query_args(state=_one_of(DEADLINE_STATES), agency=_agency, district=_district)
    now = datetime.now(UTC)
    query = (
        select(Deadline)
        .join(Deadline.case)
        .options(contains_eager(Deadline.case))
        .where(case_filter(user))
    )
    state = args["state"]
    if state == "overdue":
        query = query.where(overdue_deadline_clause(now))
    elif state:
        query = query.where(Deadline.state == state)
    if args["agency"] is not None:
        query = query.where(Deadline.agency_id == args["agency"].id)
    if args["district"]:
        query = query.where(Case.district == args["district"])
    query = query.order_by(Deadline.due_at, Deadline.id)

    def rows(found: list[Deadline]) -> list[dict[str, Any]]:
        cases = case_summaries([d.case for d in found], now)
        return [{**deadline_json(d, now), "case": c} for d, c in zip(found, cases, strict=True)]

    return jsonify(paged(query, args, rows))


# --- calendar ------------------------------------------------------------------------------------


@bp.get("/warnings")
def warnings() -> Any:
    """Published warnings the caller may read (server.scoping.warning_filter), newest first."""
    args = query_args(scope=_one_of(SCOPE_LABELS), year=parse_year)
    user = caller()
    query = board_query(args["scope"], args["year"]).where(warning_filter(user))

    def rows(found: list[PublicWarning]) -> list[dict[str, Any]]:
        visible = visible_case_ids(user, (w.case_id for w in found))
        return [
            {
                "id": w.id,
                "scope": w.scope,
                "scope_label": SCOPE_LABELS[w.scope],
                "district": w.district,
                "fire_level": w.fire_level,
                "title": w.title,
                "text": w.text,
                "published_on": w.published_on,
                "province_report": w.province_report,
                "publisher": agency_json(w.publisher_agency),
                "case_id": w.case_id if w.case_id in visible else None,
            }
            for w in found
        ]

    return jsonify(paged(query, args, rows))


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ApiError(422, "年份超出范围", {"year": f"应为{MIN_YEAR}至{MAX_YEAR}之间的年份"})


@bp.get("/calendar/<int:year>")
def get_calendar(year: int) -> Any:
    """Holidays and make-up working days of a year, and where they come from."""
    _check_year(year)
    return jsonify(get_engine().calendar.year_summary(year))


@bp.put("/calendar/<int:year>")
def put_calendar(year: int) -> Any:
    """Enter a year's official schedule (administrators only; others get 404)."""
    user = caller()
    if not user.has_role("admin"):
        raise ApiError(404)
    _check_year(year)
    body = json_body(("holidays", "workdays", "year"))
    for name in ("holidays", "workdays"):
        if name in body and not isinstance(body[name], list):  # null too: the schema says array
            message = "日历数据有误：应为由日期（YYYY-MM-DD）组成的列表"
            raise ApiError(422, message, {name: message})
    try:
        parse_year_entry(body, year=year)  # checked here to name the field in the 422
    except CalendarError as exc:
        field = next((k for k in ("holidays", "workdays", "year") if str(exc).startswith(k)), None)
        message = f"日历数据有误：{exc}"
        raise ApiError(422, message, {field: message} if field else {}) from None
    recomputed = operations.save_calendar_year(
        user, year, {"holidays": body.get("holidays", []), "workdays": body.get("workdays", [])}
    )
    return jsonify({**get_engine().calendar.year_summary(year), "recomputed": recomputed})


# --- legal settings ------------------------------------------------------------------------------


@bp.get("/settings")
def list_settings() -> Any:
    """The legal settings (administrator data with documented defaults) and their values."""
    return jsonify({"items": [state.as_json() for state in setting_states()]})


@bp.put("/settings/<key>")
def put_setting(key: str) -> Any:
    """Set one legal setting, or back to its default with ``null`` (administrators only;
    others get 404)."""
    user = caller()
    if not user.has_role("admin"):
        raise ApiError(404)
    body = json_body(("value",), required=("value",))
    return jsonify(save_setting(user, key, body["value"]).as_json())


# --- the description -----------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API (public)."""
    from server.openapi import build_spec

    return jsonify(build_spec())


# The auditors' batch exports, the follow-ups and the messages live in their own modules, on
# this blueprint.
import server.api_exports  # noqa: E402
import server.api_messages  # noqa: E402, F401

# Users, agencies and contact lists for administrators: routes on this blueprint.
from server.admin import directory_api  # noqa: E402, F401

# --- 两个清单 (server/reports_lists.py) -----------------------------------------------------------


def _list_filters() -> Any:
    from server import reports_lists

    filters, errors = reports_lists.check_filters(caller(), request.args)
    if errors:
        raise ApiError(422, "查询参数有误", errors)
    return filters


@bp.get("/reports/lists/<which>")
def report_list(which: str) -> Any:
    """One page of the problem-hazard or rectification-responsibility list (scoped)."""
    from server import reports_lists

    if which not in reports_lists.LISTS:
        raise ApiError(404)
    args = query_args(**{name: str for name in reports_lists.FILTER_NAMES})
    user = caller()
    filters = _list_filters()
    total = reports_lists.count(user, filters)
    offset = (args["page"] - 1) * args["per_page"]
    rows = reports_lists.list_rows(user, which, filters, limit=args["per_page"], offset=offset)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, date):
                row[key] = value.isoformat()
    return jsonify(
        {"items": rows, "page": args["page"], "per_page": args["per_page"], "total": total}
    )


@bp.get("/reports/lists.xlsx")
def report_lists_xlsx() -> Any:
    """Both lists (every row the caller may see, filtered) as one .xlsx workbook."""
    from server import reports_lists
    from server.views.reports import xlsx_response

    query_args(**{name: str for name in reports_lists.FILTER_NAMES})
    return xlsx_response(
        reports_lists.workbook(caller(), _list_filters(), operations.today_shanghai())
    )


# --- the reports' submissions (server/report_cases.py) ------------------------------------------


def _report_statuses(reports: list[Any]) -> dict[int, Any]:
    from server import report_cases

    now = datetime.now(UTC)
    deadlines = report_cases.deadlines_by_case([r.case_id for r in reports])
    return {r.id: report_cases.status_of(r, deadlines[r.case_id], now) for r in reports}


@bp.get("/reports/submissions")
def report_submissions() -> Any:
    """The reports of a period the caller may see (default: last month's monthly reports),
    with their stage and lateness; for monthly reports the consolidated table."""
    from server import report_cases

    query_args(kind=str, period=str)
    kind, period, errors = report_cases.parse_filters(request.args, operations.today_shanghai())
    if errors:
        raise ApiError(422, "查询参数有误", errors)
    reports = report_cases.visible_reports(caller(), kind, period)
    statuses = _report_statuses(reports)
    consolidated = report_cases.consolidated(reports) if kind == "monthly" and reports else []
    return jsonify(
        {
            "kind": kind,
            "period": period,
            "items": [report_cases.report_json(r, statuses[r.id]) for r in reports],
            "consolidated": [{"name": name, "values": values} for name, values in consolidated],
        }
    )


@bp.get("/reports/submissions/<int:report_id>")
def report_submission(report_id: int) -> Any:
    """One report with its frozen figures and its remarks."""
    from server import report_cases

    report = report_cases.visible_report(caller(), report_id)
    status = _report_statuses([report])[report.id]
    return jsonify(report_cases.report_json(report, status, full=True))


@bp.get("/reports/submissions/<int:report_id>.xlsx")
def report_submission_xlsx(report_id: int) -> Any:
    """One report's tables as .xlsx."""
    from server import report_cases
    from server.views.reports import XLSX, _download

    report = report_cases.visible_report(caller(), report_id)
    return _download(
        report_cases.report_workbook(report),
        f"{report_cases.title(report)}.xlsx",
        XLSX,
        f"report-{report.id}.xlsx",
    )


@bp.get("/reports/submissions/<int:report_id>.pdf")
def report_submission_pdf(report_id: int) -> Any:
    """An annual report as PDF with its tables attached (404 for a monthly report)."""
    from server import report_cases
    from server.views.reports import _download

    report = report_cases.visible_report(caller(), report_id)
    return _download(
        report_cases.report_pdf(report),
        f"{report_cases.title(report)}.pdf",
        "application/pdf",
        f"report-{report.id}.pdf",
    )


@bp.post("/reports/submissions/<int:report_id>/refresh")
def refresh_report_submission(report_id: int) -> Any:
    """The reporting office recomputes its draft's figures (403 for others, 409 once
    submitted)."""
    from server import report_cases

    user = caller()
    report = report_cases.visible_report(user, report_id)
    report = report_cases.refresh_report(user, report)
    status = _report_statuses([report])[report.id]
    return jsonify(report_cases.report_json(report, status, full=True))
