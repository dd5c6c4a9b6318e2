"""Database models (SQLAlchemy 2, typed). The schema is managed by migrations in ``migrations/``.

The inbox, deadlines and dashboards read the ``task``, ``deadline`` and ``case`` tables, which
every step keeps in step with the workflow; nothing on a list page deserialises a workflow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from server.extensions import db


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset: without this, Asia/Shanghai wall-clock digits would be read back as
    UTC (8 hours off) and aware and naive values would mix.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store in UTC; a naive value is refused (it would be ambiguous)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The ``prev_hash`` of every chain's first event.
GENESIS = "0" * 64

ROLES = ("officer", "supervisor", "auditor", "admin")
ROLE_LABELS = {
    "officer": "承办人",
    "supervisor": "督办人",
    "auditor": "审计/督查",
    "admin": "管理员",
}


class Agency(db.Model):  # type: ignore[name-defined]
    """A government body: fire brigade, government, safety office, street, department."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    division: Mapped[str] = mapped_column(String(40), index=True)  # "city" for city level
    can_discover: Mapped[bool] = mapped_column(Boolean, default=False)
    # 机关代字 of the agency's document numbers (administrator data); None: derived from the
    # name (workflows.documents.default_agency_short).
    doc_code: Mapped[str | None] = mapped_column(String(40))
    # The agency it belongs to (a street's government, a department's city government), shown
    # in the directory; None for the top of a tree. Not used for scoping.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

    parent: Mapped[Agency | None] = relationship(remote_side=[id], lazy="select")

    @property
    def is_city_level(self) -> bool:
        """True for agencies whose jurisdiction is the whole city."""
        return self.division == "city"


class AgencyContact(db.Model):  # type: ignore[name-defined]
    """A person of an agency's contact list (通讯录), kept by administrators: not a user
    account, just whom to call (a duty officer, the head of the office)."""

    __tablename__ = "agency_contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(80), default="")  # 职务 / role in the agency
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in the list
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    """A person with one agency and one or more roles."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    roles: Mapped[str] = mapped_column(String(80))  # comma-separated, see ROLES
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The user's authentication epoch: every session cookie carries it, so rotating it (logout,
    # log out everywhere, a password changed or reset, deactivation) ends every session.
    session_token: Mapped[str] = mapped_column(String(64))
    # E-mail delivery of the user's messages (server/mail.py): the address, and whether the
    # user wants them there; both set by the user on /account (or ``users set-email``).
    email: Mapped[str | None] = mapped_column(String(254))
    mail_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    agency: Mapped[Agency] = relationship(lazy="joined")

    @property
    def role_list(self) -> list[str]:
        """The user's roles in a stable order."""
        mine = set(self.roles.split(","))
        return [role for role in ROLES if role in mine]

    def has_role(self, role: str) -> bool:
        """True if the user holds ``role``."""
        return role in self.role_list

    def get_id(self) -> str:
        """Flask-Login id: changes when the session token rotates (logout invalidates)."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot log in."""
        return self.active


class LoginThrottle(db.Model):  # type: ignore[name-defined]
    """Password attempts counted for one throttling key (see server/throttle.py).

    ``key`` is ``pair:<username>|<address>``, ``account:<username>`` or ``address:<address>``;
    unknown usernames are counted like known ones, so the answers do not tell them apart.
    """

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A bearer token for API clients; only its SHA-256 is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class ProcessSpecRow(db.Model):  # type: ignore[name-defined]
    """The source files of one process version (the spec is stored once per version)."""

    __tablename__ = "process_spec"
    process_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarYear(db.Model):  # type: ignore[name-defined]
    """Administrator entries for one year: holidays and make-up working days."""

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    workdays: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class LegalSetting(db.Model):  # type: ignore[name-defined]
    """An administrator's value for one legal setting (``bpmn/legal_settings.json``).

    Only changed settings have a row; the others take their documented default.
    """

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Case(db.Model):  # type: ignore[name-defined]
    """One case: a running (or finished) workflow and the facts lists are filtered by."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 督办编号 DB2026-000017
    case_no: Mapped[str | None] = mapped_column(String(60))  # 常消隐〔2026〕17号 once filed
    process_id: Mapped[str] = mapped_column(String(80), index=True)
    process_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    stage: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str] = mapped_column(String(40), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    discoverer_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    # None: opened by the system (a report's draft, server/report_cases.py)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    needs_attention: Mapped[str | None] = mapped_column(Text)  # why the case cannot load
    # Sweep lease (SQLite) / retry delay after a failure: no sweeper touches the case before.
    sweep_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sweep_owner: Mapped[str | None] = mapped_column(String(64))
    sweep_error: Mapped[str | None] = mapped_column(Text)
    sweep_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The head of the case's audit chain (server.audit), written with every event: a removed
    # last event leaves no gap in the chain, but disagrees with this.
    event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    event_head: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)
    # The campaign area (bpmn/campaign_areas.json) and responsible industry department
    # (行业主管部门) of a hazard, from its registration: the 两个清单 filter on them.
    campaign_area: Mapped[str | None] = mapped_column(String(40), index=True)
    responsible_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id"), index=True
    )

    discoverer_agency: Mapped[Agency] = relationship(
        lazy="joined", foreign_keys=[discoverer_agency_id]
    )
    responsible_department: Mapped[Agency | None] = relationship(
        foreign_keys=[responsible_department_id]
    )
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy reads it
    # The sweep's query: open cases by next_timer_at (status alone would be chosen otherwise).
    __table_args__ = (Index("ix_case_due", "status", "next_timer_at"),)


class Report(db.Model):  # type: ignore[name-defined]
    """A report the plan requires (the monthly 附件8 table, the annual work report) from one
    reporting agency for one period, run as a case of ``monthly_report`` / ``annual_report``.

    ``snapshot`` freezes the figures at generation (or at the reporting office's refresh):
    ``report_figures.FigureTable.to_json()`` for a monthly report,
    ``report_annual.annual_snapshot()`` for an annual one. One row per (kind, period, agency):
    generating again changes nothing.
    """

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # monthly | annual
    period: Mapped[str] = mapped_column(String(7), index=True)  # "2026-11" | "2026"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    scope_kind: Mapped[str] = mapped_column(String(20))  # district | department
    scope_code: Mapped[str] = mapped_column(String(80))  # "dingcheng" | "industry:city:zhujian"
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # the reporting office's form (填报人, 审核人, 联系电话, 工作情况, 备注) as last submitted
    remarks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_reason: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined")
    case: Mapped[Case] = relationship(lazy="joined")
    __table_args__ = (UniqueConstraint("kind", "period", "agency_id"),)


class Task(db.Model):  # type: ignore[name-defined]
    """A user task of a case, as the inbox shows it (one row per SpiffWorkflow task)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the SpiffWorkflow task id
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))  # BPMN id = form name
    label: Mapped[str] = mapped_column(String(120))
    lane: Mapped[str] = mapped_column(String(60))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    state: Mapped[str] = mapped_column(String(20), default="ready")  # ready, completed, cancelled
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    case: Mapped[Case] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    # The inbox: an agency's ready tasks in due order, read from the index without sorting.
    __table_args__ = (
        Index("ix_task_inbox_order", "agency_id", "state", "due_at", "created_at", "id"),
        Index("ix_task_inbox_stages", "agency_id", "state", "name", "label"),
    )


class Deadline(db.Model):  # type: ignore[name-defined]
    """A statutory deadline of a case: one waiting (or past) timer of its workflow."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    timer_task_id: Mapped[str] = mapped_column(String(36))
    timer: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(120))
    guards: Mapped[str | None] = mapped_column(String(80))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)  # the guarded task
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, met, missed
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship()
    agency: Mapped[Agency | None] = relationship()
    __table_args__ = (UniqueConstraint("case_id", "timer_task_id"),)


class Event(db.Model):  # type: ignore[name-defined]
    """An audit event, hash-chained per case (case_id NULL: the system chain, e.g. logins)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    task_name: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        # NULLs are distinct in a unique constraint: the system chain needs its own index.
        Index(
            "ux_event_system_seq",
            "seq",
            unique=True,
            sqlite_where=text("case_id IS NULL"),
            postgresql_where=text("case_id IS NULL"),
        ),
    )


class ChainHead(db.Model):  # type: ignore[name-defined]
    """The stored head of an audit chain that no case row carries: the system chain
    (``chain = "system"``). Written with every append to it, in the same transaction; its row
    lock queues concurrent appenders, and ``audit verify`` compares it with the chain's last
    event (a removed last event breaks no link, so only a stored head gives it away)."""

    __tablename__ = "chain_head"
    chain: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(db.Model):  # type: ignore[name-defined]
    """A file attached to a case, stored under UPLOAD_DIR by its sha256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    uploaded_by: Mapped[User] = relationship()


class TaskDraft(db.Model):  # type: ignore[name-defined]
    """A task form saved unfinished by one officer (保存草稿): not validated, not audited;
    deleted when the task is completed."""

    __tablename__ = "task_draft"
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    late_reason: Mapped[str | None] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DocumentCounter(db.Model):  # type: ignore[name-defined]
    """The last sequence number an agency gave a kind of document in a year (文号).

    Incremented by one locked upsert in the issuing completion's transaction, so numbers are
    gapless (a rolled back completion gives its number back) and unique.
    """

    __tablename__ = "document_counter"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class AgencyNumbering(db.Model):  # type: ignore[name-defined]
    """An agency's own numbering pattern (文号格式) for one counter kind, kept by
    administrators; without a row the template's ``numbering`` is used. The kinds sharing a
    counter (a template's ``counter``) share its pattern; the numbers keep counting in the
    same ``document_counter`` row whichever pattern formats them."""

    __tablename__ = "agency_numbering"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    pattern: Mapped[str] = mapped_column(String(120))


class Document(db.Model):  # type: ignore[name-defined]
    """An official document (文书) issued with a step of a case: its PDF is an attachment."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    number: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # A document voided by a correction keeps its number (never reused), marked void.
    void: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Why, when and by whom it was voided, and the document that replaces it (a correction,
    # 更正: server.documents.correction); None while the document is in force.
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    # The filled text as issued (workflows.documents.Filled.to_json): the next step shows it
    # inline, exactly as issued. None for documents issued before the column existed.
    filled: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    agency: Mapped[Agency] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    replaced_by: Mapped[Document | None] = relationship(remote_side=[id])
    __table_args__ = (UniqueConstraint("agency_id", "kind", "year", "seq"),)


class Notification(db.Model):  # type: ignore[name-defined]
    """A message in a user's notification centre (e.g. an escalated missed deadline)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    # The task the message leads to (None: the case page), and the working days it was overdue.
    task_id: Mapped[str | None] = mapped_column(ForeignKey("task.id"))
    overdue_days: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case | None] = relationship()
    __table_args__ = (Index("ix_notification_inbox", "user_id", "read_at", "created_at"),)


class MailOutbox(db.Model):  # type: ignore[name-defined]
    """One notification to be sent by e-mail (server/mail.py), queued in the transaction that
    created the notification, so that it is sent even if the mail server is down meanwhile.

    ``state``: pending (waiting or retrying after ``next_attempt_at``), sent, or failed (after
    the last attempt). A sender holds a message by its lease (``lease_until``, ``lease_owner``).
    """

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    notification: Mapped[Notification] = relationship()
    user: Mapped[User] = relationship()
    # The sender's query: pending messages by their next attempt.
    __table_args__ = (Index("ix_mail_outbox_due", "state", "next_attempt_at"),)


class PublicWarning(db.Model):  # type: ignore[name-defined]
    """A graded public warning (分级预警) published for a fire by the accountability process.

    ``scope`` is ``county`` (the case's division), ``city`` or ``province``; who may read it
    follows from the scope (see :func:`server.scoping.warning_filter`).
    """

    __tablename__ = "public_warning"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    scope: Mapped[str] = mapped_column(String(20))
    district: Mapped[str] = mapped_column(String(40), index=True)
    fire_level: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    published_on: Mapped[str] = mapped_column(String(10))  # ISO date as entered
    province_report: Mapped[str | None] = mapped_column(Text)
    publisher_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship()
    publisher_agency: Mapped[Agency] = relationship(lazy="joined")
    __table_args__ = (Index("ix_public_warning_board", "scope", "published_on"),)


class ExportJob(db.Model):  # type: ignore[name-defined]
    """An auditor's batch export of case dossiers into one ZIP, with its progress.

    Only the auditor who started it may see or download it; the ZIP is written under
    ``instance/exports/<id>.zip``.
    """

    __tablename__ = "export_job"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex, used in URLs
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="queued")  # running, done, failed
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed_chains: Mapped[int] = mapped_column(Integer, default=0)  # dossiers whose chain failed
    # dossiers left out (their case kept changing while printed), listed in the manifest
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the process building the ZIP (server.exports.worker_id), to tell when it is gone
    worker: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
