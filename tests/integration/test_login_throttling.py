"""Login throttling: consecutive failures lock an account for a while, on the form and the API.

The clock is moved with time-machine, never slept on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.audit import verify_chain
from server.extensions import db
from server.models import Event, User
from tests.integration.conftest import PASSWORD, Auth

START = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def system_events(app: Flask) -> list[Event]:
    with app.app_context():
        events = db.session.scalars(
            select(Event).where(Event.case_id.is_(None)).order_by(Event.seq)
        ).all()
        db.session.expunge_all()
        return list(events)


def account(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def test_five_failures_lock_the_account_for_fifteen_minutes(
    app: Flask, client: FlaskClient, auth: Auth, time_machine
):
    time_machine.move_to(START, tick=False)
    before = len(system_events(app))
    for attempt in range(1, 5):
        response = auth.login("wuling.fire", "wrong")
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text and "锁定" not in response.text
        assert account(app, "wuling.fire").failed_logins == attempt
    fifth = auth.login("wuling.fire", "wrong")
    assert fifth.status_code == 401
    assert "登录失败次数过多，账户已临时锁定，请于 10:15 后再试" in fifth.text
    assert account(app, "wuling.fire").locked_until == START + timedelta(minutes=15)

    # The right password is refused while the account is locked.
    time_machine.move_to(START + timedelta(minutes=14, seconds=59), tick=False)
    locked = auth.login("wuling.fire", PASSWORD)
    assert locked.status_code == 401 and "请于 10:15 后再试" in locked.text
    assert client.get("/", follow_redirects=False).status_code == 302  # still not logged in

    # Fifteen minutes after the lock the right password works and resets the counter.
    time_machine.move_to(START + timedelta(minutes=15), tick=False)
    assert auth.login("wuling.fire", PASSWORD).status_code == 302
    assert client.get("/", follow_redirects=False).status_code == 200
    user = account(app, "wuling.fire")
    assert (user.failed_logins, user.locked_until) == (0, None)

    events = system_events(app)[before:]
    assert [e.kind for e in events] == [
        *["login_failed"] * 5,
        "account_locked",
        "login_failed",
        "login",
    ]
    assert [e.data.get("failures") for e in events[:5]] == [1, 2, 3, 4, 5]
    assert events[5].data["username"] == "wuling.fire"
    assert events[5].data["locked_until"] == (START + timedelta(minutes=15)).isoformat()
    assert events[6].data["reason"] == "locked"
    assert events[7].actor_id == user.id
    with app.app_context():
        assert verify_chain(None).ok


def test_a_success_resets_the_count(app: Flask, auth: Auth, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(4):
        auth.login("wuling.fire", "wrong")
    assert auth.login("wuling.fire", PASSWORD).status_code == 302
    assert account(app, "wuling.fire").failed_logins == 0
    for _ in range(4):
        assert "锁定" not in auth.login("wuling.fire", "wrong").text
    assert account(app, "wuling.fire").locked_until is None


def test_after_a_lock_expires_five_new_failures_are_needed(app: Flask, auth: Auth, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(5):
        auth.login("wuling.fire", "wrong")
    time_machine.move_to(START + timedelta(minutes=20), tick=False)
    assert "锁定" not in auth.login("wuling.fire", "wrong").text
    assert account(app, "wuling.fire").failed_logins == 1
    for _ in range(4):
        last = auth.login("wuling.fire", "wrong")
    assert "请于 10:35 后再试" in last.text


def test_the_lock_applies_to_one_account_only(app: Flask, auth: Auth, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(5):
        auth.login("wuling.fire", "wrong")
    assert auth.login("wuling.gov", PASSWORD).status_code == 302


def test_unknown_user_and_wrong_password_answer_alike(app: Flask, auth: Auth, time_machine):
    time_machine.move_to(START, tick=False)
    unknown = auth.login("nobody.here", "wrong")
    wrong = auth.login("wuling.fire", "wrong")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text.replace("nobody.here", "") == wrong.text.replace("wuling.fire", "")
    # Unknown names are audited but never locked (there is no account to lock).
    for _ in range(6):
        assert "锁定" not in auth.login("nobody.here", "wrong").text
    kinds = [e.kind for e in system_events(app) if e.data.get("username") == "nobody.here"]
    assert kinds == ["login_failed"] * 7


def test_lock_settings_come_from_the_config(app: Flask, auth: Auth, time_machine):
    app.config.update(LOGIN_MAX_FAILURES=2, LOGIN_LOCK_MINUTES=60)
    time_machine.move_to(START, tick=False)
    auth.login("wuling.fire", "wrong")
    assert "请于 11:00 后再试" in auth.login("wuling.fire", "wrong").text


def test_a_lock_ending_another_day_names_the_date(app: Flask, auth: Auth, time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 15, 50, tzinfo=UTC), tick=False)  # 23:50 Shanghai
    for _ in range(5):
        last = auth.login("wuling.fire", "wrong")
    assert "请于 3月11日 00:05 后再试" in last.text


def test_the_api_token_endpoint_is_throttled_alike(
    app: Flask, client: FlaskClient, auth: Auth, time_machine
):
    time_machine.move_to(START, tick=False)

    def token(password: str):
        return client.post("/api/v1/tokens", json={"username": "wuling.fire", "password": password})

    for _ in range(4):
        response = token("wrong")
        assert response.status_code == 401 and response.json["error"] == "unauthorized"
    fifth = token("wrong")
    assert fifth.status_code == 429
    assert fifth.json["error"] == "too_many_attempts"
    assert "请于 10:15 后再试" in fifth.json["message"]
    assert fifth.headers["Retry-After"] == "900"
    time_machine.move_to(START + timedelta(minutes=10), tick=False)
    refused = token(PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "300"
    # The web form shares the count: the same account is locked there too.
    assert "锁定" in auth.login("wuling.fire", PASSWORD).text
    time_machine.move_to(START + timedelta(minutes=15), tick=False)
    assert token(PASSWORD).status_code == 201
    events = [e for e in system_events(app) if e.data.get("via") == "api"]
    assert [e.kind for e in events] == [
        *["login_failed"] * 5,
        "account_locked",
        "login_failed",
    ]
    with app.app_context():
        assert verify_chain(None).ok
