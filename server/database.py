"""Database set-up details: SQLite pragmas (WAL, foreign keys)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # 64 MB page cache (default 2 MB): a sweep or a request touches pages all over a large
        # file. (synchronous stays FULL: a committed step must survive a power cut.)
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()


def init_app(app: Flask) -> None:
    """Register the connection listener once."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
