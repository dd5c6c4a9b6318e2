"""``flask --app server …`` on a database that is not initialised (issue 15 §6): the commands
that need the database say to run ``init-db`` and exit non-zero instead of a traceback; the
commands that do not need it (``judge-hazard``) keep working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from server import create_app
from tests.integration.conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parents[2]
INIT_DB = "flask --app server init-db"


@pytest.fixture
def fresh_app(databases) -> Iterator[Flask]:
    """An app over a database without any table."""
    url = databases.empty()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        from server.extensions import db

        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


@pytest.mark.parametrize(
    "args",
    [
        ["deadline", "2026-09-24", "5"],
        ["deadline", "2026-09-20", "11", "--calendar-days"],
        ["users", "list"],
        ["sweep"],
        ["audit", "verify"],
        ["dossier", "1", "-o", "-"],
        ["seed-demo"],
        ["grade-fire", "--deaths", "1", "--site", "residence"],
        ["calendar", "import", "2027", "{file}"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_commands_on_an_uninitialised_database_name_init_db(
    fresh_app: Flask, tmp_path: Path, args: list[str]
) -> None:
    entry = tmp_path / "2027.json"
    entry.write_text('{"holidays": ["2027-01-01"]}', encoding="utf-8")
    result = fresh_app.test_cli_runner().invoke(args=[a.format(file=entry) for a in args])
    assert result.exit_code == 1, result.output
    assert "尚未初始化" in result.output and INIT_DB in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_judge_hazard_needs_no_database(fresh_app: Flask) -> None:
    args = ["judge-hazard", "--category", "crowded", "--elements", "6.5"]
    result = fresh_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["major"] is True


def test_an_old_schema_is_told_to_upgrade(app: Flask, runner) -> None:
    from sqlalchemy import text

    from server.extensions import db

    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '0e147774a40f'"))
        db.session.commit()
    result = runner.invoke(args=["deadline", "2026-09-24", "5"])
    assert result.exit_code == 1
    assert "0e147774a40f" in result.output and INIT_DB in result.output


def test_after_init_db_the_deadline_is_printed(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["deadline", "2026-09-24", "5"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["due"] == "2026-10-09T23:59:59+08:00"


def test_the_real_command_prints_no_traceback(databases) -> None:
    url = databases.empty()
    try:
        env = {**os.environ, "DATABASE_URL": url, "SCHEDULER_ENABLED": "0"}
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "server", "deadline", "2026-09-24", "5"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert INIT_DB in done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert done.stdout == ""
    finally:
        databases.drop(url)
