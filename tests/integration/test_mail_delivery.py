"""E-mail delivery of messages (server/mail.py) against a real SMTP server: aiosmtpd's
``Controller`` listening on a free local port, spoken to by ``smtplib`` as in production.

A notification of a user who chose e-mail is queued in its own transaction; the sender delivers
it with a UTF-8 Chinese subject and body and links under ``PUBLIC_BASE_URL``; a mail server that
is down loses nothing (attempts counted, backed off, delivered once it is up: the clock is moved,
never slept); two senders at once send each message once; with ``MAIL_SERVER`` unset nothing is
queued.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from sqlalchemy import func, select

from server.extensions import db
from server.mail import BACKOFF, send_pending, set_mail_preferences
from server.models import MailOutbox, Notification, User
from server.operations import start_case, today_shanghai
from server.sweep import sweep
from tests.support.major_hazard import sample

from .conftest import csrf_token

BASE_URL = "https://duban.changde.example.gov.cn"


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, inbox: Inbox, **kwargs: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def mail_app(app: Flask, port: int) -> Flask:
    """The test app sending through 127.0.0.1:``port`` (a server may or may not listen)."""
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_FROM="duban@changde.example.gov.cn",
        MAIL_TIMEOUT=5,
        PUBLIC_BASE_URL=BASE_URL,
    )
    return app


@pytest.fixture
def smtp(port: int) -> Iterator[Inbox]:
    """A real SMTP server on ``port``."""
    inbox = Inbox()
    controller = start_server(port, inbox)
    yield inbox
    controller.stop()


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def address(username: str) -> str:
    return username.replace(".", "-") + "@changde.example.gov.cn"


def choose_mail(*usernames: str) -> None:
    for username in usernames:
        assert set_mail_preferences(user(username), address(username), True) == {}
    db.session.commit()


def notify(username: str, title: str, body: str, case_id: int | None = None) -> int:
    notification = Notification(
        user_id=user(username).id,
        case_id=case_id,
        kind="follow_up",
        title=title,
        body=body,
        created_at=datetime.now(UTC),
    )
    db.session.add(notification)
    db.session.commit()
    return notification.id


def outbox() -> list[MailOutbox]:
    return list(db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)))


# --- delivery ------------------------------------------------------------------------------------


def test_escalation_is_mailed_in_chinese_to_who_chose_mail(mail_app, smtp, time_machine):
    """A missed deadline escalated by the sweep reaches the supervisors' mailboxes."""
    with mail_app.app_context():
        supervisors = [
            u.username
            for u in db.session.scalars(select(User).where(User.active.is_(True)))
            if u.has_role("supervisor")
        ]
        case = start_case(
            user("wuling.nanping"),
            "major_hazard",
            sample("register_hazard", today_shanghai() - timedelta(days=1)),
        )
        due = case.next_timer_at
        case_id, number = case.id, case.number
        db.session.commit()
        db.session.remove()
    time_machine.move_to(due + timedelta(hours=1), tick=False)
    with mail_app.app_context():
        choose_mail(*supervisors)
        assert sweep()["fired"] >= 1
        notifications = list(db.session.scalars(select(Notification)))
        assert notifications, "the escalation notified supervisors"
        queued = outbox()
        # the late agency's officers are told too (issue 18); only who chose mail is queued
        chose = {
            u.id for u in db.session.scalars(select(User).where(User.username.in_(supervisors)))
        }
        notifications = [n for n in notifications if n.user_id in chose]
        assert notifications
        assert sorted(row.notification_id for row in queued) == sorted(n.id for n in notifications)
        assert send_pending() == {"sent": len(queued), "retrying": 0, "failed": 0, "skipped": 0}
        assert {row.state for row in outbox()} == {"sent"}
        recipients = {
            n.id: (db.session.get(User, n.user_id), n.title, n.body) for n in notifications
        }
    assert len(smtp.received) == len(recipients)
    by_recipient = {rcpt[0]: (sender, message) for sender, rcpt, message in smtp.received}
    for person, title, body in recipients.values():
        sender, message = by_recipient[person.email]
        assert sender == "duban@changde.example.gov.cn"
        assert message["Subject"] == f"【督办系统】{title}"
        assert number in message["Subject"] and "超期督办" in message["Subject"]
        assert message["To"].addresses[0].addr_spec == person.email
        assert message["To"].addresses[0].display_name == person.name
        assert message["From"].addresses[0].display_name == "督办系统"
        text = message.get_content()
        assert message.get_content_charset() == "utf-8"
        assert text.startswith(f"{person.name}：")
        assert body in text
        assert f"查看案件：{BASE_URL}/cases/{case_id}" in text
        assert f"{BASE_URL}/notifications" in text


def test_only_users_who_chose_mail_are_queued(mail_app, smtp):
    with mail_app.app_context():
        choose_mail("dingcheng.fire")
        other = user("dingcheng.gov")
        assert set_mail_preferences(other, address("dingcheng.gov"), False) == {}
        db.session.commit()
        notify("dingcheng.fire", "催办：DB2026-000001", "请尽快办理。")
        notify("dingcheng.gov", "催办：DB2026-000001", "请尽快办理。")
        notify("wuling.nanping", "催办：DB2026-000002", "请尽快办理。")  # no address
        assert [row.recipient for row in outbox()] == [address("dingcheng.fire")]
        assert send_pending()["sent"] == 1
    assert [rcpt for _, rcpt, _ in smtp.received] == [[address("dingcheng.fire")]]


def test_a_rolled_back_notification_queues_nothing(mail_app):
    with mail_app.app_context():
        choose_mail("dingcheng.fire")
        db.session.add(
            Notification(
                user_id=user("dingcheng.fire").id,
                kind="follow_up",
                title="催办",
                body="……",
                created_at=datetime.now(UTC),
            )
        )
        db.session.flush()
        assert len(outbox()) == 1  # in the notification's transaction
        db.session.rollback()
        assert outbox() == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (certificate file, key file), made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def tls_context(certificate: tuple[str, str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def authenticator(logins: list[tuple[str, str]]):
    def check(server, session, envelope, mechanism, data) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        ok = (data.login, data.password) == (b"duban", b"s3cret-pass")
        return AuthResult(success=ok, handled=False)  # the server answers 235/535

    return check


def test_starttls_and_login(mail_app, port, certificate):
    """``MAIL_USE_TLS``: STARTTLS (the certificate checked against ``MAIL_CA_FILE``), then
    ``MAIL_USERNAME``/``MAIL_PASSWORD``; the server refuses mail before both."""
    logins: list[tuple[str, str]] = []
    inbox = Inbox()
    controller = start_server(
        port,
        inbox,
        tls_context=tls_context(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator(logins),
    )
    try:
        with mail_app.app_context():
            choose_mail("dingcheng.fire")
            notify("dingcheng.fire", "催办", "请办理")
            mail_app.config.update(MAIL_USERNAME="duban", MAIL_PASSWORD="s3cret-pass")
            assert send_pending()["retrying"] == 1  # no STARTTLS: the server says no
            mail_app.config.update(MAIL_USE_TLS=True)
            later = datetime.now(UTC) + BACKOFF[0]
            assert send_pending(now=later)["retrying"] == 1  # untrusted certificate
            assert "CERTIFICATE_VERIFY_FAILED" in outbox()[0].last_error
            mail_app.config.update(MAIL_CA_FILE=certificate[0], MAIL_PASSWORD="wrong")
            later += BACKOFF[1]
            assert send_pending(now=later)["retrying"] == 1
            assert "SMTPAuthenticationError" in outbox()[0].last_error
            mail_app.config.update(MAIL_PASSWORD="s3cret-pass")
            later += BACKOFF[2]
            result = send_pending(now=later)
            assert result["sent"] == 1, (result, outbox()[0].last_error)
            assert outbox()[0].attempts == 4
    finally:
        controller.stop()
    assert ("duban", "wrong") in logins and logins[-1] == ("duban", "s3cret-pass")
    assert len(inbox.received) == 1


def test_implicit_tls(mail_app, port, certificate):
    """``MAIL_USE_SSL``: TLS from the first byte (SMTPS)."""
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, ssl_context=tls_context(certificate)
    )
    controller.start()
    try:
        with mail_app.app_context():
            mail_app.config.update(MAIL_USE_SSL=True, MAIL_CA_FILE=certificate[0])
            choose_mail("dingcheng.fire")
            notify("dingcheng.fire", "曝光：DB2026-000004", "已在全市通报。")
            assert send_pending()["sent"] == 1
    finally:
        controller.stop()
    assert inbox.received[0][2]["Subject"] == "【督办系统】曝光：DB2026-000004"


# --- the mail server is down ---------------------------------------------------------------------


def test_server_down_loses_nothing_and_backs_off(mail_app, port, time_machine):
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    with mail_app.app_context():
        choose_mail("dingcheng.fire")
        first = notify(
            "dingcheng.fire", "催办：DB2026-000009 立案审查", "逾期2个工作日，请尽快办理。"
        )
        second = notify("dingcheng.fire", "约谈：DB2026-000009", "定于下周一约谈。")

        # Nobody listens on the port: one attempt counted, the run stops, nothing lost.
        assert send_pending() == {"sent": 0, "retrying": 1, "failed": 0, "skipped": 0}
        rows = outbox()
        assert [(r.notification_id, r.state, r.attempts) for r in rows] == [
            (first, "pending", 1),
            (second, "pending", 0),
        ]
        assert "ConnectionRefusedError" in rows[0].last_error
        assert rows[0].next_attempt_at == start + BACKOFF[0]
        assert rows[0].lease_owner is None
        assert db.session.scalar(select(func.count(Notification.id))) == 2

        # Still down: the second message is tried (it was never attempted), the first waits.
        assert send_pending()["retrying"] == 1
        db.session.expire_all()
        assert [r.attempts for r in outbox()] == [1, 1]
        assert send_pending() == {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}

    time_machine.move_to(start + BACKOFF[0], tick=False)
    with mail_app.app_context():
        assert send_pending()["retrying"] == 1
        row = outbox()[0]
        assert row.attempts == 2 and row.next_attempt_at == start + BACKOFF[0] + BACKOFF[1]

    inbox = Inbox()
    controller = start_server(port, inbox)  # the server is back
    try:
        time_machine.move_to(start + BACKOFF[0] + BACKOFF[1], tick=False)
        with mail_app.app_context():
            assert send_pending()["sent"] == 2
            assert [(r.state, r.attempts, r.last_error) for r in outbox()] == [
                ("sent", 3, None),
                ("sent", 2, None),
            ]
            assert all(r.sent_at == start + BACKOFF[0] + BACKOFF[1] for r in outbox())
            time_machine.move_to(start + timedelta(days=1), tick=False)
            assert send_pending()["sent"] == 0  # sent once, never again
    finally:
        controller.stop()
    subjects = sorted(message["Subject"] for _, _, message in inbox.received)
    assert subjects == [
        "【督办系统】催办：DB2026-000009 立案审查",
        "【督办系统】约谈：DB2026-000009",
    ]


def test_after_the_last_attempt_failed_is_shown_and_can_be_retried(
    mail_app, port, runner, time_machine
):
    mail_app.config["MAIL_MAX_ATTEMPTS"] = 2
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    with mail_app.app_context():
        choose_mail("dingcheng.fire")
        notify("dingcheng.fire", "督办提醒：DB2026-000003", "请及时督办。")
        assert send_pending()["retrying"] == 1
    time_machine.move_to(start + BACKOFF[0], tick=False)
    with mail_app.app_context():
        assert send_pending()["failed"] == 1
        assert outbox()[0].state == "failed"
    time_machine.move_to(start + timedelta(days=2), tick=False)
    with mail_app.app_context():
        assert send_pending()["sent"] == 0  # failed: no more attempts

    shown = runner.invoke(args=["mail", "status"])
    assert shown.exit_code == 0, shown.output
    assert "发送失败 1" in shown.output
    assert "dingcheng.fire" in shown.output and "尝试 2 次" in shown.output
    assert "ConnectionRefusedError" in shown.output

    retried = runner.invoke(args=["mail", "retry-failed"])
    assert "已将 1 封" in retried.output
    inbox = Inbox()
    controller = start_server(port, inbox)
    try:
        sent = runner.invoke(args=["mail", "send-pending"])
        assert sent.exit_code == 0, sent.output
        assert '"sent": 1' in sent.output
    finally:
        controller.stop()
    assert len(inbox.received) == 1
    assert "发送失败 0" in runner.invoke(args=["mail", "status"]).output


# --- two senders at once -------------------------------------------------------------------------

SENDERS = 4
MESSAGES = 24


def test_concurrent_senders_send_each_message_once(mail_app, smtp):
    with mail_app.app_context():
        choose_mail("dingcheng.fire", "dingcheng.gov")
        for i in range(MESSAGES):
            notify(("dingcheng.fire", "dingcheng.gov")[i % 2], f"催办 第{i}号", f"消息正文 {i}")
        db.session.remove()
    barrier = threading.Barrier(SENDERS)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with mail_app.app_context():
                barrier.wait()
                results.append(send_pending())
                db.session.remove()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(r["sent"] for r in results) == MESSAGES
    subjects = sorted(message["Subject"] for _, _, message in smtp.received)
    assert subjects == sorted(f"【督办系统】催办 第{i}号" for i in range(MESSAGES))
    with mail_app.app_context():
        assert {(r.state, r.attempts) for r in outbox()} == {("sent", 1)}


def test_a_leased_message_is_not_sent_by_another_sender(mail_app, smtp):
    """A sender that claimed a message keeps it for the lease; after the lease (the sender
    died) another sends it."""
    from server.mail import LEASE, claim

    with mail_app.app_context():
        choose_mail("dingcheng.fire")
        notify("dingcheng.fire", "催办", "请办理")
        now = datetime.now(UTC)
        assert claim(outbox()[0].id, "dead-sender", now)
        assert not claim(outbox()[0].id, "another", now)
        assert send_pending(now=now)["sent"] == 0
        assert send_pending(now=now + LEASE)["sent"] == 1
    assert len(smtp.received) == 1


# --- mail off ------------------------------------------------------------------------------------


def test_mail_off_queues_nothing(app, runner):
    assert not app.config["MAIL_SERVER"]
    with app.app_context():
        choose_mail("dingcheng.fire")
        notify("dingcheng.fire", "催办", "请办理")
        assert db.session.scalar(select(func.count(Notification.id))) == 1
        assert outbox() == []
        assert send_pending() == {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 1 and "MAIL_SERVER" in result.output
    assert "未开启" in runner.invoke(args=["mail", "status"]).output


# --- the user's address and choice ---------------------------------------------------------------


def test_account_page_sets_the_address(mail_app, client, auth):
    auth.login("dingcheng.fire")
    page = client.get("/account")
    assert "邮件提醒" in page.text and "以邮件接收消息" in page.text
    token = csrf_token(page.text)
    refused = client.post(
        "/account/mail", data={"csrf_token": token, "email": "张三@例子", "mail_enabled": "1"}
    )
    assert refused.status_code == 422
    assert "电子邮箱地址格式不正确" in refused.text and 'value="张三@例子"' in refused.text
    missing = client.post("/account/mail", data={"csrf_token": token, "mail_enabled": "1"})
    assert missing.status_code == 422 and "请填写电子邮箱地址" in missing.text
    saved = client.post(
        "/account/mail",
        data={
            "csrf_token": token,
            "email": " zhang.san@changde.example.gov.cn ",
            "mail_enabled": "1",
        },
        follow_redirects=True,
    )
    assert (
        saved.status_code == 200
        and "新消息将同时发送到 zhang.san@changde.example.gov.cn" in saved.text
    )
    with mail_app.app_context():
        me = user("dingcheng.fire")
        assert (me.email, me.mail_enabled) == ("zhang.san@changde.example.gov.cn", True)
    client.post("/account/mail", data={"csrf_token": token, "email": me.email})
    with mail_app.app_context():
        assert user("dingcheng.fire").mail_enabled is False


def test_api_twin_of_the_account_form(app, api):
    got = api.get("dingcheng.fire", "/me/mail")
    assert got.json == {"email": None, "mail_enabled": False, "mail_available": False}
    bad = api.call("dingcheng.fire", "PUT", "/me/mail", json={"email": "a@b", "mail_enabled": True})
    assert bad.status_code == 422 and "email" in bad.json["fields"]
    wrong_type = api.call(
        "dingcheng.fire", "PUT", "/me/mail", json={"email": None, "mail_enabled": "yes"}
    )
    assert wrong_type.status_code == 422 and "mail_enabled" in wrong_type.json["fields"]
    no_address = api.call(
        "dingcheng.fire", "PUT", "/me/mail", json={"email": None, "mail_enabled": True}
    )
    assert no_address.status_code == 422
    assert no_address.json["fields"]["email"] == "选择邮件接收消息时，请填写电子邮箱地址"
    ok = api.call(
        "dingcheng.fire",
        "PUT",
        "/me/mail",
        json={"email": "li.si@changde.example.gov.cn", "mail_enabled": True},
    )
    assert ok.status_code == 200
    assert ok.json == {
        "email": "li.si@changde.example.gov.cn",
        "mail_enabled": True,
        "mail_available": False,
    }
    with app.app_context():
        assert user("dingcheng.fire").email == "li.si@changde.example.gov.cn"


@pytest.mark.parametrize(
    "bad",
    [
        "a@b",  # no dot in the host
        "zhang san@example.gov.cn",
        "zhang@example.gov.cn\nBcc: x@example.com",  # header injection
        "a" * 65 + "@example.gov.cn",  # local part over 64
        "a@" + "b" * 250 + ".cn",  # over 254
        "张三@example.gov.cn",  # smtplib sends ASCII addresses only
        "a..b@example.gov.cn",
    ],
)
def test_addresses_refused(app, bad):
    with app.app_context():
        errors = set_mail_preferences(user("dingcheng.fire"), bad, True)
        assert list(errors) == ["email"], bad
        assert user("dingcheng.fire").email is None


def test_cli_set_email(app, runner):
    ok = runner.invoke(args=["users", "set-email", "dingcheng.fire", "wang.wu@example.gov.cn"])
    assert ok.exit_code == 0 and "将发送到 wang.wu@example.gov.cn" in ok.output
    bad = runner.invoke(args=["users", "set-email", "dingcheng.fire", "wang.wu"])
    assert bad.exit_code == 1 and "格式不正确" in bad.output
    off = runner.invoke(args=["users", "set-email", "dingcheng.fire", "--off"])
    assert off.exit_code == 0 and "不以邮件发送消息" in off.output
    with app.app_context():
        me = user("dingcheng.fire")
        assert (me.email, me.mail_enabled) == ("wang.wu@example.gov.cn", False)
    cleared = runner.invoke(args=["users", "set-email", "dingcheng.fire", "--clear"])
    assert cleared.exit_code == 0
    with app.app_context():
        assert user("dingcheng.fire").email is None
    assert runner.invoke(args=["users", "set-email", "nobody", "a@example.com"]).exit_code == 1


def test_the_scheduler_job_sends(databases, tmp_path, port, smtp):
    """``SCHEDULER_ENABLED=1`` with ``MAIL_SERVER``: the ``duban-mail`` job (its function run
    here, not waited for) delivers; it runs even with the sweep off (``SWEEP_SECONDS=0``)."""
    from server import create_app

    from .conftest import TEST_CONFIG

    url = databases.new()
    app = create_app(
        {
            **TEST_CONFIG,
            "TESTING": False,
            "SCHEDULER_ENABLED": True,
            "SWEEP_SECONDS": 0,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_SEND_SECONDS": 3600,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(tmp_path / "attachments"),
        }
    )
    scheduler = app.extensions["duban_scheduler"]
    try:
        assert scheduler.get_job("duban-sweep") is None
        job = scheduler.get_job("duban-mail")
        assert job is not None and job.trigger.interval == timedelta(hours=1)
        with app.app_context():
            choose_mail("dingcheng.fire")
            notify("dingcheng.fire", "督办：DB2026-000005", "市消安委办已挂牌督办。")
            db.session.remove()
        job.func()
    finally:
        scheduler.shutdown(wait=False)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        databases.drop(url)
    assert [m["Subject"] for _, _, m in smtp.received] == ["【督办系统】督办：DB2026-000005"]
