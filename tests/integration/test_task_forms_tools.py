"""Task forms (issue 18, "Inbox and forms"): the reason for lateness of an overdue step, drafts,
the next-step summary after completing, photos and PDFs at registration and on task forms with
their inline preview, through the pages and the API."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.integration.conftest import Auth, csrf_token
from tests.integration.test_dossier import read_pdf, squeeze
from tests.integration.test_web import field_error, fields, login, ready_task, text_of
from tests.support.api import Api, assert_error
from tests.support.major_hazard import sample
from workflows.calendar import SHANGHAI

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STREET, BRIGADE = "wuling.nanping", "wuling.fire"
REASON = "现场单位负责人外出，函件次日才送达。"


def _late(time_machine: Any, case: dict[str, Any]) -> None:
    """Move the clock past the due date of the case's open task (two working days later)."""
    due = datetime.fromisoformat(case["tasks"][0]["due_at"]).astimezone(SHANGHAI)
    time_machine.move_to(due.replace(hour=10, minute=0, second=0) + timedelta(days=4), tick=False)


def _events(app: Flask, case_id: int, kind: str) -> list[Any]:
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        return list(
            db.session.scalars(
                select(Event)
                .where(Event.case_id == case_id, Event.kind == kind)
                .order_by(Event.seq)
            )
        )


def _drafts(app: Flask) -> list[tuple[str, int]]:
    from server.extensions import db
    from server.models import TaskDraft

    with app.app_context():
        return [(d.task_id, d.user_id) for d in db.session.scalars(select(TaskDraft))]


def _refer_today() -> dict[str, Any]:
    return sample("refer_to_fire_rescue", datetime.now(SHANGHAI).date())


def _post(client: FlaskClient, url: str, data: Any, **files: Any):
    """POST a form (multipart when files are given) with the page's CSRF token."""
    form = fields(data) if isinstance(data, dict) else data
    form["csrf_token"] = csrf_token(client.get(url).text)
    payload: Any = form
    if files:
        payload = {**form.to_dict(flat=False), **files}
        return client.post(url, data=payload, content_type="multipart/form-data")
    return client.post(url, data=payload)


# --------------------------------------------------------------------------- 逾期原因


def test_an_overdue_completion_through_the_api_needs_a_reason(
    app: Flask, api: Api, time_machine: Any
) -> None:
    case = api.register(days_ago=3)
    _late(time_machine, case)
    task_id = api.task_id(STREET, case["id"], "refer_to_fire_rescue")
    detail = api.get(STREET, f"/tasks/{task_id}").json
    assert detail["overdue"] is True

    url = f"/tasks/{task_id}/complete"
    missing = api.post(STREET, url, json={"data": _refer_today()})
    body = assert_error(missing, 422, "invalid", {"late_reason"})
    assert "逾期原因" in body["fields"]["late_reason"]
    blank = api.post(STREET, url, json={"data": _refer_today(), "late_reason": "   "})
    assert_error(blank, 422, "invalid", {"late_reason"})
    assert_error(
        api.post(STREET, url, json={"data": _refer_today(), "late_reason": 5}),
        422,
        "invalid",
        {"late_reason"},
    )
    assert not _events(app, case["id"], "task_completed")[1:]  # nothing written

    done = api.post(STREET, url, json={"data": _refer_today(), "late_reason": REASON})
    assert done.status_code == 200, done.json
    # the next step, who holds it and when it is due
    (following,) = done.json["next_tasks"]
    assert following["name"] == "file_case"
    assert following["agency"]["code"] == "fire_brigade:wuling"
    assert "due_at" in following  # 立案 has no statutory limit of its own here

    event = _events(app, case["id"], "task_completed")[-1]
    assert event.data["late_reason"] == REASON
    assert event.data["working_days_late"] >= 1
    assert event.data["due"].startswith(case["tasks"][0]["due_at"][:10])


def test_an_on_time_completion_needs_no_reason(app: Flask, api: Api) -> None:
    case = api.register(days_ago=1)
    task_id = api.task_id(STREET, case["id"], "refer_to_fire_rescue")
    done = api.post(STREET, f"/tasks/{task_id}/complete", json={"data": _refer_today()})
    assert done.status_code == 200, done.json
    assert "late_reason" not in _events(app, case["id"], "task_completed")[-1].data


def test_the_task_page_asks_for_the_reason_and_the_history_and_dossier_show_it(
    app: Flask, client: FlaskClient, auth: Auth, api: Api, time_machine: Any
) -> None:
    case = api.register(days_ago=3)
    _late(time_machine, case)
    task_id = ready_task(app, case["id"], "refer_to_fire_rescue")
    login(client, auth, STREET)
    url = f"/tasks/{task_id}"
    page = client.get(url)
    assert 'name="late_reason"' in page.text
    assert "本环节已超过办理期限" in text_of(page.text)

    refused = _post(client, url, _refer_today())
    assert refused.status_code == 422
    assert 'href="#f-late_reason"' in refused.text  # the error summary links to it
    assert "逾期原因" in field_error(refused.text, "f-late_reason")
    assert 'id="error-summary" tabindex="-1"' in refused.text  # focusable (duban.js focuses it)

    done = _post(client, url, {**_refer_today(), "late_reason": REASON})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/tasks/{task_id}/done"
    summary = client.get(done.headers["Location"])
    shown = text_of(summary.text)
    assert "下一环节" in shown and "武陵区消防救援大队" in shown
    assert "立案" in shown  # the next step's name
    assert 'href="/"' in summary.text and "返回待办任务" in shown

    history = text_of(client.get(f"/cases/{case['id']}").text)
    assert f"逾期原因：{REASON}" in history
    assert "逾期办结" in history

    login(client, auth, "city.supervisor")
    page = client.get(f"/cases/{case['id']}").text
    printed = client.post(f"/cases/{case['id']}/dossier.pdf", data={"csrf_token": csrf_token(page)})
    assert printed.status_code == 200
    _reader, texts = read_pdf(printed.data)
    assert squeeze(f"逾期原因：{REASON}") in squeeze("".join(texts))


def test_the_summary_of_a_task_still_open_is_its_form(
    app: Flask, client: FlaskClient, auth: Auth, api: Api
) -> None:
    case = api.register(days_ago=1)
    task_id = ready_task(app, case["id"], "refer_to_fire_rescue")
    login(client, auth, STREET)
    assert client.get(f"/tasks/{task_id}/done").headers["Location"] == f"/tasks/{task_id}"
    assert 'name="late_reason"' not in client.get(f"/tasks/{task_id}").text


# --------------------------------------------------------------------------- drafts


def test_a_draft_is_saved_without_validation_and_reopened_then_deleted_on_completion(
    app: Flask, client: FlaskClient, auth: Auth, api: Api
) -> None:
    case = api.register(days_ago=1)
    task_id = ready_task(app, case["id"], "refer_to_fire_rescue")
    login(client, auth, STREET)
    url = f"/tasks/{task_id}"
    # half a form, with a date that would not validate
    saved = _post(
        client, url, {"contents": "函告内容写到一半", "referred_on": "明天", "_draft": "save"}
    )
    assert saved.status_code == 303
    page = client.get(url)
    assert "函告内容写到一半" in page.text and 'value="明天"' in page.text
    assert "保存的草稿" in text_of(page.text)
    assert 'name="_draft" value="discard"' in page.text
    assert len(_drafts(app)) == 1

    # a colleague of the same agency opens the form as it was, not this officer's draft
    client2 = app.test_client()
    Auth(app, client2).login("wuling.chuanzihe")  # another street: the task is not theirs
    assert client2.get(url).status_code == 404

    done = _post(client, url, _refer_today())
    assert done.status_code == 302
    assert _drafts(app) == []


def test_a_draft_can_be_discarded(app: Flask, client: FlaskClient, auth: Auth, api: Api) -> None:
    case = api.register(days_ago=1)
    task_id = ready_task(app, case["id"], "refer_to_fire_rescue")
    login(client, auth, STREET)
    url = f"/tasks/{task_id}"
    _post(client, url, {"contents": "草稿", "_draft": "save"})
    assert _post(client, url, {"_draft": "discard"}).status_code == 303
    assert _drafts(app) == []
    assert "保存的草稿" not in text_of(client.get(url).text)


def test_drafts_through_the_api(app: Flask, api: Api) -> None:
    case = api.register(days_ago=1)
    task_id = api.task_id(STREET, case["id"], "refer_to_fire_rescue")
    path = f"/tasks/{task_id}/draft"
    assert_error(api.get(STREET, path), 404, "not_found")
    assert_error(api.call(STREET, "PUT", path, json={"data": []}), 422, "invalid", {"data"})
    assert_error(api.call(STREET, "PUT", path, json={}), 422, "invalid", {"data"})
    put = api.call(STREET, "PUT", path, json={"data": {"contents": "一半"}, "late_reason": "草"})
    assert put.status_code == 200, put.json
    assert put.json["data"] == {"contents": "一半"} and put.json["saved_at"]
    got = api.get(STREET, path).json
    assert got["data"] == {"contents": "一半"} and got["late_reason"] == "草"
    assert api.call(STREET, "DELETE", path).status_code == 204
    assert_error(api.call(STREET, "DELETE", path), 404, "not_found")
    # another agency's officer: the task is not found
    assert_error(api.get(BRIGADE, path), 404, "not_found")
    # completing deletes it
    api.call(STREET, "PUT", path, json={"data": {}})
    api.post(STREET, f"/tasks/{task_id}/complete", json={"data": _refer_today()})
    assert _drafts(app) == []
    assert_error(api.call(STREET, "PUT", path, json={"data": {}}), 409, "conflict")


# --------------------------------------------------------------------------- attachments


def test_registration_prefills_the_street_and_takes_photos_and_pdfs(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    login(client, auth, STREET)
    page = client.get("/cases/new")
    assert re.search(r'name="street" type="text" value="南坪街道"', page.text)
    assert 'enctype="multipart/form-data"' in page.text and 'name="files"' in page.text

    data = sample("register_hazard", datetime.now(SHANGHAI).date())
    wrong = _post(client, "/cases/new", data, files=[(io.BytesIO(b"MZ\x90\x00"), "setup.exe")])
    assert wrong.status_code == 422
    assert "不支持该文件类型" in field_error(wrong.text, "f-files")
    assert 'href="#f-files"' in wrong.text

    made = _post(
        client,
        "/cases/new",
        data,
        files=[(io.BytesIO(PNG_BYTES), "现场照片.png"), (io.BytesIO(PDF_BYTES), "检查记录.pdf")],
    )
    assert made.status_code == 302, text_of(made.text)[:500]
    case_id = int(made.headers["Location"].rsplit("/", 1)[1])
    added = _events(app, case_id, "attachment_added")
    assert [e.data["filename"] for e in added] == ["现场照片.png", "检查记录.pdf"]
    assert all(e.data["task_label"] for e in added)

    page = client.get(f"/cases/{case_id}").text
    ids = [e.data["attachment"] for e in added]
    assert f'<img src="/cases/{case_id}/attachments/{ids[0]}/inline"' in page
    assert f'<iframe src="/cases/{case_id}/attachments/{ids[1]}/inline"' in page


def test_the_preview_is_served_inline_with_safe_headers(
    app: Flask, client: FlaskClient, auth: Auth, api: Api
) -> None:
    case = api.register(days_ago=1)
    task_id = ready_task(app, case["id"], "refer_to_fire_rescue")
    login(client, auth, STREET)
    done = _post(
        client,
        f"/tasks/{task_id}",
        _refer_today(),
        files=[(io.BytesIO(PDF_BYTES), "送达回证.pdf"), (io.BytesIO(PNG_BYTES), "照片.png")],
    )
    assert done.status_code == 302
    added = _events(app, case["id"], "attachment_added")
    assert [e.task_name for e in added] == ["refer_to_fire_rescue"] * 2
    completed = _events(app, case["id"], "task_completed")[-1]
    assert completed.seq < added[0].seq  # in the completion's transaction, after it
    pdf_id, png_id = (e.data["attachment"] for e in added)

    pdf = client.get(f"/cases/{case['id']}/attachments/{pdf_id}/inline")
    assert pdf.status_code == 200 and pdf.data == PDF_BYTES
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline; filename=")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = pdf.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert "script-src" not in policy
    png = client.get(f"/cases/{case['id']}/attachments/{png_id}/inline")
    assert png.mimetype == "image/png" and png.data == PNG_BYTES
    # the download stays a download
    download = client.get(f"/cases/{case['id']}/attachments/{png_id}")
    assert download.headers["Content-Disposition"].startswith("attachment;")

    # the brigade's next task page shows the case's files with their previews
    login(client, auth, BRIGADE)
    next_task = ready_task(app, case["id"], "file_case")
    page = client.get(f"/tasks/{next_task}").text
    assert f'<img src="/cases/{case["id"]}/attachments/{png_id}/inline"' in page
    assert f'<iframe src="/cases/{case["id"]}/attachments/{pdf_id}/inline"' in page
    history = text_of(client.get(f"/cases/{case['id']}").text)
    assert history.count("表单上传）") == 2  # the timeline names the step that carried them


def test_a_word_file_is_not_previewed(
    app: Flask, client: FlaskClient, auth: Auth, api: Api
) -> None:
    case = api.register(days_ago=1)
    login(client, auth, STREET)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32
    url = f"/cases/{case['id']}"
    client.post(
        f"{url}/attachments",
        data={"csrf_token": csrf_token(client.get(url).text), "file": (io.BytesIO(ole), "a.doc")},
        content_type="multipart/form-data",
    )
    (added,) = _events(app, case["id"], "attachment_added")
    assert client.get(f"{url}/attachments/{added.data['attachment']}/inline").status_code == 404


def test_a_task_form_refuses_a_bad_file_and_completes_nothing(
    app: Flask, client: FlaskClient, auth: Auth, api: Api
) -> None:
    case = api.register(days_ago=1)
    task_id = ready_task(app, case["id"], "refer_to_fire_rescue")
    login(client, auth, STREET)
    refused = _post(
        client,
        f"/tasks/{task_id}",
        _refer_today(),
        files=[(io.BytesIO(b"not a pdf"), "回证.pdf")],
    )
    assert refused.status_code == 422
    assert "与扩展名（.pdf）不符" in field_error(refused.text, "f-files")
    assert ready_task(app, case["id"], "refer_to_fire_rescue") == task_id
    assert _events(app, case["id"], "attachment_added") == []


def test_attachments_through_the_api(app: Flask, api: Api) -> None:
    case = api.register(days_ago=1)
    path = f"/cases/{case['id']}/attachments"
    assert api.get(STREET, path).json == {"items": []}
    made = api.post(
        STREET,
        path,
        data={"file": [(io.BytesIO(PNG_BYTES), "照片.png"), (io.BytesIO(PDF_BYTES), "回证.pdf")]},
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.json
    assert [a["filename"] for a in made.json["items"]] == ["照片.png", "回证.pdf"]
    assert_error(api.get(BRIGADE, path), 404, "not_found")  # not referred to the brigade yet
    listed = api.get(STREET, path).json["items"]
    assert [a["mime"] for a in listed] == ["image/png", "application/pdf"]
    got = api.get(STREET, f"{path}/{listed[1]['id']}")
    assert got.status_code == 200 and got.data == PDF_BYTES
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert len(_events(app, case["id"], "attachment_added")) == 2

    assert_error(api.post(STREET, path, json={}), 415, "unsupported_media_type")
    assert_error(
        api.post(STREET, path, data={}, content_type="multipart/form-data"),
        422,
        "invalid",
        {"file"},
    )
    wrong = api.post(
        STREET,
        path,
        data={"file": [(io.BytesIO(PNG_BYTES), "a.png"), (io.BytesIO(b"MZ"), "b.exe")]},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 415 and "file" in wrong.json["fields"]
    assert len(_events(app, case["id"], "attachment_added")) == 2  # none of the two stored
    assert_error(api.get(STREET, f"{path}/999999"), 404, "not_found")
    # a supervisor sees the files but does not upload
    assert_error(
        api.post(
            "city.supervisor",
            path,
            data={"file": (io.BytesIO(PNG_BYTES), "a.png")},
            content_type="multipart/form-data",
        ),
        404,
        "not_found",
    )


def test_an_upload_over_the_limit_is_refused(app: Flask, api: Api) -> None:
    case = api.register(days_ago=1)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # MAX_UPLOAD_MB, made small for the test
    big = PNG_BYTES + b"\x00" * (80 * 1024)
    response = api.post(
        STREET,
        f"/cases/{case['id']}/attachments",
        data={"file": (io.BytesIO(big), "大.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert _events(app, case["id"], "attachment_added") == []
