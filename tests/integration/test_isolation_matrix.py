"""The isolation matrix: every route of the app × every role × every agency relation to a case.

Every rule of ``app.url_map`` must be classified in :data:`ROUTES` (a new route fails
:func:`test_every_route_is_classified` until it is added), and every operation of
``/api/v1/openapi.json`` must be one of them. Each classified route is requested by a matrix
user of each role in each agency relation to each target case (same agency, another agency of
the same district, another district, city level; plus an anonymous caller), and the status must
be the one the declarative tables below give — they are written from the access rules, not
from running the code. List pages, CSV exports, JSON lists, notifications and batch exports
must never contain a case the user may not see.

The figures (cells checked) are printed by ``test_matrix_figures``:
``.venv/bin/python -m pytest tests/integration/test_isolation_matrix.py -s -k figures`` (run
the whole module to see how many cells were actually requested, too).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import Auth, Databases, csrf_token
from .security_world import (
    RELATIONS,
    ROLES,
    World,
    WorldCase,
    matrix_user,
    module_world,
)

# --------------------------------------------------------------------------- the tables

#: Which relations of a user's agency to a case let each role see the case (server/scoping.py
#: promises this; the matrix checks it): officers their own agency's cases, supervisors and
#: auditors their district (or the whole city from a city-level agency), administrators all.
VISIBLE = {
    "officer": {"same"},
    "supervisor": {"same", "same_district", "city"},
    "auditor": {"same", "same_district", "city"},
    "admin": set(RELATIONS),
}
#: The cases whose tasks routes act on (the matrix users are never the claimer: a colleague
#: claimed A1's and B1's tasks, so an allowed claim, release or completion answers a conflict
#: and nothing changes).
TARGETS = ("A1", "B1")
ANY = None  # any signed-in user


@dataclass(frozen=True)
class Route:
    """How one (endpoint, method) answers.

    :param paths: URL templates to request ({case}, {task}, {attachment}, {notification},
        {job}, {kind} are filled in).
    :param roles: roles that pass the role gate (``ANY``: any signed-in user).
    :param scope: ``none`` (not about a case), ``case`` (a visible case), ``task`` (a task of
        the user's agency), ``issuer`` (a document its agency issued), ``foreign`` (another
        user's object: always hidden), ``agency`` (the contact list of :data:`CONTACTS_OF`:
        its own users, supervisors whose jurisdiction holds it, administrators).
    :param ok: status when the user passes role and scope.
    :param ok_for: ``ok`` for a target case whose own facts answer otherwise (A1's document is
        a bare row over an upload: no issuing step to correct, no PDF page to print).
    :param denied: status for a signed-in user without the role.
    :param hidden: status when the case or task is out of scope.
    :param anonymous: status without login (HTML) or token (API); None: 302 resp. 401.
    :param body: form fields (HTML, a CSRF token is added) or the JSON body (API).
    :param lists: ``visible`` (must list exactly the visible cases), ``tasks`` (exactly the
        cases with a task of the user's agency), ``hidden`` (must not list an invisible case).
    """

    paths: tuple[str, ...]
    roles: tuple[str, ...] | None = ANY
    scope: str = "none"
    ok: int = 200
    ok_for: dict[str, int] | None = None
    denied: int = 404
    hidden: int = 404
    anonymous: int | None = None
    body: dict[str, Any] | None = None
    lists: str | None = None


def R(*paths: str, **kwargs: Any) -> Route:
    """Shorthand for :class:`Route`."""
    return Route(paths, **kwargs)


OFFICER, SUPERVISOR, AUDITOR, ADMIN = ("officer",), ("supervisor",), ("auditor",), ("admin",)
#: The agency whose contact list the ``agency``-scoped routes read (a 武陵区 street).
CONTACTS_OF = ("street:wuling:nanping", "wuling")
MX_USER = "/admin/users/mx.officer.same"
MX_AGENCY = "/admin/agencies/street:wuling:nanping"


def may_read_contacts(role: str, agency: tuple[str, str]) -> bool:
    """Who reads :data:`CONTACTS_OF`'s contact list (written from the rule, not the code)."""
    code, division = agency
    if role == "admin" or code == CONTACTS_OF[0]:
        return True
    return role == "supervisor" and division in ("city", CONTACTS_OF[1])


DOSSIER = ("supervisor", "auditor")

ROUTES: dict[tuple[str, str], Route] = {
    # --- public
    ("static", "GET"): R("/static/duban.css", anonymous=200),
    ("auth.login", "GET"): R("/login", ok=302, anonymous=200),
    ("auth.login", "POST"): R("/login", ok=302, anonymous=401, body={"username": "x"}),
    ("auth.logout", "POST"): R("/logout", ok=302),
    # --- the user's own account (a refused password change answers 422, changing nothing)
    ("auth.account", "GET"): R("/account"),
    ("auth.change_password", "POST"): R("/account/password", ok=422, body={}),
    ("auth.logout_everywhere", "POST"): R("/account/logout-everywhere", ok=302, body={}),
    ("auth.account_mail", "POST"): R(
        "/account/mail", ok=422, body={"email": "不是邮箱", "mail_enabled": "1"}
    ),
    # --- lists
    ("inbox.index", "GET"): R("/", roles=OFFICER, denied=302, lists="tasks"),
    ("cases.index", "GET"): R(
        "/cases", "/cases?q=矩阵", "/cases?district=dingcheng", lists="visible"
    ),
    ("notifications.index", "GET"): R("/notifications", lists="hidden"),
    # (a county supervisor filtering for another district gets 422: not in the list)
    ("supervision.dashboard", "GET"): R("/supervision", roles=SUPERVISOR, lists="hidden"),
    ("supervision.export", "GET"): R(
        "/supervision/export/{kind}.csv", roles=SUPERVISOR, lists="hidden"
    ),
    ("audit.index", "GET"): R(
        "/audit?q=矩阵", "/audit?status=open", roles=AUDITOR, lists="visible"
    ),
    # --- cases
    ("cases.show", "GET"): R("/cases/{case}", scope="case"),
    ("cases.diagram", "GET"): R("/cases/{case}/diagram.svg", scope="case"),
    # printing writes an audit event: a POST (CSRF token / bearer token); a GET answers 405
    ("cases.dossier", "POST"): R("/cases/{case}/dossier.pdf", roles=DOSSIER, scope="case"),
    ("cases.download", "GET"): R("/cases/{case}/attachments/{attachment}", scope="case"),
    # an issued document's PDF: scoped like the attachments
    ("documents.download", "GET"): R("/cases/{case}/documents/{document}.pdf", scope="case"),
    # printing a document writes an audit event: a POST; anyone who sees the case
    ("documents.print_", "POST"): R(
        "/cases/{case}/documents/{document}/print", scope="case", body={}, ok_for={"A1": 303}
    ),
    # correcting (更正) a document: officers of the issuing agency; without a reason 422
    ("documents.correction", "GET"): R(
        "/cases/{case}/documents/{document}/correction",
        roles=OFFICER,
        scope="issuer",
        ok_for={"A1": 303},
    ),
    ("documents.correction", "POST"): R(
        "/cases/{case}/documents/{document}/correction",
        roles=OFFICER,
        scope="issuer",
        ok=422,
        ok_for={"A1": 303},
        body={},
    ),
    # the task page's preview: the task's documents as typed, nothing written
    ("documents.preview", "POST"): R(
        "/tasks/{task}/document-preview", roles=OFFICER, scope="task", body={}
    ),
    # a photo or PDF shown in the page (inline), scoped like the download
    ("cases.inline", "GET"): R("/cases/{case}/attachments/{attachment}/inline", scope="case"),
    ("cases.upload", "POST"): R(
        "/cases/{case}/attachments", roles=OFFICER, scope="case", ok=422, body={}
    ),
    ("follow_up.record", "POST"): R(
        "/cases/{case}/follow-up", roles=SUPERVISOR, scope="case", ok=422, body={"action": "nope"}
    ),
    ("classification.update", "POST"): R(
        "/cases/{case}/classification",
        roles=SUPERVISOR,
        scope="case",
        ok=422,
        body={"campaign_area": "nope"},
    ),
    # the one-click 催办 (recorded and notified; a closed case answers with a message)
    ("follow_up.urge", "POST"): R(
        "/cases/{case}/urge", roles=SUPERVISOR, scope="case", ok=303, body={}
    ),
    ("cases.new", "GET"): R("/cases/new", roles=OFFICER),
    ("cases.new", "POST"): R("/cases/new", roles=OFFICER, ok=422, body={}),
    # --- tasks (claimed by a colleague: allowed actions answer a conflict)
    ("tasks.show", "GET"): R("/tasks/{task}", roles=OFFICER, scope="task"),
    ("tasks.show", "POST"): R("/tasks/{task}", roles=OFFICER, scope="task", ok=302, body={}),
    # the summary after completing: a ready task goes back to its form
    ("tasks.done", "GET"): R("/tasks/{task}/done", roles=OFFICER, scope="task", ok=302),
    ("tasks.claim", "POST"): R("/tasks/{task}/claim", roles=OFFICER, scope="task", ok=303, body={}),
    # --- inbox tools: bulk claim and 转办 (the matrix user is never the claimer: a conflict)
    ("inbox.claim", "POST"): R(
        "/inbox/claim", roles=OFFICER, scope="task", ok=303, body={"task": "{task}"}
    ),
    ("inbox.reassign", "POST"): R(
        "/inbox/{task}/reassign", roles=OFFICER, scope="task", ok=303, body={"to": "nobody"}
    ),
    ("tasks.release", "POST"): R(
        "/tasks/{task}/release", roles=OFFICER, scope="task", ok=303, body={}
    ),
    # --- notifications: another user's notification is never found
    ("notifications.read", "POST"): R(
        "/notifications/{notification}/read", scope="foreign", body={}
    ),
    ("notifications.open_message", "GET"): R("/notifications/{notification}", scope="foreign"),
    ("notifications.read_all", "POST"): R("/notifications/read-all", ok=303, body={}),
    ("notifications.read_case", "POST"): R(
        "/notifications/case/{case}/read", scope="case", ok=303, body={}
    ),
    # --- the warning board: public in its scope, never a case (no warning in this world)
    ("warnings.index", "GET"): R("/warnings", "/warnings?scope=county&year=2026", lists="hidden"),
    # --- the 两个清单: rows scoped by hazard_list_filter (visible cases; an industry officer
    # also the hazards naming its department, none in this world)
    ("reports.lists", "GET"): R(
        "/reports/lists", "/reports/lists?list=responsibilities&status=open", lists="hidden"
    ),
    ("reports.lists_xlsx", "GET"): R("/reports/lists.xlsx", "/reports/lists.xlsx?area=other"),
    # the reports' submissions: the world holds no report; a report the caller may not see
    # answers 404 like one that does not exist (tests/integration/test_report_flow.py checks
    # each role's own, its district's and the city's reports)
    ("reports.submissions", "GET"): R(
        "/reports/submissions", "/reports/submissions?kind=annual&period=2026", lists="hidden"
    ),
    ("reports.submissions_xlsx", "GET"): R("/reports/submissions.xlsx?period=2026-11", ok=404),
    ("reports.submission", "GET"): R("/reports/submissions/999999", scope="foreign"),
    ("reports.submission_xlsx", "GET"): R("/reports/submissions/999999.xlsx", scope="foreign"),
    ("reports.submission_pdf", "GET"): R("/reports/submissions/999999.pdf", scope="foreign"),
    ("reports.refresh", "POST"): R("/reports/submissions/999999/refresh", scope="foreign", body={}),
    # --- audit: exports are scoped by case_filter; another auditor's job is never found
    ("audit.create_export", "POST"): R(
        "/audit/exports",
        roles=AUDITOR,
        scope="case",
        ok=303,
        hidden=422,
        body={"district": "{district}"},
    ),
    ("audit.export", "GET"): R("/audit/exports/{job}", roles=AUDITOR, scope="foreign"),
    ("audit.export_json", "GET"): R("/audit/exports/{job}.json", roles=AUDITOR, scope="foreign"),
    ("audit.download", "GET"): R("/audit/exports/{job}/download", roles=AUDITOR, scope="foreign"),
    # --- administration
    ("calendar_admin.index", "GET"): R("/admin/calendar", roles=ADMIN, ok=302),
    ("calendar_admin.show", "GET"): R("/admin/calendar/2027", roles=ADMIN),
    ("calendar_admin.show", "POST"): R(
        "/admin/calendar/2027", roles=ADMIN, ok=422, body={"holidays": "不是日期"}
    ),
    ("settings_admin.index", "GET"): R("/admin/settings", roles=ADMIN),
    ("settings_admin.update", "POST"): R(
        "/admin/settings/fire_property_only_city_min_loss",
        roles=ADMIN,
        ok=422,
        body={"value": "不是数字"},
    ),
    # users, agencies and contact lists (a refused change answers 422, changing nothing)
    ("directory_admin.users", "GET"): R("/admin/users", "/admin/users?role=admin", roles=ADMIN),
    ("directory_admin.new_user", "GET"): R("/admin/users/new", roles=ADMIN),
    ("directory_admin.new_user", "POST"): R("/admin/users/new", roles=ADMIN, ok=422, body={}),
    ("directory_admin.edit_user", "GET"): R(MX_USER, roles=ADMIN),
    ("directory_admin.edit_user", "POST"): R(MX_USER, roles=ADMIN, ok=422, body={}),
    # reactivating an active user changes nothing
    ("directory_admin.set_active", "POST"): R(
        MX_USER + "/active", roles=ADMIN, ok=303, body={"active": "1"}
    ),
    ("directory_admin.reset_password", "POST"): R(
        MX_USER + "/password", roles=ADMIN, ok=422, body={"password": "short"}
    ),
    ("directory_admin.agencies", "GET"): R("/admin/agencies", roles=ADMIN),
    ("directory_admin.new_agency", "GET"): R("/admin/agencies/new", roles=ADMIN),
    ("directory_admin.new_agency", "POST"): R("/admin/agencies/new", roles=ADMIN, ok=422, body={}),
    ("directory_admin.edit_agency", "GET"): R(MX_AGENCY, roles=ADMIN),
    ("directory_admin.edit_agency", "POST"): R(MX_AGENCY, roles=ADMIN, ok=422, body={}),
    ("directory_admin.add_contact", "POST"): R(
        MX_AGENCY + "/contacts", roles=ADMIN, ok=422, body={}
    ),
    ("directory_admin.update_contact", "POST"): R(
        MX_AGENCY + "/contacts/999999", roles=ADMIN, ok=404, body={}
    ),
    # an agency's own numbering pattern (文号格式) of a counter kind: an empty one is refused
    ("directory_admin.set_numbering", "POST"): R(
        MX_AGENCY + "/numbering/rectification_notice", roles=ADMIN, ok=422, body={}
    ),
    ("contacts.index", "GET"): R("/contacts"),
    ("contacts.show", "GET"): R("/contacts/street:wuling:nanping", scope="agency"),
    # --- the JSON API (bearer tokens)
    ("api.openapi", "GET"): R("/api/v1/openapi.json", anonymous=200),
    ("api.create_token", "POST"): R(
        "/api/v1/tokens", ok=422, anonymous=422, body={"username": 1, "password": 2}
    ),
    ("api.delete_token", "DELETE"): R("/api/v1/tokens", ok=204),
    ("api.me", "GET"): R("/api/v1/me"),
    ("api.get_my_mail", "GET"): R("/api/v1/me/mail"),
    ("api.put_my_mail", "PUT"): R(
        "/api/v1/me/mail", ok=422, body={"email": "不是邮箱", "mail_enabled": True}
    ),
    ("api.processes", "GET"): R("/api/v1/processes"),
    ("api.list_cases", "GET"): R(
        "/api/v1/cases", "/api/v1/cases?district=dingcheng", lists="visible"
    ),
    ("api.create_case", "POST"): R(
        "/api/v1/cases",
        roles=OFFICER,
        ok=422,
        denied=403,
        body={"process": "major_hazard", "data": {}},
    ),
    ("api.preview_case", "POST"): R(
        "/api/v1/cases/preview",
        roles=OFFICER,
        ok=422,
        denied=403,
        body={"process": "major_hazard", "data": {}},
    ),
    ("api.get_case", "GET"): R("/api/v1/cases/{case}", scope="case"),
    ("api.case_events", "GET"): R("/api/v1/cases/{case}/events", scope="case"),
    ("api.case_documents", "GET"): R("/api/v1/cases/{case}/documents", scope="case"),
    ("api.case_document_print", "POST"): R(
        "/api/v1/cases/{case}/documents/{document}/print", scope="case", ok_for={"A1": 409}
    ),
    ("api.case_document_correction", "POST"): R(
        "/api/v1/cases/{case}/documents/{document}/correction",
        roles=OFFICER,
        scope="issuer",
        ok=422,
        body={},
    ),
    ("api.case_document_pdf", "GET"): R(
        "/api/v1/cases/{case}/documents/{document}.pdf", scope="case"
    ),
    ("api.case_dossier", "POST"): R(
        "/api/v1/cases/{case}/dossier.pdf", roles=DOSSIER, scope="case"
    ),
    ("api.inbox", "GET"): R("/api/v1/inbox", "/api/v1/inbox?district=dingcheng", lists="tasks"),
    ("api.warnings", "GET"): R("/api/v1/warnings", "/api/v1/warnings?scope=city"),
    ("api.report_list", "GET"): R(
        "/api/v1/reports/lists/problems",
        "/api/v1/reports/lists/responsibilities?status=open",
        lists="hidden",
    ),
    ("api.report_lists_xlsx", "GET"): R("/api/v1/reports/lists.xlsx"),
    ("api.report_submissions", "GET"): R(
        "/api/v1/reports/submissions", "/api/v1/reports/submissions?kind=annual", lists="hidden"
    ),
    ("api.report_submission", "GET"): R("/api/v1/reports/submissions/999999", scope="foreign"),
    ("api.report_submission_xlsx", "GET"): R(
        "/api/v1/reports/submissions/999999.xlsx", scope="foreign"
    ),
    ("api.report_submission_pdf", "GET"): R(
        "/api/v1/reports/submissions/999999.pdf", scope="foreign"
    ),
    ("api.refresh_report_submission", "POST"): R(
        "/api/v1/reports/submissions/999999/refresh", scope="foreign"
    ),
    ("api.deadlines", "GET"): R(
        "/api/v1/deadlines",
        "/api/v1/deadlines?district=dingcheng",
        "/api/v1/deadlines?state=overdue",
        lists="visible",
    ),
    ("api.get_task", "GET"): R("/api/v1/tasks/{task}", roles=OFFICER, scope="task"),
    ("api.claim_task", "POST"): R(
        "/api/v1/tasks/{task}/claim", roles=OFFICER, scope="task", ok=409
    ),
    ("api.claim_tasks", "POST"): R(
        "/api/v1/tasks/claim", roles=OFFICER, scope="task", ok=409, body={"tasks": ["{task}"]}
    ),
    ("api.reassign_task", "POST"): R(
        "/api/v1/tasks/{task}/reassign",
        roles=OFFICER,
        scope="task",
        ok=409,
        body={"to": "nobody"},
    ),
    ("api.release_task", "POST"): R(
        "/api/v1/tasks/{task}/release", roles=OFFICER, scope="task", ok=409
    ),
    ("api.complete_task", "POST"): R(
        "/api/v1/tasks/{task}/complete", roles=OFFICER, scope="task", ok=409, body={"data": {}}
    ),
    ("api.create_follow_up", "POST"): R(
        "/api/v1/cases/{case}/follow-ups",
        roles=SUPERVISOR,
        scope="case",
        ok=422,
        body={"action": "nope", "note": "矩阵"},
    ),
    ("api.reclassify_case", "PUT"): R(
        "/api/v1/cases/{case}/classification",
        roles=SUPERVISOR,
        scope="case",
        ok=422,
        body={"campaign_area": "nope", "responsible_department": "", "reason": "矩阵"},
    ),
    ("api.list_notifications", "GET"): R(
        "/api/v1/notifications", "/api/v1/notifications?unread=true", lists="hidden"
    ),
    ("api.read_notification", "POST"): R(
        "/api/v1/notifications/{notification}/read", scope="foreign", body={}
    ),
    ("api.read_all_notifications", "POST"): R("/api/v1/notifications/read-all", body={}),
    # drafts: the tasks are claimed by a colleague (a draft is refused), none is saved
    ("api.get_draft", "GET"): R("/api/v1/tasks/{task}/draft", roles=OFFICER, scope="task", ok=404),
    ("api.put_draft", "PUT"): R(
        "/api/v1/tasks/{task}/draft", roles=OFFICER, scope="task", ok=409, body={"data": {}}
    ),
    ("api.delete_draft", "DELETE"): R(
        "/api/v1/tasks/{task}/draft", roles=OFFICER, scope="task", ok=404
    ),
    ("api.list_attachments", "GET"): R("/api/v1/cases/{case}/attachments", scope="case"),
    ("api.get_attachment", "GET"): R("/api/v1/cases/{case}/attachments/{attachment}", scope="case"),
    # a JSON body, not multipart: 415 once the case and the role are allowed
    ("api.upload_attachments", "POST"): R(
        "/api/v1/cases/{case}/attachments", roles=OFFICER, scope="case", ok=415, body={}
    ),
    # the API twin of the batch export: the same scoping, another auditor's job is never found
    ("api.create_export", "POST"): R(
        "/api/v1/exports",
        roles=AUDITOR,
        scope="case",
        ok=201,
        hidden=422,
        body={"district": "{district}"},
    ),
    ("api.list_exports", "GET"): R("/api/v1/exports", roles=AUDITOR, lists="hidden"),
    ("api.get_export", "GET"): R("/api/v1/exports/{job}", roles=AUDITOR, scope="foreign"),
    ("api.download_export", "GET"): R("/api/v1/exports/{job}.zip", roles=AUDITOR, scope="foreign"),
    ("api.get_calendar", "GET"): R("/api/v1/calendar/2027"),
    ("api.list_settings", "GET"): R("/api/v1/settings"),
    ("api.put_setting", "PUT"): R(
        "/api/v1/settings/fire_property_only_city_min_loss",
        roles=ADMIN,
        ok=422,
        body={"value": "不是数字"},
    ),
    ("api.list_users", "GET"): R("/api/v1/users", "/api/v1/users?role=officer", roles=ADMIN),
    ("api.create_user", "POST"): R("/api/v1/users", roles=ADMIN, ok=422, body={}),
    ("api.get_user", "GET"): R("/api/v1/users/mx.officer.same", roles=ADMIN),
    ("api.update_user", "PATCH"): R(
        "/api/v1/users/mx.officer.same", roles=ADMIN, ok=422, body={"name": ""}
    ),
    ("api.reset_password", "POST"): R(
        "/api/v1/users/mx.officer.same/password", roles=ADMIN, ok=422, body={"password": "x"}
    ),
    ("api.list_agencies", "GET"): R("/api/v1/agencies", roles=ADMIN),
    ("api.create_agency", "POST"): R("/api/v1/agencies", roles=ADMIN, ok=422, body={}),
    ("api.get_agency", "GET"): R("/api/v1/agencies/street:wuling:nanping", roles=ADMIN),
    ("api.update_agency", "PATCH"): R(
        "/api/v1/agencies/street:wuling:nanping", roles=ADMIN, ok=422, body={"name": ""}
    ),
    ("api.list_numbering", "GET"): R(
        "/api/v1/agencies/street:wuling:nanping/numbering", roles=ADMIN
    ),
    ("api.get_numbering", "GET"): R(
        "/api/v1/agencies/street:wuling:nanping/numbering/correction_order", roles=ADMIN
    ),
    ("api.set_numbering", "PUT"): R(
        "/api/v1/agencies/street:wuling:nanping/numbering/correction_order",
        roles=ADMIN,
        ok=422,
        body={"pattern": "无年份无序号"},
    ),
    ("api.reset_numbering", "DELETE"): R(
        "/api/v1/agencies/street:wuling:nanping/numbering/correction_order", roles=ADMIN
    ),
    ("api.list_contacts", "GET"): R(
        "/api/v1/agencies/street:wuling:nanping/contacts", scope="agency"
    ),
    ("api.add_contact", "POST"): R(
        "/api/v1/agencies/street:wuling:nanping/contacts", roles=ADMIN, ok=422, body={}
    ),
    ("api.update_contact", "PATCH"): R(
        "/api/v1/agencies/street:wuling:nanping/contacts/999999", roles=ADMIN, ok=404, body={}
    ),
    ("api.remove_contact", "DELETE"): R(
        "/api/v1/agencies/street:wuling:nanping/contacts/999999", roles=ADMIN, ok=404
    ),
    ("api.put_calendar", "PUT"): R(
        "/api/v1/calendar/2027", roles=ADMIN, ok=422, body={"holidays": "不是日期"}
    ),
}

#: The routes that start a batch export, with the status of a started one (its ZIP is checked).
EXPORTS = {("audit.create_export", "POST"): 303, ("api.create_export", "POST"): 201}

#: Cells counted per route while the module runs (for test_matrix_figures).
CELLS: dict[str, int] = {}


def is_api(path: str) -> bool:
    """Whether a URL is the JSON API's."""
    return path.startswith("/api/v1")


def expected(
    route: Route,
    path: str,
    role: str | None,
    relation: str | None,
    own_task: bool,
    issuer: bool = False,
    target: str | None = None,
    agency: tuple[str, str] | None = None,
) -> int:
    """The status the tables give (``role`` None: anonymous; ``issuer``: the user's agency
    issued the target's document; ``target``: the target case's key; ``agency``: the user's
    agency code and division)."""
    if role is None:
        if route.anonymous is not None:
            return route.anonymous
        return 401 if is_api(path) else 302
    if route.roles is not ANY and role not in route.roles:
        return route.denied
    if route.scope == "foreign":
        return route.hidden
    if route.scope == "case" and relation not in VISIBLE[role]:
        return route.hidden
    if route.scope == "task" and not own_task:
        return route.hidden
    if route.scope == "issuer" and not issuer:
        return route.hidden
    if route.scope == "agency" and not (agency and may_read_contacts(role, agency)):
        return route.hidden
    return (route.ok_for or {}).get(target or "", route.ok)


# --------------------------------------------------------------------------- the callers


@dataclass
class Caller:
    """A matrix user (or the anonymous caller) with a logged-in client and an API token."""

    username: str | None
    role: str | None
    client: FlaskClient
    csrf: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
def world_app(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, World]]:
    """The app and its world, built once for the module."""
    yield from module_world(databases, tmp_path_factory, "matrix")


@pytest.fixture(scope="module")
def callers(world_app: tuple[Flask, World]) -> list[Caller]:
    """Every matrix user logged in (HTML) and holding a token (API), and an anonymous caller."""
    app, _world = world_app
    found = []
    for role in ROLES:
        for relation in RELATIONS:
            username = matrix_user(role, relation)
            client = app.test_client()
            auth = Auth(app, client)
            assert auth.login(username).status_code == 302
            page = client.get("/notifications")
            found.append(
                Caller(username, role, client, csrf_token(page.text), auth.token(username))
            )
    anonymous = app.test_client()
    found.append(Caller(None, None, anonymous, csrf_token(anonymous.get("/login").text), {}))
    return found


def _fill(template: str, case: WorldCase | None, world: World, kind: str = "") -> str:
    values = {"job": world.foreign_job, "notification": world.foreign_notification, "kind": kind}
    if case is not None:
        values.update(
            case=case.id,
            task=case.task_id,
            attachment=case.attachment_id,
            document=case.document_id,
            district=case.district,
        )
    return template.format(**values) if "{" in template else template


def _request(caller: Caller, method: str, path: str, body: dict[str, Any] | None) -> Any:
    if is_api(path):
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        return caller.client.open(path, method=method, headers=caller.headers, **kwargs)
    if method == "GET":
        return caller.client.get(path)
    return caller.client.open(path, method=method, data={**(body or {}), "csrf_token": caller.csrf})


def _text(response: Any) -> str:
    """The body as text: JSON without \\u escapes, CSV without its BOM."""
    if response.is_json:
        return json.dumps(response.json, ensure_ascii=False)
    if response.mimetype in ("application/pdf", "application/zip"):
        return ""
    return response.get_data().decode("utf-8-sig", errors="replace")


def _check_list(route: Route, caller: Caller, world: World, text: str, where: str) -> list[str]:
    """Problems with what a list shows ``caller``."""
    problems = []
    filtered = "district=dingcheng" in where
    for case in world.cases.values():
        relation = world.relation(caller.username or "", case)
        visible = caller.role is not None and relation in VISIBLE[caller.role]
        own_task = caller.role == "officer" and world.agencies[caller.username or ""][0] == (
            case.task_agency
        )
        shown = any(marker in text for marker in case.markers())
        if shown and not visible:
            problems.append(f"{where}: {caller.username} sees {case.key} ({relation})")
        if route.lists == "tasks" and shown and not own_task:
            problems.append(f"{where}: {caller.username} lists {case.key} without a task")
        if filtered and case.district != "dingcheng":
            if shown:
                problems.append(f"{where}: {case.key} is not in the district filtered for")
            continue
        # a list must show what it may, unless a filter other than the district or a search
        # narrows it (e.g. only overdue deadlines)
        narrowed = re.search(r"[?&](?!q=|district=|status=open)", where) is not None
        must_show = {"visible": visible, "tasks": own_task}.get(route.lists or "", False)
        must_show = must_show and not narrowed
        if must_show and not shown:
            problems.append(f"{where}: {caller.username} misses {case.key} ({relation})")
    return problems


def _check_export(caller: Caller, world: World, response: Any, case: WorldCase) -> list[str]:
    """An export that started: its ZIP holds only cases the auditor may see."""
    job_path = response.headers["Location"]
    download = job_path + (".zip" if is_api(job_path) else "/download")
    with caller.client.get(download, headers=caller.headers) as archive:
        if archive.status_code != 200:
            return [f"export {job_path}: download answered {archive.status_code}"]
        names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    problems = []
    for other in world.cases.values():
        visible = world.relation(caller.username or "", other) in VISIBLE[caller.role or ""]
        inside = f"{other.number}.pdf" in names
        if inside and not (visible and other.district == case.district):
            problems.append(f"export by {caller.username} holds {other.key}")
    return problems


def _after(caller: Caller, app: Flask, key: tuple[str, str]) -> None:
    """Undo what a cell did to the caller's own session or token."""
    if caller.username is None:
        return
    if key in (("auth.logout", "POST"), ("auth.logout_everywhere", "POST")):
        auth = Auth(app, caller.client)
        assert auth.login(caller.username).status_code == 302
        caller.csrf = csrf_token(caller.client.get("/notifications").text)
        if key == ("auth.logout_everywhere", "POST"):  # its API token was revoked too
            caller.headers = auth.token(caller.username)
    elif key == ("api.delete_token", "DELETE"):
        caller.headers = Auth(app, caller.client).token(caller.username)


def _export_kinds() -> list[str]:
    from server.views.supervision import EXPORTS

    return sorted(EXPORTS)


# --------------------------------------------------------------------------- the tests


def test_every_route_is_classified(world_app: tuple[Flask, World]) -> None:
    """Every (endpoint, method) of the app is in ROUTES, and ROUTES names no missing one."""
    app, _world = world_app
    registered = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    unclassified = sorted(registered - set(ROUTES))
    assert not unclassified, (
        f"routes the isolation matrix does not classify: {unclassified}; add them to ROUTES in "
        "tests/integration/test_isolation_matrix.py with who may call them"
    )
    assert not sorted(set(ROUTES) - registered), "ROUTES names routes the app does not have"


def _openapi_operations(app: Flask) -> dict[tuple[str, str], str]:
    spec = app.test_client().get("/api/v1/openapi.json").json
    base = spec["servers"][0]["url"]
    return {
        (base + path, method.upper()): operation["operationId"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }


def test_every_openapi_operation_is_in_the_matrix(world_app: tuple[Flask, World]) -> None:
    """The operations of /api/v1/openapi.json are exactly the API routes of ROUTES."""
    app, _world = world_app
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    in_matrix = {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rules[endpoint]), method)
        for endpoint, method in ROUTES
        if endpoint.startswith("api.")
    }
    operations = _openapi_operations(app)
    assert set(operations) == in_matrix, sorted(set(operations) ^ in_matrix)


@pytest.mark.parametrize("key", list(ROUTES), ids=[f"{e}:{m}" for e, m in ROUTES])
def test_route(key: tuple[str, str], world_app: tuple[Flask, World], callers: list[Caller]) -> None:
    """One route for every caller and target: the status of the tables, no leak in lists."""
    app, world = world_app
    endpoint, method = key
    route = ROUTES[key]
    targets: list[WorldCase | None] = (
        [world.cases[t] for t in TARGETS] if route.scope in ("case", "task", "issuer") else [None]
    )
    kinds = _export_kinds() if endpoint == "supervision.export" else [""]
    problems: list[str] = []
    cells = 0
    for template in route.paths:
        for kind in kinds:
            for case in targets:
                path = _fill(template, case, world, kind)
                body = None
                if route.body is not None:
                    body = {
                        k: _fill(v, case, world)
                        if isinstance(v, str)
                        else [_fill(x, case, world) for x in v]
                        if isinstance(v, list)
                        else v
                        for k, v in route.body.items()
                    }
                for caller in callers:
                    relation = (
                        world.relation(caller.username, case)
                        if (caller.username and case)
                        else None
                    )
                    own_task = bool(
                        case
                        and caller.role == "officer"
                        and world.agencies[caller.username or ""][0] == case.task_agency
                    )
                    issuer = bool(
                        case
                        and caller.role == "officer"
                        and world.agencies[caller.username or ""][0] == case.document_agency
                    )
                    want = expected(
                        route,
                        path,
                        caller.role,
                        relation,
                        own_task,
                        issuer,
                        case.key if case else None,
                        world.agencies.get(caller.username or ""),
                    )
                    response = _request(caller, method, path, body)
                    cells += 1
                    where = f"{method} {path} as {caller.username or 'anonymous'} ({relation})"
                    if response.status_code != want:
                        problems.append(f"{where}: {response.status_code}, expected {want}")
                    elif route.lists and response.status_code == 200:
                        problems += _check_list(route, caller, world, _text(response), where)
                    if key in EXPORTS and response.status_code == EXPORTS[key]:
                        assert case is not None
                        problems += _check_export(caller, world, response, case)
                    if response.status_code in (404, 403) and case is not None:
                        leaked = [m for m in case.markers() if m in _text(response)]
                        if leaked:
                            problems.append(f"{where}: the refusal names {leaked}")
                    response.close()
                    _after(caller, app, key)
    CELLS[f"{endpoint}:{method}"] = cells
    assert not problems, "\n".join(problems)


def test_cross_case_ids_are_not_found(
    world_app: tuple[Flask, World], callers: list[Caller]
) -> None:
    """Another case's attachment under a visible case's URL is not found, even for admins."""
    _app, world = world_app
    a1, b1 = world.cases["A1"], world.cases["B1"]
    admin = next(c for c in callers if c.role == "admin")
    for path in (
        f"/cases/{a1.id}/attachments/{b1.attachment_id}",
        f"/cases/{b1.id}/attachments/{a1.attachment_id}",
        f"/cases/{a1.id}/attachments/999999",
        f"/cases/{a1.id}/documents/{b1.document_id}.pdf",
        f"/api/v1/cases/{b1.id}/documents/{a1.document_id}.pdf",
        "/cases/999999",
        "/api/v1/cases/999999",
        "/api/v1/tasks/00000000-0000-0000-0000-000000000000",
    ):
        assert _request(admin, "GET", path, None).status_code == 404, path


def test_matrix_figures(request: pytest.FixtureRequest) -> None:
    """Print (``-s``) and check the size of the matrix."""
    users = len(ROLES) * len(RELATIONS) + 1  # and the anonymous caller
    planned = 0
    for (endpoint, _method), route in ROUTES.items():
        targets = len(TARGETS) if route.scope in ("case", "task", "issuer") else 1
        kinds = len(_export_kinds()) if endpoint == "supervision.export" else 1
        planned += len(route.paths) * kinds * targets * users
    run = sum(CELLS.values())
    print(
        f"\nisolation matrix: {len(ROUTES)} routes (endpoint × method) × {len(ROLES)} roles × "
        f"{len(RELATIONS)} agency relations (+ anonymous) × up to {len(TARGETS)} target cases "
        f"= {planned} cells planned, {run} requested in this run"
    )
    assert len(ROUTES) >= 48
    assert planned >= 1300
    if len(CELLS) == len(ROUTES):  # the whole module ran
        assert run == planned
