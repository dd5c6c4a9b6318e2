"""The annual report's PDF: a snapshot (:func:`server.report_annual.annual_snapshot`) drawn in the
documents' layout, with its ``.xlsx`` tables embedded as PDF file attachments.

The page set, the red 发文机关标志 and 发文字号 of the 文件格式, the page numbers, the fonts by
role and the paragraph styles are the documents engine's (:mod:`server.documents.render`,
GB/T 9704-2012; ``docs/documents-engine.md``): the report is an upward 报告 of a district's
消安委办 or a department to the city offices, so it takes the ``report`` layout. What is new
here is the report's content: the sections the system fills (REPORTS.md §3.2: 1, 4, 5), the
office's own text, charts and tables, the attachments' pages (附件, GB/T 9704 §7.3.4) and the
embedded workbooks.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor, black
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from server import report_annual as annual
from server import report_charts
from server.documents.fonts import DocumentFonts, document_fonts
from server.documents.render import (
    LEADING,
    WIDTH,
    _body,
    _bold,
    _Doc,
    _p,
    _signature,
    _styles,
)
from server.dossier.fonts import BUILD_LOCK
from server.overdue import LAPSED, MET, MET_LATE, OVERDUE
from workflows.documents import Filled

TABLE_SIZE = 10.5  # 五号
#: ``signatures`` keys printed in the sign-off lines (the monthly workbook's footer keys).
SIGN_OFF = (("filled_by", "填报人"), ("reviewed_by", "审核人"), ("phone", "联系电话"))
#: Sections the office writes (REPORTS.md §3.2, 2, 3, 6, 7, 8): what the remarks should hold.
WRITTEN_BY_PEOPLE = (
    "组织领导和责任落实、各专项任务推进情况、制度机制和长效建设、存在的问题和困难、下一年度工作打算"
)


def issuer_of(snapshot: Mapping[str, Any], signatures: Mapping[str, str]) -> str:
    """Who sends the report (署名 and 发文机关标志): ``signatures["unit"]`` if given, else a
    district's or the city's 消防安全委员会办公室 (the plan's addressee of the monthly table,
    四（五）末段), or the department itself."""
    if signatures.get("unit"):
        return str(signatures["unit"])
    scope = snapshot["scope"]
    if scope["kind"] == "department":
        return str(scope["name"])
    return f"{scope['name']}消防安全委员会办公室"


def cn_date(value: str | date) -> str:
    """``2026年12月7日``."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"


def _figure(snapshot: Mapping[str, Any], key: str) -> int:
    return annual.total(snapshot, key)


def overview_text(snapshot: Mapping[str, Any]) -> list[str]:
    """The 总体情况和主要数据 paragraphs (figures of the snapshot only)."""
    f = lambda key: _figure(snapshot, key)  # noqa: E731 - a short local reader
    period = f"{cn_date(snapshot['period_start'])}至{cn_date(snapshot['period_end'])}"
    scope = snapshot["scope"]["name"]
    texts = [
        f"{period}，{scope}共发现火灾隐患{f('found_month')}处，其中认定重大火灾隐患"
        f"{f('major_month')}处；整改完成（复查合格）{f('rectified_month')}处。截至"
        f"{cn_date(snapshot['period_end'])}，整改中{f('in_rectification')}处，其中逾期未办"
        f"{f('overdue')}处。各专项整治领域的数据见图1和附件1，按月变化见图2。"
    ]
    extra = snapshot["table"].get("extra") or {}
    if extra:
        texts.append(
            f"同期登记火灾{extra.get('fires_month', 0)}起，作出火灾事故认定"
            f"{extra.get('fires_determined_month', 0)}起，发布火灾事故分级公开预警"
            f"{extra.get('warnings_month', 0)}次。"
        )
    return texts


def lists_text(snapshot: Mapping[str, Any]) -> str:
    """The “两个清单”落实情况 paragraph."""
    listed = snapshot["listed"]
    closed = sum(1 for item in listed if item["closed_on"])
    late = sum(1 for item in listed if item["overdue"])
    return (
        f"本年度新纳入问题隐患清单和整改责任清单的隐患{_figure(snapshot, 'found_month')}处，"
        f"整改完成{_figure(snapshot, 'rectified_month')}处。本年度在办的挂牌督办重大火灾隐患"
        f"{len(listed)}处（其中本年度挂牌{_figure(snapshot, 'listed_month')}处），已销案"
        f"{closed}处，整改中{len(listed) - closed}处（其中逾期{late}处），逐项情况见表1。"
    )


def enforcement_text(snapshot: Mapping[str, Any]) -> list[str]:
    """The 执法和督办 paragraphs: 督办/约谈/曝光/挂牌 and the on-time rates."""
    f = lambda key: _figure(snapshot, key)  # noqa: E731 - a short local reader
    total = snapshot["on_time"]["total"]
    texts = [
        f"本年度对逾期未整改的隐患督办{f('supervised_month')}处、约谈{f('interviewed_month')}处、"
        f"曝光{f('exposed_month')}处，提请挂牌督办{f('listed_month')}处。"
    ]
    if total["due"]:
        texts.append(
            f"本年度到期的法定办理期限{total['due']}个，按期办结{total[MET]}个，按期办结率"
            f"{annual.rate_text(total['rate'])}；逾期后办结{total[MET_LATE]}个，逾期未办"
            f"{total[OVERDUE] + total[LAPSED]}个。各环节情况见图3和附件2。"
        )
    else:
        texts.append("本年度没有到期的法定办理期限。")
    return texts


def _table_styles(fonts: DocumentFonts) -> dict[str, ParagraphStyle]:
    cell = ParagraphStyle(
        "cell",
        fontName=fonts.body.name,
        fontSize=TABLE_SIZE,
        leading=TABLE_SIZE * 1.3,
        wordWrap="CJK",
        alignment=TA_LEFT,
    )
    return {
        "cell": cell,
        "centre": ParagraphStyle("centre", parent=cell, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=cell, fontName=fonts.hei.name, alignment=TA_CENTER),
        "caption": ParagraphStyle(
            "caption",
            parent=cell,
            fontName=fonts.hei.name,
            fontSize=12,
            leading=18,
            alignment=TA_CENTER,
        ),
        "note": ParagraphStyle("note", parent=cell, fontSize=9, leading=13),
    }


def _grid(
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    st: Mapping[str, ParagraphStyle],
    centred: Sequence[int] = (),
    bold_last: bool = False,
) -> Table:
    """A ruled table: the first row a header, the given columns centred."""
    data = [[Paragraph(escape(str(v)), st["head"]) for v in rows[0]]]
    for row in rows[1:]:
        data.append(
            [
                Paragraph(escape(str(v)), st["centre"] if i in centred else st["cell"])
                for i, v in enumerate(row)
            ]
        )
    table = Table(data, colWidths=list(widths), repeatRows=1)
    style = [
        # the cells are Paragraphs; the table still sets its own font on the canvas: name the
        # body face, not ReportLab's default Helvetica (which would be named, unembedded)
        ("FONTNAME", (0, 0), (-1, -1), st["cell"].fontName),
        ("GRID", (0, 0), (-1, -1), 0.5, black),
        ("BACKGROUND", (0, 0), (-1, 0), HexColor("#EEF2F6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if bold_last:
        style.append(("BACKGROUND", (0, -1), (-1, -1), HexColor("#F5F5F5")))
    table.setStyle(TableStyle(style))
    return table


def _chart(drawing: Drawing, caption: str, st: Mapping[str, ParagraphStyle]) -> Flowable:
    return KeepTogether([Spacer(1, 4), drawing, _p(caption, st["caption"]), Spacer(1, 6)])


def listed_table(snapshot: Mapping[str, Any], st: Mapping[str, ParagraphStyle]) -> Flowable:
    """表1: the listed hazards and their outcome."""
    rows: list[list[str]] = [["序号", "单位名称", "县市区", "专项整治领域", "整改期限", "办理结果"]]
    for n, item in enumerate(snapshot["listed"], start=1):
        rectify_by = cn_date(item["rectify_by"]) if item["rectify_by"] else "—"
        rows.append(
            [
                str(n),
                f"{item['unit_name']}（{item['number']}）",
                item["district"],
                item["area"] or "—",
                rectify_by,
                item["outcome"],
            ]
        )
    if len(rows) == 1:
        rows.append(["—", "本年度没有挂牌督办的重大火灾隐患", "", "", "", ""])
    return _grid(rows, [10 * mm, 52 * mm, 16 * mm, 26 * mm, 24 * mm, 28 * mm], st, (0, 2, 4))


def year_table(snapshot: Mapping[str, Any], st: Mapping[str, ParagraphStyle]) -> Flowable:
    """附件1: the year's figures, one row per figure and one column per campaign area (the
    table transposed to fit the portrait page)."""
    areas = snapshot["table"]["rows"]
    columns = snapshot["columns"]
    label_w = 34 * mm
    area_w = (WIDTH - label_w) / max(len(areas), 1)
    rows: list[list[str]] = [["项目（处）", *(a["name"] for a in areas)]]
    for column in columns:
        header = "" if column["header"] == "本年" else f"（{column['header']}）"
        rows.append(
            [
                f"{column['group']}{header}",
                *(str(int(a["values"].get(column["key"], 0))) for a in areas),
            ]
        )
    table = _grid(rows, [label_w, *([area_w] * len(areas))], st, range(1, len(areas) + 1))
    table.setStyle(TableStyle([("BACKGROUND", (-1, 1), (-1, -1), HexColor("#F5F5F5"))]))
    return table


def rate_table(snapshot: Mapping[str, Any], st: Mapping[str, ParagraphStyle]) -> Flowable:
    """附件2: the on-time rates by stage, under a row per process, and the total."""
    headers = ["环节", *(h for _, h in annual.RATE_COLUMNS), "按期办结率"]
    rows: list[list[str]] = [headers]
    spans: list[int] = []
    process = None
    for stage in snapshot["on_time"]["stages"]:
        if stage["process"] != process:
            process = stage["process"]
            spans.append(len(rows))
            rows.append([stage["process_name"], *([""] * (len(headers) - 1))])
        rows.append(
            [
                stage["stage"],
                *(str(stage[k]) for k, _ in annual.RATE_COLUMNS),
                annual.rate_text(stage["rate"]),
            ]
        )
    total = snapshot["on_time"]["total"]
    rows.append(
        ["合计", *(str(total[k]) for k, _ in annual.RATE_COLUMNS), annual.rate_text(total["rate"])]
    )
    widths = [46 * mm, *([16 * mm] * 5), 30 * mm]
    table = _grid(rows, widths, st, range(1, 7), bold_last=True)
    table.setStyle(
        TableStyle(
            [
                cmd
                for row in spans
                for cmd in (
                    ("SPAN", (0, row), (-1, row)),
                    ("BACKGROUND", (0, row), (-1, row), HexColor("#F5F5F5")),
                )
            ]
        )
    )
    return table


def _annex_heading(
    number: int, title: str, fonts: DocumentFonts, styles: Mapping[str, ParagraphStyle]
) -> list[Flowable]:
    """GB/T 9704 §7.3.4/§8: "附件N" flush left in 黑体 on the first line, the title centred."""
    label = ParagraphStyle("annex", parent=styles["flush"], fontName=fonts.hei.name)
    return [
        _p(f"附件{number}", label),
        Spacer(1, LEADING / 2),
        _bold(title, styles["title"]),
        Spacer(1, LEADING / 2),
    ]


def story(
    snapshot: Mapping[str, Any],
    remarks: str,
    signatures: Mapping[str, str],
    fonts: DocumentFonts,
    filled: Filled,
    attachments: Sequence[str],
) -> list[Flowable]:
    """The report's flowables (the 文件格式 header is drawn on the first page by ``_Doc``)."""
    styles = _styles(fonts)
    st = _table_styles(fonts)
    font = fonts.body.name
    year = snapshot["year"]
    annexes = (
        f"{snapshot['title'][:-4]}统计表",
        f"{snapshot['scope']['name']}{year}年度按期办结情况表",
    )
    parts: list[Flowable] = [NextPageTemplate("later"), Spacer(1, 2 * LEADING - 4 * mm)]
    parts += [_bold(filled.title, styles["title"]), Spacer(1, LEADING / 2)]
    parts.append(_p(f"{filled.addressee}：", styles["flush"]))

    def body(text: str) -> None:
        parts.append(_body(text, styles["body"], fonts))

    body(
        f"现将{snapshot['scope']['name']}{year}年度消防安全专项整治工作情况报告如下。本报告的数据由"
        f"督办系统根据案件办理记录统计，统计期间为{cn_date(snapshot['period_start'])}至"
        f"{cn_date(snapshot['period_end'])}。"
    )
    body("一、总体情况和主要数据")
    for text in overview_text(snapshot):
        body(text)
    chart_width = WIDTH
    parts.append(CondPageBreak(60 * mm))
    parts.append(
        _chart(
            report_charts.area_bars(annual.area_rows(snapshot), font, chart_width),
            "图1  各专项整治领域发现和整改完成的隐患（处）",
            st,
        )
    )
    parts.append(
        _chart(
            report_charts.month_lines(annual.month_rows(snapshot), font, chart_width),
            "图2  按月发现和整改完成的隐患（处）",
            st,
        )
    )
    body("二、“两个清单”落实情况")
    body(lists_text(snapshot))
    parts.append(CondPageBreak(40 * mm))
    parts.append(_p("表1  挂牌督办重大火灾隐患及办理结果", st["caption"]))
    parts.append(listed_table(snapshot, st))
    parts.append(Spacer(1, LEADING / 2))
    body("三、执法和督办")
    for text in enforcement_text(snapshot):
        body(text)
    stages = [(f"{s['stage']}", int(s[MET]), int(s["due"])) for s in snapshot["on_time"]["stages"]]
    if stages:
        parts.append(
            _chart(
                report_charts.on_time_bars(stages, font, chart_width),
                "图3  各环节法定期限按期办结情况（个）",
                st,
            )
        )
    body("四、工作推进情况、存在的问题和下一年度工作打算")
    lines = [line.strip() for line in remarks.splitlines() if line.strip()]
    if lines:
        for line in lines:
            body(line)
    else:
        body(f"（本部分由填报单位填写：{WRITTEN_BY_PEOPLE}。）")
    # 附件说明 (GB/T 9704 §7.3.4): one line under the body, "附件：1．…", hanging indent
    note = ParagraphStyle(
        "annexes", parent=styles["body"], firstLineIndent=0, leftIndent=5 * 15.75, alignment=TA_LEFT
    )
    first = ParagraphStyle("annexes0", parent=note, leftIndent=2 * 15.75, firstLineIndent=0)
    listing: list[Flowable] = [Spacer(1, LEADING / 2), _p(f"附件：1．{annexes[0]}", first)]
    listing += [_p(f"2．{annexes[1]}", note)]
    parts += [*listing[:1], KeepTogether([*listing[1:], *_signature(filled, font)])]
    sign_off = [f"{label}：{signatures.get(key, '')}" for key, label in SIGN_OFF]
    parts.append(Spacer(1, LEADING / 2))
    parts.append(_p("　　".join(sign_off), styles["small"]))
    # the attachments' pages
    parts += [PageBreak(), *_annex_heading(1, annexes[0], fonts, styles)]
    parts.append(year_table(snapshot, st))
    extra = snapshot["table"].get("extra") or {}
    labels = snapshot.get("extra_labels") or {}
    if labels:
        rows = [["项目", "数量"]] + [[label, str(extra.get(k, 0))] for k, label in labels.items()]
        parts += [Spacer(1, 8), _grid(rows, [80 * mm, 30 * mm], st, (1,))]
    parts += [PageBreak(), *_annex_heading(2, annexes[1], fonts, styles)]
    parts.append(rate_table(snapshot, st))
    parts.append(Spacer(1, 8))
    parts.append(
        _p(
            "说明：统计本年度内到期的法定办理期限（按截止日期）；按期办结率＝按期办结数÷到期数。"
            "“逾期未办”“逾期后办结”的口径与督办系统各页面相同。本报告的电子表格（"
            + "、".join(attachments)
            + "）已作为附件嵌入本PDF文件。",
            st["note"],
        )
    )
    return parts


def attachment_names(snapshot: Mapping[str, Any]) -> tuple[str, str]:
    """File names of the two embedded workbooks."""
    title = snapshot["title"]
    return f"{title}-附表.xlsx", f"{title[:-4]}统计表（月报格式）.xlsx"


def render_annual(
    snapshot: Mapping[str, Any], remarks: str, signatures: Mapping[str, str]
) -> bytes:
    """The PDF bytes: the report drawn by the documents' page set, then the workbooks embedded
    (pypdf ``add_attachment``) and the document's metadata set."""
    fonts = document_fonts()
    issuer = issuer_of(snapshot, signatures)
    filled = Filled(
        kind="annual_report",
        name="年度工作报告",
        layout="report",
        title=snapshot["title"],
        number=str(signatures.get("number", "")),
        issuer=issuer,
        addressee=annual.ADDRESSEE,
        addressee_label="",
        date=cn_date(signatures.get("filled_on") or snapshot["as_of"]),
        paragraphs=(),
        receipt=(),
        signer=str(signatures.get("signer", "")),
    )
    names = attachment_names(snapshot)
    with BUILD_LOCK:
        buffer = io.BytesIO()
        doc = _Doc(buffer, filled, fonts)
        doc.build(story(snapshot, remarks, signatures, fonts, filled, names))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    workbook_remarks = {k: str(v) for k, v in signatures.items()}
    workbook_remarks.setdefault("unit", issuer)
    writer.add_attachment(names[0], annual.annual_workbook(snapshot))
    writer.add_attachment(names[1], annual.year_table_workbook(snapshot, workbook_remarks))
    writer.add_metadata(
        {
            "/Title": snapshot["title"],
            "/Author": issuer,
            "/Subject": "年度工作报告",
            "/Creator": "Duban",
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
