"""The daily journeys of Duban's users, in a real browser against a real server.

1. A street officer registers a hazard, a brigade officer files and reports it, the district
   government agrees: the case reaches listed supervision (挂牌督办).
2. A supervisor works the overdue list of the dashboard and reads the notification.
3. An auditor finds a closed case, downloads its dossier and exports dossiers in a batch.
4. An officer of another district cannot open the first journey's case by its URL.

Every step leaves a screenshot in ``test-artifacts/e2e/``. The journeys share one seeded
server; journey 4 uses the case journey 1 registered (or a seeded case of the same district
when run alone).
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from tests.e2e.helpers import TABLET, Officer, pdf_first_page_png, readme_copy

pytestmark = pytest.mark.e2e

_TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
TODAY = _TODAY.isoformat()
IN_60_DAYS = (_TODAY + timedelta(days=60)).isoformat()
CN_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日（星期[一二三四五六日]）")
UNIT = "武陵区东方明珠歌舞厅"


def expect(locator: Any) -> Any:
    """Playwright's auto-waiting assertions."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def flash(page: Any) -> Any:
    """The success message shown after a POST."""
    return page.locator(".flash-success")


def open_task_from_case(person: Officer, label: str) -> None:
    """On the case page, follow 办理 of the open task ``label``."""
    row = person.page.locator("#h-tasks + table tbody tr", has_text=label)
    row.get_by_role("link", name="办理").click()
    expect(person.page.locator("h1")).to_contain_text(label[:4])


def open_task_from_inbox(person: Officer, number: str, *, claim: bool = True) -> None:
    """In the inbox, claim the task of case ``number`` and open its form."""
    page = person.page
    person.goto("/")
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_have_count(1)
    if claim:
        row.get_by_role("button", name="认领").click()
        expect(flash(page)).to_contain_text("已认领")
        row = page.get_by_role("row").filter(has_text=number)
        expect(row).to_contain_text(re.compile(r"承办人"))  # the claimant's name replaces 未认领
    row.get_by_role("link", name="办理").click()
    expect(page.locator(".task-form")).to_be_visible()


def submit(person: Officer) -> None:
    """Submit the form and expect the success message; a task's next-step summary is left
    for the case page through its 查看案件 link (a registration lands there directly)."""
    person.page.get_by_role("button", name=re.compile("提交办理结果|登记并初步判定")).click()
    expect(flash(person.page)).to_be_visible()
    if person.page.url.endswith("/done"):
        expect(person.page.locator("#h-next")).to_be_visible()
        person.page.get_by_role("link", name="查看案件").click()


def choose(page: Any, group: str, option: str) -> None:
    """Tick ``option`` in the fieldset (radio or checkbox group) named ``group``."""
    page.get_by_role("group", name=re.compile(f"^{group}")).get_by_label(option, exact=True).check()


# --------------------------------------------------------------------------------- journey 1


def test_journey_1_hazard_to_listed_supervision(officer_factory, live_server) -> None:
    """Register (GB 35181 verdict), refer, file, deliberate, serve, report, agree, list."""
    street = officer_factory(None, "1-street")
    street.goto("/login")
    street.shot("login", readme="login")
    street.login("wuling.nanping")
    page = street.page
    expect(page.locator("h1")).to_have_text("待办任务")
    street.shot("inbox")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="登记隐患").click()
    expect(page.locator("h1")).to_contain_text("登记隐患")
    # Keyboard: the labels are bound to their fields and Tab moves from one to the next.
    page.get_by_label("单位名称").fill(UNIT)
    page.keyboard.press("Tab")
    expect(page.get_by_label("详细地址")).to_be_focused()
    outline = page.get_by_label("详细地址").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "the focused field must show a visible focus ring"
    page.keyboard.type("常德市武陵区武陵大道488号三楼")
    expect(page.get_by_label("所在县市区")).to_have_value("wuling")
    page.get_by_label("街道（乡镇）").fill("南坪街道")
    page.get_by_label("行业类别").select_option(label="文化娱乐（歌舞厅、KTV、网吧等）")
    page.get_by_label("专项整治领域").select_option(label="人员密集场所")
    choose(page, "场所类别", "人员密集场所")
    page.get_by_label("发现日期").fill(TODAY)
    page.get_by_label("隐患情况").fill(
        "三楼歌舞厅营业面积约900平方米，仅设一个安全出口，疏散走道堆放桌椅。"
    )
    page.locator("input[name=elements][value='6.5']").check()
    page.locator("input[name=elements][value='7.3.9']").check()
    choose(page, "能否立即改正", "不能立即改正")
    page.get_by_label("单位联系人").fill("覃经理")
    page.get_by_label("联系电话").fill("13907360001")
    street.shot("register-form")
    # The verdict before registering: GB 35181-2025 is in force but not installed, so the 2017
    # elements judge as an aid only and the case will go to the fire agency.
    page.get_by_role("button", name="预判（不登记）").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("预判结果（尚未登记）")
    expect(preview).to_contain_text("GB 35181-2017（已被 GB 35181-2025 代替）")
    expect(preview).to_contain_text("仅供参考")
    expect(page.get_by_label("单位名称")).to_have_value(UNIT)  # nothing typed was lost
    street.shot("register-preview")
    submit(street)

    expect(flash(page)).to_contain_text(re.compile(r"督办编号 DB\d{4}-\d{6}"))
    number = re.search(r"DB\d{4}-\d{6}", flash(page).inner_text()).group(0)
    case_path = re.sub(r"^https?://[^/]+", "", page.url)
    live_server.notes["case"] = (number, case_path)
    verdict = page.locator(".verdict")
    expect(verdict).to_contain_text("GB 35181-2017（已被 GB 35181-2025 代替）")
    expect(verdict).to_contain_text("初判为重大火灾隐患（仅供参考），函告消防救援机构判定")
    expect(verdict).to_contain_text("6.5")
    expect(page.locator(".facts")).to_contain_text("办理中")  # status badge in words
    street.shot("verdict")

    open_task_from_case(street, "函告消防救援机构")
    # The letter's number is generated when the step is submitted: nobody types it.
    expect(page.get_by_label("函告文号")).not_to_be_editable()
    expect(page.get_by_label("函告文号")).to_have_attribute("placeholder", "（文号在提交时生成）")
    page.get_by_label("函告日期").fill(TODAY)
    page.get_by_label("函告内容").fill("经初步判定为重大火灾隐患，现函告贵大队依法处理。")
    street.shot("refer-form")
    with page.context.expect_page() as opened:  # the preview opens in a new tab
        page.get_by_role("button", name="预览文书").click()
    preview = opened.value
    expect(preview.locator("body")).to_contain_text(f"关于{UNIT}存在重大火灾隐患的函")
    expect(preview.locator("body")).to_contain_text("武陵区消防救援大队")
    preview.close()
    submit(street)
    expect(page.locator("#h-tasks + table")).to_contain_text("武陵区消防救援大队")
    documents = page.locator("#h-documents + table")
    expect(documents).to_contain_text(f"关于{UNIT}存在重大火灾隐患的函")
    expect(documents).to_contain_text(re.compile(r"武南函〔\d{4}〕\d+号"))
    street.shot("referred")

    # 大队: claim, file (with a mistake first), deliberate, serve the notice, report.
    brigade = officer_factory("wuling.fire", "1-brigade")
    page = brigade.page
    brigade.shot("inbox", readme="inbox")
    open_task_from_inbox(brigade, number)
    page.get_by_label("立案编号").fill("常消隐2026-88")
    page.get_by_label("立案日期").fill(TODAY)
    page.get_by_label("核查人员第1行姓名").fill("李强")
    page.get_by_label("核查人员第1行执法证号").fill("HN0736001")
    page.get_by_label("核查人员第2行姓名").fill("刘洋")
    page.get_by_role("button", name="提交办理结果").click()
    # Errors: a summary linking to the fields, and each message next to its field.
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("需要修改")
    case_no = page.get_by_label("立案编号")
    expect(case_no).to_have_attribute("aria-invalid", "true")
    described = case_no.get_attribute("aria-describedby").split()
    messages = " ".join(page.locator(f"#{i}").inner_text() for i in described)
    assert "格式应为" in messages
    brigade.shot("file-form-errors", readme="task-form")
    summary.get_by_role("link", name=re.compile("立案编号")).click()
    expect(case_no).to_be_focused()

    case_no.fill("常消隐〔2026〕88号")
    page.get_by_label("现场核查日期").fill(TODAY)
    page.get_by_label("核查人员第2行执法证号").fill("HN0736002")
    page.get_by_label("核查情况").fill("现场核查属实：三楼仅一个安全出口，疏散走道被占用。")
    choose(page, "是否需要专家论证", "不需要")
    choose(page, "是否临时查封", "不需要临时查封")
    submit(brigade)
    brigade.shot("filed")

    open_task_from_case(brigade, "集体讨论")
    page.get_by_label("讨论日期").fill(TODAY)
    for row, (name, position) in enumerate(
        [("王大明", "大队长"), ("陈静", "政治教导员"), ("黄涛", "防火监督科科长")], start=1
    ):
        page.get_by_label(f"参加人员第{row}行姓名").fill(name)
        page.get_by_label(f"参加人员第{row}行职务").fill(position)
    choose(page, "认定结论", "构成重大火灾隐患")
    choose(page, "与初步判定不一致", "否")
    choose(page, "是否临时查封", "不需要")
    brigade.shot("deliberation-form")
    submit(brigade)

    open_task_from_case(brigade, "送达重大火灾隐患整改通知书")
    page.get_by_label("送达日期").fill(TODAY)
    page.get_by_label(re.compile(r"^受送达人")).fill("覃经理")
    choose(page, "送达方式", "直接送达")
    page.get_by_label("整改要求").fill("增设第二安全出口，清理疏散走道。")
    # the 送达回证's particulars, printed with the notice's number
    page.get_by_label("送达时间").fill("09:30")
    page.get_by_label("送达地点").fill("星光KTV前台")
    page.get_by_label(re.compile(r"^收件人(?!与)")).fill("覃经理")
    page.get_by_label("收件人与受送达人的关系").fill("本人")
    page.get_by_label(re.compile(r"^送达人(?!（)")).fill("王大明")
    page.get_by_label("送达人（第二人）").fill("陈静")
    submit(brigade)
    brigade.shot("notice-served")

    open_task_from_case(brigade, "报告人民政府")
    page.get_by_label("报告日期").fill(TODAY)
    choose(page, "提请事项", "重大火灾隐患挂牌督办")
    page.get_by_label("处理意见").fill("建议对该重大火灾隐患挂牌督办。")
    page.get_by_label("签发人").fill("王大明")
    submit(brigade)
    expect(page.locator("#h-tasks + table")).to_contain_text("武陵区人民政府")
    brigade.shot("reported")

    # 区政府: agree and list the hazard for supervision.
    government = officer_factory("wuling.gov", "1-government")
    page = government.page
    open_task_from_inbox(government, number, claim=False)
    choose(page, "决定", "同意")
    page.get_by_label("决定日期").fill(TODAY)
    page.get_by_label(re.compile(r"^意见")).fill("同意挂牌督办。")
    choose(page, "是否挂牌督办", "挂牌督办")
    page.get_by_label("整改责任人").fill("法定代表人 覃经理")
    page.get_by_label("整改期限").fill(IN_60_DAYS)
    page.get_by_label("督办部门及分工").fill("南坪街道每月督促一次，区消防救援大队负责复查。")
    page.get_by_label("通知主送机关").fill("武陵区南坪街道办事处，区直有关单位")
    government.shot("decision-form")
    submit(government)
    expect(page.locator(".facts")).to_contain_text("挂牌督办")
    open_task_from_case(government, "挂牌督办")
    page.get_by_label("部署日期").fill(TODAY)
    page.get_by_label("整改期限").fill(IN_60_DAYS)
    choose(page, "是否挂牌督办", "挂牌督办")
    page.get_by_label("责任领导").fill("武陵区副区长 陈静")
    page.get_by_label("督促整改部门").select_option(label="武陵区南坪街道")
    page.get_by_label("整改措施").fill("限期完成安全出口改造，街道每月督促一次。")
    submit(government)

    # Listed: the street reports progress now; the diagram marks the current step.
    expect(page.locator("#h-tasks + table")).to_contain_text("武陵区南坪街道")
    expect(page.locator(".timeline")).to_contain_text("挂牌督办")
    diagram = page.locator(".diagram svg")
    expect(diagram).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    government.shot("listed")
    page.evaluate("document.getElementById('h-diagram').closest('section').scrollIntoView()")
    government.shot("case-diagram", readme="case")
    for text in page.locator(".timeline-time").all_inner_texts()[:3]:
        assert CN_DATE.search(text), text


# --------------------------------------------------------------------------------- journey 2


def test_journey_2_supervisor_follows_up_overdue_referral(officer_factory) -> None:
    """The overdue referral tops the dashboard; a 督办 follow-up; the unread count drops."""
    supervisor = officer_factory("dingcheng.supervisor", "2-supervisor")
    page = supervisor.page
    expect(page.locator("h1")).to_have_text("督办看板")
    overdue = page.locator("#overdue")
    first = overdue.locator("tbody tr").first
    expect(first).to_contain_text("鼎城区金色年华KTV")
    expect(first).to_contain_text("函告消防救援机构")
    expect(first.locator(".badge-overdue")).to_have_text(re.compile(r"逾期\d+个工作日"))
    box = overdue.bounding_box()
    assert box is not None and box["y"] < 768, "the overdue list is on the first screen"
    supervisor.shot("dashboard", readme="dashboard")

    badge = page.locator(".nav-count")
    unread = int(re.match(r"\d+", badge.inner_text()).group(0))
    assert unread >= 1

    number = first.get_by_role("link").inner_text()
    first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("鼎城区金色年华KTV")
    expect(page.locator(".case-reminders")).to_be_visible()
    form = page.locator("#follow-up")
    form.get_by_role("button", name="记录督办措施").click()  # nothing chosen: visible errors
    expect(page.locator("#follow-up .error-summary")).to_be_visible()
    expect(page.locator("#follow-up-note")).to_have_attribute("aria-invalid", "true")
    supervisor.shot("follow-up-errors")
    form = page.locator("#follow-up")
    form.get_by_label("督办", exact=True).check()
    form.get_by_label("督办情况").fill("电话督促玉霞街道，要求两个工作日内函告鼎城区消防救援大队。")
    form.get_by_role("button", name="记录督办措施").click()
    expect(flash(page)).to_be_visible()
    expect(page.locator(".timeline").first).to_contain_text("电话督促玉霞街道")
    supervisor.shot("follow-up-recorded")
    # the supervisors above the late agency are told of the follow-up too, its author included
    unread = int(re.match(r"\d+", page.locator(".nav-count").inner_text()).group(0))

    # The reminders about this case are shown on it; reading them lowers the header's count.
    reminders = page.locator(".case-reminders")
    expect(reminders).to_contain_text(f"超期督办：{number} 函告消防救援机构")
    mine = reminders.locator("li").count()
    reminders.get_by_role("button", name=re.compile("标为已读")).click()
    expect(page.locator(".flash-info")).to_contain_text("标为已读")
    expect(page.locator(".case-reminders")).to_have_count(0)
    left = unread - mine
    if left:
        expect(page.locator(".nav-count")).to_have_text(re.compile(f"^{left}"))
    else:
        expect(page.locator(".nav-count")).to_have_count(0)
    supervisor.shot("reminders-read")

    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name=re.compile("消息")).click()
    expect(page.locator("h1")).to_have_text("消息")
    expect(page.locator(".lead")).to_contain_text(f"您有 {left} 条未读消息" if left else "没有未读")
    supervisor.shot("notifications")

    # The warning board: the demo fires' warnings public in 鼎城区 — the city-wide ones and the
    # province report, not 武陵区's county-wide one.
    nav.get_by_role("link", name="预警公告").click()
    expect(page.locator("h1")).to_have_text("预警公告")
    expect(page.locator(".warning-item")).to_have_count(2)
    expect(page.locator(".warning-item").first).to_contain_text("已上报省级")
    expect(page.get_by_text("武陵区丹阳街道")).to_have_count(0)
    supervisor.shot("warnings", readme="warnings")


# --------------------------------------------------------------------------------- journey 3


def test_journey_3_auditor_prints_and_exports(officer_factory) -> None:
    """Find a closed case, download its dossier PDF, export a district's dossiers as a ZIP."""
    auditor = officer_factory("city.auditor", "3-auditor")
    page = auditor.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="案卷审计").click()
    search = page.locator("form[aria-label=查找案件]")
    search.get_by_label("状态").select_option(label="已办结")
    search.get_by_label("辖区").select_option(label="鼎城区")
    search.get_by_role("button", name="查找").click()
    rows = page.locator("table[class~=table] tbody tr").filter(has_text="已办结")
    expect(rows.first).to_be_visible()
    auditor.shot("search")
    number = rows.first.locator("td").first.inner_text().strip()

    # printing writes an audit event: the button posts a form with the page's CSRF token
    expect(rows.first.get_by_role("button", name=re.compile("打印案卷"))).to_be_visible()
    form = rows.first.locator("form")
    assert form.get_attribute("method") == "post"
    token = form.locator("input[name=csrf_token]").get_attribute("value")
    response = page.request.post(
        auditor.url(form.get_attribute("action")), form={"csrf_token": token or ""}
    )
    assert response.ok
    assert response.headers["content-type"].startswith("application/pdf")
    body = response.body()
    assert body.startswith(b"%PDF-")
    pdf = auditor.artifact(f"dossier-{number}.pdf")
    pdf.write_bytes(body)
    text = "".join(p.extract_text() or "" for p in PdfReader(BytesIO(body)).pages[:2])
    assert number in text
    assert "卷内目录" in (PdfReader(BytesIO(body)).pages[1].extract_text() or "")
    cover = pdf_first_page_png(pdf, auditor.artifact("dossier-cover.png"))
    if cover is not None:  # poppler-utils installed: the first page as a picture
        readme_copy(cover, "dossier-cover")
    index = pdf_first_page_png(pdf, auditor.artifact("dossier-index.png"), page=2)
    if index is not None:  # the 卷内目录 right after the cover
        readme_copy(index, "dossier-index")

    page.locator("#exp-district").select_option(label="鼎城区")
    page.get_by_role("button", name="导出案卷 (ZIP)").click()
    expect(page.locator("h1")).to_have_text("批量导出案卷")
    bar = page.locator("#export-progress")
    expect(bar).to_be_visible()
    auditor.shot("export-started")
    expect(bar).to_have_attribute("value", "100", timeout=120_000)
    download_link = page.get_by_role("link", name=re.compile("下载 ZIP"))
    expect(download_link).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("已完成")
    auditor.shot("export-done")
    with page.expect_download() as info:
        download_link.click()
    archive = Path(info.value.path())
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
    assert any(name.endswith(".pdf") for name in names)
    assert any(number in name for name in names)


# --------------------------------------------------------------------------------- journey 4


def test_journey_4_other_district_cannot_open_case(officer_factory, live_server) -> None:
    """An officer of 鼎城区 gets 页面不存在 for a 武陵区 case, never its content."""
    if "case" not in live_server.notes:  # run alone: any case of the street officer's
        street = officer_factory("wuling.nanping", "4-street")
        street.goto("/cases")
        first = street.page.locator("tbody tr").first.get_by_role("link")
        live_server.notes["case"] = (first.inner_text(), first.get_attribute("href"))
    number, path = live_server.notes["case"]
    outsider = officer_factory("dingcheng.fire", "4-outsider")
    response = outsider.goto(path)
    assert response.status == 404
    expect(outsider.page.locator("h1")).to_have_text("页面不存在")
    expect(outsider.page.locator("main")).not_to_contain_text(number)
    expect(outsider.page.locator("main")).not_to_contain_text(UNIT)
    outsider.shot("not-found")
    # the dossier: printing is a POST (a GET answers 405), and for an outsider a 404
    assert outsider.goto(f"{path}/dossier.pdf").status == 405
    outsider.goto("/")
    token = outsider.page.locator("input[name=csrf_token]").first.get_attribute("value")
    printed = outsider.page.request.post(
        outsider.url(f"{path}/dossier.pdf"), form={"csrf_token": token or ""}
    )
    assert printed.status == 404


# ------------------------------------------------------------------------------ layout checks


@pytest.mark.parametrize(
    "username,path", [("dingcheng.fire", "/"), ("city.supervisor", "/supervision")]
)
def test_tablet_layout_has_no_sideways_scrolling(officer_factory, username, path) -> None:
    """At 768×1024 the inbox and the dashboard fit the width; dates carry the weekday."""
    person = officer_factory(username, f"5-tablet-{username}", viewport=TABLET)
    person.goto(path)
    width = person.page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"{path} is {width}px wide on a tablet"
    assert CN_DATE.search(person.page.locator("main").inner_text())
    for badge in person.page.locator(".badge").all()[:20]:
        assert badge.inner_text().strip(), "a status badge must say its status in words"
    person.shot("page", full_page=True)
