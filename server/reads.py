"""Reading the database, for the HTML views: the session's read methods, and nothing that
writes.

The views (``server/views/``, ``server/admin/settings_views.py``) may not import the session
(``server.extensions``) or the audit chain: an import contract, checked by ``lint-imports`` in
``make lint`` (pyproject.toml, ARCHITECTURE.md), keeps them out. Views read through these
functions, which take SELECT statements only, and change data through ``server.operations``
and the other modules that own a write (one transaction each).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Result, ScalarResult, Select

from server.extensions import db

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def _select(statement: Any) -> Select[Any]:
    if not isinstance(statement, Select):
        raise TypeError(f"server.reads runs SELECT statements only, not {type(statement)}")
    return statement


def scalar(statement: Select[Any], params: Mapping[str, Any] | None = None) -> Any:
    """The first column of the first row (None without rows); ``params``: the values of the
    statement's bound parameters (a statement built once)."""
    return db.session.scalar(_select(statement), params)


def scalars(statement: Select[Any], params: Mapping[str, Any] | None = None) -> ScalarResult[Any]:
    """The first column of every row."""
    return db.session.scalars(_select(statement), params)


def execute(statement: Select[*Ts], params: Mapping[str, Any] | None = None) -> Result[*Ts]:
    """The rows."""
    _select(statement)
    return db.session.execute(statement, params)


def get(model: type[T], ident: Any) -> T | None:
    """The row of ``model`` with primary key ``ident``, or None."""
    return db.session.get(model, ident)


def rollback() -> None:
    """End a transaction that failed while reading (so that the page can still render)."""
    db.session.rollback()


def columns(statement: Select[*Ts], params: Mapping[str, Any] | None = None) -> Result[*Ts]:
    """The rows of a statement of plain columns (no ORM entity, no bundle), run on the
    session's connection without the ORM's execution: about 0.05–0.25 ms less a statement
    (no autoflush either: a read-only page holds nothing pending)."""
    return db.session.connection().execute(_select(statement), params)
