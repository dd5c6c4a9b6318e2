"""Supervision that reaches the supervised (issue 18's acceptance), in a real browser.

6. 武陵区消安委办's supervisor urges (催办, one click on the dashboard) the demo's overdue
   progress report of 武陵区星光KTV; the officer of 武陵区南坪街道 sees the unread count in the
   header rise, opens the message, lands on the task and completes it giving the reason for
   lateness (逾期原因); the supervisor's dashboard then counts the deadline met late
   (其中逾期后办结) and no longer lists it overdue, and the case page says so.
7. Inbox tools: 武陵区消防救援大队's officer finds a task by searching the inbox, claims it and
   gives it (转办) to the brigade's second officer, who finds it claimed in their name.

Both use the demo data the e2e server seeds; every step leaves a screenshot.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.helpers import Officer

pytestmark = pytest.mark.e2e

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
LATE_UNIT = "武陵区星光KTV"  # demo: its 报送整改进展 (every 30 days) is overdue, 南坪街道's
STAGE = "报送整改进展"
REASON = "街道安监办人员抽调参加冬季消防安全专项检查，整改进展未能按期报送，现补报。"
REASSIGNED_UNIT = "武陵区华荣出租公寓"  # demo: 依职权处理, waiting in the brigade's inbox


def expect(locator: Any) -> Any:
    """Playwright's auto-waiting assertions."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def unread(person: Officer) -> int:
    """The unread count in the header's 消息 link (0 when none is shown)."""
    badge = person.page.locator(".nav-count")
    if badge.count() == 0:
        return 0
    return int(re.match(r"\d+", badge.inner_text()).group(0))


def compliance(person: Officer, stage: str) -> tuple[int, int, int]:
    """The dashboard's compliance counts of ``stage``: on time, missed, of which met late."""
    row = person.page.locator("#compliance tbody tr").filter(has_text=stage)
    if row.count() == 0:
        return 0, 0, 0
    cells = row.locator("td")
    return tuple(int(cells.nth(i).inner_text()) for i in range(3))  # type: ignore[return-value]


# --------------------------------------------------------------------------------- journey 6


def test_journey_6_urge_reaches_the_street_which_reports_late(officer_factory) -> None:
    """催办 on the dashboard → unread count → message → task with 逾期原因 → met late."""
    street = officer_factory("wuling.nanping", "6-street")
    before = unread(street)

    supervisor = officer_factory("wuling.supervisor", "6-supervisor")
    page = supervisor.page
    expect(page.locator("h1")).to_have_text("督办看板")
    row = page.locator("#overdue tbody tr").filter(has_text=LATE_UNIT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(STAGE)
    expect(row.locator(".badge-overdue")).to_have_text(re.compile(r"逾期\d+个工作日"))
    number = row.get_by_role("link").inner_text().strip()
    on_time, missed, late = compliance(supervisor, STAGE)
    row.get_by_role("button", name=re.compile("^催办")).click()
    expect(page.locator(".flash-success")).to_contain_text(f"已催办 {number}")
    expect(page.locator(".flash-success")).to_contain_text("武陵区南坪街道")
    page.evaluate("window.scrollTo(0, 0)")  # the message and the overdue list together
    supervisor.shot("urged", readme="urge")

    # The street's officer: the header's count rose by the one message.
    street.goto("/")
    expect(street.page.locator(".nav-count")).to_have_text(re.compile(f"^{before + 1}"))
    street.shot("count-risen")
    nav = street.page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name=re.compile("消息")).click()
    expect(street.page.locator("h1")).to_have_text("消息")
    message = street.page.locator(".notification-unread").filter(has_text=f"催办：{number}")
    expect(message).to_have_count(1)
    expect(message).to_contain_text("武陵区消安委办督办员")
    expect(message).to_contain_text(STAGE)
    street.shot("messages", readme="messages")

    # Opening the message marks it read and lands on the task, which asks why it is late.
    message.get_by_role("link", name=re.compile("^去办理")).click()
    form = street.page.locator("form.task-form")
    expect(form).to_be_visible()
    expect(street.page.locator("h1")).to_contain_text(STAGE)
    expect(street.page.locator(".notice-warning")).to_contain_text("须填写逾期原因")
    assert unread(street) == before  # the message was marked read on opening

    street.page.get_by_label("报送日期").fill(TODAY)
    street.page.get_by_label("整改进展").fill(
        "已增设一处安全出口并完成疏散走道清理，应急照明和疏散指示标志正在更换。"
    )
    street.page.get_by_label("完成比例（%）").fill("70")
    street.page.get_by_role("group", name=re.compile("^是否已完成整改")).get_by_label(
        "尚未完成", exact=True
    ).check()
    street.page.get_by_role("button", name="提交办理结果").click()  # no reason: refused
    reason = street.page.get_by_label("逾期原因")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(street.page.locator("#error-summary")).to_contain_text("逾期原因")
    street.shot("late-reason-missing")
    reason.fill(REASON)
    reason.evaluate("e => e.scrollIntoView({block: 'center'})")
    street.shot("late-reason", readme="late-reason")
    street.page.get_by_role("button", name="提交办理结果").click()
    expect(street.page.locator(".flash-success")).to_be_visible()
    expect(street.page.locator("#h-next")).to_be_visible()
    street.shot("done")

    # The supervisor's dashboard: no longer overdue; counted missed, and met late.
    supervisor.goto("/supervision")
    expect(page.locator("#overdue")).not_to_contain_text(LATE_UNIT)
    assert compliance(supervisor, STAGE) == (on_time, missed, late + 1)
    page.locator("#compliance").scroll_into_view_if_needed()
    supervisor.shot("met-late", readme="compliance")

    # The case page: the deadline met late, the reason in the record.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="案件").click()
    page.get_by_role("link", name=number).first.click()
    expect(page.locator("h1")).to_have_text(LATE_UNIT)
    met_late = page.get_by_text(re.compile(r"逾期(\d+个工作日)?后办结")).first
    expect(met_late).to_be_visible()
    met_late.evaluate("e => e.scrollIntoView({block: 'center'})")
    expect(page.locator(".timeline").first).to_contain_text(REASON)
    supervisor.shot("case-met-late")


# --------------------------------------------------------------------------------- journey 7


def test_journey_7_brigade_officer_hands_a_task_to_a_colleague(officer_factory) -> None:
    """Search the inbox, claim, 转办 to the second officer, who finds it in their name."""
    officer = officer_factory("wuling.fire", "7-brigade")
    page = officer.page
    search = page.locator("form[aria-label=筛选待办任务]")
    search.get_by_label("搜索").fill("华荣")
    search.get_by_role("button", name="筛选").click()
    row = page.locator(".inbox-table tbody tr").filter(has_text=REASSIGNED_UNIT)
    expect(row).to_have_count(1)
    expect(page.locator(".inbox-table tbody tr")).to_have_count(1)
    row.get_by_role("button", name="认领").click()
    expect(page.locator(".flash-success")).to_contain_text("已认领")
    row = page.locator(".inbox-table tbody tr").filter(has_text=REASSIGNED_UNIT)
    row.get_by_label("转办给").select_option(label="武陵区消防大队承办人（二）")
    officer.shot("reassign", readme="inbox-tools")
    row.get_by_role("button", name="转办").click()
    expect(page.locator(".flash-success")).to_contain_text("已转办")
    expect(page.locator(".flash-success")).to_contain_text("武陵区消防大队承办人（二）")
    row = page.locator(".inbox-table tbody tr").filter(has_text=REASSIGNED_UNIT)
    expect(row).to_contain_text("武陵区消防大队承办人（二）")
    officer.shot("reassigned")

    colleague = officer_factory("wuling.fire2", "7-colleague")
    row = colleague.page.locator(".inbox-table tbody tr").filter(has_text=REASSIGNED_UNIT)
    expect(row).to_contain_text("武陵区消防大队承办人（二）")
    row.get_by_role("link", name="办理").click()
    expect(colleague.page.locator("form.task-form")).to_be_visible()
    expect(colleague.page.locator("main")).not_to_contain_text("只能由认领人办理")
    colleague.shot("task")
