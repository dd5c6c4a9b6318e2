"""Printing under threads and batch exports, the export manifest's CSV, and exports after a crash.

- Dossiers printed from many threads at once (gunicorn's threaded workers, background exports)
  all succeed: ReportLab's shared font object is used by one build at a time
  (:data:`server.dossier.fonts.BUILD_LOCK`), and printings of the same case at the same moment
  follow one another in its audit chain instead of refusing each other.
- Two exports over the same cases both complete; a case that keeps changing while it is printed
  is left out of the ZIP and reported (manifest, job status), never failing the batch.
- The manifest goes through the app's one CSV writer (formulas neutralised).
- An export whose worker is gone (a crash, a restart) is marked failed by the sweep and its
  partial ZIP removed; the export page shows it as failed at once.

Threads are made to interleave often (:func:`interleaved`), which on the code before the lock
broke nearly every parallel build (``KeyError``/``IndexError`` in ReportLab's ``makeSubset``).
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFontParser
from sqlalchemy import select

from server import exports
from server.audit import verify_chain
from server.csv_export import csv_rows
from server.extensions import db
from server.models import Case, Event, ExportJob
from server.operations import Conflict
from server.sweep import sweep
from tests.integration.conftest import PASSWORD, Auth
from tests.integration.test_dossier import filed_case, login, start_export, user

THREADS = 9


@pytest.fixture
def interleaved(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Threads switch very often, and whenever a font file is read: the interleavings that
    parallel requests meet now and then, every time."""
    seek = TTFontParser.seek

    def yielding_seek(self: Any, pos: int) -> None:
        seek(self, pos)
        time.sleep(0)  # give the other threads a turn in the middle of a read

    monkeypatch.setattr(TTFontParser, "seek", yielding_seek)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def printed_events(case_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.case_id == case_id, Event.kind == "dossier_printed")
            .order_by(Event.seq)
        )
    )


def pdf_first_page(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:200]
    reader = PdfReader(io.BytesIO(data))
    return reader.pages[0].extract_text() or ""


# --------------------------------------------------------------------------- parallel prints


def test_parallel_prints_from_threads_all_succeed(app: Flask, interleaved: None):
    cases = [filed_case(app, unit=f"武陵区并发打印单位{n}") for n in range(3)]
    with app.app_context():
        numbers = {i: db.session.get(Case, i).number for i in cases}
    token = app.test_client().post(
        "/api/v1/tokens", json={"username": "city.auditor", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, int, bytes]] = []

    def print_one(n: int) -> None:
        client = app.test_client()
        case_id = cases[n % len(cases)]  # three printings of each case at the same moment
        barrier.wait()
        try:
            response = client.post(f"/api/v1/cases/{case_id}/dossier.pdf", headers=headers)
            results.append((case_id, response.status_code, response.data))
        except Exception as exc:  # TESTING propagates what would be a 500
            results.append((case_id, 500, repr(exc).encode()))

    threads = [threading.Thread(target=print_one, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for _, status, _ in results) == [200] * THREADS, [
        (status, body[:300]) for _, status, body in results if status != 200
    ]
    for case_id, _, pdf in results:
        assert numbers[case_id] in pdf_first_page(pdf)
    with app.app_context():
        for case_id in cases:
            assert len(printed_events(case_id)) == THREADS // len(cases)
            assert verify_chain(case_id).ok


def test_a_printing_after_another_one_names_the_head_it_verified(
    app: Flask, monkeypatch: pytest.MonkeyPatch
):
    """Two printings from the same head: the second is appended after the first, and its event
    still names the head it verified (not the first printing's event)."""
    import server.dossier
    from server.dossier import print_dossier

    case_id = filed_case(app)
    with app.app_context():
        head = verify_chain(case_id).head
        first = db.session.get(Case, case_id)
        # another printing commits between this one's verification and its append
        real_render = server.dossier.render

        meanwhile: list[int] = []

        def render_with_a_printing_meanwhile(data: Any, font: Any) -> tuple[bytes, int]:
            result = real_render(data, font)
            if not meanwhile:
                meanwhile.append(case_id)
                with app.app_context():  # another request, its own session
                    print_dossier(user("wuling.supervisor"), db.session.get(Case, case_id))
            return result

        monkeypatch.setattr(server.dossier, "render", render_with_a_printing_meanwhile)
        printed = print_dossier(user("city.auditor"), first)
        events = printed_events(case_id)
        assert [e.actor.username for e in events] == ["wuling.supervisor", "city.auditor"]
        assert events[1].data["head"] == head == events[0].data["head"]
        assert events[1].prev_hash == events[0].hash
        assert printed.check.head == head and verify_chain(case_id).ok


# --------------------------------------------------------------------------- batch exports


def run_exports(client: FlaskClient, auth: Auth, auditors: list[str]) -> list[str]:
    """Start one background export per auditor, all at once; wait for them; their job ids."""
    ids = []
    for username in auditors:
        login(client, auth, username)
        ids.append(start_export(client).headers["Location"].rsplit("/", 1)[1])
    for thread in threading.enumerate():
        if thread.name.startswith("export-"):
            thread.join(timeout=120)
    return ids


def test_two_overlapping_exports_both_complete(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path, interleaved: None
):
    app.config.update(EXPORT_SYNC=False, EXPORT_DIR=str(tmp_path / "exports"))
    cases = [filed_case(app, unit=f"武陵区重叠导出单位{n}") for n in range(3)]
    job_ids = run_exports(client, auth, ["wuling.auditor", "city.auditor"])
    with app.app_context():
        numbers = sorted(db.session.get(Case, i).number for i in cases)
        for job_id in job_ids:
            job = db.session.get(ExportJob, job_id)
            assert (job.state, job.error) == ("done", None)
            assert (job.done, job.total, job.skipped) == (3, 3, 0)
            archive = zipfile.ZipFile(exports.zip_path(job))
            assert sorted(n for n in archive.namelist() if n.endswith(".pdf")) == [
                f"{n}.pdf" for n in numbers
            ]
            for name in archive.namelist():
                if name.endswith(".pdf"):
                    assert name.removesuffix(".pdf") in pdf_first_page(archive.read(name))
        for case_id in cases:
            assert len(printed_events(case_id)) == 2
            assert verify_chain(case_id).ok


def test_a_case_that_keeps_changing_is_skipped_and_reported(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    steady = filed_case(app, unit="武陵区稳定单位")
    busy = filed_case(app, unit="武陵区忙碌单位")
    attempts: list[int] = []
    real_print = exports.print_dossier

    def print_dossier(user: Any, case: Case, **kwargs: Any) -> Any:
        if case.id == busy:  # a new event joins every time it is printed
            attempts.append(case.id)
            raise Conflict("打印期间案件有新的办理记录，请重新打印")
        return real_print(user, case, **kwargs)

    monkeypatch.setattr(exports, "print_dossier", print_dossier)
    login(client, auth, "wuling.auditor")
    job_url = start_export(client).headers["Location"]
    status = client.get(job_url + ".json").json
    assert status["state"] == "done", status
    assert (status["done"], status["total"], status["skipped"]) == (1, 2, 1)
    assert len(attempts) == exports.ATTEMPTS
    assert "1</span> 份案卷因打印期间案件有新的办理记录等原因未导出" in client.get(job_url).text
    with client.get(status["download"]) as download:
        archive = zipfile.ZipFile(io.BytesIO(download.data))
    with app.app_context():
        steady_number = db.session.get(Case, steady).number
        busy_number = db.session.get(Case, busy).number
    assert [n for n in archive.namelist() if n.endswith(".pdf")] == [f"{steady_number}.pdf"]
    manifest = archive.read("清单.csv").decode("utf-8-sig")
    line = next(row for row in manifest.splitlines() if busy_number in row)
    assert line.startswith("未导出,") and "未导出：打印期间案件有新的办理记录" in line
    assert "1 份案卷未导出" in manifest.splitlines()[0]


# --------------------------------------------------------------------------- the manifest's CSV

FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"点击\")", "+1+1", "-2+3", "@SUM(A1)",
            "\t=1+1", "\r=1+1")  # fmt: skip


def test_one_csv_writer_neutralises_formulas():
    text = csv_rows([["单位名称"], *([value] for value in FORMULAS), ["常德市某商场"]])
    assert text.startswith("\ufeff")
    import csv

    cells = [row[0] for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")))]
    assert cells == ["单位名称", *("'" + value for value in FORMULAS), "常德市某商场"]


def test_the_export_manifest_neutralises_a_unit_name_that_is_a_formula(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
):
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    typed = FORMULAS[:4]  # (forms refuse control characters: tab and CR are checked above)
    for name in typed:  # registered as typed
        filed_case(app, unit=name)
    login(client, auth, "wuling.auditor")
    status = client.get(start_export(client).headers["Location"] + ".json").json
    assert status["state"] == "done", status
    with client.get(status["download"]) as download:
        manifest = zipfile.ZipFile(io.BytesIO(download.data)).read("清单.csv").decode("utf-8-sig")
    import csv

    names = [row[3] for row in list(csv.reader(io.StringIO(manifest)))[2:]]
    assert sorted(names) == sorted("'" + value for value in typed)
    assert all(not name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)


# --------------------------------------------------------------------------- crash recovery


def dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def running_job(job_id: str, worker: str | None, updated: datetime) -> ExportJob:
    job = ExportJob(
        id=job_id,
        user_id=user("city.auditor").id,
        state="running",
        filters={},
        total=4,
        done=1,
        failed_chains=0,
        skipped=0,
        worker=worker,
        created_at=updated,
        updated_at=updated,
    )
    db.session.add(job)
    return job


def test_exports_whose_worker_is_gone_are_failed_and_their_partial_zips_removed(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path, time_machine: Any
):
    app.config.update(EXPORT_DIR=str(tmp_path / "exports"))
    now = datetime.now(UTC)
    time_machine.move_to(now, tick=False)
    with app.app_context():
        me = exports.worker_id()
        host, pid, started = me.split("/")
        jobs = {
            # a worker process of this machine that has exited (a crash, a restart)
            "crashed": f"{host}/{dead_pid()}/1",
            # this process, but no thread builds it (the thread died)
            "orphan": me,
            # this process's pid, started at another time: the pid was reused
            "reused": f"{host}/{pid}/{int(started or 0) + 1}",
            # another server, silent for longer than STALE_AFTER
            "silent": "elsewhere@0000/123/456",
            # another server, moving: alive
            "elsewhere": "elsewhere@0000/123/456",
            # this process, building it right now: alive
            "building": me,
        }
        ids = {name: name.ljust(32, "0")[:32] for name in jobs}
        for name, worker in jobs.items():
            age = exports.STALE_AFTER + timedelta(seconds=1) if name == "silent" else timedelta()
            running_job(ids[name], worker, now - age)
        db.session.commit()
        exports._RUNNING.add(ids["building"])
        parts = {}
        for name, job_id in ids.items():
            part = exports.part_path(db.session.get(ExportJob, job_id))
            part.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(b"PK\x03\x04 half a zip")
            parts[name] = part

    try:
        # the page shows it at once, before any sweep
        login(client, auth, "city.auditor")
        shown = client.get(f"/audit/exports/{ids['crashed']}.json").json
        assert shown["state"] == "failed" and "导出已中断" in shown["error"]
        assert client.get(f"/audit/exports/{ids['elsewhere']}.json").json["state"] == "running"

        with app.app_context():
            sweep()
            states = {name: db.session.get(ExportJob, ids[name]).state for name in jobs}
            assert states == {"crashed": "failed", "orphan": "failed", "reused": "failed",
                              "silent": "failed", "elsewhere": "running",
                              "building": "running"}  # fmt: skip
            assert "导出已中断" in db.session.get(ExportJob, ids["crashed"]).error
        gone = {name for name, part in parts.items() if not part.exists()}
        assert gone == {"crashed", "orphan", "reused", "silent"}
    finally:
        exports._RUNNING.discard(ids["building"])


def test_a_job_marked_failed_while_running_stops_and_leaves_no_partial_zip(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    filed_case(app, unit="武陵区单位甲")
    filed_case(app, unit="武陵区单位乙")
    real_print = exports.print_dossier

    def print_then_lose_the_job(user: Any, case: Case, **kwargs: Any) -> Any:
        printed = real_print(user, case, **kwargs)
        job = db.session.get(ExportJob, kwargs["export_id"])
        job.state, job.error = "failed", exports.INTERRUPTED  # as the sweep of another process
        db.session.commit()
        return printed

    monkeypatch.setattr(exports, "print_dossier", print_then_lose_the_job)
    with app.app_context():
        job = exports.start_export(user("wuling.auditor"), {})
        job = db.session.get(ExportJob, job.id)
        assert job.state == "failed" and job.error == exports.INTERRUPTED
        assert not exports.part_path(job).exists() and not exports.zip_path(job).exists()
        assert job.id not in exports._RUNNING
