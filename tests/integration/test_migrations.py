"""The migrations, on SQLite and (with ``DUBAN_TEST_POSTGRES``) PostgreSQL.

From an empty database to head through ``init-db``; from every revision to head with the rows
written at that revision (the tables and columns that existed then, written with plain SQL
statements on the reflected schema, not through the models of today) kept and the app working
on them; down to base and up again; and the models matching what the migrations build.

The rows are a small world made at head through the operations — a case escalated by the sweep
(notifications), a case with a completed and a claimed task, an attachment, a fire whose warning
is on the board, a calendar year, an API token, an export job — read back raw.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Engine, MetaData, insert, inspect, select, text
from werkzeug.datastructures import FileStorage

from server import create_app
from server.admin.legal_settings import save_setting
from server.attachments import add_attachment
from server.exports import start_export
from server.extensions import db
from server.models import Case, Task, User
from server.operations import (
    claim_task,
    complete_task,
    save_calendar_year,
    save_draft,
    start_case,
    today_shanghai,
)
from server.sweep import sweep
from tests.integration.conftest import TEST_CONFIG, Auth, Databases
from tests.support import fire_accountability, major_hazard
from tests.support.api import Api

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def revisions() -> list[str]:
    """The revisions from the first to head."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return [r.revision for r in reversed(list(script.walk_revisions()))]


HEAD = revisions()[-1]


@contextmanager
def app_on(url: str, workdir: Path) -> Iterator[Flask]:
    """An app over ``url``; its connections are closed afterwards."""
    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(workdir / "attachments"),
            "EXPORT_DIR": str(workdir / "exports"),
            "EXPORT_SYNC": True,
        }
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def ready_task(case_id: int, name: str) -> Task:
    return db.session.scalar(
        select(Task).where(Task.case_id == case_id, Task.name == name, Task.state == "ready")
    )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


Rows = dict[str, list[dict[str, Any]]]


def dump(engine: Engine) -> Rows:
    """Every table's rows as the database holds them (schema reflected), in dependency order."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {
            table.name: [dict(row) for row in connection.execute(select(table)).mappings()]
            for table in meta.sorted_tables
            if table.name != "alembic_version"
        }


def write(engine: Engine, rows: Rows) -> dict[str, list[str]]:
    """Insert ``rows`` into the tables the database has now, with the columns it has now.

    Returns the columns written per table. On PostgreSQL the id sequences are moved past the
    ids written, as after a real history of inserts.
    """
    meta = MetaData()
    meta.reflect(engine)
    written: dict[str, list[str]] = {}
    with engine.begin() as connection:
        for name, table_rows in rows.items():
            if name not in meta.tables or not table_rows:
                continue
            table = meta.tables[name]
            columns = [c for c in table_rows[0] if c in table.c]
            connection.execute(insert(table), [{c: row[c] for c in columns} for row in table_rows])
            written[name] = columns
            ids = [row["id"] for row in table_rows if isinstance(row.get("id"), int)]
            if engine.dialect.name == "postgresql" and ids:
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                    {"table": f'"{name}"', "last": max(ids)},
                )
    return written


@dataclass
class World:
    """The rows to migrate, and the case the app is then tried on."""

    rows: Rows
    claimed_case: int  # its task file_case is ready and claimed by wuling.fire


@pytest.fixture(scope="module")
def world(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = databases.new()
    workdir = tmp_path_factory.mktemp("world")
    with app_on(url, workdir) as app:
        Auth(app, app.test_client()).token("wuling.fire")  # an api_token row
        with app.app_context():
            today = today_shanghai()
            street = user("wuling.nanping")
            app.config["MAIL_SERVER"] = "127.0.0.1"  # the escalation's messages are queued
            for person in db.session.scalars(select(User)):
                person.email, person.mail_enabled = f"user{person.id}@example.gov.cn", True
            db.session.commit()
            found = major_hazard.sample("register_hazard", today - timedelta(days=20))
            start_case(street, "major_hazard", found)
            sweep()  # overdue (if not already at the start): deadline missed, escalated, notified
            found = major_hazard.sample("register_hazard", today - timedelta(days=1))
            case = start_case(street, "major_hazard", found)
            claimed_case = case.id
            referral = ready_task(case.id, "refer_to_fire_rescue")
            complete_task(street, referral, major_hazard.sample("refer_to_fire_rescue", today))
            claim_task(user("wuling.fire"), ready_task(case.id, "file_case"))
            save_draft(user("wuling.fire"), ready_task(case.id, "file_case"), {"case_no": "草"})
            add_attachment(street, case, FileStorage(io.BytesIO(PDF), filename="现场照片.pdf"))
            fire = start_case(
                user("dingcheng.fire"),
                "fire_accountability",
                fire_accountability.sample(
                    "register_fire", today, site_type="residence", direct_loss=30000
                ),
            )
            for officer, name in (
                ("dingcheng.fire", "simplified_determination"),
                ("dingcheng.gov", "publish_warning"),
            ):
                complete_task(user(officer), ready_task(fire.id, name),
                              fire_accountability.sample(name, today))  # fmt: skip
            save_calendar_year(user("admin"), 2027, {"holidays": ["2027-01-01"], "workdays": []})
            save_setting(user("admin"), "fire_property_only_city_min_loss", 2000000)
            start_export(user("city.auditor"), {})
            from server.admin import directory_admin

            agency = directory_admin.agency_by_code("fire_brigade:wuling")
            contact = {"name": "值班室", "phone": "0736-1"}
            directory_admin.add_contact(user("admin"), agency, contact)
            pattern = "{agency_short}隐改〔{year}〕{seq:03d}号"
            directory_admin.set_numbering(user("admin"), agency, "rectification_notice", pattern)
            from server.report_cases import generate, previous_month

            generate("monthly", previous_month(today))  # report rows, cases the system opened
            rows = dump(db.engine)
    databases.drop(url)
    empty = sorted(name for name, table_rows in rows.items() if not table_rows)
    assert empty == [], f"the world has no row in {empty}: add one"
    yield World(rows, claimed_case)


def test_an_empty_database_is_migrated_to_head_by_init_db(databases, tmp_path):
    url = databases.empty()
    try:
        with app_on(url, tmp_path) as app:
            runner = app.test_cli_runner()
            result = runner.invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
            with app.app_context():
                assert current_revision(db.engine) == HEAD
                tables = set(inspect(db.engine).get_table_names())
                assert tables == set(db.metadata.tables) | {"alembic_version"}
            again = runner.invoke(args=["init-db"])  # idempotent: every start may run it
            assert again.exit_code == 0, again.output
    finally:
        databases.drop(url)


def rows_at(rows: Rows, engine: Engine) -> Rows:
    """The world's rows a database at its current revision can hold: before the reports
    (c3f5a7e9b1d4) no case was opened by the system, so those cases and their rows are left
    out."""
    if "report" in inspect(engine).get_table_names():
        return rows
    system = {row["id"] for row in rows["case"] if row["opened_by_id"] is None}
    notifications = {r["id"] for r in rows.get("notification", []) if r.get("case_id") in system}
    kept: Rows = {}
    for name, table_rows in rows.items():
        kept[name] = [
            row
            for row in table_rows
            if (row["id"] not in system if name == "case" else row.get("case_id") not in system)
            and row.get("notification_id") not in notifications
        ]
    return kept


@pytest.mark.parametrize("revision", revisions())
def test_rows_written_at_a_revision_survive_the_upgrade_to_head(
    revision, world, databases, tmp_path
):
    url = databases.empty()
    try:
        with app_on(url, tmp_path) as app:
            with app.app_context():
                upgrade(directory=str(MIGRATIONS), revision=revision)
                assert current_revision(db.engine) == revision
                rows = rows_at(world.rows, db.engine)
                written = write(db.engine, rows)
                assert "case" in written and "event" in written
            result = app.test_cli_runner().invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
            with app.app_context():
                assert current_revision(db.engine) == HEAD
                after = dump(db.engine)
                pk = {name: inspect(db.engine).get_pk_constraint(name) for name in written}
            for name, columns in written.items():
                keys = pk[name]["constrained_columns"]
                stored = {tuple(r[k] for k in keys): r for r in after[name]}
                assert len(stored) == len(rows[name]), name
                for row in rows[name]:
                    new = stored[tuple(row[k] for k in keys)]
                    assert {c: new[c] for c in columns} == {c: row[c] for c in columns}, name

            # The app works on the migrated rows: pages, a task completed, the chains intact.
            client = app.test_client()
            auth = Auth(app, client)
            auth.login("wuling.fire")
            case_id = world.claimed_case
            assert client.get(f"/cases/{case_id}").status_code == 200
            assert client.get("/").status_code == 200
            case = Api(client, auth).complete("wuling.fire", case_id, "file_case")
            assert "file_case" not in [t["name"] for t in case["tasks"]]
            verified = app.test_cli_runner().invoke(args=["audit", "verify"])
            assert verified.exit_code == 0, verified.output
    finally:
        databases.drop(url)


def test_down_to_base_and_up_again(databases, tmp_path):
    url = databases.new()  # at head, with the agencies and users
    try:
        with app_on(url, tmp_path) as app:
            with app.app_context():
                downgrade(directory=str(MIGRATIONS), revision="base")
                assert current_revision(db.engine) is None
                assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
                db.session.remove()
            result = app.test_cli_runner().invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
            with app.app_context():
                assert current_revision(db.engine) == HEAD
                tables = set(inspect(db.engine).get_table_names())
                assert tables == set(db.metadata.tables) | {"alembic_version"}
                # An empty schema again: the app starts a case on it once agencies exist.
                assert db.session.scalar(select(Case.id).limit(1)) is None
    finally:
        databases.drop(url)


def test_the_models_match_the_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
