"""Operations against a real database: one transaction per step, conflicts, audit chain."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage

from server.attachments import add_attachment
from server.audit import verify_chain
from server.extensions import db
from server.models import Case, Deadline, Event, Task, User
from server.operations import (
    Conflict,
    Forbidden,
    FormInvalid,
    _transaction,
    claim_task,
    complete_task,
    lock_case,
    mark_attention,
    release_task,
    start_case,
    today_shanghai,
)
from server.sweep import sweep
from tests.support.major_hazard import sample


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def ready(case: Case) -> Task:
    return db.session.scalar(select(Task).where(Task.case_id == case.id, Task.state == "ready"))


def open_case(days_ago: int = 1) -> Case:
    found = today_shanghai() - timedelta(days=days_ago)
    return start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found))


def test_registration_opens_a_case_with_its_referral_task_and_deadline(app):
    with app.app_context():
        case = open_case()
        assert case.number.startswith("DB")
        assert case.stage == "函告消防救援机构"
        task = ready(case)
        assert task.name == "refer_to_fire_rescue"
        assert task.agency.code == "street:wuling:nanping"
        (deadline,) = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id))
        assert deadline.label == "函告消防救援机构 5个工作日"
        assert deadline.state == "pending"
        assert task.due_at == deadline.due_at
        assert case.next_timer_at == deadline.due_at
        kinds = db.session.scalars(
            select(Event.kind).where(Event.case_id == case.id).order_by(Event.seq)
        ).all()
        assert kinds == ["case_opened", "task_completed"]
        assert verify_chain(case.id).ok


def test_a_late_registration_records_the_missed_referral_and_escalates(app):
    with app.app_context():
        case = open_case(days_ago=20)
        (deadline,) = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id))
        assert deadline.state == "missed"
        events = db.session.scalars(select(Event).where(Event.case_id == case.id)).all()
        escalation = next(e for e in events if e.kind == "escalation")
        assert escalation.data["code"] == "referral_overdue"
        assert escalation.data["targets"] == ["street:wuling:nanping", "government:wuling"]
        assert ready(case).due_at == deadline.due_at  # still shown as overdue in the inbox


def test_invalid_data_changes_nothing(app):
    with app.app_context():
        case = open_case()
        task = ready(case)
        before = (case.row_version, db.session.scalar(select(func.count(Event.id))))
        with pytest.raises(FormInvalid) as info:
            complete_task(user("wuling.nanping"), task, {"letter_no": "x"})
        assert "referred_on" in info.value.fields
        db.session.rollback()
        db.session.refresh(case)
        assert (case.row_version, db.session.scalar(select(func.count(Event.id)))) == before
        assert ready(case).id == task.id


def test_registration_outside_the_jurisdiction_or_without_rights_is_refused(app):
    with app.app_context():
        data = sample("register_hazard", today_shanghai(), district="dingcheng")
        with pytest.raises(FormInvalid) as info:
            start_case(user("wuling.nanping"), "major_hazard", data)
        assert set(info.value.fields) == {"district"}
        with pytest.raises(Forbidden):
            start_case(user("wuling.gov"), "major_hazard", sample("register_hazard", date.today()))


def test_completing_the_same_task_twice_gives_one_success_and_one_conflict(app):
    with app.app_context():
        case = open_case()
        task_id = ready(case).id
        case_id = case.id
    results: list[str] = []
    barrier = threading.Barrier(2)

    def complete() -> None:
        with app.app_context():
            officer = user("wuling.nanping")
            task = db.session.get(Task, task_id)
            data = sample("refer_to_fire_rescue", today_shanghai())
            barrier.wait()
            try:
                complete_task(officer, task, data)
                results.append("ok")
            except Conflict:
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "ok"]
    with app.app_context():
        case = db.session.get(Case, case_id)
        names = db.session.scalars(
            select(Task.name).where(Task.case_id == case_id, Task.state == "ready")
        ).all()
        assert names == ["file_case"]
        completions = db.session.scalar(
            select(func.count(Event.id)).where(
                Event.case_id == case_id, Event.task_name == "refer_to_fire_rescue"
            )
        )
        assert completions == 1
        assert verify_chain(case_id).ok


def test_claim_and_release(app):
    with app.app_context():
        case = open_case()
        task = ready(case)
        claim_task(user("wuling.nanping"), task)
        assert task.claimed_by.username == "wuling.nanping"
        colleague = user("wuling.nanping")
        release_task(colleague, task)
        assert task.claimed_by_id is None
        with pytest.raises(Conflict):
            release_task(colleague, task)


def test_sweep_fires_due_timers_once(app, time_machine):
    with app.app_context():
        case = open_case(days_ago=1)
        due = case.next_timer_at
        case_id = case.id
    time_machine.move_to(due + timedelta(hours=1), tick=False)
    with app.app_context():
        assert sweep() == {"cases": 1, "fired": 1, "failed": 0, "skipped": 0}
        assert sweep() == {"cases": 0, "fired": 0, "failed": 0, "skipped": 0}
        kinds = db.session.scalars(select(Event.kind).where(Event.case_id == case_id)).all()
        assert kinds.count("deadline_missed") == 1
        assert kinds.count("escalation") == 1
        assert verify_chain(case_id).ok


def test_a_case_whose_state_cannot_load_is_marked_and_does_not_stop_the_sweep(app, time_machine):
    with app.app_context():
        broken = open_case(days_ago=1)
        healthy = open_case(days_ago=1)
        broken.state = b"garbage"
        db.session.commit()
        due = max(broken.next_timer_at, healthy.next_timer_at)
        ids = broken.id, healthy.id
    time_machine.move_to(due + timedelta(hours=1), tick=False)
    with app.app_context():
        summary = sweep()
        assert summary["fired"] == 1 and summary["failed"] == 1
        broken, healthy = (db.session.get(Case, i) for i in ids)
        assert broken.needs_attention
        assert healthy.needs_attention is None


# --- writers that meet in one case ----------------------------------------------------------


def test_a_completion_sees_the_deadlines_as_stored_not_as_once_loaded(app, time_machine):
    """One session for two operations (a script, the demo seeding) holds the case's deadlines;
    the sweep (another process) marks the referral missed meanwhile; the completion must not
    take the stale 'pending' row for the truth and call the missed deadline met."""
    with app.app_context():
        case = open_case(days_ago=1)
        case_id, task = case.id, ready(case)
        held = db.session.scalars(select(Deadline).where(Deadline.case_id == case_id)).all()
        assert [d.state for d in held] == ["pending"]
        time_machine.move_to(case.next_timer_at + timedelta(hours=1), tick=False)

        def sweeper() -> None:
            with app.app_context():
                assert sweep()["fired"] == 1
                db.session.remove()

        thread = threading.Thread(target=sweeper)
        thread.start()
        thread.join()
        complete_task(
            user("wuling.nanping"), task, sample("refer_to_fire_rescue", today_shanghai())
        )
    with app.app_context():
        referral = db.session.scalar(select(Deadline).where(Deadline.case_id == case_id))
        assert referral.state == "missed"  # late, and so it stays on the record
        assert referral.missed_at is not None and referral.met_at is not None
        assert verify_chain(case_id).ok


def test_an_upload_after_another_writer_changed_the_case_is_attached(app):
    """The upload's case was read before another writer changed the case row (here: marked
    for an administrator); the upload reads the case again before it appends to the chain."""
    with app.app_context():
        case_id = open_case().id
    with app.test_request_context():
        case = db.session.get(Case, case_id)  # as the view loaded it

        def other_writer() -> None:
            with app.app_context():
                mark_attention(case_id, "工作流状态无法读取：测试")
                db.session.remove()

        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join()
        pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
        upload = FileStorage(stream=io.BytesIO(pdf), filename="现场照片说明.pdf")
        attachment = add_attachment(user("wuling.nanping"), case, upload)
        assert attachment.id is not None
    with app.app_context():
        assert verify_chain(case_id).ok
        kinds = db.session.scalars(select(Event.kind).where(Event.case_id == case_id)).all()
        assert kinds[-1] == "attachment_added"


def test_a_claim_of_a_task_completed_meanwhile_is_refused(app):
    with app.app_context():
        case_id = open_case().id
    with app.test_request_context():
        task = ready(db.session.get(Case, case_id))  # as the view found it: ready
        task_id = task.id

        def colleague() -> None:
            with app.app_context():
                done = db.session.get(Task, task_id)
                data = sample("refer_to_fire_rescue", today_shanghai())
                complete_task(user("wuling.nanping"), done, data)
                db.session.remove()

        thread = threading.Thread(target=colleague)
        thread.start()
        thread.join()
        with pytest.raises(Conflict, match="已办结"):
            claim_task(user("wuling.nanping"), task)
    with app.app_context():
        kinds = db.session.scalars(select(Event.kind).where(Event.case_id == case_id)).all()
        assert "task_claimed" not in kinds
        assert db.session.get(Task, task_id).claimed_by_id is None
        assert verify_chain(case_id).ok


def test_a_completion_writes_the_case_row_once_on_its_version(app):
    """The case row is written by one UPDATE that names the version read and sets the next
    one; the commit leaves nothing else for the unit of work to write."""
    with app.app_context():
        case = open_case()
        task, version = ready(case), case.row_version
        updates: list[tuple[str, object]] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip().upper().startswith('UPDATE "CASE"'):
                updates.append((statement, parameters))

        engine = db.engine
        sa_event.listen(engine, "before_cursor_execute", record)
        try:
            done = complete_task(
                user("wuling.nanping"), task, sample("refer_to_fire_rescue", today_shanghai())
            )
        finally:
            sa_event.remove(engine, "before_cursor_execute", record)
        assert len(updates) == 1
        statement, _ = updates[0]
        assert "row_version" in statement.split("WHERE", 1)[1]
        assert done.case.row_version == version + 1
        db.session.expire_all()
        stored = db.session.get(Case, case.id)
        assert stored.row_version == version + 1
        assert stored.stage == done.case.stage and stored.state == done.case.state
        assert verify_chain(case.id).ok


def test_a_case_row_changed_since_it_was_read_is_not_overwritten(app):
    """A writer that bumped the row version after the case was read: the mutation's write
    finds no row at that version, answers Conflict and the transaction is rolled back."""
    with app.app_context():
        case = open_case()
        case_id, version, stage = case.id, case.row_version, case.stage
        with pytest.raises(Conflict), _transaction():
            locked = lock_case(case_id)
            table = Case.__table__
            db.session.connection().execute(  # another writer, same version column
                update(table)
                .where(table.c.id == case_id)
                .values(row_version=table.c.row_version + 1)
            )
            locked.stage = "另一处改动"
        db.session.expire_all()
        stored = db.session.get(Case, case_id)
        assert (stored.row_version, stored.stage) == (version, stage)
