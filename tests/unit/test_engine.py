"""The engine facade: lossless state round-trips, versions, provisional deadlines, bad state."""

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import zstandard

from tests.support.driver import CASE, CaseDriver, at
from tests.support.major_hazard import LONGEST_PATH, sample
from workflows.calendar import WorkingCalendar, parse_year_entry
from workflows.catalog import BPMN_DIR, MemorySpecStore, ProcessCatalog
from workflows.engine import Engine, TaskNotReady
from workflows.state import StateError

FOUND = date(2026, 9, 24)


def pack(raw: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(raw)


def canonical(state: bytes) -> dict:
    """The stored state as a nested tree without task ids (new tasks get fresh uuids)."""
    document = json.loads(zstandard.ZstdDecompressor().decompress(state))

    def tree(record: dict) -> dict:
        rows = iter(record["tasks"])

        def node(parent_data: dict) -> dict:
            _id, n_children, spec, state_, triggered, _changed, delta, internal = next(rows)
            data = dict(parent_data) if delta != 1 else {}
            if delta not in (0, 1):
                data.update(delta[0])
                for key in delta[1]:
                    del data[key]
            children = [node(data) for _ in range(n_children)]
            return {"spec": spec, "state": state_, "triggered": triggered, "data": data,
                    "internal": internal, "children": children}  # fmt: skip

        return {"root": node({}), "data": record["data"], "completed": record["completed"]}

    return {
        "workflow": tree(document["workflow"]),
        "subprocesses": [tree(record) for record in document["subprocesses"]],
        "events": document["events"],
    }


def test_round_trip_is_lossless_at_every_wait_state(engine, clock):
    instance = engine.start("major_hazard", CASE)
    for task_name, day, overrides in LONGEST_PATH:
        state = instance.dumps()
        loaded = engine.load("major_hazard", instance.version, state)
        # The same tasks, timers and data, and the same bytes when stored again.
        assert loaded.ready_tasks() == instance.ready_tasks()
        assert loaded.waiting_timers() == instance.waiting_timers()
        assert loaded.data == instance.data
        assert loaded.dumps() == state
        # Continuing from the loaded copy equals continuing from the original.
        clock.move_to(at(day))
        data = sample(task_name, day, **overrides)
        ready = {t.name: t.id for t in instance.ready_tasks()}
        original = instance.complete(ready[task_name], data)
        resumed = loaded.complete(ready[task_name], data)
        assert resumed.completed == original.completed
        assert resumed.escalations == original.escalations
        assert canonical(loaded.dumps()) == canonical(instance.dumps())
        instance = loaded
    assert instance.completed


def test_state_is_small_at_the_longest_wait_state(engine, clock):
    instance = engine.start("major_hazard", CASE)
    for task_name, day, overrides in LONGEST_PATH[:-1]:
        clock.move_to(at(day))
        ready = {t.name: t.id for t in instance.ready_tasks()}
        instance.complete(ready[task_name], sample(task_name, day, **overrides))
    assert instance.ready_tasks()[0].name == "close_case"
    assert len(instance.dumps()) <= 10 * 1024


def test_a_case_keeps_its_version_after_the_diagram_changes(clock, tmp_path: Path):
    store = MemorySpecStore()
    shutil.copytree(BPMN_DIR, tmp_path / "bpmn")
    engine_a = Engine(ProcessCatalog(store, directory=tmp_path / "bpmn"))
    case = CaseDriver(engine_a, clock, FOUND)
    case.do("register_hazard", FOUND)
    version_a = case.instance.version
    state = case.instance.dumps()

    # Version B: the referral limit becomes 3 working days and the task is renamed.
    path = tmp_path / "bpmn" / "major_hazard.bpmn"
    text = path.read_text(encoding="utf-8")
    changed = text.replace('register_hazard["found_on"], 5)', 'register_hazard["found_on"], 3)')
    assert changed != text
    path.write_text(changed.replace('name="函告消防救援机构"', 'name="函告消防"'), "utf-8")
    engine_b = Engine(ProcessCatalog(store, directory=tmp_path / "bpmn"))
    assert engine_b.catalog.latest("major_hazard").version != version_a

    old_case = engine_b.load("major_hazard", version_a, state)
    assert old_case.version == version_a
    assert old_case.ready_tasks()[0].label == "函告消防救援机构"
    clock.move_to(at(date(2026, 9, 28)))
    task = old_case.ready_tasks()[0]
    old_case.complete(task.id, sample("refer_to_fire_rescue", date(2026, 9, 28)))
    assert [t.name for t in old_case.ready_tasks()] == ["file_case"]

    clock.move_to(at(FOUND))
    new_case = engine_b.start("major_hazard", CASE)
    new_case.complete(new_case.ready_tasks()[0].id, sample("register_hazard", FOUND))
    assert new_case.ready_tasks()[0].label == "函告消防"
    assert new_case.waiting_timers()[0].due.date() == date(2026, 9, 30)


def test_year_end_deadline_is_provisional_then_recomputed(clock, tmp_path: Path):
    engine = Engine(ProcessCatalog())
    found = date(2026, 12, 28)
    case = CaseDriver(engine, clock, found)
    case.do("register_hazard", found)
    (timer,) = case.instance.waiting_timers()
    # 12-29, 12-30, 12-31, then 2027 has no schedule: Fri 1-1 is 元旦 (computed from the 放假办法
    # §2), so Mon 1-4 and Tue 1-5; provisional because the 调休 are unknown.
    assert timer.provisional
    assert timer.due.isoformat() == "2027-01-05T23:59:59+08:00"
    assert case.instance.next_timer_at() == timer.due

    # The administrator enters 2027 (hypothetical: 1/1–1/3 and 1/4 off).
    entry = parse_year_entry({"holidays": ["2027-01-01", "2027-01-04"], "workdays": []})
    engine.set_calendar(WorkingCalendar().with_year(2027, entry))
    changes = case.instance.recompute_provisional()
    assert len(changes) == 1
    before, after = changes[0]
    assert before == timer
    assert not after.provisional
    assert after.due.isoformat() == "2027-01-06T23:59:59+08:00"
    # The recomputed deadline survives storage and fires on the new date only.
    case.roundtrip()
    case.sweep(date(2027, 1, 6))
    assert case.codes() == []
    case.sweep(date(2027, 1, 7))
    assert case.codes() == ["referral_overdue"]


def test_completing_a_task_that_is_not_ready_is_refused(engine, clock):
    instance = engine.start("major_hazard", CASE)
    with pytest.raises(TaskNotReady):
        instance.complete("not-a-uuid", {})
    with pytest.raises(TaskNotReady):
        instance.complete("00000000-0000-0000-0000-000000000000", {})
    register = instance.ready_tasks()[0]
    instance.complete(register.id, sample("register_hazard", FOUND))
    with pytest.raises(TaskNotReady):
        instance.complete(register.id, sample("register_hazard", FOUND))


@pytest.mark.parametrize(
    "state",
    [b"", b"not zstd", pack(b"not json"), pack(b"[]"), pack(b'{"format": "other"}'),
     pack(b'{"format": "duban-state/3", "workflow": {"tasks": []}}'),
     pack(b'{"format": "duban-state/3", "workflow": {"tasks": '
          b'[["00", 0, "no_such_spec", 64, 0, 0, 0, 0]]}, "subprocesses": [], "events": []}'),
     pack(b'{"format": "duban-state/3", "workflow": {"tasks": '
          b'[["00", 2, "Start", 64, 0, 0, 0, 0]], "data": {}, "correlations": {}, '
          b'"last_task": null, "success": true, "completed": false}, "subprocesses": [], '
          b'"events": []}')],
)  # fmt: skip
def test_unreadable_state_raises_state_error(engine, state):
    version = engine.catalog.latest("major_hazard").version
    with pytest.raises(StateError):
        engine.load("major_hazard", version, state)


def test_unknown_version_is_a_key_error(engine):
    with pytest.raises(KeyError):
        engine.load("major_hazard", "ffffffffffffffff", b"")
