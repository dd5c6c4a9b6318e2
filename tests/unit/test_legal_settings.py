"""Legal settings: the catalogue file is checked, values are typed and bounded, a new case keeps a
snapshot of the values in its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows import legal_settings
from workflows.legal_settings import SettingError, parse_catalogue

ENTRY = {
    "key": "sample_days",
    "label": "示例期限",
    "type": "integer",
    "default": 3,
    "unit": "个工作日",
    "min": 1,
    "max": 30,
    "basis": "测试用",
}


def catalogue_file(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "legal_settings.json"
    path.write_text(json.dumps({"settings": list(entries)}, ensure_ascii=False), "utf-8")
    return path


def test_the_shipped_catalogue_is_valid_and_every_setting_has_a_basis():
    settings = legal_settings.catalogue()
    assert settings, "bpmn/legal_settings.json lists no setting"
    for setting in settings:
        assert setting.basis.strip() and setting.label.strip()
        assert setting.check(setting.default) == setting.default


def test_effective_values_take_overrides_that_fit_and_ignore_the_rest(tmp_path):
    flag = {**ENTRY, "key": "flag", "type": "boolean", "default": False, "min": None, "max": None}
    path = catalogue_file(tmp_path, ENTRY, flag)
    assert legal_settings.defaults(path) == {"sample_days": 3, "flag": False}
    assert legal_settings.effective({"sample_days": 5.0, "flag": True}, path) == {
        "sample_days": 5,
        "flag": True,
    }
    # out of range, wrong type, or no longer listed: the documented default applies
    assert legal_settings.effective({"sample_days": 31, "gone": 1}, path)["sample_days"] == 3
    assert legal_settings.effective({"flag": "yes"}, path)["flag"] is False


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "不能小于1"),
        (2.5, "应为整数"),
        (True, "应为数字"),
        ("3", "应为数字"),
        (float("nan"), "应为数字"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_with_the_reason(tmp_path, value, message):
    setting = legal_settings.setting("sample_days", catalogue_file(tmp_path, ENTRY))
    with pytest.raises(SettingError, match=message):
        setting.check(value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"basis": " "}, "needs its basis"),
        ({"type": "date"}, "type must be"),
        ({"key": "Bad-Key"}, "lower-case"),
        ({"default": 99}, "default does not fit"),
    ],
)
def test_a_bad_catalogue_entry_is_named(change, problem):
    with pytest.raises(ValueError, match=problem):
        parse_catalogue({"settings": [{**ENTRY, **change}]})


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate key"):
        parse_catalogue({"settings": [ENTRY, ENTRY]})


def test_a_new_case_keeps_the_settings_it_started_with(engine):
    instance = engine.start("major_hazard", {"discoverer_agency": "x", "district": "wuling"})
    assert instance.workflow.task_tree.data["settings"] == legal_settings.defaults()
    custom = {**legal_settings.defaults(), "fire_property_only_city_min_loss": 1}
    other = engine.start("major_hazard", {"discoverer_agency": "x", "district": "wuling"}, custom)
    assert other.workflow.task_tree.data["settings"]["fire_property_only_city_min_loss"] == 1
