"""The Python twins of server.scoping's clauses agree with them on every user and row: the
case page decides which of a case's tasks the user may work on from the rows it read
(``may_work_on``), the inbox and the task routes from the database (``task_filter``); an
officer's one case is found visible by ``case_filter(user, case_id=...)`` exactly when the
list clause ``case_filter(user)`` finds it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from server.directory import create_user
from server.extensions import db
from server.models import Case, Task, User
from server.scoping import case_filter, may_work_on, task_filter
from tests.support.api import Api

from .conftest import PASSWORD

STREET = "wuling.nanping"


def test_the_twins_agree(app: Flask, api: Api) -> None:
    referred = api.register(days_ago=3, unit_name="甲乙商贸有限公司")["id"]
    api.register(days_ago=1, unit_name="丙丁酒店")
    api.complete(STREET, referred, "refer_to_fire_rescue")
    with app.app_context():
        # not an officer, in an agency with tasks: may see its cases, may work on none
        create_user("wuling.nanping.audit", "审计员", "street:wuling:nanping", "auditor", PASSWORD)
        db.session.commit()
        users = db.session.scalars(select(User)).all()
        tasks = db.session.scalars(select(Task)).all()
        case_ids = db.session.scalars(select(Case.id)).all()
        assert len(users) > 5 and len(tasks) >= 3
        workers_seen = False
        for user in users:
            workable = set(db.session.scalars(select(Task.id).where(task_filter(user))))
            assert {t.id for t in tasks if may_work_on(user, t)} == workable, user.username
            workers_seen |= bool(workable)
            listed = set(db.session.scalars(select(Case.id).where(case_filter(user))))
            for case_id in case_ids:
                one = db.session.scalar(
                    select(Case.id).where(Case.id == case_id, case_filter(user, case_id=case_id))
                )
                assert (one is not None) == (case_id in listed), (user.username, case_id)
        assert workers_seen
