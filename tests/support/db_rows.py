"""Snapshots of database rows, to show that a failed operation changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from server.extensions import db


def all_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the migration version), in primary-key order.

    Call inside an app context; the session is left without loaded objects.
    """
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = [tuple(r) for r in db.session.execute(table.select().order_by(*order))]
    version = text("SELECT version_num FROM alembic_version")
    rows["alembic_version"] = list(db.session.scalars(version))
    db.session.remove()
    return rows


def case_rows(case_id: int, ignore: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """The rows of one case: the case (minus the ``ignore``d columns), its tasks, deadlines,
    events and notifications, in primary-key order."""
    from server.models import Case, Deadline, Event, Notification, Task

    out: dict[str, list[dict[str, Any]]] = {}
    for model, column in (
        (Case, Case.id),
        (Task, Task.case_id),
        (Deadline, Deadline.case_id),
        (Event, Event.case_id),
        (Notification, Notification.case_id),
    ):
        table = model.__table__
        query = table.select().where(column == case_id).order_by(*table.primary_key.columns)
        result = db.session.execute(query)
        out[table.name] = [
            {k: v for k, v in row._mapping.items() if k not in ignore} for row in result
        ]
    return out
