"""`python -m workflows`: check, deadline, judge-hazard."""

import json
import shutil
from pathlib import Path

import pytest

from workflows.__main__ import main
from workflows.catalog import BPMN_DIR


def test_check_lists_processes_and_forms(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "major_hazard (重大火灾隐患督办) version " in out
    assert "fire_accountability (火灾事故调查处理（失火即追责）) version " in out
    assert "44 forms ok" in out


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
    assert main(["judge-hazard", "--category", "crowded", "--elements", "6.5,7.3.1"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "major": True,
        "basis": "直接判定 6.5",
        "edition": "GB 35181-2017",
    }
    argv = ["judge-hazard", "--category", "crowded", "--elements", "6.5", "--exclusion", "b"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["major"] is False
