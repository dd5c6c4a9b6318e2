"""A small world of cases in two districts for the isolation matrix and the input fuzzing.

Built once per test module (it takes a few seconds): four matrix users per role, one in each
agency relation to the target cases, and four cases with tasks, attachments, missed deadlines,
escalation notifications and an auditor's batch export. Also :func:`db_snapshot`, a canonical
dump of every table used to prove that refused requests write nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import MetaData, Table, select
from werkzeug.datastructures import FileStorage

from server import create_app
from server.models import ROLES
from tests.support.major_hazard import sample
from workflows.calendar import SHANGHAI

from .conftest import PASSWORD, TEST_CONFIG, Databases

RELATIONS = ("same", "same_district", "other_district", "city")
#: The agency of the matrix users of each relation to the target case (a 武陵区 case discovered
#: by 南坪街道): the same agency, another agency of 武陵区, an agency of 鼎城区, a city agency.
RELATION_AGENCY = {
    "same": "street:wuling:nanping",
    "same_district": "fire_brigade:wuling",
    "other_district": "fire_brigade:dingcheng",
    "city": "fire_detachment:city",
}
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def matrix_user(role: str, relation: str) -> str:
    """The username of the matrix user with ``role`` in the agency of ``relation``."""
    return f"mx.{role}.{relation}"


@dataclass
class WorldCase:
    """A case of the world and the facts the expectations are derived from."""

    key: str
    id: int
    number: str
    unit_name: str
    district: str
    discoverer: str  # agency code
    task_id: str  # its open task
    task_agency: str  # agency code of the open task
    attachment_id: int
    document_id: int  # an issued document (B1: the referral letter its referral issued)
    document_agency: str  # agency code of the document's issuer (who may correct it)

    def markers(self) -> tuple[str, ...]:
        """Strings that only this case's content contains (the leak detectors)."""
        return (self.number, self.unit_name)


@dataclass
class World:
    """What the fixture built."""

    cases: dict[str, WorldCase]
    agencies: dict[str, tuple[str, str]]  # username → (agency code, division)
    foreign_notification: int  # a notification of a user outside the matrix
    foreign_job: str  # an export job of an auditor outside the matrix
    upload_dir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def relation(self, username: str, case: WorldCase) -> str:
        """The agency relation of a user to a case, from the fixture's facts."""
        code, division = self.agencies[username]
        if code in (case.discoverer, case.task_agency):
            return "same"
        if division == case.district:
            return "same_district"
        if division == "city":
            return "city"
        return "other_district"


def today() -> Any:
    """Today in Asia/Shanghai."""
    return datetime.now(SHANGHAI).date()


def make_app(databases: Databases, workdir: Path) -> tuple[Flask, str]:
    """An app over a new database (the caller drops it with ``databases.drop(url)``)."""
    url = databases.new()
    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(workdir / "attachments"),
            "EXPORT_DIR": str(workdir / "exports"),
            "EXPORT_SYNC": True,
        }
    )
    return app, url


def build_world(app: Flask) -> World:
    """Create the matrix users and the cases (see the module docstring)."""
    from server import operations
    from server.attachments import add_attachment
    from server.directory import create_user
    from server.exports import start_export
    from server.extensions import db
    from server.models import Agency, Document, Notification, Task, User

    with app.app_context():
        for role in ROLES:
            for relation, code in RELATION_AGENCY.items():
                create_user(
                    matrix_user(role, relation), f"矩阵{role}{relation}", code, role, PASSWORD
                )
        db.session.commit()

        def user(name: str) -> User:
            found = db.session.scalar(select(User).where(User.username == name))
            assert found is not None, name
            return found

        def open_case(key: str, by: str, days_ago: int, district: str, then: str | None = None):
            found = today() - timedelta(days=days_ago)
            data = sample(
                "register_hazard",
                found,
                unit_name=f"矩阵{key}号单位",
                address=f"矩阵{key}号地址",
                district=district,
            )
            case = operations.start_case(user(by), "major_hazard", data)
            if then is not None:  # complete the open task once more, e.g. the referral
                task = db.session.scalar(
                    select(Task).where(Task.case_id == case.id, Task.state == "ready")
                )
                assert task is not None
                operations.complete_task(user(by), task, sample(task.name, today()))
            return case

        specs = {
            # (registered by, days ago, district, complete one more step, claimed by)
            "A1": ("wuling.nanping", 30, "wuling", None, "wuling.nanping"),
            "A2": ("wuling.chuanzihe", 1, "wuling", None, None),
            "B1": ("dingcheng.yuxia", 30, "dingcheng", "refer", "dingcheng.fire"),
            "B2": ("dingcheng.wulingzhen", 2, "dingcheng", None, None),
        }
        cases: dict[str, WorldCase] = {}
        for key, (by, days_ago, district, then, claimer) in specs.items():
            case = open_case(key, by, days_ago, district, then)
            task = db.session.scalar(
                select(Task).where(Task.case_id == case.id, Task.state == "ready")
            )
            assert task is not None
            if claimer is not None:
                operations.claim_task(user(claimer), task)
            upload = FileStorage(io.BytesIO(PDF_BYTES + key.encode()), f"{key}现场照片.pdf")
            attachment = add_attachment(user(by), case, upload)
            agency = db.session.get(Agency, task.agency_id)
            assert agency is not None
            document = db.session.scalar(select(Document).where(Document.case_id == case.id))
            if document is None:  # a case still at its referral: a document row over its upload
                document = Document(
                    case_id=case.id,
                    attachment_id=attachment.id,
                    kind="hazard_referral_letter",
                    title=f"矩阵{key}号文书",
                    number=f"矩阵函〔2026〕{case.id}号",
                    agency_id=case.discoverer_agency_id,
                    year=2026,
                    seq=1000 + case.id,
                    task_id=task.id,
                    task_name=task.name,
                    sha256=attachment.sha256,
                    issued_at=attachment.uploaded_at,
                    issued_by_id=attachment.uploaded_by_id,
                )
                db.session.add(document)
                db.session.commit()
            cases[key] = WorldCase(
                key=key,
                id=case.id,
                number=case.number,
                unit_name=case.unit_name,
                district=case.district,
                discoverer=case.discoverer_agency.code,
                task_id=task.id,
                task_agency=agency.code,
                attachment_id=attachment.id,
                document_id=document.id,
                document_agency=db.session.get(Agency, document.agency_id).code,
            )
        other = user("wuling.supervisor")
        note = Notification(
            user_id=other.id,
            case_id=cases["A1"].id,
            kind="escalation",
            title=f"督办提醒：{cases['A1'].number}",
            body="矩阵测试通知",
            created_at=datetime.now(SHANGHAI),
        )
        db.session.add(note)
        db.session.commit()
        job = start_export(user("city.auditor"), {"district": "dingcheng"})
        agencies = {
            u.username: (u.agency.code, u.agency.division)
            for u in db.session.scalars(select(User).where(User.username.like("mx.%")))
        }
        world = World(
            cases=cases,
            agencies=agencies,
            foreign_notification=note.id,
            foreign_job=job.id,
            upload_dir=Path(app.config["UPLOAD_DIR"]),
        )
        db.session.remove()
    return world


@dataclass
class Snapshot:
    """Every row of every table, and the files under the upload folder."""

    tables: dict[str, list[tuple[Any, ...]]]
    files: dict[str, int]

    def diff(self, other: Snapshot) -> list[str]:
        """What changed from ``self`` to ``other``, table by table (empty when nothing)."""
        changes = []
        for name in sorted(set(self.tables) | set(other.tables)):
            before, after = self.tables.get(name, []), other.tables.get(name, [])
            if before != after:
                added = [row for row in after if row not in before]
                removed = [row for row in before if row not in after]
                changes.append(f"{name}: +{added[:3]!r} -{removed[:3]!r}")
        if self.files != other.files:
            changes.append(f"upload folder: {sorted(set(other.files) ^ set(self.files))}")
        return changes


#: Tables that reads may legitimately touch. None today: reads write nothing, a login or a
#: token is taken before the first snapshot. (Add e.g. a "last seen" table here, with why.)
READ_TOUCHED_TABLES: frozenset[str] = frozenset()

_reflected: dict[str, list[Table]] = {}


def _tables(app: Flask) -> list[Table]:
    from server.extensions import db

    url = str(db.engine.url)
    if url not in _reflected:
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        _reflected[url] = [t for t in metadata.sorted_tables if t.name not in READ_TOUCHED_TABLES]
    return _reflected[url]


def db_snapshot(app: Flask) -> Snapshot:
    """Every row of every table (reflected from the database itself, so tables added by
    later migrations count too), ordered by primary key; works on SQLite and PostgreSQL."""
    from server.extensions import db

    with app.app_context():
        tables: dict[str, list[tuple[Any, ...]]] = {}
        with db.engine.connect() as connection:
            for table in _tables(app):
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(select(table).order_by(*order)).all()
                tables[table.name] = [tuple(row) for row in rows]
        upload_dir = Path(app.config["UPLOAD_DIR"])
        files = {
            str(p.relative_to(upload_dir)): p.stat().st_size
            for p in upload_dir.rglob("*")
            if p.is_file()
        }
    return Snapshot(tables, files)


def module_world(
    databases: Databases, tmp_path_factory: Any, name: str
) -> Iterator[tuple[Flask, World]]:
    """The body of a module-scoped fixture: app and world, the database dropped afterwards."""
    app, url = make_app(databases, tmp_path_factory.mktemp(name))
    world = build_world(app)
    yield app, world
    with app.app_context():
        from server.extensions import db

        db.session.remove()
        db.engine.dispose()
    databases.drop(url)
