"""Small server-side SVG charts (no scripts): bars by group, a monthly trend.

Each bar and point carries its number as text, so the charts read without colour too.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

FONT = "'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif"


def bar_chart(
    title: str,
    items: Sequence[tuple[str, int, int]],
    labels: tuple[str, str] = ("逾期", "即将到期"),
) -> str:
    """Horizontal stacked bars: (group label, first value, second value) per row."""
    rows = list(items)[:15]
    height = 40 + 26 * max(len(rows), 1) + 30
    # The right margin holds the longest value text ("逾期123 / 即将到期45") after a full bar.
    width, left, right = 640, 190, 130
    top = max((a + b for _, a, b in rows), default=0) or 1
    scale = (width - left - right) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="12">',
        f'<text x="0" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    if not rows:
        parts.append('<text x="0" y="50" fill="#555">暂无数据</text>')
    for index, (label, first, second) in enumerate(rows):
        y = 34 + index * 26
        w1, w2 = first * scale, second * scale
        parts += [
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(label[:14])}</text>',
            f'<rect x="{left}" y="{y}" width="{w1:.1f}" height="18" fill="#c62828"/>',
            f'<rect x="{left + w1:.1f}" y="{y}" width="{w2:.1f}" height="18" fill="#f0a202"/>',
            f'<text x="{left + w1 + w2 + 6:.1f}" y="{y + 14}">'
            f"{labels[0]}{first} / {labels[1]}{second}</text>",
        ]
    legend_y = height - 12
    parts += [
        f'<rect x="{left}" y="{legend_y - 10}" width="12" height="12" fill="#c62828"/>',
        f'<text x="{left + 16}" y="{legend_y}">{labels[0]}</text>',
        f'<rect x="{left + 70}" y="{legend_y - 10}" width="12" height="12" fill="#f0a202"/>',
        f'<text x="{left + 86}" y="{legend_y}">{labels[1]}</text>',
        "</svg>",
    ]
    return "".join(parts)


def trend_chart(title: str, months: Sequence[dict[str, int | str]]) -> str:
    """Grouped monthly columns: met on time, missed, pending."""
    series = (
        ("met", "按期", "#2e7d32"),
        ("missed", "逾期", "#c62828"),
        ("pending", "未到期", "#78909c"),
    )
    width, height, left, bottom = 640, 240, 40, 40
    top = max((int(m[k]) for m in months for k, _, _ in series), default=0) or 1
    plot_h = height - bottom - 40
    slot = (width - left - 10) / max(len(months), 1)
    bar = min(slot / 4, 18)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="11">',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        'stroke="#999"/>',
    ]
    if not months:
        parts.append('<text x="40" y="80" fill="#555">暂无数据</text>')
    for index, month in enumerate(months):
        x0 = left + index * slot + (slot - 3 * bar) / 2
        for offset, (key, _name, colour) in enumerate(series):
            value = int(month[key])
            h = value / top * plot_h
            x = x0 + offset * bar
            y = height - bottom - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                f'fill="{colour}"/>'
            )
            if value:
                parts.append(
                    f'<text x="{x + bar / 2 - 1:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
                    f"{value}</text>"
                )
        parts.append(
            f'<text x="{x0 + 1.5 * bar:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(str(month['month']))}</text>"
        )
    for offset, (_key, name, colour) in enumerate(series):
        x = left + offset * 80
        parts += [
            f'<rect x="{x}" y="{height - 14}" width="12" height="12" fill="{colour}"/>',
            f'<text x="{x + 16}" y="{height - 4}">{name}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
