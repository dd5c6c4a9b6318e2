"""The audit log is append-only: the ORM refuses to change or delete events, and
``flask --app server audit verify`` detects what raw SQL does behind the application's back."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from server.audit import AppendOnlyViolation, append_event, verify_chain
from server.extensions import db
from server.models import Case, Event, Task, User
from server.operations import claim_task, release_task, start_case, today_shanghai
from tests.support.major_hazard import sample


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def case_with_events(app: Flask) -> tuple[int, str]:
    """A case whose chain has four events: opened, registered, claimed, released."""
    with app.app_context():
        officer = user("wuling.nanping")
        found = today_shanghai() - timedelta(days=1)
        case = start_case(officer, "major_hazard", sample("register_hazard", found))
        task = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.state == "ready"))
        claim_task(officer, task)
        release_task(officer, task)
        kinds = db.session.scalars(
            select(Event.kind).where(Event.case_id == case.id).order_by(Event.seq)
        ).all()
        assert kinds == ["case_opened", "task_completed", "task_claimed", "task_released"]
        return case.id, case.number


def raw_sql(app: Flask, *statements: tuple[str, dict]) -> None:
    """Statements straight on a connection, past the ORM (what an intruder with DB access does)."""
    with app.app_context(), db.engine.begin() as connection:
        for statement, params in statements:
            connection.execute(text(statement), params)


def event_of(case_id: int, seq: int) -> Event:
    return db.session.scalar(select(Event).where(Event.case_id == case_id, Event.seq == seq))


# --- the ORM guard ------------------------------------------------------------------------------


def test_changing_an_event_through_the_orm_raises(app: Flask):
    case_id, _ = case_with_events(app)
    with app.app_context():
        event = event_of(case_id, 2)
        event.data = {**event.data, "label": "改过的"}
        with pytest.raises(AppendOnlyViolation, match="审计事件只能追加"):
            db.session.commit()
        db.session.rollback()
        event = event_of(case_id, 3)
        event.kind = "something_else"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        assert verify_chain(case_id).ok


def test_deleting_an_event_through_the_orm_raises(app: Flask):
    case_id, _ = case_with_events(app)
    with app.app_context():
        db.session.delete(event_of(case_id, 2))
        with pytest.raises(AppendOnlyViolation):
            db.session.commit()
        db.session.rollback()
        assert event_of(case_id, 2) is not None
        assert verify_chain(case_id).ok


@pytest.mark.parametrize(
    "statement",
    [
        lambda case_id: update(Event).where(Event.case_id == case_id).values(kind="x"),
        lambda case_id: delete(Event).where(Event.case_id == case_id),
    ],
    ids=["update", "delete"],
)
def test_bulk_statements_on_events_raise(app: Flask, statement):
    case_id, _ = case_with_events(app)
    with app.app_context():
        with pytest.raises(AppendOnlyViolation):
            db.session.execute(statement(case_id))
        db.session.rollback()
        with pytest.raises(AppendOnlyViolation):
            db.session.query(Event).filter(Event.case_id == case_id).delete()
        db.session.rollback()
        assert len(db.session.scalars(select(Event).where(Event.case_id == case_id)).all()) == 4
        assert verify_chain(case_id).ok


def test_appending_and_other_updates_still_work(app: Flask):
    case_id, _ = case_with_events(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.stage = "测试"  # other rows of the same transaction are not affected
        from server.audit import append_event

        append_event(case_id, "follow_up", data={"note": "追加"})
        db.session.commit()
        assert event_of(case_id, 5).kind == "follow_up"
        assert verify_chain(case_id).ok


# --- audit verify against raw-SQL tampering ------------------------------------------------------


def verify(runner, *args: str):
    return runner.invoke(args=["audit", "verify", *args])


def test_verify_passes_an_untouched_database(app: Flask, runner):
    case_with_events(app)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_verify_detects_a_changed_event(app: Flask, runner):
    case_id, number = case_with_events(app)
    raw_sql(
        app,
        (
            "UPDATE event SET kind = 'task_released_x' WHERE case_id = :c AND seq = 3",
            {"c": case_id},
        ),
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert f"{number}\tFAILED" in result.output
    assert f"案件 {number}：第3号事件内容已被改动（哈希不符）" in result.output
    assert "第2号事件" not in result.output  # the events before are intact
    assert verify(runner, number).exit_code == 1


def test_verify_detects_a_removed_event(app: Flask, runner):
    case_id, number = case_with_events(app)
    raw_sql(app, ("DELETE FROM event WHERE case_id = :c AND seq = 2", {"c": case_id}))
    result = verify(runner, number)
    assert result.exit_code == 1
    assert f"案件 {number}：第2号事件缺失或顺序被改动（实际序号 3）" in result.output
    assert f"案件 {number}：第3号事件的前序哈希与链不符" in result.output


@pytest.mark.parametrize("removed", [1, 2])
def test_verify_detects_the_removal_of_the_last_events(app: Flask, runner, removed: int):
    # Removing the tail leaves an unbroken chain: only the case row's head gives it away.
    case_id, number = case_with_events(app)
    with app.app_context():
        last = verify_chain(case_id).events
    raw_sql(app, ("DELETE FROM event WHERE case_id = :c AND seq > :keep",
                  {"c": case_id, "keep": last - removed}))  # fmt: skip
    result = verify(runner, number)
    assert result.exit_code == 1
    assert (
        f"案件 {number}：事件链止于第{last - removed}号事件，而案件记录的链尾是第{last}号事件"
        in result.output
    )


def test_verify_checks_a_case_whose_events_are_all_gone(app: Flask, runner):
    case_id, number = case_with_events(app)
    raw_sql(app, ("DELETE FROM event WHERE case_id = :c", {"c": case_id}))
    result = verify(runner)
    assert result.exit_code == 1
    assert f"{number}\tFAILED" in result.output
    assert f"案件 {number}：事件链止于第0号事件" in result.output


def test_the_case_row_follows_its_chain(app: Flask):
    case_id, _number = case_with_events(app)
    with app.app_context():
        events = db.session.scalars(
            select(Event).where(Event.case_id == case_id).order_by(Event.seq)
        ).all()
        case = db.session.get(Case, case_id)
        assert (case.event_seq, case.event_head) == (events[-1].seq, events[-1].hash)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_verify_detects_two_reordered_events(app: Flask, runner):
    case_id, number = case_with_events(app)
    swap = "UPDATE event SET seq = :new WHERE case_id = :c AND seq = :old"
    raw_sql(
        app,
        (swap, {"c": case_id, "old": 2, "new": 99}),
        (swap, {"c": case_id, "old": 3, "new": 2}),
        (swap, {"c": case_id, "old": 99, "new": 3}),
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert f"{number}\tFAILED" in result.output
    assert f"案件 {number}：第2号事件的前序哈希与链不符" in result.output
    assert f"案件 {number}：第2号事件内容已被改动（哈希不符）" in result.output
    assert f"案件 {number}：第3号事件" in result.output


def test_verify_detects_tampering_of_the_system_chain(app: Flask, runner, auth):
    auth.login("wuling.nanping", "wrong")
    auth.login("wuling.nanping")
    raw_sql(
        app,
        (
            "UPDATE event SET data = :d WHERE case_id IS NULL AND kind = 'login_failed'",
            {"d": '{"username": "someone-else"}'},
        ),
    )
    result = verify(runner)
    assert result.exit_code == 1
    assert "系统\tFAILED" in result.output and "系统事件链：第" in result.output


# --- the system chain never forks ------------------------------------------------------------


def test_a_second_event_with_the_same_system_seq_is_refused(app: Flask):
    with app.app_context():
        append_event(None, "login", actor=user("admin"))
        db.session.commit()
        head = db.session.scalar(select(Event).where(Event.case_id.is_(None)).order_by(
            Event.seq.desc()))  # fmt: skip
        twin = Event(case_id=None, seq=head.seq, kind="login", at=head.at, data={},
                     prev_hash=head.prev_hash, hash=head.hash)  # fmt: skip
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_concurrent_logins_extend_the_system_chain_one_after_the_other(app: Flask):
    """Eight threads append to the system chain at once: on PostgreSQL the advisory lock
    queues them; on SQLite the database serialises writers or the unique index refuses a
    fork. Either way every stored event has its own seq and the chain verifies."""
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def login(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                append_event(None, "login", actor=user("admin"), data={"n": n})
                db.session.commit()
            except IntegrityError as exc:  # only SQLite can get here: a refused fork
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=login, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        seqs = db.session.scalars(select(Event.seq).where(Event.case_id.is_(None))).all()
        assert len(seqs) == len(set(seqs))
        assert len(seqs) >= 8 - len(failures)
        assert verify_chain(None).ok
        if db.engine.dialect.name == "postgresql":
            assert failures == []


# --- parallel logins never fail (finding 3 of issue 16) -------------------------------------------


def test_parallel_logins_never_answer_5xx(app: Flask):
    """30 API logins at once (unknown users, wrong and right passwords of known ones) and 12
    web logins at once, each thread with its own client: every one is answered 2xx/3xx or 4xx,
    never 5xx, every failure is in the system chain, and the chain verifies."""
    from tests.integration.conftest import PASSWORD, csrf_token

    with app.app_context():
        known = list(
            db.session.scalars(select(User.username).where(User.active.is_(True)).order_by(User.id))
        )[:10]
        before = db.session.scalar(select(func.count(Event.id)).where(Event.kind == "login_failed"))
    api_logins = [(f"nobody{n}", "x") for n in range(12)]
    api_logins += [(name, "wrong-password") for name in known[:8]]
    api_logins += [(name, PASSWORD) for name in known]
    web_logins = [(name, PASSWORD) for name in known[:6]] + [(f"ghost{n}", "x") for n in range(6)]
    pages = {}
    for n, _ in enumerate(web_logins):  # each web client has its CSRF token before the race
        client = app.test_client()
        pages[n] = (client, csrf_token(client.get("/login").text))
    barrier = threading.Barrier(len(api_logins) + len(web_logins))
    statuses: list[tuple] = []

    def api_login(username: str, password: str) -> None:
        client = app.test_client()
        barrier.wait()
        try:  # the test app propagates exceptions (TESTING): each one stands for a 500
            response = client.post(
                "/api/v1/tokens", json={"username": username, "password": password}
            )
            statuses.append(("api", response.status_code))
        except Exception as exc:
            statuses.append(("api", 500, repr(exc)))

    def web_login(n: int, username: str, password: str) -> None:
        client, token = pages[n]
        barrier.wait()
        try:
            response = client.post(
                "/login", data={"username": username, "password": password, "csrf_token": token}
            )
            statuses.append(("web", response.status_code))
        except Exception as exc:
            statuses.append(("web", 500, repr(exc)))

    threads = [threading.Thread(target=api_login, args=login) for login in api_logins]
    threads += [
        threading.Thread(target=web_login, args=(n, *login)) for n, login in enumerate(web_logins)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == len(threads)
    assert [s for s in statuses if s[1] >= 500] == []
    failures = sum(1 for _, status in statuses if status in (401, 429))
    assert failures >= 12 + 8 + 6  # the unknown users and the wrong passwords
    with app.app_context():
        after = db.session.scalar(select(func.count(Event.id)).where(Event.kind == "login_failed"))
        assert after - before == failures  # every failure counted
        assert verify_chain(None).ok
