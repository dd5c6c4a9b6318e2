"""A request that only read ends with COMMIT on PostgreSQL (server.database), so psycopg keeps
the connection's prepared statements; anything that wrote still ends with the rollback."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server.database import end_read_only_transaction
from server.extensions import db
from server.models import Agency, Case
from tests.support.api import Api


def postgresql(app: Flask) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_repeated_requests_reuse_prepared_statements(app: Flask, api: Api) -> None:
    if not postgresql(app):
        pytest.skip("prepared statements are psycopg's (set DUBAN_TEST_POSTGRES)")
    headers = api.headers("wuling.nanping")
    for _ in range(8):  # psycopg prepares a statement on its 6th execution on a connection
        assert api.client.get("/api/v1/inbox", headers=headers).status_code == 200
    with app.app_context():
        raw = db.session.connection().connection.dbapi_connection
        prepared = dict(raw._prepared._names)  # psycopg's cache: (query, types) → name
    assert prepared, "every request's ROLLBACK made psycopg deallocate its statements"
    assert any(b"FROM task" in query for query, _types in prepared)


def test_a_request_that_only_read_commits_on_postgresql(app: Flask) -> None:
    with app.test_request_context():
        db.session.scalar(select(Agency.id).limit(1))
        assert end_read_only_transaction(None) is postgresql(app)


def test_pending_objects_are_not_committed(app: Flask) -> None:
    with app.test_request_context():
        agency = db.session.scalar(select(Agency).limit(1))
        agency_id, name = agency.id, agency.name
        agency.name = "改了但没有提交"
        assert end_read_only_transaction(None) is False
        db.session.rollback()
    with app.app_context():
        assert db.session.get(Agency, agency_id).name == name


@pytest.mark.parametrize("how", ["flush", "statement"])
def test_written_but_uncommitted_changes_are_not_committed(app: Flask, api: Api, how: str) -> None:
    case_id = api.register()["id"]
    with app.test_request_context():
        case = db.session.get(Case, case_id)
        before = case.unit_name
        if how == "flush":
            case.unit_name = "改了但没有提交"
            db.session.flush()
        else:
            db.session.execute(
                update(Case).where(Case.id == case_id).values(unit_name="改了但没有提交")
            )
        assert not (db.session.new or db.session.dirty)
        assert end_read_only_transaction(None) is False
        db.session.remove()
    with app.app_context():
        assert db.session.get(Case, case_id).unit_name == before


def test_a_failed_flush_left_without_its_rollback_is_left_alone(app: Flask) -> None:
    # A view that swallowed a failed flush and answered: the session waits for its rollback.
    with app.test_request_context():
        taken = db.session.scalar(select(Agency).limit(1))
        db.session.add(Agency(code=taken.code, name="重复", kind=taken.kind, division="city"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        assert end_read_only_transaction(None) is False
        db.session.rollback()


def test_a_failed_request_is_not_committed(app: Flask) -> None:
    with app.test_request_context():
        db.session.scalar(select(Agency.id).limit(1))
        assert end_read_only_transaction(RuntimeError("the view failed")) is False
