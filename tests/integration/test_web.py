"""The HTML pages, through the test client: a major-hazard case from registration to closure,
CSRF, form errors next to their fields, scoping (404), the inbox's overdue badges, attachments.

Forms are submitted with the field names the renderer emits: ``unit_name``, ``elements`` (one
value per ticked box), ``participants.0.name`` (row fields of arrays of objects).
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tests.integration.conftest import Auth, csrf_token
from tests.support.major_hazard import sample
from workflows.calendar import SHANGHAI

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def login(client: FlaskClient, auth: Auth, username: str, password: str | None = None):
    """Log out whoever is logged in, then log ``username`` in.

    (``Auth.login`` alone cannot switch users: its logout takes the CSRF token from /login,
    which redirects a logged-in user.)
    """
    page = client.get("/login", follow_redirects=True)
    if 'action="/logout"' in page.text:
        client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    return auth.login(username) if password is None else auth.login(username, password)


def today() -> date:
    """Today in Asia/Shanghai (the date the forms compare with)."""
    return datetime.now(SHANGHAI).date()


def fields(data: dict[str, Any]) -> MultiDict[str, str]:
    """Form data as a browser submits it, under the renderer's field names."""
    out: MultiDict[str, str] = MultiDict()
    for key, value in data.items():
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    for sub, sub_value in item.items():
                        out.add(f"{key}.{index}.{sub}", _text(sub_value))
                else:
                    out.add(key, _text(item))
        else:
            out.add(key, _text(value))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: The reason for lateness the drivers give when a step they complete is overdue.
LATE_REASON = "测试：本环节按测试情景逾期办理。"


def post_form(client: FlaskClient, url: str, data: dict[str, Any], **extra: str):
    """GET the page (for its CSRF token), check it offers every field, POST the data."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    form = fields(data)
    for name in form:
        assert f'name="{name}"' in page.text, f"the page has no field {name}"
    form["csrf_token"] = csrf_token(page.text)
    if 'name="late_reason"' in page.text and "late_reason" not in form:
        form["late_reason"] = LATE_REASON  # the step is overdue: the page asks why
    for key, value in extra.items():
        form[key] = value
    return client.post(url, data=form)


def ready_task(app: Flask, case_id: int, name: str) -> str:
    """The id of the ready task ``name`` of a case."""
    from server.extensions import db
    from server.models import Task

    with app.app_context():
        task_id = db.session.scalar(
            select(Task.id).where(Task.case_id == case_id, Task.name == name, Task.state == "ready")
        )
    assert task_id, f"{name} is not ready"
    return task_id


def case_state(app: Flask, case_id: int) -> tuple[int, int, str]:
    """(row_version, number of events, stage) of a case."""
    from server.extensions import db
    from server.models import Case, Event

    with app.app_context():
        case = db.session.get(Case, case_id)
        events = db.session.scalar(select(func.count(Event.id)).where(Event.case_id == case_id))
        return case.row_version, int(events or 0), case.stage


def text_of(html: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    import html as html_lib

    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body)))


def field_error(html: str, field_id: str) -> str:
    """The error message shown next to a field (by the field's HTML id)."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert match, f"no error next to {field_id}"
    return text_of(match.group(1)).replace("!", "").strip()


def register(client: FlaskClient, auth: Auth, **overrides: Any) -> int:
    """Register a hazard through the HTML start form as the Nanping street officer."""
    login(client, auth, "wuling.nanping")
    response = post_form(client, "/cases/new", sample("register_hazard", today(), **overrides))
    assert response.status_code == 302, response.text
    match = re.fullmatch(r"/cases/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def do_task(
    app: Flask, client: FlaskClient, auth: Auth, user: str, case_id: int, name: str, **kw: Any
) -> None:
    """Complete the ready task ``name`` through its HTML form as ``user``."""
    login(client, auth, user)
    task_id = ready_task(app, case_id, name)
    response = post_form(client, f"/tasks/{task_id}", sample(name, today(), **kw))
    assert response.status_code == 302, text_of(response.text)[:2000]
    assert response.headers["Location"] == f"/tasks/{task_id}/done"  # the next-step summary
    page = client.get(response.headers["Location"])
    assert "所办任务已完成，案件已进入下一环节" in page.text


def assert_no_inline_script(html: str) -> None:
    """Scripts only from files (a strict CSP will forbid inline code and handlers)."""
    for tag, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S | re.I):
        assert "src=" in tag and not body.strip(), tag
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "javascript:" not in html.lower()


# --------------------------------------------------------------------------- the whole path


def test_major_hazard_from_registration_to_closure(app: Flask, client: FlaskClient, auth: Auth):
    case_id = register(client, auth)
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "按已被代替的标准初判为重大火灾隐患（仅供参考）" in text  # found in 2026: 2017 as an aid
    assert "直接判定" in text and "6.5" in text
    assert "已登记，督办编号 DB" in text
    # the registration under the form's Chinese labels, choices by their titles
    assert re.search(r"<dt>单位名称</dt>\s*<dd>常德市武陵区星光KTV</dd>", page.text)
    assert re.search(r"<dt>能否立即改正</dt>\s*<dd>否</dd>", page.text)
    assert re.search(r"<dt>行业类别</dt>\s*<dd>文化娱乐（歌舞厅、KTV、网吧等）</dd>", page.text)
    assert "所在县市区" in text and "武陵区" in text

    do_task(app, client, auth, "wuling.nanping", case_id, "refer_to_fire_rescue")

    # the brigade sees the filing task in its inbox, claims it and files the case
    login(client, auth, "wuling.fire")
    task_id = ready_task(app, case_id, "file_case")
    inbox = client.get("/")
    assert inbox.status_code == 200
    assert f'href="/tasks/{task_id}"' in inbox.text
    assert "受理立案及现场核查" in inbox.text and "未认领" in inbox.text
    claimed = client.post(
        f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(inbox.text), "next": "/"}
    )
    assert claimed.status_code == 303
    inbox = client.get("/")
    assert "武陵区消防大队承办人" in text_of(inbox.text)
    assert "取消认领" in inbox.text
    do_task(app, client, auth, "wuling.fire", case_id, "file_case")
    page = client.get(f"/cases/{case_id}")
    assert re.search(r"<dt>是否需要专家论证</dt>\s*<dd>否</dd>", page.text)
    assert re.search(r"<dt>核查人员</dt>\s*<dd><ul><li>李强，HN0736001</li>", page.text)
    assert "常消隐〔" in page.text  # the case number now shows in the header

    do_task(app, client, auth, "wuling.fire", case_id, "collective_deliberation")
    do_task(app, client, auth, "wuling.fire", case_id, "serve_rectification_notice")
    do_task(app, client, auth, "wuling.fire", case_id, "report_to_government")
    do_task(app, client, auth, "wuling.gov", case_id, "government_decision")
    do_task(
        app,
        client,
        auth,
        "wuling.gov",
        case_id,
        "set_rectification_plan",
        supervising_agency="street:wuling:nanping",
    )
    do_task(
        app,
        client,
        auth,
        "wuling.nanping",
        case_id,
        "report_rectification_progress",
        percent=100,
        completed=True,
    )
    do_task(app, client, auth, "wuling.fire", case_id, "reinspection")
    do_task(app, client, auth, "wuling.fire", case_id, "request_closure")
    do_task(app, client, auth, "wuling.gov", case_id, "close_case")

    page = client.get(f"/cases/{case_id}")
    text = text_of(page.text)
    assert "已办结" in text
    assert "没有待办环节" in text
    for name in ("立案登记", "办理：发现登记", "认领：受理立案及现场核查", "办结"):
        assert name in text, name
    # the process diagram is inline SVG, without scripts or event handlers
    assert "<svg" in page.text
    assert_no_inline_script(page.text)
    assert client.get(f"/cases/{case_id}/diagram.svg").mimetype == "image/svg+xml"
    # a supervisor of the district sees the closed case in the list
    login(client, auth, "wuling.supervisor")
    listing = client.get("/cases?status=closed")
    assert f'href="/cases/{case_id}"' in listing.text
    assert client.get("/").status_code == 302  # not an officer: the case list is home


# --------------------------------------------------------------------------- refusals


def test_post_without_csrf_token_changes_nothing(app: Flask, client: FlaskClient, auth: Auth):
    case_id = register(client, auth)
    task_id = ready_task(app, case_id, "refer_to_fire_rescue")
    before = case_state(app, case_id)
    response = client.post(
        f"/tasks/{task_id}", data=fields(sample("refer_to_fire_rescue", today()))
    )
    assert response.status_code == 400
    assert "页面已过期" in text_of(response.text)
    assert case_state(app, case_id) == before
    claim = client.post(f"/tasks/{task_id}/claim", data={})
    assert claim.status_code == 400
    assert case_state(app, case_id) == before


def test_start_form_missing_field_is_shown_next_to_it(app: Flask, client: FlaskClient, auth: Auth):
    from server.extensions import db
    from server.models import Case

    login(client, auth, "wuling.nanping")
    data = sample("register_hazard", today())
    del data["unit_name"]
    response = post_form(client, "/cases/new", data)
    assert response.status_code == 422
    assert field_error(response.text, "f-unit_name") == "“单位名称”为必填项"
    # the user's other values are kept
    assert 'value="常德市武陵区人民路1号"' in response.text
    assert re.search(r'value="6\.5"\s+checked', response.text)
    assert "表单有1处需要修改" in text_of(response.text)
    with app.app_context():
        assert db.session.scalar(select(func.count(Case.id))) == 0


def test_start_form_outside_own_district(client: FlaskClient, auth: Auth):
    login(client, auth, "wuling.nanping")
    page = client.get("/cases/new")
    assert re.search(r'<option value="wuling"\s+selected>武陵区</option>', page.text)
    response = post_form(
        client, "/cases/new", sample("register_hazard", today(), district="lixian")
    )
    assert response.status_code == 422
    assert field_error(response.text, "f-district") == "只能登记本辖区内的案件"


def test_task_form_errors_change_nothing(app: Flask, client: FlaskClient, auth: Auth):
    case_id = register(client, auth)
    do_task(app, client, auth, "wuling.nanping", case_id, "refer_to_fire_rescue")
    login(client, auth, "wuling.fire")
    task_id = ready_task(app, case_id, "file_case")
    before = case_state(app, case_id)

    # an impossible date, kept as typed
    response = post_form(
        client, f"/tasks/{task_id}", sample("file_case", today(), filed_on="2026-02-30")
    )
    assert response.status_code == 422
    assert field_error(response.text, "f-filed_on") == "“立案日期”不是有效日期"
    assert 'value="2026-02-30"' in response.text
    assert case_state(app, case_id) == before

    # a row field left empty: the error sits in that row
    data = sample("file_case", today())
    data["inspectors"][1] = {"name": "刘洋"}
    response = post_form(client, f"/tasks/{task_id}", data)
    assert response.status_code == 422
    assert (
        field_error(response.text, "f-inspectors-1-cert_no")
        == "“核查人员”第2项的“执法证号”为必填项"
    )
    assert case_state(app, case_id) == before

    # fewer than 7 experts in an expert review
    do_task(app, client, auth, "wuling.fire", case_id, "file_case", technically_complex=True)
    review_id = ready_task(app, case_id, "expert_review")
    before = case_state(app, case_id)
    data = sample("expert_review", today(), agreeing=3)
    data["experts"] = data["experts"][:3]
    response = post_form(client, f"/tasks/{review_id}", data)
    assert response.status_code == 422
    assert field_error(response.text, "f-experts") == "专家论证的专家组不得少于7人"
    assert 'value="张伟"' in response.text  # the rows typed so far are kept
    assert case_state(app, case_id) == before


def test_add_rows_button_saves_nothing(app: Flask, client: FlaskClient, auth: Auth):
    case_id = register(client, auth)
    do_task(app, client, auth, "wuling.nanping", case_id, "refer_to_fire_rescue")
    login(client, auth, "wuling.fire")
    task_id = ready_task(app, case_id, "file_case")
    before = case_state(app, case_id)
    page = client.get(f"/tasks/{task_id}")
    assert 'name="inspectors.4.name"' in page.text
    assert 'name="inspectors.5.name"' not in page.text
    response = post_form(
        client, f"/tasks/{task_id}", sample("file_case", today()), _add_rows="inspectors"
    )
    assert response.status_code == 200
    assert 'name="inspectors.6.name"' in response.text
    assert 'value="李强"' in response.text
    assert case_state(app, case_id) == before


def test_other_district_gets_404(app: Flask, client: FlaskClient, auth: Auth):
    case_id = register(client, auth)
    task_id = ready_task(app, case_id, "refer_to_fire_rescue")
    page = client.get(f"/cases/{case_id}")
    client.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(PDF_BYTES), "a.pdf")},
    )
    attachment_url = f"/cases/{case_id}/attachments/1"
    with client.get(attachment_url) as response:
        assert response.status_code == 200

    login(client, auth, "dingcheng.fire")
    assert client.get(f"/cases/{case_id}").status_code == 404
    assert client.get(f"/tasks/{task_id}").status_code == 404
    assert client.get(attachment_url).status_code == 404
    inbox = client.get("/")
    token = csrf_token(inbox.text)
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token}).status_code == 404
    upload = client.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(PDF_BYTES), "b.pdf")},
    )
    assert upload.status_code == 404
    listing = client.get("/cases")
    assert f"/cases/{case_id}" not in listing.text
    assert "还没有可以查看的案件" in text_of(listing.text)
    # a city-level agency that may register sees the start form; a government does not
    login(client, auth, "wuling.gov")
    assert client.get("/cases/new").status_code == 404
    assert "登记隐患" not in text_of(client.get("/").text)


def test_inbox_shows_overdue_in_working_days(app: Flask, client: FlaskClient, auth: Auth):
    from server import operations
    from server.engine import get_engine
    from server.extensions import db
    from server.models import Task, User

    past = today() - timedelta(days=15)
    with app.app_context():
        street = db.session.scalar(select(User).where(User.username == "wuling.nanping"))
        brigade = db.session.scalar(select(User).where(User.username == "wuling.fire"))
        case = operations.start_case(street, "major_hazard", sample("register_hazard", past))
        case_id = case.id

        def complete(user: User, name: str) -> None:
            task = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.name == name))
            operations.complete_task(user, task, sample(name, past))

        complete(street, "refer_to_fire_rescue")
        complete(brigade, "file_case")
        complete(brigade, "collective_deliberation")
        task = db.session.scalar(
            select(Task).where(Task.case_id == case_id, Task.name == "serve_rectification_notice")
        )
        late = get_engine().calendar.working_days_between(task.due_at, datetime.now(UTC))
    assert late > 0
    login(client, auth, "wuling.fire")
    inbox = client.get("/")
    row = re.search(r"<tr>\s*<td data-label=\"案件编号\">.*?</tr>", inbox.text, re.S)
    assert row
    assert f"逾期{late}个工作日" in row.group(0)
    assert "送达重大火灾隐患整改通知书" in row.group(0)
    only_overdue = client.get("/?overdue=1")
    assert f"逾期{late}个工作日" in only_overdue.text
    other_stage = client.get("/?stage=file_case")
    assert "没有符合筛选条件的待办任务" in text_of(other_stage.text)
    # the case list finds it among the cases with missed deadlines, and by name
    assert f'href="/cases/{case_id}"' in client.get("/cases?overdue=1").text
    assert f'href="/cases/{case_id}"' in client.get("/cases?q=星光").text
    assert f'href="/cases/{case_id}"' not in client.get("/cases?q=不存在的单位").text
    page = client.get(f"/cases/{case_id}")
    assert "超期：函告消防救援机构 5个工作日" in text_of(page.text)


def test_empty_inbox_says_what_to_do(client: FlaskClient, auth: Auth):
    login(client, auth, "wuling.nanping")
    text = text_of(client.get("/").text)
    assert "本单位目前没有待办任务" in text and "登记隐患" in text


def test_login_page(client: FlaskClient, auth: Auth):
    page = client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert client.get("/", follow_redirects=False).status_code == 302
    response = login(client, auth, "wuling.fire", "wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


# --------------------------------------------------------------------------- attachments


def upload(client: FlaskClient, case_id: int, name: str, content: bytes):
    page = client.get(f"/cases/{case_id}")
    return client.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(content), name)},
    )


def test_attachments(app: Flask, client: FlaskClient, auth: Auth):
    from server.extensions import db
    from server.models import Attachment, Event

    case_id = register(client, auth)
    response = upload(client, case_id, "现场照片\u202e说明.pdf", PDF_BYTES)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "附件已上传：现场照片说明.pdf" in text_of(page.text)
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        assert attachment.filename == "现场照片说明.pdf"
        assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
        assert attachment.size == len(PDF_BYTES)
        event = db.session.scalar(select(Event).where(Event.kind == "attachment_added"))
        assert event.data["sha256"] == attachment.sha256
        url = f"/cases/{case_id}/attachments/{attachment.id}"
    stored = [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [hashlib.sha256(PDF_BYTES).hexdigest()]

    for name, content, status, message in [
        ("setup.exe", b"MZ\x90\x00", 415, "不支持该文件类型"),
        ("整改方案.pdf", b"MZ\x90\x00 not a pdf", 415, "文件内容与扩展名（.pdf）不符"),
        ("../../etc/evil.pdf", PDF_BYTES + b"x", 422, "文件名不合法"),
        ("fake.docx", b"PK\x03\x04 not really a zip", 415, "文件内容与扩展名（.docx）不符"),
        ("empty.pdf", b"", 422, "文件是空的"),
    ]:
        response = upload(client, case_id, name, content)
        assert response.status_code == status, name
        assert message in text_of(response.text), name
        assert "现场照片说明.pdf" in response.text  # the case page, with its attachments
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 1

    # download: the same bytes, as a download, never sniffed
    login(client, auth, "wuling.supervisor")
    with client.get(url) as response:
        assert response.status_code == 200
        body = response.data
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(PDF_BYTES).hexdigest()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87" in disposition
    assert response.mimetype == "application/pdf"
    # a supervisor reads but does not upload
    assert upload(client, case_id, "a.pdf", PDF_BYTES).status_code == 404
    assert client.get(f"/cases/{case_id}/attachments/999").status_code == 404


def test_clean_filename():
    from server.attachments import AttachmentRejected, clean_filename

    assert clean_filename("C:\\Users\\王芳\\整改方案 (1).docx") == "整改方案 (1).docx"
    assert clean_filename("现场\u0000照片\u200b\n.jpg") == "现场照片.jpg"
    assert clean_filename("  ..隐藏.pdf ") == "隐藏.pdf"
    long = clean_filename("长" * 300 + ".xlsx")
    assert len(long) == 200 and long.endswith("长.xlsx")
    for bad in ("../a.pdf", "..\\a.pdf", "x/../../a.pdf"):
        with pytest.raises(AttachmentRejected):
            clean_filename(bad)


def test_upload_too_large_has_a_friendly_page(app: Flask, client: FlaskClient, auth: Auth):
    case_id = register(client, auth)
    page = client.get(f"/cases/{case_id}")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        f"/cases/{case_id}/attachments",
        data={
            "csrf_token": csrf_token(page.text),
            "file": (io.BytesIO(b"%PDF" + b"0" * 4096), "big.pdf"),
        },
    )
    assert response.status_code == 413
    assert "文件过大" in text_of(response.text)


@pytest.mark.parametrize("path", ["/", "/cases", "/cases/new", "/login"])
def test_pages_have_no_inline_scripts(client: FlaskClient, auth: Auth, path: str):
    login(client, auth, "wuling.nanping")
    html = client.get(path, follow_redirects=True).text
    assert_no_inline_script(html)
    assert not re.search(r"\sstyle\s*=", html)
    assert "duban.css" in html


def test_lists_are_paged(app: Flask, client: FlaskClient, auth: Auth):
    from server import operations
    from server.extensions import db
    from server.models import User

    with app.app_context():
        street = db.session.scalar(select(User).where(User.username == "wuling.nanping"))
        for n in range(3):
            operations.start_case(
                street, "major_hazard", sample("register_hazard", today(), unit_name=f"单位{n}")
            )
    app.config["PAGE_SIZE"] = 2
    login(client, auth, "wuling.nanping")
    first = text_of(client.get("/cases").text)
    assert "第 1 / 2 页，共 3 条" in first and "单位2" in first and "单位0" not in first
    second = client.get("/cases?page=2")
    assert "单位0" in text_of(second.text)
    assert 'href="/cases?page=1"' in second.text
    inbox = client.get("/?page=2&district=wuling")
    assert "第 2 / 2 页，共 3 条" in text_of(inbox.text)
    assert 'href="/?page=1&amp;district=wuling"' in inbox.text
    assert client.get("/cases?page=999").status_code == 200  # clamped to the last page


def test_every_state_changing_html_route_requires_the_csrf_token(
    app: Flask, client: FlaskClient, auth: Auth
):
    """Generated from the URL map: any POST/PUT/PATCH/DELETE outside /api/v1 (bearer tokens
    only, no cookies) answers 400 without a CSRF token, before the view runs."""
    login(client, auth, "admin")
    checked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        if not methods or rule.endpoint.startswith("api."):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", "1", url)
        for method in sorted(methods):
            response = client.open(url, method=method, data={})
            assert response.status_code == 400, (method, url, response.status_code)
            assert "页面已过期" in text_of(response.text), (method, url)
            checked.append((method, rule.rule))
    assert len(checked) >= 13
