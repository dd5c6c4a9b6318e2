"""Forms drawn from forms/*.json: every form renders, and what a browser submits from the drawn
form parses back to the data it was drawn with."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, render_template_string
from werkzeug.datastructures import MultiDict

from server.form_render import build_form, describe, field_paths, parse_form
from tests.support import fire_accountability, reports
from tests.support.major_hazard import sample
from workflows.forms import all_task_ids, resolve_form, validate_form

OPTIONS = {
    "agencies": [
        ("street:wuling:nanping", "武陵区南坪街道"),
        ("fire_brigade:wuling", "武陵区消防救援大队"),
        ("government:wuling", "武陵区人民政府"),
    ]
}
ON = date(2026, 10, 9)
TEMPLATE = '{% from "_form.html" import form_fields %}{{ form_fields(form) }}'


class Submitted(HTMLParser):
    """What a browser submits from a form: the successful controls, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data: MultiDict[str, str] = MultiDict()
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._option: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.add(name, a.get("value") or "on")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.data.add(name, a.get("value") or "")
        elif tag == "select":
            self._select, self._select_value, self._select_first = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._select_first
            self.data.add(self._select, value or "")
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            # HTML drops one newline right after <textarea>
            self.data.add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def render(app: Flask, schema: dict[str, Any], values=None, errors=None) -> str:
    with app.test_request_context():
        return render_template_string(TEMPLATE, form=build_form(schema, values, errors))


def submitted(html: str) -> MultiDict[str, str]:
    parser = Submitted()
    parser.feed(html)
    parser.close()
    return parser.data


@pytest.mark.parametrize("task", all_task_ids())
def test_every_form_renders_and_round_trips(app: Flask, task: str):
    schema = resolve_form(task, OPTIONS)
    blank = render(app, schema)
    assert schema["title"] not in ("",)
    for name in schema["x-order"]:
        assert f"{schema['properties'][name]['title']}" in blank
    assert "<script" not in blank and not re.search(r"\son[a-z]+\s*=|\sstyle\s*=", blank)

    try:
        data = sample(task, ON)
    except KeyError:
        try:
            data = fire_accountability.sample(task, ON)
        except KeyError:
            data = reports.sample(task, ON)
    assert validate_form(task, data, today=ON, options=OPTIONS) == {}
    html = render(app, schema, data)
    assert parse_form(schema, submitted(html)) == data


def test_blank_form_submits_nothing_but_required_lists(app: Flask):
    schema = resolve_form("register_hazard", OPTIONS)
    parsed = parse_form(schema, submitted(render(app, schema)))
    assert parsed == {"site_categories": [], "elements": [], "exclusions": []}


def test_parse_form_types_and_blank_rows():
    schema = resolve_form("expert_review", OPTIONS)
    form = MultiDict(
        [
            ("reviewed_on", "2026-10-09"),
            ("agreeing", " 6 "),
            ("experts.0.name", "张伟"),
            ("experts.0.title", ""),
            ("experts.0.unit", "湖南省消防协会"),
            ("experts.1.name", ""),
            ("experts.1.unit", "   "),
            ("experts.7.name", "王芳"),
            ("opinion", "第一行\r\n第二行\r\n"),
            ("stakeholders_heard", ""),
            ("conclusion", "major"),
            ("unknown", "ignored"),
        ]
    )
    assert parse_form(schema, form) == {
        "reviewed_on": "2026-10-09",
        "experts": [{"name": "张伟", "unit": "湖南省消防协会"}, {"name": "王芳"}],
        "agreeing": 6,
        "conclusion": "major",
        "opinion": "第一行\n第二行",
    }
    # values that do not convert are passed on for the validator to name
    bad = parse_form(schema, MultiDict([("agreeing", "六")]))
    assert bad["agreeing"] == "六"
    agreeing_error = validate_form("expert_review", bad, today=ON)["agreeing"]
    assert agreeing_error == "“认为构成重大火灾隐患的专家人数”应为整数"
    plan = resolve_form("set_rectification_plan", OPTIONS)
    parsed = parse_form(plan, MultiDict([("funding_amount", "12.5"), ("listed", "false")]))
    assert parsed == {"funding_amount": 12.5, "listed": False}
    assert parse_form(plan, MultiDict([("funding_amount", "inf")]))["funding_amount"] == "inf"


def test_errors_are_placed_next_to_their_fields(app: Flask):
    schema = resolve_form("collective_deliberation", OPTIONS)
    data = sample("collective_deliberation", ON)
    errors = {
        "participants.2.name": "“参加人员”第3项的“姓名”为必填项",
        "participants.1": "第2项有误",
        "deliberated_on": "“讨论日期”不是有效日期",
        "nonsense.field": "不允许填写字段“nonsense”",
        "_form": "表单数据必须是由字段和值组成的对象",
    }
    view = build_form(schema, data, errors)
    by_path = {f.path: f for f in view.fields}
    assert by_path["deliberated_on"].error == "“讨论日期”不是有效日期"
    rows = by_path["participants"]
    assert rows.rows[2][0].error == "“参加人员”第3项的“姓名”为必填项"
    assert rows.row_errors == {1: "第2项有误"}
    assert view.errors == ["不允许填写字段“nonsense”", "表单数据必须是由字段和值组成的对象"]
    assert view.error_count == 5
    html = render(app, schema, data, errors)
    assert 'id="f-participants-2-name-error"' in html
    assert 'aria-describedby="f-participants-2-name-error"' in html
    assert "表单有5处需要修改" in html


def test_rows_offer_blank_rows_and_respect_max_items():
    schema = resolve_form("expert_review", OPTIONS)
    view = build_form(schema)
    experts = next(f for f in view.fields if f.path == "experts")
    assert len(experts.rows) == 5  # 3 blank rows at least (the minimum is per case) + 2 spare
    assert [c.path for c in experts.columns] == [
        "experts.N.name",
        "experts.N.title",
        "experts.N.unit",
    ]
    more = build_form(schema, extra_rows={"experts": 100})
    assert len(next(f for f in more.fields if f.path == "experts").rows) == 50  # maxItems
    assert "experts.49.unit" in set(field_paths(more))


def test_gb35181_elements_are_grouped_and_scrollable(app: Flask):
    schema = resolve_form("register_hazard", OPTIONS)
    view = build_form(schema, {"elements": ["6.5", "7.3.1"]})
    elements = next(f for f in view.fields if f.path == "elements")
    assert elements.long_list
    headings = [g.label for g in elements.groups]
    assert headings[0].startswith("第6章")
    assert any(h.startswith("7.3") for h in headings)
    chosen = [c.value for g in elements.groups for c in g.choices if c.selected]
    assert chosen == ["6.5", "7.3.1"]
    assert 'class="choices-scroll"' in render(app, schema)


def test_invalid_date_is_shown_as_typed(app: Flask):
    schema = resolve_form("file_case", OPTIONS)
    html = render(app, schema, {"filed_on": "2026-02-30", "inspected_on": "2026-10-09"})
    assert re.search(r'name="filed_on" type="text" value="2026-02-30"', html)
    assert re.search(r'name="inspected_on" type="date" value="2026-10-09"', html)


def test_describe_uses_labels_and_titles():
    schema = resolve_form("file_case", OPTIONS)
    shown = {s.label: s.values for s in describe(schema, sample("file_case", ON))}
    assert shown["是否需要专家论证"] == ["否"]
    assert shown["立案日期"] == ["2026年10月9日（星期五）"]
    assert shown["核查人员"] == ["李强，HN0736001", "刘洋，HN0736002"]
    register = resolve_form("register_hazard", OPTIONS)
    shown = {s.label: s.values for s in describe(register, sample("register_hazard", ON))}
    assert shown["场所类别"] == ["人员密集场所"]
    assert shown["判定要素"][0].startswith("6.5 ")
    assert shown["不判定情形"] == ["（无）"]
    assert shown["所在县市区"] == ["武陵区"]
    # keys an older form version had are still shown
    assert describe(schema, {"old_key": "x"})[0].label == "old_key"
