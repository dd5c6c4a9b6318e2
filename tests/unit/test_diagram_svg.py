"""The SVG drawing of a BPMN diagram: complete, state-coloured, escaped, script-free, stable."""

import re
from pathlib import Path

import pytest
from lxml import etree

from workflows.catalog import BPMN_DIR
from workflows.di_check import FLOW_NODE_TAGS
from workflows.diagram_svg import (
    Bounds,
    diagram_bounds,
    diagram_geometry,
    render_legend_svg,
    render_svg,
    text_width,
    wrap_text,
)

MAJOR_HAZARD = (BPMN_DIR / "major_hazard.bpmn").read_text(encoding="utf-8")
SVG_NS = "http://www.w3.org/2000/svg"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _model() -> etree._Element:
    return etree.fromstring(MAJOR_HAZARD.encode("utf-8"))


def _flow_nodes() -> dict[str, str]:
    """id -> name of every flow node of major_hazard.bpmn."""
    return {
        el.get("id"): el.get("name", "")
        for el in _model().iter()
        if isinstance(el.tag, str)
        and etree.QName(el).namespace == BPMN_NS
        and etree.QName(el).localname in FLOW_NODE_TAGS
    }


def _sequence_flows() -> list[str]:
    return [el.get("id") for el in _model().iter(f"{{{BPMN_NS}}}sequenceFlow")]


def _parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode("utf-8"))


def _group(root: etree._Element, element_id: str) -> etree._Element:
    found = root.xpath("//svg:g[@data-id=$id]", namespaces={"svg": SVG_NS}, id=element_id)
    assert len(found) == 1, element_id
    return found[0]


def _text(el: etree._Element) -> str:
    return "".join(el.itertext())


@pytest.fixture(scope="module")
def plain() -> str:
    return render_svg(MAJOR_HAZARD)


def test_output_is_one_standalone_svg_element(plain):
    root = _parse(plain)
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert plain.startswith("<svg ") and plain.rstrip().endswith("</svg>")
    assert re.fullmatch(r"-?[\d.]+ -?[\d.]+ [\d.]+ [\d.]+", root.get("viewBox"))
    assert root.get("width") is None and root.get("height") is None
    assert "Noto Sans CJK SC" in root.get("font-family")
    assert "WenQuanYi Micro Hei" in root.get("font-family")
    assert root.get("font-family").endswith("sans-serif")


def test_view_box_covers_the_di_extents_with_margin(plain):
    x, y, w, h = diagram_bounds(MAJOR_HAZARD)
    assert (x, y) == (130.0, 60.0)  # the pool's corner
    assert w >= 4150 and h >= 1440
    vx, vy, vw, vh = (float(v) for v in _parse(plain).get("viewBox").split())
    assert vx < x and vy < y and vx + vw > x + w and vy + vh > y + h


def test_every_flow_node_is_a_group_with_its_name(plain):
    root = _parse(plain)
    nodes = _flow_nodes()
    assert len(nodes) > 40
    for node_id, name in nodes.items():
        group = _group(root, node_id)
        assert "node" in group.get("class").split()
        title = group.find(f"{{{SVG_NS}}}title")
        assert title is not None and title.text == (name or node_id)
        assert name in _text(group)


def test_every_node_name_is_written_in_the_drawing(plain):
    root = _parse(plain)
    for node_id, name in _flow_nodes().items():
        group = _group(root, node_id)
        drawn = "".join(
            "".join(t.itertext()) for t in group.iter(f"{{{SVG_NS}}}text")
        )  # the wrapped lines, without the <title>
        assert drawn.replace(" ", "") == name.replace(" ", ""), node_id


def test_every_sequence_flow_is_drawn_with_an_arrow(plain):
    root = _parse(plain)
    flows = _sequence_flows()
    assert len(flows) > 40
    for flow_id in flows:
        group = _group(root, flow_id)
        paths = [p for p in group.iter(f"{{{SVG_NS}}}path", f"{{{SVG_NS}}}polyline")]
        assert any(p.get("marker-end") == "url(#duban-arrow)" for p in paths), flow_id
    assert root.find(f".//{{{SVG_NS}}}marker[@id='duban-arrow']") is not None


def test_flow_labels_lanes_and_pool_are_written(plain):
    root = _parse(plain)
    assert "不同意" in _text(_group(root, "flow_gw_decision_disagree"))
    for lane in root.xpath("//svg:g[@class='lane']", namespaces={"svg": SVG_NS}):
        title = lane.find(f"{{{SVG_NS}}}title").text
        assert title
    lane_ids = {
        g.get("data-id") for g in root.xpath("//svg:g[@class='lane']", namespaces={"svg": SVG_NS})
    }
    assert lane_ids == {"discoverer", "fire_rescue", "government", "supervising_department"}
    assert _group(root, "major_hazard_pool").get("class") == "pool"


def test_neutral_nodes_have_no_state(plain):
    root = _parse(plain)
    for node_id in _flow_nodes():
        assert _group(root, node_id).get("class") == "node"
    diagram = root.xpath("//svg:g[@class='nodes']", namespaces={"svg": SVG_NS})[0]
    assert not diagram.xpath(".//svg:g[contains(@class, 'badge')]", namespaces={"svg": SVG_NS})
    assert "✓" not in _text(diagram) and "●" not in _text(diagram)


def test_states_are_classes_marks_and_badges():
    svg = render_svg(
        MAJOR_HAZARD,
        done=["start", "register_hazard", "gw_preliminary"],
        current=["report_to_government"],
        overdue=["refer_to_fire_rescue", "report_to_government"],
    )
    root = _parse(svg)
    done = _group(root, "register_hazard")
    assert done.get("class") == "node done"
    assert "✓" in _text(done)
    assert "✓" in _text(_group(root, "gw_preliminary"))
    current = _group(root, "report_to_government")
    assert current.get("class") == "node current overdue"
    assert "●" in _text(current) and "逾期" in _text(current)
    overdue = _group(root, "refer_to_fire_rescue")
    assert overdue.get("class") == "node overdue"
    badge = overdue.xpath(".//svg:g[contains(@class, 'badge')]", namespaces={"svg": SVG_NS})
    assert len(badge) == 1 and _text(badge[0]) == "逾期"
    assert "✓" not in _text(overdue) and "●" not in _text(overdue)
    assert _group(root, "file_case").get("class") == "node"
    # the state is also given in words, for assistive technology
    assert current.find(f"{{{SVG_NS}}}desc").text == "当前待办、已逾期"


def test_state_colours_differ_from_neutral():
    root = _parse(render_svg(MAJOR_HAZARD, done=["file_case"], current=["expert_review"]))

    def fill(node_id: str) -> str:
        return _group(root, node_id).find(f"{{{SVG_NS}}}rect").get("fill")

    assert len({fill("file_case"), fill("expert_review"), fill("collective_deliberation")}) == 3
    overdue = _group(_parse(render_svg(MAJOR_HAZARD, overdue=["file_case"])), "file_case")
    assert overdue.find(f"{{{SVG_NS}}}rect").get("stroke") == "#c5221f"


def test_legend_explains_the_states_in_words(plain):
    root = _parse(plain)
    legend = root.xpath("//svg:g[@class='legend']", namespaces={"svg": SVG_NS})
    assert len(legend) == 1
    words = _text(legend[0])
    for phrase in ("已完成", "当前待办", "已逾期", "未到达", "✓", "●", "逾期"):
        assert phrase in words


def test_names_are_escaped():
    hostile = MAJOR_HAZARD.replace(
        'name="发现登记"', 'name="&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;发现登记"'
    )
    assert hostile != MAJOR_HAZARD
    svg = render_svg(hostile, title='<script>&"标题')
    assert "<script" not in svg
    root = _parse(svg)
    assert '<script>alert(1)</script>&"发现登记' in _text(_group(root, "register_hazard"))
    assert '<script>&"标题' in _text(root)


def test_no_scripts_handlers_styles_or_external_references(plain):
    root = _parse(plain)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        assert etree.QName(el).localname not in ("script", "style", "foreignObject", "image")
        for attr, value in el.attrib.items():
            name = etree.QName(attr).localname.lower()
            assert not name.startswith("on"), attr
            assert name not in ("href", "style", "src"), attr
            assert "javascript:" not in value.lower()
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#"), value
    assert not re.search(r"\son\w+\s*=", plain)
    assert "<script" not in plain.lower()


def test_output_is_deterministic():
    states = {"done": ["start", "register_hazard"], "current": {"file_case", "expert_review"}}
    first = render_svg(MAJOR_HAZARD, **states, overdue=iter(["file_case"]), title="案件")
    second = render_svg(MAJOR_HAZARD, **states, overdue=iter(["file_case"]), title="案件")
    assert first == second
    assert render_svg(MAJOR_HAZARD) == render_svg(MAJOR_HAZARD.encode("utf-8"))


def test_title_is_drawn_above_the_diagram(plain):
    svg = render_svg(MAJOR_HAZARD, title="重大火灾隐患 第1号")
    assert "重大火灾隐患 第1号" in _text(_parse(svg))
    top = float(_parse(svg).get("viewBox").split()[1])
    assert top < float(_parse(plain).get("viewBox").split()[1])


def test_geometry_is_reusable():
    geometry = diagram_geometry(MAJOR_HAZARD)
    task = geometry.shape("register_hazard")
    assert task is not None
    assert (task.kind, task.name, task.bounds) == (
        "userTask",
        "发现登记",
        Bounds(280.0, 140.0, 100.0, 80.0),
    )
    lanes = [s for s in geometry.shapes if s.is_lane]
    assert len(lanes) == 4 and all(s.is_horizontal for s in lanes)
    assert [s.id for s in geometry.shapes if s.is_pool] == ["major_hazard_pool"]
    sub = geometry.shape("rectification")
    assert sub is not None and sub.is_expanded and sub.is_container
    inner = geometry.shape("report_rectification_progress")
    assert inner is not None and inner.parent == "rectification"
    timer = geometry.shape("referral_deadline")
    assert timer is not None
    assert (timer.event, timer.attached_to, timer.interrupting) == (
        "timer",
        "refer_to_fire_rescue",
        False,
    )
    assert timer.label == Bounds(642.0, 222.0, 88.0, 27.0)
    overdue = geometry.shape("referral_overdue")
    assert overdue is not None and overdue.event == "escalation"
    edge = next(e for e in geometry.edges if e.id == "flow_gw_preliminary_no")
    assert edge.waypoints == ((605.0, 205.0), (605.0, 1550.0), (1450.0, 1550.0))
    assert (edge.name, edge.is_default, edge.source, edge.target) == (
        "否",
        True,
        "gw_preliminary",
        "order_correction",
    )
    assert edge.label == Bounds(612.0, 215.0, 14.0, 14.0)
    assert {e.id for e in geometry.edges} == set(_sequence_flows())
    b = geometry.bounds
    assert diagram_bounds(MAJOR_HAZARD) == (b.x, b.y, b.width, b.height)


def test_event_and_gateway_symbols(plain):
    root = _parse(plain)
    end = _group(root, "end_closed").find(f"{{{SVG_NS}}}circle")
    assert float(end.get("stroke-width")) >= 4  # end events are thick
    timer_circles = _group(root, "referral_deadline").findall(f".//{{{SVG_NS}}}circle")
    assert len(timer_circles) >= 3  # double circle and clock face
    assert _group(root, "gw_preliminary").find(f"{{{SVG_NS}}}polygon") is not None


def test_wrap_text_fits_cjk_and_keeps_words():
    lines = wrap_text("送达重大火灾隐患整改通知书", 88, 12)
    assert len(lines) == 2 and "".join(lines) == "送达重大火灾隐患整改通知书"
    assert all(text_width(line, 12) <= 88 for line in lines)
    assert wrap_text("初步判定（GB 35181）", 88, 12) == ["初步判定", "（GB 35181）"]
    assert wrap_text("书面报告人民政府 7个工作日", 92, 11) == ["书面报告人民政府", "7个工作日"]
    for line in wrap_text("逾期督办措施（约谈/曝光/督办）", 60, 12)[1:]:
        assert line[0] not in "）/，"
    assert wrap_text("", 80, 12) == []
    assert wrap_text("短", 5, 12) == ["短"]  # one character always goes somewhere


SEVERAL_PROCESSES = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool_a" name="甲" processRef="proc_a" />
    <bpmn:participant id="pool_b" name="乙" processRef="proc_b" />
    <bpmn:messageFlow id="msg" name="通知" sourceRef="task_a" targetRef="start_b" />
  </bpmn:collaboration>
  <bpmn:process id="proc_a">
    <bpmn:startEvent id="start_a" />
    <bpmn:task id="task_a" name="发函" />
    <bpmn:sequenceFlow id="f_a" sourceRef="start_a" targetRef="task_a" />
  </bpmn:process>
  <bpmn:process id="proc_b">
    <bpmn:startEvent id="start_b" name="收函"><bpmn:messageEventDefinition /></bpmn:startEvent>
    <bpmn:parallelGateway id="gw_b" />
    <bpmn:sequenceFlow id="f_b" sourceRef="start_b" targetRef="gw_b" />
  </bpmn:process>
  <bpmn:process id="proc_c"><bpmn:task id="task_c" name="另一张图" /></bpmn:process>
  <bpmndi:BPMNDiagram id="d1">
    <bpmndi:BPMNPlane id="p1" bpmnElement="collab">
      <bpmndi:BPMNShape id="pool_a_di" bpmnElement="pool_a" isHorizontal="true">
        <dc:Bounds x="0" y="0" width="400" height="120" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="pool_b_di" bpmnElement="pool_b" isHorizontal="true">
        <dc:Bounds x="0" y="160" width="400" height="120" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_a_di" bpmnElement="start_a">
        <dc:Bounds x="60" y="42" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="task_a_di" bpmnElement="task_a">
        <dc:Bounds x="150" y="20" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_b_di" bpmnElement="start_b">
        <dc:Bounds x="182" y="202" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="gw_b_di" bpmnElement="gw_b">
        <dc:Bounds x="280" y="195" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="broken_di" bpmnElement="task_a">
        <dc:Bounds x="oops" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_a_di" bpmnElement="f_a">
        <di:waypoint x="96" y="60" /><di:waypoint x="150" y="60" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f_b_di" bpmnElement="f_b">
        <di:waypoint x="218" y="220" /><di:waypoint x="280" y="220" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="msg_di" bpmnElement="msg">
        <di:waypoint x="200" y="100" /><di:waypoint x="200" y="202" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="short_di" bpmnElement="f_b"><di:waypoint x="1" y="1" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
  <bpmndi:BPMNDiagram id="d2">
    <bpmndi:BPMNPlane id="p2" bpmnElement="proc_c">
      <bpmndi:BPMNShape id="task_c_di" bpmnElement="task_c">
        <dc:Bounds x="0" y="0" width="100" height="80" /></bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_several_processes_and_planes_are_all_drawn_without_overlap():
    svg = render_svg(SEVERAL_PROCESSES, current=["task_a"])
    root = _parse(svg)
    for element_id in ("pool_a", "pool_b", "start_a", "task_a", "start_b", "gw_b", "task_c"):
        _group(root, element_id)
    assert "另一张图" in svg and "收函" in svg
    message = _group(root, "msg").find(f"{{{SVG_NS}}}path")
    assert message.get("stroke-dasharray")
    geometry = diagram_geometry(SEVERAL_PROCESSES)
    other = geometry.shape("task_c")
    assert other is not None and other.plane == 1
    assert other.bounds.y > 280  # stacked below the first plane
    assert geometry.bounds.bottom == other.bounds.bottom


def test_a_file_without_di_gives_an_empty_drawing():
    xml = (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        '<bpmn:process id="p"><bpmn:task id="t" name="任务" /></bpmn:process>'
        "</bpmn:definitions>"
    )
    assert diagram_bounds(xml) == (0.0, 0.0, 0.0, 0.0)
    root = _parse(render_svg(xml))
    assert "图形信息" in _text(root)
    assert root.xpath("//svg:g[@class='legend']", namespaces={"svg": SVG_NS})


def test_malformed_xml_raises_a_syntax_error():
    with pytest.raises(etree.XMLSyntaxError):
        render_svg("<bpmn:definitions")


# --------------------------------------------------------------------------- one font for all

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
ALL_PROCESSES = sorted(BPMN_DIR.glob("*.bpmn"))


def _cmap() -> set[int]:
    """The characters WenQuanYi Micro Hei (the dossier's font) draws."""
    if not WQY.is_file():
        pytest.skip(f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
    from reportlab.pdfbase.ttfonts import TTFont

    return set(TTFont("WQYcheck", str(WQY), subfontIndex=0).face.charToGlyph)


def _written(svg: str, xpath: str = "//svg:text") -> str:
    root = _parse(svg)
    return "".join(_text(t) for t in root.xpath(xpath, namespaces={"svg": SVG_NS}))


def test_every_lane_name_drawn_is_in_the_fonts_cmap():
    """Upright lane names keep 、，。 (WenQuanYi Micro Hei has no U+FE10–U+FE19) and use only
    vertical forms the font has, so the PDF, which draws this SVG in that font, shows no box."""
    cmap = _cmap()
    lanes = "//svg:g[@class='lane' or @class='pool']//svg:text"
    seen = ""
    for path in ALL_PROCESSES:
        svg = render_svg(path.read_text(encoding="utf-8"))
        written = _written(svg, lanes)
        missing = sorted({ch for ch in written if not ch.isspace() and ord(ch) not in cmap})
        assert not missing, f"{path.name}: {missing}"
        seen += written
    assert "、" in seen and "\ufe11" not in seen  # 发现单位（街道/乡镇、行业部门）
    assert "︵" in seen  # the brackets still turn upright


def test_every_character_of_every_drawing_is_in_the_fonts_cmap():
    cmap = _cmap()
    texts = [render_legend_svg()]
    for path in ALL_PROCESSES:
        bpmn = path.read_text(encoding="utf-8")
        ids = [s.id for s in diagram_geometry(bpmn).shapes]
        texts.append(render_svg(bpmn, done=ids[::3], current=ids[1::3], overdue=ids[2::3]))
    for svg in texts:
        missing = sorted({ch for ch in _written(svg) if not ch.isspace() and ord(ch) not in cmap})
        assert not missing


def test_enumeration_comma_of_an_upright_name_sits_at_the_upper_right():
    lane = _parse(render_svg(MAJOR_HAZARD)).xpath(
        "//svg:g[@class='lane'][svg:title='发现单位（街道/乡镇、行业部门）']//svg:tspan",
        namespaces={"svg": SVG_NS},
    )
    chars = [(t.text, float(t.get("x")), float(t.get("y"))) for t in lane]
    i = [c for c, _, _ in chars].index("、")
    (_, x_before, y_before), (_, x, y), (_, x_after, y_after) = chars[i - 1 : i + 2]
    assert x > x_before == x_after  # moved right of the column
    assert y - y_before < y_after - y  # and up, towards the character before it


def test_the_legend_can_be_left_out_and_drawn_alone(plain):
    bare = render_svg(MAJOR_HAZARD, legend=False)
    assert not _parse(bare).xpath("//svg:g[@class='legend']", namespaces={"svg": SVG_NS})
    b = diagram_geometry(MAJOR_HAZARD).bounds
    box = [float(v) for v in _parse(bare).get("viewBox").split()]
    assert box == pytest.approx([b.x - 24, b.y - 24, b.width + 48, b.height + 48])
    legend = _parse(render_legend_svg())
    words = _text(legend)
    assert "图例" in words and "已完成" in words and "当前待办" in words and "已逾期" in words
    in_page = _parse(plain).xpath("//svg:g[@class='legend']", namespaces={"svg": SVG_NS})[0]
    assert _text(in_page) == _text(
        legend.xpath("//svg:g[@class='legend']", namespaces={"svg": SVG_NS})[0]
    )
