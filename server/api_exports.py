"""The API twin of the auditors' batch export of dossiers (``/audit``, :mod:`server.exports`).

Routes on the API blueprint (:data:`server.api.bp`, imported at the end of :mod:`server.api`);
described in :mod:`server.openapi_exports`. As on the pages, only auditors export (anyone else
gets 404), an export holds only the cases the auditor may see, and an export is seen and
downloaded by the auditor who started it alone (another user's answers 404).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, send_file, url_for
from sqlalchemy import select

from server import operations
from server.api import ApiError, bp, caller, created, iso, json_body, paged, query_args
from server.display import utc
from server.exports import (
    FILTER_FIELDS,
    describe_filters,
    job_status,
    own_job,
    parse_filters,
    start_export,
    zip_path,
)
from server.models import ExportJob, User
from workflows.calendar import SHANGHAI

JOB_ID = "string(length=32)"


def _auditor() -> User:
    user = caller()
    if not user.has_role("auditor"):
        raise ApiError(404)
    return user


def export_json(job: ExportJob) -> dict[str, Any]:
    """An export as clients see it: its filters, state and progress, where to download it."""
    status = job_status(job)
    return {
        "id": job.id,
        "filters": {name: job.filters[name] for name in FILTER_FIELDS if job.filters.get(name)},
        "description": describe_filters(job.filters),
        "state": status.state,
        "label": status.label,
        "progress": status.progress,
        "total": job.total,
        "done": job.done,
        "skipped": job.skipped,
        "failed_chains": job.failed_chains,
        "error": status.error,
        "size": job.size if status.state == "done" else None,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
        "download": url_for("api.download_export", job_id=job.id)
        if status.state == "done"
        else None,
    }


@bp.post("/exports")
def create_export() -> Any:
    """Start a batch export of the dossiers of a selection (district, process, opening
    period); answered at once with its state (queued or running, or done when built within
    the request)."""
    user = _auditor()
    body = json_body(FILTER_FIELDS)
    wrong = {k: "应为字符串" for k, v in body.items() if v is not None and not isinstance(v, str)}
    if wrong:
        raise ApiError(422, "导出条件有误，请按提示修改", wrong)
    try:
        job = start_export(user, parse_filters({k: v or "" for k, v in body.items()}))
    except operations.FormInvalid as exc:
        # "nothing matches" and "too many" are about the selection as a whole: no field
        fields = {k: v for k, v in (exc.fields or {}).items() if k != "_form"}
        raise ApiError(422, exc.message, fields) from None
    return created(export_json(job), url_for("api.get_export", job_id=job.id))


@bp.get("/exports")
def list_exports() -> Any:
    """The caller's exports, newest first."""
    user = _auditor()
    args = query_args()
    query = (
        select(ExportJob)
        .where(ExportJob.user_id == user.id)
        .order_by(ExportJob.created_at.desc(), ExportJob.id)
    )
    return jsonify(paged(query, args, lambda jobs: [export_json(job) for job in jobs]))


def _job(user: User, job_id: str) -> ExportJob:
    job = own_job(user, job_id)
    if job is None:
        raise ApiError(404)
    return job


@bp.get(f"/exports/<{JOB_ID}:job_id>")
def get_export(job_id: str) -> Any:
    """One of the caller's exports: state, progress, dossiers left out."""
    response = jsonify(export_json(_job(_auditor(), job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/exports/<{JOB_ID}:job_id>.zip")
def download_export(job_id: str) -> Any:
    """The finished ZIP (409 while the export runs or when it failed)."""
    job = _job(_auditor(), job_id)
    status = job_status(job)
    path = zip_path(job)
    if status.state in ("queued", "running"):
        raise ApiError(409, f"导出尚未完成（{status.progress}%），请稍后再下载")
    if status.state != "done":
        raise ApiError(409, f"导出失败，没有可下载的文件：{status.error or status.label}")
    if not path.is_file():
        raise ApiError(409, "导出文件已不存在，请重新导出")
    created = utc(job.created_at).astimezone(SHANGHAI)
    name = f"案卷导出-{created:%Y%m%d-%H%M%S}-{job.id[:8]}.zip"
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
