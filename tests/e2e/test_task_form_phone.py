"""The task form on a phone (390 px wide): the form comes before the case summary, and after a
failed submit the error summary is in view and holds the focus."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}


def test_a_failed_submit_on_a_phone_shows_the_error_summary(officer_factory: Any) -> None:
    officer = officer_factory("wuling.fire", "phone-task", viewport=PHONE)
    page = officer.page
    officer.goto("/")
    page.get_by_role("link", name="办理").first.click()
    form = page.locator("form.task-form")
    expect(form).to_be_visible()
    # the form first, the case summary after it
    form_top = form.bounding_box()["y"]
    aside_top = page.locator(".aside-col").bounding_box()["y"]
    assert form_top < aside_top, (form_top, aside_top)
    assert page.get_by_role("button", name="保存草稿").is_visible()
    officer.shot("task-form")

    page.get_by_role("button", name="提交办理结果").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    box = summary.bounding_box()
    assert box is not None
    # in the viewport, not 1,400 px down (scrolling into view may leave a subpixel offset)
    assert -1 <= box["y"] < PHONE["height"], box
    expect(summary).to_contain_text(re.compile("表单有\\d+处需要修改"))
    officer.shot("error-summary")
