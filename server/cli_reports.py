"""``flask --app server report …``: the campaign reports from the command line (issue 19).

``report monthly`` writes the monthly table (附件8, :mod:`server.report_figures`) as ``.xlsx``.
The group is registered by :func:`server.cli.init_app`; another report adds its own command to
:data:`report_group` here (``@report_group.command("annual")``) and reuses :func:`scopes_of`
and :func:`write_output`, which check the input before anything is computed and write the file
only once it is complete.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup, with_appcontext

from server.cli import needs_database

if TYPE_CHECKING:  # the figures module needs the app; it is imported when a command runs
    from server.report_figures import Scope

report_group = AppGroup("report", help="The campaign reports (monthly table, annual report).")


def scopes_of(district: str | None, department: str | None) -> list[Scope]:
    """The report scopes the options name: one district, one department, or — with neither —
    every district (:func:`server.report_figures.scope_options`'s districts).

    :raises click.ClickException: (Chinese) for an unknown district or department.
    """
    from server.report_figures import Scope, scope_options

    if district and department:
        raise click.ClickException("--district 和 --department 只能指定一个")
    if district or department:
        scope = Scope("district", district) if district else Scope("department", department)
        try:
            scope.check()
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        return [scope]
    return [s for s in scope_options() if s.kind == "district"]


def write_output(output: str, data: bytes) -> None:
    """Write the finished file (``-`` for stdout); nothing is written before it is complete."""
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    if not path.parent.is_dir():
        raise click.ClickException(f"目录不存在：{path.parent}")
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)


@report_group.command("monthly")
@with_appcontext
@click.option("--month", required=True, help="统计月份 YYYY-MM, e.g. 2026-11")
@click.option("--district", help="one district's table (division code, e.g. dingcheng)")
@click.option("--department", help="one industry department's table (agency code)")
@click.option("-o", "--output", required=True, help="the .xlsx file to write (- for stdout)")
@click.option("--filled-by", default="", help="填报人")
@click.option("--reviewed-by", default="", help="审核人")
@click.option("--phone", default="", help="联系电话")
@click.option("--filled-on", default="", help="填报日期")
@click.option("--remarks", default="", help="备注 (added to the note line)")
@needs_database
def monthly_command(
    month: str,
    district: str | None,
    department: str | None,
    output: str,
    filled_by: str,
    reviewed_by: str,
    phone: str,
    filled_on: str,
    remarks: str,
) -> None:
    """Write the monthly table (附件8) of MONTH: one district's (--district), one department's
    (--department), or every district's as one sheet each plus a 汇总 sheet."""
    from server.report_figures import month_label, month_period, monthly_table, monthly_workbook

    try:
        start, _end = month_period(month)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    scopes = scopes_of(district, department)
    tables = [monthly_table(scope, month) for scope in scopes]
    footer = {
        "filled_by": filled_by,
        "reviewed_by": reviewed_by,
        "phone": phone,
        "filled_on": filled_on,
        "remarks": remarks,
    }
    write_output(output, monthly_workbook(tables, {k: v for k, v in footer.items() if v}))
    names = "、".join(t.scope.name for t in tables) if len(tables) < 4 else f"{len(tables)}个县市区"
    click.echo(
        f"已生成{month_label(start)}进展情况统计表（{names}）"
        + ("" if output == "-" else f"：{output}"),
        err=output == "-",
    )


@report_group.command("generate")
@with_appcontext
@click.option("--month", help="generate the monthly reports (附件8) of this month, YYYY-MM")
@click.option("--year", help="generate the annual work reports of this year, YYYY")
@needs_database
def generate_command(month: str | None, year: str | None) -> None:
    """Open the report cases of a period for every reporting agency that has none yet (the
    scheduler does so on the 1st and on the annual draft date); safe to run again."""
    from server.report_cases import check_period, generate

    if bool(month) == bool(year):
        raise click.ClickException("请指定 --month 或 --year 之一")
    kind, period = ("monthly", month) if month else ("annual", year)
    assert period is not None
    try:
        check_period(kind, period)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    created = generate(kind, period)
    click.echo(f"已生成 {len(created)} 份报告：" + "、".join(r.case.number for r in created)
               if created else "没有需要生成的报告（均已生成）")  # fmt: skip


@report_group.command("annual")
@with_appcontext
@click.option("--year", required=True, help="年度, e.g. 2026")
@click.option("--district", help="one district's report (division code, e.g. dingcheng)")
@click.option("--department", help="one industry department's report (agency code)")
@click.option("-o", "--output", required=True, help="the .pdf file to write (- for stdout)")
@click.option(
    "--as-of", "as_of", default="", help="figures up to this day YYYY-MM-DD (default today)"
)
@click.option("--remarks-file", default="", help="UTF-8 text of the office's own sections")
@click.option("--unit", default="", help="填报单位 (署名; default the district's 消安委办)")
@click.option("--number", default="", help="发文字号")
@click.option("--filled-by", default="", help="填报人")
@click.option("--reviewed-by", default="", help="审核人")
@click.option("--phone", default="", help="联系电话")
@click.option("--filled-on", default="", help="成文日期 YYYY-MM-DD (default the data's day)")
@needs_database
def annual_command(
    year: str,
    district: str | None,
    department: str | None,
    output: str,
    as_of: str,
    remarks_file: str,
    unit: str,
    number: str,
    filled_by: str,
    reviewed_by: str,
    phone: str,
    filled_on: str,
) -> None:
    """Write the annual report of YEAR as PDF (the .xlsx tables embedded in it): one
    district's (--district), one department's (--department), or the city's (neither)."""
    from server.report_annual import AnnualReportError, annual_pdf, annual_snapshot
    from server.report_figures import Scope

    if not year.strip().isdigit():
        raise click.ClickException(f"年度“{year}”应为四位数字，例如 2026")
    day = _day(as_of, "--as-of") if as_of else None
    if filled_on:
        filled_on = _day(filled_on, "--filled-on").isoformat()
    remarks = ""
    if remarks_file:
        try:
            remarks = Path(remarks_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"无法读取文字材料文件 {remarks_file}：{exc}") from exc
    scope = scopes_of(district, department)[0] if district or department else Scope("city")
    try:
        snapshot = annual_snapshot(scope, int(year), day)
    except AnnualReportError as exc:
        raise click.ClickException(str(exc)) from exc
    signatures = {
        "unit": unit,
        "number": number,
        "filled_by": filled_by,
        "reviewed_by": reviewed_by,
        "phone": phone,
        "filled_on": filled_on,
    }
    pdf = annual_pdf(snapshot, remarks, {k: v for k, v in signatures.items() if v})
    write_output(output, pdf)
    click.echo(
        f"已生成{snapshot['title']}" + ("" if output == "-" else f"：{output}"), err=output == "-"
    )


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.ClickException(f"{option} 日期“{value}”格式不对，应为 YYYY-MM-DD") from exc
