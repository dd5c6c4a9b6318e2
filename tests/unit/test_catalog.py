"""Loading bpmn/: validation errors name file, element and problem; versions are content hashes."""

import shutil
from pathlib import Path

import pytest

from workflows.catalog import (
    BPMN_DIR,
    MemorySpecStore,
    ProcessCatalog,
    ProcessLoadError,
    parse_files,
    read_sources,
)

TINY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  id="defs" targetNamespace="http://duban.test">
  <bpmn:process id="tiny" name="小流程" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="work" name="办理">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="TARGET"/>
  </bpmn:process>
</bpmn:definitions>
"""


def tiny(target="end"):
    return TINY.replace("TARGET", target)


def test_the_shipped_processes_load():
    processes = parse_files(read_sources())
    assert "major_hazard" in processes
    major = processes["major_hazard"]
    assert len(major.version) == 16
    # GB 35181 editions are data chosen by the date found (workflows.gb35181), not part of the
    # process version; the fire process's decisions are.
    assert set(major.files) == {"major_hazard.bpmn"}
    assert "fire_level.dmn" in processes["fire_accountability"].files
    assert major.lanes["register_hazard"] == "discoverer"
    assert major.lanes["file_case"] == "fire_rescue"
    assert major.labels["register_hazard"]


def test_a_valid_tiny_process_loads_and_its_version_is_a_content_hash():
    first = parse_files({"tiny.bpmn": tiny()})["tiny"]
    again = parse_files({"tiny.bpmn": tiny()})["tiny"]
    changed = parse_files({"tiny.bpmn": tiny().replace("办理", "审核")})["tiny"]
    assert first.version == again.version
    assert first.version != changed.version
    assert first.name == "小流程"


def test_xml_syntax_error_names_the_file():
    with pytest.raises(ProcessLoadError) as info:
        parse_files({"broken.bpmn": tiny()[:-40]})
    assert info.value.file == "broken.bpmn"
    assert "XML syntax error" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_flow_to_a_missing_element_names_the_element():
    with pytest.raises(ProcessLoadError) as info:
        parse_files({"dangling.bpmn": tiny(target="nowhere")})
    assert info.value.file == "dangling.bpmn"
    assert "nowhere" in str(info.value) or info.value.element in {"f2", "work", "nowhere"}


def test_schema_violation_is_reported_with_the_file():
    bad = (
        tiny()
        .replace("<bpmn:userTask", "<bpmn:notATask")
        .replace("</bpmn:userTask>", "</bpmn:notATask>")
    )
    with pytest.raises(ProcessLoadError) as info:
        parse_files({"invalid.bpmn": bad})
    assert info.value.file == "invalid.bpmn"
    assert info.value.problem


def test_duplicate_process_id_is_an_error():
    with pytest.raises(ProcessLoadError) as info:
        parse_files({"a.bpmn": tiny(), "b.bpmn": tiny()})
    assert "Duplicate process ID" in info.value.problem


def test_missing_decision_is_reported():
    source = (BPMN_DIR / "fire_accountability.bpmn").read_text(encoding="utf-8")
    with pytest.raises(ProcessLoadError) as info:
        parse_files({"fire_accountability.bpmn": source})
    assert info.value.file == "fire_accountability.bpmn"
    assert "fire_level" in str(info.value)


def test_catalog_fails_fast_on_a_broken_directory(tmp_path: Path):
    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    (tmp_path / "bpmn" / "zz_broken.bpmn").write_text(tiny(target="nowhere"), encoding="utf-8")
    with pytest.raises(ProcessLoadError, match=r"zz_broken\.bpmn"):
        ProcessCatalog(directory=tmp_path / "bpmn")


def test_versions_are_kept_in_the_store_and_reloaded(tmp_path: Path):
    store = MemorySpecStore()
    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    old = ProcessCatalog(store, directory=tmp_path / "bpmn").latest("major_hazard")
    path = tmp_path / "bpmn" / "major_hazard.bpmn"
    path.write_text(path.read_text(encoding="utf-8").replace("发现登记", "隐患发现登记"), "utf-8")
    catalog = ProcessCatalog(store, directory=tmp_path / "bpmn")
    new = catalog.latest("major_hazard")
    assert new.version != old.version
    reloaded = catalog.get("major_hazard", old.version)
    assert reloaded.version == old.version
    assert reloaded.labels["register_hazard"] == old.labels["register_hazard"]
    with pytest.raises(KeyError):
        catalog.get("major_hazard", "0000000000000000")
