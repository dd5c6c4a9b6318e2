"""The diagrams in bpmn/ are drawn completely and cleanly; the DI checker catches broken drawings.

The mutation tests break a copy of bpmn/major_hazard.bpmn in memory. They pick their victims by
role (a user task in a lane, a boundary event, a flow into a task…) rather than by id, so they
keep working while the diagram evolves.
"""

from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree

from workflows.catalog import BPMN_DIR
from workflows.di_check import NS, DiReport, check_di

MAJOR_HAZARD = (BPMN_DIR / "major_hazard.bpmn").read_bytes()
BPMN_FILES = sorted(BPMN_DIR.glob("*.bpmn"))


@pytest.mark.parametrize("path", BPMN_FILES, ids=[p.name for p in BPMN_FILES])
def test_shipped_diagrams_are_drawn_completely_and_cleanly(path: Path):
    report = check_di(path.read_bytes())
    assert report.errors == []
    assert report.warnings == []
    assert report.nodes > 0 and report.shapes >= report.nodes
    assert report.edges >= report.flows


def test_major_hazard_counts_match_the_model():
    report = check_di(MAJOR_HAZARD)
    root = etree.fromstring(MAJOR_HAZARD)
    assert report.flows == len(root.findall(".//bpmn:sequenceFlow", NS))
    assert report.lanes == len(root.findall(".//bpmn:lane", NS))
    assert report.edges == len(root.findall(".//bpmndi:BPMNEdge", NS))
    assert report.shapes == len(root.findall(".//bpmndi:BPMNShape", NS))
    assert report.ok


def test_text_with_an_encoding_declaration_is_accepted():
    assert check_di(MAJOR_HAZARD.decode("utf-8")) == check_di(MAJOR_HAZARD)


# -- mutations of bpmn/major_hazard.bpmn ---------------------------------------------------------


def parse():
    return etree.fromstring(MAJOR_HAZARD)


def check(root) -> DiReport:
    return check_di(etree.tostring(root))


def shape(root, element_id):
    found = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
    assert found is not None, element_id
    return found


def edge(root, flow_id):
    found = root.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow_id}']", NS)
    assert found is not None, flow_id
    return found


def box(root, element_id):
    b = shape(root, element_id).find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def move(root, element_id, x, y):
    b = shape(root, element_id).find("dc:Bounds", NS)
    b.set("x", f"{x:g}")
    b.set("y", f"{y:g}")


def tasks_in_lanes(root):
    """(task id, lane id) for every top-level user task, in document order."""
    lane_of = {
        ref.text: lane.get("id")
        for lane in root.iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    tasks = root.iterfind("bpmn:process/bpmn:userTask", NS)
    return [(t.get("id"), lane_of[t.get("id")]) for t in tasks]


def errors_with(report: DiReport, *parts: str) -> list[str]:
    return [e for e in report.errors if all(p in e for p in parts)]


def test_a_node_without_a_shape_is_an_error():
    root = parse()
    task, _ = tasks_in_lanes(root)[0]
    victim = shape(root, task)
    victim.getparent().remove(victim)
    assert f"node {task} has no BPMNShape" in check(root).errors


def test_a_flow_without_an_edge_is_an_error():
    root = parse()
    flow = root.find("bpmn:process/bpmn:sequenceFlow", NS).get("id")
    victim = edge(root, flow)
    victim.getparent().remove(victim)
    assert f"flow {flow} has no BPMNEdge" in check(root).errors


def test_overlapping_task_shapes_are_an_error():
    root = parse()
    tasks = tasks_in_lanes(root)
    (a, _), (b, _) = next(
        (first, second) for first, second in pairwise(tasks) if first[1] == second[1]
    )
    x, y, _, _ = box(root, a)
    move(root, b, x + 20, y)
    report = check(root)
    assert errors_with(report, "shapes overlap:", f" {a} (", f" {b} ("), report.errors


def test_a_task_outside_its_lane_is_an_error():
    root = parse()
    task, lane = tasks_in_lanes(root)[0]
    x, _, _, _ = box(root, task)
    _, lane_y, _, lane_height = box(root, lane)
    move(root, task, x, lane_y + lane_height + 10)
    report = check(root)
    assert errors_with(report, f"{task} (", f"is not inside lane {lane} ("), report.errors


def test_an_edge_end_point_away_from_its_target_is_an_error():
    root = parse()
    task_ids = {t for t, _ in tasks_in_lanes(root)}
    flow = next(
        f
        for f in root.iterfind("bpmn:process/bpmn:sequenceFlow", NS)
        if f.get("targetRef") in task_ids
    )
    fid, target = flow.get("id"), flow.get("targetRef")
    x, y, w, h = box(root, target)
    last = edge(root, fid).findall("di:waypoint", NS)[-1]
    last.set("x", f"{x + w / 2:g}")
    last.set("y", f"{y + h / 2:g}")
    report = check(root)
    found = [
        e
        for e in report.errors
        if e.startswith(f"flow {fid} end point") and e.endswith(f"the border of {target}")
    ]
    assert found, report.errors


def test_a_boundary_event_off_its_host_border_is_an_error():
    root = parse()
    event = root.find(".//bpmn:boundaryEvent", NS)
    bid, host = event.get("id"), event.get("attachedToRef")
    hx, hy, hw, hh = box(root, host)
    _, _, w, h = box(root, bid)
    move(root, bid, hx + hw / 2 - w / 2, hy + hh / 2 - h / 2)
    report = check(root)
    found = [
        e
        for e in report.errors
        if e.startswith(f"boundary {bid} centre") and f"not on the border of {host} (" in e
    ]
    assert found, report.errors


def test_a_missing_bounds_element_is_reported_not_raised():
    root = parse()
    task, _ = tasks_in_lanes(root)[0]
    bounds = shape(root, task).find("dc:Bounds", NS)
    bounds.getparent().remove(bounds)
    report = check(root)
    assert f"shape of {task} has no usable dc:Bounds" in report.errors


def test_malformed_xml_is_reported_not_raised():
    report = check_di(b"<bpmn:definitions")
    assert len(report.errors) == 1 and report.errors[0].startswith("not well-formed XML")


# -- other files: several pools, no lanes ---------------------------------------------------------


def pool(index: int) -> tuple[str, str]:
    """The model and the DI of pool number ``index``: start -> task -> end, no lanes."""
    p, dy = f"p{index}", 250 * index
    model = f"""
  <bpmn:process id="{p}" isExecutable="true">
    <bpmn:startEvent id="{p}_start"/>
    <bpmn:userTask id="{p}_task" name="办理"/>
    <bpmn:endEvent id="{p}_end"/>
    <bpmn:sequenceFlow id="{p}_f1" sourceRef="{p}_start" targetRef="{p}_task"/>
    <bpmn:sequenceFlow id="{p}_f2" sourceRef="{p}_task" targetRef="{p}_end"/>
  </bpmn:process>"""
    di = f"""
      <bpmndi:BPMNShape id="{p}_pool_di" bpmnElement="{p}_pool" isHorizontal="true">
        <dc:Bounds x="30" y="{dy}" width="500" height="200"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{p}_start_di" bpmnElement="{p}_start">
        <dc:Bounds x="100" y="{dy + 82}" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{p}_task_di" bpmnElement="{p}_task">
        <dc:Bounds x="200" y="{dy + 60}" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{p}_end_di" bpmnElement="{p}_end">
        <dc:Bounds x="400" y="{dy + 82}" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="{p}_f1_di" bpmnElement="{p}_f1">
        <di:waypoint x="136" y="{dy + 100}"/><di:waypoint x="200" y="{dy + 100}"/>
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="{p}_f2_di" bpmnElement="{p}_f2">
        <di:waypoint x="300" y="{dy + 100}"/><di:waypoint x="400" y="{dy + 100}"/>
      </bpmndi:BPMNEdge>"""
    return model, di


def two_pools(task_y_in_second_pool: int = 310) -> str:
    (m0, d0), (m1, d1) = pool(0), pool(1)
    d1 = d1.replace('y="310" width="100"', f'y="{task_y_in_second_pool}" width="100"')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs" targetNamespace="http://duban.test">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="p0_pool" processRef="p0"/>
    <bpmn:participant id="p1_pool" processRef="p1"/>
  </bpmn:collaboration>{m0}{m1}
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="collab">{d0}{d1}
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_several_pools_without_lanes_pass():
    report = check_di(two_pools())
    assert report.errors == [] and report.warnings == []
    assert (report.nodes, report.flows, report.lanes, report.shapes, report.edges) == (
        6,
        4,
        0,
        8,
        4,
    )


def test_a_task_drawn_in_the_wrong_pool_is_an_error():
    report = check_di(two_pools(task_y_in_second_pool=60))
    assert errors_with(report, "p1_task (", "is outside pool p1_pool"), report.errors
