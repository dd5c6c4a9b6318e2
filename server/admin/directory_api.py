"""The API twins of the administrators' directory pages: users, agencies and contact lists
(:mod:`server.admin.directory_admin` does the work).

Users and agencies are administrators' business: anyone else gets 404, as for the calendar
and the legal settings. An agency's contact list is read by its own users, the supervisors
whose jurisdiction holds it and administrators (404 for others); only administrators change it.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from server.admin import directory_admin as service
from server.api import ApiError, _boolean, _one_of, bp, caller, json_body, paged, query_args
from server.directory import KIND_LABELS
from server.extensions import db
from server.models import ROLES, Agency, User
from server.operations import NotFound
from workflows.jurisdiction import CITY, DIVISIONS_BY_CODE

USER_FIELDS = ("username", "name", "agency", "roles", "password")


def _admin() -> User:
    user = caller()
    if not user.has_role("admin"):
        raise ApiError(404)
    return user


def _agency_code(value: str) -> Agency:
    try:
        return service.agency_by_code(value)
    except NotFound:
        raise ValueError("未知的单位代码") from None


def _division(value: str) -> str:
    if value != CITY and value not in DIVISIONS_BY_CODE:
        raise ValueError("未知的行政区划代码")
    return value


# --------------------------------------------------------------------------- users


@bp.get("/users")
def list_users() -> Any:
    """Users (administrators only), filtered by ``agency``, ``role`` and ``active``."""
    _admin()
    args = query_args(agency=_agency_code, role=_one_of(ROLES), active=_boolean)
    query = service.users_query(args["agency"], args["role"], args["active"])
    return jsonify(paged(query, args, lambda found: [service.user_json(u) for u in found]))


@bp.post("/users")
def create_user() -> Any:
    """Create a user; a generated password is answered once in ``password``."""
    actor = _admin()
    body = json_body(USER_FIELDS, required=("username", "name", "agency", "roles"))
    if not isinstance(body["roles"], list):
        raise ApiError(422, "角色应为列表", {"roles": "应为角色标识的列表"})
    user, generated = service.create_user(actor, body)
    return jsonify({**service.user_json(user), "password": generated}), 201


def _user(username: str) -> User:
    try:
        return service.user_by_name(username)
    except NotFound:
        raise ApiError(404) from None


@bp.get("/users/<username>")
def get_user(username: str) -> Any:
    """One user (administrators only)."""
    _admin()
    return jsonify(service.user_json(_user(username)))


@bp.patch("/users/<username>")
def update_user(username: str) -> Any:
    """Change a user's ``name``, ``agency``, ``roles``; ``active`` false deactivates (every
    session and token of the user ends), true reactivates."""
    actor = _admin()
    user = _user(username)
    body = json_body(("name", "agency", "roles", "active"))
    if "roles" in body and not isinstance(body["roles"], list):
        raise ApiError(422, "角色应为列表", {"roles": "应为角色标识的列表"})
    if "active" in body and not isinstance(body["active"], bool):
        raise ApiError(422, "active 应为 true 或 false", {"active": "应为 true 或 false"})
    changes = {k: v for k, v in body.items() if k != "active"}
    if changes:
        service.update_user(actor, user, changes)
    if "active" in body:
        service.set_active(actor, user, body["active"])
    return jsonify(service.user_json(user))


@bp.post("/users/<username>/password")
def reset_password(username: str) -> Any:
    """Reset a user's password (``password``, or a generated one answered once): every
    session and API token of the user ends."""
    actor = _admin()
    user = _user(username)
    body = json_body(("password",))
    generated, revoked = service.reset_password(actor, user, body.get("password"))
    return jsonify({"username": user.username, "password": generated, "tokens_revoked": revoked})


# --------------------------------------------------------------------------- agencies

AGENCY_FIELDS = ("kind", "division", "suffix", "name", "parent", "doc_code", "can_discover")


@bp.get("/agencies")
def list_agencies() -> Any:
    """Agencies with their administrator data (administrators only)."""
    _admin()
    args = query_args(division=_division, kind=_one_of(KIND_LABELS))
    found = service.list_agencies(args["division"], args["kind"])
    page, per_page = args["page"], args["per_page"]
    items = found[(page - 1) * per_page : page * per_page]
    return jsonify(
        {
            "items": [service.agency_json(a) for a in items],
            "page": page,
            "per_page": per_page,
            "total": len(found),
        }
    )


@bp.post("/agencies")
def create_agency() -> Any:
    """Create an agency; its code is ``{kind}:{division}[:{suffix}]``."""
    actor = _admin()
    body = json_body(AGENCY_FIELDS, required=("kind", "division", "name"))
    return jsonify(service.agency_json(service.create_agency(actor, body))), 201


def _agency(code: str) -> Agency:
    try:
        return service.agency_by_code(code)
    except NotFound:
        raise ApiError(404) from None


@bp.get("/agencies/<code>")
def get_agency(code: str) -> Any:
    """One agency (administrators only)."""
    _admin()
    return jsonify(service.agency_json(_agency(code)))


@bp.patch("/agencies/<code>")
def update_agency(code: str) -> Any:
    """Change an agency's ``name``, ``parent``, ``doc_code`` (null: derived from the name) or
    ``can_discover``; its code, kind and division are fixed."""
    actor = _admin()
    agency = _agency(code)
    body = json_body(("name", "parent", "doc_code", "can_discover"))
    service.update_agency(actor, agency, body)
    return jsonify(service.agency_json(agency))


# --------------------------------------------------------------------------- numbering


def _numbering_kind(kind: str) -> Any:
    try:
        return service.numbering_template(kind)
    except NotFound:
        raise ApiError(404) from None


@bp.get("/agencies/<code>/numbering")
def list_numbering(code: str) -> Any:
    """The agency's numbering pattern of every counter kind (administrators only)."""
    _admin()
    agency = _agency(code)
    return jsonify({"agency": agency.code, "items": service.agency_numberings(agency)})


@bp.get("/agencies/<code>/numbering/<kind>")
def get_numbering(code: str, kind: str) -> Any:
    """The agency's numbering pattern of ``kind``'s counter (administrators only)."""
    _admin()
    agency = _agency(code)
    return jsonify(service.numbering_json(agency, _numbering_kind(kind)))


@bp.put("/agencies/<code>/numbering/<kind>")
def set_numbering(code: str, kind: str) -> Any:
    """Give the agency its own ``pattern`` for ``kind``'s counter (administrators only); the
    numbers count on."""
    actor = _admin()
    agency = _agency(code)
    template = _numbering_kind(kind)
    body = json_body(("pattern",), required=("pattern",))
    if body["pattern"] is None:
        raise ApiError(422, "请填写文号格式", {"pattern": "恢复模板格式请用 DELETE"})
    service.set_numbering(actor, agency, template.kind, body["pattern"])
    return jsonify(service.numbering_json(agency, template))


@bp.delete("/agencies/<code>/numbering/<kind>")
def reset_numbering(code: str, kind: str) -> Any:
    """Back to the template's pattern for ``kind``'s counter (administrators only)."""
    actor = _admin()
    agency = _agency(code)
    template = _numbering_kind(kind)
    service.set_numbering(actor, agency, template.kind, None)
    return jsonify(service.numbering_json(agency, template))


# --------------------------------------------------------------------------- contacts


@bp.get("/agencies/<code>/contacts")
def list_contacts(code: str) -> Any:
    """An agency's contact list: its users, supervisors whose jurisdiction holds it and
    administrators (404 for others)."""
    user = caller()
    agency = db.session.scalar(db.select(Agency).where(Agency.code == code))
    if agency is None or not service.may_see_contacts(user, agency):
        raise ApiError(404)
    return jsonify(
        {
            "agency": agency.code,
            "items": [service.contact_json(c) for c in service.contacts_of(agency)],
        }
    )


@bp.post("/agencies/<code>/contacts")
def add_contact(code: str) -> Any:
    """Add a person to an agency's contact list (administrators only)."""
    actor = _admin()
    agency = _agency(code)
    body = json_body(service.CONTACT_FIELDS, required=("name",))
    return jsonify(service.contact_json(service.add_contact(actor, agency, body))), 201


def _contact(agency: Agency, contact_id: int) -> Any:
    try:
        return service.contact_of(agency, contact_id)
    except NotFound:
        raise ApiError(404) from None


@bp.patch("/agencies/<code>/contacts/<int:contact_id>")
def update_contact(code: str, contact_id: int) -> Any:
    """Change one contact (administrators only)."""
    actor = _admin()
    agency = _agency(code)
    contact = _contact(agency, contact_id)
    body = json_body(service.CONTACT_FIELDS)
    service.update_contact(actor, agency, contact, body)
    return jsonify(service.contact_json(contact))


@bp.delete("/agencies/<code>/contacts/<int:contact_id>")
def remove_contact(code: str, contact_id: int) -> Any:
    """Take a person off an agency's contact list (administrators only)."""
    actor = _admin()
    agency = _agency(code)
    service.remove_contact(actor, agency, _contact(agency, contact_id))
    return "", 204
