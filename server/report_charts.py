"""The annual report's charts, drawn with ``reportlab.graphics`` as vector drawings in the PDF.

They show what the dashboard's charts show (``server/charts.py``: bars by group, a monthly
trend), from a report snapshot's figures: every bar and point carries its number as text, so
a chart reads in black and white and ``pdftotext`` finds the numbers. Pure functions of their
data and a registered font name (no Flask, no database).
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib.colors import Color, HexColor, black
from reportlab.pdfbase.pdfmetrics import stringWidth

FOUND = HexColor("#c62828")
RECTIFIED = HexColor("#2e7d32")
LATE = HexColor("#f0a202")
GRID = HexColor("#999999")
TEXT = 9.0


def _legend(
    drawing: Drawing, x: float, y: float, items: Sequence[tuple[str, Color]], font: str
) -> None:
    for label, colour in items:
        drawing.add(Rect(x, y, 8, 8, fillColor=colour, strokeColor=None))
        drawing.add(String(x + 11, y + 0.5, label, fontName=font, fontSize=TEXT))
        x += 11 + stringWidth(label, font, TEXT) + 14


def _drawing(width: float, height: float, font: str) -> Drawing:
    """An empty drawing whose initial font is ``font`` (ReportLab's default, Helvetica, would
    otherwise be named in the PDF, unembedded)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = font
    drawing.initialFontSize = TEXT
    return drawing


def _step(top: int) -> int:
    """A whole grid step giving at most four lines up to ``top``."""
    step = 1
    while top / step > 4:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


def _clip(text: str, font: str, width: float) -> str:
    """``text`` cut (with …) to fit ``width`` at the chart's text size."""
    if stringWidth(text, font, TEXT) <= width:
        return text
    while text and stringWidth(text + "…", font, TEXT) > width:
        text = text[:-1]
    return text + "…"


def area_bars(
    rows: Sequence[tuple[str, int, int]],
    font: str,
    width: float,
    labels: tuple[str, str] = ("发现", "整改"),
) -> Drawing:
    """Paired horizontal bars per campaign area: (area name, found, rectified).

    Each pair is labelled with its two numbers; the legend is at the bottom."""
    bar, gap, left = 9.0, 7.0, 165.0
    right = 40.0
    height = 22 + len(rows) * (2 * bar + gap) + 8
    drawing = _drawing(width, height, font)
    top = max((max(a, b) for _, a, b in rows), default=0) or 1
    scale = (width - left - right) / top
    y = height - 8
    for name, first, second in rows:
        y -= 2 * bar + gap
        drawing.add(
            String(
                left - 6,
                y + bar - 3,
                _clip(name, font, left - 8),
                fontName=font,
                fontSize=TEXT,
                textAnchor="end",
            )
        )
        for offset, (value, colour) in enumerate(((first, FOUND), (second, RECTIFIED))):
            by = y + bar * (1 - offset)
            drawing.add(Rect(left, by, value * scale, bar - 1, fillColor=colour, strokeColor=None))
            drawing.add(
                String(
                    left + value * scale + 3, by + 1.5, str(value), fontName=font, fontSize=TEXT - 1
                )
            )
    drawing.add(Line(left, y - 2, left, height - 8, strokeColor=GRID, strokeWidth=0.5))
    _legend(drawing, left, 2, ((labels[0], FOUND), (labels[1], RECTIFIED)), font)
    return drawing


def month_lines(
    months: Sequence[tuple[str, int, int]],
    font: str,
    width: float,
    labels: tuple[str, str] = ("发现", "整改"),
) -> Drawing:
    """Two lines over the months of the year: (month label, found, rectified), each point
    labelled with its value (found above, rectified below the point)."""
    height, left, bottom, top_pad = 170.0, 24.0, 34.0, 16.0
    drawing = _drawing(width, height, font)
    plot_h = height - bottom - top_pad
    top = max((max(a, b) for _, a, b in months), default=0) or 1
    slot = (width - left - 10) / max(len(months), 1)
    drawing.add(Line(left, bottom, width - 10, bottom, strokeColor=GRID, strokeWidth=0.5))
    step = _step(top)
    top = max(top, step * -(-top // step))
    for value in range(step, top + 1, step):  # light grid lines with their values
        y = bottom + plot_h * value / top
        drawing.add(Line(left, y, width - 10, y, strokeColor=HexColor("#e0e0e0"), strokeWidth=0.3))
        drawing.add(
            String(
                left - 3,
                y - 3,
                str(value),
                fontName=font,
                fontSize=TEXT - 2,
                textAnchor="end",
                fillColor=GRID,
            )
        )
    for series, (colour, dy) in enumerate(((FOUND, 4.0), (RECTIFIED, -10.0))):
        points: list[float] = []
        for index, month in enumerate(months):
            value = int(month[1 + series])
            x = left + slot * (index + 0.5)
            y = bottom + value / top * plot_h
            points += [x, y]
            drawing.add(Rect(x - 1.8, y - 1.8, 3.6, 3.6, fillColor=colour, strokeColor=None))
            drawing.add(
                String(
                    x,
                    y + dy,
                    str(value),
                    fontName=font,
                    fontSize=TEXT - 1,
                    textAnchor="middle",
                    fillColor=colour,
                )
            )
        if len(points) >= 4:
            drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.2))
    for index, month in enumerate(months):
        x = left + slot * (index + 0.5)
        drawing.add(
            String(x, bottom - 11, month[0], fontName=font, fontSize=TEXT - 1, textAnchor="middle")
        )
    _legend(drawing, left, 2, ((labels[0], FOUND), (labels[1], RECTIFIED)), font)
    return drawing


def on_time_bars(rows: Sequence[tuple[str, int, int]], font: str, width: float) -> Drawing:
    """Per stage a bar of its deadlines that fell due, split into met on time and not:
    (stage, on time, due), labelled "按期 m / 到期 n（rate %）"."""
    bar, gap, left, right = 8.5, 4.0, 150.0, 120.0
    height = 22 + len(rows) * (bar + gap) + 4
    drawing = _drawing(width, height, font)
    top = max((due for _, _, due in rows), default=0) or 1
    scale = (width - left - right) / top
    y = height - 4
    for name, met, due in rows:
        y -= bar + gap
        drawing.add(
            String(
                left - 6,
                y + 2,
                _clip(name, font, left - 8),
                fontName=font,
                fontSize=TEXT,
                textAnchor="end",
            )
        )
        drawing.add(Rect(left, y, met * scale, bar, fillColor=RECTIFIED, strokeColor=None))
        drawing.add(
            Rect(left + met * scale, y, (due - met) * scale, bar, fillColor=LATE, strokeColor=None)
        )
        rate = f"{met / due * 100:.1f}%" if due else "—"
        drawing.add(
            String(
                left + due * scale + 4,
                y + 2,
                f"按期{met} / 到期{due}（{rate}）",
                fontName=font,
                fontSize=TEXT - 1,
                fillColor=black,
            )
        )
    _legend(drawing, left, 2, (("按期办结", RECTIFIED), ("未按期", LATE)), font)
    return drawing
