"""Checks of the diagram interchange (BPMN DI) of a BPMN file: is the drawing complete and clean?

SpiffWorkflow ignores the DI, so a diagram can run perfectly while being unreadable in a modeller:
a task without a shape, a flow drawn through another task, a task drawn in the wrong lane. This
module checks the drawing against the process model and reports what is wrong, naming element ids.

Errors (the drawing is wrong or misleading):

* every flow node has a ``BPMNShape`` and every sequence flow a ``BPMNEdge`` with two or more
  waypoints; every lane has a shape; every shape has usable ``dc:Bounds``;
* no two node shapes overlap, except a boundary event on its host and a node on its sub-process;
* a boundary event's centre lies on its host's border; nodes of a sub-process lie inside it;
* a node lies inside every lane that references it, and a process with lanes puts each top-level
  node in one lane; sibling lanes are contiguous; lanes and top-level nodes lie inside the pool;
* a sequence flow starts on the border of its source shape and ends on that of its target;
* a sequence flow does not pass through any other node shape.

Warnings (the drawing is readable but untidy): diagonal edge segments, labels overlapping shapes,
edges or other labels, and named flows without label bounds. Orthogonal edge crossings are only
counted (:attr:`DiReport.crossings`).

Geometry is compared within one ``BPMNPlane`` only, so a collapsed sub-process drawn on a plane of
its own is handled. The checker never raises on a malformed diagram: it reports the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from typing import Any

from lxml import etree

from workflows.bpmn_xml import BPMN, NS
from workflows.bpmn_xml import finite_number as _number
from workflows.bpmn_xml import local_name as _local
from workflows.bpmn_xml import parse as _parse

SUB_PROCESS_TAGS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
FLOW_NODE_TAGS = SUB_PROCESS_TAGS | {
    "startEvent",
    "endEvent",
    "boundaryEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "businessRuleTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
TOLERANCE = 2.0
"""How far (px) an end point or a boundary event's centre may be from the border it belongs on."""


Box = tuple[float, float, float, float]
"""x, y, width, height."""
Point = tuple[float, float]


@dataclass(frozen=True)
class DiReport:
    """The outcome of :func:`check_di`: problems found and what was looked at."""

    errors: list[str]
    warnings: list[str]
    nodes: int
    """Flow nodes in the process model (sub-process contents included)."""
    flows: int
    """Sequence flows in the process model."""
    lanes: int
    """Lanes (nested lanes included)."""
    shapes: int
    """``BPMNShape`` elements with usable bounds."""
    edges: int
    """``BPMNEdge`` elements."""
    labels: int = 0
    """Shapes and edges whose ``BPMNLabel`` has bounds."""
    crossings: int = 0
    """Places where a horizontal and a vertical edge segment cross (information only)."""

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors


@dataclass
class _Node:
    """A flow node of the process model."""

    tag: str
    process: str
    parent: str | None
    """The enclosing sub-process, None at the top level of a process."""
    attached: str | None
    """The host of a boundary event."""


@dataclass
class _Flow:
    """A sequence flow of the process model."""

    source: str
    target: str
    name: str | None
    parent: str | None


@dataclass
class _Lane:
    """A lane and the flow nodes it references."""

    process: str
    group: str
    """Identifies the lane set: sibling lanes share it."""
    parent_lane: str | None
    refs: list[str] = field(default_factory=list)


@dataclass
class _Shape:
    """A ``BPMNShape``: its box, plane and orientation."""

    box: Box
    plane: int
    horizontal: bool


@dataclass
class _Edge:
    """A ``BPMNEdge``: its waypoints and plane."""

    points: list[Point]
    plane: int


def check_di(xml: str | bytes) -> DiReport:
    """Check the DI of a BPMN document and return the errors and warnings found.

    :param xml: the BPMN file's text or bytes (any number of processes and participants).
    :returns: a :class:`DiReport`; ``errors`` empty means the drawing passed.
    """
    try:
        root = _parse(xml)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return DiReport([f"not well-formed XML: {exc}"], [], 0, 0, 0, 0, 0)
    checker = _Checker(root)
    checker.run()
    return checker.report()


def format_report(report: DiReport) -> str:
    """Render a report as text: a counts line, then one line per warning and per error."""
    head = (
        f"{report.nodes} flow nodes, {report.flows} sequence flows, {report.lanes} lanes, "
        f"{report.shapes} shapes, {report.edges} edges, {report.labels} labels, "
        f"{report.crossings} edge crossings"
    )
    lines = [head]
    lines += [f"WARN  {w}" for w in report.warnings]
    lines += [f"ERROR {e}" for e in report.errors]
    lines.append("OK" if report.ok else f"{len(report.errors)} errors")
    return "\n".join(lines)


def _bounds(el: Any) -> Box | None:
    """The ``dc:Bounds`` child of a shape or label as a box, or None when absent or unusable."""
    b = el.find("dc:Bounds", NS)
    if b is None:
        return None
    values = [_number(b.get(k)) for k in ("x", "y", "width", "height")]
    if any(v is None for v in values):
        return None
    x, y, w, h = (float(v) for v in values if v is not None)
    return (x, y, w, h)


def _fmt(value: Box | Point) -> str:
    """A box or point as a short text, without needless decimals."""
    return "(" + ", ".join(f"{v:g}" for v in value) + ")"


def _inside(inner: Box, outer: Box, tol: float = 0.0) -> bool:
    """True when ``inner`` lies within ``outer`` (grown by ``tol`` on every side)."""
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox - tol and y >= oy - tol and x + w <= ox + ow + tol and y + h <= oy + oh + tol


def _intersects(a: Box, b: Box) -> bool:
    """True when the interiors of two boxes overlap (touching borders do not count)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _segment_hits_box(p: Point, q: Point, box: Box, shrink: float = 1.0) -> bool:
    """True when segment p-q enters ``box`` shrunk by ``shrink`` (Liang-Barsky clipping)."""
    x, y, w, h = box
    x, y, w, h = x + shrink, y + shrink, w - 2 * shrink, h - 2 * shrink
    (x1, y1), (x2, y2) = p, q
    t0, t1 = 0.0, 1.0
    dx, dy = x2 - x1, y2 - y1
    for pp, qq in ((-dx, x1 - x), (dx, x + w - x1), (-dy, y1 - y), (dy, y + h - y1)):
        if pp == 0:
            if qq < 0:
                return False
            continue
        r = qq / pp
        if pp < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return False
    return True


def _border_distance(point: Point, box: Box, tag: str) -> float:
    """Distance from ``point`` to the outline of a node drawn in ``box``.

    Events are circles, gateways diamonds, everything else rectangles.
    """
    x, y, w, h = box
    px, py = point
    cx, cy = x + w / 2, y + h / 2
    if tag.endswith("Event"):
        return abs(math.hypot(px - cx, py - cy) - w / 2)
    if tag.endswith("Gateway"):
        return abs(abs(px - cx) / (w / 2) + abs(py - cy) / (h / 2) - 1) * w / 2
    dx = max(x - px, 0.0, px - (x + w))
    dy = max(y - py, 0.0, py - (y + h))
    if dx or dy:
        return math.hypot(dx, dy)
    return min(px - x, x + w - px, py - y, y + h - py)


def _segments(points: list[Point]) -> Iterator[tuple[Point, Point]]:
    """Consecutive pairs of waypoints."""
    return pairwise(points)


class _Checker:
    """Reads the process model and the DI of one document, then runs the checks on them."""

    def __init__(self, root: Any) -> None:
        """Index the document; reading problems are recorded as errors."""
        self.root = root
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.crossings = 0
        self.by_id: dict[str, Any] = {
            el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")
        }
        self.nodes: dict[str, _Node] = {}
        self.flows: dict[str, _Flow] = {}
        self.lanes: dict[str, _Lane] = {}
        self.pool_of: dict[str, str] = {}
        """process id -> participant id."""
        self.shapes: dict[str, _Shape] = {}
        self.edges: dict[str, _Edge] = {}
        self.labels: dict[str, tuple[Box, int]] = {}
        self.drawn: set[str] = set()
        """Elements that have a DI element, usable or not (so coverage errors are not doubled)."""
        self.shape_count = 0
        self.edge_count = 0

    # -- reading ---------------------------------------------------------------------------

    def run(self) -> None:
        """Read the model and the DI, then run every check."""
        if self.root.tag != f"{{{BPMN}}}definitions":
            self.errors.append(f"root element is {self.root.tag}, not bpmn:definitions")
            return
        self._read_model()
        self._read_di()
        self._check_coverage()
        self._check_overlaps()
        self._check_boundary_events_and_sub_processes()
        self._check_lanes_and_pools()
        self._check_edge_ends()
        self._check_edges_through_shapes()
        self._check_labels()
        self._count_crossings()

    def report(self) -> DiReport:
        """The report of what :meth:`run` found."""
        return DiReport(
            errors=list(self.errors),
            warnings=list(self.warnings),
            nodes=len(self.nodes),
            flows=len(self.flows),
            lanes=len(self.lanes),
            shapes=self.shape_count,
            edges=self.edge_count,
            labels=len(self.labels),
            crossings=self.crossings,
        )

    def _read_model(self) -> None:
        """Collect flow nodes, sequence flows, lanes and participants of every process."""
        for participant in self.root.iter(f"{{{BPMN}}}participant"):
            process_ref = participant.get("processRef")
            if process_ref and participant.get("id"):
                self.pool_of[process_ref] = participant.get("id")
        for process in self.root.findall("bpmn:process", NS):
            pid = process.get("id") or "?"
            self._walk(process, pid, None)
            for lane_set in process.findall("bpmn:laneSet", NS):
                self._read_lane_set(lane_set, pid, None)

    def _walk(self, container: Any, process: str, parent: str | None) -> None:
        """Record the flow nodes and sequence flows directly in ``container``, recursively."""
        for el in container:
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
                continue
            tag = _local(el)
            eid = el.get("id")
            if not eid:
                continue
            if tag in FLOW_NODE_TAGS:
                self.nodes[eid] = _Node(tag, process, parent, el.get("attachedToRef"))
                if tag in SUB_PROCESS_TAGS:
                    self._walk(el, process, eid)
            elif tag == "sequenceFlow":
                self.flows[eid] = _Flow(
                    el.get("sourceRef") or "", el.get("targetRef") or "", el.get("name"), parent
                )

    def _read_lane_set(self, lane_set: Any, process: str, parent_lane: str | None) -> None:
        """Record the lanes of a lane set and of their child lane sets."""
        group = lane_set.get("id") or f"{process}/{parent_lane}"
        seen: dict[str, str] = {}
        for lane in lane_set.findall("bpmn:lane", NS):
            lid = lane.get("id")
            if not lid:
                continue
            record = _Lane(process, group, parent_lane)
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                nid = (ref.text or "").strip()
                if nid in seen:
                    self.errors.append(f"{nid} referenced by two lanes: {seen[nid]} and {lid}")
                seen[nid] = lid
                record.refs.append(nid)
            self.lanes[lid] = record
            for child in lane.findall("bpmn:childLaneSet", NS):
                self._read_lane_set(child, process, lid)

    def _read_di(self) -> None:
        """Collect shapes, edges and label bounds of every plane."""
        planes = self.root.findall("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
        if not planes:
            self.errors.append("the file has no BPMNDiagram with a BPMNPlane")
        for index, plane in enumerate(planes):
            for s in plane.findall("bpmndi:BPMNShape", NS):
                self._read_shape(s, index)
            for e in plane.findall("bpmndi:BPMNEdge", NS):
                self._read_edge(e, index)

    def _di_target(self, el: Any, kind: str) -> str | None:
        """The ``bpmnElement`` of a DI element, or None (with an error) when it names nothing."""
        ref = el.get("bpmnElement")
        if not ref:
            self.errors.append(f"{kind} {el.get('id')} has no bpmnElement")
            return None
        if ref not in self.by_id:
            self.errors.append(f"{kind} {el.get('id')} refers to unknown element {ref}")
            return None
        self.drawn.add(str(ref))
        return str(ref)

    def _read_label(self, el: Any, ref: str, plane: int) -> None:
        """Record the bounds of the ``BPMNLabel`` of a shape or edge, if it has some."""
        label = el.find("bpmndi:BPMNLabel", NS)
        if label is None or label.find("dc:Bounds", NS) is None:
            return
        box = _bounds(label)
        if box is None:
            self.errors.append(f"label of {ref} has unusable dc:Bounds")
        else:
            self.labels[ref] = (box, plane)

    def _read_shape(self, s: Any, plane: int) -> None:
        """Record one ``BPMNShape``."""
        ref = self._di_target(s, "BPMNShape")
        if ref is None:
            return
        box = _bounds(s)
        if box is None:
            self.errors.append(f"shape of {ref} has no usable dc:Bounds")
            return
        if box[2] <= 0 or box[3] <= 0:
            self.errors.append(f"shape of {ref} has an empty size {_fmt(box)}")
            return
        if ref in self.shapes and self.shapes[ref].plane == plane:
            self.errors.append(f"{ref} has more than one BPMNShape")
            return
        self.shape_count += 1
        self.shapes[ref] = _Shape(box, plane, s.get("isHorizontal") != "false")
        self._read_label(s, ref, plane)

    def _read_edge(self, e: Any, plane: int) -> None:
        """Record one ``BPMNEdge``."""
        self.edge_count += 1
        ref = self._di_target(e, "BPMNEdge")
        if ref is None:
            return
        points: list[Point] = []
        for w in e.findall("di:waypoint", NS):
            x, y = _number(w.get("x")), _number(w.get("y"))
            if x is None or y is None:
                self.errors.append(f"edge of {ref} has a waypoint without usable x/y")
                return
            points.append((x, y))
        if ref in self.edges:
            self.errors.append(f"{ref} has more than one BPMNEdge")
            return
        self.edges[ref] = _Edge(points, plane)
        self._read_label(e, ref, plane)

    # -- helpers ---------------------------------------------------------------------------

    def _box(self, element: str, plane: int | None = None) -> Box | None:
        """The box of an element's shape, if it has one (on ``plane`` when given)."""
        shape = self.shapes.get(element)
        if shape is None or (plane is not None and shape.plane != plane):
            return None
        return shape.box

    def _ancestors(self, parent: str | None) -> Iterator[str]:
        """``parent`` and the sub-processes enclosing it, innermost first."""
        seen: set[str] = set()
        while parent is not None and parent not in seen:
            seen.add(parent)
            yield parent
            node = self.nodes.get(parent)
            parent = node.parent if node else None

    def _node_shapes(self) -> Iterable[tuple[str, _Shape]]:
        """The shapes of flow nodes, in document order of the nodes."""
        return ((nid, self.shapes[nid]) for nid in self.nodes if nid in self.shapes)

    # -- checks ----------------------------------------------------------------------------

    def _check_coverage(self) -> None:
        """Every node, flow and lane is drawn; lane references are consistent."""
        for nid in self.nodes:
            if nid not in self.drawn:
                self.errors.append(f"node {nid} has no BPMNShape")
        for fid, flow in self.flows.items():
            edge = self.edges.get(fid)
            if edge is None:
                if fid not in self.drawn:
                    self.errors.append(f"flow {fid} has no BPMNEdge")
            elif len(edge.points) < 2:
                self.errors.append(f"flow {fid} has fewer than 2 waypoints")
            elif flow.name and fid not in self.labels:
                self.warnings.append(f"named flow {fid} has no label bounds")
        for lid in self.lanes:
            if lid not in self.drawn:
                self.errors.append(f"lane {lid} has no BPMNShape")
        in_lane: set[str] = set()
        for lid, lane in self.lanes.items():
            for nid in lane.refs:
                node = self.nodes.get(nid)
                if node is None:
                    self.errors.append(f"lane {lid} references unknown flow node {nid}")
                elif node.parent is not None:
                    self.errors.append(f"sub-process node {nid} referenced by lane {lid}")
                else:
                    in_lane.add(nid)
        processes_with_lanes = {lane.process for lane in self.lanes.values()}
        for nid, node in self.nodes.items():
            if node.parent is None and node.process in processes_with_lanes and nid not in in_lane:
                self.errors.append(f"top-level node {nid} is in no lane")

    def _check_overlaps(self) -> None:
        """No two node shapes of a plane overlap, bar boundary/host and child/sub-process."""
        for (a, sa), (b, sb) in combinations(list(self._node_shapes()), 2):
            if sa.plane != sb.plane or not _intersects(sa.box, sb.box):
                continue
            na, nb = self.nodes[a], self.nodes[b]
            if na.attached == b or nb.attached == a:
                continue
            if b in self._ancestors(na.parent) or a in self._ancestors(nb.parent):
                continue
            self.errors.append(f"shapes overlap: {a} {_fmt(sa.box)} / {b} {_fmt(sb.box)}")

    def _check_boundary_events_and_sub_processes(self) -> None:
        """Boundary events sit on their host's border; sub-process nodes lie inside it."""
        for nid, shape in self._node_shapes():
            node = self.nodes[nid]
            x, y, w, h = shape.box
            if node.attached:
                host = self._box(node.attached, shape.plane)
                if node.attached not in self.nodes:
                    self.errors.append(f"boundary {nid} is attached to unknown {node.attached}")
                elif host is not None:
                    cx, cy = x + w / 2, y + h / 2
                    hx, hy, hw, hh = host
                    on_h = (abs(cy - hy) <= TOLERANCE or abs(cy - (hy + hh)) <= TOLERANCE) and (
                        hx <= cx <= hx + hw
                    )
                    on_v = (abs(cx - hx) <= TOLERANCE or abs(cx - (hx + hw)) <= TOLERANCE) and (
                        hy <= cy <= hy + hh
                    )
                    if not (on_h or on_v):
                        self.errors.append(
                            f"boundary {nid} centre {_fmt((cx, cy))} is not on the border "
                            f"of {node.attached} {_fmt(host)}"
                        )
            if node.parent is None:
                continue
            outer = self._box(node.parent, shape.plane)
            if outer is None:
                continue
            # a boundary event on a node at the sub-process edge may stick out by its radius
            slack = max(w, h) / 2 if node.attached else 0.0
            if not _inside(shape.box, outer, slack):
                self.errors.append(
                    f"{nid} {_fmt(shape.box)} is not inside sub-process {node.parent}"
                )

    def _check_lanes_and_pools(self) -> None:
        """Nodes inside their lanes, lanes inside parent lane and pool, sibling lanes contiguous."""
        for lid, lane in self.lanes.items():
            lane_shape = self.shapes.get(lid)
            if lane_shape is None:
                continue
            for nid in lane.refs:
                box = self._box(nid, lane_shape.plane)
                if nid in self.nodes and box is not None and not _inside(box, lane_shape.box):
                    self.errors.append(
                        f"{nid} {_fmt(box)} is not inside lane {lid} {_fmt(lane_shape.box)}"
                    )
            outer_id = lane.parent_lane or self.pool_of.get(lane.process)
            outer = self._box(outer_id, lane_shape.plane) if outer_id else None
            if outer is not None and not _inside(lane_shape.box, outer):
                where = "parent lane" if lane.parent_lane else "pool"
                self.errors.append(f"lane {lid} is outside its {where} {outer_id}")
        for nid, shape in self._node_shapes():
            node = self.nodes[nid]
            pool = self.pool_of.get(node.process)
            pool_box = self._box(pool, shape.plane) if pool else None
            if node.parent is None and pool_box is not None and not _inside(shape.box, pool_box):
                self.errors.append(f"{nid} {_fmt(shape.box)} is outside pool {pool}")
        groups: dict[str, list[tuple[str, _Shape]]] = {}
        for lid, lane in self.lanes.items():
            if lid in self.shapes:
                groups.setdefault(lane.group, []).append((lid, self.shapes[lid]))
        for members in groups.values():
            horizontal = all(s.horizontal for _, s in members)
            axis = 1 if horizontal else 0
            ordered = sorted(members, key=lambda m: m[1].box[axis])
            for (l1, s1), (l2, s2) in pairwise(ordered):
                if abs(s1.box[axis] + s1.box[axis + 2] - s2.box[axis]) > 0.5:
                    self.errors.append(f"lanes {l1} and {l2} are not contiguous")

    def _check_edge_ends(self) -> None:
        """Flows start on their source's outline and end on their target's; no diagonals."""
        for fid, flow in self.flows.items():
            edge = self.edges.get(fid)
            if edge is None or len(edge.points) < 2:
                continue
            ends = (("start", flow.source, edge.points[0]), ("end", flow.target, edge.points[-1]))
            for which, nid, point in ends:
                node = self.nodes.get(nid)
                box = self._box(nid, edge.plane)
                if node is None or box is None:
                    continue
                d = _border_distance(point, box, node.tag)
                if d > TOLERANCE:
                    self.errors.append(
                        f"flow {fid} {which} point {_fmt(point)} is {d:.1f}px off "
                        f"the border of {nid}"
                    )
            for (x1, y1), (x2, y2) in _segments(edge.points):
                if x1 != x2 and y1 != y2:
                    self.warnings.append(
                        f"flow {fid} has a diagonal segment {_fmt((x1, y1))}->{_fmt((x2, y2))}"
                    )

    def _check_edges_through_shapes(self) -> None:
        """No sequence flow passes through a node shape other than its own ends."""
        for fid, flow in self.flows.items():
            edge = self.edges.get(fid)
            if edge is None:
                continue
            skip = {flow.source, flow.target, *self._ancestors(flow.parent)}
            source = self.nodes.get(flow.source)
            if source is not None and source.attached:
                # a flow from a boundary event starts inside its host's border zone
                skip.add(source.attached)
            for nid, shape in self._node_shapes():
                if nid in skip or shape.plane != edge.plane:
                    continue
                if any(_segment_hits_box(p, q, shape.box) for p, q in _segments(edge.points)):
                    self.errors.append(f"flow {fid} passes through {nid}")

    def _check_labels(self) -> None:
        """Labels do not overlap shapes, straddle sub-process borders, or touch edges or labels."""
        for owner, (label, plane) in self.labels.items():
            for nid, shape in self._node_shapes():
                if shape.plane != plane:
                    continue
                if self.nodes[nid].tag not in SUB_PROCESS_TAGS:
                    if _intersects(label, shape.box):
                        self.warnings.append(f"label of {owner} overlaps shape {nid}")
                elif (
                    nid != owner and _intersects(label, shape.box) and not _inside(label, shape.box)
                ):
                    self.warnings.append(f"label of {owner} straddles the border of {nid}")
            for fid, edge in self.edges.items():
                if fid == owner or edge.plane != plane:
                    continue
                if any(_segment_hits_box(p, q, label, 0.0) for p, q in _segments(edge.points)):
                    self.warnings.append(f"label of {owner} is crossed by flow {fid}")
        for (a, (la, pa)), (b, (lb, pb)) in combinations(self.labels.items(), 2):
            if pa == pb and _intersects(la, lb):
                self.warnings.append(f"labels of {a} and {b} overlap")

    def _count_crossings(self) -> None:
        """Count places where a horizontal segment of one edge crosses a vertical one of another."""
        segments = [
            (fid, edge.plane, p, q)
            for fid, edge in self.edges.items()
            for p, q in _segments(edge.points)
        ]
        for (f1, pl1, p1, q1), (f2, pl2, p2, q2) in combinations(segments, 2):
            if f1 == f2 or pl1 != pl2:
                continue
            h1, h2 = p1[1] == q1[1], p2[1] == q2[1]
            if h1 == h2:
                continue
            (hx1, y), (hx2, _) = (p1, q1) if h1 else (p2, q2)
            (x, vy1), (vx2, vy2) = (p2, q2) if h1 else (p1, q1)
            if x != vx2:
                continue  # a diagonal, already warned about
            if min(hx1, hx2) < x < max(hx1, hx2) and min(vy1, vy2) < y < max(vy1, vy2):
                self.crossings += 1
