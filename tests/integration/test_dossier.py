"""The case dossier (案卷) as PDF: its content under Chinese labels, the verification of the audit
chain (and a tampered event), the embedded font, the outline and page footers, the audit event
the printing leaves, the CLI, scoping, and auditors' batch export as a ZIP.

PDF text is read back with pypdf, as a reader of the file would find it.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update

from server.audit import verify_chain
from server.extensions import db
from server.models import Case, Event, ExportJob, Task, User
from server.operations import complete_task, start_case, today_shanghai
from tests.integration.conftest import Auth, csrf_token
from tests.support.major_hazard import sample

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


# --------------------------------------------------------------------------- helpers


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def do(case: Case, task_name: str, username: str, **overrides: Any) -> Case:
    """Complete the ready task ``task_name`` of a case as ``username``."""
    task = db.session.scalar(
        select(Task).where(Task.case_id == case.id, Task.name == task_name, Task.state == "ready")
    )
    assert task is not None, f"{task_name} is not ready"
    return complete_task(user(username), task, sample(task_name, today_shanghai(), **overrides))


def filed_case(app: Flask, *, district: str = "wuling", unit: str = "常德市武陵区星光KTV") -> int:
    """A case registered ten days ago (its referral deadline missed), referred and filed."""
    with app.app_context():
        found = today_shanghai() - timedelta(days=10)
        if district == "wuling":
            registrar, brigade, extra = "wuling.nanping", "wuling.fire", {}
        else:
            registrar, brigade = "dingcheng.yuxia", "dingcheng.fire"
            extra = {"district": "dingcheng", "street": "玉霞街道"}
        case = start_case(
            user(registrar),
            "major_hazard",
            sample("register_hazard", found, unit_name=unit, **extra),
        )
        do(case, "refer_to_fire_rescue", registrar)
        do(case, "file_case", brigade)
        return case.id


def login(client: FlaskClient, auth: Auth, username: str) -> None:
    """Switch the test client to ``username``."""
    page = client.get("/login", follow_redirects=True)
    if 'action="/logout"' in page.text:
        client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    response = auth.login(username)
    assert response.status_code == 302, response.text


def print_html(client: FlaskClient, case_id: int, page: str | None = None):
    """Press 打印案卷 on the case page (a POST with the page's CSRF token)."""
    html = client.get(page or f"/cases/{case_id}").text
    token = csrf_token(html) if "csrf_token" in html else ""
    return client.post(f"/cases/{case_id}/dossier.pdf", data={"csrf_token": token})


def read_pdf(data: bytes) -> tuple[PdfReader, list[str]]:
    """The reader and the extracted text of each page."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return reader, [page.extract_text() or "" for page in reader.pages]


def squeeze(text: str) -> str:
    """Text without whitespace (line breaks fall anywhere in CJK paragraphs)."""
    return re.sub(r"\s+", "", text)


def outline_titles(reader: PdfReader) -> list[str]:
    """Every title of the PDF outline, depth first."""
    titles: list[str] = []

    def walk(items: Any) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(str(item.title))

    walk(reader.outline)
    return titles


def embedded_truetype(reader: PdfReader) -> bool:
    """Whether some font of the document carries a TrueType program (FontFile2)."""
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            candidates = [font] + ([d.get_object() for d in descendants] if descendants else [])
            for candidate in candidates:
                descriptor = candidate.get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    return True
    return False


def events_of(case_id: int) -> list[Event]:
    return list(
        db.session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq))
    )


def tamper(app: Flask, case_id: int) -> None:
    """Change a stored event behind the application's back (an UPDATE straight on the table)."""
    with app.app_context():
        event = next(e for e in events_of(case_id) if e.kind == "task_completed")
        data = json.loads(json.dumps(event.data))
        data["form"]["unit_name"] = "篡改后的单位名称"
        db.session.commit()
        # The ORM refuses to change events (server.audit's guard): raw SQL on a connection.
        with db.engine.begin() as connection:
            table = Event.__table__
            connection.execute(update(table).where(table.c.id == event.id).values(data=data))


# --------------------------------------------------------------------------- the dossier


def test_dossier_holds_the_whole_record_and_its_printing_is_audited(
    app: Flask, client: FlaskClient, auth: Auth
):
    case_id = filed_case(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        number, year = case.number, today_shanghai().year
        before = verify_chain(case_id)
        assert before.ok
    login(client, auth, "city.auditor")
    page = client.get(f"/cases/{case_id}")
    assert "打印案卷 (PDF)" in page.text
    assert f'method="post" action="/cases/{case_id}/dossier.pdf"' in page.text
    # printing writes an audit event: never on a GET (a link from another site), nor without
    # the page's CSRF token
    assert client.get(f"/cases/{case_id}/dossier.pdf").status_code == 405
    assert client.post(f"/cases/{case_id}/dossier.pdf").status_code == 400
    with app.app_context():
        assert [e.kind for e in events_of(case_id)].count("dossier_printed") == 0

    response = print_html(client, case_id)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Audit-Chain"] == "ok"
    assert "inline" in response.headers["Content-Disposition"]
    reader, pages = read_pdf(response.data)
    text = squeeze("\n".join(pages))

    # cover
    cover = squeeze(pages[0])
    for fact in (
        number,
        f"常消隐〔{year}〕17号",
        "常德市武陵区星光KTV",
        "武陵区",
        "重大火灾隐患督办",
    ):
        assert fact in cover, fact
    assert "市消安委办督查员" in cover and "北京时间" in cover
    assert "审计链校验：通过" in cover
    # every stage passed so far, by its Chinese name
    for stage in ("发现登记", "函告消防救援机构", "受理立案及现场核查"):
        assert stage in text, stage
    # deadlines: the missed referral, with working days late
    assert "函告消防救援机构5个工作日" in text and "逾期后办结" in text
    # the submitted forms under their labels; choices by title, booleans 是/否, no raw keys
    for label, value in (
        ("单位名称", "常德市武陵区星光KTV"),
        ("立案编号", f"常消隐〔{year}〕17号"),
        ("行业类别", "文化娱乐"),
        ("能否立即改正", "否"),
        ("核查人员", "李强"),
        ("函告文号", f"武南函〔{year}〕1号"),  # generated with the referral letter
    ):
        assert label + value in text, (label, value)
    assert "unit_name" not in text and "can_correct_immediately" not in text
    # verification in the appendix, with the head hash that was verified
    assert "附录：哈希校验" in text and f"链头哈希（SHA-256）：{before.head}" in text
    # footers and outline
    total = len(reader.pages)
    assert f"第 1 页 共 {total} 页" in pages[0]
    assert f"第 {total} 页 共 {total} 页" in pages[-1]
    titles = outline_titles(reader)
    sections = ("火灾隐患督办案卷", "一、办理摘要", "二、办理流程图", "三、办理记录", "四、附件")
    for section in (*sections, "卷内目录", "附录：哈希校验", "卷内备考表"):
        assert section in titles, titles
    assert any(t.startswith("办理流程图 分幅") for t in titles)
    assert (reader.metadata or {}).get("/Title", "").startswith(f"火灾隐患督办案卷 {number}")

    # the printing is an audit event appended after what was verified
    with app.app_context():
        events = events_of(case_id)
        printed = events[-1]
        assert printed.kind == "dossier_printed"
        assert printed.actor.username == "city.auditor"
        assert printed.seq == before.events + 1 and printed.prev_hash == before.head
        assert printed.data["head"] == before.head and printed.data["chain_ok"] is True
        assert printed.data["pages"] == total
        assert verify_chain(case_id).ok


def test_dossier_embeds_a_truetype_cjk_font(app: Flask):
    if not WQY.is_file():
        pytest.skip(f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
    case_id = filed_case(app)
    with app.app_context():
        from server.dossier import print_dossier

        printed = print_dossier(user("city.auditor"), db.session.get(Case, case_id))
    assert printed.font.embedded and printed.font.path == str(WQY)
    reader, _ = read_pdf(printed.pdf)
    assert embedded_truetype(reader)
    assert "已嵌入" in (reader.metadata or {}).get("/Keywords", "")


def test_without_a_truetype_font_the_dossier_says_so(app: Flask, tmp_path: Path):
    app.config["DOSSIER_FONT"] = str(tmp_path / "missing.ttf")
    app.config["DOSSIER_FONT_SEARCH"] = ()
    case_id = filed_case(app)
    with app.app_context():
        from server.dossier import print_dossier

        printed = print_dossier(user("city.auditor"), db.session.get(Case, case_id))
    assert not printed.font.embedded and printed.font.family == "STSong-Light"
    assert "missing.ttf" in printed.font.problem
    reader, pages = read_pdf(printed.pdf)
    # the record is in the reader's font (the issued documents it includes keep their own)
    cover_fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]) for font in cover_fonts.values()}
    assert "/STSong-Light" in names and not any("WenQuanYi" in name for name in names), names
    cover = squeeze(pages[0])
    assert "字体提示" in cover and "华文宋体" in cover and "未嵌入" in cover
    assert "STSong-Light" not in cover  # the font by its Chinese name, not its code
    assert "STSong-Light" in (reader.metadata or {}).get("/Keywords", "")


def test_a_tampered_event_is_flagged_on_the_cover_and_in_the_verification(
    app: Flask, client: FlaskClient, auth: Auth
):
    case_id = filed_case(app)
    tamper(app, case_id)
    login(client, auth, "wuling.supervisor")
    response = print_html(client, case_id)
    assert response.status_code == 200
    assert response.headers["X-Audit-Chain"] == "failed"
    _, pages = read_pdf(response.data)
    cover = squeeze(pages[0])
    assert "审计链校验未通过" in cover and "第2号事件内容已被改动" in cover
    assert "审计链校验：通过" not in squeeze("".join(pages))
    appendix = squeeze("".join(p for p in pages if "附录：哈希校验" in squeeze(p)))
    assert "审计链校验未通过" in appendix and "按现存记录计算的链头哈希" in appendix
    assert "审计链校验未通过" in squeeze(pages[-1])  # the 备考表 says so too
    assert all("审计链校验未通过" in squeeze(p) for p in pages)  # the red mark in every header
    with app.app_context():
        printed = events_of(case_id)[-1]
        assert printed.kind == "dossier_printed" and printed.data["chain_ok"] is False


def test_only_auditors_and_supervisors_in_scope_print(app: Flask, client: FlaskClient, auth: Auth):
    case_id = filed_case(app)
    for username in ("wuling.nanping", "wuling.fire", "dingcheng.supervisor", "dingcheng.auditor",
                     "admin"):  # fmt: skip
        login(client, auth, username)
        assert print_html(client, case_id, "/notifications").status_code == 404, username
        assert "打印案卷 (PDF)" not in client.get(f"/cases/{case_id}").text, username
    login(client, auth, "wuling.auditor")
    assert print_html(client, case_id).status_code == 200
    assert print_html(client, 999999, f"/cases/{case_id}").status_code == 404
    with app.app_context():
        kinds = [e.kind for e in events_of(case_id)]
        assert kinds.count("dossier_printed") == 1


def test_api_dossier(app: Flask, client: FlaskClient, auth: Auth):
    case_id = filed_case(app)
    url = f"/api/v1/cases/{case_id}/dossier.pdf"
    headers = auth.token("city.supervisor")
    assert client.get(url, headers=headers).status_code == 405  # printing writes: POST only
    response = client.post(url, headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    for username in ("wuling.nanping", "dingcheng.auditor"):
        refused = client.post(url, headers=auth.token(username))
        assert refused.status_code == 404 and refused.json["error"] == "not_found", username
    assert client.post(url).status_code == 401
    with app.app_context():
        assert [e.kind for e in events_of(case_id)].count("dossier_printed") == 1


# --------------------------------------------------------------------------- command line


def test_cli_dossier_and_audit_verify(app: Flask, runner, tmp_path: Path):
    case_id = filed_case(app)
    with app.app_context():
        number = db.session.get(Case, case_id).number
    out = tmp_path / "dossier.pdf"
    result = runner.invoke(args=["dossier", number, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "审计链校验：通过" in result.output
    _, pages = read_pdf(out.read_bytes())
    assert number in pages[0]
    with app.app_context():
        printed = events_of(case_id)[-1]
        assert printed.kind == "dossier_printed" and printed.actor.username == "admin"

    by_id = runner.invoke(
        args=["dossier", str(case_id), "-o", str(out), "--user", "wuling.auditor"]
    )
    assert by_id.exit_code == 0, by_id.output
    refused = runner.invoke(args=["dossier", number, "-o", str(out), "--user", "wuling.nanping"])
    assert refused.exit_code != 0 and "审计" in refused.output
    missing = runner.invoke(args=["dossier", "DB1999-000001", "-o", str(out)])
    assert missing.exit_code != 0 and "没有案件" in missing.output

    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert re.search(rf"{number}\tOK\t\d+ events\thead [0-9a-f]{{64}}", ok.output)
    assert "0 failed" in ok.output

    tamper(app, case_id)
    failed = runner.invoke(args=["audit", "verify"])
    assert failed.exit_code == 1
    assert f"{number}\tFAILED" in failed.output and "第2号事件内容已被改动" in failed.output
    one = runner.invoke(args=["audit", "verify", number])
    assert one.exit_code == 1 and "1 chains verified, 1 failed" in one.output


# --------------------------------------------------------------------------- batch export


def start_export(client: FlaskClient, **filters: str):
    page = client.get("/audit")
    assert page.status_code == 200
    return client.post("/audit/exports", data={"csrf_token": csrf_token(page.text), **filters})


def test_auditors_land_on_the_audit_page_and_search(app: Flask, client: FlaskClient, auth: Auth):
    case_id = filed_case(app, unit="武陵区审计测试商场")
    login(client, auth, "city.auditor")
    assert client.get("/").headers.get("Location", "").endswith("/audit")
    page = client.get("/audit?q=审计测试")
    assert page.status_code == 200
    assert "武陵区审计测试商场" in page.text
    assert f'method="post" action="/cases/{case_id}/dossier.pdf"' in page.text
    assert print_html(client, case_id, "/audit?q=审计测试").status_code == 200
    assert "案卷审计" in page.text  # in the navigation
    for username in ("wuling.nanping", "wuling.supervisor", "admin"):
        login(client, auth, username)
        assert client.get("/audit").status_code == 404, username


def test_batch_export_zips_the_visible_cases_of_the_filter(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
):
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    mine = [filed_case(app, unit=f"武陵区导出单位{n}") for n in range(2)]
    other = filed_case(app, district="dingcheng", unit="鼎城区导出单位")
    login(client, auth, "wuling.auditor")  # sees the cases of 武陵区 only
    response = start_export(client)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert re.fullmatch(r"/audit/exports/[0-9a-f]{32}", job_url)

    status = client.get(job_url + ".json").json
    assert status["state"] == "done" and status["progress"] == 100
    assert status["done"] == status["total"] == 2 and status["failed_chains"] == 0
    page = client.get(job_url)
    assert "<progress" in page.text and 'value="100"' in page.text
    assert 'http-equiv="refresh"' not in page.text  # finished: no more reloading

    with client.get(status["download"]) as download:
        assert download.status_code == 200 and download.mimetype == "application/zip"
        assert "attachment" in download.headers["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(download.data))
    with app.app_context():
        numbers = {db.session.get(Case, i).number for i in mine}
        other_number = db.session.get(Case, other).number
        job_id = job_url.rsplit("/", 1)[1]
        for case_id in mine:
            printed = events_of(case_id)[-1]
            assert printed.kind == "dossier_printed" and printed.data["export"] == job_id
        assert events_of(other)[-1].kind != "dossier_printed"
    pdfs = sorted(n for n in archive.namelist() if n.endswith(".pdf"))
    assert pdfs == sorted(f"{n}.pdf" for n in numbers)
    assert f"{other_number}.pdf" not in archive.namelist()
    for name in pdfs:
        _, pages = read_pdf(archive.read(name))
        assert name.removesuffix(".pdf") in pages[0]
    manifest = archive.read("清单.csv").decode("utf-8-sig")
    assert all(n in manifest for n in numbers) and "通过" in manifest

    # only the auditor who started it sees it
    for username in ("city.auditor", "wuling.supervisor"):
        login(client, auth, username)
        for url in (job_url, job_url + ".json", status["download"]):
            assert client.get(url).status_code == 404, (username, url)

    # a filter: the city auditor exports 鼎城区 only
    login(client, auth, "city.auditor")
    response = start_export(client, district="dingcheng")
    status = client.get(response.headers["Location"] + ".json").json
    with client.get(status["download"]) as download:
        archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert [n for n in archive.namelist() if n.endswith(".pdf")] == [f"{other_number}.pdf"]


def test_export_filters_are_checked(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path):
    app.config.update(EXPORT_SYNC=True, EXPORT_DIR=str(tmp_path / "exports"))
    filed_case(app)
    login(client, auth, "city.auditor")
    today = today_shanghai()
    wrong = start_export(client, opened_from=today.isoformat(), opened_to="2020-01-01")
    assert wrong.status_code == 422 and "结束日期不能早于开始日期" in wrong.text
    assert start_export(client, district="atlantis").status_code == 422
    empty = start_export(client, opened_to="2020-01-01")
    assert empty.status_code == 422 and "没有符合条件的案件" in empty.text
    period = start_export(client, opened_from=today.isoformat(), opened_to=today.isoformat())
    assert period.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(ExportJob.total)) == 1


def test_a_running_export_reloads_without_javascript(app: Flask, client: FlaskClient, auth: Auth):
    from tests.integration.test_web import assert_no_inline_script

    with app.app_context():
        now = datetime.now(UTC)
        job = ExportJob(
            id="a" * 32,
            user_id=user("city.auditor").id,
            state="running",
            filters={},
            total=4,
            done=1,
            failed_chains=0,
            created_at=now,
            updated_at=now,
        )
        db.session.add(job)
        db.session.commit()
    login(client, auth, "city.auditor")
    page = client.get("/audit/exports/" + "a" * 32)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in page.text
    assert 'value="25"' in page.text and "export.js" in page.text
    assert_no_inline_script(page.text)
    assert not re.search(r"\sstyle\s*=", page.text)
    assert client.get("/audit/exports/" + "a" * 32 + "/download").status_code == 404
    assert client.get("/audit/exports/" + "b" * 32).status_code == 404


def test_export_in_a_background_thread(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path):
    app.config.update(EXPORT_SYNC=False, EXPORT_DIR=str(tmp_path / "exports"))
    filed_case(app)
    login(client, auth, "wuling.auditor")
    job_url = start_export(client).headers["Location"]
    deadline = time.monotonic() + 60
    while True:
        status = client.get(job_url + ".json").json
        if status["state"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["state"] == "done" and status["progress"] == 100, status
    assert (tmp_path / "exports" / f"{job_url.rsplit('/', 1)[1]}.zip").is_file()
