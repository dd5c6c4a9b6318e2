"""``flask --app server grade-fire``: the fire decisions with the legal settings in force."""

from __future__ import annotations

import json

from flask import Flask

from tests.support.api import Api

ARGS = ["grade-fire", "--site", "residence", "--on", "2026-09-01"]


def _run(app: Flask, *argv: str) -> dict:
    result = app.test_cli_runner().invoke(args=[*ARGS, *argv])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_grade_fire_prints_the_decisions(app: Flask) -> None:
    out = _run(app, "--deaths", "5", "--serious-injuries", "15")
    assert (out["fire_level"], out["investigating_level"], out["procedure"]) == (
        "larger",
        "province",
        "general",
    )
    assert out["warning_scope"] == "province"
    assert out["dates"]["determination_due"] == "2026-10-08T23:59:59+08:00"


def test_grade_fire_applies_the_administrators_settings(app: Flask, api: Api) -> None:
    assert _run(app, "--direct-loss", "80000")["procedure"] == "general"  # default limit 5万
    assert _run(app, "--direct-loss", "3000000")["investigating_level"] == "county"
    for key, value in (
        ("fire_simplified_direct_loss_below", 100000),
        ("fire_property_only_city_min_loss", 2000000),
    ):
        saved = api.call("admin", "PUT", f"/settings/{key}", json={"value": value})
        assert saved.status_code == 200, saved.json
    out = _run(app, "--direct-loss", "80000")
    assert out["procedure"] == "simplified"
    assert _run(app, "--direct-loss", "3000000")["investigating_level"] == "city"
    assert "2000000元" in _run(app, "--direct-loss", "3000000")["basis"]["investigating_level"]


def test_grade_fire_rejects_a_bad_site(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["grade-fire", "--site", "castle"])
    assert result.exit_code == 2
