"""The campaign-area catalogue (bpmn/campaign_areas.json) and its check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows import campaign_areas
from workflows.forms import resolve_form


def _raw() -> dict:
    return json.loads(campaign_areas.CATALOGUE_FILE.read_text(encoding="utf-8"))


def test_installed_catalogue_has_the_plans_areas_and_one_fallback() -> None:
    names = campaign_areas.names()
    for name in (
        "消防车通道",
        "高层建筑",
        "大型商业综合体",
        "石油化工企业",
        "农村“五改”",
        "人员密集场所",
        "其他",
    ):
        assert name in names.values()
    assert campaign_areas.check(_raw()) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["areas"][1].update(code=r["areas"][0]["code"]), "used twice"),
        (lambda r: r["areas"][0].update(code="Bad Code"), "lower-case"),
        (lambda r: r["areas"][0].update(name=""), "name must be"),
        (lambda r: r["areas"][0].pop("basis"), "basis"),
        (lambda r: r["areas"][-1].pop("default_for"), "fallback"),
        (lambda r: r["areas"][0].update(colour="red"), "unknown keys"),
        (lambda r: r["areas"][0].update(retired="yes"), "retired"),
    ],
)
def test_check_names_each_problem(change, problem) -> None:
    raw = _raw()
    change(raw)
    assert any(problem in line for line in campaign_areas.check(raw))


def test_load_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "campaign_areas.json"
    bad.write_text('{"areas": []}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"campaign_areas\.json"):
        campaign_areas.load(bad)


def test_retired_areas_are_shown_but_not_offered(tmp_path: Path) -> None:
    raw = _raw()
    raw["areas"][1]["retired"] = True
    path = tmp_path / "campaign_areas.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    loaded = campaign_areas.load(path)
    assert loaded[1].retired and len(loaded) == len(raw["areas"])


def test_registration_offers_the_areas() -> None:
    field = resolve_form("register_hazard")["properties"]["campaign_area"]
    assert [c["const"] for c in field["oneOf"]] == [c for c, _ in campaign_areas.options()]
