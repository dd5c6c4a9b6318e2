"""Eight clients completing tasks of one case at the same moment (PostgreSQL).

A fire case of the accountability process waits on parallel tasks: the two investigations of
the detachment, or the four credit punishments of four city departments. Eight API clients,
each with its own test client and thread, submit those tasks together (a barrier releases
them at once) — several clients on each task, as a double click or two colleagues would — and
submit again, round after round, until none is open. Every answer is 200, 409 or 422, never a
500; each task is completed exactly once, all of them in the first round (different tasks queue
on the case's row lock); the duplicates are refused; and the case ends exactly as a fresh case
driven serially through the accepted completions, in their commit order, does. The audit chains
verify.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from flask import Flask

from tests.support import fire_accountability
from tests.support.api import Api, today

BRIGADE = "dingcheng.fire"
DETACHMENT = "detachment.officer"
OFFICE = "city.office.officer"
CLIENTS = 8
ROUNDS = 6
# stage → the parallel tasks worked there, each with its officer.
STAGES = {
    "investigations": {
        "responsibility_investigation": DETACHMENT,
        "cause_investigation": DETACHMENT,
    },
    "credit": {
        "credit_development_reform": "fagai.officer",
        "credit_housing": "zhujian.officer",
        "credit_finance": "caizheng.officer",
        "credit_market_regulation": "shijian.officer",
    },
}
BEFORE_CREDIT = [
    (DETACHMENT, "responsibility_investigation", {}),
    (DETACHMENT, "cause_investigation", {}),
    (DETACHMENT, "serve_determination", {}),
    (DETACHMENT, "review_request", {}),
    (DETACHMENT, "review_acceptance", {"accepted": False, "reason": "已超过复核申请期限。"}),
    (OFFICE, "publish_warning", {}),
    (OFFICE, "report_warning_to_province", {}),
    # a fatal general fire: the county government leads the investigation (国办发〔2017〕87号
    # §28); credit punishment follows the responsibility findings
    ("dingcheng.gov", "leadership_investigation", {}),
]


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip(
            "SQLite runs one writer at a time, so requests never overlap in the database; "
            "the row-level concurrency tested here is PostgreSQL's (set DUBAN_TEST_POSTGRES)"
        )


def open_case_at(api: Api, stage: str) -> int:
    """A fatal fire (investigated at city level) whose parallel tasks of ``stage`` are open."""
    case_id = api.register_fire(BRIGADE, deaths=1, serious_injuries=2)["id"]
    if stage == "credit":
        for user, name, overrides in BEFORE_CREDIT:
            api.complete(user, case_id, name, **overrides)
    open_names = {t["name"] for t in api.get(DETACHMENT, f"/cases/{case_id}").json["tasks"]}
    assert set(STAGES[stage]) <= open_names, open_names
    return case_id


def open_tasks(api: Api, case_id: int) -> list[tuple[str, str]]:
    case = api.get(DETACHMENT, f"/cases/{case_id}").json
    return sorted((t["name"], t["agency"]["code"]) for t in case["tasks"])


def outcome(api: Api, case_id: int) -> dict[str, Any]:
    """What must be equal between the concurrent case and its serial replay."""
    case = api.get(DETACHMENT, f"/cases/{case_id}").json
    events = api.get(DETACHMENT, f"/cases/{case_id}/events", query_string={"per_page": 100})
    return {
        "status": case["status"],
        "stage": case["stage"],
        "tasks": sorted((t["name"], t["agency"]["code"]) for t in case["tasks"]),
        "deadlines": sorted((d["timer"], d["state"]) for d in case["deadlines"]),
        "events": [(e["kind"], e["task"]) for e in events.json["items"]],
    }


@pytest.mark.parametrize("stage", list(STAGES))
def test_eight_clients_at_once_lose_no_update(app: Flask, api: Api, runner, stage: str) -> None:
    case_id = open_case_at(api, stage)
    tasks = STAGES[stage]
    ids = {name: api.task_id(DETACHMENT, case_id, name) for name in tasks}
    # Client i works task i mod n: several clients on each task, every task at once.
    plan = [list(tasks)[i % len(tasks)] for i in range(CLIENTS)]
    headers = {name: api.headers(user) for name, user in tasks.items()}
    answers: list[tuple[int, str, int, dict[str, Any]]] = []  # (round, task, status, body)
    failures: list[str] = []
    lock = threading.Lock()

    def client(name: str, barrier: threading.Barrier, round_no: int) -> None:
        http = app.test_client()
        data = fire_accountability.sample(name, today())
        try:
            barrier.wait(30)
            response = http.post(
                f"/api/v1/tasks/{ids[name]}/complete", json={"data": data}, headers=headers[name]
            )
            with lock:
                answers.append((round_no, name, response.status_code, response.json or {}))
        except BaseException as exc:  # an exception escaping the app is a 500
            with lock:
                failures.append(f"{name}: {exc!r}")

    for round_no in range(ROUNDS):
        still_open = {n for n, _ in open_tasks(api, case_id)} & set(tasks)
        if not still_open:
            break
        barrier = threading.Barrier(CLIENTS)
        threads = [threading.Thread(target=client, args=(name, barrier, round_no)) for name in plan]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert failures == []
    statuses = Counter(status for _, _, status, _ in answers)
    assert set(statuses) <= {200, 409, 422}, [a for a in answers if a[2] not in (200, 409, 422)]
    assert {n for n, _ in open_tasks(api, case_id)} & set(tasks) == set()  # all got done
    accepted = Counter(name for _, name, status, _ in answers if status == 200)
    assert accepted == Counter(set(tasks)), accepted  # each task once, never twice
    # Different tasks of the case queue on the case's row lock instead of failing: the first
    # round completes every task; only the duplicates of a task are refused.
    assert {name for r, name, status, _ in answers if status == 200 and r == 0} == set(tasks)
    for _, _, status, body in answers:
        if status != 200:
            assert body["error"] in ("conflict", "invalid"), body

    # Commit order: the order of the completions in the case's hash-chained events.
    events = api.get(DETACHMENT, f"/cases/{case_id}/events", query_string={"per_page": 100})
    order = [
        e["task"]
        for e in events.json["items"]
        if e["kind"] == "task_completed" and e["task"] in tasks
    ]
    assert sorted(order) == sorted(tasks)

    replay = open_case_at(api, stage)
    for name in order:
        api.complete(tasks[name], replay, name)
    assert outcome(api, case_id) == outcome(api, replay)

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
