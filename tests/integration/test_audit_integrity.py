"""The audit log is append-only: the ORM refuses to change or delete events, and
``flask --app server audit verify`` detects what raw SQL does behind the application's back."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from server.attachments import add_attachment
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


# --- the system chain's stored head (finding 7a of issue 16) --------------------------------------


def system_events(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(Event.seq)).where(Event.case_id.is_(None))) or 0


@pytest.mark.parametrize("removed", [1, 2])
def test_verify_detects_the_removal_of_the_last_system_events(
    app: Flask, runner, auth, removed: int
):
    auth.login("wuling.nanping", "wrong")
    auth.login("wuling.nanping")
    last = system_events(app)
    assert verify(runner).exit_code == 0
    raw_sql(app, ("DELETE FROM event WHERE case_id IS NULL AND seq > :keep",
                  {"keep": last - removed}))  # fmt: skip
    result = verify(runner)
    assert result.exit_code == 1
    assert "系统\tFAILED" in result.output
    assert (
        f"系统事件链：事件链止于第{last - removed}号事件，而记录的链尾是第{last}号事件"
        in result.output
    )


def test_the_system_head_follows_its_chain_and_its_removal_is_detected(app: Flask, runner, auth):
    from server.models import ChainHead

    auth.login("wuling.nanping")
    auth.login("wuling.fire")
    with app.app_context():
        head = db.session.get(ChainHead, "system")
        last = db.session.scalar(
            select(Event).where(Event.case_id.is_(None)).order_by(Event.seq.desc()).limit(1)
        )
        assert (head.seq, head.hash) == (last.seq, last.hash)
    raw_sql(app, ("DELETE FROM chain_head", {}))
    result = verify(runner)
    assert result.exit_code == 1
    assert "系统事件链：系统事件链的链尾记录缺失" in result.output


# --- the rows shown are verified against the chain (finding 7b of issue 16) -----------------------


def filed(app: Flask) -> tuple[int, str]:
    """A case referred to the fire brigade and filed (立案编号 set), with an attachment."""
    from tests.integration.test_dossier import filed_case

    case_id = filed_case(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        upload = FileStorage(io.BytesIO(b"%PDF-1.4 site photo"), filename="现场照片.pdf")
        add_attachment(user("wuling.nanping"), case, upload)
        return case_id, case.number


def printed_cover(app: Flask, case_id: int) -> tuple[bool, str]:
    """Print the dossier as the city auditor: (chain ok, the cover's text without spaces)."""
    from server.dossier import print_dossier
    from tests.integration.test_dossier import read_pdf, squeeze

    with app.app_context():
        printed = print_dossier(user("city.auditor"), db.session.get(Case, case_id))
        _, pages = read_pdf(printed.pdf)
        return printed.check.ok, squeeze(pages[0])


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ('UPDATE "case" SET unit_name = :v WHERE id = :c', "案件记录的单位名称（伪造的单位）"),
        ('UPDATE "case" SET address = :v WHERE id = :c', "案件记录的地址（伪造的单位）"),
        ('UPDATE "case" SET case_no = :v WHERE id = :c', "案件记录的立案编号（伪造的单位）"),
        ("UPDATE task SET completed_by_id = (SELECT max(id) FROM \"user\") "
         "WHERE case_id = :c AND state = 'completed' AND :v = :v", "在审计链中没有对应的办理事件"),
    ],
    ids=["unit_name", "address", "case_no", "task_person"],
)  # fmt: skip
def test_a_case_row_changed_behind_the_app_fails_verification_everywhere(
    app: Flask, runner, client, auth, statement: str, problem: str
):
    case_id, number = filed(app)
    assert verify(runner, number).exit_code == 0
    ok, cover = printed_cover(app, case_id)
    assert ok and "审计链校验：通过" in cover
    raw_sql(app, (statement, {"v": "伪造的单位", "c": case_id}))

    result = verify(runner, number)
    assert result.exit_code == 1 and f"{number}\tFAILED" in result.output
    assert problem in result.output
    assert verify(runner).exit_code == 1
    ok, cover = printed_cover(app, case_id)
    assert not ok
    assert "审计链校验未通过" in cover and "审计链校验：通过" not in cover
    auth.login("city.auditor")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert 'data-chain="failed"' in page.text and "审计链校验未通过" in page.text
    assert problem in page.text.replace("&#34;", '"')


def test_a_status_or_an_attachment_row_changed_fails_verification(app: Flask, runner):
    case_id, number = filed(app)
    raw_sql(app, ("UPDATE \"case\" SET status = 'closed' WHERE id = :c", {"c": case_id}))
    result = verify(runner, number)
    assert result.exit_code == 1
    assert "案件记录的案件状态（closed）与审计链记载的（open）不符" in result.output
    raw_sql(app, ("UPDATE \"case\" SET status = 'open' WHERE id = :c", {"c": case_id}))
    assert verify(runner, number).exit_code == 0
    raw_sql(app, ("UPDATE attachment SET filename = 'forged.pdf' WHERE case_id = :c",
                  {"c": case_id}))  # fmt: skip
    result = verify(runner, number)
    assert result.exit_code == 1 and "附件“forged.pdf”的记录" in result.output


def test_the_case_page_shows_a_passed_verification(app: Flask, client, auth):
    case_id, _ = filed(app)
    auth.login("city.auditor")
    page = client.get(f"/cases/{case_id}")
    assert 'data-chain="ok"' in page.text and "审计链校验：通过" in page.text


# --- attachment files re-hashed (finding 7c of issue 16) -----------------------------------------


def attachment_of(app: Flask, case_id: int):
    from server.attachments import stored_path
    from server.models import Attachment

    with app.app_context():
        row = db.session.scalar(select(Attachment).where(Attachment.case_id == case_id))
        return row.id, row.filename, row.sha256, stored_path(row.sha256)


def test_an_attachment_file_overwritten_on_disk_is_refused_and_reported(
    app: Flask, runner, client, auth
):
    case_id, number = filed(app)
    attachment_id, filename, sha256, path = attachment_of(app, case_id)
    auth.login("city.auditor")
    download = client.get(f"/cases/{case_id}/attachments/{attachment_id}")
    assert download.status_code == 200
    genuine = download.data
    assert client.get(f"/cases/{case_id}").text.count('data-chain="ok"') == 1

    path.write_bytes(b"%PDF-1.4 forged content")  # overwritten in place, behind the app's back

    download = client.get(f"/cases/{case_id}/attachments/{attachment_id}")
    assert download.status_code == 409
    assert b"forged" not in download.data and "附件文件已被改动" in download.text
    page = client.get(f"/cases/{case_id}")
    assert 'data-chain="failed"' in page.text and f"附件“{filename}”的文件已被改动" in page.text
    ok, cover = printed_cover(app, case_id)
    assert not ok and "审计链校验未通过" in cover and "文件已被改动" in cover
    result = verify(runner, number)  # one case: its files re-hashed by default
    assert result.exit_code == 1 and f"附件“{filename}”的文件已被改动" in result.output
    assert verify(runner).exit_code == 0  # every case: the files only when asked
    result = verify(runner, "--files")
    assert result.exit_code == 1 and f"{number}\tFAILED" in result.output

    path.unlink()
    assert client.get(f"/cases/{case_id}/attachments/{attachment_id}").status_code == 409
    assert "的文件缺失" in verify(runner, number).output
    path.write_bytes(genuine)
    assert verify(runner, "--files").exit_code == 0
    assert client.get(f"/cases/{case_id}/attachments/{attachment_id}").data == genuine
    assert sha256 in path.name
