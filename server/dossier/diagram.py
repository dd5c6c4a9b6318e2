"""The process diagram on paper: the BPMN DI geometry drawn with ReportLab.

:func:`workflows.diagram_svg.diagram_geometry` reads the shapes, edges and labels of the case's
own process version; :class:`DiagramPainter` draws them on a ReportLab canvas with the colours,
marks and legend of the web SVG (:func:`workflows.diagram_svg.render_svg`): completed steps
green-grey with a ✓, the current step blue with a thick border and a ●, a step whose deadline was
missed with a red border and a red "逾期" badge. The marks are drawn as paths, not glyphs, so
they print in any font.

The painter draws in diagram units with y growing downwards; the caller sets up the canvas so
that the diagram point (x, y) lands at (x, -y) of the current user space (see
:meth:`DiagramPainter.draw_at`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib.colors import HexColor, white
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from server.dossier.fonts import DossierFont
from workflows.diagram_svg import (
    COLOURS,
    HEADER,
    LABEL_FONT,
    LANE_FONT,
    LEGEND,
    LINE_HEIGHT,
    SUB_PROCESS_KINDS,
    TASK_FONT,
    VERTICAL_FORMS,
    Bounds,
    Edge,
    Geometry,
    Shape,
    fit_lines,
    flow_label_box,
    mark_spot,
    wrap_text,
)

C = {role: HexColor(value) for role, value in COLOURS.items()}
MARGIN = 24.0
"""Space around the DI extents (badges stick out above their node)."""
STATE_ORDER = ("done", "current", "overdue")


@dataclass(frozen=True)
class Paint:
    """Fill, stroke and line width of a node for its states."""

    fill: Any
    stroke: Any
    width: float


def paint_for(states: Sequence[str], fill: Any = None, width: float = 1.5) -> Paint:
    """As the web SVG's ``_paint``: done green-grey, current blue and thick, overdue red."""
    fill = C["neutral_fill"] if fill is None else fill
    stroke = C["line"]
    if "done" in states:
        fill, stroke = C["done_fill"], C["done_stroke"]
    if "current" in states:
        fill, stroke, width = C["current_fill"], C["current_stroke"], max(width, 3.0)
    if "overdue" in states:
        stroke, width = C["overdue"], max(width, 3.0)
    return Paint(fill, stroke, width)


class DiagramPainter:
    """Draws one geometry, coloured by state, on ReportLab canvases (any number of times)."""

    def __init__(
        self,
        geometry: Geometry,
        font: DossierFont,
        *,
        done: Iterable[str] = (),
        current: Iterable[str] = (),
        overdue: Iterable[str] = (),
    ) -> None:
        """:param done, current, overdue: BPMN element ids in each state."""
        self.geometry = geometry
        self.font = font
        self.sets = {"done": set(done), "current": set(current), "overdue": set(overdue)}
        b = geometry.bounds
        self.extent = Bounds(
            b.x - MARGIN, b.y - MARGIN, b.width + 2 * MARGIN, b.height + 2 * MARGIN
        )
        self._wraps: dict[tuple[Any, ...], Any] = {}
        self._formed: Canvas | None = None
        self.c: Canvas | None = None

    # --- set-up ---------------------------------------------------------------------------

    def draw_at(self, canvas: Canvas, view: Bounds, x: float, top: float, scale: float) -> None:
        """Draw the part ``view`` (diagram units) with its top-left corner at (``x``, ``top``) of
        the canvas, ``scale`` points per diagram unit, clipped to that part."""
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
        (the overview and the detail sheets show the same drawing through different windows)."""
        name = f"diagram{id(self)}"
        if self._formed is not canvas:
            e = self.extent
            canvas.beginForm(name, e.x, -e.bottom, e.right, -e.y)
            canvas.setLineJoin(1)
            self.c = canvas
            try:
                self._draw()
            finally:
                self.c = None
            canvas.endForm()
            self._formed = canvas
        return name

    def states(self, element_id: str) -> list[str]:
        """The states of an element in a fixed order."""
        return [s for s in STATE_ORDER if element_id in self.sets[s]]

    # --- primitives (diagram units, y down) -----------------------------------------------

    @property
    def canvas(self) -> Canvas:
        """The canvas being drawn on."""
        assert self.c is not None
        return self.c

    def _stroke(self, colour: Any, width: float, dash: Sequence[float] | None = None) -> None:
        c = self.canvas
        c.setStrokeColor(colour)
        c.setLineWidth(width)
        if dash:
            c.setDash(list(dash), 0)
        else:
            c.setDash([], 0)

    def _path(self, points: Sequence[tuple[float, float]], *, close: bool = False) -> Any:
        p = self.canvas.beginPath()
        (x0, y0), rest = points[0], points[1:]
        p.moveTo(x0, -y0)
        for x, y in rest:
            p.lineTo(x, -y)
        if close:
            p.close()
        return p

    def _polyline(self, points: Sequence[tuple[float, float]], colour: Any, width: float,
                  dash: Sequence[float] | None = None) -> None:  # fmt: skip
        self._stroke(colour, width, dash)
        self.canvas.drawPath(self._path(points), stroke=1, fill=0)

    def _polygon(self, points: Sequence[tuple[float, float]], fill: Any, stroke: Any | None,
                 width: float = 1.0) -> None:  # fmt: skip
        c = self.canvas
        if stroke is not None:
            self._stroke(stroke, width)
        if fill is not None:
            c.setFillColor(fill)
        c.drawPath(self._path(points, close=True), stroke=stroke is not None, fill=fill is not None)

    def _rect(self, b: Bounds, fill: Any | None, stroke: Any | None, width: float = 1.0,
              radius: float = 0.0, dash: Sequence[float] | None = None) -> None:  # fmt: skip
        c = self.canvas
        if stroke is not None:
            self._stroke(stroke, width, dash)
        if fill is not None:
            c.setFillColor(fill)
        args = (b.x, -b.bottom, b.width, b.height)
        if radius:
            c.roundRect(*args, radius, stroke=stroke is not None, fill=fill is not None)
        else:
            c.rect(*args, stroke=stroke is not None, fill=fill is not None)

    def _circle(self, cx: float, cy: float, r: float, fill: Any | None, stroke: Any | None,
                width: float = 1.0, dash: Sequence[float] | None = None) -> None:  # fmt: skip
        c = self.canvas
        if stroke is not None:
            self._stroke(stroke, width, dash)
        if fill is not None:
            c.setFillColor(fill)
        c.circle(cx, -cy, r, stroke=stroke is not None, fill=fill is not None)

    def _text(
        self,
        lines: Sequence[str],
        cx: float,
        cy: float,
        size: float,
        *,
        anchor: str = "middle",
        fill: Any = None,
        halo: bool = False,
        bold: bool = False,
    ) -> None:
        """Lines of text centred vertically on ``cy`` (as the SVG's ``_text_lines``)."""
        if not lines:
            return
        c = self.canvas
        step = size * LINE_HEIGHT
        top = cy - step * len(lines) / 2
        for i, line in enumerate(lines):
            baseline = top + step * i + step / 2 + size * 0.36
            width = c.stringWidth(line, self.font.name, size)
            x = cx - width / 2 if anchor == "middle" else cx
            passes = [("halo", 1)] if halo else []
            passes.append(("ink", 2 if bold else 0))
            for kind, mode in passes:
                t = c.beginText(x, -baseline)
                t.setFont(self.font.name, size)
                t.setTextRenderMode(mode)
                if kind == "halo":
                    c.setStrokeColor(white)
                    c.setLineWidth(3.0)
                    c.setLineJoin(1)
                else:
                    c.setFillColor(fill if fill is not None else C["ink"])
                    c.setStrokeColor(fill if fill is not None else C["ink"])
                    c.setLineWidth(size * 0.04)
                c.setDash([], 0)
                t.textOut(line)
                c.drawText(t)

    def _wrap(self, text: str, width: float, size: float) -> list[str]:
        key = ("wrap", text, round(width, 2), size)
        if key not in self._wraps:
            self._wraps[key] = wrap_text(text, width, size)
        return list(self._wraps[key])

    def _fit(
        self, text: str, w: float, h: float, sizes: tuple[float, ...]
    ) -> tuple[list[str], float]:
        key = ("fit", text, round(w, 2), round(h, 2), sizes)
        if key not in self._wraps:
            self._wraps[key] = fit_lines(text, w, h, sizes)
        lines, size = self._wraps[key]
        return list(lines), size

    # --- marks ------------------------------------------------------------------------------

    def _check(self, x: float, y: float, colour: Any) -> None:
        """A ✓ about 12 units wide centred on (x, y)."""
        self._polyline([(x - 5.5, y + 0.5), (x - 1.5, y + 4.5), (x + 5.5, y - 5)], colour, 2.4)

    def status_marks(self, states: Sequence[str], x: float, y: float) -> None:
        """The ✓ (done) and ● (current) marks, the first centred on ``x``, ``y``."""
        for state in ("done", "current"):
            if state not in states:
                continue
            if state == "done":
                self._check(x, y, C["done_mark"])
            else:
                self._circle(x, y, 4.5, C["current_stroke"], None)
            x -= 16

    def badge(self, right: float, top: float) -> None:
        """The red "逾期" badge, its right edge at ``right`` and its top at ``top``."""
        self._rect(Bounds(right - 30, top, 30.0, 16.0), C["overdue"], None, radius=3.0)
        self._text(["逾期"], right - 15, top + 8, 11.0, fill=white, bold=True)

    def legend_sample(self, canvas: Canvas, states: Sequence[str]) -> None:
        """A 48 × 26 sample box of the legend centred vertically on y = 0, with its marks."""
        self.c = canvas
        try:
            paint = paint_for(states)
            self._rect(Bounds(0, -13, 48, 26), paint.fill, paint.stroke, paint.width, radius=6.0)
            self.status_marks(states, 38, 3)
            if "overdue" in states:
                self.badge(54, -21)
        finally:
            self.c = None

    # --- the drawing ----------------------------------------------------------------------

    def _draw(self) -> None:
        g = self.geometry
        for s in g.shapes:
            if s.is_pool:
                self._container(s)
        for s in g.shapes:
            if s.is_lane:
                self._container(s)
        for s in sorted((s for s in g.shapes if s.is_expanded), key=self._depth):
            self._sub_process(s, self.states(s.id))
        for e in g.edges:
            self._edge(e)
        boundary: dict[str, list[Bounds]] = {}
        for s in g.shapes:
            if s.attached_to:
                boundary.setdefault(s.attached_to, []).append(s.bounds)
        nodes = sorted(
            (s for s in g.shapes if not s.is_container), key=lambda s: s.kind == "boundaryEvent"
        )
        for s in nodes:
            states = self.states(s.id)
            if s.is_event:
                self._event(s, states)
            elif s.is_gateway:
                self._gateway(s, states)
            elif s.is_activity:
                self._activity(s, states, boundary.get(s.id, ()))
            else:
                self._other(s, states)

    def _depth(self, s: Shape) -> int:
        depth, parent, seen = 0, s.parent, set()
        while parent is not None and parent not in seen:
            seen.add(parent)
            depth += 1
            enclosing = self.geometry.shape(parent)
            parent = enclosing.parent if enclosing is not None else None
        return depth

    def _container(self, s: Shape) -> None:
        """A pool or lane: a box with its name upright in the header strip at the left."""
        b = s.bounds
        fill = C["neutral_fill"] if s.is_pool else C["lane_fill"]
        self._rect(b, fill, C["line"], 1.5 if s.is_pool else 1.0)
        if s.is_horizontal:
            header = Bounds(b.x, b.y, min(HEADER, b.width), b.height)
            edge = [(header.right, b.y), (header.right, b.bottom)]
        else:
            header = Bounds(b.x, b.y, b.width, min(HEADER, b.height))
            edge = [(b.x, header.bottom), (b.right, header.bottom)]
        self._rect(header, C["header_fill"], None)
        self._polyline(edge, C["line"], 1.0)
        if s.is_horizontal:
            self._vertical_name(s.name, header, LANE_FONT if s.is_pool else 13.0)
        else:
            lines = self._wrap(s.name, header.width - 8, 13.0)[:1]
            self._text(lines, header.cx, header.cy, 13.0, bold=s.is_pool)

    def _vertical_name(self, name: str, box: Bounds, max_size: float) -> None:
        """A lane's name upright, top to bottom (vertical punctuation where the font has it)."""
        chars = []
        for ch in name.replace(" ", ""):
            vertical = ch.translate(VERTICAL_FORMS)
            chars.append(vertical if self.font.has_glyph(vertical) else ch)
        if not chars:
            return
        avail = box.height - 12
        size = max_size
        columns = 1
        while size >= 10:
            step = size * 1.08
            columns = math.ceil(len(chars) * step / avail) if avail > 0 else 99
            if columns * size * 1.2 <= box.width - 4:
                break
            size -= 1
        else:
            c = self.canvas
            c.saveState()
            c.translate(box.cx, -box.cy)
            c.rotate(90)
            c.translate(-box.cx, box.cy)
            self._text(self._wrap(name, max(avail, 10.0), 11.0)[:2], box.cx, box.cy, 11.0)
            c.restoreState()
            return
        per_column = math.ceil(len(chars) / columns)
        step = size * 1.08
        gap = size * 1.2
        for col in range(columns):
            part = chars[col * per_column : (col + 1) * per_column]
            x = box.cx + (columns - 1) * gap / 2 - col * gap  # right to left
            top = box.cy - len(part) * step / 2
            for i, ch in enumerate(part):
                self._text([ch], x, top + step * i + step / 2, size)

    def _sub_process(self, s: Shape, states: Sequence[str]) -> None:
        """An expanded sub-process: a large rounded box with its name at the top left."""
        b = s.bounds
        paint = paint_for(states, fill=HexColor("#fdfdfd"))
        width = 1.5 if s.kind == "transaction" else paint.width
        self._rect(b, paint.fill, paint.stroke, width, radius=10.0)
        if s.kind == "transaction":
            inner = Bounds(b.x + 3, b.y + 3, b.width - 6, b.height - 6)
            self._rect(inner, None, paint.stroke, 1.5, radius=8.0)
        lines = self._wrap(s.name, max(b.width / 2, 60.0), TASK_FONT)[:2]
        for i, line in enumerate(lines):
            y = b.y + 14 + i * TASK_FONT * LINE_HEIGHT
            self._text([line], b.x + 10, y, TASK_FONT, anchor="start", bold=True)
        self.status_marks(states, b.right - 14, b.y + 16)
        if "overdue" in states:
            self.badge(b.right + 6, b.y - 10)

    def _activity(self, s: Shape, states: Sequence[str], avoid: Sequence[Bounds]) -> None:
        """A task or collapsed sub-process: rounded box, marker, wrapped name, status marks."""
        b = s.bounds
        paint = paint_for(states, width=4.0 if s.kind == "callActivity" else 1.5)
        self._rect(b, paint.fill, paint.stroke, paint.width, radius=10.0)
        has_marker = self._task_marker(s, b.x + 6, b.y + 4, paint.stroke)
        if s.kind in SUB_PROCESS_KINDS or s.kind == "callActivity":
            x, y = b.cx - 7, b.bottom - 16
            self._rect(Bounds(x, y, 14.0, 14.0), None, paint.stroke, 1.2)
            self._polyline([(x + 3, y + 7), (x + 11, y + 7)], paint.stroke, 1.2)
            self._polyline([(x + 7, y + 3), (x + 7, y + 11)], paint.stroke, 1.2)
            has_marker = True
        lines, size = self._fit(s.name, b.width - 12, b.height - 34, (TASK_FONT, 11.0, 10.0))
        if len(lines) * size * LINE_HEIGHT > b.height - 34:
            lines, size = self._fit(s.name, b.width - 8, b.height - 8, (10.0,))
        half = len(lines) * size * LINE_HEIGHT / 2
        cy = b.cy
        if has_marker and cy - half < b.y + 19:
            cy = max(cy, min(b.y + 19 + half, b.bottom - 4 - half))
        self._text(lines, b.cx, cy, size)
        self.status_marks(states, *mark_spot(b, states, avoid))
        if "overdue" in states:
            self.badge(b.right + 6, b.y - 10)

    def _task_marker(self, s: Shape, x: float, y: float, stroke: Any) -> bool:
        """The small symbol at the top left of a task; True if one was drawn."""
        c = self.canvas
        if s.kind in ("userTask", "manualTask"):
            self._circle(x + 7, y + 4, 3.2, None, stroke, 1.2)
            p = c.beginPath()
            p.moveTo(x + 1, -(y + 14))
            p.curveTo(x + 1, -(y + 8), x + 13, -(y + 8), x + 13, -(y + 14))
            p.close()
            self._stroke(stroke, 1.2)
            c.drawPath(p, stroke=1, fill=0)
        elif s.kind == "scriptTask":
            p = c.beginPath()
            p.moveTo(x + 3, -y)
            p.lineTo(x + 13, -y)
            p.curveTo(x + 10, -(y + 3), x + 10, -(y + 5), x + 13, -(y + 7))
            p.curveTo(x + 16, -(y + 9), x + 16, -(y + 12), x + 13, -(y + 14))
            p.lineTo(x + 3, -(y + 14))
            p.curveTo(x + 6, -(y + 12), x + 6, -(y + 9), x + 3, -(y + 7))
            p.curveTo(x, -(y + 5), x, -(y + 3), x + 3, -y)
            self._stroke(stroke, 1.2)
            c.drawPath(p, stroke=1, fill=0)
            for dy in (3.5, 7.0, 10.5):
                self._polyline([(x + 5, y + dy), (x + 10, y + dy)], stroke, 1.2)
        elif s.kind == "businessRuleTask":
            self._rect(Bounds(x, y + 1, 15.0, 12.0), None, stroke, 1.2)
            self._rect(Bounds(x, y + 1, 15.0, 3.5), stroke, None)
            self._polyline([(x, y + 8.5), (x + 15, y + 8.5)], stroke, 1.2)
            self._polyline([(x + 5, y + 4.5), (x + 5, y + 13)], stroke, 1.2)
        elif s.kind == "serviceTask":
            cx, cy = x + 7, y + 7
            for k in range(8):
                a = k * math.pi / 4
                p1 = (cx + 4 * math.cos(a), cy + 4 * math.sin(a))
                p2 = (cx + 7 * math.cos(a), cy + 7 * math.sin(a))
                self._polyline([p1, p2], stroke, 2.0)
            self._circle(cx, cy, 4.5, white, stroke, 1.2)
        elif s.kind in ("sendTask", "receiveTask"):
            self._envelope(x + 7, y + 7, 14, stroke, stroke if s.kind == "sendTask" else None)
        else:
            return False
        return True

    def _envelope(self, cx: float, cy: float, w: float, stroke: Any, fill: Any | None) -> None:
        h = w * 0.68
        x, y = cx - w / 2, cy - h / 2
        self._rect(Bounds(x, y, w, h), fill, stroke, 1.2)
        flap = white if fill is not None else stroke
        self._polyline([(x, y), (cx, cy + h * 0.1), (x + w, y)], flap, 1.2)

    def _clock(self, cx: float, cy: float, r: float, stroke: Any) -> None:
        self._circle(cx, cy, r, white, stroke, 1.0)
        for k in range(12):
            a = k * math.pi / 6
            p1 = (cx + r * 0.78 * math.cos(a), cy + r * 0.78 * math.sin(a))
            p2 = (cx + r * math.cos(a), cy + r * math.sin(a))
            self._polyline([p1, p2], stroke, 1.0)
        self._polyline([(cx, cy - r * 0.6), (cx, cy), (cx + r * 0.45, cy)], stroke, 1.5)

    def _event_marker(self, s: Shape, r: float, stroke: Any) -> None:
        cx, cy = s.bounds.cx, s.bounds.cy
        throwing = s.kind in ("endEvent", "intermediateThrowEvent")
        fill = stroke if throwing else None
        if s.event == "timer":
            self._clock(cx, cy, r * 0.62, stroke)
        elif s.event == "escalation":
            pts = [(cx, cy - r * 0.55), (cx + r * 0.38, cy + r * 0.45), (cx, cy + r * 0.12),
                   (cx - r * 0.38, cy + r * 0.45)]  # fmt: skip
            self._polygon(pts, fill, stroke, 1.2)
        elif s.event == "message":
            self._envelope(cx, cy, r * 1.0, stroke, fill)
        elif s.event == "signal":
            pts = [
                (cx, cy - r * 0.55),
                (cx + r * 0.5, cy + r * 0.35),
                (cx - r * 0.5, cy + r * 0.35),
            ]
            self._polygon(pts, fill, stroke, 1.2)
        elif s.event == "error":
            pts = [(cx - r * 0.45, cy + r * 0.45), (cx - r * 0.2, cy - r * 0.45),
                   (cx + r * 0.1, cy + r * 0.1), (cx + r * 0.45, cy - r * 0.45),
                   (cx + r * 0.2, cy + r * 0.45), (cx - r * 0.1, cy - r * 0.1)]  # fmt: skip
            self._polygon(pts, fill, stroke, 1.2)
        elif s.event == "terminate":
            self._circle(cx, cy, r * 0.6, stroke, None)
        elif s.event == "conditional":
            w, h = r * 0.8, r * 1.0
            self._rect(Bounds(cx - w / 2, cy - h / 2, w, h), None, stroke, 1.2)
            for k in range(1, 5):
                y = cy - h / 2 + h * k / 5
                self._polyline([(cx - w / 2 + 2, y), (cx + w / 2 - 2, y)], stroke, 1.0)

    def _node_label(self, s: Shape) -> None:
        """The name of an event, gateway or data element at its label bounds (else below)."""
        if not s.name:
            return
        box = s.label
        if box is None:
            box = Bounds(s.bounds.cx - 45, s.bounds.bottom + 5, 90.0, LABEL_FONT * 1.4)
        lines = self._wrap(s.name, max(box.width, LABEL_FONT * 3) + 12, LABEL_FONT)
        cy = box.cy
        if box is not s.label:
            cy += (len(lines) - 1) * LABEL_FONT * LINE_HEIGHT / 2
        self._text(lines, box.cx, cy, LABEL_FONT, halo=True)

    def _event(self, s: Shape, states: Sequence[str]) -> None:
        b = s.bounds
        r = min(b.width, b.height) / 2
        paint = paint_for(states, width={"startEvent": 2.0, "endEvent": 4.0}.get(s.kind, 1.5))
        width = max(paint.width, 4.0) if s.kind == "endEvent" else paint.width
        dash = (5.0, 3.0) if s.kind == "boundaryEvent" and not s.interrupting else None
        radius = r - (1.0 if s.kind == "endEvent" else 0.0)
        self._circle(b.cx, b.cy, radius, paint.fill, paint.stroke, width, dash)
        if s.kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
            self._circle(b.cx, b.cy, r - 3.5, None, paint.stroke, 1.5, dash)
        self._event_marker(s, r, paint.stroke if "overdue" not in states else C["line"])
        self._node_label(s)
        self.status_marks(states, b.right + 6, b.y + 2)
        if "overdue" in states:
            self.badge(b.cx + 15, b.y - 18)

    def _gateway(self, s: Shape, states: Sequence[str]) -> None:
        b = s.bounds
        paint = paint_for(states)
        diamond = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
        self._polygon(diamond, paint.fill, paint.stroke, paint.width)
        stroke = paint.stroke if "overdue" not in states else C["line"]
        k = b.width * 0.2
        cx, cy = b.cx, b.cy
        c = self.canvas
        c.setLineCap(1)
        if s.kind in ("exclusiveGateway", "complexGateway"):
            w = 3.5 if s.kind == "exclusiveGateway" else 2.5
            self._polyline([(cx - k, cy - k), (cx + k, cy + k)], stroke, w)
            self._polyline([(cx + k, cy - k), (cx - k, cy + k)], stroke, w)
        if s.kind in ("parallelGateway", "complexGateway"):
            w = 3.5 if s.kind == "parallelGateway" else 2.5
            self._polyline([(cx, cy - k * 1.3), (cx, cy + k * 1.3)], stroke, w)
            self._polyline([(cx - k * 1.3, cy), (cx + k * 1.3, cy)], stroke, w)
        if s.kind == "inclusiveGateway":
            self._circle(cx, cy, k * 1.25, None, stroke, 2.5)
        if s.kind == "eventBasedGateway":
            self._circle(cx, cy, k * 1.3, None, stroke, 1.2)
            self._circle(cx, cy, k * 1.05, None, stroke, 1.2)
        c.setLineCap(0)
        self._node_label(s)
        self.status_marks(states, b.right - 5, b.y + 5)
        if "overdue" in states:
            self.badge(b.cx + 15, b.y - 18)

    def _other(self, s: Shape, states: Sequence[str]) -> None:
        """Text annotations as a bracket, the rest (data, groups) as a plain box."""
        b = s.bounds
        if s.kind == "textAnnotation":
            self._polyline(
                [(b.x + 10, b.y), (b.x, b.y), (b.x, b.bottom), (b.x + 10, b.bottom)], C["line"], 1.0
            )
            lines, size = self._fit(s.name, b.width - 8, b.height - 4, (LABEL_FONT, 10.0))
            step = size * LINE_HEIGHT
            self._text(lines, b.x + 5, b.y + 4 + len(lines) * step / 2, size, anchor="start")
            return
        paint = paint_for(states)
        if s.kind == "group":
            self._rect(b, None, paint.stroke, paint.width, dash=(8, 4, 2, 4))
        else:
            self._rect(b, paint.fill, paint.stroke, paint.width)
        self._node_label(s)
        self.status_marks(states, b.right + 6, b.y + 2)
        if "overdue" in states:
            self.badge(b.right + 6, b.y - 18)

    def _edge(self, e: Edge) -> None:
        """A flow: a polyline with an arrow head, default-flow slash and its label."""
        points = list(e.waypoints)
        flow = C["flow"]
        if e.kind == "messageFlow":
            self._polyline(points, flow, 1.5, (8, 5))
            self._circle(*points[0], 4.0, white, flow, 1.0)
            self._arrow(points, fill=white)
        elif e.kind == "association":
            self._polyline(points, flow, 1.2, (2, 4))
        else:
            (x1, y1), (x2, y2) = points[-2], points[-1]
            length = math.dist((x1, y1), (x2, y2)) or 1.0
            # stop the line inside the arrow head so the tip stays sharp
            shortened = [*points[:-1], (x2 - (x2 - x1) / length * 5, y2 - (y2 - y1) / length * 5)]
            self._polyline(shortened, flow, 1.5)
            self._arrow(points, fill=flow)
        if e.is_default:
            (x1, y1), (x2, y2) = points[0], points[1]
            length = math.dist((x1, y1), (x2, y2)) or 1.0
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            px, py = x1 + ux * 10, y1 + uy * 10
            nx, ny = -uy, ux
            self._polyline(
                [(px - ux * 3 + nx * 6, py - uy * 3 + ny * 6),
                 (px + ux * 3 - nx * 6, py + uy * 3 - ny * 6)],
                flow, 1.5,
            )  # fmt: skip
        if e.name:
            box = e.label or flow_label_box(e)
            lines = self._wrap(e.name, max(box.width, LABEL_FONT * 3) + 4, LABEL_FONT)
            self._text(lines, box.cx, box.cy, LABEL_FONT, halo=True, fill=C["line"])

    def _arrow(self, points: Sequence[tuple[float, float]], fill: Any) -> None:
        """A 10-unit arrow head with its tip on the last waypoint."""
        (x1, y1), (x2, y2) = points[-2], points[-1]
        length = math.dist((x1, y1), (x2, y2)) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by = x2 - ux * 10, y2 - uy * 10
        head = [(x2, y2), (bx - uy * 5, by + ux * 5), (bx + uy * 5, by - ux * 5)]
        self._polygon(head, fill, C["flow"], 1.0)


# --- the legend, in page units -----------------------------------------------------------------


def _sample_x(size: float) -> float:
    """Room for a legend item's sample box before its words (the SVG's legend at 16 units)."""
    return size * 58 / 16


def legend_width(font: DossierFont, size: float) -> float:
    """The width the legend needs at ``size`` points."""
    width = stringWidth("图例：", font.name, size) + 6
    for _, words in LEGEND:
        width += _sample_x(size) + size / 2 + stringWidth(words, font.name, size) + size * 1.5
    return width


def draw_legend(canvas: Canvas, painter: DiagramPainter, x: float, y: float, size: float) -> None:
    """The legend on one line, its baseline at ``y`` (page units): one sample box per state,
    drawn by the painter as it draws nodes, with the state explained in words."""
    font = painter.font
    canvas.saveState()
    canvas.setFillColor(C["ink"])
    canvas.setFont(font.name, size)
    canvas.drawString(x, y, "图例：")
    x += canvas.stringWidth("图例：", font.name, size) + 6
    unit = size / 16.0
    for state, words in LEGEND:
        canvas.saveState()
        canvas.translate(x, y + size * 0.35)
        canvas.scale(unit, unit)
        painter.legend_sample(canvas, [] if state == "neutral" else [state])
        canvas.restoreState()
        canvas.setFillColor(C["ink"])
        canvas.setFont(font.name, size)
        text_x = x + _sample_x(size) + (size / 2 if state == "overdue" else 0)
        canvas.drawString(text_x, y, words)
        x = text_x + canvas.stringWidth(words, font.name, size) + size * 1.5
    canvas.restoreState()
