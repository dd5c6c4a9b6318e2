"""Database set-up details: SQLite pragmas (WAL, foreign keys), and on PostgreSQL the end of a
read-only request's transaction with COMMIT, which keeps the connection's prepared statements
(psycopg forgets them all on every ROLLBACK)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from server.extensions import db

#: ``Connection.info`` key: a statement other than a SELECT ran in the current transaction.
WROTE = "duban_wrote"


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching to (or confirming) WAL takes a lock, and without a
        # timeout a new connection fails at once ("database is locked") while another process
        # writes — e.g. a gunicorn worker's request while the other worker's scheduler writes.
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 64 MB page cache (default 2 MB): a sweep or a request touches pages all over a large
        # file. (synchronous stays FULL: a committed step must survive a power cut.)
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()


def _note_write(conn: Connection, cursor, statement: str, *args: Any) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[WROTE] = True


def _transaction_ended(conn: Connection) -> None:
    conn.info.pop(WROTE, None)


def _end_request(exc: BaseException | None = None) -> None:
    """The teardown hook: :func:`end_read_only_transaction`, its answer unused."""
    end_read_only_transaction(exc)


def end_read_only_transaction(exc: BaseException | None = None) -> bool:
    """At the end of a request, COMMIT a PostgreSQL transaction that only read.

    Flask-SQLAlchemy then ends the request with a ROLLBACK, after which psycopg deallocates
    every prepared statement of the connection, so each request parsed and planned all its
    statements anew (about 40 % of a completion's time in the database). COMMIT and ROLLBACK
    are the same for a transaction that wrote nothing; anything else (pending objects, a
    statement that was not a SELECT, an error) is left to the rollback as before.

    :returns: whether it committed.
    """
    session = db.session()  # this request's session (the scoped proxy lacks in_transaction)
    transaction = session.get_transaction()
    if exc is not None or transaction is None or not transaction.is_active:
        return False  # nothing begun, or a failed flush awaiting its rollback
    if session.new or session.dirty or session.deleted:
        return False
    try:
        connection = session.connection()
        if connection.dialect.name != "postgresql" or connection.info.get(WROTE):
            return False
        session.commit()
    except Exception:
        session.rollback()
        return False
    return True


def init_app(app: Flask) -> None:
    """Register the connection listeners once, and the end of read-only requests."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    with app.app_context():
        engine = db.engine
    # Whether a transaction wrote matters on PostgreSQL only: elsewhere no statement pays for
    # the listener.
    if engine.dialect.name == "postgresql" and not event.contains(
        engine, "before_cursor_execute", _note_write
    ):
        event.listen(engine, "before_cursor_execute", _note_write)
        event.listen(engine, "commit", _transaction_ended)
        event.listen(engine, "rollback", _transaction_ended)
    app.teardown_request(_end_request)
