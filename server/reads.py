"""Reading the database, for the HTML views: the session's read methods, and nothing that
writes.

The views (``server/views/``, ``server/admin/settings_views.py``) may not import the session
(``server.extensions``) or the audit chain: an import contract, checked by ``lint-imports`` in
``make lint`` (pyproject.toml, ARCHITECTURE.md), keeps them out. Views read through these
functions, which take SELECT statements only, and change data through ``server.operations``
and the other modules that own a write (one transaction each).
"""

from __future__ import annotations

from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Result, ScalarResult, Select

from server.extensions import db

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def _select(statement: Any) -> Select[Any]:
    if not isinstance(statement, Select):
        raise TypeError(f"server.reads runs SELECT statements only, not {type(statement)}")
    return statement


def scalar(statement: Select[Any]) -> Any:
    """The first column of the first row (None without rows)."""
    return db.session.scalar(_select(statement))


def scalars(statement: Select[Any]) -> ScalarResult[Any]:
    """The first column of every row."""
    return db.session.scalars(_select(statement))


def execute(statement: Select[*Ts]) -> Result[*Ts]:
    """The rows."""
    _select(statement)
    return db.session.execute(statement)


def get(model: type[T], ident: Any) -> T | None:
    """The row of ``model`` with primary key ``ident``, or None."""
    return db.session.get(model, ident)


def rollback() -> None:
    """End a transaction that failed while reading (so that the page can still render)."""
    db.session.rollback()
