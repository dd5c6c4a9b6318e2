"""The OpenAPI description of :mod:`server.admin.directory_api` (merged into
:func:`server.openapi.build_spec`)."""

from __future__ import annotations

from typing import Any

from server.directory import KIND_LABELS
from server.models import ROLES
from workflows.jurisdiction import CITY, DIVISIONS

ROLE_LIST = {"type": "array", "items": {"type": "string", "enum": list(ROLES)}, "minItems": 1}
DIVISION = {"type": "string", "enum": [CITY, *(d.code for d in DIVISIONS)]}
KIND = {"type": "string", "enum": list(KIND_LABELS)}
PASSWORD = {
    "type": "string",
    "minLength": 10,
    "maxLength": 200,
    "description": "不填则由系统生成，在响应中只返回一次",
}


def _closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def schemas(obj: Any, nullable: Any, ref: Any, page_of: Any, list_of: Any) -> dict[str, Any]:
    """The schemas, built with :mod:`server.openapi`'s helpers."""
    user = {
        "username": {"type": "string", "examples": ["wuling.fire"]},
        "name": {"type": "string"},
        "agency": {"type": "string", "description": "单位代码"},
        "agency_name": {"type": "string"},
        "roles": ROLE_LIST,
        "active": {"type": "boolean", "description": "false：已停用，不能登录"},
    }
    contact = {
        "id": {"type": "integer"},
        "name": {"type": "string", "maxLength": 80},
        "title": {"type": "string", "maxLength": 80, "description": "职务"},
        "phone": {"type": "string", "maxLength": 40},
        "email": {"type": "string", "maxLength": 120},
    }
    contact_input = {k: v for k, v in contact.items() if k != "id"}
    return {
        "User": obj(user, "用户（不含密码）"),
        "UserPage": page_of(ref("User"), "一页用户"),
        "UserCreated": {
            "allOf": [
                ref("User"),
                obj(
                    {
                        "password": nullable(
                            {
                                **PASSWORD,
                                "description": "系统生成的初始密码（只返回这一次）；"
                                "填写了密码时为 null",
                            }
                        )
                    }
                ),
            ]
        },
        "UserInput": _closed(
            {
                "username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{1,79}$"},
                "name": {"type": "string", "minLength": 1, "maxLength": 80},
                "agency": {"type": "string", "description": "单位代码"},
                "roles": ROLE_LIST,
                "password": PASSWORD,
            },
            ("username", "name", "agency", "roles"),
        ),
        "UserChange": _closed(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 80},
                "agency": {"type": "string", "description": "单位代码"},
                "roles": ROLE_LIST,
                "active": {
                    "type": "boolean",
                    "description": "false 停用（其所有登录和令牌立即失效），true 重新启用",
                },
            },
        ),
        "PasswordReset": _closed({"password": PASSWORD}),
        "PasswordResetDone": obj(
            {
                "username": {"type": "string"},
                "password": nullable(
                    {
                        "type": "string",
                        "description": "系统生成的新密码（只返回这一次）；填写了密码时为 null",
                    }
                ),
                "tokens_revoked": {"type": "integer", "minimum": 0},
            },
            "已重设：该用户的所有登录已退出，API 令牌已作废",
        ),
        "AgencyDetail": obj(
            {
                "code": {"type": "string", "examples": ["street:wuling:nanping"]},
                "name": {"type": "string"},
                "kind": KIND,
                "division": DIVISION,
                "parent": nullable({"type": "string", "description": "上级单位代码"}),
                "doc_code": nullable({"type": "string", "description": "管理员设定的机关代字"}),
                "doc_code_in_use": {"type": "string", "description": "文书编号实际使用的机关代字"},
                "can_discover": {"type": "boolean", "description": "可以登记隐患"},
            },
            "单位及其管理员数据",
        ),
        "AgencyPage": page_of(ref("AgencyDetail"), "一页单位"),
        "AgencyInput": _closed(
            {
                "kind": KIND,
                "division": DIVISION,
                "suffix": {
                    "type": "string",
                    "pattern": "^[a-z0-9_]{1,30}$",
                    "description": "单位代码第三段；街道/乡镇和行业部门必填",
                },
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "parent": nullable({"type": "string"}),
                "doc_code": nullable({"type": "string", "maxLength": 40}),
                "can_discover": {"type": "boolean"},
            },
            ("kind", "division", "name"),
        ),
        "AgencyChange": _closed(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "parent": nullable({"type": "string"}),
                "doc_code": nullable(
                    {"type": "string", "maxLength": 40, "description": "null 或空：按单位名称生成"}
                ),
                "can_discover": {"type": "boolean"},
            },
        ),
        "AgencyNumbering": obj(
            {
                "kind": {
                    "type": "string",
                    "description": "计数的文书种类（与之共用编号的种类共用一个格式）",
                    "examples": ["rectification_notice"],
                },
                "name": {"type": "string", "description": "文书名称"},
                "kinds": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "按此格式编号、共用一个序号的文书种类",
                },
                "template_pattern": {"type": "string", "description": "模板的文号格式"},
                "pattern": nullable(
                    {"type": "string", "description": "本单位的文号格式；null：用模板的"}
                ),
                "pattern_in_use": {"type": "string", "description": "实际使用的文号格式"},
                "example": {"type": "string", "description": "按实际格式，今年第1号的样子"},
            },
            "单位某类文书的文号格式",
        ),
        "AgencyNumberingList": obj(
            {
                "agency": {"type": "string"},
                "items": {"type": "array", "items": ref("AgencyNumbering")},
            }
        ),
        "NumberingInput": _closed(
            {
                "pattern": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 120,
                    "description": "只能使用 {agency_short}、{year} 和带格式的 {seq}"
                    "（如 {seq:04d}），须有 {year} 和 {seq}",
                    "examples": ["{agency_short}隐改字〔{year}〕第{seq:03d}号"],
                }
            },
            ("pattern",),
        ),
        "Contact": obj(contact, "通讯录中的一人"),
        "ContactList": obj(
            {"agency": {"type": "string"}, "items": {"type": "array", "items": ref("Contact")}}
        ),
        "ContactInput": _closed(contact_input, ("name",)),
        "ContactChange": _closed(contact_input),
    }


def parameters() -> dict[str, Any]:
    """Path and query parameters."""

    def path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schema,
            "description": description,
        }

    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema, "description": description}

    return {
        "username": path("username", {"type": "string"}, "用户名"),
        "agency_code": path("code", {"type": "string"}, "单位代码，如 street:wuling:nanping"),
        "contact_id": path("contact_id", {"type": "integer"}, "联系人编号"),
        "numbering_kind": path(
            "kind",
            {"type": "string"},
            "文书种类（与其他种类共用编号的，指其计数的种类）",
        ),
        "user_agency": query("agency", {"type": "string"}, "单位代码"),
        "user_role": query("role", {"type": "string", "enum": list(ROLES)}, "角色"),
        "user_active": query("active", {"type": "boolean"}, "true：在用；false：已停用"),
        "agency_division": query("division", DIVISION, "行政区划代码（市级为 city）"),
        "agency_kind": query("kind", KIND, "单位类别"),
    }


def paths(operation: Any, json: Any, param: Any, paging: list[Any]) -> dict[str, Any]:
    """The operations, built with :mod:`server.openapi`'s helpers."""
    body_errors = ("400", "413", "422")
    admin = "（仅管理员；其他用户答 404）"
    return {
        "/users": {
            "get": operation(
                "listUsers",
                "用户列表" + admin,
                {"200": json("UserPage", "一页用户")},
                errors=("404", "422"),
                parameters=[
                    param("user_agency"),
                    param("user_role"),
                    param("user_active"),
                    *paging,
                ],
            ),
            "post": operation(
                "createUser",
                "新建用户" + admin,
                {"201": json("UserCreated", "新用户；未填密码时附系统生成的初始密码")},
                errors=("404", "409", *body_errors),
                body="UserInput",
                description="用户名已被使用时答 409。",
            ),
        },
        "/users/{username}": {
            "get": operation(
                "getUser",
                "一个用户" + admin,
                {"200": json("User", "用户")},
                errors=("404",),
                parameters=[param("username")],
            ),
            "patch": operation(
                "updateUser",
                "修改用户的姓名、单位、角色，或停用/重新启用" + admin,
                {"200": json("User", "修改后的用户")},
                errors=("404", "409", *body_errors),
                parameters=[param("username")],
                body="UserChange",
                description="停用后该用户不能登录，其所有浏览器登录和 API 令牌立即失效。不能停用"
                "自己或取消自己的管理员角色，也不能停用最后一个在用的管理员（409 或 422）。",
            ),
        },
        "/users/{username}/password": {
            "post": operation(
                "resetUserPassword",
                "重设用户密码" + admin,
                {"200": json("PasswordResetDone", "已重设")},
                errors=("404", *body_errors),
                parameters=[param("username")],
                body="PasswordReset",
                description="该用户的所有浏览器登录立即退出，所有 API 令牌作废。",
            ),
        },
        "/agencies": {
            "get": operation(
                "listAgencies",
                "单位列表" + admin,
                {"200": json("AgencyPage", "一页单位")},
                errors=("404", "422"),
                parameters=[param("agency_division"), param("agency_kind"), *paging],
            ),
            "post": operation(
                "createAgency",
                "新建单位" + admin,
                {"201": json("AgencyDetail", "新单位")},
                errors=("404", "409", *body_errors),
                body="AgencyInput",
                description="单位代码为 kind:division[:suffix]，已存在时答 409；创建后不能修改。",
            ),
        },
        "/agencies/{code}": {
            "get": operation(
                "getAgency",
                "一个单位" + admin,
                {"200": json("AgencyDetail", "单位")},
                errors=("404",),
                parameters=[param("agency_code")],
            ),
            "patch": operation(
                "updateAgency",
                "修改单位名称、上级单位、机关代字或可否登记隐患" + admin,
                {"200": json("AgencyDetail", "修改后的单位")},
                errors=("404", *body_errors),
                parameters=[param("agency_code")],
                body="AgencyChange",
            ),
        },
        "/agencies/{code}/numbering": {
            "get": operation(
                "listAgencyNumbering",
                "单位各类文书的文号格式" + admin,
                {"200": json("AgencyNumberingList", "各计数种类的文号格式")},
                errors=("404",),
                parameters=[param("agency_code")],
            ),
        },
        "/agencies/{code}/numbering/{kind}": {
            "get": operation(
                "getAgencyNumbering",
                "单位某类文书的文号格式" + admin,
                {"200": json("AgencyNumbering", "文号格式")},
                errors=("404",),
                parameters=[param("agency_code"), param("numbering_kind")],
            ),
            "put": operation(
                "setAgencyNumbering",
                "设定单位某类文书的文号格式" + admin,
                {"200": json("AgencyNumbering", "设定后的文号格式")},
                errors=("404", *body_errors),
                parameters=[param("agency_code"), param("numbering_kind")],
                body="NumberingInput",
                description="格式与模板的 numbering 同样检查，不合格时答 422（fields.pattern）。"
                "编号在同一计数中接续，改格式不会重新编号或重用编号。",
            ),
            "delete": operation(
                "resetAgencyNumbering",
                "恢复模板的文号格式" + admin,
                {"200": json("AgencyNumbering", "恢复后的文号格式")},
                errors=("404",),
                parameters=[param("agency_code"), param("numbering_kind")],
            ),
        },
        "/agencies/{code}/contacts": {
            "get": operation(
                "listContacts",
                "单位通讯录（本单位用户、辖区督办人和管理员可看；其他用户答 404）",
                {"200": json("ContactList", "通讯录")},
                errors=("404",),
                parameters=[param("agency_code")],
            ),
            "post": operation(
                "addContact",
                "在通讯录中添加联系人" + admin,
                {"201": json("Contact", "新联系人")},
                errors=("404", *body_errors),
                parameters=[param("agency_code")],
                body="ContactInput",
            ),
        },
        "/agencies/{code}/contacts/{contact_id}": {
            "patch": operation(
                "updateContact",
                "修改联系人" + admin,
                {"200": json("Contact", "修改后的联系人")},
                errors=("404", *body_errors),
                parameters=[param("agency_code"), param("contact_id")],
                body="ContactChange",
            ),
            "delete": operation(
                "removeContact",
                "从通讯录中删除联系人" + admin,
                {"204": {"description": "已删除"}},
                errors=("404",),
                parameters=[param("agency_code"), param("contact_id")],
            ),
        },
    }
