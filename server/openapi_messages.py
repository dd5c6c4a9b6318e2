"""The OpenAPI description of :mod:`server.api_messages` (follow-ups and messages), merged
into :func:`server.openapi.build_spec`."""

from __future__ import annotations

from typing import Any

from server.openapi import DATE_TIME, _json, _nullable, _object, _operation, _param, _ref
from server.operations import FOLLOW_UP_ACTIONS


def schemas() -> dict[str, Any]:
    """Request and response schemas."""
    return {
        "FollowUpRequest": {
            "type": "object",
            "properties": {
                "action": {
                    "type": "string",
                    "enum": list(FOLLOW_UP_ACTIONS),
                    "description": "supervise 督办、urge 催办、interview 约谈、expose 曝光",
                },
                "note": {"type": "string", "minLength": 1, "maxLength": 2000},
            },
            "required": ["action", "note"],
            "additionalProperties": False,
        },
        "FollowUp": _object(
            {
                "case_id": {"type": "integer"},
                "action": {"type": "string", "enum": list(FOLLOW_UP_ACTIONS)},
                "label": {"type": "string", "enum": list(FOLLOW_UP_ACTIONS.values())},
                "note": {"type": "string"},
                "notified_agencies": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "被督办（逾期环节责任）单位的名称；"
                    "其办理人员、督办人及上级督办人收到消息",
                },
                "recorded_at": DATE_TIME,
            },
            "已记录的督办措施（写入案件办理记录）",
        ),
        "Notification": _object(
            {
                "id": {"type": "integer"},
                "kind": {
                    "type": "string",
                    "description": "escalation（期限超期升级）或 follow_up_<action>（督办措施）",
                },
                "title": {"type": "string"},
                "body": {
                    "type": "string",
                    "description": "案件、环节、责任单位、逾期工作日数和督办意见",
                },
                "case_id": _nullable({"type": "integer"}),
                "task_id": _nullable({"type": "string"}),
                "overdue_days": _nullable({"type": "integer", "minimum": 0}),
                "target": _object(
                    {
                        "kind": {"type": "string", "enum": ["task", "case", "none"]},
                        "id": _nullable({"type": "string"}),
                    },
                    "打开消息转到哪里：本人可办理的待办任务，否则案件",
                ),
                "created_at": DATE_TIME,
                "read_at": _nullable(DATE_TIME),
            }
        ),
        "NotificationPage": _object(
            {
                "items": {"type": "array", "items": _ref("Notification")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0},
                "groups": {
                    "type": "array",
                    "description": "本页消息涉及的案件（按消息先后），及本人关于各案件的消息数",
                    "items": _object(
                        {
                            "case": _ref("CaseSummary"),
                            "total": {"type": "integer", "minimum": 0},
                            "unread": {"type": "integer", "minimum": 0},
                        }
                    ),
                },
                "unread": {"type": "integer", "minimum": 0, "description": "本人全部未读消息数"},
            },
            "一页消息，最新的在前",
        ),
        "NotificationsRead": _object(
            {
                "marked": {"type": "integer", "minimum": 0, "description": "本次标为已读的条数"},
                "unread": {"type": "integer", "minimum": 0},
            }
        ),
    }


def parameters() -> dict[str, Any]:
    """Path parameters."""
    return {
        "notification_id": {
            "name": "notification_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        }
    }


def paths() -> dict[str, Any]:
    """The operations."""
    paging = [_param("page"), _param("per_page")]
    return {
        "/cases/{case_id}/follow-ups": {
            "post": _operation(
                "createFollowUp",
                "记录督办、催办、约谈或曝光（仅督办人；其他用户答 404）",
                {"201": _json("FollowUp", "已记录并通知")},
                errors=("400", "404", "409", "413", "422"),
                parameters=[_param("case_id")],
                body="FollowUpRequest",
                description="写入案件办理记录，并通知逾期环节责任单位的办理人员和督办人，以及"
                "其上级督办人（每人一条消息）。案件已办结答 409；action 不在可选值内或 note "
                "为空答 422 并指明字段。",
            )
        },
        "/notifications": {
            "get": _operation(
                "listNotifications",
                "本人的消息，最新的在前",
                {"200": _json("NotificationPage", "一页消息")},
                errors=("422",),
                parameters=[
                    {
                        "name": "unread",
                        "in": "query",
                        "schema": {"type": "boolean"},
                        "description": "true：只要未读的；false：只要已读的",
                    },
                    {
                        "name": "case_id",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1},
                        "description": "只要关于该案件的",
                    },
                    *paging,
                ],
            )
        },
        "/notifications/{notification_id}/read": {
            "post": _operation(
                "readNotification",
                "将本人的一条消息标为已读（他人的消息答 404）",
                {"200": _json("Notification", "已读的消息")},
                errors=("404",),
                parameters=[_param("notification_id")],
            )
        },
        "/notifications/read-all": {
            "post": _operation(
                "readAllNotifications",
                "将本人的全部消息标为已读",
                {"200": _json("NotificationsRead", "标记结果")},
            )
        },
    }
