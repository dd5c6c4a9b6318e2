"""``flask --app server backup`` / ``restore``: online SQLite backups and their round trip.

PostgreSQL uses pg_dump/pg_restore (documented in the README); only the commands built for
it are checked here.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from server.backup import pg_dump_command, pg_restore_command, shown
from server.extensions import db
from server.models import Case, User
from server.operations import start_case, today_shanghai
from tests.support.db_rows import all_rows
from tests.support.major_hazard import sample

sqlite_only = pytest.mark.skipif(
    bool(os.environ.get("DUBAN_TEST_POSTGRES")),
    reason="SQLite online backup API; PostgreSQL backups are pg_dump/pg_restore",
)


def db_file(app: Flask) -> Path:
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every table (and the migration version)."""
    with app.app_context():
        return all_rows()


def open_case(app: Flask, unit: str = "常德市武陵区星光KTV") -> int:
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "wuling.nanping"))
        found = today_shanghai() - timedelta(days=1)
        case = start_case(officer, "major_hazard", sample("register_hazard", found, unit_name=unit))
        return case.id


@sqlite_only
def test_backup_and_restore_round_trip(app: Flask, runner, auth, tmp_path: Path):
    open_case(app)
    auth.login("wuling.nanping")
    before = snapshot(app)
    file = tmp_path / "backups" / "duban.sqlite3"
    result = runner.invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    assert f"已备份到 {file}" in result.output and "1 个案件" in result.output
    assert not list(file.parent.glob(".*"))  # no temporary file left beside it

    # Life goes on after the backup: another case, more login events.
    open_case(app, "常德市武陵区另一家单位")
    auth.login("wuling.fire")
    assert snapshot(app) != before

    refused = runner.invoke(args=["restore", str(file)])
    assert refused.exit_code != 0
    assert "已有数据，恢复会覆盖它。确认覆盖请加 --yes" in refused.output
    assert snapshot(app)["case"] != before["case"]  # nothing was restored

    restored = runner.invoke(args=["restore", str(file), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert f"已从 {file} 恢复" in restored.output
    assert "校验审计链" in restored.output and "0 failed" in restored.output
    assert snapshot(app) == before
    with app.app_context():  # the running app reads the restored database
        assert db.session.scalar(select(Case.unit_name)) == "常德市武陵区星光KTV"


@sqlite_only
def test_backup_while_another_connection_writes(app: Flask, runner, tmp_path: Path):
    case_id = open_case(app)
    before = snapshot(app)
    writer = sqlite3.connect(db_file(app), timeout=5)
    try:
        # A write transaction open in another connection (another process of the app) ...
        writer.execute("BEGIN IMMEDIATE")
        writer.execute('UPDATE "case" SET stage = ? WHERE id = ?', ("写入中", case_id))
        file = tmp_path / "during-write.sqlite3"
        result = runner.invoke(args=["backup", str(file)])
        assert result.exit_code == 0, result.output
        writer.commit()  # ... is not in the backup, which is a consistent snapshot

        # Writers committing all the time while a backup is taken do not break it either.
        stop = threading.Event()
        writes: list[int] = []
        started = threading.Event()

        def keep_writing() -> None:
            other = sqlite3.connect(db_file(app), timeout=5)
            n = 0
            while not stop.is_set():
                other.execute('UPDATE "case" SET stage = ? WHERE id = ?', (f"第{n}次", case_id))
                other.commit()
                n += 1
                started.set()
            other.close()
            writes.append(n)

        thread = threading.Thread(target=keep_writing)
        thread.start()
        assert started.wait(10)
        try:
            busy = runner.invoke(args=["backup", str(tmp_path / "busy.sqlite3")])
        finally:
            stop.set()
            thread.join()
        assert busy.exit_code == 0, busy.output
        assert writes and writes[0] > 0
    finally:
        writer.close()
    with sqlite3.connect(tmp_path / "busy.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    restored = runner.invoke(args=["restore", str(file), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert snapshot(app) == before


@sqlite_only
def test_restore_refuses_what_is_not_a_duban_database(app: Flask, runner, tmp_path: Path):
    before = snapshot(app)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("这不是数据库", encoding="utf-8")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    old = tmp_path / "old.sqlite3"
    assert runner.invoke(args=["backup", str(old)]).exit_code == 0
    with sqlite3.connect(old) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'")
    cases = [
        (tmp_path / "missing.sqlite3", "备份文件不存在"),
        (text_file, "不是 SQLite 数据库文件"),
        (other, "不是督办系统的数据库"),
        (old, "备份的数据库版本（a1b2c3d4e5f6）与当前程序的迁移版本"),
    ]
    for path, message in cases:
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code != 0, path
        assert message in result.output, result.output
    assert snapshot(app) == before


@sqlite_only
def test_restore_into_an_empty_database_needs_no_yes(app: Flask, runner, tmp_path: Path):
    file = tmp_path / "backup.sqlite3"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    before = snapshot(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    target = db_file(app)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    result = runner.invoke(args=["restore", str(file)])
    assert result.exit_code == 0, result.output
    assert snapshot(app) == before


@sqlite_only
def test_restore_verifies_the_audit_chains(app: Flask, runner, tmp_path: Path):
    case_id = open_case(app)
    file = tmp_path / "tampered.sqlite3"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    with sqlite3.connect(file) as connection:
        connection.execute("UPDATE event SET kind = 'x' WHERE case_id = ? AND seq = 1", (case_id,))
    result = runner.invoke(args=["restore", str(file), "--yes"])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "第1号事件内容已被改动" in result.output


def test_postgresql_commands():
    url = make_url("postgresql+psycopg://duban:s3cret@db.example:5432/duban")
    dump = pg_dump_command(url, Path("/backups/duban.dump"))
    assert dump[:2] == ["pg_dump", "--format=custom"]
    assert dump[-1] == "postgresql://duban:s3cret@db.example:5432/duban"
    assert "--file=/backups/duban.dump" in dump
    restore = pg_restore_command(url, Path("/backups/duban.dump"))
    assert restore[0] == "pg_restore" and {"--clean", "--if-exists", "--no-owner"} <= set(restore)
    assert "s3cret" not in shown(restore, url) and ":***@db.example" in shown(restore, url)
