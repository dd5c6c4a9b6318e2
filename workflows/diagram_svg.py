"""Draw a BPMN diagram as a standalone SVG, coloured by the state of a case.

The drawing comes from the diagram interchange (BPMN DI) of the file: ``BPMNShape`` bounds,
``BPMNEdge`` waypoints and ``BPMNLabel`` bounds. :func:`diagram_geometry` reads it into plain
dataclasses (:class:`Geometry`, :class:`Shape`, :class:`Edge`); :func:`render_svg` turns it into
SVG. This module is the diagram's only drawing code: the PDF dossier draws this same SVG
(``server/dossier/diagram.py``), so the case page and the paper cannot drift apart.

State colouring is by BPMN element id: ``done`` (completed: green-grey fill and a ✓), ``current``
(ready now: blue fill, thick border and a ●) and ``overdue`` (a deadline missed: red border and a
red "逾期" badge). The legend at the bottom explains these in words, so the status never rests on
colour alone.

The SVG is safe to inline in a page with a strict Content Security Policy: no scripts, no event
handler attributes, no ``style`` attributes or elements, no external references (only the
document's own ``url(#…)`` markers). Every text is XML-escaped by lxml. Each node is a
``<g class="node …" data-id="ID">`` with a ``<title>`` so the page can style and hover it.
The output is deterministic: the same input gives the same string.

Pure Python (lxml only): this module never imports Flask.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from lxml import etree

from workflows.bpmn_xml import BPMN, BPMNDI, NS
from workflows.bpmn_xml import finite_number as _number
from workflows.bpmn_xml import local_name as _local
from workflows.bpmn_xml import parse as _parse

__all__ = [
    "LEGEND_FONT",
    "MARGIN",
    "TASK_FONT",
    "Bounds",
    "Edge",
    "Geometry",
    "Shape",
    "diagram_bounds",
    "diagram_geometry",
    "render_legend_svg",
    "render_svg",
    "text_width",
    "wrap_text",
]

SVG = "http://www.w3.org/2000/svg"

FONT_FAMILY = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif"
"""The font stack written on the root element; CJK fonts first so Chinese renders."""

PLANE_GAP = 80.0
"""Vertical gap between stacked planes when a file has several ``BPMNDiagram`` elements."""
MARGIN = 24.0
"""Space around the DI extents in the SVG's viewBox."""
HEADER = 30.0
"""Width of the name strip at the left of a horizontal pool or lane (as drawn by bpmn-js)."""

SUB_PROCESS_KINDS = frozenset({"subProcess", "transaction", "adHocSubProcess"})


# Colours. Status is also carried by marks and words (✓, ●, 逾期, the legend).
_INK = "#202124"
_LINE = "#3c4043"
_FLOW = "#5f6368"
_NEUTRAL_FILL = "#ffffff"
_DONE_FILL = "#dde7df"
_DONE_STROKE = "#557a60"
_DONE_MARK = "#2e6b3f"
_CURRENT_FILL = "#d2e3fc"
_CURRENT_STROKE = "#1a56b0"
_OVERDUE = "#c5221f"
_HEADER_FILL = "#f1f3f4"
_LANE_FILL = "#fcfcfc"

_TASK_FONT = 12.0
_LABEL_FONT = 11.0
_LANE_FONT = 14.0
_LINE_HEIGHT = 1.25

_STATE_WORDS = {"done": "已完成", "current": "当前待办", "overdue": "已逾期"}


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """An axis-aligned box in diagram coordinates (y grows downwards)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """The x of the right border."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """The y of the bottom border."""
        return self.y + self.height

    @property
    def cx(self) -> float:
        """The x of the centre."""
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        """The y of the centre."""
        return self.y + self.height / 2

    def moved(self, dx: float, dy: float) -> Bounds:
        """The same box shifted by ``dx``, ``dy``."""
        return Bounds(self.x + dx, self.y + dy, self.width, self.height)


@dataclass(frozen=True)
class Shape:
    """A ``BPMNShape``: a flow node, lane, pool, artefact or data element, with its box."""

    id: str
    """The BPMN element id (``bpmnElement``), not the DI id."""
    kind: str
    """The BPMN element's local tag name: ``userTask``, ``endEvent``, ``lane``, ``participant``…;
    ``unknown`` when the DI points at no element of the file."""
    name: str
    bounds: Bounds
    label: Bounds | None = None
    """The ``BPMNLabel`` bounds, where the DI gives them."""
    is_lane: bool = False
    is_pool: bool = False
    is_horizontal: bool = True
    is_expanded: bool = False
    """True for a sub-process drawn open with its inner nodes."""
    event: str | None = None
    """The event definition of an event: ``timer``, ``escalation``, ``message``…"""
    attached_to: str | None = None
    """The host activity of a boundary event."""
    interrupting: bool = True
    """False for a non-interrupting boundary event (``cancelActivity="false"``)."""
    parent: str | None = None
    """The id of the enclosing sub-process, None at the top level of a process."""
    plane: int = 0
    """Index of the ``BPMNDiagram`` the shape is drawn on (later planes are stacked below)."""

    @property
    def is_event(self) -> bool:
        """True for start, end, intermediate and boundary events."""
        return self.kind.endswith("Event")

    @property
    def is_gateway(self) -> bool:
        """True for gateways."""
        return self.kind.endswith("Gateway")

    @property
    def is_activity(self) -> bool:
        """True for tasks, call activities and sub-processes."""
        return (
            self.kind == "task"
            or self.kind.endswith("Task")
            or self.kind == "callActivity"
            or self.kind in SUB_PROCESS_KINDS
        )

    @property
    def is_container(self) -> bool:
        """True for pools, lanes and expanded sub-processes (drawn behind the flows)."""
        return self.is_pool or self.is_lane or self.is_expanded


@dataclass(frozen=True)
class Edge:
    """A ``BPMNEdge``: a sequence flow, message flow or association, with its waypoints."""

    id: str
    kind: str
    """The BPMN element's local tag name: ``sequenceFlow``, ``messageFlow``, ``association``."""
    name: str
    waypoints: tuple[tuple[float, float], ...]
    label: Bounds | None = None
    source: str | None = None
    target: str | None = None
    is_default: bool = False
    """True when the flow is the ``default`` of its source gateway or activity."""
    is_conditional: bool = False
    plane: int = 0


@dataclass(frozen=True)
class Geometry:
    """Everything drawable of a BPMN file, in drawing order of the DI."""

    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]
    bounds: Bounds
    """The extents of all shapes, labels and waypoints (no margin); zero-sized when empty."""

    def shape(self, element_id: str) -> Shape | None:
        """The shape drawn for a BPMN element id, or None."""
        for s in self.shapes:
            if s.id == element_id:
                return s
        return None

    @property
    def nodes(self) -> tuple[Shape, ...]:
        """The shapes that are neither pools nor lanes."""
        return tuple(s for s in self.shapes if not (s.is_pool or s.is_lane))


def diagram_geometry(bpmn_xml: str | bytes) -> Geometry:
    """Read the BPMN DI of a document into a :class:`Geometry`.

    Every ``BPMNDiagram`` is read; when there are several, the second and later planes are
    shifted so they sit below the first (one drawing, nothing overlapping). Shapes without usable
    bounds and edges with fewer than two waypoints are skipped rather than raising.

    :param bpmn_xml: the BPMN file's text or bytes (any number of processes and participants).
    :returns: the shapes and edges with their boxes, names and kinds.
    :raises etree.XMLSyntaxError: when the text is not well-formed XML.
    """
    root = _parse(bpmn_xml)
    by_id: dict[str, Any] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace == BPMN:
            by_id.setdefault(el.get("id"), el)

    shapes: list[Shape] = []
    edges: list[Edge] = []
    placed_bottom: float | None = None
    first_left: float | None = None
    for index, plane in enumerate(root.iterfind("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)):
        plane_shapes = [s for s in (_read_shape(el, by_id, index) for el in plane) if s is not None]
        plane_edges = [e for e in (_read_edge(el, by_id, index) for el in plane) if e is not None]
        extent = _extent(plane_shapes, plane_edges)
        if extent is None:
            continue
        dx = dy = 0.0
        if placed_bottom is not None and first_left is not None:
            dx = first_left - extent.x
            dy = placed_bottom + PLANE_GAP - extent.y
        else:
            first_left = extent.x
        shapes += [_move_shape(s, dx, dy) for s in plane_shapes]
        edges += [_move_edge(e, dx, dy) for e in plane_edges]
        placed_bottom = extent.bottom + dy
    bounds = _extent(shapes, edges) or Bounds(0.0, 0.0, 0.0, 0.0)
    return Geometry(tuple(shapes), tuple(edges), bounds)


def diagram_bounds(bpmn_xml: str | bytes) -> tuple[float, float, float, float]:
    """The extents of a BPMN file's drawing: ``(min x, min y, width, height)``.

    These are the DI extents (shapes, labels and waypoints) without margin, title or legend;
    ``(0, 0, 0, 0)`` for a file without DI.
    """
    b = diagram_geometry(bpmn_xml).bounds
    return (b.x, b.y, b.width, b.height)


def _bounds_of(el: Any) -> Bounds | None:
    """The ``dc:Bounds`` child of a shape or label, or None when absent or unusable."""
    b = el.find("dc:Bounds", NS) if el is not None else None
    if b is None:
        return None
    values = [_number(b.get(k)) for k in ("x", "y", "width", "height")]
    x, y, w, h = values
    if x is None or y is None or w is None or h is None or w < 0 or h < 0:
        return None
    return Bounds(x, y, w, h)


def _name_of(el: Any) -> str:
    """The display name of a BPMN element (a text annotation's text), whitespace collapsed."""
    if el is None:
        return ""
    name = el.get("name")
    if name is None and _local(el) == "textAnnotation":
        text = el.find("bpmn:text", NS)
        name = text.text if text is not None else None
    return " ".join((name or "").split())


def _event_definition(el: Any) -> str | None:
    """``timer``, ``escalation``… for the first event definition of an event, else None."""
    for child in el:
        if isinstance(child.tag, str):
            local = _local(child)
            if local.endswith("EventDefinition"):
                return local.removesuffix("EventDefinition")
    return None


def _enclosing_sub_process(el: Any) -> str | None:
    """The id of the nearest enclosing sub-process of a model element, or None."""
    parent = el.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and _local(parent) in SUB_PROCESS_KINDS:
            return str(parent.get("id"))
        parent = parent.getparent()
    return None


def _read_shape(el: Any, by_id: dict[str, Any], plane: int) -> Shape | None:
    """A :class:`Shape` from a ``BPMNShape`` element, or None when it is not one or unusable."""
    if not isinstance(el.tag, str) or el.tag != f"{{{BPMNDI}}}BPMNShape":
        return None
    bounds = _bounds_of(el)
    ref = el.get("bpmnElement")
    if bounds is None or not ref:
        return None
    model = by_id.get(ref)
    kind = _local(model) if model is not None else "unknown"
    is_expanded = kind in SUB_PROCESS_KINDS and el.get("isExpanded") == "true"
    return Shape(
        id=ref,
        kind=kind,
        name=_name_of(model),
        bounds=bounds,
        label=_bounds_of(el.find("bpmndi:BPMNLabel", NS)),
        is_lane=kind == "lane",
        is_pool=kind == "participant",
        is_horizontal=el.get("isHorizontal", "true") != "false",
        is_expanded=is_expanded,
        event=_event_definition(model) if kind.endswith("Event") else None,
        attached_to=model.get("attachedToRef") if model is not None else None,
        interrupting=model is None or model.get("cancelActivity", "true") != "false",
        parent=_enclosing_sub_process(model) if model is not None else None,
        plane=plane,
    )


def _read_edge(el: Any, by_id: dict[str, Any], plane: int) -> Edge | None:
    """An :class:`Edge` from a ``BPMNEdge`` element, or None when it is not one or unusable."""
    if not isinstance(el.tag, str) or el.tag != f"{{{BPMNDI}}}BPMNEdge":
        return None
    ref = el.get("bpmnElement")
    points: list[tuple[float, float]] = []
    for wp in el.iterfind("di:waypoint", NS):
        x, y = _number(wp.get("x")), _number(wp.get("y"))
        if x is not None and y is not None:
            points.append((x, y))
    if not ref or len(points) < 2:
        return None
    model = by_id.get(ref)
    source = model.get("sourceRef") if model is not None else None
    source_el = by_id.get(source) if source else None
    return Edge(
        id=ref,
        kind=_local(model) if model is not None else "unknown",
        name=_name_of(model),
        waypoints=tuple(points),
        label=_bounds_of(el.find("bpmndi:BPMNLabel", NS)),
        source=source,
        target=model.get("targetRef") if model is not None else None,
        is_default=source_el is not None and source_el.get("default") == ref,
        is_conditional=model is not None and model.find("bpmn:conditionExpression", NS) is not None,
        plane=plane,
    )


def _extent(shapes: Sequence[Shape], edges: Sequence[Edge]) -> Bounds | None:
    """The box around all shapes, labels and waypoints, or None when there is nothing."""
    xs: list[float] = []
    ys: list[float] = []
    for s in shapes:
        for b in (s.bounds, s.label):
            if b is not None:
                xs += [b.x, b.right]
                ys += [b.y, b.bottom]
    for e in edges:
        xs += [p[0] for p in e.waypoints]
        ys += [p[1] for p in e.waypoints]
        if e.label is not None:
            xs += [e.label.x, e.label.right]
            ys += [e.label.y, e.label.bottom]
    if not xs:
        return None
    return Bounds(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _move_shape(s: Shape, dx: float, dy: float) -> Shape:
    """A shape shifted by ``dx``, ``dy``."""
    if not dx and not dy:
        return s
    label = s.label.moved(dx, dy) if s.label is not None else None
    return replace(s, bounds=s.bounds.moved(dx, dy), label=label)


def _move_edge(e: Edge, dx: float, dy: float) -> Edge:
    """An edge shifted by ``dx``, ``dy``."""
    if not dx and not dy:
        return e
    label = e.label.moved(dx, dy) if e.label is not None else None
    return replace(e, waypoints=tuple((x + dx, y + dy) for x, y in e.waypoints), label=label)


# --------------------------------------------------------------------------------------------
# Text measuring and wrapping (CJK has no spaces: wrap by character widths)
# --------------------------------------------------------------------------------------------

_NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉,.;:?!)]}%…·—”’")
_NO_LINE_END = frozenset("（《「『【〔〈([{“‘")
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._\-]*|\s+|.", re.DOTALL)
_VERTICAL_FORMS = str.maketrans(
    {
        "（": "︵",
        "）": "︶",
        "(": "︵",
        ")": "︶",
        "【": "︻",
        "】": "︼",
        "《": "︽",
        "》": "︾",
        "「": "﹁",
        "」": "﹂",
        "—": "︱",
    }
)
"""Brackets and the dash in upright names become their vertical presentation forms. Only forms
that the dossier's CJK fonts draw (WenQuanYi Micro Hei lacks U+FE10–U+FE19, the vertical
comma, enumeration comma, full stop and colon): the PDF draws this same SVG with one font."""
_VERTICAL_SHIFT = frozenset("、，。")
"""Marks written as themselves in an upright name but moved from the lower left of their cell
to the upper right, where vertical text puts them (as their vertical forms would)."""


def text_width(text: str, font_size: float) -> float:
    """Estimated width of ``text`` in the CJK font stack: full-width characters are one em,
    Latin letters and digits about half an em.
    """
    em = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
            em += 1.0
        elif ch == " ":
            em += 0.3
        elif ch.isupper() or ch in "mwMW%@":
            em += 0.65
        else:
            em += 0.55
    return em * font_size


_OPENING = frozenset("（《「『【〔〈([{")
_CLOSING = frozenset("）》」』】〕〉)]}")
_GOOD_BREAK_AFTER = frozenset("，。、；：？！）》」』】〕〉,.;:?!)]}/-—")
"""A line may end well after these (besides a space)."""


def _tokens(text: str, max_width: float, font_size: float) -> list[str]:
    """Split text into unbreakable pieces: Latin words and numbers, spaces, single characters."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isspace():
            tokens.append(" ")
        elif text_width(token, font_size) > max_width:
            tokens += list(token)  # a word too long for any line is broken anywhere
        else:
            tokens.append(token)
    return tokens


def _break_bonus(tokens: Sequence[str], j: int, depth: int) -> float:
    """How good a line break before ``tokens[j]`` is (greater is better; 0 between CJK).

    ``depth`` is how many brackets are open at the break: breaking inside them is worse.
    """
    before, after = tokens[j - 1], tokens[j]
    if before == " " or after == " ":
        bonus = 16.0
    elif before in _GOOD_BREAK_AFTER or after in _NO_LINE_END:
        bonus = 6.0
    elif before[-1].isascii() and after[0].isascii():
        bonus = -8.0  # inside a word too long for a line
    else:
        bonus = 0.0
    return bonus - 10.0 * min(depth, 1)


def wrap_text(text: str, max_width: float, font_size: float) -> list[str]:
    """Wrap ``text`` into as few lines as fit ``max_width`` at ``font_size``, evenly filled.

    Chinese has no spaces, so a line may break between any two CJK characters, but never inside
    a Latin word or number (unless it alone is too wide), never before closing or after opening
    punctuation. Among the wraps with the fewest lines, the most even one is taken, preferring
    breaks at spaces, after punctuation and before an opening bracket.
    """
    text = " ".join(text.split())
    if not text:
        return []
    tokens = _tokens(text, max_width, font_size)
    n = len(tokens)

    def line(i: int, j: int) -> str:
        return "".join(tokens[i:j]).strip()

    def fits(i: int, j: int) -> bool:
        """The line tokens[i:j] is no wider than allowed (a single piece always fits)."""
        part = [t for t in tokens[i:j] if t != " "]
        return len(part) <= 1 or text_width(line(i, j), font_size) <= max_width

    def allowed(i: int, j: int) -> bool:
        """The line tokens[i:j] has text and obeys the punctuation rules."""
        part = [t for t in tokens[i:j] if t != " "]
        if not part:
            return False
        if i > 0 and part[0] in _NO_LINE_START:
            return False
        return j == n or part[-1] not in _NO_LINE_END

    depth = [0] * (n + 1)  # brackets open before tokens[j]
    for k, token in enumerate(tokens):
        depth[k + 1] = max(0, depth[k] + (token in _OPENING) - (token in _CLOSING))
    # best[j] = (lines, cost, previous break) for setting tokens[:j]
    infinity = (math.inf, math.inf, -1)
    best: list[tuple[float, float, int]] = [(0.0, 0.0, -1)] + [infinity] * n
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            if not fits(i, j):
                break
            if best[i][0] == math.inf or not allowed(i, j):
                continue
            slack = (max_width - text_width(line(i, j), font_size)) / font_size
            cost = (
                best[i][1] + slack * slack - (_break_bonus(tokens, j, depth[j]) if j < n else 0.0)
            )
            candidate = (best[i][0] + 1, cost, i)
            if candidate[:2] < best[j][:2]:
                best[j] = candidate
    if best[n][0] == math.inf:  # nothing fits the rules: cut anywhere
        return [line(i, i + 1) for i in range(n) if tokens[i] != " "]
    lines: list[str] = []
    j = n
    while j > 0:
        i = best[j][2]
        lines.append(line(i, j))
        j = i
    return lines[::-1]


def _fit_lines(
    text: str, max_width: float, max_height: float, sizes: Sequence[float]
) -> tuple[list[str], float]:
    """Wrap with the largest of ``sizes`` that fits the box; else the smallest, cut with …."""
    for size in sizes:
        lines = wrap_text(text, max_width, size)
        if len(lines) * size * _LINE_HEIGHT <= max_height:
            return lines, size
    size = sizes[-1]
    lines = wrap_text(text, max_width, size)
    keep = max(1, int(max_height // (size * _LINE_HEIGHT)))
    if len(lines) > keep:
        lines = lines[:keep]
        last = lines[-1]
        while last and text_width(last + "…", size) > max_width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines, size


# --------------------------------------------------------------------------------------------
# SVG output
# --------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A number for an attribute: at most two decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_Attrs = dict[str, str | float]
"""SVG attributes before formatting."""


def _el(parent: Any, tag: str, attrs: _Attrs | None = None) -> Any:
    """Append an SVG element with attributes (numbers formatted by :func:`_n`)."""
    el = etree.SubElement(parent, f"{{{SVG}}}{tag}")
    for key, value in (attrs or {}).items():
        el.set(key, _n(value) if isinstance(value, float | int) else value)
    return el


def _text_lines(
    parent: Any,
    lines: Sequence[str],
    cx: float,
    cy: float,
    size: float,
    *,
    anchor: str = "middle",
    fill: str = _INK,
    halo: bool = False,
    weight: str | None = None,
) -> None:
    """Write lines of text as one ``<text>`` centred vertically on ``cy``."""
    if not lines:
        return
    step = size * _LINE_HEIGHT
    top = cy - step * len(lines) / 2
    attrs: dict[str, str | float] = {"font-size": size, "text-anchor": anchor, "fill": fill}
    if weight:
        attrs["font-weight"] = weight
    if halo:
        attrs.update({"stroke": "#ffffff", "stroke-width": 3.0, "stroke-linejoin": "round"})
        attrs["paint-order"] = "stroke"
    text = _el(parent, "text", attrs)
    for i, line in enumerate(lines):
        tspan = _el(text, "tspan", {"x": cx, "y": top + step * i + step / 2 + size * 0.36})
        tspan.text = line


def _vertical_name(parent: Any, name: str, box: Bounds, max_size: float) -> None:
    """Write a pool's or lane's name upright, top to bottom, centred in its header strip.

    Long names use a smaller size or a second column; a name that still does not fit is
    written rotated instead.
    """
    chars = list(name.translate(_VERTICAL_FORMS).replace(" ", ""))
    if not chars:
        return
    avail = box.height - 12
    size = max_size
    while size >= 10:
        step = size * 1.08
        columns = math.ceil(len(chars) * step / avail) if avail > 0 else 99
        if columns * size * 1.2 <= box.width - 4:
            break
        size -= 1
    else:
        lines = wrap_text(name, max(avail, 10.0), 11.0)[:2]
        group = _el(parent, "g", {"transform": f"rotate(-90 {_n(box.cx)} {_n(box.cy)})"})
        _text_lines(group, lines, box.cx, box.cy, 11.0)
        return
    per_column = math.ceil(len(chars) / columns)
    text = _el(parent, "text", {"font-size": size, "text-anchor": "middle", "fill": _INK})
    column_gap = size * 1.2
    for c in range(columns):
        part = chars[c * per_column : (c + 1) * per_column]
        x = box.cx + (columns - 1) * column_gap / 2 - c * column_gap  # right to left
        top = box.cy - len(part) * step / 2
        for i, ch in enumerate(part):
            shift = size * 0.55 if ch in _VERTICAL_SHIFT else 0.0
            y = top + step * i + step / 2 + size * 0.36 - shift
            tspan = _el(text, "tspan", {"x": x + shift, "y": y})
            tspan.text = ch


def _states(element_id: str, sets: dict[str, frozenset[str]]) -> list[str]:
    """The state names of an element, in a fixed order."""
    return [state for state in ("done", "current", "overdue") if element_id in sets[state]]


def _paint(states: Sequence[str], fill: str = _NEUTRAL_FILL, width: float = 1.5) -> dict[str, Any]:
    """Fill, stroke and stroke width of a node for its states."""
    stroke = _LINE
    if "done" in states:
        fill, stroke = _DONE_FILL, _DONE_STROKE
    if "current" in states:
        fill, stroke, width = _CURRENT_FILL, _CURRENT_STROKE, max(width, 3.0)
    if "overdue" in states:
        stroke, width = _OVERDUE, max(width, 3.0)
    return {"fill": fill, "stroke": stroke, "stroke-width": width}


def _badge(parent: Any, right: float, top: float) -> None:
    """The red "逾期" badge, its right edge at ``right`` and its top at ``top``."""
    group = _el(parent, "g", {"class": "badge overdue-badge"})
    _el(
        group,
        "rect",
        {"x": right - 30, "y": top, "width": 30.0, "height": 16.0, "rx": 3.0, "fill": _OVERDUE},
    )
    _text_lines(group, ["逾期"], right - 15, top + 8, 11.0, fill="#ffffff", weight="bold")


def _status_marks(parent: Any, states: Sequence[str], x: float, y: float) -> None:
    """The ✓ (done) and ● (current) marks, the first centred on ``x``, ``y``."""
    for state in ("done", "current"):
        if state not in states:
            continue
        if state == "done":
            mark, colour, size = "✓", _DONE_MARK, 14.0
        else:
            mark, colour, size = "●", _CURRENT_STROKE, 12.0
        group = _el(parent, "g", {"class": f"mark {state}-mark"})
        _text_lines(group, [mark], x, y, size, fill=colour, weight="bold")
        x -= 16


def _node_group(parent: Any, shape: Shape, states: Sequence[str]) -> Any:
    """The ``<g class="node …" data-id=…>`` of a node, with its ``<title>`` and ``<desc>``."""
    group = _el(
        parent,
        "g",
        {"class": " ".join(["node", *states]), "data-id": shape.id, "data-kind": shape.kind},
    )
    _el(group, "title").text = shape.name or shape.id
    if states:
        _el(group, "desc").text = "、".join(_STATE_WORDS[s] for s in states)
    return group


# Task markers ------------------------------------------------------------------------------


def _user_marker(g: Any, x: float, y: float, stroke: str) -> None:
    """A small person: head and shoulders."""
    _el(g, "circle", {"cx": x + 7, "cy": y + 4, "r": 3.2, "fill": "none", "stroke": stroke})
    _el(
        g,
        "path",
        {
            "d": f"M{_n(x + 1)},{_n(y + 14)} C{_n(x + 1)},{_n(y + 8)} {_n(x + 13)},{_n(y + 8)} "
            f"{_n(x + 13)},{_n(y + 14)} Z",
            "fill": "none",
            "stroke": stroke,
        },
    )


def _script_marker(g: Any, x: float, y: float, stroke: str) -> None:
    """A small scroll with lines of script."""
    _el(
        g,
        "path",
        {
            "d": f"M{_n(x + 3)},{_n(y)} h10 c-3,3 -3,5 0,7 c3,2 3,5 0,7 h-10 c3,-2 3,-5 0,-7 "
            "c-3,-2 -3,-4 0,-7 Z",
            "fill": "none",
            "stroke": stroke,
        },
    )
    for dy in (3.5, 7.0, 10.5):
        _el(g, "path", {"d": f"M{_n(x + 5)},{_n(y + dy)} h5", "stroke": stroke})


def _rule_marker(g: Any, x: float, y: float, stroke: str) -> None:
    """A small decision table: a header row and a column."""
    _el(
        g,
        "rect",
        {"x": x, "y": y + 1, "width": 15.0, "height": 12.0, "fill": "none", "stroke": stroke},
    )
    _el(g, "rect", {"x": x, "y": y + 1, "width": 15.0, "height": 3.5, "fill": stroke})
    grid = f"M{_n(x)},{_n(y + 8.5)} h15 M{_n(x + 5)},{_n(y + 4.5)} v8.5"
    _el(g, "path", {"d": grid, "stroke": stroke})


def _service_marker(g: Any, x: float, y: float, stroke: str) -> None:
    """A small gear."""
    cx, cy = x + 7, y + 7
    spokes = " ".join(
        f"M{_n(cx + 4 * math.cos(a))},{_n(cy + 4 * math.sin(a))} "
        f"L{_n(cx + 7 * math.cos(a))},{_n(cy + 7 * math.sin(a))}"
        for a in (i * math.pi / 4 for i in range(8))
    )
    _el(g, "path", {"d": spokes, "stroke": stroke, "stroke-width": 2.0})
    _el(g, "circle", {"cx": cx, "cy": cy, "r": 4.5, "fill": "#ffffff", "stroke": stroke})


def _envelope(g: Any, cx: float, cy: float, w: float, stroke: str, fill: str) -> None:
    """A letter: the marker of message events and send/receive tasks."""
    h = w * 0.68
    x, y = cx - w / 2, cy - h / 2
    _el(g, "rect", {"x": x, "y": y, "width": w, "height": h, "fill": fill, "stroke": stroke})
    _el(
        g,
        "path",
        {
            "d": f"M{_n(x)},{_n(y)} L{_n(cx)},{_n(cy + h * 0.1)} L{_n(x + w)},{_n(y)}",
            "fill": "none",
            "stroke": "#ffffff" if fill != "none" else stroke,
        },
    )


_TASK_MARKERS = {
    "userTask": _user_marker,
    "manualTask": _user_marker,
    "scriptTask": _script_marker,
    "businessRuleTask": _rule_marker,
    "serviceTask": _service_marker,
}


# Node drawings ------------------------------------------------------------------------------


def _mark_spot(b: Bounds, states: Sequence[str], avoid: Sequence[Bounds]) -> tuple[float, float]:
    """Where inside an activity the ✓/● marks go: a corner free of boundary events."""
    width = 16.0 * sum(state in states for state in ("done", "current"))
    spots = [
        (b.right - 10, b.bottom - 10),
        (b.x + 10 + width - 16, b.bottom - 10),
        (b.right - 10, b.y + 12),
    ]
    for x, y in spots:
        box = Bounds(x - width + 8, y - 8, width, 16.0)
        if not any(_intersects(box, other) for other in avoid):
            return x, y
    return spots[0]


def _intersects(a: Bounds, b: Bounds) -> bool:
    """True when two boxes overlap."""
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _draw_activity(g: Any, s: Shape, states: Sequence[str], avoid: Sequence[Bounds] = ()) -> None:
    """A task, call activity or collapsed sub-process: rounded box, marker, wrapped name.

    ``avoid`` are the boxes of boundary events on the border, kept clear of the status marks.
    """
    b = s.bounds
    width = 4.0 if s.kind == "callActivity" else 1.5
    paint = _paint(states, width=width)
    _el(g, "rect", {"x": b.x, "y": b.y, "width": b.width, "height": b.height, "rx": 10.0, **paint})
    stroke = paint["stroke"]
    marker = _TASK_MARKERS.get(s.kind)
    marks = _el(g, "g", {"class": "task-marker", "stroke-width": 1.2})
    if marker is not None:
        marker(marks, b.x + 6, b.y + 4, stroke)
    elif s.kind in ("sendTask", "receiveTask"):
        _envelope(marks, b.x + 13, b.y + 11, 14, stroke, stroke if s.kind == "sendTask" else "none")
    if s.kind in SUB_PROCESS_KINDS or s.kind == "callActivity":
        x, y = b.cx - 7, b.bottom - 16
        box = {"x": x, "y": y, "width": 14.0, "height": 14.0, "fill": "none", "stroke": stroke}
        _el(marks, "rect", box)
        plus = f"M{_n(x + 3)},{_n(y + 7)} h8 M{_n(x + 7)},{_n(y + 3)} v8"
        _el(marks, "path", {"d": plus, "stroke": stroke})
    # Keep the name clear of the marker (top left) and the status marks (bottom right).
    lines, size = _fit_lines(s.name, b.width - 12, b.height - 34, (_TASK_FONT, 11.0, 10.0))
    if len(lines) * size * _LINE_HEIGHT > b.height - 34:
        lines, size = _fit_lines(s.name, b.width - 8, b.height - 8, (10.0,))
    half = len(lines) * size * _LINE_HEIGHT / 2
    cy = b.cy
    if len(marks) and cy - half < b.y + 19:  # a tall name moves down, below the marker
        cy = max(cy, min(b.y + 19 + half, b.bottom - 4 - half))
    _text_lines(g, lines, b.cx, cy, size)
    _status_marks(g, states, *_mark_spot(b, states, avoid))
    if "overdue" in states:
        _badge(g, b.right + 6, b.y - 10)


def _draw_sub_process(g: Any, s: Shape, states: Sequence[str]) -> None:
    """An expanded sub-process: a large rounded box with its name at the top left."""
    b = s.bounds
    paint = _paint(states, fill="#fdfdfd")
    if s.kind == "transaction":
        paint["stroke-width"] = 1.5
    _el(g, "rect", {"x": b.x, "y": b.y, "width": b.width, "height": b.height, "rx": 10.0, **paint})
    if s.kind == "transaction":
        _el(
            g,
            "rect",
            {
                "x": b.x + 3,
                "y": b.y + 3,
                "width": b.width - 6,
                "height": b.height - 6,
                "rx": 8.0,
                "fill": "none",
                "stroke": paint["stroke"],
            },
        )
    lines = wrap_text(s.name, max(b.width / 2, 60.0), _TASK_FONT)[:2]
    size = _TASK_FONT
    text = _el(g, "g", {"class": "sub-process-name"})
    for i, line in enumerate(lines):
        _text_lines(
            text,
            [line],
            b.x + 10,
            b.y + 14 + i * size * _LINE_HEIGHT,
            size,
            anchor="start",
            weight="bold",
        )
    _status_marks(g, states, b.right - 14, b.y + 16)
    if "overdue" in states:
        _badge(g, b.right + 6, b.y - 10)


def _clock(g: Any, cx: float, cy: float, r: float, stroke: str) -> None:
    """A clock face: the marker of timer events."""
    _el(g, "circle", {"cx": cx, "cy": cy, "r": r, "fill": "#ffffff", "stroke": stroke})
    ticks = " ".join(
        f"M{_n(cx + r * 0.78 * math.cos(a))},{_n(cy + r * 0.78 * math.sin(a))} "
        f"L{_n(cx + r * math.cos(a))},{_n(cy + r * math.sin(a))}"
        for a in (i * math.pi / 6 for i in range(12))
    )
    _el(g, "path", {"d": ticks, "stroke": stroke, "stroke-width": 1.0})
    hands = f"M{_n(cx)},{_n(cy - r * 0.6)} L{_n(cx)},{_n(cy)} L{_n(cx + r * 0.45)},{_n(cy)}"
    _el(g, "path", {"d": hands, "fill": "none", "stroke": stroke, "stroke-width": 1.5})


def _event_marker(g: Any, s: Shape, r: float, stroke: str) -> None:
    """The symbol of an event definition inside the circle."""
    cx, cy = s.bounds.cx, s.bounds.cy
    throwing = s.kind in ("endEvent", "intermediateThrowEvent")
    fill = stroke if throwing else "none"
    if s.event == "timer":
        _clock(g, cx, cy, r * 0.62, stroke)
    elif s.event == "escalation":  # ▲-like arrowhead
        d = (
            f"M{_n(cx)},{_n(cy - r * 0.55)} L{_n(cx + r * 0.38)},{_n(cy + r * 0.45)} "
            f"L{_n(cx)},{_n(cy + r * 0.12)} L{_n(cx - r * 0.38)},{_n(cy + r * 0.45)} Z"
        )
        _el(g, "path", {"d": d, "fill": fill, "stroke": stroke, "stroke-linejoin": "round"})
    elif s.event == "message":
        _envelope(g, cx, cy, r * 1.0, stroke, fill)
    elif s.event == "signal":
        d = (
            f"M{_n(cx)},{_n(cy - r * 0.55)} L{_n(cx + r * 0.5)},{_n(cy + r * 0.35)} "
            f"L{_n(cx - r * 0.5)},{_n(cy + r * 0.35)} Z"
        )
        _el(g, "path", {"d": d, "fill": fill, "stroke": stroke})
    elif s.event == "error":
        d = (
            f"M{_n(cx - r * 0.45)},{_n(cy + r * 0.45)} L{_n(cx - r * 0.2)},{_n(cy - r * 0.45)} "
            f"L{_n(cx + r * 0.1)},{_n(cy + r * 0.1)} L{_n(cx + r * 0.45)},{_n(cy - r * 0.45)} "
            f"L{_n(cx + r * 0.2)},{_n(cy + r * 0.45)} L{_n(cx - r * 0.1)},{_n(cy - r * 0.1)} Z"
        )
        _el(g, "path", {"d": d, "fill": fill, "stroke": stroke, "stroke-linejoin": "round"})
    elif s.event == "terminate":
        _el(g, "circle", {"cx": cx, "cy": cy, "r": r * 0.6, "fill": stroke})
    elif s.event == "conditional":
        w, h = r * 0.8, r * 1.0
        frame: _Attrs = {"x": cx - w / 2, "y": cy - h / 2, "width": w, "height": h, "fill": "none"}
        _el(g, "rect", {**frame, "stroke": stroke})
        lines = " ".join(
            f"M{_n(cx - w / 2 + 2)},{_n(cy - h / 2 + h * k / 5)} h{_n(w - 4)}" for k in range(1, 5)
        )
        _el(g, "path", {"d": lines, "stroke": stroke, "stroke-width": 1.0})


def _node_label(g: Any, s: Shape) -> None:
    """The name of an event, gateway or data element at its label bounds (else below it)."""
    if not s.name:
        return
    box = s.label
    if box is None:
        box = Bounds(s.bounds.cx - 45, s.bounds.bottom + 5, 90.0, _LABEL_FONT * 1.4)
    lines = wrap_text(s.name, max(box.width, _LABEL_FONT * 3) + 12, _LABEL_FONT)
    cy = box.cy
    if box is not s.label:  # grow downwards from the default spot
        cy += (len(lines) - 1) * _LABEL_FONT * _LINE_HEIGHT / 2
    _text_lines(g, lines, box.cx, cy, _LABEL_FONT, halo=True)


def _draw_event(g: Any, s: Shape, states: Sequence[str]) -> None:
    """An event: a circle (thick for end events, double for intermediate and boundary ones)."""
    b = s.bounds
    r = min(b.width, b.height) / 2
    width = {"startEvent": 2.0, "endEvent": 4.0}.get(s.kind, 1.5)
    paint = _paint(states, width=width)
    if s.kind == "endEvent" and paint["stroke-width"] < 4.0:
        paint["stroke-width"] = 4.0
    circle = {"cx": b.cx, "cy": b.cy, "r": r - (1.0 if s.kind == "endEvent" else 0.0), **paint}
    dashed = s.kind == "boundaryEvent" and not s.interrupting
    if dashed:
        circle["stroke-dasharray"] = "5 3"
    _el(g, "circle", circle)
    if s.kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        inner = {"cx": b.cx, "cy": b.cy, "r": r - 3.5, "fill": "none", "stroke": paint["stroke"]}
        inner["stroke-width"] = 1.5
        if dashed:
            inner["stroke-dasharray"] = "5 3"
        _el(g, "circle", inner)
    _event_marker(g, s, r, paint["stroke"] if "overdue" not in states else _LINE)
    _node_label(g, s)
    _status_marks(g, states, b.right + 6, b.y + 2)
    if "overdue" in states:
        _badge(g, b.cx + 15, b.y - 18)


def _draw_gateway(g: Any, s: Shape, states: Sequence[str]) -> None:
    """A gateway: a diamond with × (exclusive), + (parallel), ○ (inclusive)…"""
    b = s.bounds
    paint = _paint(states)
    points = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
    _el(g, "polygon", {"points": " ".join(f"{_n(x)},{_n(y)}" for x, y in points), **paint})
    stroke = paint["stroke"] if "overdue" not in states else _LINE
    k = b.width * 0.2
    cx, cy = b.cx, b.cy
    marker = {"stroke": stroke, "stroke-width": 3.5, "stroke-linecap": "round", "fill": "none"}
    cross = f"M{_n(cx - k)},{_n(cy - k)} L{_n(cx + k)},{_n(cy + k)} "
    cross += f"M{_n(cx + k)},{_n(cy - k)} L{_n(cx - k)},{_n(cy + k)}"
    plus = f"M{_n(cx)},{_n(cy - k * 1.3)} V{_n(cy + k * 1.3)} "
    plus += f"M{_n(cx - k * 1.3)},{_n(cy)} H{_n(cx + k * 1.3)}"
    if s.kind == "exclusiveGateway":
        _el(g, "path", {"d": cross, **marker})
    elif s.kind == "parallelGateway":
        _el(g, "path", {"d": plus, **marker})
    elif s.kind == "complexGateway":
        _el(g, "path", {"d": cross + " " + plus, **marker, "stroke-width": 2.5})
    elif s.kind == "inclusiveGateway":
        _el(g, "circle", {"cx": cx, "cy": cy, "r": k * 1.25, **marker, "stroke-width": 2.5})
    elif s.kind == "eventBasedGateway":
        _el(g, "circle", {"cx": cx, "cy": cy, "r": k * 1.3, **marker, "stroke-width": 1.2})
        _el(g, "circle", {"cx": cx, "cy": cy, "r": k * 1.05, **marker, "stroke-width": 1.2})
    _node_label(g, s)
    _status_marks(g, states, b.right - 5, b.y + 5)  # the empty corner beside the diamond
    if "overdue" in states:
        _badge(g, b.cx + 15, b.y - 18)


def _draw_other(g: Any, s: Shape, states: Sequence[str]) -> None:
    """Artefacts and data elements: text annotations as a bracket, the rest as a plain box."""
    b = s.bounds
    if s.kind == "textAnnotation":
        d = f"M{_n(b.x + 10)},{_n(b.y)} H{_n(b.x)} V{_n(b.bottom)} H{_n(b.x + 10)}"
        _el(g, "path", {"d": d, "fill": "none", "stroke": _LINE})
        lines, size = _fit_lines(s.name, b.width - 8, b.height - 4, (_LABEL_FONT, 10.0))
        step = size * _LINE_HEIGHT
        _text_lines(g, lines, b.x + 5, b.y + 4 + len(lines) * step / 2, size, anchor="start")
        return
    paint = _paint(states)
    if s.kind == "group":
        paint.update({"fill": "none", "stroke-dasharray": "8 4 2 4"})
    _el(g, "rect", {"x": b.x, "y": b.y, "width": b.width, "height": b.height, **paint})
    _node_label(g, s)
    _status_marks(g, states, b.right + 6, b.y + 2)
    if "overdue" in states:
        _badge(g, b.right + 6, b.y - 18)


def _draw_container(g: Any, s: Shape) -> None:
    """A pool or lane: a box with its name upright in the header strip at the left (or top)."""
    b = s.bounds
    fill = _NEUTRAL_FILL if s.is_pool else _LANE_FILL
    rect: _Attrs = {"x": b.x, "y": b.y, "width": b.width, "height": b.height, "fill": fill}
    _el(g, "rect", {**rect, "stroke": _LINE, "stroke-width": 1.5 if s.is_pool else 1.0})
    if s.is_horizontal:
        header = Bounds(b.x, b.y, min(HEADER, b.width), b.height)
        edge = f"M{_n(header.right)},{_n(b.y)} V{_n(b.bottom)}"
    else:
        header = Bounds(b.x, b.y, b.width, min(HEADER, b.height))
        edge = f"M{_n(b.x)},{_n(header.bottom)} H{_n(b.right)}"
    _el(
        g,
        "rect",
        {
            "x": header.x,
            "y": header.y,
            "width": header.width,
            "height": header.height,
            "fill": _HEADER_FILL,
        },
    )
    _el(g, "path", {"d": edge, "stroke": _LINE, "stroke-width": 1.0})
    if s.is_horizontal:
        _vertical_name(g, s.name, header, _LANE_FONT if s.is_pool else 13.0)
    else:
        lines = wrap_text(s.name, header.width - 8, 13.0)[:1]
        _text_lines(g, lines, header.cx, header.cy, 13.0, weight="bold" if s.is_pool else None)


def _flow_label_box(e: Edge) -> Bounds:
    """Where to write a flow's name when the DI gives no label bounds: by its longest segment."""
    best = max(
        zip(e.waypoints, e.waypoints[1:], strict=False),
        key=lambda seg: math.dist(seg[0], seg[1]),
    )
    (x1, y1), (x2, y2) = best
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if abs(y2 - y1) <= abs(x2 - x1):
        return Bounds(mx - 30, my - 20, 60.0, 16.0)
    return Bounds(mx + 6, my - 8, 60.0, 16.0)


def _draw_edge(parent: Any, e: Edge, states: Sequence[str]) -> None:
    """A flow: a polyline with an arrow head, default-flow slash and its label."""
    g = _el(parent, "g", {"class": " ".join(["flow", *states]), "data-id": e.id})
    _el(g, "title").text = e.name or e.id
    d = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in e.waypoints)
    attrs: dict[str, str | float] = {
        "d": d,
        "fill": "none",
        "stroke": _FLOW,
        "stroke-width": 1.5,
        "stroke-linejoin": "round",
    }
    if e.kind == "messageFlow":
        attrs.update(
            {
                "stroke-dasharray": "8 5",
                "marker-start": "url(#duban-circle)",
                "marker-end": "url(#duban-arrow-open)",
            }
        )
    elif e.kind == "association":
        attrs.update({"stroke-dasharray": "2 4", "stroke-width": 1.2})
    else:
        attrs["marker-end"] = "url(#duban-arrow)"
    _el(g, "path", attrs)
    if e.is_default:
        (x1, y1), (x2, y2) = e.waypoints[0], e.waypoints[1]
        length = math.dist((x1, y1), (x2, y2)) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        px, py = x1 + ux * 10, y1 + uy * 10
        nx, ny = -uy, ux
        slash = (
            f"M{_n(px - ux * 3 + nx * 6)},{_n(py - uy * 3 + ny * 6)} "
            f"L{_n(px + ux * 3 - nx * 6)},{_n(py + uy * 3 - ny * 6)}"
        )
        _el(g, "path", {"d": slash, "stroke": _FLOW, "stroke-width": 1.5})
    if e.name:
        box = e.label or _flow_label_box(e)
        lines = wrap_text(e.name, max(box.width, _LABEL_FONT * 3) + 4, _LABEL_FONT)
        _text_lines(g, lines, box.cx, box.cy, _LABEL_FONT, halo=True, fill="#3c4043")


def _defs(svg: Any) -> None:
    """The arrow head and circle markers of flows."""
    defs = _el(svg, "defs")
    arrow = _el(
        defs,
        "marker",
        {
            "id": "duban-arrow",
            "viewBox": "0 0 12 12",
            "refX": 11.0,
            "refY": 6.0,
            "markerWidth": 11.0,
            "markerHeight": 11.0,
            "markerUnits": "userSpaceOnUse",
            "orient": "auto",
        },
    )
    _el(arrow, "path", {"d": "M1,1 L11,6 L1,11 Z", "fill": _FLOW, "stroke": _FLOW})
    open_arrow = _el(
        defs,
        "marker",
        {
            "id": "duban-arrow-open",
            "viewBox": "0 0 12 12",
            "refX": 11.0,
            "refY": 6.0,
            "markerWidth": 11.0,
            "markerHeight": 11.0,
            "markerUnits": "userSpaceOnUse",
            "orient": "auto",
        },
    )
    _el(open_arrow, "path", {"d": "M1,1 L11,6 L1,11 Z", "fill": "#ffffff", "stroke": _FLOW})
    circle = _el(
        defs,
        "marker",
        {
            "id": "duban-circle",
            "viewBox": "0 0 10 10",
            "refX": 5.0,
            "refY": 5.0,
            "markerWidth": 9.0,
            "markerHeight": 9.0,
            "markerUnits": "userSpaceOnUse",
        },
    )
    _el(circle, "circle", {"cx": 5.0, "cy": 5.0, "r": 4.0, "fill": "#ffffff", "stroke": _FLOW})


_LEGEND = (
    ("neutral", "未到达：白底灰框"),
    ("done", "已完成：绿灰底色，标 ✓"),
    ("current", "当前待办：蓝色底色、粗边框，标 ●"),
    ("overdue", "已逾期：红色边框，标“逾期”"),
)
_LEGEND_FONT = 16.0
_LEGEND_HEIGHT = 48.0

TASK_FONT = _TASK_FONT
"""The size of task names, in diagram units (a printout scales it to a readable size)."""
LEGEND_FONT = _LEGEND_FONT
"""The size of the legend's words, in the units of :func:`render_legend_svg`."""


def _legend_width() -> float:
    """The width the legend needs."""
    width = text_width("图例：", _LEGEND_FONT) + 10
    for _, words in _LEGEND:
        width += 58 + text_width(words, _LEGEND_FONT) + 28
    return width


def _draw_legend(parent: Any, x: float, y: float) -> None:
    """The legend: one sample box per state with the state explained in words."""
    g = _el(parent, "g", {"class": "legend"})
    _el(g, "title").text = "图例"
    cy = y + _LEGEND_HEIGHT / 2
    _text_lines(g, ["图例："], x, cy, _LEGEND_FONT, anchor="start", weight="bold")
    x += text_width("图例：", _LEGEND_FONT) + 10
    for state, words in _LEGEND:
        states = [] if state == "neutral" else [state]
        item = _el(g, "g", {"class": f"legend-item {state}"})
        paint = _paint(states)
        _el(
            item,
            "rect",
            {"x": x, "y": cy - 13, "width": 48.0, "height": 26.0, "rx": 6.0, **paint},
        )
        _status_marks(item, states, x + 38, cy + 3)
        if state == "overdue":
            _badge(item, x + 54, cy - 21)
        _text_lines(item, [words], x + 58, cy, _LEGEND_FONT, anchor="start")
        x += 58 + text_width(words, _LEGEND_FONT) + 28


def render_svg(
    bpmn_xml: str | bytes,
    *,
    done: Iterable[str] = (),
    current: Iterable[str] = (),
    overdue: Iterable[str] = (),
    title: str | None = None,
    legend: bool = True,
) -> str:
    """Draw the diagram of a BPMN file as one standalone SVG string, coloured by state.

    :param bpmn_xml: the BPMN file's text or bytes; everything in its DI planes is drawn.
    :param done: ids of completed elements (green-grey fill, ✓).
    :param current: ids of elements ready now (blue fill, thick border, ●).
    :param overdue: ids of elements whose deadline is missed (red border, "逾期" badge).
    :param title: a heading written above the diagram, if given.
    :param legend: False to leave the legend out (the dossier prints it once per page, at the
        paper's scale, from :func:`render_legend_svg`); the viewBox is then the DI extents and
        the margin.
    :returns: ``<svg xmlns=… viewBox=…>…</svg>`` without width or height, so a page can size it
        (e.g. ``width: 100%; height: auto``); no scripts, styles or external references.
    :raises etree.XMLSyntaxError: when the text is not well-formed XML.
    """
    # Pages draw the same few (diagram, state) combinations over and over: keep the result.
    return _render_cached(
        bpmn_xml, frozenset(done), frozenset(current), frozenset(overdue), title, legend
    )


@lru_cache(maxsize=1)
def render_legend_svg() -> str:
    """The legend of :func:`render_svg` alone, as a standalone SVG (its words are
    :data:`LEGEND_FONT` units high)."""
    width = _legend_width()
    svg = etree.Element(f"{{{SVG}}}svg", nsmap={None: SVG})
    svg.set("viewBox", " ".join(_n(v) for v in (0.0, 0.0, width, _LEGEND_HEIGHT)))
    svg.set("class", "bpmn-legend")
    svg.set("font-family", FONT_FAMILY)
    _draw_legend(svg, 0.0, 0.0)
    return str(etree.tostring(svg, encoding="unicode"))


@lru_cache(maxsize=256)
def _render_cached(
    bpmn_xml: str | bytes,
    done: frozenset[str],
    current: frozenset[str],
    overdue: frozenset[str],
    title: str | None,
    legend: bool,
) -> str:
    geometry = diagram_geometry(bpmn_xml)
    sets = {"done": done, "current": current, "overdue": overdue}
    b = geometry.bounds
    top = b.y - MARGIN - (40.0 if title else 0.0)
    legend_y = b.bottom + MARGIN
    if legend:
        width = max(b.width + 2 * MARGIN, _legend_width() + 2 * MARGIN)
        height = legend_y + _LEGEND_HEIGHT + MARGIN / 2 - top
    else:
        width, height = b.width + 2 * MARGIN, legend_y - top
    svg = etree.Element(f"{{{SVG}}}svg", nsmap={None: SVG})
    svg.set("viewBox", " ".join(_n(v) for v in (b.x - MARGIN, top, width, height)))
    svg.set("preserveAspectRatio", "xMidYMin meet")
    svg.set("class", "bpmn-diagram")
    svg.set("font-family", FONT_FAMILY)
    heading = title or next((s.name for s in geometry.shapes if s.is_pool and s.name), "")
    _el(svg, "title").text = heading or "流程图"
    _defs(svg)
    _el(
        svg,
        "rect",
        {
            "class": "background",
            "x": b.x - MARGIN,
            "y": top,
            "width": width,
            "height": height,
            "fill": "#ffffff",
        },
    )
    if title:
        _text_lines(svg, [title], b.x, top + 24, 20.0, anchor="start", weight="bold")
    if not geometry.shapes and not geometry.edges:
        _text_lines(svg, ["此文件没有流程图的图形信息（BPMN DI）"], b.x, b.y, 14.0, anchor="start")

    containers = _el(svg, "g", {"class": "containers"})
    for s in geometry.shapes:
        if s.is_pool:
            group = _el(containers, "g", {"class": "pool", "data-id": s.id})
            _el(group, "title").text = s.name or s.id
            _draw_container(group, s)
    for s in geometry.shapes:
        if s.is_lane:
            group = _el(containers, "g", {"class": "lane", "data-id": s.id})
            _el(group, "title").text = s.name or s.id
            _draw_container(group, s)
    depth = {s.id: _depth(s, geometry) for s in geometry.shapes if s.is_expanded}
    for s in sorted((s for s in geometry.shapes if s.is_expanded), key=lambda s: depth[s.id]):
        _draw_sub_process(_node_group(containers, s, _states(s.id, sets)), s, _states(s.id, sets))

    flows = _el(svg, "g", {"class": "flows"})
    for e in geometry.edges:
        _draw_edge(flows, e, _states(e.id, sets))

    nodes = _el(svg, "g", {"class": "nodes"})
    boundary: dict[str, list[Bounds]] = {}
    for s in geometry.shapes:
        if s.attached_to:
            boundary.setdefault(s.attached_to, []).append(s.bounds)
    ordered = sorted(
        (s for s in geometry.shapes if not s.is_container),
        key=lambda s: s.kind == "boundaryEvent",
    )
    for s in ordered:
        states = _states(s.id, sets)
        group = _node_group(nodes, s, states)
        if s.is_event:
            _draw_event(group, s, states)
        elif s.is_gateway:
            _draw_gateway(group, s, states)
        elif s.is_activity:
            _draw_activity(group, s, states, boundary.get(s.id, ()))
        else:
            _draw_other(group, s, states)

    if legend:
        _draw_legend(svg, b.x, legend_y)
    return str(etree.tostring(svg, encoding="unicode"))


def _depth(s: Shape, geometry: Geometry) -> int:
    """How many sub-processes enclose a shape (so outer ones are drawn first)."""
    depth = 0
    parent = s.parent
    seen: set[str] = set()
    while parent is not None and parent not in seen:
        seen.add(parent)
        depth += 1
        enclosing = geometry.shape(parent)
        parent = enclosing.parent if enclosing is not None else None
    return depth
