"""Backups of the database: online copies of SQLite, ``pg_dump``/``pg_restore`` for PostgreSQL.

SQLite: ``backup`` uses SQLite's online backup API, so it takes a consistent snapshot while the
app keeps serving (WAL: writers are not blocked, a transaction still open is not in the copy).
``restore`` first checks that the file is a sound Duban database at the current migration head,
then copies it into the configured database with the same API (the app's other connections
see the restored content at their next transaction), then the caller verifies the audit chains.

PostgreSQL: ``pg_dump -Fc`` and ``pg_restore --clean --if-exists --no-owner`` (the custom format
restores into an existing, migrated or empty database). When the client tools are missing the
commands are printed for the operator to run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import URL, make_url

from server.extensions import db

#: Tables a file must have to be taken for a Duban database.
REQUIRED_TABLES = frozenset({"alembic_version", "agency", "user", "case", "task", "event"})


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator (Chinese)."""


def migration_heads() -> set[str]:
    """The head revision(s) of ``migrations/``."""
    directory = current_app.extensions["migrate"].directory
    config = Config()
    config.set_main_option("script_location", str(directory))
    return set(ScriptDirectory.from_config(config).get_heads())


def database_url() -> URL:
    """The configured database URL."""
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def sqlite_path(url: URL) -> Path:
    """The file of a SQLite URL (an in-memory database cannot be backed up)."""
    if not url.database or url.database == ":memory:":
        raise BackupError("内存数据库无法备份或恢复")
    return Path(url.database)


# --- SQLite ----------------------------------------------------------------------------------


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy the live database ``source`` into the new file ``target`` (online backup API).

    Written to a temporary file next to ``target`` and renamed, so a failed backup leaves no
    half-written file under the requested name.
    """
    if not source.exists():
        raise BackupError(f"数据库文件不存在：{source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        with (
            _connect(f"file:{source}?mode=ro", uri=True) as src,
            _connect(temp) as dst,
        ):
            src.execute("PRAGMA busy_timeout=5000")
            src.backup(dst)
            # A self-contained file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class _connect:
    """``sqlite3.connect`` as a context manager that closes (sqlite3's own only commits)."""

    def __init__(self, database: str | Path, uri: bool = False) -> None:
        self.connection = sqlite3.connect(database, uri=uri)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


@dataclass(frozen=True)
class SqliteCheck:
    """What :func:`check_sqlite_backup` found in a file."""

    revision: str
    cases: int
    events: int


def check_sqlite_backup(path: Path, heads: set[str]) -> SqliteCheck:
    """Check that ``path`` is a sound Duban database at one of ``heads``.

    :raises BackupError: not a SQLite file, damaged, not Duban's, or at another migration.
    """
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} 不是 SQLite 数据库文件")
    try:
        with _connect(f"file:{path}?mode=ro", uri=True) as connection:
            (integrity,) = connection.execute("PRAGMA integrity_check").fetchone()
            if integrity != "ok":
                raise BackupError(f"备份文件已损坏（integrity_check：{integrity}）")
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            missing = REQUIRED_TABLES - tables
            if missing:
                names = ", ".join(sorted(missing))
                raise BackupError(f"{path} 不是督办系统的数据库（缺少表 {names}）")
            rows = connection.execute("SELECT version_num FROM alembic_version")
            revisions = {row[0] for row in rows}
            if revisions != heads:
                found = ", ".join(sorted(revisions)) or "无"
                raise BackupError(
                    f"备份的数据库版本（{found}）与当前程序的迁移版本（{', '.join(sorted(heads))}）"
                    "不一致，请用相同版本的程序恢复"
                )
            (cases,) = connection.execute('SELECT count(*) FROM "case"').fetchone()
            (events,) = connection.execute("SELECT count(*) FROM event").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"无法读取 {path}：{exc}") from exc
    return SqliteCheck(next(iter(revisions)), cases, events)


def sqlite_has_data(path: Path) -> bool:
    """True if ``path`` is a database with at least one table (restoring would overwrite it)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _connect(f"file:{path}?mode=ro", uri=True) as connection:
        row = connection.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
    return bool(row[0])


def restore_sqlite(backup: Path, target: Path) -> None:
    """Copy the checked file ``backup`` over the database ``target`` (online backup API)."""
    # The app's pooled connections are returned first; they reconnect to the restored file.
    db.session.remove()
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _connect(f"file:{backup}?mode=ro", uri=True) as src, _connect(target) as dst:
        dst.execute("PRAGMA busy_timeout=5000")
        src.backup(dst)
    db.engine.dispose()


# --- PostgreSQL -------------------------------------------------------------------------------


def libpq_url(url: URL) -> str:
    """A libpq connection URI for the pg_* tools (SQLAlchemy's driver name removed)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_dump_command(url: URL, file: Path) -> list[str]:
    """The ``pg_dump`` command writing the custom-format archive ``file``."""
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={file}", libpq_url(url)]


def pg_restore_command(url: URL, file: Path) -> list[str]:
    """The ``pg_restore`` command replacing the database's objects with the archive's."""
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={libpq_url(url)}",
        str(file),
    ]


def shown(command: list[str], url: URL) -> str:
    """A command as printed for the operator, the password masked."""
    secret = url.password
    text = subprocess.list2cmdline(command)
    return text.replace(f":{secret}@", ":***@") if secret else text


def run_tool(command: list[str]) -> bool:
    """Run a PostgreSQL client tool; False when it is not installed."""
    if shutil.which(command[0]) is None:
        return False
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        error = result.stderr.strip()
        raise BackupError(f"{command[0]} 失败（退出码 {result.returncode}）：{error}")
    return True
