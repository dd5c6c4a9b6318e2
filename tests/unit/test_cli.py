"""`python -m workflows`: check, deadline, judge-hazard."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workflows.__main__ import main
from workflows.catalog import BPMN_DIR
from workflows.forms import check_all_forms


def test_check_lists_processes_and_forms(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "major_hazard (重大火灾隐患督办) version " in out
    assert "fire_accountability (火灾事故调查处理（失火即追责）) version " in out
    assert "monthly_report (月报（附件8）报送) version " in out
    assert "annual_report (年度工作报告报送) version " in out
    forms = check_all_forms()  # by task id (a form file may serve several tasks: x-tasks)
    assert {"request_closure", "submit_monthly_report", "review_annual_report"} <= set(forms)
    assert f"{len(forms)} forms ok" in out


def test_check_reports_a_broken_diagram_without_a_traceback(capsys, tmp_path: Path):
    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    path = tmp_path / "bpmn" / "major_hazard.bpmn"
    path.write_text(path.read_text("utf-8").replace('targetRef="file_case"', 'targetRef="nope"'))
    assert main(["check", "--bpmn", str(tmp_path / "bpmn")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: major_hazard.bpmn")
    assert "Traceback" not in err


def test_deadline_prints_json(capsys):
    assert main(["deadline", "2026-09-24", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["due"] == "2026-10-09T23:59:59+08:00"
    assert main(["deadline", "2026-09-20", "11", "--calendar-days"]) == 0
    assert json.loads(capsys.readouterr().out)["due"] == "2026-10-08T23:59:59+08:00"


def test_deadline_rejects_a_bad_date(capsys):
    with pytest.raises(SystemExit) as info:
        main(["deadline", "2026-02-30", "5"])
    assert info.value.code == 2
    assert "2026-02-30" in capsys.readouterr().err


def test_judge_hazard_prints_the_verdict(capsys):
    argv = ["judge-hazard", "--category", "crowded", "--elements", "6.5,7.3.1"]
    assert main([*argv, "--on", "2025-10-31"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "major": True,
        "basis": "直接判定 6.5",
        "edition": "GB 35181-2017",
        "applicable_edition": "GB 35181-2017",
        "superseded": False,
    }


def test_judge_hazard_after_2025_11_01_uses_2017_as_an_aid_only(capsys):
    argv = ["judge-hazard", "--category", "crowded", "--elements", "7.3.1", "--on", "2026-12-07"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["major"] is False
    assert result["edition"] == "GB 35181-2017"
    assert result["applicable_edition"] == "GB 35181-2025"
    assert result["superseded"] is True
    assert result["basis"].startswith("按已被代替的 GB 35181-2017 要素初判，仅供参考")


def test_judge_hazard_on_defaults_to_today_in_shanghai(capsys, time_machine):
    # 2025-10-31 16:30 UTC is already 2025-11-01 in Shanghai: GB 35181-2025 is in force.
    time_machine.move_to(datetime(2025, 10, 31, 16, 30, tzinfo=UTC))
    assert main(["judge-hazard", "--category", "crowded", "--elements", "6.5"]) == 0
    assert json.loads(capsys.readouterr().out)["applicable_edition"] == "GB 35181-2025"
    time_machine.move_to(datetime(2025, 10, 31, 15, 30, tzinfo=UTC))
    assert main(["judge-hazard", "--category", "crowded", "--elements", "6.5"]) == 0
    assert json.loads(capsys.readouterr().out)["superseded"] is False
    argv = ["judge-hazard", "--category", "crowded", "--elements", "6.5", "--exclusion", "b"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["major"] is False


def _grade(capsys, *argv: str) -> dict:
    assert main(["grade-fire", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_grade_fire_prints_every_decision_with_its_basis(capsys):
    out = _grade(capsys, "--deaths", "5", "--serious-injuries", "15", "--site", "residence",
                 "--on", "2026-09-01")  # fmt: skip
    assert out["fire_level"] == "larger" and out["fire_level_name"] == "较大火灾"
    assert out["investigating_level"] == "province"  # 5 + 15 ≥ 20 (§6 ¶1 (一))
    assert out["procedure"] == "general" and out["warning_scope"] == "province"
    assert "第六条" in out["basis"]["investigating_level"]
    assert "简易程序" in out["basis"]["procedure"]
    assert out["dates"] == {
        "fire_on": "2026-09-01",
        "determination_due": "2026-10-08T23:59:59+08:00",
        "determination_due_provisional": False,
        "casualty_amendment_until": "2026-09-08T23:59:59+08:00",
    }


def test_grade_fire_simplified_only_when_the_four_conditions_hold(capsys):
    base = ["--site", "residence", "--direct-loss", "30000", "--on", "2026-09-01"]
    assert _grade(capsys, *base)["procedure"] == "simplified"
    assert _grade(capsys, *base, "--minor-injuries", "1")["procedure"] == "general"
    assert _grade(capsys, *base, "--disputed")["procedure"] == "general"
    assert _grade(capsys, *base, "--arson-suspected")["procedure"] == "general"
    # The documented default of the loss limit (5万元, not included).
    assert _grade(capsys, "--site", "residence", "--direct-loss", "50000")["procedure"] == "general"
    out = _grade(capsys, *base, "--major-social-impact", "--households", "30")
    assert (out["warning_scope"], out["investigating_level"]) == ("province", "city")


def test_grade_fire_counts_from_today_in_shanghai_by_default(capsys, time_machine):
    # 2026-09-30 17:00 UTC is already 1 October in Shanghai.
    time_machine.move_to("2026-09-30T17:00:00+00:00", tick=False)
    out = _grade(capsys, "--site", "residence")
    assert out["dates"]["fire_on"] == "2026-10-01"
    assert out["dates"]["casualty_amendment_until"] == "2026-10-08T23:59:59+08:00"


@pytest.mark.parametrize(
    "argv",
    [
        ["--site", "castle"],
        ["--deaths", "3"],  # no --site
        ["--site", "residence", "--deaths", "-1"],
        ["--site", "residence", "--direct-loss", "1.5"],
        ["--site", "residence", "--on", "2026-02-30"],
        ["--site", "residence", "--on", "2999-01-01"],  # after today
    ],
)
def test_grade_fire_rejects_bad_options(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(["grade-fire", *argv])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_check_fails_naming_a_dmn_without_its_expression_language(capsys, tmp_path: Path):
    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    path = tmp_path / "bpmn" / "fire_level.dmn"
    path.write_text(path.read_text("utf-8").replace(' expressionLanguage="python"', ""))
    assert main(["check", "--bpmn", str(tmp_path / "bpmn")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: fire_level.dmn")
    assert "expressionLanguage" in err


def test_check_fails_naming_a_dmn_without_dmndi(capsys, tmp_path: Path):
    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    path = tmp_path / "bpmn" / "fire_warning_scope.dmn"
    text = path.read_text("utf-8")
    path.write_text(text[: text.index("  <dmndi:DMNDI>")] + "</definitions>\n")
    assert main(["check", "--bpmn", str(tmp_path / "bpmn")]) == 1
    assert capsys.readouterr().err.startswith("error: fire_warning_scope.dmn: no DMNDI")
