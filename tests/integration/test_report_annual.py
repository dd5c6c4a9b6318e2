"""The annual report (server/report_annual.py) over the seeded demo: its figures are
report_figures' and equal independent counts, the PDF carries the title, sections, listed
hazards, embedded fonts and the .xlsx attachments, and the CLI writes or refuses."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from server import report_annual, report_figures
from server.extensions import db
from server.models import Case, Deadline, Document
from server.report_figures import Scope
from workflows.calendar import SHANGHAI

from .test_demo import Seeded, seeded  # noqa: F401  (the module's seeded demo)

TODAY = datetime.now(SHANGHAI).date()
YEAR = TODAY.year
DINGCHENG = Scope("district", "dingcheng")


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


@pytest.fixture(scope="module")
def snapshot(seeded: Seeded) -> dict:  # noqa: F811
    with seeded.app.app_context():
        return report_annual.annual_snapshot(DINGCHENG, YEAR)


@pytest.fixture(scope="module")
def pdf(seeded: Seeded, snapshot: dict, tmp_path_factory) -> Path:  # noqa: F811
    with seeded.app.app_context():
        data = report_annual.annual_pdf(
            snapshot, "（一）组织领导。区政府召开常务会议研究消防工作。", {"filled_by": "李明"}
        )
    path = tmp_path_factory.mktemp("annual") / "annual.pdf"
    path.write_bytes(data)
    return path


def test_snapshot_is_json_and_its_table_is_report_figures(seeded: Seeded, snapshot: dict):  # noqa: F811
    assert json.loads(json.dumps(snapshot)) == snapshot
    with seeded.app.app_context():
        table = report_figures.period_table(DINGCHENG, date(YEAR, 1, 1), TODAY).to_json()
    ours = {k: v for k, v in snapshot["table"].items() if k != "computed_at"}
    assert ours == {k: v for k, v in table.items() if k != "computed_at"}
    assert snapshot["title"] == f"鼎城区{YEAR}年度消防安全专项整治工作报告"
    assert snapshot["period_start"] == f"{YEAR}-01-01" and snapshot["period_end"] == str(TODAY)


def test_figures_equal_independent_counts(seeded: Seeded, snapshot: dict):  # noqa: F811
    start, end = _instant(date(YEAR, 1, 1)), _instant(TODAY + timedelta(days=1))
    with seeded.app.app_context():
        found = db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(
                Case.process_id == "major_hazard",
                Case.district == "dingcheng",
                Case.opened_at >= start,
                Case.opened_at < end,
            )
        )
        noticed = set(
            db.session.scalars(
                select(Document.case_id)
                .join(Case, Document.case_id == Case.id)
                .where(
                    Document.kind == "listed_supervision_notice",
                    Case.district == "dingcheng",
                    Document.issued_at >= start,
                    Document.issued_at < end,
                )
            )
        )
    assert found > 0
    assert report_annual.total(snapshot, "found_month") == found
    # the monthly trend adds up to the year (each hazard is found and rectified once)
    assert sum(m["found"] for m in snapshot["months"]) == found
    assert sum(m["rectified"] for m in snapshot["months"]) == report_annual.total(
        snapshot, "rectified_month"
    )
    assert next(m["month"] for m in snapshot["months"]) == f"{YEAR}-01"
    assert len(snapshot["months"]) == TODAY.month
    # every hazard listed in the year is in the listed-hazards table, with its outcome
    listed = {item["case_id"]: item for item in snapshot["listed"]}
    assert noticed and noticed <= set(listed)
    assert report_annual.total(snapshot, "listed_month") == len(noticed)
    for item in listed.values():
        assert item["outcome"].startswith("已销案" if item["closed_on"] else "整改中")
        assert item["overdue"] == item["outcome"].endswith("逾期")


def test_on_time_rates_equal_an_independent_count(seeded: Seeded, snapshot: dict):  # noqa: F811
    now = datetime.now(UTC)
    start = _instant(date(YEAR, 1, 1))
    due = met = 0
    with seeded.app.app_context():
        rows = db.session.execute(
            select(Deadline.due_at, Deadline.met_at, Deadline.state)
            .join(Case, Deadline.case_id == Case.id)
            .where(Case.district == "dingcheng")
            # the hazards' and fires' deadlines: the demo's report cases have their own
            .where(Case.process_id.in_(("major_hazard", "fire_accountability")))
        ).all()
    for due_at, met_at, state in rows:
        due_at = due_at if due_at.tzinfo else due_at.replace(tzinfo=UTC)
        if not start <= due_at < min(now, _instant(TODAY + timedelta(days=1))):
            continue
        due += 1
        met_at = met_at and (met_at if met_at.tzinfo else met_at.replace(tzinfo=UTC))
        met += state == "met" and met_at is not None and met_at <= due_at
    total = snapshot["on_time"]["total"]
    assert total["due"] == due > 0
    assert total["met"] == met
    assert total["met"] + total["met_late"] + total["overdue"] + total["lapsed"] == due
    assert total["rate"] == round(met / due, 4)
    assert sum(s["due"] for s in snapshot["on_time"]["stages"]) == due


def test_a_past_as_of_cuts_the_period(seeded: Seeded):  # noqa: F811
    with seeded.app.app_context():
        early = report_annual.annual_snapshot(DINGCHENG, YEAR, date(YEAR, 3, 31))
        with pytest.raises(report_annual.AnnualReportError, match="尚未开始"):
            report_annual.annual_snapshot(DINGCHENG, YEAR + 1, TODAY)
    assert early["period_end"] == f"{YEAR}-03-31" and len(early["months"]) == 3


def test_pdf_text_fonts_and_attachments(seeded: Seeded, snapshot: dict, pdf: Path):  # noqa: F811
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    for heading in (
        snapshot["title"],
        "一、总体情况和主要数据",
        "二、“两个清单”落实情况",
        "三、执法和督办",
        "四、工作推进情况、存在的问题和下一年度工作打算",
        "区政府召开常务会议研究消防工作",  # the office's remarks
        "市安委会办公室、市消安委办公室",
        "附件1",
        "附件2",
        "填报人：李明",
    ):
        assert heading in flat, heading
    assert snapshot["listed"]
    for item in snapshot["listed"]:
        assert item["unit_name"] in flat
    assert f"共发现火灾隐患{report_annual.total(snapshot, 'found_month')}处" in flat
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows and all(line.split()[-5] == "yes" for line in rows), fonts.stdout
    reader = PdfReader(str(pdf))
    assert reader.metadata.title == snapshot["title"]
    names = report_annual_pdf_names(snapshot)
    assert sorted(reader.attachments) == sorted(names)
    book = openpyxl.load_workbook(io.BytesIO(reader.attachments[names[0]][0]))
    assert book.sheetnames == list(report_annual.SHEETS)
    assert [c.value for c in book["挂牌督办隐患"][1]][:3] == ["序号", "督办编号", "县市区"]
    assert book["挂牌督办隐患"].max_row == len(snapshot["listed"]) + 1
    assert [c.value for c in book["月度趋势"][1]] == ["月份", "发现隐患", "整改隐患"]
    rate = book["按期办结率"]
    assert rate.cell(rate.max_row, 1).value == "合计"
    assert rate.cell(rate.max_row, 3).value == snapshot["on_time"]["total"]["due"]
    year = openpyxl.load_workbook(io.BytesIO(reader.attachments[names[1]][0]))
    assert "鼎城区" in year.sheetnames


def report_annual_pdf_names(snapshot: dict) -> tuple[str, str]:
    from server.report_annual_pdf import attachment_names

    return attachment_names(snapshot)


def test_cli_writes_the_pdf(seeded: Seeded, tmp_path: Path):  # noqa: F811
    out = tmp_path / "d.pdf"
    result = seeded.app.test_cli_runner().invoke(
        args=[
            "report",
            "annual",
            "--year",
            str(YEAR),
            "--district",
            "dingcheng",
            "-o",
            str(out),
            "--filled-by",
            "王芳",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "已生成鼎城区" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert len(PdfReader(str(out)).attachments) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "20x6"], "应为四位数字"),
        (["--year", str(YEAR + 1)], "尚未开始"),
        (["--year", str(YEAR), "--district", "nowhere"], "没有代码为“nowhere”的县市区"),
        (["--year", str(YEAR), "--department", "fire_brigade:wuling"], "行业主管部门"),
        (["--year", str(YEAR), "--as-of", "12/01"], "--as-of 日期"),
    ],
)
def test_cli_refuses_bad_input(seeded: Seeded, tmp_path: Path, args, message):  # noqa: F811
    out = tmp_path / "x.pdf"
    result = seeded.app.test_cli_runner().invoke(args=["report", "annual", *args, "-o", str(out)])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists() and not list(tmp_path.iterdir())
