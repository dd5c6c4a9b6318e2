"""Users, agencies and contact lists in the browser (:mod:`server.admin.directory_admin` does
the work, as for the command line and the API).

Administrators keep them under ``/admin/users`` and ``/admin/agencies``; an agency's contact
list (通讯录) is read under ``/contacts`` by its own users, the supervisors whose jurisdiction
holds it and administrators. A generated password is shown once, on the page answering the
creation or reset (never put in a redirect or a flash message, which the cookie would carry).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from server.admin import directory_admin as service
from server.auth import roles_required
from server.directory import KIND_LABELS
from server.models import ROLE_LABELS, ROLES, Agency, User
from server.operations import NotFound, OperationError
from server.views.common import page_number, paginate

bp = Blueprint("directory_admin", __name__, url_prefix="/admin")
contacts_bp = Blueprint("contacts", __name__, url_prefix="/contacts")
ACTIVE_CHOICES = (("1", "在用"), ("0", "已停用"))
MAX_FIELD = 500


def _form(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "")[:MAX_FIELD] for name in names}


def _user_or_404(username: str) -> User:
    try:
        return service.user_by_name(username)
    except NotFound:
        abort(404)


def _agency_or_404(code: str) -> Agency:
    try:
        return service.agency_by_code(code)
    except NotFound:
        abort(404)


def _agency_options() -> list[tuple[str, str]]:
    return [(a.code, f"{a.name}（{a.code}）") for a in service.list_agencies()]


def _common() -> dict[str, Any]:
    return {
        "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
        "role_names": ROLE_LABELS,
        "kind_labels": KIND_LABELS,
        "divisions": service.division_choices(),
        "division_label": service.division_label,
        "agency_options": _agency_options(),
    }


# --------------------------------------------------------------------------- users


@bp.get("/users")
@roles_required("admin")
def users() -> Any:
    """Users, filtered by agency, role and whether active."""
    filters = {
        k: v for k in ("q", "agency", "role", "active") if (v := request.args.get(k, "")[:100])
    }
    agency = None
    if "agency" in filters:
        agency = next((a for a in service.list_agencies() if a.code == filters["agency"]), None)
        if agency is None:
            filters.pop("agency")
    role = filters.get("role") if filters.get("role") in ROLES else None
    active = {"1": True, "0": False}.get(filters.get("active", ""))
    page = paginate(service.users_query(agency, role, active, filters.get("q")), page_number())
    return render_template(
        "admin/users.html", page=page, filters=filters, active_choices=ACTIVE_CHOICES, **_common()
    )


def _user_form(user: User | None, values: dict[str, Any], errors: dict[str, str], status: int):
    return render_template(
        "admin/user_form.html", user=user, values=values, errors=errors, **_common()
    ), status


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user() -> Any:
    """The form for a new user (GET); create it and show its password once (POST)."""
    if request.method == "GET":
        return _user_form(
            None, {"roles": ["officer"], "agency": request.args.get("agency")}, {}, 200
        )
    values: dict[str, Any] = {
        **_form("username", "name", "agency", "password"),
        "roles": service.role_list(request.form.getlist("roles")),
    }
    try:
        user, generated = service.create_user(current_user, values)
    except OperationError as exc:
        values.pop("password")  # never echoed back into the page
        return _user_form(None, values, exc.fields or {"_form": exc.message}, exc.status)
    return render_template(
        "admin/password_shown.html", user=user, password=generated, created=True
    ), 201


@bp.route("/users/<username>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(username: str) -> Any:
    """A user's name, agency and roles (GET, POST), with deactivation and password reset."""
    user = _user_or_404(username)
    if request.method == "GET":
        values = {"name": user.name, "agency": user.agency.code, "roles": user.role_list}
        return _user_form(user, values, {}, 200)
    values = {**_form("name", "agency"), "roles": service.role_list(request.form.getlist("roles"))}
    try:
        changes = service.update_user(current_user, user, values)
    except OperationError as exc:
        return _user_form(user, values, exc.fields or {"_form": exc.message}, exc.status)
    flash(f"已保存用户 {user.username}。" if changes else "没有修改任何内容。", "success")
    return redirect(url_for("directory_admin.edit_user", username=user.username), code=303)


@bp.post("/users/<username>/active")
@roles_required("admin")
def set_active(username: str) -> Any:
    """Deactivate (``active=0``) or reactivate (``active=1``) a user."""
    user = _user_or_404(username)
    active = request.form.get("active") == "1"
    try:
        revoked = service.set_active(current_user, user, active)
    except OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("directory_admin.edit_user", username=username), code=303)
    if active:
        flash(f"已重新启用用户 {username}。", "success")
    else:
        flash(
            f"已停用用户 {username}：其所有登录已退出"
            + (f"，{revoked} 个 API 令牌已作废。" if revoked else "。"),
            "success",
        )
    return redirect(url_for("directory_admin.edit_user", username=username), code=303)


@bp.post("/users/<username>/password")
@roles_required("admin")
def reset_password(username: str) -> Any:
    """Reset a user's password (the one typed, or a generated one shown once)."""
    user = _user_or_404(username)
    try:
        generated, revoked = service.reset_password(
            current_user, user, request.form.get("password", "")[:MAX_FIELD]
        )
    except OperationError as exc:
        values = {"name": user.name, "agency": user.agency.code, "roles": user.role_list}
        return _user_form(user, values, exc.fields or {"_form": exc.message}, exc.status)
    if generated is None:
        flash(
            f"已重设 {username} 的密码：其所有登录已退出"
            + (f"，{revoked} 个 API 令牌已作废。" if revoked else "。"),
            "success",
        )
        return redirect(url_for("directory_admin.edit_user", username=username), code=303)
    return render_template(
        "admin/password_shown.html", user=user, password=generated, created=False, revoked=revoked
    )


# --------------------------------------------------------------------------- agencies


@bp.get("/agencies")
@roles_required("admin")
def agencies() -> Any:
    """Agencies, filtered by division and kind."""
    filters = {k: v for k in ("division", "kind") if (v := request.args.get(k, ""))}
    found = service.list_agencies(filters.get("division"), filters.get("kind"))
    return render_template("admin/agencies.html", agencies=found, filters=filters, **_common())


def _agency_form(
    agency: Agency | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int,
    contact_errors: dict[str, dict[str, str]] | None = None,
    contact_values: dict[str, dict[str, str]] | None = None,
    numbering_errors: dict[str, str] | None = None,
    numbering_values: dict[str, str] | None = None,
) -> Any:
    from server.documents import agency_short

    contacts = service.contacts_of(agency) if agency is not None else []
    members = service.list_users(agency) if agency is not None else []
    own = agency.code if agency is not None else None
    return render_template(
        "admin/agency_form.html",
        agency=agency,
        parent_options=[(code, text) for code, text in _agency_options() if code != own],
        doc_code_in_use=agency_short(agency) if agency is not None else None,
        values=values,
        errors=errors,
        contacts=contacts,
        members=members,
        contact_errors=contact_errors or {},
        contact_values=contact_values or {},
        numberings=service.agency_numberings(agency) if agency is not None else [],
        numbering_errors=numbering_errors or {},
        numbering_values=numbering_values or {},
        **_common(),
    ), status


AGENCY_FIELDS = ("name", "parent", "doc_code")


@bp.route("/agencies/new", methods=["GET", "POST"])
@roles_required("admin")
def new_agency() -> Any:
    """The form for a new agency (GET); create it (POST)."""
    if request.method == "GET":
        return _agency_form(None, {}, {}, 200)
    values: dict[str, Any] = {
        **_form("kind", "division", "suffix", *AGENCY_FIELDS),
        "can_discover": request.form.get("can_discover") == "1",
    }
    try:
        agency = service.create_agency(current_user, values)
    except OperationError as exc:
        return _agency_form(None, values, exc.fields or {"_form": exc.message}, exc.status)
    flash(f"已创建单位 {agency.name}（{agency.code}）。", "success")
    return redirect(url_for("directory_admin.edit_agency", code=agency.code), code=303)


@bp.route("/agencies/<code>", methods=["GET", "POST"])
@roles_required("admin")
def edit_agency(code: str) -> Any:
    """An agency's data (GET, POST), its contact list and its users."""
    agency = _agency_or_404(code)
    if request.method == "GET":
        return _agency_form(agency, _agency_values(agency), {}, 200)
    values = {**_form(*AGENCY_FIELDS), "can_discover": request.form.get("can_discover") == "1"}
    try:
        changes = service.update_agency(current_user, agency, values)
    except OperationError as exc:
        return _agency_form(agency, values, exc.fields or {"_form": exc.message}, exc.status)
    flash(f"已保存单位 {agency.name}。" if changes else "没有修改任何内容。", "success")
    return redirect(url_for("directory_admin.edit_agency", code=code), code=303)


def _agency_values(agency: Agency) -> dict[str, Any]:
    parent = agency.parent.code if agency.parent else ""
    return {
        "name": agency.name,
        "parent": parent,
        "doc_code": agency.doc_code or "",
        "can_discover": agency.can_discover,
    }


def _contact_error(agency: Agency, exc: OperationError, contact_id: int | None) -> Any:
    key = str(contact_id or "new")
    return _agency_form(
        agency,
        _agency_values(agency),
        {},
        exc.status,
        {key: exc.fields or {"_form": exc.message}},
        {key: _form(*service.CONTACT_FIELDS)},
    )


@bp.post("/agencies/<code>/contacts")
@roles_required("admin")
def add_contact(code: str) -> Any:
    """Add a person to the agency's contact list."""
    agency = _agency_or_404(code)
    try:
        contact = service.add_contact(current_user, agency, _form(*service.CONTACT_FIELDS))
    except OperationError as exc:
        return _contact_error(agency, exc, None)
    flash(f"已添加联系人 {contact.name}。", "success")
    return redirect(url_for("directory_admin.edit_agency", code=code) + "#contacts", code=303)


@bp.post("/agencies/<code>/contacts/<int:contact_id>")
@roles_required("admin")
def update_contact(code: str, contact_id: int) -> Any:
    """Change one contact, or take it off the list (``remove``)."""
    agency = _agency_or_404(code)
    try:
        contact = service.contact_of(agency, contact_id)
    except NotFound:
        abort(404)
    name = contact.name
    try:
        if request.form.get("remove"):
            service.remove_contact(current_user, agency, contact)
            flash(f"已删除联系人 {name}。", "success")
        else:
            service.update_contact(current_user, agency, contact, _form(*service.CONTACT_FIELDS))
            flash(f"已保存联系人 {contact.name}。", "success")
    except OperationError as exc:
        return _contact_error(agency, exc, contact_id)
    return redirect(url_for("directory_admin.edit_agency", code=code) + "#contacts", code=303)


@bp.post("/agencies/<code>/numbering/<kind>")
@roles_required("admin")
def set_numbering(code: str, kind: str) -> Any:
    """Set the agency's own numbering pattern of a counter kind, or go back to the template's
    (``reset``)."""
    agency = _agency_or_404(code)
    try:
        template = service.numbering_template(kind)
    except NotFound:
        abort(404)
    reset = bool(request.form.get("reset"))
    pattern = request.form.get("pattern", "")
    try:
        changes = service.set_numbering(current_user, agency, kind, None if reset else pattern)
    except OperationError as exc:
        return _agency_form(
            agency,
            _agency_values(agency),
            {},
            exc.status,
            numbering_errors={template.kind: (exc.fields or {}).get("pattern", exc.message)},
            numbering_values={template.kind: pattern},
        )
    if not changes:
        flash("没有修改任何内容。", "success")
    elif reset:
        flash(f"《{template.name}》已恢复模板的文号格式。", "success")
    else:
        flash(f"已保存《{template.name}》的文号格式。", "success")
    return redirect(url_for("directory_admin.edit_agency", code=code) + "#numbering", code=303)


# --------------------------------------------------------------------------- contact lists


@contacts_bp.get("")
@login_required
def index() -> Any:
    """The agencies whose contact lists the user may read (the own agency first)."""
    visible = [a for a in service.list_agencies() if service.may_see_contacts(current_user, a)]
    visible.sort(key=lambda a: a.id != current_user.agency_id)
    if len(visible) == 1:  # officers and auditors: their own agency's list at once
        return show(visible[0].code)
    return render_template("admin/contacts_index.html", agencies=visible, **_common())


@contacts_bp.get("/<code>")
@login_required
def show(code: str) -> Any:
    """An agency's contact list (404 for users who may not read it)."""
    try:
        agency = service.agency_by_code(code)
    except NotFound:
        abort(404)
    if not service.may_see_contacts(current_user, agency):
        abort(404)
    return render_template(
        "admin/contacts.html", agency=agency, contacts=service.contacts_of(agency), **_common()
    )
