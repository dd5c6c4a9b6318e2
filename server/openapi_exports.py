"""The OpenAPI description of :mod:`server.api_exports` (auditors' batch exports of
dossiers), merged into :func:`server.openapi.build_spec`."""

from __future__ import annotations

from typing import Any

from server.exports import MAX_CASES, STATE_LABELS
from server.openapi import DATE_TIME, _json, _nullable, _object, _operation, _page_of, _param, _ref
from workflows.jurisdiction import DIVISIONS

DAY = {"type": "string", "format": "date", "description": "年-月-日（登记日期，上海时间）"}
AUDITORS = "（仅审计/督查人员；其他用户答 404）"


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (null, like leaving the field out, means no condition)."""
    nullable = _nullable(schema)
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def schemas() -> dict[str, Any]:
    """Request and response schemas."""
    filters: dict[str, dict[str, Any]] = {
        "district": {
            "type": "string",
            "enum": [d.code for d in DIVISIONS],
            "description": "只导出该县市区的案件",
        },
        "process": {"type": "string", "description": "只导出该流程的案件，如 major_hazard"},
        "opened_from": {**DAY, "description": "登记日期不早于（含）"},
        "opened_to": {**DAY, "description": "登记日期不晚于（含）"},
    }
    return {
        "ExportRequest": {
            "type": "object",
            "properties": {name: _or_null(schema) for name, schema in filters.items()},
            "additionalProperties": False,
            "description": "导出条件（与“案卷审计”页面的批量导出相同，均可不填）：本人可见、"
            f"符合条件的全部案件，至多 {MAX_CASES} 件",
        },
        "ExportFilters": {
            "type": "object",
            "properties": filters,
            "additionalProperties": False,
            "description": "本次导出所用的条件（未填的不列出）",
        },
        "Export": {
            **_object(
                {
                    "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                    "filters": _ref("ExportFilters"),
                    "description": {
                        "type": "string",
                        "examples": ["武陵区，登记于 2026-01-01 至 …"],
                    },
                    "state": {"type": "string", "enum": list(STATE_LABELS)},
                    "label": {"type": "string", "enum": list(STATE_LABELS.values())},
                    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                    "total": {"type": "integer", "minimum": 0, "description": "符合条件的案件数"},
                    "done": {"type": "integer", "minimum": 0, "description": "已打印的案卷数"},
                    "skipped": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "未导出的案卷数（打印时案件一再更新等），"
                        "清单.csv 中注明原因",
                    },
                    "failed_chains": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "审计链校验未通过的案卷数",
                    },
                    "error": _nullable({"type": "string"}),
                    "size": _nullable(
                        {"type": "integer", "minimum": 0, "description": "ZIP 字节数（完成后）"}
                    ),
                    "created_at": DATE_TIME,
                    "finished_at": _nullable(DATE_TIME),
                    "download": _nullable(
                        {"type": "string", "description": "完成后下载 ZIP 的地址"}
                    ),
                },
                "批量导出：每份案卷一个 PDF，另附清单.csv（审计链校验结果、链头哈希、PDF SHA-256）",
            ),
            "additionalProperties": False,
        },
        "ExportPage": _page_of(_ref("Export"), "一页导出，最新的在前"),
    }


def parameters() -> dict[str, Any]:
    """Path parameters."""
    return {
        "export_id": {
            "name": "job_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        }
    }


def paths() -> dict[str, Any]:
    """The operations."""
    return {
        "/exports": {
            "post": _operation(
                "createExport",
                "批量导出案卷" + AUDITORS,
                {"201": _json("Export", "已开始的导出（Location 为其地址）")},
                errors=("400", "404", "413", "422"),
                body="ExportRequest",
                description="在后台逐份打印案卷（每份均校验审计链并记入案件办理记录），"
                "进度见 GET /exports/{job_id}。条件有误答 422 并指明字段；没有符合条件的案件"
                f"或超过 {MAX_CASES} 件时答 422（fields 为空，message 说明原因）。",
            ),
            "get": _operation(
                "listExports",
                "本人的批量导出，最新的在前" + AUDITORS,
                {"200": _json("ExportPage", "一页导出")},
                errors=("404", "422"),
                parameters=[_param("page"), _param("per_page")],
            ),
        },
        "/exports/{job_id}": {
            "get": _operation(
                "getExport",
                "一次导出的状态、进度和未导出的案卷数" + AUDITORS,
                {"200": _json("Export", "导出")},
                errors=("404",),
                parameters=[_param("export_id")],
                description="他人的导出答 404。",
            )
        },
        "/exports/{job_id}.zip": {
            "get": _operation(
                "downloadExport",
                "下载完成的导出（ZIP）" + AUDITORS,
                {
                    "200": {
                        "description": "ZIP：各案卷 PDF 和清单.csv",
                        "content": {
                            "application/zip": {
                                "schema": {"type": "string", "contentMediaType": "application/zip"}
                            }
                        },
                    }
                },
                errors=("404", "409"),
                parameters=[_param("export_id")],
                description="仍在导出中或导出失败答 409；他人的导出答 404。",
            )
        },
    }
