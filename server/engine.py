"""The workflow engine of an app: one per process, specs stored in the database.

Process versions are recorded in the ``process_spec`` table when the app starts, so cases
keep their diagram after ``bpmn/`` changes; the calendar's administrator years come from the
``calendar_year`` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from flask import Flask, current_app

from server.extensions import db
from server.models import CalendarYear, ProcessSpecRow
from workflows.calendar import WorkingCalendar, parse_year_entry
from workflows.catalog import ProcessCatalog
from workflows.engine import Engine


class DatabaseSpecStore:
    """A :class:`workflows.catalog.SpecStore` over the ``process_spec`` table."""

    def save(self, process_id: str, version: str, files: Mapping[str, str]) -> None:
        """Record a version's files once."""
        if db.session.get(ProcessSpecRow, (process_id, version)) is None:
            db.session.add(
                ProcessSpecRow(
                    process_id=process_id,
                    version=version,
                    files=dict(files),
                    created_at=datetime.now(UTC),
                )
            )
            db.session.commit()

    def load(self, process_id: str, version: str) -> Mapping[str, str] | None:
        """Return a version's files, or None."""
        row = db.session.get(ProcessSpecRow, (process_id, version))
        return dict(row.files) if row is not None else None


def load_calendar() -> WorkingCalendar:
    """The statutory calendar plus every administrator year in the database."""
    calendar = WorkingCalendar()
    for row in db.session.scalars(db.select(CalendarYear)):
        entry = parse_year_entry({"holidays": row.holidays, "workdays": row.workdays})
        calendar = calendar.with_year(row.year, entry)
    return calendar


def init_engine(app: Flask) -> None:
    """Parse bpmn/ (fails fast on a broken diagram) and attach a lazy engine to ``app``."""
    app.extensions["duban_catalog_check"] = ProcessCatalog()  # validates now, at start-up


def get_engine() -> Engine:
    """The app's engine, created on first use (it needs the database for the spec store)."""
    extensions = current_app.extensions
    engine = extensions.get("duban_engine")
    if engine is None:
        engine = Engine(ProcessCatalog(DatabaseSpecStore()), load_calendar())
        extensions["duban_engine"] = engine
    return engine


def refresh_calendar() -> None:
    """Reload administrator years into the engine (after the calendar changed)."""
    get_engine().set_calendar(load_calendar())
