"""The auditors' pages: a case search with dossier links, and batch exports of dossiers.

``/audit`` is where auditors land: the export form (district, process, period of opening),
their recent exports, and a search over the cases they may see (the case list's own query,
:func:`server.views.cases.filtered_cases`). An export runs in the background
(:mod:`server.exports`); its page shows a ``<progress>`` that ``static/export.js`` refreshes from
``/audit/exports/<id>.json`` (without JavaScript the page reloads itself while it runs). Another
user's export answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from server import operations
from server.auth import roles_required
from server.display import utc
from server.exports import (
    describe_filters,
    job_status,
    own_job,
    parse_filters,
    recent_jobs,
    start_export,
    zip_path,
)
from server.models import ExportJob
from server.views.cases import STATUS_CHOICES, filtered_cases
from server.views.common import (
    district_choices,
    filter_args,
    page_number,
    paginate,
    process_choices,
)
from workflows.calendar import SHANGHAI

bp = Blueprint("audit", __name__, url_prefix="/audit")
SEARCH_FILTERS = ("q", "status", "district", "process")
JOB_ID = "string(length=32)"


def _index(values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Any:
    """The audit page, with the export form's values and errors."""
    args = request.args if request.method == "GET" else {}
    searched = any(args.get(name) for name in SEARCH_FILTERS)
    page = None
    if searched:
        query = filtered_cases(current_user, args, datetime.now(UTC))
        page = paginate(query, page_number())
    jobs = recent_jobs(current_user)
    return render_template(
        "audit/index.html",
        values=values or {},
        errors=errors or {},
        page=page,
        filters=filter_args(SEARCH_FILTERS) if request.method == "GET" else {},
        processes=process_choices(),
        districts=district_choices(),
        statuses=STATUS_CHOICES,
        jobs=[(job, job_status(job), describe_filters(job.filters)) for job in jobs],
    )


@bp.route("")
@roles_required("auditor")
def index() -> Any:
    """The auditors' landing page."""
    return _index()


@bp.route("/exports", methods=["POST"])
@roles_required("auditor")
def create_export() -> Any:
    """Start a batch export of the dossiers of a filter; on to its progress page."""
    values = {name: request.form.get(name, "") for name in ("district", "process",
              "opened_from", "opened_to")}  # fmt: skip
    try:
        job = start_export(current_user, parse_filters(request.form))
    except operations.FormInvalid as exc:
        return _index(values, exc.fields or {"_form": exc.message}), 422
    return redirect(url_for("audit.export", job_id=job.id), code=303)


def _job(job_id: str) -> ExportJob:
    """The current user's job, or 404."""
    job = own_job(current_user, job_id)
    if job is None:
        abort(404)
    return job


@bp.route(f"/exports/<{JOB_ID}:job_id>")
@roles_required("auditor")
def export(job_id: str) -> Any:
    """The progress page of an export (reloads itself while running without JavaScript)."""
    job = _job(job_id)
    status = job_status(job)
    return render_template(
        "audit/export.html", job=job, status=status, description=describe_filters(job.filters)
    )


@bp.route(f"/exports/<{JOB_ID}:job_id>.json")
@roles_required("auditor")
def export_json(job_id: str) -> Any:
    """The progress of an export, for the page's script."""
    job = _job(job_id)
    status = job_status(job)
    response = jsonify(
        {
            "id": job.id,
            "state": status.state,
            "label": status.label,
            "done": job.done,
            "total": job.total,
            "progress": status.progress,
            "failed_chains": job.failed_chains,
            "skipped": job.skipped,
            "error": status.error,
            "download": url_for("audit.download", job_id=job.id)
            if status.state == "done"
            else None,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(f"/exports/<{JOB_ID}:job_id>/download")
@roles_required("auditor")
def download(job_id: str) -> Any:
    """The finished ZIP."""
    job = _job(job_id)
    path = zip_path(job)
    if job_status(job).state != "done" or not path.is_file():
        abort(404)
    created = utc(job.created_at).astimezone(SHANGHAI)
    name = f"案卷导出-{created:%Y%m%d-%H%M%S}-{job.id[:8]}.zip"
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
