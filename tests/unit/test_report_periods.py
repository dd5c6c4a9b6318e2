"""The pure parts of server/report_figures.py: periods, the table's JSON form, headers, the
consolidated rows and the workbook of tables built by hand (no database)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from server import report_figures as rf


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2027-02", date(2027, 2, 1), date(2027, 2, 28)),
        ("2026-1", date(2026, 1, 1), date(2026, 1, 31)),
        (" 2026-03 ", date(2026, 3, 1), date(2026, 3, 31)),
    ],
)
def test_month_period(month: str, start: date, end: date) -> None:
    assert rf.month_period(month) == (start, end)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "不存在"),
        ("2026-00", "不存在"),
        ("1999-05", "不存在"),
        ("2026/11", "格式不对"),
        ("11-2026", "格式不对"),
        ("2026-11-01", "格式不对"),
        ("", "格式不对"),
        ("二〇二六年十一月", "格式不对"),
    ],
)
def test_bad_months_are_refused_in_chinese(month: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rf.month_period(month)


def table(code: str, found: int, start: date = date(2026, 11, 1)) -> rf.FigureTable:
    values = {key: n for n, key in enumerate(rf.KEYS)}
    values["found_month"] = found
    other = dict.fromkeys(rf.KEYS, 1)
    total = {k: values[k] + other[k] for k in rf.KEYS}
    return rf.FigureTable(
        scope=rf.Scope("district", code),
        period_start=start,
        period_end=rf.month_period(f"{start.year}-{start.month}")[1],
        cumulative_start=date(start.year, 1, 1),
        rows=(
            rf.FigureRow("fire_lanes", "消防车通道", values),
            rf.FigureRow("other", "其他", other),
            rf.FigureRow(rf.TOTAL, "合计", total),
        ),
        extra={"fires_month": 2, "warnings_month": 1},
        computed_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
    )


def test_json_round_trip_and_totals() -> None:
    one = table("dingcheng", 5)
    data = one.to_json()
    assert data["scope"] == {"kind": "district", "code": "dingcheng"}
    assert data["scope_name"] == "鼎城区"
    assert data["period_end"] == "2026-11-30"
    assert rf.FigureTable.from_json(data) == one
    assert one.total("found_month") == 6
    with pytest.raises(KeyError):
        one.total("no_such_column")


def test_headers_read_this_month_or_this_period() -> None:
    month = table("dingcheng", 1)
    assert month.is_month
    assert [month.header(c) for c in rf.COLUMNS[:2]] == ["本月", "累计"]
    longer = rf.FigureTable(**{**month.__dict__, "period_end": date(2026, 12, 10)})
    assert not longer.is_month
    assert longer.header(rf.COLUMNS[0]) == "本期"
    assert longer.header(rf.COLUMNS[1]) == "累计"


def test_columns_are_grouped_in_pairs_and_documented() -> None:
    assert len(set(rf.KEYS)) == len(rf.KEYS)
    groups = [c.group for c in rf.COLUMNS]
    assert set(groups) == set(rf.GROUP_RULES)
    for group in set(groups):  # the columns of a group are adjacent (one merged header)
        first = groups.index(group)
        assert groups[first : first + groups.count(group)] == [group] * groups.count(group)
    assert {c.header for c in rf.COLUMNS} == {"本月", "累计", "期末数"}
    assert {k.rsplit("_", 1)[0] for k in rf.EXTRA_LABELS} == set(rf.EXTRA_RULES)


def test_consolidated_rows() -> None:
    rows = rf.consolidated_rows([table("dingcheng", 3), table("wuling", 4)])
    assert [name for name, _ in rows] == ["鼎城区", "武陵区", "合计"]
    assert rows[-1][1]["found_month"] == 4 + 5
    assert rows[-1][1]["exposed_cum"] == 2 * (rf.KEYS.index("exposed_cum") + 1)


def test_the_workbook_of_one_table_has_no_summary_sheet() -> None:
    book = load_workbook(io.BytesIO(rf.monthly_workbook([table("dingcheng", 3)], {"unit": "某办"})))
    assert book.sheetnames == ["鼎城区", "填报说明"]
    sheet = book["鼎城区"]
    assert sheet["A2"].value == "填报单位（盖章）：某办"
    assert sheet["K2"].value == "数据截至：2026年11月30日"  # the month is over
    assert [c.value for c in sheet[7]] == ["合计", *table("dingcheng", 3).totals().values()]
    with pytest.raises(ValueError):
        rf.monthly_workbook([])


def test_data_as_of_a_running_period_is_the_computation_moment() -> None:
    running = rf.FigureTable(
        **{
            **table("dingcheng", 1).__dict__,
            "computed_at": datetime(2026, 11, 20, 2, 5, tzinfo=UTC),
        }
    )
    assert rf.data_as_of(running) == "2026年11月20日10:05"
