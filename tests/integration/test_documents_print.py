"""Printing an issued document is audited like a dossier print; downloading stays a plain,
side-effect-free GET of the stored original."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.integration.conftest import csrf_token
from tests.support.api import Api, assert_error
from tests.support.major_hazard import FIRE, STREET
from tests.support.pdf import assert_fonts_embedded, pdf_fonts, pdf_text


def _events(app: Flask) -> int:
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event)) or 0


def test_print_is_recorded_and_stamped_download_is_not(
    app: Flask, api: Api, runner, tmp_path: Path
) -> None:
    case = api.register(STREET)
    api.complete(STREET, case["id"], "refer_to_fire_rescue")
    [letter] = api.get(FIRE, f"/cases/{case['id']}/documents").json["items"]
    pdf_url = letter["url"].removeprefix("/api/v1")
    before = _events(app)
    for _ in range(2):  # GET: the stored original, byte for byte, nothing recorded
        original = api.get(FIRE, pdf_url)
        assert original.status_code == 200
        assert hashlib.sha256(original.data).hexdigest() == letter["sha256"]
    assert _events(app) == before
    print_url = f"/cases/{case['id']}/documents/{letter['id']}/print"
    assert api.get(FIRE, print_url).status_code == 405  # printing writes: POST only
    first = api.post(FIRE, print_url)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["X-Print-Count"] == "1"
    second = api.post(STREET, print_url)
    assert second.headers["X-Print-Count"] == "2"
    text = pdf_text(second.data, tmp_path, layout=False)
    assert "打印件第2次打印人" in text and letter["number"] in text
    assert_fonts_embedded(pdf_fonts(second.data, tmp_path))  # the mark's too
    # the stored original is unchanged
    assert hashlib.sha256(api.get(FIRE, pdf_url).data).hexdigest() == letter["sha256"]
    events = api.get(FIRE, f"/cases/{case['id']}/events").json["items"]
    printed = [e for e in events if e["kind"] == "document_printed"]
    assert [(e["data"]["count"], e["data"]["number"], e["data"]["sha256"]) for e in printed] == [
        (1, letter["number"], letter["sha256"]),
        (2, letter["number"], letter["sha256"]),
    ]
    assert printed[1]["data"]["printed_sha256"] == hashlib.sha256(second.data).hexdigest()
    assert runner.invoke(args=["audit", "verify", str(case["id"]), "--files"]).exit_code == 0
    # a void document is not printed: its correction is
    corrected = api.post(STREET, f"/cases/{case['id']}/documents/{letter['id']}/correction",
                         json={"fields": {"contents": "更正内容"}, "reason": "笔误"})  # fmt: skip
    assert corrected.status_code == 201
    assert_error(api.post(FIRE, print_url), 409, "conflict")
    # a case the caller does not see: 404
    assert_error(api.post("dingcheng.fire", print_url), 404, "not_found")


def test_case_page_prints_with_csrf_and_shows_the_prints(
    app: Flask, api: Api, client, auth
) -> None:
    case = api.register(STREET)
    api.complete(STREET, case["id"], "refer_to_fire_rescue")
    [letter] = api.get(FIRE, f"/cases/{case['id']}/documents").json["items"]
    url = f"/cases/{case['id']}/documents/{letter['id']}/print"
    auth.login(FIRE)
    page = client.get(f"/cases/{case['id']}")
    assert url in page.text and "打印" in page.text
    before = _events(app)
    assert client.post(url).status_code == 400  # no CSRF token: refused, nothing recorded
    assert _events(app) == before
    printed = client.post(url, data={"csrf_token": csrf_token(page.text)})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert _events(app) == before + 1
    page = client.get(f"/cases/{case['id']}")
    assert "打印文书" in page.text and f"（{letter['number']}）第1次打印" in page.text
    assert 'data-chain="ok"' in page.text
