"""The process diagram on paper: the case page's own SVG, drawn on a ReportLab canvas.

The diagram is drawn once, by :func:`workflows.diagram_svg.render_svg`; the dossier prints that
same SVG, so the paper shows what the case page shows (colours, ✓ and ● marks, 逾期 badges,
wrapped names) and a change to the drawing reaches both. This module only translates the small,
fixed vocabulary of SVG that ``render_svg`` writes into PDF operators:

- elements ``svg``, ``g``, ``rect`` (with ``rx``), ``circle``, ``polygon``, ``path`` (``M L H V
  C Z``, absolute and relative), ``text`` with ``tspan``, ``marker`` (``orient="auto"``,
  ``markerUnits="userSpaceOnUse"``); ``title``, ``desc`` and ``defs`` draw nothing;
- the presentation attributes ``fill``, ``stroke``, ``stroke-width``, ``stroke-dasharray``,
  ``stroke-linejoin``, ``stroke-linecap``, ``font-size``, ``font-weight``, ``text-anchor``,
  ``paint-order`` (inherited as in SVG), ``transform`` (``translate``, ``rotate``, ``scale``,
  ``matrix``), ``marker-start``/``marker-end``.

Anything else raises :class:`UnsupportedSvg` (a test draws every process of the repository, so a
new kind of element in ``render_svg`` is noticed there, not on a printed dossier). We do not use
svglib: it ignores markers (the arrow heads) and ``paint-order`` (the white halo behind labels).

All text is set in the dossier's one CJK font (``font-family`` is the browser's font stack and is
not consulted); text is measured with that font, so centred labels are centred on paper. Bold is
drawn as fill plus a thin outline in the text's colour (CJK fonts rarely ship a bold face).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from reportlab.lib.colors import Color, HexColor
from reportlab.pdfgen.canvas import Canvas

from server.dossier.fonts import DossierFont
from workflows.diagram_svg import LEGEND_FONT, Bounds, render_legend_svg, render_svg

SVG = "{http://www.w3.org/2000/svg}"
SILENT = frozenset({"title", "desc", "defs", "marker"})
"""Elements that draw nothing where they stand (markers are drawn where they are used)."""
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


class UnsupportedSvg(ValueError):
    """The SVG uses something this translator does not draw."""


@dataclass(frozen=True)
class Style:
    """The inherited presentation attributes in effect (SVG's initial values by default)."""

    fill: str = "#000000"
    stroke: str = "none"
    stroke_width: float = 1.0
    dash: tuple[float, ...] = ()
    linejoin: int = 0
    linecap: int = 0
    font_size: float = 16.0
    bold: bool = False
    anchor: str = "start"
    stroke_first: bool = False
    """``paint-order: stroke``: the stroke is painted under the fill (the labels' halo)."""


_JOINS = {"miter": 0, "round": 1, "bevel": 2}
_CAPS = {"butt": 0, "round": 1, "square": 2}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATH_TOKEN = re.compile(rf"[MmLlHhVvCcZz]|{_NUMBER}")
_TRANSFORM = re.compile(r"(translate|rotate|scale|matrix)\s*\(([^)]*)\)")


def _floats(text: str) -> list[float]:
    return [float(n) for n in re.findall(_NUMBER, text)]


def _style(el: Any, style: Style) -> Style:
    """``style`` updated by the presentation attributes of ``el``."""
    a = el.attrib
    changes: dict[str, Any] = {}
    for key, field in (("fill", "fill"), ("stroke", "stroke")):
        if key in a:
            changes[field] = a[key]
    if "stroke-width" in a:
        changes["stroke_width"] = float(a["stroke-width"])
    if "stroke-dasharray" in a:
        value = a["stroke-dasharray"]
        changes["dash"] = () if value == "none" else tuple(_floats(value))
    if "stroke-linejoin" in a:
        changes["linejoin"] = _JOINS[a["stroke-linejoin"]]
    if "stroke-linecap" in a:
        changes["linecap"] = _CAPS[a["stroke-linecap"]]
    if "font-size" in a:
        changes["font_size"] = float(a["font-size"])
    if "font-weight" in a:
        changes["bold"] = a["font-weight"] in ("bold", "bolder", "600", "700", "800", "900")
    if "text-anchor" in a:
        changes["anchor"] = a["text-anchor"]
    if "paint-order" in a:
        changes["stroke_first"] = a["paint-order"].split()[0] == "stroke"
    return replace(style, **changes) if changes else style


def _colour(value: str) -> Color | None:
    """An SVG colour; None for ``none``."""
    if value == "none":
        return None
    if re.fullmatch(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}", value):
        if len(value) == 4:
            value = "#" + "".join(ch * 2 for ch in value[1:])
        return HexColor(value)
    raise UnsupportedSvg(f"colour {value!r}")


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """The matrix applying ``n`` first, then ``m`` (PDF/SVG order: m · n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def _transform(value: str) -> Matrix:
    """An SVG ``transform`` attribute as one matrix."""
    matrix = IDENTITY
    end = 0
    for match in _TRANSFORM.finditer(value):
        if value[end : match.start()].strip(" ,"):
            break
        end = match.end()
        name, args = match.group(1), _floats(match.group(2))
        if name == "translate":
            step: Matrix = (1, 0, 0, 1, args[0], args[1] if len(args) > 1 else 0.0)
        elif name == "scale":
            step = (args[0], 0, 0, args[1] if len(args) > 1 else args[0], 0, 0)
        elif name == "matrix":
            step = (args[0], args[1], args[2], args[3], args[4], args[5])
        else:
            t = math.radians(args[0])
            cx, cy = (args[1], args[2]) if len(args) == 3 else (0.0, 0.0)
            cos, sin = math.cos(t), math.sin(t)
            step = (cos, sin, -sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy)
        matrix = _multiply(matrix, step)
    if value[end:].strip():
        raise UnsupportedSvg(f"transform {value!r}")
    return matrix


@dataclass
class _PathData:
    """A parsed ``d``: the ReportLab path and the vertices and directions markers need."""

    path: Any
    start: tuple[float, float]
    start_angle: float
    end: tuple[float, float]
    end_angle: float


class SvgPainter:
    """Draws one SVG document of ``render_svg`` on ReportLab canvases, in SVG user units."""

    def __init__(self, svg: str, font: DossierFont) -> None:
        """:param svg: the SVG text; :param font: the dossier font every text is set in.

        :raises UnsupportedSvg: when the root has no usable ``viewBox``.
        """
        self.root = etree.fromstring(svg.encode("utf-8"))
        self.font = font
        box = _floats(self.root.get("viewBox", ""))
        if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
            raise UnsupportedSvg("the SVG has no viewBox")
        self.extent = Bounds(*box)
        """The drawing's area (SVG units, y down)."""
        self.markers = {m.get("id"): m for m in self.root.iter(f"{SVG}marker")}
        self._formed: Canvas | None = None
        self._c: Canvas | None = None

    # --- placing the drawing ------------------------------------------------------------------

    def draw_at(self, canvas: Canvas, view: Bounds, x: float, top: float, scale: float) -> None:
        """Draw the part ``view`` (SVG units) with its top-left corner at (``x``, ``top``) of
        the canvas, ``scale`` points per SVG unit, clipped to that part."""
        canvas.saveState()
        clip = canvas.beginPath()
        clip.rect(x, top - view.height * scale, view.width * scale, view.height * scale)
        canvas.clipPath(clip, stroke=0, fill=0)
        canvas.translate(x - view.x * scale, top + view.y * scale)
        canvas.scale(scale, scale)
        canvas.doForm(self._form(canvas))
        canvas.restoreState()

    def _form(self, canvas: Canvas) -> str:
        """The drawing as a PDF form XObject, made once per document and reused by every sheet
        (the overview and the detail sheets show the same drawing through different windows).
        In the form, the SVG point (x, y) is at (x, -y)."""
        name = f"svg{id(self)}"
        if self._formed is not canvas:
            e = self.extent
            canvas.beginForm(name, e.x, -e.bottom, e.right, -e.y)
            canvas.saveState()
            canvas.transform(1, 0, 0, -1, 0, 0)
            self._c = canvas
            try:
                self._children(self.root, Style())
            finally:
                self._c = None
                canvas.restoreState()
            canvas.endForm()
            self._formed = canvas
        return name

    # --- the tree -----------------------------------------------------------------------------

    @property
    def canvas(self) -> Canvas:
        """The canvas being drawn on."""
        assert self._c is not None
        return self._c

    def _children(self, el: Any, style: Style) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue  # comments
            self._element(child, style)

    def _element(self, el: Any, inherited: Style) -> None:
        tag = etree.QName(el).localname
        if tag in SILENT:
            return
        style = _style(el, inherited)
        c = self.canvas
        transform = el.get("transform")
        if transform:
            c.saveState()
            c.transform(*_transform(transform))
        try:
            if tag == "g":
                self._children(el, style)
            elif tag == "text":
                self._text(el, style)
            elif tag in ("rect", "circle", "polygon", "path"):
                self._shape(tag, el, style)
            else:
                raise UnsupportedSvg(f"element <{tag}>")
        finally:
            if transform:
                c.restoreState()

    # --- shapes -------------------------------------------------------------------------------

    def _paint(self, style: Style) -> tuple[bool, bool]:
        """Set the canvas's colours and line for ``style``; (stroke?, fill?)."""
        c = self.canvas
        fill, stroke = _colour(style.fill), _colour(style.stroke)
        if fill is not None:
            c.setFillColor(fill)
        if stroke is not None:
            c.setStrokeColor(stroke)
            c.setLineWidth(style.stroke_width)
            c.setDash(list(style.dash), 0)
            c.setLineJoin(style.linejoin)
            c.setLineCap(style.linecap)
        return stroke is not None, fill is not None

    def _shape(self, tag: str, el: Any, style: Style) -> None:
        c = self.canvas
        stroke, fill = self._paint(style)
        data: _PathData | None = None
        if tag == "rect":
            x, y = float(el.get("x", 0)), float(el.get("y", 0))
            w, h = float(el.get("width")), float(el.get("height"))
            rx = float(el.get("rx", el.get("ry", 0)))
            if rx:
                c.roundRect(x, y, w, h, min(rx, w / 2, h / 2), stroke=stroke, fill=fill)
            else:
                c.rect(x, y, w, h, stroke=stroke, fill=fill)
        elif tag == "circle":
            cx, cy, r = (float(el.get(k, 0)) for k in ("cx", "cy", "r"))
            c.circle(cx, cy, r, stroke=stroke, fill=fill)
        else:
            if tag == "polygon":
                numbers = _floats(el.get("points", ""))
                points = list(zip(numbers[::2], numbers[1::2], strict=False))
                d = "M" + " L".join(f"{x},{y}" for x, y in points) + " Z"
            else:
                d = el.get("d", "")
            data = self._path(d)
            if data is None:
                return
            c.drawPath(data.path, stroke=stroke, fill=fill, fillMode=0)
        if data is not None and tag == "path":
            self._markers(el, data, style)

    def _path(self, d: str) -> _PathData | None:
        """The path of a ``d`` attribute (commands M L H V C Z, absolute or relative)."""
        tokens = _PATH_TOKEN.findall(d)
        if not tokens:
            return None
        p = self.canvas.beginPath()
        x = y = 0.0
        sx = sy = 0.0
        first: tuple[float, float] | None = None
        first_angle: float | None = None
        last_angle = 0.0
        command = ""
        i = 0

        def take(n: int) -> list[float]:
            nonlocal i
            values = [float(t) for t in tokens[i : i + n]]
            if len(values) < n or any(t.isalpha() for t in tokens[i : i + n]):
                raise UnsupportedSvg(f"path data {d!r}")
            i += n
            return values

        def segment(x0: float, y0: float, x1: float, y1: float) -> None:
            nonlocal first_angle, last_angle
            if (x0, y0) != (x1, y1):
                last_angle = math.atan2(y1 - y0, x1 - x0)
                if first_angle is None:
                    first_angle = last_angle

        while i < len(tokens):
            if tokens[i].isalpha():
                command = tokens[i]
                i += 1
                if command in "Zz":
                    segment(x, y, sx, sy)
                    p.close()
                    x, y = sx, sy
                    continue
            elif not command or command in "Zz":
                raise UnsupportedSvg(f"path data {d!r}")
            relative = command.islower()
            op = command.upper()
            if op == "M":
                nx, ny = take(2)
                x, y = (x + nx, y + ny) if relative else (nx, ny)
                sx, sy = x, y
                p.moveTo(x, y)
                if first is None:
                    first = (x, y)
                command = "l" if relative else "L"  # later pairs are line-tos
            elif op in "LHV":
                if op == "L":
                    nx, ny = take(2)
                    tx, ty = (x + nx, y + ny) if relative else (nx, ny)
                elif op == "H":
                    (n,) = take(1)
                    tx, ty = (x + n if relative else n), y
                else:
                    (n,) = take(1)
                    tx, ty = x, (y + n if relative else n)
                segment(x, y, tx, ty)
                p.lineTo(tx, ty)
                x, y = tx, ty
            elif op == "C":
                v = take(6)
                if relative:
                    v = [v[k] + (x if k % 2 == 0 else y) for k in range(6)]
                if first_angle is None:
                    segment(x, y, v[0], v[1])
                p.curveTo(*v)
                segment(v[2], v[3], v[4], v[5])
                x, y = v[4], v[5]
            else:
                raise UnsupportedSvg(f"path command {command!r}")
        if first is None:
            return None
        return _PathData(p, first, first_angle or 0.0, (x, y), last_angle)

    def _markers(self, el: Any, data: _PathData, style: Style) -> None:
        for key, point, angle in (
            ("marker-start", data.start, data.start_angle),
            ("marker-end", data.end, data.end_angle),
        ):
            ref = el.get(key)
            if not ref:
                continue
            match = re.fullmatch(r"url\(#([^)]+)\)", ref.strip())
            marker = self.markers.get(match.group(1)) if match else None
            if marker is None:
                raise UnsupportedSvg(f"{key} {ref!r}")
            self._marker(marker, point, angle)

    def _marker(self, marker: Any, point: tuple[float, float], angle: float) -> None:
        """A marker at ``point``, turned to ``angle`` when its ``orient`` is ``auto``."""
        if marker.get("markerUnits", "strokeWidth") != "userSpaceOnUse":
            raise UnsupportedSvg("markers in strokeWidth units")
        _, _, vw, vh = _floats(marker.get("viewBox", "")) or [0, 0, 3, 3]
        width = float(marker.get("markerWidth", 3))
        height = float(marker.get("markerHeight", 3))
        scale = min(width / vw, height / vh)
        ref_x, ref_y = float(marker.get("refX", 0)), float(marker.get("refY", 0))
        orient = marker.get("orient", "0")
        turn = angle if orient == "auto" else math.radians(float(orient))
        c = self.canvas
        c.saveState()
        c.translate(*point)
        c.rotate(math.degrees(turn))
        c.scale(scale, scale)
        c.translate(-ref_x, -ref_y)
        self._children(marker, Style())
        c.restoreState()

    # --- text ---------------------------------------------------------------------------------

    def _text(self, el: Any, style: Style) -> None:
        runs: list[tuple[float, float, str, Style]] = []
        if el.text and el.text.strip():
            runs.append((float(el.get("x", 0)), float(el.get("y", 0)), el.text, style))
        for span in el:
            if not isinstance(span.tag, str):
                continue
            if etree.QName(span).localname != "tspan" or len(span):
                raise UnsupportedSvg("text content other than flat <tspan>s")
            own = _style(span, style)
            runs.append((float(span.get("x", 0)), float(span.get("y", 0)), span.text or "", own))
        for x, y, words, own in runs:
            self._words(words, x, y, own)

    def _words(self, words: str, x: float, y: float, style: Style) -> None:
        """One run of text, its baseline at ``y``: the stroke (halo) and the fill."""
        if not words:
            return
        c = self.canvas
        name, size = self.font.name, style.font_size
        width = c.stringWidth(words, name, size)
        if style.anchor == "middle":
            x -= width / 2
        elif style.anchor == "end":
            x -= width
        fill, stroke = _colour(style.fill), _colour(style.stroke)
        passes = ["fill"]
        if stroke is not None:
            passes.insert(0 if style.stroke_first else 1, "stroke")
        for kind in passes:
            if kind == "fill" and fill is None:
                continue
            c.saveState()
            c.translate(x, y)
            c.scale(1, -1)
            t = c.beginText(0, 0)
            t.setFont(name, size)
            if kind == "stroke":
                assert stroke is not None
                c.setStrokeColor(stroke)
                c.setLineWidth(style.stroke_width)
                c.setLineJoin(style.linejoin)
                c.setDash([], 0)
                t.setTextRenderMode(1)
            else:
                assert fill is not None
                c.setFillColor(fill)
                if style.bold:  # fill plus a thin outline in the same colour
                    c.setStrokeColor(fill)
                    c.setLineWidth(size * 0.04)
                    c.setLineJoin(1)
                    c.setDash([], 0)
                t.setTextRenderMode(2 if style.bold else 0)
            t.textOut(words)
            c.drawText(t)
            c.restoreState()

    def texts(self) -> Iterator[str]:
        """Every run of text the drawing writes (to check the font has their glyphs)."""
        for el in self.root.iter(f"{SVG}text", f"{SVG}tspan"):
            if el.text and el.text.strip():
                yield el.text


def diagram_painter(
    bpmn: str | bytes,
    font: DossierFont,
    *,
    done: Iterable[str] = (),
    current: Iterable[str] = (),
    overdue: Iterable[str] = (),
) -> SvgPainter:
    """The case page's diagram of ``bpmn`` coloured by state, without its legend (each printed
    page carries its own, see :func:`draw_legend`)."""
    svg = render_svg(bpmn, done=done, current=current, overdue=overdue, legend=False)
    return SvgPainter(svg, font)


def legend_painter(font: DossierFont) -> SvgPainter:
    """The case page's legend."""
    return SvgPainter(render_legend_svg(), font)


def legend_width(legend: SvgPainter, size: float) -> float:
    """The width of the legend with its words ``size`` points high."""
    return legend.extent.width * size / LEGEND_FONT


def draw_legend(canvas: Canvas, legend: SvgPainter, x: float, y: float, size: float) -> None:
    """The legend on one line, its words ``size`` points high and centred on ``y``."""
    scale = size / LEGEND_FONT
    e = legend.extent
    legend.draw_at(canvas, e, x, y + e.height * scale / 2, scale)
