"""Auditors' batch export: the dossiers of every visible case of a filter, in one ZIP.

:func:`start_export` records an :class:`~server.models.ExportJob` and builds the ZIP in a
background thread (with its own app context and database session), or in the request itself
when ``EXPORT_SYNC`` is set (tests). :func:`run_export` prints each dossier with
:func:`server.dossier.print_dossier` — so every dossier in the ZIP is verified and its printing
audited like any other — and records the progress after each one, which the export page polls.
The ZIP also holds ``清单.csv``: per case the file, the verification result, the head hash and
the SHA-256 of the PDF.

Only the cases the auditor may see (:func:`server.scoping.case_filter`) are exported, and only
the auditor who started a job may see or download it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Select, select

from server.csv_export import csv_rows
from server.display import district_name, utc
from server.dossier import PrintedDossier, print_dossier
from server.engine import get_engine
from server.extensions import db
from server.models import Case, ExportJob, User
from server.operations import Forbidden, FormInvalid, OperationError
from server.scoping import case_filter
from workflows.calendar import SHANGHAI
from workflows.jurisdiction import DIVISIONS_BY_CODE

log = logging.getLogger(__name__)

FILTER_FIELDS = ("district", "process", "opened_from", "opened_to")
STATE_LABELS = {"queued": "排队中", "running": "正在生成", "done": "已完成", "failed": "失败"}
#: A job that has not moved for this long died with its process (on any server): progress is
#: recorded after every dossier, and one dossier takes seconds.
STALE_AFTER = timedelta(minutes=3)
MAX_CASES = 5000
#: Attempts per dossier when new events keep joining its case while it is printed; then the
#: dossier is left out of the ZIP and listed in the manifest as such.
ATTEMPTS = 3
SKIPPED = "未导出"
INTERRUPTED = "导出已中断（服务可能已重启），请重新导出"


def parse_filters(form: Mapping[str, Any]) -> dict[str, str]:
    """The export filters from a submitted form: district, process, opening period.

    :raises FormInvalid: with Chinese messages by field.
    """
    values = {name: str(form.get(name, "") or "").strip()[:40] for name in FILTER_FIELDS}
    errors: dict[str, str] = {}
    if values["district"] and values["district"] not in DIVISIONS_BY_CODE:
        errors["district"] = "未知的县市区"
    if values["process"] and values["process"] not in get_engine().catalog.process_ids():
        errors["process"] = "未知的流程"
    dates: dict[str, date] = {}
    for name in ("opened_from", "opened_to"):
        if values[name]:
            try:
                dates[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = "请填写有效日期（年-月-日）"
    if (
        "opened_from" in dates
        and "opened_to" in dates
        and dates["opened_to"] < dates["opened_from"]
    ):
        errors["opened_to"] = "结束日期不能早于开始日期"
    if errors:
        raise FormInvalid("导出条件有误，请按提示修改", errors)
    return {k: v for k, v in values.items() if v}


def describe_filters(filters: Mapping[str, str]) -> str:
    """The filters in words (for the export page and the manifest)."""
    parts = []
    if filters.get("district"):
        parts.append(district_name(filters["district"]))
    if filters.get("process"):
        try:
            parts.append(get_engine().catalog.latest(filters["process"]).name)
        except KeyError:
            parts.append(filters["process"])
    start, end = filters.get("opened_from"), filters.get("opened_to")
    if start or end:
        parts.append(f"登记于 {start or '…'} 至 {end or '…'}")
    return "，".join(parts) or "全部可见案件"


def _day_start(day: str) -> datetime:
    """Midnight of a Shanghai date, in UTC."""
    return datetime.combine(date.fromisoformat(day), time(), SHANGHAI).astimezone(UTC)


def export_query(user: User, filters: Mapping[str, str]) -> Select[Any]:
    """Ids of the cases ``user`` may see that match ``filters``, oldest first."""
    query = select(Case.id).where(case_filter(user))
    if filters.get("district"):
        query = query.where(Case.district == filters["district"])
    if filters.get("process"):
        query = query.where(Case.process_id == filters["process"])
    if filters.get("opened_from"):
        query = query.where(Case.opened_at >= _day_start(filters["opened_from"]))
    if filters.get("opened_to"):
        end = _day_start(filters["opened_to"]) + timedelta(days=1)
        query = query.where(Case.opened_at < end)
    return query.order_by(Case.opened_at, Case.id)


def export_dir() -> Path:
    """Where ZIPs are written (``EXPORT_DIR``, default ``instance/exports``)."""
    configured = current_app.config.get("EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def zip_path(job: ExportJob) -> Path:
    """The finished ZIP of a job."""
    return export_dir() / f"{job.id}.zip"


def start_export(user: User, filters: Mapping[str, str]) -> ExportJob:
    """Record an export job and start building its ZIP (in a thread, or now if EXPORT_SYNC).

    :raises Forbidden: for users who are not auditors.
    :raises FormInvalid: when the filter matches no case, or too many.
    """
    if not user.has_role("auditor"):
        raise Forbidden("只有审计/督查人员可以批量导出案卷")
    ids = db.session.scalars(export_query(user, filters).limit(MAX_CASES + 1)).all()
    if not ids:
        raise FormInvalid("没有符合条件的案件", {"_form": "没有符合条件的案件，请调整导出条件"})
    if len(ids) > MAX_CASES:
        message = f"符合条件的案件超过{MAX_CASES}件，请缩小导出范围"
        raise FormInvalid(message, {"_form": message})
    recover_stale_jobs()
    now = datetime.now(UTC)
    job = ExportJob(
        id=secrets.token_hex(16),
        user_id=user.id,
        state="queued",
        filters=dict(filters),
        total=len(ids),
        done=0,
        failed_chains=0,
        skipped=0,
        worker=worker_id(),
        created_at=now,
        updated_at=now,
    )
    db.session.add(job)
    job_id = job.id
    with _RUNNING_LOCK:
        _RUNNING.add(job_id)  # before the commit: the job is never seen without its worker
    try:
        db.session.commit()
        if current_app.config.get("EXPORT_SYNC"):
            run_export(job_id)
        else:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            threading.Thread(
                target=_run_in_thread, args=(app, job_id), name=f"export-{job_id[:8]}", daemon=True
            ).start()
    except BaseException:
        _finished(job_id)
        raise
    return db.session.get(ExportJob, job_id) or job


def _run_in_thread(app: Flask, job_id: str) -> None:
    """The thread's body: its own app context (and so its own database session)."""
    with app.app_context():
        try:
            run_export(job_id)
        finally:
            db.session.remove()


class _Abandoned(Exception):
    """The job was marked failed meanwhile (as stale): stop building it."""


def part_path(job: ExportJob) -> Path:
    """The ZIP of a job while it is being written."""
    target = zip_path(job)
    return target.with_name(target.name + ".part")


def run_export(job_id: str) -> None:
    """Build the ZIP of a job, one dossier after the other, recording progress as it goes.

    A dossier whose case keeps changing while it is printed (:data:`ATTEMPTS` times), or that
    cannot be printed any more, is left out: listed in the manifest as 未导出 with the reason,
    and counted in the job's ``skipped``. It never fails the whole batch.
    """
    try:
        _run_export(job_id)
    finally:
        _finished(job_id)


def _run_export(job_id: str) -> None:
    job = db.session.get(ExportJob, job_id)
    if job is None or job.state not in ("queued", "running"):
        return
    user = job.user
    target = zip_path(job)
    part = part_path(job)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        job.state, job.updated_at = "running", datetime.now(UTC)
        ids = list(db.session.scalars(export_query(user, job.filters)))
        job.total = len(ids)
        db.session.commit()
        manifest: list[list[str]] = []
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as archive:
            for case_id in ids:
                case = db.session.get(Case, case_id)
                if case is None:
                    continue
                name = f"{case.number}.pdf"
                facts = [case.number, case.case_no or "", case.unit_name,
                         district_name(case.district)]  # fmt: skip
                printed, problem = _print(user, case, job_id)
                if printed is None:
                    manifest.append([SKIPPED, *facts, f"{SKIPPED}：{problem}", "", "", "", ""])
                else:
                    archive.writestr(name, printed.pdf, compress_type=zipfile.ZIP_STORED)
                    manifest.append(
                        [
                            name,
                            *facts,
                            "通过" if printed.check.ok else "未通过",
                            str(printed.check.events),
                            printed.check.head,
                            str(printed.pages),
                            printed.sha256,
                        ]
                    )
                job = _progress(job_id)
                if printed is None:
                    job.skipped += 1
                else:
                    job.done += 1
                    job.failed_chains += 0 if printed.check.ok else 1
                db.session.commit()
            archive.writestr("清单.csv", _manifest(job, manifest))
        job = _progress(job_id)
        part.replace(target)
        job.state, job.size = "done", target.stat().st_size
        job.finished_at = job.updated_at = datetime.now(UTC)
        db.session.commit()
    except _Abandoned:
        db.session.rollback()
        part.unlink(missing_ok=True)
        log.warning("export %s was marked failed while running; stopped", job_id)
    except Exception as exc:
        db.session.rollback()
        log.exception("export %s failed", job_id)
        part.unlink(missing_ok=True)
        job = _reload(job_id)
        job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = job.updated_at = datetime.now(UTC)
        db.session.commit()


def _progress(job_id: str) -> ExportJob:
    """The job, its heartbeat moved on; :class:`_Abandoned` if it was marked failed meanwhile."""
    job = _reload(job_id)
    if job.state != "running":
        raise _Abandoned(job_id)
    job.updated_at = datetime.now(UTC)
    return job


def _reload(job_id: str) -> ExportJob:
    job = db.session.get(ExportJob, job_id)
    assert job is not None
    return job


def _print(user: User, case: Case, job_id: str) -> tuple[PrintedDossier | None, str]:
    """Print one dossier: (the dossier, "") or, when it cannot be, (None, why).

    A case that got a new event meanwhile is printed again, :data:`ATTEMPTS` times in all.
    """
    problem = ""
    for _attempt in range(ATTEMPTS):
        try:
            return print_dossier(user, case, export_id=job_id), ""
        except OperationError as exc:  # Conflict (changed meanwhile), Forbidden (out of scope)
            db.session.rollback()
            problem = exc.message
            log.warning("export %s: dossier %s not printed: %s", job_id, case.number, problem)
            if exc.status != 409:
                break
            db.session.refresh(case)
    return None, problem


def _manifest(job: ExportJob, rows: list[list[str]]) -> bytes:
    """The ZIP's list of dossiers as CSV (:func:`server.csv_export.csv_rows`: UTF-8 with BOM,
    formulas neutralised, as a unit's name is whatever was entered)."""
    title = [f"案卷批量导出 {job.id}", describe_filters(job.filters), job.user.name]
    if job.skipped:
        title.append(f"{job.skipped} 份案卷{SKIPPED}（见“审计链校验”一栏）")
    header = ["文件", "督办编号", "立案编号", "单位名称", "辖区", "审计链校验", "事件数",
              "链头哈希", "页数", "PDF SHA-256"]  # fmt: skip
    return csv_rows([title, header, *rows]).encode("utf-8")


# --------------------------------------------------------------------------- crash recovery
#
# The rule: a queued or running job is dead, and is marked failed with its partial ZIP removed,
# when (1) it belongs to this process (its ``worker``) but no thread of this process builds it;
# (2) its worker ran on this machine (same host name and boot) and that process is gone (its
# pid is free or now another process's, told by the start time in /proc); or (3) it has not
# moved for :data:`STALE_AFTER` (any server; progress is recorded after every dossier). The
# sweep applies it (:func:`server.sweep.sweep`), and so does every new export; the export page
# shows such a job as failed at once.

_RUNNING: set[str] = set()
_RUNNING_LOCK = threading.Lock()
_WORKER: tuple[int, str] | None = None


def _finished(job_id: str) -> None:
    with _RUNNING_LOCK:
        _RUNNING.discard(job_id)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "-"


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot); None if there is no such process;
    "" where /proc cannot tell (then only whether the pid exists counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def worker_id() -> str:
    """This process as an export's worker: ``host@boot/pid/start``."""
    global _WORKER
    pid = os.getpid()
    if _WORKER is None or _WORKER[0] != pid:  # computed again after a fork
        _WORKER = (pid, f"{socket.gethostname()[:120]}@{_boot_id()}/{pid}/{_start_time(pid)}")
    return _WORKER[1]


def worker_gone(job: ExportJob, now: datetime | None = None) -> bool:
    """Whether a queued or running job has lost its worker (the rule above)."""
    if job.state not in ("queued", "running"):
        return False
    now = now or datetime.now(UTC)
    if utc(job.updated_at) < now - STALE_AFTER:
        return True
    if not job.worker:
        return False
    if job.worker == worker_id():
        with _RUNNING_LOCK:
            return job.id not in _RUNNING
    parts = job.worker.split("/")
    if len(parts) != 3 or parts[0] != worker_id().split("/", 1)[0] or not parts[1].isdigit():
        return False  # another machine: only the heartbeat tells
    started = _start_time(int(parts[1]))
    return started is None or (started != "" and parts[2] != "" and started != parts[2])


def recover_stale_jobs(now: datetime | None = None) -> int:
    """Mark the jobs whose worker is gone failed and remove their partial ZIPs; how many."""
    now = now or datetime.now(UTC)
    jobs = db.session.scalars(
        select(ExportJob).where(ExportJob.state.in_(("queued", "running")))
    ).all()
    stale = [job for job in jobs if worker_gone(job, now)]
    for job in stale:
        log.warning("export %s lost its worker %s; marked failed", job.id, job.worker)
        job.state, job.error = "failed", INTERRUPTED
        job.finished_at = job.updated_at = now
    if stale:
        db.session.commit()
    for job in stale:
        part_path(job).unlink(missing_ok=True)
    return len(stale)


@dataclass(frozen=True)
class JobStatus:
    """What the export page and its JSON show of a job."""

    state: str
    label: str
    progress: int
    error: str | None


def job_status(job: ExportJob, now: datetime | None = None) -> JobStatus:
    """The job's state for people; a job whose worker is gone counts as failed at once."""
    state, error = job.state, job.error
    if worker_gone(job, now):
        state, error = "failed", INTERRUPTED
    if state == "done":
        progress = 100
    else:
        progress = int(job.done * 100 / job.total) if job.total else 0
        progress = min(progress, 99)
    return JobStatus(state, STATE_LABELS.get(state, state), progress, error)


def own_job(user: User, job_id: str) -> ExportJob | None:
    """The job if ``user`` started it; None otherwise (the caller answers 404)."""
    return db.session.scalar(
        select(ExportJob).where(ExportJob.id == job_id, ExportJob.user_id == user.id)
    )


def recent_jobs(user: User, limit: int = 10) -> list[ExportJob]:
    """The user's latest export jobs, newest first."""
    return list(
        db.session.scalars(
            select(ExportJob)
            .where(ExportJob.user_id == user.id)
            .order_by(ExportJob.created_at.desc())
            .limit(limit)
        )
    )
