"""Users, agencies and agencies' contact lists as administrators keep them.

One module for the three ways in: the command line (``flask users …``, ``flask agencies …``),
the administrators' pages (``/admin/users``, ``/admin/agencies``) and the API
(``/api/v1/users``, ``/api/v1/agencies``). Every change is checked here (Chinese messages naming
the field), committed here and audited on the system chain (``user_created``, ``user_updated``,
``user_deactivated``, ``user_reactivated``, ``password_reset``, ``agency_created``,
``agency_updated``, ``agency_numbering_changed``, ``contact_added``, ``contact_updated``,
``contact_removed``).

An agency's own numbering pattern (文号格式) per counter kind is administrator data too
(``agency_numbering``): checked by the templates' own :func:`workflows.documents.check_numbering`;
without one the template's ``numbering`` is used.

A password reset and a deactivation end every session and API token of the user
(:func:`server.auth.end_all_sessions`). An administrator cannot take away their own
administrator role or deactivate themselves, and the last active administrator stays one, so
that nobody locks the administration out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from server.audit import append_event
from server.auth import (
    deactivate_user,
    end_all_sessions,
    hash_password,
    new_session_token,
    password_problem,
    set_password,
)
from server.directory import KIND_LABELS
from server.extensions import db
from server.models import ROLES, Agency, AgencyContact, AgencyNumbering, User
from server.operations import Conflict, Forbidden, FormInvalid, NotFound
from workflows.calendar import today_shanghai
from workflows.documents import Template, check_numbering, templates
from workflows.forms import has_forbidden_chars
from workflows.jurisdiction import CITY, DIVISIONS, DIVISIONS_BY_CODE

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")
CODE_SUFFIX = re.compile(r"[a-z0-9_]{1,30}")
#: Names that are paths of the administrators' pages (/admin/users/new).
RESERVED_USERNAMES = frozenset({"new"})
PHONE = re.compile(r"[0-9+()（） \-—转]{3,40}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: Letters and digits of generated passwords (no 0/O, 1/l/I to misread).
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"  # noqa: S105


def division_choices() -> list[tuple[str, str]]:
    """(code, name) of the divisions an agency may belong to, the city first."""
    return [(CITY, "常德市（市级）")] + [(d.code, d.name) for d in DIVISIONS]


def division_label(code: str) -> str:
    """The Chinese name of a division code."""
    return (
        "市级"
        if code == CITY
        else DIVISIONS_BY_CODE[code].name
        if code in DIVISIONS_BY_CODE
        else code
    )


def generate_password() -> str:
    """A random initial password (14 characters in groups: ``abcd-efgh-jkmn``-like)."""
    chars = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


# --------------------------------------------------------------------------- reading


def user_by_name(username: str) -> User:
    """The user, or NotFound."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"没有用户 {username}")
    return user


def agency_by_code(code: str) -> Agency:
    """The agency, or NotFound."""
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"没有单位 {code}")
    return agency


def users_query(
    agency: Agency | None = None,
    role: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> Select[Any]:
    """Users filtered by agency, role, whether active and a search in username and name, by
    agency then username."""
    query = select(User).join(Agency, User.agency_id == Agency.id)
    if q:
        query = query.where(or_(User.username.contains(q), User.name.contains(q)))
    if agency is not None:
        query = query.where(User.agency_id == agency.id)
    if role is not None:  # no role's name is part of another's
        query = query.where(User.roles.contains(role))
    if active is not None:
        query = query.where(User.active.is_(active))
    return query.order_by(Agency.code, User.username)


def list_users(
    agency: Agency | None = None, role: str | None = None, active: bool | None = None
) -> list[User]:
    """The users of :func:`users_query`."""
    return [
        u
        for u in db.session.scalars(users_query(agency, role, active))
        if role is None or u.has_role(role)
    ]


def list_agencies(division: str | None = None, kind: str | None = None) -> list[Agency]:
    """Agencies, the city's first, then by division and code."""
    query = select(Agency)
    if division is not None:
        query = query.where(Agency.division == division)
    if kind is not None:
        query = query.where(Agency.kind == kind)
    agencies = db.session.scalars(query.order_by(Agency.code)).all()
    order = {CITY: -1, **{d.code: i for i, d in enumerate(DIVISIONS)}}
    return sorted(agencies, key=lambda a: (order.get(a.division, 999), a.code))


def contacts_of(agency: Agency) -> list[AgencyContact]:
    """An agency's contact list in its order."""
    return list(
        db.session.scalars(
            select(AgencyContact)
            .where(AgencyContact.agency_id == agency.id)
            .order_by(AgencyContact.position, AgencyContact.id)
        )
    )


def may_see_contacts(user: User, agency: Agency) -> bool:
    """Whether ``user`` may read ``agency``'s contact list: its own users, supervisors whose
    jurisdiction holds it (a city-level supervisor: every agency) and administrators."""
    if user.has_role("admin") or user.agency_id == agency.id:
        return True
    if user.has_role("supervisor"):
        return user.agency.is_city_level or user.agency.division == agency.division
    return False


# --------------------------------------------------------------------------- JSON


def user_json(user: User) -> dict[str, Any]:
    """A user as administrators see it (never the password hash)."""
    return {
        "username": user.username,
        "name": user.name,
        "agency": user.agency.code,
        "agency_name": user.agency.name,
        "roles": user.role_list,
        "active": user.active,
    }


def agency_json(agency: Agency) -> dict[str, Any]:
    """An agency with its administrator data."""
    from server.documents import agency_short

    parent = db.session.get(Agency, agency.parent_id) if agency.parent_id else None
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind,
        "division": agency.division,
        "parent": parent.code if parent else None,
        "doc_code": agency.doc_code,
        "doc_code_in_use": agency_short(agency),
        "can_discover": agency.can_discover,
    }


def contact_json(contact: AgencyContact) -> dict[str, Any]:
    """One entry of a contact list."""
    return {
        "id": contact.id,
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "email": contact.email,
    }


# --------------------------------------------------------------------------- checks


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.has_role("admin"):
        raise Forbidden("只有管理员可以维护用户和单位")


def _text(
    data: Mapping[str, Any],
    name: str,
    label: str,
    errors: dict[str, str],
    *,
    max_len: int,
    required: bool = True,
) -> str:
    value = data.get(name, "")
    if value is None and not required:
        value = ""
    if not isinstance(value, str):
        errors[name] = f"{label}应为文字"
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = f"请填写{label}"
    elif len(value) > max_len:
        errors[name] = f"{label}不能超过{max_len}个字符"
    elif has_forbidden_chars(value, multiline=False):
        errors[name] = f"{label}含有不允许的控制字符"
    return value


def _roles(value: Any, errors: dict[str, str]) -> list[str]:
    if isinstance(value, str):
        value = [r for r in re.split(r"[,，\s]+", value) if r]
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        errors["roles"] = "角色应为列表"
        return []
    bad = [r for r in value if r not in ROLES]
    if bad:
        errors["roles"] = f"未知的角色：{'、'.join(bad[:4])}；可选：{'、'.join(ROLES)}"
    elif not value:
        errors["roles"] = "请至少选择一个角色"
    return [r for r in ROLES if r in value]


def _agency_field(value: Any, errors: dict[str, str], name: str = "agency") -> Agency | None:
    if not isinstance(value, str) or not value.strip():
        errors[name] = "请选择单位"
        return None
    agency = db.session.scalar(select(Agency).where(Agency.code == value.strip()))
    if agency is None:
        errors[name] = "没有这个单位"
    return agency


def _password(username: str, value: Any, errors: dict[str, str]) -> str | None:
    """The given password (checked), or None when none was given (one is generated)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors["password"] = "密码应为文字"  # noqa: S105 - a message
        return None
    probe = User(username=username)
    problem = password_problem(probe, value, value)
    if problem:
        errors["password"] = problem.replace("新密码", "密码")
    return value


def _invalid(errors: dict[str, str]) -> FormInvalid:
    return FormInvalid("；".join(errors.values()), errors)


def _active_admins(excluding: User) -> int:
    return sum(
        1
        for u in db.session.scalars(
            select(User).where(User.active.is_(True), User.id != excluding.id)
        )
        if u.has_role("admin")
    )


def _commit(conflict: str, field: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(conflict, {field: conflict}) from None


# --------------------------------------------------------------------------- users


def create_user(actor: User | None, data: Mapping[str, Any]) -> tuple[User, str | None]:
    """Create a user from ``username``, ``name``, ``agency`` (code), ``roles`` (list or
    comma-separated) and ``password`` (optional: a generated one otherwise).

    :returns: the user and the generated password (None when one was given).
    :raises FormInvalid: a field is wrong (nothing written); :raises Conflict: the username
        is taken.
    """
    _require_admin(actor)
    errors: dict[str, str] = {}
    username = data.get("username", "")
    if not isinstance(username, str) or not USERNAME.fullmatch(username.strip()):
        errors["username"] = "用户名应为2至80个小写字母、数字、点、下划线或连字符，以字母或数字开头"
        username = ""
    username = username.strip()
    if username in RESERVED_USERNAMES:
        errors["username"] = f"用户名 {username} 为系统保留，请换一个"
    name = _text(data, "name", "姓名", errors, max_len=80)
    agency = _agency_field(data.get("agency"), errors)
    roles = _roles(data.get("roles", []), errors)
    password = _password(username, data.get("password"), errors)
    if errors:
        raise _invalid(errors)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已被使用", {"username": f"用户名 {username} 已被使用"})
    generated = None if password else generate_password()
    assert agency is not None
    user = User(
        username=username,
        name=name,
        agency_id=agency.id,
        roles=",".join(roles),
        password_hash=hash_password(password or generated or ""),
        session_token=new_session_token(),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    append_event(
        None,
        "user_created",
        actor=actor,
        data={"username": username, "name": name, "agency": agency.code, "roles": roles},
    )
    _commit(f"用户名 {username} 已被使用", "username")
    return user, generated


def update_user(actor: User | None, user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change a user's ``name``, ``agency`` and/or ``roles`` (the keys given).

    :returns: the changes, ``{field: [before, after]}`` (empty: nothing changed, nothing
        audited).
    """
    _require_admin(actor)
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if "name" in data:
        name = _text(data, "name", "姓名", errors, max_len=80)
        if name and name != user.name:
            changes["name"] = [user.name, name]
    agency = None
    if "agency" in data:
        agency = _agency_field(data["agency"], errors)
        if agency is not None and agency.id != user.agency_id:
            changes["agency"] = [user.agency.code, agency.code]
    if "roles" in data:
        roles = _roles(data["roles"], errors)
        if roles and roles != user.role_list:
            changes["roles"] = [user.role_list, roles]
            if "admin" not in roles and user.has_role("admin"):
                if actor is not None and actor.id == user.id:
                    errors["roles"] = "不能取消自己的管理员角色"
                elif user.active and not _active_admins(user):
                    errors["roles"] = "这是最后一个在用的管理员，不能取消其管理员角色"
    if errors:
        raise _invalid(errors)
    if not changes:
        return {}
    if "name" in changes:
        user.name = changes["name"][1]
    if agency is not None and "agency" in changes:
        user.agency_id = agency.id
        user.agency = agency
    if "roles" in changes:
        user.roles = ",".join(changes["roles"][1])
    append_event(
        None, "user_updated", actor=actor, data={"username": user.username, "changes": changes}
    )
    db.session.commit()
    return changes


def set_active(actor: User | None, user: User, active: bool) -> int:
    """Deactivate (every session and token ends) or reactivate a user.

    :returns: how many API tokens were revoked.
    :raises Conflict: deactivating oneself or the last active administrator.
    """
    _require_admin(actor)
    if active == user.active:
        return 0
    revoked = 0
    if active:
        user.active = True
        end_all_sessions(user)  # nothing of before the deactivation comes back
        append_event(None, "user_reactivated", actor=actor, data={"username": user.username})
    else:
        if actor is not None and actor.id == user.id:
            raise Conflict("不能停用自己的账户", {"active": "不能停用自己的账户"})
        if user.has_role("admin") and not _active_admins(user):
            message = "这是最后一个在用的管理员，不能停用"
            raise Conflict(message, {"active": message})
        revoked = deactivate_user(user, actor=actor)
    db.session.commit()
    return revoked


def reset_password(actor: User | None, user: User, password: Any = None) -> tuple[str | None, int]:
    """Give ``user`` a new password (``password``, or a generated one): every session and API
    token of the user ends.

    :returns: the generated password (None when one was given) and the revoked tokens.
    """
    _require_admin(actor)
    errors: dict[str, str] = {}
    given = _password(user.username, password, errors)
    if errors:
        raise _invalid(errors)
    generated = None if given else generate_password()
    revoked = set_password(user, given or generated or "", actor=actor, kind="password_reset")
    db.session.commit()
    return generated, revoked


# --------------------------------------------------------------------------- agencies


def _doc_code(value: Any, errors: dict[str, str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors["doc_code"] = "机关代字应为文字"
        return None
    cleaned = value.strip()
    if (
        not cleaned
        or len(cleaned) > 40
        or any(c in cleaned for c in "{}")
        or has_forbidden_chars(cleaned, multiline=False)
    ):
        errors["doc_code"] = "机关代字应为1至40个字符，且不含花括号"
    return cleaned or None


def _parent(value: Any, errors: dict[str, str], agency: Agency | None) -> Agency | None:
    if value is None or value == "":
        return None
    parent = _agency_field(value, errors, "parent")
    if parent is None:
        errors["parent"] = "没有这个上级单位"
        return None
    seen = set()
    walker: Agency | None = parent
    while walker is not None and walker.id not in seen:
        if agency is not None and walker.id == agency.id:
            errors["parent"] = "上级单位不能是本单位或其下级单位"
            return None
        seen.add(walker.id)
        walker = db.session.get(Agency, walker.parent_id) if walker.parent_id else None
    return parent


def _flag(value: Any, name: str, errors: dict[str, str]) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "on", "是"):
        return True
    if value in (None, "", "0", "false", "否"):
        return False
    errors[name] = "应为 true 或 false"
    return False


def create_agency(actor: User | None, data: Mapping[str, Any]) -> Agency:
    """Create an agency from ``kind``, ``division``, ``suffix`` (the code's third part, needed
    for streets and industry departments), ``name``, ``parent`` (code), ``doc_code`` and
    ``can_discover``. Its code is ``{kind}:{division}[:{suffix}]`` and never changes."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in KIND_LABELS:
        errors["kind"] = "请选择单位类别"
    division = data.get("division")
    if division != CITY and division not in DIVISIONS_BY_CODE:
        errors["division"] = "请选择所属行政区划"
    suffix = data.get("suffix") or ""
    if not isinstance(suffix, str) or (suffix and not CODE_SUFFIX.fullmatch(suffix.strip())):
        errors["suffix"] = "代码后缀应为1至30个小写字母、数字或下划线"
        suffix = ""
    suffix = suffix.strip()
    if kind in ("street", "industry") and not suffix and "suffix" not in errors:
        errors["suffix"] = "街道/乡镇和行业部门须填写代码后缀（如 nanping、zhujian）"
    name = _text(data, "name", "单位名称", errors, max_len=120)
    parent = _parent(data.get("parent"), errors, None)
    doc_code = _doc_code(data.get("doc_code"), errors)
    can_discover = _flag(data.get("can_discover", False), "can_discover", errors)
    if errors:
        raise _invalid(errors)
    code = f"{kind}:{division}" + (f":{suffix}" if suffix else "")
    if db.session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        message = f"单位代码 {code} 已存在"
        raise Conflict(message, {"suffix" if suffix else "kind": message})
    agency = Agency(
        code=code,
        name=name,
        kind=str(kind),
        division=str(division),
        can_discover=can_discover,
        doc_code=doc_code,
        parent_id=parent.id if parent else None,
    )
    db.session.add(agency)
    db.session.flush()
    append_event(
        None,
        "agency_created",
        actor=actor,
        data={
            "code": code,
            "name": name,
            "parent": parent.code if parent else None,
            "doc_code": doc_code,
            "can_discover": can_discover,
        },
    )
    _commit(f"单位代码 {code} 已存在", "suffix")
    return agency


def update_agency(actor: User | None, agency: Agency, data: Mapping[str, Any]) -> dict[str, Any]:
    """Change an agency's ``name``, ``parent``, ``doc_code`` (None or "": derived from the
    name again) and/or ``can_discover`` (the keys given). Kind, division and code are fixed:
    cases route to agencies by them."""
    _require_admin(actor)
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for fixed in ("code", "kind", "division"):
        if fixed in data and data[fixed] != getattr(agency, fixed):
            errors[fixed] = "单位代码、类别和行政区划创建后不能修改"
    if "name" in data:
        name = _text(data, "name", "单位名称", errors, max_len=120)
        if name and name != agency.name:
            changes["name"] = [agency.name, name]
    parent: Agency | None = None
    if "parent" in data:
        parent = _parent(data["parent"], errors, agency)
        if (parent.id if parent else None) != agency.parent_id and "parent" not in errors:
            before = db.session.get(Agency, agency.parent_id) if agency.parent_id else None
            changes["parent"] = [before.code if before else None, parent.code if parent else None]
    if "doc_code" in data:
        doc_code = _doc_code(data["doc_code"], errors)
        if doc_code != agency.doc_code and "doc_code" not in errors:
            changes["doc_code"] = [agency.doc_code, doc_code]
    if "can_discover" in data:
        flag = _flag(data["can_discover"], "can_discover", errors)
        if flag != agency.can_discover:
            changes["can_discover"] = [agency.can_discover, flag]
    if errors:
        raise _invalid(errors)
    if not changes:
        return {}
    if "name" in changes:
        agency.name = changes["name"][1]
    if "parent" in changes:
        agency.parent_id = parent.id if parent else None
    if "doc_code" in changes:
        agency.doc_code = changes["doc_code"][1]
    if "can_discover" in changes:
        agency.can_discover = changes["can_discover"][1]
    append_event(
        None, "agency_updated", actor=actor, data={"code": agency.code, "changes": changes}
    )
    db.session.commit()
    return changes


# --------------------------------------------------------------------------- numbering

#: The longest numbering pattern kept.
MAX_PATTERN = 120


def numbering_kinds() -> list[Template]:
    """The counter kinds (templates counting on their own sequence), by kind: the kinds an
    agency may give its own numbering pattern."""
    return sorted((t for t in templates().values() if t.counter is None), key=lambda t: t.kind)


def numbering_template(kind: str) -> Template:
    """The template of the counter ``kind`` counts under (a kind sharing another's counter:
    that one's), or NotFound."""
    template = templates().get(kind)
    if template is None:
        raise NotFound(f"没有文书种类 {kind}")
    return templates()[template.counter_kind]


def numbering_json(agency: Agency, template: Template) -> dict[str, Any]:
    """An agency's numbering of one counter kind: the template's pattern, the agency's own
    (None: none), the one in use and the first number of this year in it."""
    from server.documents import document_number

    own = db.session.get(AgencyNumbering, (agency.id, template.kind))
    return {
        "kind": template.kind,
        "name": template.name,
        "kinds": sorted(t.kind for t in templates().values() if t.counter_kind == template.kind),
        "template_pattern": template.numbering,
        "pattern": own.pattern if own is not None else None,
        "pattern_in_use": own.pattern if own is not None else template.numbering,
        "example": document_number(agency, template, today_shanghai().year, 1),
    }


def agency_numberings(agency: Agency) -> list[dict[str, Any]]:
    """:func:`numbering_json` of every counter kind."""
    return [numbering_json(agency, t) for t in numbering_kinds()]


def _pattern(value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid({"pattern": "文号格式应为文字"})
    pattern = value.strip()
    if not pattern:
        problem = "请填写文号格式（恢复模板格式请用“恢复”）"
    elif len(pattern) > MAX_PATTERN:
        problem = f"文号格式不能超过{MAX_PATTERN}个字符"
    elif has_forbidden_chars(pattern, multiline=False):
        problem = "文号格式含有不允许的控制字符"
    else:
        checked = check_numbering(pattern)
        problem = (
            f"文号格式只能使用 {{agency_short}}、{{year}} 和带格式的 {{seq}}（如 {{seq:04d}}），"
            f"且须有 {{year}} 和 {{seq}}：{checked}"
            if checked
            else ""
        )
    if problem:
        raise _invalid({"pattern": problem})
    return pattern


def set_numbering(actor: User | None, agency: Agency, kind: str, pattern: Any) -> dict[str, Any]:
    """Give ``agency`` its own numbering ``pattern`` for ``kind``'s counter (None: back to the
    template's). The numbers keep counting in the same ``document_counter`` row.

    :returns: the change, ``{"pattern": [before, after]}`` (empty: nothing changed, nothing
        audited).
    :raises NotFound: an unknown kind; :raises FormInvalid: a bad pattern (nothing changed).
    """
    _require_admin(actor)
    template = numbering_template(kind)
    checked = None if pattern is None else _pattern(pattern)
    row = db.session.get(AgencyNumbering, (agency.id, template.kind))
    before = row.pattern if row is not None else None
    if checked == before:
        return {}
    if checked is None:
        db.session.delete(row)
    elif row is None:
        db.session.add(AgencyNumbering(agency_id=agency.id, kind=template.kind, pattern=checked))
    else:
        row.pattern = checked
    changes = {"pattern": [before, checked]}
    append_event(
        None,
        "agency_numbering_changed",
        actor=actor,
        data={
            "code": agency.code,
            "kind": template.kind,
            "template_pattern": template.numbering,
            "changes": changes,
        },
    )
    _commit("文号格式已被同时修改，请重试", "pattern")
    return changes


# --------------------------------------------------------------------------- contacts

CONTACT_FIELDS = ("name", "title", "phone", "email")


def _contact_values(data: Mapping[str, Any], partial: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    limits = {
        "name": ("姓名", 80),
        "title": ("职务", 80),
        "phone": ("电话", 40),
        "email": ("电子邮箱", 120),
    }
    for field, (label, max_len) in limits.items():
        if partial and field not in data:
            continue
        values[field] = _text(data, field, label, errors, max_len=max_len, required=field == "name")
    if values.get("phone") and "phone" not in errors and not PHONE.fullmatch(values["phone"]):
        errors["phone"] = "电话只能包含数字、空格、连字符、括号、加号和“转”"
    if values.get("email") and "email" not in errors and not EMAIL.fullmatch(values["email"]):
        errors["email"] = "电子邮箱格式不正确"
    if errors:
        raise _invalid(errors)
    return values


def contact_of(agency: Agency, contact_id: int) -> AgencyContact:
    """One contact of the agency, or NotFound."""
    contact = db.session.get(AgencyContact, contact_id)
    if contact is None or contact.agency_id != agency.id:
        raise NotFound("没有这个联系人")
    return contact


def add_contact(actor: User | None, agency: Agency, data: Mapping[str, Any]) -> AgencyContact:
    """Add a person to the agency's contact list (at its end)."""
    _require_admin(actor)
    values = _contact_values(data, partial=False)
    last = max((c.position for c in contacts_of(agency)), default=0)
    contact = AgencyContact(
        agency_id=agency.id,
        position=last + 1,
        updated_at=datetime.now(UTC),
        updated_by_id=actor.id if actor else None,
        **values,
    )
    db.session.add(contact)
    db.session.flush()
    append_event(
        None, "contact_added", actor=actor, data={"agency": agency.code, "id": contact.id, **values}
    )
    db.session.commit()
    return contact


def update_contact(
    actor: User | None, agency: Agency, contact: AgencyContact, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Change the given fields of one contact; returns ``{field: [before, after]}``."""
    _require_admin(actor)
    values = _contact_values(data, partial=True)
    changes = {k: [getattr(contact, k), v] for k, v in values.items() if getattr(contact, k) != v}
    if not changes:
        return {}
    for key, (_before, after) in changes.items():
        setattr(contact, key, after)
    contact.updated_at = datetime.now(UTC)
    contact.updated_by_id = actor.id if actor else None
    append_event(
        None,
        "contact_updated",
        actor=actor,
        data={"agency": agency.code, "id": contact.id, "changes": changes},
    )
    db.session.commit()
    return changes


def remove_contact(actor: User | None, agency: Agency, contact: AgencyContact) -> None:
    """Take a person off the agency's contact list."""
    _require_admin(actor)
    data = {
        "agency": agency.code,
        "id": contact.id,
        **{k: getattr(contact, k) for k in CONTACT_FIELDS},
    }
    db.session.delete(contact)
    append_event(None, "contact_removed", actor=actor, data=data)
    db.session.commit()


def role_list(values: Iterable[str]) -> list[str]:
    """Roles in their canonical order (form checkboxes to the service's list)."""
    chosen = set(values)
    return [r for r in ROLES if r in chosen]
