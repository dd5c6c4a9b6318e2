"""E-mail delivery of users' messages through an SMTP server (``smtplib``), never losing one.

A user who gave an address and chose e-mail (``User.email``, ``User.mail_enabled``: /account,
``PUT /api/v1/me/mail`` or ``flask --app server users set-email``) gets every notification
(:class:`server.models.Notification`) by e-mail too. Whoever creates the notification, the
session's ``before_flush`` hook (:func:`_queue_new_notifications`) queues a
:class:`server.models.MailOutbox` row beside it, so both are committed — or rolled back —
together: a message is never lost, not even when the mail server is down.

A sender (:func:`send_pending`: the scheduler's ``duban-mail`` job every ``MAIL_SEND_SECONDS``,
or ``flask --app server mail send-pending``) claims one due message at a time with a lease (one
conditional ``UPDATE`` committed before the message is sent: of two senders only one changes
the row), sends it and records the outcome. A failure keeps the message, counts the attempt,
records the error and waits (:data:`BACKOFF`) before the next; after ``MAIL_MAX_ATTEMPTS`` the
message is marked failed, listed by ``flask --app server mail status``. Delivery is at least
once: a sender that dies between the SMTP server's acceptance and its commit leaves the message
leased; it is sent again when the lease (:data:`LEASE`) has run out.

Mail is off when ``MAIL_SERVER`` is unset: nothing is queued, nothing sent.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import MailOutbox, Notification, User

log = logging.getLogger(__name__)

#: Waits after the 1st, 2nd, … failed attempt (the last one repeats).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
#: How long a claimed message is a sender's own: far longer than one SMTP exchange
#: (``MAIL_TIMEOUT`` per network operation).
LEASE = timedelta(minutes=10)
BATCH = 100
EMAIL_MAX = 254
# An ordinary ASCII address (RFC 5321's dot-atom local part, a host name with a dot).
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def email_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable e-mail address (Chinese), or None."""
    if not value:
        return "请输入电子邮箱地址"
    if len(value) > EMAIL_MAX:
        return f"电子邮箱地址不能超过{EMAIL_MAX}个字符"
    local = value.partition("@")[0]
    if not _EMAIL.fullmatch(value) or len(local) > 64:
        return "电子邮箱地址格式不正确（例如 zhang.san@example.gov.cn）"
    return None


def set_mail_preferences(user: User, email: str | None, enabled: bool) -> dict[str, str]:
    """Set ``user``'s address and choice (in the session, not committed); returns the
    problems by field (empty: set). E-mail delivery needs an address."""
    email = (email or "").strip() or None
    errors: dict[str, str] = {}
    if email is not None:
        problem = email_problem(email)
        if problem:
            errors["email"] = problem
    if enabled and email is None and "email" not in errors:
        errors["email"] = "选择邮件接收消息时，请填写电子邮箱地址"
    if errors:
        return errors
    user.email = email
    user.mail_enabled = bool(enabled)
    return {}


def preferences_json(user: User) -> dict[str, Any]:
    """The API's view of ``user``'s e-mail settings."""
    return {
        "email": user.email,
        "mail_enabled": bool(user.mail_enabled),
        "mail_available": mail_configured(),
    }


def mail_configured() -> bool:
    """True when this app sends e-mail (``MAIL_SERVER`` set)."""
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


# --- queueing ------------------------------------------------------------------------------------


def _queue_new_notifications(session: Session, flush_context: Any, instances: Any) -> None:
    """Queue an outbox row for every new notification whose user receives e-mail."""
    if not mail_configured():
        return
    fresh = [obj for obj in session.new if isinstance(obj, Notification)]
    if not fresh:
        return
    queued = {obj.notification for obj in session.new if isinstance(obj, MailOutbox)}
    now = datetime.now(UTC)
    with session.no_autoflush:
        for notification in fresh:
            if notification in queued:
                continue
            user = session.get(User, notification.user_id)
            if user is None or not user.mail_enabled or not user.email or not user.active:
                continue
            session.add(
                MailOutbox(
                    notification=notification,
                    user_id=user.id,
                    recipient=user.email,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )


def init_app() -> None:
    """Register the queueing hook once (every session of every app)."""
    if not event.contains(Session, "before_flush", _queue_new_notifications):
        event.listen(Session, "before_flush", _queue_new_notifications)


# --- composing -----------------------------------------------------------------------------------


def public_url(path: str) -> str:
    """``PUBLIC_BASE_URL`` + ``path`` (the address users open Duban at)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "http://localhost:5000").rstrip("/")
    return base + path


def compose(outbox: MailOutbox) -> EmailMessage:
    """The e-mail of one queued message: UTF-8 subject and body, links into Duban."""
    notification = outbox.notification
    user = outbox.user
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = f"【督办系统】{notification.title}"
    sender = str(config.get("MAIL_FROM") or "")
    message["From"] = formataddr(("督办系统", sender)) if "<" not in sender else sender
    message["To"] = formataddr((user.name, outbox.recipient))
    message["Message-ID"] = make_msgid(idstring=f"duban-{outbox.id}")
    lines = [f"{user.name}：", "", notification.body, ""]
    if notification.case_id is not None:
        lines.append(f"查看案件：{public_url(f'/cases/{notification.case_id}')}")
    lines += [
        f"全部消息：{public_url('/notifications')}",
        "",
        "此邮件由督办系统自动发送，请勿直接回复。如不需要邮件提醒，可在“我的账户”中关闭：",
        public_url("/account"),
    ]
    message.set_content("\n".join(lines), charset="utf-8")
    return message


# --- sending -------------------------------------------------------------------------------------


def sender_id() -> str:
    """A name for this sender (host, process, random), stored with its leases."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime):
    return (
        MailOutbox.state == "pending",
        MailOutbox.next_attempt_at <= now,
        or_(MailOutbox.lease_until.is_(None), MailOutbox.lease_until <= now),
    )


def claim(outbox_id: int, owner: str, now: datetime) -> bool:
    """Lease one due message to ``owner`` (committed); False when another sender has it.

    One conditional UPDATE: PostgreSQL re-evaluates its condition after a concurrent update of
    the row commits, SQLite runs one writer at a time, so only one of two senders changes it.
    """
    result = db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == outbox_id, *_claimable(now))
        .values(lease_until=now + LEASE, lease_owner=owner)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host = str(config["MAIL_SERVER"])
    timeout = float(config.get("MAIL_TIMEOUT", 30))
    # The system's trusted CAs, or MAIL_CA_FILE (a government network's own CA, say).
    context = ssl.create_default_context(cafile=str(config.get("MAIL_CA_FILE") or "") or None)
    smtp: smtplib.SMTP
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, int(config.get("MAIL_PORT") or 465), timeout=timeout,
                                context=context)  # fmt: skip
    else:
        smtp = smtplib.SMTP(host, int(config.get("MAIL_PORT") or 25), timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
    except BaseException:
        smtp.close()
        raise
    return smtp


def _record(outbox_id: int, owner: str, now: datetime, error: str | None) -> str:
    """Write the outcome of one attempt; returns the message's new state."""
    outbox = db.session.get(MailOutbox, outbox_id, populate_existing=True)
    if outbox is None or outbox.lease_owner != owner:
        db.session.rollback()
        return "lost"
    outbox.attempts += 1
    outbox.lease_until, outbox.lease_owner = None, None
    if error is None:
        outbox.state, outbox.sent_at, outbox.last_error = "sent", now, None
    else:
        outbox.last_error = error[:2000]
        if outbox.attempts >= int(current_app.config.get("MAIL_MAX_ATTEMPTS", 8)):
            outbox.state = "failed"
        else:
            outbox.next_attempt_at = now + BACKOFF[min(outbox.attempts, len(BACKOFF)) - 1]
    db.session.commit()
    return outbox.state


def due_ids(now: datetime, limit: int = BATCH) -> list[int]:
    """Ids of the messages that may be sent now, oldest first."""
    return list(
        db.session.scalars(
            select(MailOutbox.id)
            .where(*_claimable(now))
            .order_by(MailOutbox.next_attempt_at, MailOutbox.id)
            .limit(limit)
        )
    )


def send_pending(now: datetime | None = None, owner: str | None = None) -> dict[str, int]:
    """Send the due messages once each; returns counts: sent, retrying, failed, skipped (held by
    another sender). A server that cannot be reached ends the run after one counted attempt:
    the other messages wait, uncounted, for the next run."""
    counts = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
    if not mail_configured():
        return counts
    now = now or datetime.now(UTC)
    owner = owner or sender_id()
    smtp: smtplib.SMTP | None = None
    try:
        for outbox_id in due_ids(now):
            if not claim(outbox_id, owner, now):
                counts["skipped"] += 1
                continue
            error: str | None = None
            unreachable = False
            try:
                outbox = db.session.get(MailOutbox, outbox_id, populate_existing=True)
                if outbox is None:  # claimed a moment ago: cannot be gone
                    raise LookupError(f"mail_outbox {outbox_id} vanished")
                message = compose(outbox)
                if smtp is None:
                    smtp = _connect()
                smtp.send_message(message, to_addrs=[outbox.recipient])
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as exc:  # fmt: skip
                error = f"{type(exc).__name__}: {exc}"
            except (OSError, smtplib.SMTPException) as exc:  # down, refused, TLS, login
                error = f"{type(exc).__name__}: {exc}"
                unreachable = True
            except Exception as exc:  # a message that cannot be composed must not block others
                log.exception("mail: message %s failed", outbox_id)
                error = f"{type(exc).__name__}: {exc}"
            db.session.rollback()
            state = _record(outbox_id, owner, now, error)
            if error is None:
                counts["sent"] += 1
            else:
                log.warning("mail: message %s not sent: %s", outbox_id, error)
                counts["failed" if state == "failed" else "retrying"] += 1
            if unreachable:
                if smtp is not None:
                    _close(smtp)
                    smtp = None
                break
    finally:
        if smtp is not None:
            _close(smtp)
    return counts


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


# --- status --------------------------------------------------------------------------------------


def status(limit: int = 50) -> dict[str, Any]:
    """Counts of the outbox by state, and the failed messages (newest first)."""
    counts = dict(
        db.session.execute(select(MailOutbox.state, func.count()).group_by(MailOutbox.state)).all()
    )
    failed = db.session.scalars(
        select(MailOutbox)
        .where(MailOutbox.state == "failed")
        .order_by(MailOutbox.id.desc())
        .limit(limit)
    ).all()
    retrying = db.session.scalar(
        select(func.count()).where(MailOutbox.state == "pending", MailOutbox.attempts > 0)
    )
    return {
        "enabled": mail_configured(),
        "pending": int(counts.get("pending", 0)),
        "retrying": int(retrying or 0),
        "sent": int(counts.get("sent", 0)),
        "failed": int(counts.get("failed", 0)),
        "failed_messages": [
            {
                "id": row.id,
                "recipient": row.recipient,
                "username": row.user.username,
                "title": row.notification.title,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "created_at": row.created_at.isoformat(),
            }
            for row in failed
        ],
    }


def retry_failed() -> int:
    """Put every failed message back in the queue (attempts from zero); returns how many."""
    result = db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.state == "failed")
        .values(state="pending", attempts=0, next_attempt_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
