"""The expression whitelist: what BPMN/DMN code may and may not do."""

import pytest
import time_machine

from workflows.calendar import WorkingCalendar
from workflows.script_env import (
    HELPER_NAMES,
    SAFE_BUILTINS,
    DubanScriptEngine,
    Helpers,
    RestrictedEnvironment,
    UnsafeExpression,
    check_source,
)


@pytest.fixture
def env():
    return RestrictedEnvironment(Helpers(WorkingCalendar()))


def test_helpers_are_the_documented_whitelist():
    assert {
        "working_days_after", "calendar_days_after", "months_after", "hours_after", "end_of_day",
        "today", "now", "has_any", "count_elements", "list_elements", "defined", "judge_hazard",
        "days_covered", "days_after_unmoved", "working_day_of_month", "day_of_year", "next_month",
    } == HELPER_NAMES  # fmt: skip


def test_days_covered_counts_both_ends_and_overlaps_once(env):
    periods = [
        {"from": "2026-09-10", "to": "2026-09-19"},
        {"from": "2026-09-15", "to": "2026-09-22"},
        {"from": "2026-10-01", "to": "2026-10-01"},
    ]
    assert env.evaluate("days_covered(periods)", {"periods": periods}) == 14
    assert env.evaluate("days_covered(periods)", {"periods": []}) == 0


def test_deadline_helpers_in_expressions(env):
    data = {"register_hazard": {"found_on": "2026-09-24"}}
    due = env.evaluate('working_days_after(register_hazard["found_on"], 5)', data)
    assert due == "2026-10-09T23:59:59+08:00"
    assert env.evaluate('calendar_days_after("2026-09-20", 11)', {}) == "2026-10-08T23:59:59+08:00"
    assert env.evaluate('hours_after("2026-10-09T10:00:00+08:00", 24)', {}).startswith(
        "2026-10-10T10:00:00"
    )
    assert env.evaluate('end_of_day("2026-03-02")', {}) == "2026-03-02T23:59:59+08:00"


def test_days_after_unmoved_does_not_move_off_rest_days(env):
    # 国务院令第493号 第十三条 “自发生之日起7日内”: a fire on 2026-09-24 — the window ends on
    # 2026-10-01 (National Day) and stays there; calendar_days_after would move it to 10-08.
    assert env.evaluate('days_after_unmoved("2026-09-24", 7)', {}) == "2026-10-01T23:59:59+08:00"
    assert env.evaluate('calendar_days_after("2026-09-24", 7)', {}) == "2026-10-08T23:59:59+08:00"
    assert (
        env.evaluate('days_after_unmoved("2026-09-24T22:15", 0)', {}) == "2026-09-24T23:59:59+08:00"
    )


def test_months_after_counts_to_the_corresponding_day(env):
    # The one-month limit of a temporary sealing (消防监督检查规定 §22; 民法典 §201-§203).
    assert env.evaluate('months_after("2026-09-30", 1)', {}) == "2026-10-30T23:59:59+08:00"
    assert env.evaluate('months_after("2026-09-29T21:30", 1)', {}) == "2026-10-29T23:59:59+08:00"


def test_defined_tells_which_branch_the_data_came_through(env):
    data = {"register_hazard": {"found_on": "2026-09-24"}}
    source = (
        'working_days_after(file_case["inspected_on"] if defined("file_case") '
        'else register_hazard["found_on"], 3)'
    )
    assert env.evaluate(source, data) == "2026-09-30T23:59:59+08:00"
    data["file_case"] = {"inspected_on": "2026-09-29"}
    assert env.evaluate(source, data) == "2026-10-09T23:59:59+08:00"
    assert env.evaluate('defined("_secret") or defined(3)', {"_secret": 1}) is False
    env.execute('seen = defined("file_case")', data)
    assert data["seen"] is True and "defined" not in data


@time_machine.travel("2026-10-09 16:30:00+00:00", tick=False)
def test_today_and_now_are_shanghai_time(env):
    assert env.evaluate("today()", {}) == "2026-10-10"
    assert env.evaluate("now()", {}) == "2026-10-10T00:30:00+08:00"


def test_gateway_style_expressions(env):
    data = {"government_decision": {"decision": "agree"}, "items": [1, 2, 3]}
    assert env.evaluate('government_decision["decision"] == "agree"', data) is True
    assert env.evaluate('government_decision.get("decision")', data) == "agree"
    assert env.evaluate("len(items) >= 3 and max(items) == 3", data) is True
    assert env.evaluate('has_any(["crowded", "other"], "crowded", "flammable")', {}) is True


def test_scripts_assign_into_task_data(env):
    data = {"plan": {"rectify_by": "2026-12-01"}, "n": 0}
    env.execute('rectify_by = plan["rectify_by"]\nn = n + 1', data)
    assert data["rectify_by"] == "2026-12-01"
    assert data["n"] == 1
    assert "working_days_after" not in data and "__builtins__" not in data


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd').read()",
        "(lambda: 1)()",
        "'{0.__class__}'.format(1)",
        "getattr(1, 'real')",
        "eval('1')",
        "exec('x = 1')",
        "globals()",
        "b'bytes'",
        "_private",
    ],
)
def test_dangerous_expressions_are_refused(env, source):
    with pytest.raises((UnsafeExpression, NameError)):
        env.evaluate(source, {})


@pytest.mark.parametrize(
    "script",
    ["import os", "from os import path", "def f():\n    return 1", "class A:\n    pass",
     "while True:\n    pass", "try:\n    x = 1\nexcept Exception:\n    pass", "del x",
     "global x"],
)  # fmt: skip
def test_dangerous_scripts_are_refused(script):
    with pytest.raises(UnsafeExpression):
        check_source(script, "exec")


def test_form_data_is_never_code(env):
    payload = "__import__('os').system('touch /tmp/duban-pwned')"
    data = {"register_hazard": {"description": payload}}
    assert env.evaluate('register_hazard["description"]', data) == payload
    env.execute('copy = register_hazard["description"]', data)
    assert data["copy"] == payload


def test_helper_names_cannot_be_shadowed_by_data(env):
    with pytest.raises(ValueError, match="overwrites"):
        env.execute("x = 1", {"today": "2026-01-01"})


def _unlisted_builtins() -> list[str]:
    import builtins

    return sorted(n for n in dir(builtins) if not n.startswith("_") and n not in SAFE_BUILTINS)


def test_no_builtin_outside_the_whitelist_is_reachable(env):
    unlisted = _unlisted_builtins()
    assert {"open", "eval", "exec", "compile", "getattr", "type", "vars", "print"} <= set(unlisted)
    for name in unlisted:
        with pytest.raises(NameError):
            env.evaluate(name, {})
        with pytest.raises(NameError):
            env.execute(f"x = {name}", {})


def test_task_data_cannot_bring_the_builtins_back(env):
    import builtins

    # A key named __builtins__ in task data (never from a form, but still) changes nothing.
    for data in ({"__builtins__": builtins.__dict__}, {"__builtins__": builtins}):
        with pytest.raises(NameError):
            env.evaluate("open", dict(data))
        with pytest.raises((NameError, ValueError), match=r"open|overwrites"):
            env.execute("x = open", dict(data))


def test_timer_expressions_run_in_the_restricted_environment():
    engine = DubanScriptEngine()
    assert engine.environment is engine.restricted
    assert engine.restricted.evaluate('working_days_after("2026-09-24", 5)', {}).startswith(
        "2026-10-09"
    )
    with pytest.raises(NameError):
        engine.restricted.evaluate('open("/etc/passwd")', {})
    with pytest.raises(UnsafeExpression):
        engine.restricted.evaluate("(1).__class__", {})
