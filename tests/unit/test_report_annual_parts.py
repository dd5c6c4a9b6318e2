"""Pure parts of the annual report: its period, months, deadline classification, column choice,
texts and charts (no Flask, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from reportlab.graphics.shapes import String

from server import report_annual, report_charts
from server.report_annual_pdf import cn_date, issuer_of, lists_text
from server.report_figures import COLUMNS, FigureRow, FigureTable, Scope

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_title_and_period():
    assert report_annual.report_title("鼎城区", 2026) == "鼎城区2026年度消防安全专项整治工作报告"
    assert report_annual.year_period(2026, date(2026, 12, 7)) == (
        date(2026, 1, 1),
        date(2026, 12, 7),
    )
    assert report_annual.year_period(2025, date(2026, 3, 1)) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
    )
    with pytest.raises(report_annual.AnnualReportError, match="尚未开始"):
        report_annual.year_period(2027, date(2026, 12, 7))
    with pytest.raises(report_annual.AnnualReportError, match="2000—2100"):
        report_annual.year_period(1999, date(2026, 12, 7))


def test_month_starts_cover_the_period_and_cut_the_last_month():
    months = report_annual.month_starts(date(2026, 1, 1), date(2026, 3, 10))
    assert months == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]
    assert len(report_annual.month_starts(date(2024, 1, 1), date(2024, 12, 31))) == 12


@pytest.mark.parametrize(
    ("state", "due", "met", "closed", "expected"),
    [
        ("met", -3, -4, None, "met"),
        ("met", -3, -2, None, "met_late"),  # done after its time before the sweep fired
        ("missed", -3, -1, None, "met_late"),
        ("missed", -3, None, None, "overdue"),
        ("pending", -1, None, None, "overdue"),  # past due, not swept yet
        ("missed", -3, None, -1, "lapsed"),  # the case closed without the step
        ("pending", 1, None, None, None),  # not yet due
        ("met", -3, 2, None, "overdue"),  # done after the moment: not done then
        ("missed", -3, None, 2, "overdue"),  # closed after the moment: open then
    ],
)
def test_classify_reads_the_one_definition_at_a_moment(state, due, met, closed, expected):
    def day(offset):
        return None if offset is None else NOW + timedelta(days=offset)

    assert report_annual.classify(state, day(due), day(met), day(closed), NOW) == expected


def test_rate_text():
    assert report_annual.rate_text(None) == "—"
    assert report_annual.rate_text(0.64912) == "64.9%"
    assert report_annual.rate_text(1.0) == "100.0%"


def _table(cumulative_start: date) -> FigureTable:
    values = {c.key: 1 for c in COLUMNS}
    return FigureTable(
        scope=Scope("district", "dingcheng"),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 7),
        cumulative_start=cumulative_start,
        rows=(FigureRow("total", "合计", values),),
        extra={"fires_month": 2, "fires_cum": 2},
        computed_at=NOW,
    )


def test_annual_columns_drop_cumulative_columns_equal_to_the_year():
    columns = report_annual.annual_columns(_table(date(2026, 1, 1)))
    assert {c["header"] for c in columns} == {"本年", "期末数"}
    assert next(c["key"] for c in columns if c["header"] == "本年") == "found_month"
    assert (
        "本年登记火灾（起）" in report_annual.annual_extra_labels(_table(date(2026, 1, 1))).values()
    )
    since_2020 = report_annual.annual_columns(_table(date(2020, 6, 1)))
    assert "累计" in {c["header"] for c in since_2020}
    assert len(report_annual.annual_extra_labels(_table(date(2020, 6, 1)))) == 2


def test_texts_and_issuer():
    assert cn_date("2026-12-07") == "2026年12月7日"
    snapshot = {
        "scope": {"kind": "district", "code": "dingcheng", "name": "鼎城区"},
        "table": {
            "rows": [
                {
                    "code": "total",
                    "name": "合计",
                    "values": {"found_month": 15, "rectified_month": 4, "listed_month": 2},
                }
            ]
        },
        "listed": [
            {"closed_on": "2026-09-29", "overdue": False},
            {"closed_on": None, "overdue": True},
            {"closed_on": None, "overdue": False},
        ],
    }
    assert issuer_of(snapshot, {}) == "鼎城区消防安全委员会办公室"
    assert issuer_of(snapshot, {"unit": "鼎城区人民政府"}) == "鼎城区人民政府"
    department = {**snapshot, "scope": {"kind": "department", "name": "常德市商务局"}}
    assert issuer_of(department, {}) == "常德市商务局"
    text = lists_text(snapshot)
    assert "隐患15处" in text and "整改完成4处" in text
    assert (
        "挂牌督办重大火灾隐患3处（其中本年度挂牌2处），已销案1处，整改中2处（其中逾期1处）" in text
    )


def _texts(drawing) -> list[str]:
    return [node.text for node in drawing.getContents() if isinstance(node, String)]


def test_charts_carry_their_numbers_as_text():
    font = "Helvetica"
    bars = report_charts.area_bars([("消防车通道", 7, 3), ("高层建筑", 0, 12)], font, 400)
    assert {"7", "3", "0", "12", "消防车通道", "发现", "整改"} <= set(_texts(bars))
    assert bars.initialFontName == font
    lines = report_charts.month_lines([("1月", 2, 0), ("2月", 9, 4)], font, 400)
    assert {"1月", "2月", "2", "9", "4"} <= set(_texts(lines))
    rates = report_charts.on_time_bars([("复查", 3, 4), ("送达", 0, 0)], font, 400)
    assert "按期3 / 到期4（75.0%）" in _texts(rates)
    assert "按期0 / 到期0（—）" in _texts(rates)


def test_grid_steps_are_whole_numbers():
    assert [report_charts._step(top) for top in (1, 4, 7, 10, 19, 45, 180)] == [
        1,
        1,
        2,
        5,
        5,
        20,
        50,
    ]
