"""The OpenAPI 3.1 description of the JSON API (:mod:`server.api`), served at
/api/v1/openapi.json.

Written as data next to the code it describes; a test checks that it is a valid OpenAPI
document and that its paths and methods are exactly the routes the app registers.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from server.admin import directory_openapi
from server.api import (
    CASE_STATUSES,
    DEADLINE_STATES,
    ERROR_CODES,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_YEAR,
    MIN_YEAR,
)
from server.models import ROLES
from server.queries import INBOX_SORTS, ORDERS
from workflows.jurisdiction import DIVISIONS

JSON = "application/json"
DATE_TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (a $ref cannot carry a type, hence oneOf)."""
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A closed object whose properties are all present."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _list(items: dict[str, Any], description: str = "") -> dict[str, Any]:
    return _object({"items": {"type": "array", "items": items}}, description)


def _page_of(items: dict[str, Any], description: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": items},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
        },
        description,
    )


def _schemas() -> dict[str, Any]:
    agency = _object(
        {
            "code": {"type": "string", "examples": ["fire_brigade:wuling"]},
            "name": {"type": "string", "examples": ["武陵区消防救援大队"]},
            "kind": {"type": "string"},
            "division": {"type": "string", "description": "行政区划代码；市级机构为 city"},
        }
    )
    task_properties = {
        "id": {"type": "string"},
        "name": {"type": "string", "description": "BPMN 任务标识，即表单名"},
        "label": {"type": "string", "description": "办理环节中文名"},
        "lane": {"type": "string"},
        "state": {"type": "string", "enum": ["ready", "completed", "cancelled"]},
        "agency": _ref("Agency"),
        "case_id": {"type": "integer"},
        "created_at": {**DATE_TIME, "description": "到达时间（任务进入本单位待办的时间）"},
        "new": {"type": "boolean", "description": "“新”：24小时内到达的待办任务"},
        "due_at": _nullable(DATE_TIME),
        "overdue": {
            "type": "boolean",
            "description": "逾期未办：守护本任务的法定期限已过且未完成（见 docs/overdue.md）",
        },
        "working_days_overdue": {"type": "integer", "minimum": 0},
        "due_soon": {
            "type": "boolean",
            "description": "即将到期：尚未到期，且距截止日期不超过系统参数"
            " due_soon_working_days 个工作日（默认3）",
        },
        "claimed_by": _nullable(_ref("Person")),
        "claimed_at": _nullable(DATE_TIME),
        "completed_at": _nullable(DATE_TIME),
    }
    deadline_properties = {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "timer": {"type": "string", "examples": ["referral_deadline"]},
        "label": {"type": "string", "examples": ["函告消防救援机构 5个工作日"]},
        "guards": _nullable({"type": "string"}),
        "task_id": _nullable({"type": "string"}),
        "agency": _nullable(_ref("Agency")),
        "due_at": DATE_TIME,
        "provisional": {
            "type": "boolean",
            "description": "暂定期限：所涉年度尚无国务院办公厅放假安排"
            "（节假日按放假办法推算，调休未知），录入该年度安排或日历数据包升级后重新计算",
        },
        "state": {"type": "string", "enum": ["pending", "met", "missed"]},
        "status": {
            "type": "string",
            "enum": ["pending", "overdue", "met", "met_late", "lapsed"],
            "description": "pending 未到期；overdue 逾期未办；met 按期办结；met_late 逾期后办结；"
            "lapsed 逾期未办，案件已办结（见 docs/overdue.md）",
        },
        "overdue": {
            "type": "boolean",
            "description": "逾期未办：案件办理中，期限已过而所守护的环节尚未完成",
        },
        "met_at": _nullable(DATE_TIME),
        "missed_at": _nullable(DATE_TIME),
    }
    return {
        "Error": {
            "type": "object",
            "properties": {
                "error": {"type": "string", "enum": sorted({*ERROR_CODES.values(), "error"})},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "字段（表单字段路径，如 participants.2.name）→ 中文提示",
                },
            },
            "required": ["error", "message", "fields"],
            "additionalProperties": False,
        },
        "Agency": agency,
        "Person": _object({"username": {"type": "string"}, "name": {"type": "string"}}),
        "Me": _object(
            {
                "username": {"type": "string"},
                "name": {"type": "string"},
                "agency": _ref("Agency"),
                "roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
                "can_register": {"type": "boolean", "description": "可以登记隐患（发起案件）"},
            }
        ),
        "MailSettings": _object(
            {
                "email": _nullable({"type": "string", "format": "email", "maxLength": 254}),
                "mail_enabled": {"type": "boolean", "description": "消息同时以邮件发送"},
                "mail_available": {
                    "type": "boolean",
                    "description": "本系统已配置邮件服务器（未配置时设置保存，但不发送）",
                },
            }
        ),
        "MailSettingsUpdate": {
            "type": "object",
            "properties": {
                "email": {"type": ["string", "null"], "maxLength": 254},
                "mail_enabled": {"type": "boolean"},
            },
            "required": ["email", "mail_enabled"],
            "additionalProperties": False,
        },
        "TokenRequest": {
            "type": "object",
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
            "required": ["username", "password"],
            "additionalProperties": False,
        },
        "Token": _object({"token": {"type": "string"}, "expires_at": DATE_TIME}),
        "Process": _object(
            {
                "id": {"type": "string", "examples": ["major_hazard"]},
                "name": {"type": "string"},
                "version": {"type": "string"},
                "start_task": {"type": "string", "examples": ["register_hazard"]},
                "form": {"type": "object", "description": "发起表单的 JSON Schema（2020-12）"},
            }
        ),
        "NewCase": {
            "type": "object",
            "properties": {
                "process": {"type": "string", "examples": ["major_hazard"]},
                "data": {"type": "object", "description": "发起表单的数据"},
            },
            "required": ["process", "data"],
            "additionalProperties": False,
        },
        "BulkClaim": {
            "type": "object",
            "properties": {
                "tasks": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": 100,
                    "description": "要认领的任务标识",
                }
            },
            "required": ["tasks"],
            "additionalProperties": False,
        },
        "Reassignment": {
            "type": "object",
            "properties": {"to": {"type": "string", "description": "本单位同事的用户名"}},
            "required": ["to"],
            "additionalProperties": False,
        },
        "Completion": {
            "type": "object",
            "properties": {
                "data": {"type": "object", "description": "任务表单的数据"},
                "late_reason": {
                    "type": ["string", "null"],
                    "maxLength": 500,
                    "description": "逾期原因：任务已超过办理期限（due_at 已过）时必填，"
                    "缺少时答 422（fields.late_reason）；记入审计事件 task_completed",
                },
            },
            "required": ["data"],
            "additionalProperties": False,
        },
        "AgencyName": _object(
            {"code": {"type": "string"}, "name": {"type": "string"}}, "机构代码和名称"
        ),
        "CompletionResult": _object(
            {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "version": {
                    "type": "integer",
                    "description": "案件的版本号：每次改动加一（并发改动同一案件时后者答 409）",
                },
                "status": {"type": "string", "enum": ["open", "closed"]},
                "stage": {"type": "string", "description": "当前待办环节的名称（已办结：已办结）"},
                "next_tasks": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "label": {"type": "string"},
                            "agency": _nullable(_ref("AgencyName")),
                            "due_at": _nullable(DATE_TIME),
                        }
                    ),
                    "description": "本次办理开启的下一环节：承办单位 agency、期限 due_at",
                },
                "deadlines": {
                    "type": "array",
                    "items": _object(
                        {
                            key: deadline_properties[key]
                            for key in (
                                "id",
                                "timer",
                                "label",
                                "task_id",
                                "provisional",
                                "state",
                                "status",
                                "overdue",
                                "due_at",
                            )
                        }
                        | {"agency": _nullable(_ref("AgencyName"))}
                    ),
                    "description": "案件的全部法定期限（完整的案件详情见 GET /cases/{id}）",
                },
            },
            "办结后的案件版本、状态和下一环节（完整的案件详情见 GET /cases/{id}）",
        ),
        "Draft": _object(
            {
                "task_id": {"type": "string"},
                "data": {"type": "object", "description": "保存时的表单数据（未校验）"},
                "late_reason": _nullable({"type": "string"}),
                "saved_at": DATE_TIME,
            },
            "当前用户保存的任务表单草稿",
        ),
        "DraftRequest": {
            "type": "object",
            "properties": {
                "data": {"type": "object", "description": "表单数据（不校验，可不完整）"},
                "late_reason": {"type": ["string", "null"], "maxLength": 500},
            },
            "required": ["data"],
            "additionalProperties": False,
        },
        "Attachment": _object(
            {
                "id": {"type": "integer"},
                "filename": {"type": "string"},
                "mime": {"type": "string"},
                "size": {"type": "integer", "minimum": 1},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "uploaded_by": _nullable(_ref("Person")),
                "uploaded_at": DATE_TIME,
                "url": {"type": "string", "description": "下载地址"},
            }
        ),
        "AttachmentList": _list(_ref("Attachment")),
        "CaseSummary": _object(
            {
                "id": {"type": "integer"},
                "number": {"type": "string", "examples": ["DB2026-000017"]},
                "case_no": _nullable({"type": "string"}),
                "process": {"type": "string"},
                "process_version": {"type": "string"},
                "status": {"type": "string", "enum": list(CASE_STATUSES)},
                "stage": {"type": "string"},
                "district": {"type": "string"},
                "district_name": {"type": "string"},
                "unit_name": {"type": "string"},
                "address": {"type": "string"},
                "discoverer_agency": _ref("Agency"),
                "opened_at": DATE_TIME,
                "closed_at": _nullable(DATE_TIME),
                "overdue": {"type": "boolean", "description": "有已错过或已过期未完成的期限"},
                "needs_attention": {"type": "boolean"},
                "campaign_area": _nullable(
                    {"type": "string", "description": "专项整治领域代码（仅火灾隐患案件）"}
                ),
            }
        ),
        "Task": _object(task_properties),
        "CaseTask": _object({**task_properties, "workable": {"type": "boolean"}}),
        "InboxTask": _object({**task_properties, "case": _ref("CaseSummary")}),
        "TaskDetail": _object(
            {
                **task_properties,
                "form": {"type": "object", "description": "任务表单的 JSON Schema（2020-12）"},
                "data": _nullable(
                    {
                        "type": "object",
                        "description": "本环节最近一次提交的表单数据（循环环节为上一轮的数据）",
                    }
                ),
                "case": _ref("CaseSummary"),
                "documents": {
                    "type": "array",
                    "items": _ref("ShownDocument"),
                    "description": "本环节办理所依据的文书（如政府决定的请示、立案的函告书）",
                },
            }
        ),
        "Deadline": _object(deadline_properties),
        "DeadlineRow": _object({**deadline_properties, "case": _ref("CaseSummary")}),
        "TimelineEntry": _object(
            {
                "seq": {"type": "integer"},
                "kind": {"type": "string"},
                "at": DATE_TIME,
                "actor": _nullable(_ref("Person")),
                "agency": _nullable(_ref("Agency")),
                "task": _nullable({"type": "string"}),
                "label": _nullable({"type": "string"}),
            }
        ),
        "Event": _object(
            {
                "seq": {"type": "integer"},
                "kind": {"type": "string"},
                "at": DATE_TIME,
                "actor": _nullable(_ref("Person")),
                "agency": _nullable(_ref("Agency")),
                "task": _nullable({"type": "string"}),
                "data": {"type": "object"},
                "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            },
            "审计事件：hash = SHA-256(prev_hash + 事件内容的规范 JSON)，按案件成链",
        ),
        "Verdict": {
            "type": "object",
            "description": "登记时作出（或预判）的决定（重大火灾隐患：judgement_major、"
            "judgement_basis、judgement_edition 所用标准版本、"
            "judgement_applicable_edition 发现之日施行的版本、"
            "judgement_superseded 是否仅供参考；火灾：fire_level、procedure、"
            "investigating_level、warning_scope 等及其依据；lines 为页面显示的中文行）",
            "properties": {
                "lines": {
                    "type": "array",
                    "items": _object(
                        {
                            "label": {"type": "string"},
                            "value": {"type": "string"},
                            "basis": {"type": "string"},
                        }
                    ),
                }
            },
            "required": ["lines"],
        },
        "VerdictPreview": _object({"verdict": _ref("Verdict")}, "预判结果（未登记案件）"),
        "CaseDetail": {
            "allOf": [
                _ref("CaseSummary"),
                _object(
                    {
                        "tasks": {"type": "array", "items": _ref("CaseTask")},
                        "deadlines": {"type": "array", "items": _ref("Deadline")},
                        "timeline": {"type": "array", "items": _ref("TimelineEntry")},
                        "verdict": {"anyOf": [_ref("Verdict"), {"type": "null"}]},
                        "classification": _nullable(_ref("Classification")),
                    }
                ),
            ]
        },
        "Classification": _object(
            {
                "campaign_area": _nullable({"type": "string"}),
                "campaign_area_name": {"type": "string", "description": "未分类 when none"},
                "responsible_department": _nullable(_ref("Agency")),
            },
            "火灾隐患的专项整治领域和行业主管部门（两个清单、月报按此统计）",
        ),
        "ClassificationRequest": {
            "type": "object",
            "properties": {
                "campaign_area": {"type": "string", "description": "专项整治领域代码"},
                "responsible_department": {
                    "type": "string",
                    "description": "行业主管部门的机构代码；空字符串表示不指定",
                },
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
            },
            "required": ["campaign_area", "responsible_department", "reason"],
            "additionalProperties": False,
        },
        "CalendarEntry": {
            "type": "object",
            "properties": {
                "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                "workdays": {
                    "type": "array",
                    "items": {"type": "string", "format": "date"},
                    "description": "调休上班日（周六或周日）",
                },
                "year": {"type": "integer"},
            },
            "additionalProperties": False,
        },
        "CalendarYear": _object(
            {
                "year": {"type": "integer"},
                "source": {
                    "type": "string",
                    "enum": ["statutory", "admin", "computed", "none"],
                    "description": "数据来源：statutory 系统内置的国务院办公厅放假安排"
                    "（chinese-calendar）；admin 管理员录入；computed 尚无放假安排，按《全国年节及"
                    "纪念日放假办法》（2024年修订）第二条推算节日、第六条补假，调休未知（暂定）；"
                    "none 无数据，仅按周末计算（暂定）",
                },
                "provisional": {
                    "type": "boolean",
                    "description": "落在该年度的期限是否为暂定（source 为 computed 或 none）",
                },
                "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                "workdays": {"type": "array", "items": {"type": "string", "format": "date"}},
                "computed_holidays": {
                    "type": "array",
                    "description": "source 为 computed 时，按放假办法推算的各节日；其他来源为空",
                    "items": _object(
                        {
                            "key": {
                                "type": "string",
                                "enum": [
                                    "new_year",
                                    "spring_festival",
                                    "qingming",
                                    "labour_day",
                                    "dragon_boat",
                                    "mid_autumn",
                                    "national_day",
                                ],
                            },
                            "name": {"type": "string", "examples": ["春节"]},
                            "days": {
                                "type": "array",
                                "items": {"type": "string", "format": "date"},
                                "description": "第二条规定的放假日期",
                            },
                            "makeup": {
                                "type": "array",
                                "items": {"type": "string", "format": "date"},
                                "description": "第六条补假日期"
                                "（节日适逢周六、周日或与其他节日同日）",
                            },
                            "basis": {"type": "string"},
                        }
                    ),
                },
            }
        ),
        "LegalSetting": _object(
            {
                "key": {"type": "string"},
                "label": {"type": "string"},
                "type": {"type": "string", "enum": ["integer", "number", "boolean", "string"]},
                "unit": {"type": "string"},
                "value": {"description": "现行取值"},
                "default": {"description": "默认值"},
                "changed": {"type": "boolean", "description": "管理员已改为非默认值"},
                "min": {"type": ["number", "null"]},
                "max": {"type": ["number", "null"]},
                "basis": {"type": "string", "description": "法律依据，或为何作为管理员数据"},
                "used_by": {"type": "string"},
                "updated_at": {"type": ["string", "null"], "format": "date-time"},
                "updated_by": {"type": ["string", "null"]},
                "scope": {
                    "type": "string",
                    "enum": ["legal", "app"],
                    "description": "legal：法定参数，新登记的案件记录当时的取值；"
                    "app：系统参数（如 due_soon_working_days），即时生效",
                },
            },
            "由省级规定或尚未查到条文原文的法定数字，以及系统参数：管理员数据，附默认值和依据",
        ),
        "LegalSettingList": _list(_ref("LegalSetting")),
        "LegalSettingValue": {
            "type": "object",
            "properties": {"value": {"description": "新的取值；null 表示恢复默认值"}},
            "required": ["value"],
            "additionalProperties": False,
        },
        "CalendarYearSaved": {
            "allOf": [
                _ref("CalendarYear"),
                _object(
                    {
                        "recomputed": _object(
                            {
                                "cases": {"type": "integer"},
                                "deadlines": {"type": "integer"},
                                "failed": {"type": "integer"},
                            },
                            "重新计算的案件数、期限数和失败的案件数",
                        )
                    }
                ),
            ]
        },
        "ProcessList": _list(_ref("Process")),
        "EventList": _list(_ref("Event")),
        "Document": _object(
            {
                "id": {"type": "integer"},
                "kind": {"type": "string", "description": "文书种类（documents/ 中模板的 kind）"},
                "title": {"type": "string"},
                "number": {"type": "string", "description": "文号，如 武消隐改字〔2026〕第0017号"},
                "issued_at": DATE_TIME,
                "issuer": _ref("Agency"),
                "issued_by": _nullable(_ref("Person")),
                "task": {"type": "string", "description": "生成该文书的环节（任务标识）"},
                "void": {"type": "boolean", "description": "已作废（文号保留，不再使用）"},
                "void_reason": _nullable({"type": "string", "description": "更正原因"}),
                "voided_at": _nullable(DATE_TIME),
                "voided_by": _nullable(_ref("Person")),
                "replaced_by": _nullable({"type": "integer", "description": "更正后的文书（id）"}),
                "replaced_by_number": _nullable(
                    {"type": "string", "description": "更正后的文书文号"}
                ),
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "url": {"type": "string", "description": "PDF 下载地址"},
            },
            "案件中生成的文书（PDF 作为案件附件保存一次，生成时记入审计链 document_issued）",
        ),
        "DocumentCorrection": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reason"],
            "properties": {
                "fields": {
                    "type": "object",
                    "description": "更正的字段及其更正后的值（生成该文书的环节表单中、文书所用的"
                    "字段；文号和决定流程走向的字段不能更正，答 422 并指明字段）",
                },
                "reason": {"type": "string", "minLength": 1, "description": "更正原因（必填）"},
            },
            "description": "文书更正",
        },
        "DocumentText": _object(
            {
                "kind": {"type": "string"},
                "name": {"type": "string", "description": "文种名称"},
                "layout": {"type": "string", "enum": ["letter", "notice", "report"]},
                "title": {"type": "string"},
                "number": {"type": "string", "description": "文号"},
                "issuer": {"type": "string", "description": "发文机关"},
                "addressee": {"type": "string", "description": "主送机关或当事人"},
                "addressee_label": {"type": "string"},
                "date": {"type": "string", "description": "成文日期，如 2026年10月9日"},
                "paragraphs": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "正文各段（事实、处理意见等），与生成时一致",
                },
                "receipt": {"type": "array", "items": {"type": "string"}},
                "signer": {"type": "string", "description": "签发人（上行文），无则为空"},
                "cc": {"type": "string", "description": "抄送机关，无则为空"},
            },
            "文书生成时填写的正文（不随案件数据的后续变化而改变）",
        ),
        "ShownDocument": {
            "allOf": [
                _ref("Document"),
                _object(
                    {
                        "text": _nullable(_ref("DocumentText")),
                    },
                    "text 为生成时保存的正文；保存正文之前生成的文书为 null（仅提供 PDF）",
                ),
            ]
        },
        "DocumentList": _list(_ref("Document")),
        "CasePage": _page_of(_ref("CaseSummary"), "一页案件"),
        "InboxPage": _page_of(_ref("InboxTask"), "一页待办任务"),
        "TaskList": _list(_ref("Task")),
        "DeadlinePage": _page_of(_ref("DeadlineRow"), "一页期限"),
        "PublicWarning": _object(
            {
                "id": {"type": "integer"},
                "scope": {"type": "string", "enum": ["county", "city", "province"]},
                "scope_label": {"type": "string"},
                "district": {"type": "string"},
                "fire_level": {"type": "string"},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "published_on": {"type": "string", "format": "date"},
                "province_report": _nullable({"type": "string"}),
                "publisher": agency,
                "case_id": _nullable({"type": "integer"}),
            }
        ),
        "WarningPage": _page_of(_ref("PublicWarning"), "一页预警公告"),
        **_report_list_schemas(),
        **_report_submission_schemas(),
        **directory_openapi.schemas(_object, _nullable, _ref, _page_of, _list),
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_submission_schemas() -> dict[str, Any]:
    """The reports' submissions (server/report_cases.py)."""
    when = {"type": ["string", "null"], "format": "date-time"}
    report = {
        "type": "object",
        "required": ["id", "kind", "period", "title", "agency", "case_id", "stage", "late"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["monthly", "annual"],
                     "description": "monthly 月报（附件8），annual 年度工作报告"},
            "period": {"type": "string", "description": "月份 YYYY-MM 或年度 YYYY"},
            "title": {"type": "string"},
            "agency": {"type": "object", "description": "报送单位",
                       "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
            "scope": {"type": "object",
                      "description": "统计范围（district 县市区 / department 行业部门）",
                      "properties": {"kind": {"type": "string"}, "code": {"type": "string"}}},
            "case_id": {"type": "integer"},
            "case_number": {"type": "string"},
            "stage": {"type": "string", "enum": ["draft", "returned", "submitted", "accepted"],
                      "description": "draft 待报送，returned 已退回，submitted 已报送待审核，"
                                     "accepted 已采纳"},
            "stage_label": {"type": "string"},
            "late": {"type": "boolean", "description": "报送期限是否已逾期（逾期报送或逾期未报）"},
            "due_at": when,
            "generated_at": when,
            "refreshed_at": when,
            "submitted_at": when,
            "returned_at": when,
            "return_reason": {"type": ["string", "null"]},
            "accepted_at": when,
            "remarks": {"type": ["object", "null"],
                        "description": "报送时填写的填报人、审核人、联系电话、工作情况、备注"
                                       "（仅单份报告）"},
            "snapshot": {"type": "object",
                         "description": "生成或重新生成时冻结的报表数据（仅单份报告）"},
        },
    }  # fmt: skip
    return {
        "Report": report,
        "ReportSubmissions": {
            "type": "object",
            "required": ["kind", "period", "items", "consolidated"],
            "properties": {
                "kind": {"type": "string"},
                "period": {"type": "string"},
                "items": {"type": "array", "items": _ref("Report")},
                "consolidated": {
                    "type": "array",
                    "description": "月报的全市汇总：各县市区合计一行，最后一行为合计",
                    "items": {"type": "object", "properties": {
                        "name": {"type": "string"},
                        "values": {"type": "object", "additionalProperties": {"type": "integer"}},
                    }},
                },
            },
        },
    }  # fmt: skip


def _report_list_filters() -> list[dict[str, Any]]:
    """The query filters of the 两个清单."""
    return [
        {"name": n, "in": "query", "schema": {"type": "string"}, "description": d}
        for n, d in (
            ("district", "县市区代码，如 wuling"),
            ("department", "行业主管部门的机构代码，如 industry:city:wenlv"),
            ("area", "专项整治领域代码（bpmn/campaign_areas.json），如 crowded_places"),
            ("status", "open（办理中）或 closed（已办结）"),
        )
    ]


def _report_list_schemas() -> dict[str, Any]:
    """The rows of the 两个清单 (server/reports_lists.py COLUMNS), one schema per list."""
    from server.reports_lists import COLUMNS

    kinds = {
        "text": {"type": "string"},
        "date": _nullable({"type": "string", "format": "date"}),
        "number": _nullable({"type": "number"}),
    }
    rows = {
        which: _object(
            {"case_id": {"type": "integer"}, **{c.key: kinds[c.kind] for c in columns}},
            f"{title}的一行（表头：" + "、".join(c.header for c in columns) + "）",
        )
        for (which, columns), title in zip(
            COLUMNS.items(), ("问题隐患清单", "整改责任清单"), strict=True
        )
    }
    return {
        "ProblemListRow": rows["problems"],
        "ResponsibilityListRow": rows["responsibilities"],
        "ReportListPage": _page_of(
            {"oneOf": [_ref("ProblemListRow"), _ref("ResponsibilityListRow")]},
            "一页清单（problems：问题隐患清单；responsibilities：整改责任清单）",
        ),
    }


ERROR_RESPONSES = {
    "400": ("BadRequest", "请求内容不是 JSON 对象"),
    "401": ("Unauthorized", "缺少或无效的访问令牌"),
    "403": ("Forbidden", "无权执行此操作"),
    "404": ("NotFound", "不存在，或不在本单位的可见范围内"),
    "409": ("Conflict", "任务已办结、已由他人认领，或案件已被他人更新"),
    "413": ("TooLarge", "请求内容过大"),
    "415": ("UnsupportedType", "不支持的文件类型，或文件内容与扩展名不符"),
    "422": ("Invalid", "字段有误：见 fields"),
    "429": ("TooManyAttempts", "登录失败次数过多，须等待后再试；Retry-After 为剩余秒数"),
    "default": ("Error", "其他错误（如 405、500），格式相同"),
}


def _responses() -> dict[str, Any]:
    return {
        name: {"description": text, "content": {JSON: {"schema": _ref("Error")}}}
        for name, text in ERROR_RESPONSES.values()
    }


def _parameters() -> dict[str, Any]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema, "description": description}

    return {
        "page": query(
            "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "页码"
        ),
        "per_page": query(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
            "每页条数",
        ),
        "district": query(
            "district", {"type": "string", "enum": [d.code for d in DIVISIONS]}, "行政区划代码"
        ),
        "process": query("process", {"type": "string"}, "流程标识，如 major_hazard"),
        "overdue": query(
            "overdue",
            {"type": "boolean"},
            "true：只要逾期未办的；false：只要未逾期的（定义见 docs/overdue.md）",
        ),
        "case_id": {
            "name": "case_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
        "task_id": {
            "name": "task_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        },
        "attachment_id": {
            "name": "attachment_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
        "document_id": {
            "name": "document_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
        "setting_key": {
            "name": "key",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[a-z0-9_]+$"},
        },
        "report_id": {
            "name": "report_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
        "which": {
            "name": "which",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": ["problems", "responsibilities"]},
            "description": "清单：problems 问题隐患清单，responsibilities 整改责任清单",
        },
        "year": {
            "name": "year",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
        },
        **directory_openapi.parameters(),
    }


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    errors: tuple[str, ...] = (),
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    public: bool = False,
    description: str = "",
) -> dict[str, Any]:
    """One operation; every authenticated one may answer 401, every one an Error by default."""
    codes = (*(errors if public else ("401", *errors)), "default")
    refs = {code: f"#/components/responses/{ERROR_RESPONSES[code][0]}" for code in codes}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {**responses, **{code: {"$ref": ref} for code, ref in refs.items()}},
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(body)}},
        }
    if public:
        operation["security"] = []
    return operation


PRINT_RESPONSE: dict[str, Any] = {
    "200": {
        "description": "加盖打印标记的文书 PDF",
        "headers": {
            "X-Print-Count": {
                "description": "该文书的第几次打印",
                "schema": {"type": "integer"},
            }
        },
        "content": {
            "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}
        },
    }
}


def _paths() -> dict[str, Any]:
    paging = [_param("page"), _param("per_page")]
    body_errors = ("400", "413", "422")
    return {
        "/tokens": {
            "post": _operation(
                "createToken",
                "用用户名和密码换取访问令牌",
                {"201": _json("Token", "新的访问令牌（30天有效）")},
                errors=("401", "429", *body_errors),
                body="TokenRequest",
                public=True,
                description="之后的请求带上请求头 Authorization: Bearer <token>。",
            ),
            "delete": _operation(
                "deleteToken", "注销本次请求所用的访问令牌", {"204": {"description": "已注销"}}
            ),
        },
        "/me": {
            "get": _operation("getMe", "当前用户、单位和角色", {"200": _json("Me", "当前用户")})
        },
        "/me/mail": {
            "get": _operation(
                "getMyMail",
                "当前用户的电子邮箱和邮件提醒设置",
                {"200": _json("MailSettings", "邮件设置")},
            ),
            "put": _operation(
                "putMyMail",
                "设置电子邮箱和是否以邮件接收消息（“我的账户”页面的对应接口）",
                {"200": _json("MailSettings", "保存后的邮件设置")},
                errors=("400", "413", "422"),
                body="MailSettingsUpdate",
                description="email 为 null 表示不留邮箱；mail_enabled 为 true 时必须有邮箱。"
                "地址格式不对答 422，fields.email 说明原因。",
            ),
        },
        "/processes": {
            "get": _operation(
                "listProcesses",
                "可发起的流程及其发起表单",
                {"200": _json("ProcessList", "可发起的流程；无登记权限的用户为空列表")},
            )
        },
        "/cases": {
            "get": _operation(
                "listCases",
                "可见的案件（最新的在前）",
                {"200": _json("CasePage", "一页案件")},
                errors=("422",),
                parameters=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(CASE_STATUSES)},
                    },
                    _param("district"),
                    _param("process"),
                    _param("overdue"),
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "关键词：单位名称、地址、督办编号或立案号（包含即匹配）",
                    },
                    *paging,
                ],
                description="overdue=true：办理中、有法定期限已过而所守护环节尚未完成的案件"
                "（docs/overdue.md）；已办结的案件不算逾期。未知的查询参数或取值答 422。",
            ),
            "post": _operation(
                "createCase",
                "登记隐患，发起案件",
                {"201": _json("CaseDetail", "新案件")},
                errors=("403", "409", *body_errors),
                body="NewCase",
            ),
        },
        "/cases/preview": {
            "post": _operation(
                "previewCase",
                "预判：按填写的登记内容作出 GB 35181 初步判定（注明所用标准版本）或火灾定级，"
                "不登记案件",
                {"200": _json("VerdictPreview", "预判结果")},
                errors=("403", *body_errors),
                body="NewCase",
            ),
        },
        "/cases/{case_id}": {
            "get": _operation(
                "getCase",
                "案件详情：待办任务、期限、时间线",
                {"200": _json("CaseDetail", "案件")},
                errors=("404",),
                parameters=[_param("case_id")],
            )
        },
        "/cases/{case_id}/events": {
            "get": _operation(
                "listCaseEvents",
                "案件的审计事件（哈希链顺序）",
                {"200": _json("EventList", "审计事件")},
                errors=("404",),
                parameters=[_param("case_id")],
            )
        },
        "/cases/{case_id}/classification": {
            "put": _operation(
                "reclassifyCase",
                "修改火灾隐患的专项整治领域和行业主管部门（仅督办人；其他用户答 404）",
                {"200": _json("Classification", "修改后的分类")},
                errors=("400", "404", "409", "413", "422"),
                parameters=[_param("case_id")],
                body="ClassificationRequest",
                description="修改写入案件办理记录（case_reclassified：原分类、新分类和修改原因）；"
                "分类没有变化时不写入。非火灾隐患案件答 409；领域、部门不在可选值内或原因为空答 "
                "422 并指明字段。",
            )
        },
        "/cases/{case_id}/documents": {
            "get": _operation(
                "listCaseDocuments",
                "案件中生成的文书（按生成顺序）",
                {"200": _json("DocumentList", "文书")},
                errors=("404",),
                parameters=[_param("case_id")],
            )
        },
        "/cases/{case_id}/documents/{document_id}.pdf": {
            "get": _operation(
                "getCaseDocument",
                "下载文书 PDF（下载前按生成时记录的 SHA-256 重新校验，文件被改动答 409）",
                {
                    "200": {
                        "description": "文书 PDF",
                        "content": {
                            "application/pdf": {
                                "schema": {"type": "string", "contentMediaType": "application/pdf"}
                            }
                        },
                    }
                },
                errors=("404", "409"),
                parameters=[_param("case_id"), _param("document_id")],
            )
        },
        "/cases/{case_id}/documents/{document_id}/print": {
            "post": _operation(
                "printCaseDocument",
                "打印文书（记入审计链 document_printed，返回加盖打印标记的 PDF）",
                PRINT_RESPONSE,
                errors=("404", "409"),
                parameters=[_param("case_id"), _param("document_id")],
                description="打印人、文号、原件 SHA-256、打印次数记入本案审计链"
                "（document_printed）；返回的 PDF 在每页下边距加盖“打印件 第N次 打印人 时间”。"
                "下载（GET …/documents/{document_id}.pdf）仍返回原件且不记录。"
                "已作废的文书答 409。只接受 POST。",
            )
        },
        "/cases/{case_id}/documents/{document_id}/correction": {
            "post": _operation(
                "correctCaseDocument",
                "更正文书：原文书作废（保留文号），按更正内容重新生成并编下一个文号",
                {"201": _json("Document", "更正后生成的文书")},
                errors=("400", "404", "409", "413", "422"),
                parameters=[_param("case_id"), _param("document_id")],
                body="DocumentCorrection",
                description="仅生成该文书的单位的承办人员可以更正（其他用户答 404）。在一个事务中："
                "修正生成该文书的环节表单中保存的数据（原值记入审计事件），原文书标记作废（原因、时间、"
                "更正人、更正后文书），按同一编号序列生成新文书；审计链依次记入 document_voided 和 "
                "document_issued。已作废的文书答 409；字段有误答 422 并指明字段，不作任何改动。",
            )
        },
        "/cases/{case_id}/dossier.pdf": {
            "post": _operation(
                "printCaseDossier",
                "打印案卷 PDF（仅审计/督查人员和督办人；其他用户答 404）",
                {
                    "200": {
                        "description": "A4 案卷：封面、摘要、流程图、办理记录、附件、审计链校验",
                        "headers": {
                            "X-Audit-Chain": {
                                "description": "打印时审计链校验结果：ok 或 failed",
                                "schema": {"type": "string", "enum": ["ok", "failed"]},
                            }
                        },
                        "content": {
                            "application/pdf": {
                                "schema": {"type": "string", "contentMediaType": "application/pdf"}
                            }
                        },
                    }
                },
                errors=("404", "409"),
                parameters=[_param("case_id")],
                description="打印时校验本案审计事件的哈希链，结果写在案卷中；打印本身作为"
                "审计事件 dossier_printed 在校验之后记入本案。因为打印会写入审计日志，只接受 "
                "POST（请求体为空，凭 Bearer 令牌）；GET 答 405。",
            )
        },
        "/inbox": {
            "get": _operation(
                "getInbox",
                "本单位的待办任务（最早到期的在前，无期限的在后）",
                {"200": _json("InboxPage", "一页待办任务")},
                errors=("422",),
                parameters=[
                    _param("process"),
                    _param("district"),
                    {
                        "name": "stage",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "办理环节（任务标识），如 file_case",
                    },
                    _param("overdue"),
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "关键词：单位名称、地址、督办编号或立案号（包含即匹配）",
                    },
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(INBOX_SORTS), "default": "due"},
                        "description": "排序：due 截止时间，arrival 到达时间，unit 单位名称，"
                        "step 办理环节，district 辖区",
                    },
                    {
                        "name": "order",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(ORDERS), "default": "asc"},
                        "description": "asc 升序，desc 降序",
                    },
                    *paging,
                ],
            )
        },
        "/tasks/claim": {
            "post": _operation(
                "claimTasks",
                "批量认领任务（全部成功或全部不认领）",
                {"200": _json("TaskList", "已认领的任务")},
                errors=("404", "409", *body_errors),
                body="BulkClaim",
                description="任一任务不属于本单位答 404；任一任务已办结或已由他人认领答 409，"
                "message 列出这些任务，且一项也不认领。本人已认领的任务视为认领成功。",
            )
        },
        "/tasks/{task_id}/reassign": {
            "post": _operation(
                "reassignTask",
                "转办：把本人认领的任务转给本单位同事",
                {"200": _json("Task", "已转办，认领人为该同事")},
                errors=("404", "409", *body_errors),
                parameters=[_param("task_id")],
                body="Reassignment",
                description="转办记入本案审计链（task_reassigned），并给该同事发一条消息。"
                "同事不是本单位的办理人员时答 404；任务不是本人认领的或已办结时答 409。",
            )
        },
        "/tasks/{task_id}": {
            "get": _operation(
                "getTask",
                "任务、表单 JSON Schema 和所属案件",
                {"200": _json("TaskDetail", "任务")},
                errors=("404",),
                parameters=[_param("task_id")],
            )
        },
        "/tasks/{task_id}/claim": {
            "post": _operation(
                "claimTask",
                "认领任务",
                {"200": _json("Task", "已认领")},
                errors=("404", "409"),
                parameters=[_param("task_id")],
            )
        },
        "/tasks/{task_id}/release": {
            "post": _operation(
                "releaseTask",
                "退回本人认领的任务",
                {"200": _json("Task", "已退回")},
                errors=("404", "409"),
                parameters=[_param("task_id")],
            )
        },
        "/tasks/{task_id}/complete": {
            "post": _operation(
                "completeTask",
                "提交表单，办结任务",
                {"200": _json("CompletionResult", "推进后的案件版本、下一环节和期限")},
                errors=("404", "409", *body_errors),
                parameters=[_param("task_id")],
                body="Completion",
                description="表单有误时答 422，fields 为 {字段: 中文提示}，不做任何改动。"
                "任务已逾期时须给出 late_reason（逾期原因）。办结后删除该任务的草稿。",
            )
        },
        "/tasks/{task_id}/draft": {
            "get": _operation(
                "getTaskDraft",
                "本人保存的任务表单草稿（没有草稿答 404）",
                {"200": _json("Draft", "草稿")},
                errors=("404",),
                parameters=[_param("task_id")],
            ),
            "put": _operation(
                "putTaskDraft",
                "保存任务表单草稿（不校验，覆盖本人之前的草稿）",
                {"200": _json("Draft", "已保存的草稿")},
                errors=("404", "409", *body_errors),
                parameters=[_param("task_id")],
                body="DraftRequest",
                description="草稿按任务和用户保存，任务办结时删除。已办结的任务答 409。",
            ),
            "delete": _operation(
                "deleteTaskDraft",
                "删除本人的任务表单草稿",
                {"204": {"description": "已删除"}},
                errors=("404",),
                parameters=[_param("task_id")],
            ),
        },
        "/cases/{case_id}/attachments": {
            "get": _operation(
                "listCaseAttachments",
                "案件的附件（按上传顺序）",
                {"200": _json("AttachmentList", "附件")},
                errors=("404",),
                parameters=[_param("case_id")],
            ),
            "post": {
                **_operation(
                    "uploadCaseAttachments",
                    "上传附件（multipart/form-data，字段 file，可多个）",
                    {"201": _json("AttachmentList", "已上传的附件")},
                    errors=("404", "409", "413", "415", "422"),
                    parameters=[_param("case_id")],
                    description="仅能看到该案件的单位的承办人员可以上传。文件类型：PDF、JPG、PNG、"
                    "Word、Excel，内容须与扩展名相符；单个文件和整个请求不超过 MAX_UPLOAD_MB。"
                    "每个文件记入本案审计链（attachment_added）。任何一个文件不合格则都不保存。",
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                                "required": ["file"],
                            }
                        }
                    },
                },
            },
        },
        "/cases/{case_id}/attachments/{attachment_id}": {
            "get": _operation(
                "getCaseAttachment",
                "下载附件（下载前按上传时记录的 SHA-256 重新校验，文件被改动答 409）",
                {
                    "200": {
                        "description": "附件原文件，Content-Type 为上传时核对过的类型"
                        "（Content-Disposition: attachment）",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    }
                },
                errors=("404", "409"),
                parameters=[_param("case_id"), _param("attachment_id")],
            )
        },
        "/deadlines": {
            "get": _operation(
                "listDeadlines",
                "可见案件的期限（最早到期的在前）",
                {"200": _json("DeadlinePage", "一页期限")},
                errors=("422",),
                parameters=[
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(DEADLINE_STATES)},
                        "description": "overdue：已错过，或尚未完成且已过期",
                    },
                    {
                        "name": "agency",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "负责机构代码",
                    },
                    _param("district"),
                    *paging,
                ],
            )
        },
        "/warnings": {
            "get": _operation(
                "listWarnings",
                "辖区内公开的火灾分级预警（最新的在前）；case_id 仅对可查看该案件者给出",
                {"200": _json("WarningPage", "一页预警公告")},
                errors=("422",),
                parameters=[
                    {
                        "name": "scope",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["county", "city", "province"]},
                        "description": "预警范围",
                    },
                    {
                        "name": "year",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
                        "description": "发布年度",
                    },
                    *paging,
                ],
            )
        },
        "/reports/lists/{which}": {
            "get": _operation(
                "listReportRows",
                "两个清单：问题隐患清单（problems）或整改责任清单（responsibilities）的一页",
                {"200": _json("ReportListPage", "一页清单")},
                errors=("404", "422"),
                parameters=[
                    _param("which"),
                    *_report_list_filters(),
                    *paging,
                ],
                description="每件重大火灾隐患督办案件是两个清单中的一行；只列出调用者可查看的"
                "案件，行业部门承办人另可查看以本部门为行业主管部门的隐患。",
            )
        },
        "/reports/lists.xlsx": {
            "get": _operation(
                "downloadReportLists",
                "两个清单的 Excel 文件（每个清单一个工作表，按筛选条件列出全部行）",
                {
                    "200": {
                        "description": "两个清单（.xlsx）",
                        "content": {XLSX: {"schema": {"type": "string", "contentMediaType": XLSX}}},
                    }
                },
                errors=("422",),
                parameters=_report_list_filters(),
            )
        },
        "/reports/submissions": {
            "get": _operation(
                "listReportSubmissions",
                "报告报送：某期全部可查看的月报或年度工作报告，及其状态、是否逾期和全市汇总",
                {"200": _json("ReportSubmissions", "该期报告")},
                errors=("422",),
                parameters=[
                    {
                        "name": "kind",
                        "in": "query",
                        "description": "monthly（默认）或 annual",
                        "schema": {"type": "string", "enum": ["monthly", "annual"]},
                    },
                    {
                        "name": "period",
                        "in": "query",
                        "description": "月份 YYYY-MM（默认上月）或年度 YYYY（默认本年）",
                        "schema": {"type": "string"},
                    },
                ],
                description="区县市消安委办、行业部门只看到本单位的报告；督办人、审计人员看到"
                "辖区内的；市消安委办和市级督办人看到全部。",
            )
        },
        "/reports/submissions/{report_id}": {
            "get": _operation(
                "getReportSubmission",
                "单份报告：冻结的报表数据、报送信息和状态",
                {"200": _json("Report", "报告")},
                errors=("404",),
                parameters=[_param("report_id")],
            )
        },
        "/reports/submissions/{report_id}.xlsx": {
            "get": _operation(
                "downloadReportSubmission",
                "单份报告的 Excel 文件（月报为附件8报表，年度工作报告为各统计表）",
                {
                    "200": {
                        "description": "报告（.xlsx）",
                        "content": {XLSX: {"schema": {"type": "string", "contentMediaType": XLSX}}},
                    }
                },
                errors=("404",),
                parameters=[_param("report_id")],
            )
        },
        "/reports/submissions/{report_id}.pdf": {
            "get": _operation(
                "downloadAnnualReportPdf",
                "年度工作报告的 PDF（内嵌各统计表的 Excel 附件；月报答 404）",
                {
                    "200": {
                        "description": "年度工作报告（PDF）",
                        "content": {
                            "application/pdf": {
                                "schema": {"type": "string", "contentMediaType": "application/pdf"}
                            }
                        },
                    }
                },
                errors=("404",),
                parameters=[_param("report_id")],
            )
        },
        "/reports/submissions/{report_id}/refresh": {
            "post": _operation(
                "refreshReportSubmission",
                "报送单位按最新数据重新生成报告初稿（报送前；报送后答 409）",
                {"200": _json("Report", "重新生成后的报告")},
                errors=("403", "404", "409"),
                parameters=[_param("report_id")],
            )
        },
        "/calendar/{year}": {
            "get": _operation(
                "getCalendarYear",
                "某年的节假日和调休上班日",
                {"200": _json("CalendarYear", "该年日历")},
                errors=("422",),
                parameters=[_param("year")],
            ),
            "put": _operation(
                "putCalendarYear",
                "录入某年的节假日安排（仅管理员；其他用户答 404）",
                {"200": _json("CalendarYearSaved", "该年日历及重新计算的结果")},
                errors=("404", "409", *body_errors),
                parameters=[_param("year")],
                body="CalendarEntry",
                description="录入的安排取代该年度系统内置或按放假办法推算的数据；保存后重新计算"
                "办理中案件的暂定期限（recomputed）。",
            ),
        },
        "/settings": {
            "get": _operation(
                "listLegalSettings",
                "法定参数（管理员数据）及其现行取值",
                {"200": _json("LegalSettingList", "全部法定参数")},
            ),
        },
        "/settings/{key}": {
            "put": _operation(
                "putLegalSetting",
                "修改一项法定参数（仅管理员；其他用户答 404）；此后新登记的案件按新值办理",
                {"200": _json("LegalSetting", "保存后的参数")},
                errors=("404", *body_errors),
                parameters=[_param("setting_key")],
                body="LegalSettingValue",
            ),
        },
        **directory_openapi.paths(_operation, _json, _param, paging),
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "本 API 的 OpenAPI 3.1 描述",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 文档",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def _flattened(schemas: dict[str, Any]) -> dict[str, Any]:
    """The schemas with each ``allOf`` of objects (a component extended with more properties)
    merged into one closed object: closed objects cannot be combined with ``allOf`` (each part
    would refuse the other's properties), and a flat object is easier on clients too."""

    def flat(schema: dict[str, Any]) -> dict[str, Any]:
        if "allOf" not in schema:
            return schema
        properties: dict[str, Any] = {}
        required: list[str] = []
        for part in schema["allOf"]:
            if "$ref" in part:
                part = flat(schemas[part["$ref"].rsplit("/", 1)[1]])
            properties.update(part["properties"])
            required += [name for name in part.get("required", ()) if name not in required]
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        described = [p.get("description") for p in schema["allOf"] if p.get("description")]
        if described and "description" not in merged:
            merged["description"] = described[-1]
        return {
            **merged,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    return {name: flat(schema) for name, schema in schemas.items()}


@cache
def build_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once; do not change the returned dict)."""
    from server import openapi_exports, openapi_messages

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "督办 Duban API",
            "version": "1.0.0",
            "description": "常德市火灾隐患督办系统的 JSON API。除换取令牌和本文档外，所有请求"
            "都需要 Authorization: Bearer <token>。超出本单位可见范围的案件和任务一律答 404。"
            "时间均为带时区的 ISO 8601（Asia/Shanghai，+08:00）。",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {**_paths(), **openapi_messages.paths(), **openapi_exports.paths()},
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "POST /tokens 换取的访问令牌",
                }
            },
            "schemas": _flattened(
                {**_schemas(), **openapi_messages.schemas(), **openapi_exports.schemas()}
            ),
            "parameters": {
                **_parameters(),
                **openapi_messages.parameters(),
                **openapi_exports.parameters(),
            },
            "responses": _responses(),
        },
    }
