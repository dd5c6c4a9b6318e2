"""The API twin of the auditors' batch export of dossiers (/api/v1/exports): the same selection
and scoping as the audit page, the caller's exports with their progress, the ZIP once done
(409 while running), and another user's export never found."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from server.extensions import db
from server.models import Case, ExportJob
from server.operations import today_shanghai
from tests.integration.test_dossier import events_of, filed_case, user
from tests.support.api import Api, assert_error

AUDITOR = "wuling.auditor"  # sees the cases of 武陵区
CITY_AUDITOR = "city.auditor"


def _numbers(app: Flask, *case_ids: int) -> set[str]:
    with app.app_context():
        return {db.session.get(Case, case_id).number for case_id in case_ids}


def test_an_auditor_exports_the_visible_cases_of_a_selection(
    app: Flask, api: Api, tmp_path: Path
) -> None:
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    mine = [filed_case(app, unit=f"武陵区接口导出单位{n}") for n in range(2)]
    other = filed_case(app, district="dingcheng", unit="鼎城区接口导出单位")

    response = api.post(AUDITOR, "/exports", json={})
    assert response.status_code == 201, response.json
    job = response.json
    assert response.headers["Location"] == f"/api/v1/exports/{job['id']}"
    assert job["state"] == "done" and job["label"] == "已完成" and job["progress"] == 100
    assert (job["total"], job["done"], job["skipped"], job["failed_chains"]) == (2, 2, 0, 0)
    assert job["filters"] == {} and job["description"] == "全部可见案件"
    assert job["download"] == f"/api/v1/exports/{job['id']}.zip"
    assert job["size"] > 0 and job["finished_at"] is not None and job["error"] is None

    assert api.get(AUDITOR, f"/exports/{job['id']}").json == job
    listed = api.get(AUDITOR, "/exports").json
    assert listed["total"] == 1 and listed["items"] == [job]

    with api.get(AUDITOR, job["download"].removeprefix("/api/v1")) as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        assert "attachment" in download.headers["Content-Disposition"]
        names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert sorted(n for n in names if n.endswith(".pdf")) == sorted(
        f"{n}.pdf" for n in _numbers(app, *mine)
    )
    assert "清单.csv" in names
    with app.app_context():  # each dossier's printing is in its case's record
        for case_id in mine:
            printed = events_of(case_id)[-1]
            assert printed.kind == "dossier_printed" and printed.data["export"] == job["id"]
        assert events_of(other)[-1].kind != "dossier_printed"

    # a selection: the city auditor exports 鼎城区 only
    today = today_shanghai().isoformat()
    selection = {"district": "dingcheng", "process": "major_hazard", "opened_from": "2020-01-01",
                 "opened_to": today}  # fmt: skip
    response = api.post(CITY_AUDITOR, "/exports", json=selection)
    assert response.status_code == 201, response.json
    city_job = response.json
    assert city_job["filters"] == selection and city_job["total"] == 1
    with api.get(CITY_AUDITOR, f"/exports/{city_job['id']}.zip") as download:
        names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert [n for n in names if n.endswith(".pdf")] == [f"{_numbers(app, other).pop()}.pdf"]
    # null means no condition, like leaving the field out
    response = api.post(CITY_AUDITOR, "/exports", json={"district": None, "process": None})
    assert response.status_code == 201 and response.json["total"] == 3
    assert [j["id"] for j in api.get(CITY_AUDITOR, "/exports").json["items"]] == [
        response.json["id"],
        city_job["id"],
    ]

    # another auditor's export is not found; the lists are the caller's own
    for path in (f"/exports/{job['id']}", f"/exports/{job['id']}.zip"):
        assert_error(api.get(CITY_AUDITOR, path), 404, "not_found")
    assert job["id"] not in {j["id"] for j in api.get(CITY_AUDITOR, "/exports").json["items"]}


def test_only_auditors_export(app: Flask, api: Api, tmp_path: Path) -> None:
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    filed_case(app)
    for username in ("wuling.nanping", "wuling.supervisor", "city.supervisor", "admin"):
        assert_error(api.post(username, "/exports", json={}), 404, "not_found")
        assert_error(api.get(username, "/exports"), 404, "not_found")
        assert_error(api.get(username, "/exports/" + "a" * 32), 404, "not_found")
    assert_error(api.call(None, "POST", "/exports", json={}), 401, "unauthorized")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ExportJob.id))) == 0


def test_the_selection_is_checked_naming_the_field(app: Flask, api: Api, tmp_path: Path) -> None:
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    filed_case(app)
    today = today_shanghai().isoformat()
    cases = [
        ({"district": "atlantis"}, {"district"}),
        ({"process": "nope"}, {"process"}),
        ({"opened_from": "昨天"}, {"opened_from"}),
        ({"opened_from": today, "opened_to": "2020-01-01"}, {"opened_to"}),
        ({"district": 7}, {"district"}),
        ({"colour": "red"}, {"colour"}),
        ({"opened_to": "2020-01-01"}, set()),  # nothing matches: about the whole selection
    ]
    for body, fields in cases:
        error = assert_error(api.post(AUDITOR, "/exports", json=body), 422, "invalid", fields)
        assert error["message"], body
    assert "没有符合条件的案件" in api.post(AUDITOR, "/exports", json=cases[-1][0]).json["message"]
    assert_error(api.post(AUDITOR, "/exports", data="[]"), 400, "bad_request")
    assert api.get(AUDITOR, "/exports").json["total"] == 0
    assert_error(api.get(AUDITOR, "/exports?page=0"), 422, "invalid", {"page"})


def _job(app: Flask, state: str, **extra: object) -> str:
    with app.app_context():
        now = datetime.now(UTC)
        job = ExportJob(id="a" * 32, user_id=user(AUDITOR).id, state=state, filters={},
                        total=4, done=1, failed_chains=0, skipped=0, created_at=now,
                        updated_at=now, **extra)  # fmt: skip
        db.session.add(job)
        db.session.commit()
        return job.id


def test_a_running_export_shows_its_progress_and_cannot_be_downloaded_yet(
    app: Flask, api: Api
) -> None:
    from server.exports import _RUNNING, _RUNNING_LOCK, worker_id

    job_id = _job(app, "running", worker=worker_id())
    with _RUNNING_LOCK:
        _RUNNING.add(job_id)  # a thread of this process builds it
    try:
        job = api.get(AUDITOR, f"/exports/{job_id}").json
        assert (job["state"], job["label"], job["progress"]) == ("running", "正在生成", 25)
        assert job["download"] is None and job["size"] is None and job["finished_at"] is None
        error = assert_error(api.get(AUDITOR, f"/exports/{job_id}.zip"), 409, "conflict")
        assert "尚未完成" in error["message"] and "25%" in error["message"]
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(job_id)
    # its worker gone, the export is failed at once: no ZIP to download, still 409
    job = api.get(AUDITOR, f"/exports/{job_id}").json
    assert job["state"] == "failed" and "中断" in job["error"]
    error = assert_error(api.get(AUDITOR, f"/exports/{job_id}.zip"), 409, "conflict")
    assert "导出失败" in error["message"]
    assert_error(api.get(CITY_AUDITOR, f"/exports/{job_id}"), 404, "not_found")
