"""Faults: a completion or a sweep that fails part-way, a process killed before its commit, a
workflow state that cannot be read. Nothing half-done may remain, and the rest keeps working."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

import server.operations as operations
from server.audit import verify_all, verify_chain
from server.extensions import db
from server.models import Case, Deadline, Task, User
from server.operations import Conflict, complete_task, load_instance, start_case, today_shanghai
from server.sweep import RETRY_DELAYS, sweep
from tests.integration.conftest import TEST_CONFIG, Auth
from tests.integration.test_web import login, post_form, text_of
from tests.support.db_rows import all_rows, case_rows
from tests.support.major_hazard import sample

ROOT = Path(__file__).resolve().parents[2]
SWEEP_BOOKKEEPING = ("sweep_until", "sweep_owner", "sweep_error", "sweep_failures")


class Injected(RuntimeError):
    """The fault these tests inject."""


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def ready(case_id: int) -> Task:
    return db.session.scalar(select(Task).where(Task.case_id == case_id, Task.state == "ready"))


def open_case(app: Flask, days_ago: int = 1) -> int:
    with app.app_context():
        found = today_shanghai() - timedelta(days=days_ago)
        case = start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found))
        return case.id


# --- (a) an exception after the engine step, before the commit -----------------------------------


def fault_after_sync(monkeypatch) -> None:
    """sync_case writes everything into the session, then the step fails before the commit."""
    real = operations.sync_case

    def failing(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        db.session.flush()  # the rows are in the database, uncommitted
        raise Injected("after sync_case")

    monkeypatch.setattr(operations, "sync_case", failing)


def fault_in_append_event(monkeypatch) -> None:
    """Appending the task_completed event fails, after the engine step has run."""
    real = operations.append_event

    def failing(*args: Any, **kwargs: Any):
        if args[1] == "task_completed":
            db.session.flush()
            raise Injected("in append_event")
        return real(*args, **kwargs)

    monkeypatch.setattr(operations, "append_event", failing)


def fault_in_lane_resolution(monkeypatch) -> None:
    """Resolving the next task's agency fails, half-way through writing the task rows."""

    def failing(*args: Any, **kwargs: Any):
        db.session.flush()
        raise Injected("in lane resolution")

    monkeypatch.setattr(operations._Agencies, "of_lane", failing)


def fault_in_commit(monkeypatch) -> None:
    """The commit itself fails (disk full, connection lost): everything was flushed."""

    def failing() -> None:
        db.session.flush()
        raise Injected("commit")

    monkeypatch.setattr(db.session, "commit", failing)


@pytest.mark.parametrize(
    "inject",
    [fault_after_sync, fault_in_append_event, fault_in_lane_resolution, fault_in_commit],
    ids=["after-sync_case", "append_event", "lane-resolution", "commit"],
)
def test_a_failed_completion_leaves_every_row_as_it_was(app: Flask, monkeypatch, inject):
    # A late registration: the completion also writes missed deadlines and escalations.
    case_id = open_case(app, days_ago=20)
    with app.app_context():
        before = all_rows()
    with app.app_context(), monkeypatch.context() as patch:
        inject(patch)
        task = ready(case_id)
        with pytest.raises(Injected):
            data = sample("refer_to_fire_rescue", today_shanghai())
            complete_task(user("wuling.nanping"), task, data)
        db.session.rollback()
    with app.app_context():
        assert all_rows() == before
    # The fault gone, the same completion goes through.
    with app.app_context():
        case = complete_task(
            user("wuling.nanping"), ready(case_id), sample("refer_to_fire_rescue", today_shanghai())
        ).case
        assert ready(case_id).name == "file_case"
        assert case.row_version > before_version(before, case_id)
        assert verify_chain(case_id).ok


def before_version(rows: dict[str, list[tuple]], case_id: int) -> int:
    columns = [c.name for c in Case.__table__.columns]
    row = next(r for r in rows["case"] if r[columns.index("id")] == case_id)
    return row[columns.index("row_version")]


def test_a_failed_completion_through_the_web_changes_nothing(
    app: Flask, client: FlaskClient, auth: Auth, monkeypatch
):
    case_id = open_case(app)
    with app.app_context():
        before = all_rows()
        task_id = ready(case_id).id
    login(client, auth, "wuling.nanping")
    fault_after_sync(monkeypatch)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page
    response = post_form(
        client, f"/tasks/{task_id}", sample("refer_to_fire_rescue", today_shanghai())
    )
    assert response.status_code == 500
    with app.app_context():
        after = all_rows()
    # Only the login of this test was committed meanwhile (on the system chain and its head,
    # and the login's throttle count).
    logged = ("event", "user", "chain_head", "login_throttle")
    assert {k: v for k, v in after.items() if k not in logged} == {
        k: v for k, v in before.items() if k not in logged
    }
    with app.app_context():
        assert case_rows(case_id) == case_rows_from(app, case_id, before)


def case_rows_from(app: Flask, case_id: int, rows: dict[str, list[tuple]]) -> dict[str, list]:
    """:func:`case_rows` computed from a snapshot of :func:`all_rows`."""
    from server.models import Deadline, Event, Notification

    out = {}
    for model, key in ((Case, "id"), (Task, "case_id"), (Deadline, "case_id"), (Event, "case_id"),
                       (Notification, "case_id")):  # fmt: skip
        columns = [c.name for c in model.__table__.columns]
        out[model.__table__.name] = [
            dict(zip(columns, r, strict=True))
            for r in rows[model.__table__.name]
            if r[columns.index(key)] == case_id
        ]
    return out


# --- (b) the sweep: one case fails, the others are swept -----------------------------------------


def test_a_sweep_failure_leaves_that_case_unchanged_and_sweeps_the_others(app: Flask, time_machine):
    ids = [open_case(app) for _ in range(3)]
    broken = ids[1]
    with app.app_context():
        due = max(db.session.get(Case, i).next_timer_at for i in ids)
        before = case_rows(broken, ignore=SWEEP_BOOKKEEPING)
    now = due + timedelta(hours=1)
    time_machine.move_to(now, tick=False)
    real = operations.sync_case

    def failing(case: Case, *args: Any, **kwargs: Any) -> None:
        real(case, *args, **kwargs)
        if case.id == broken:
            db.session.flush()
            raise Injected(f"case {case.id}")

    with app.app_context():
        patch = pytest.MonkeyPatch()
        patch.setattr(operations, "sync_case", failing)
        try:
            assert sweep() == {"cases": 3, "fired": 2, "failed": 1, "skipped": 0}
            # Backed off: the next sweeps leave it alone until the retry delay has passed.
            assert sweep()["cases"] == 0
        finally:
            patch.undo()
        assert case_rows(broken, ignore=SWEEP_BOOKKEEPING) == before
        case = db.session.get(Case, broken)
        assert case.sweep_failures == 1 and "Injected" in case.sweep_error
        assert case.sweep_until == now + RETRY_DELAYS[0]
        assert case.needs_attention is None  # a passing fault, not a broken state
        for other in (ids[0], ids[2]):
            (deadline,) = db.session.scalars(select(Deadline).where(Deadline.case_id == other))
            assert deadline.state == "missed"
        assert all(check.ok for check in verify_all())
    time_machine.move_to(now + RETRY_DELAYS[0], tick=False)
    with app.app_context():
        assert sweep() == {"cases": 1, "fired": 1, "failed": 0, "skipped": 0}
        case = db.session.get(Case, broken)
        assert (case.sweep_failures, case.sweep_error, case.sweep_until) == (0, None, None)
        assert verify_chain(broken).ok


# --- (c) a process killed mid-completion ---------------------------------------------------------

KILLED = 17
CHILD = """
import os, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
from server import create_app
from tests.integration.conftest import TEST_CONFIG

url, task_id, KILLED = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
with app.app_context():
    from server.extensions import db
    from server.models import Task, User
    from server.operations import complete_task, today_shanghai
    from tests.support.major_hazard import sample

    officer = db.session.query(User).filter_by(username="wuling.nanping").one()
    task = db.session.get(Task, task_id)

    def die(session):
        session.flush()  # every row of the step written into the database, not committed
        sys.stdout.write("flushed\\n")
        sys.stdout.flush()
        os._exit(KILLED)

    event.listen(Session, "before_commit", die)
    complete_task(officer, task, sample("refer_to_fire_rescue", today_shanghai()))
sys.exit(0)
"""


@pytest.mark.skipif(
    bool(os.environ.get("DUBAN_TEST_POSTGRES")),
    reason="kills a process holding a write transaction on a SQLite file (integrity_check)",
)
def test_a_process_killed_before_its_commit_leaves_the_database_consistent(app: Flask, runner):
    case_id = open_case(app, days_ago=20)
    with app.app_context():
        before = all_rows()
        task_id = ready(case_id).id
        db.engine.dispose()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    wal = Path(f"{make_url(url).database}-wal")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, task_id, str(KILLED)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == KILLED, child.stderr[-3000:]
    assert child.stdout.strip() == "flushed"
    assert wal.exists() and wal.stat().st_size > 0  # it had written into the WAL

    # "Restart": a fresh connection recovers the file without the uncommitted step.
    with sqlite3.connect(make_url(url).database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with app.app_context():
        assert all_rows() == before
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert load_instance(case).ready_tasks()[0].name == "refer_to_fire_rescue"
        complete_task(
            user("wuling.nanping"), ready(case_id), sample("refer_to_fire_rescue", today_shanghai())
        )
        assert ready(case_id).name == "file_case"
        assert verify_chain(case_id).ok
    assert TEST_CONFIG["TESTING"]


# --- (d) a state that cannot be read -------------------------------------------------------------


def test_an_unreadable_state_marks_the_case_and_the_pages_still_render(
    app: Flask, client: FlaskClient, auth: Auth
):
    broken = open_case(app)
    healthy = open_case(app)
    with app.app_context():
        db.session.get(Case, broken).state = b"\x00not a workflow"
        db.session.commit()
        task_id = ready(broken).id

    login(client, auth, "wuling.nanping")
    inbox = client.get("/")
    assert inbox.status_code == 200
    assert inbox.text.count(f"/tasks/{task_id}") >= 1  # the task is still listed
    response = post_form(
        client, f"/tasks/{task_id}", sample("refer_to_fire_rescue", today_shanghai())
    )
    # Like any conflict on the form: back to the case page, which says why.
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{broken}"
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    assert "案件的流程状态无法读取，已提交管理员处理" in text_of(shown.text)
    assert "该案件需要管理员处理" in shown.text
    with app.app_context():
        case = db.session.get(Case, broken)
        assert case.needs_attention.startswith("工作流状态无法读取")
        assert ready(broken).id == task_id  # nothing else changed
        assert db.session.get(Case, healthy).needs_attention is None
    assert client.get("/").status_code == 200  # the inbox still renders
    page = client.get(f"/cases/{broken}")
    assert page.status_code == 200 and "该案件需要管理员处理" in page.text
    assert "attention-banner" not in page.text  # the banner is for administrators

    # Administrators are told on every page and find the cases in one list.
    login(client, auth, "admin")
    home = client.get("/cases")
    assert "需要管理员处理：</strong>1 个案件的流程状态无法读取" in home.text
    listed = client.get("/cases?attention=1")
    assert listed.status_code == 200
    assert f"/cases/{broken}" in listed.text and f"/cases/{healthy}" not in listed.text
    assert "共 1 件" in listed.text and "待管理员处理" in listed.text


def test_the_api_answers_409_for_an_unreadable_state(app: Flask, client: FlaskClient, auth: Auth):
    case_id = open_case(app)
    with app.app_context():
        db.session.get(Case, case_id).state = b"garbage"
        db.session.commit()
        task_id = ready(case_id).id
    headers = auth.token("wuling.nanping")
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": sample("refer_to_fire_rescue", today_shanghai())},
        headers=headers,
    )
    assert response.status_code == 409 and response.json["error"] == "conflict"
    assert client.get("/api/v1/inbox", headers=headers).status_code == 200
    detail = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert detail.status_code == 200 and detail.json["needs_attention"] is True
    with app.app_context(), pytest.raises(Conflict):
        load_instance(db.session.get(Case, case_id))
