"""Credentials: a password changed or reset, a user deactivated and 退出所有设备 end every
session and API token of the user; browser sessions expire when idle and after a lifetime;
the client address behind a reverse proxy; safe redirects after login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import create_app
from server.audit import verify_chain
from server.extensions import db
from server.models import Event, LoginThrottle
from tests.integration.conftest import PASSWORD, TEST_CONFIG, Auth, csrf_token

START = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
NEW_PASSWORD = "a-new-passphrase"


def logged_in(client: FlaskClient) -> bool:
    return client.get("/notifications", follow_redirects=False).status_code == 200


def api_ok(client: FlaskClient, headers: dict[str, str]) -> bool:
    return client.get("/api/v1/me", headers=headers).status_code == 200


def post_form(client: FlaskClient, path: str, data: dict[str, str] | None = None):
    token = csrf_token(client.get("/account").text)
    return client.post(path, data={**(data or {}), "csrf_token": token})


def kinds(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Event.kind).where(Event.case_id.is_(None)).order_by(Event.seq)
            )
        )


@pytest.fixture
def elsewhere(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """wuling.fire logged in on another device, with an API token."""
    other = app.test_client()
    assert Auth(app, other).login("wuling.fire").status_code == 302
    return other, Auth(app, other).token("wuling.fire")


def test_changing_the_password_ends_every_other_session_and_token(
    app: Flask, client: FlaskClient, auth: Auth, elsewhere
):
    other, headers = elsewhere
    auth.login("wuling.fire")
    assert logged_in(other) and api_ok(client, headers)
    page = client.get("/account")
    assert page.status_code == 200 and "修改密码" in page.text and "退出所有设备" in page.text
    assert "当前有效的 1 个 API 令牌" in page.text

    response = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert "密码已修改" in client.get("/account").text
    assert logged_in(client)  # this browser goes on
    assert not logged_in(other)
    assert not api_ok(client, headers)
    assert Auth(app, app.test_client()).login("wuling.fire", PASSWORD).status_code == 401
    assert Auth(app, app.test_client()).login("wuling.fire", NEW_PASSWORD).status_code == 302
    assert "password_changed" in kinds(app)
    with app.app_context():
        assert verify_chain(None).ok


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current_password": "wrong"}, "当前密码不正确"),
        ({"current_password": ""}, "请输入当前密码"),
        ({"new_password": "short", "confirm_password": "short"}, "新密码至少 10 个字符"),
        ({"confirm_password": "something-else"}, "两次输入的新密码不一致"),
        ({"new_password": "wuling.fire", "confirm_password": "wuling.fire"}, "不能与用户名相同"),
    ],
)
def test_a_refused_password_change_changes_nothing(
    app: Flask, client: FlaskClient, auth: Auth, elsewhere, form: dict[str, str], message: str
):
    other, headers = elsewhere
    auth.login("wuling.fire")
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        **form,
    }
    response = post_form(client, "/account/password", data)
    assert response.status_code == 422 and message in response.text
    assert logged_in(other) and api_ok(client, headers)
    assert "password_changed" not in kinds(app)


def test_guessing_the_current_password_is_throttled(app: Flask, client: FlaskClient, auth: Auth):
    auth.login("wuling.fire")
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    statuses = [
        post_form(client, "/account/password", {**data, "current_password": f"guess{i}"})
        for i in range(6)
    ]
    assert [r.status_code for r in statuses] == [422, 422, 422, 422, 429, 429]
    assert "登录失败次数过多" in statuses[-1].text


def test_logging_out_everywhere_revokes_sessions_and_tokens(
    app: Flask, client: FlaskClient, auth: Auth, elsewhere
):
    other, headers = elsewhere
    auth.login("wuling.fire")
    colleague = Auth(app, app.test_client()).token("wuling.gov")
    response = post_form(client, "/account/logout-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "已退出所有设备，1 个 API 令牌已作废" in client.get("/login").text
    assert not logged_in(client) and not logged_in(other)
    assert not api_ok(client, headers)
    assert api_ok(client, colleague)  # another user's token is untouched
    assert kinds(app)[-1] == "logout_everywhere"


def test_plain_logout_keeps_api_tokens(app: Flask, client: FlaskClient, auth: Auth, elsewhere):
    other, headers = elsewhere
    auth.login("wuling.fire")
    post_form(client, "/logout")
    assert not logged_in(client) and not logged_in(other)
    assert api_ok(client, headers)


def test_a_password_reset_by_the_cli_ends_sessions_and_tokens(
    app: Flask, runner, auth: Auth, elsewhere
):
    other, headers = elsewhere
    result = runner.invoke(
        args=["users", "set-password", "wuling.fire"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "1 个 API 令牌已作废" in result.output
    assert not logged_in(other) and not api_ok(other, headers)
    assert auth.login("wuling.fire", NEW_PASSWORD).status_code == 302
    short = runner.invoke(args=["users", "set-password", "wuling.fire"], input="short\nshort\n")
    assert short.exit_code != 0 and "至少 10 个字符" in short.output
    assert "password_reset" in kinds(app)


def test_deactivating_a_user_ends_sessions_and_tokens(app: Flask, runner, auth: Auth, elsewhere):
    other, headers = elsewhere
    result = runner.invoke(args=["users", "deactivate", "wuling.fire"])
    assert result.exit_code == 0, result.output
    assert not logged_in(other) and not api_ok(other, headers)
    assert auth.login("wuling.fire").status_code == 401
    assert runner.invoke(args=["users", "deactivate", "nobody"]).exit_code != 0
    assert "user_deactivated" in kinds(app)


def test_sessions_expire_after_eight_idle_hours(
    app: Flask, client: FlaskClient, auth: Auth, time_machine
):
    time_machine.move_to(START, tick=False)
    auth.login("wuling.fire")
    for hours in (7, 14, 21):  # used every 7 hours: still logged in after 21 hours
        time_machine.move_to(START + timedelta(hours=hours), tick=False)
        assert logged_in(client)
    time_machine.move_to(START + timedelta(hours=29, seconds=1), tick=False)
    response = client.get("/notifications")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "登录已过期，请重新登录" in client.get("/login").text


def test_sessions_expire_after_seven_days_in_use(
    app: Flask, client: FlaskClient, auth: Auth, time_machine
):
    time_machine.move_to(START, tick=False)
    auth.login("wuling.fire")
    for hours in range(6, 168, 6):
        time_machine.move_to(START + timedelta(hours=hours), tick=False)
        assert logged_in(client), hours
    time_machine.move_to(START + timedelta(hours=168, seconds=1), tick=False)
    assert not logged_in(client)


def test_session_lifetimes_come_from_the_config(
    app: Flask, client: FlaskClient, auth: Auth, time_machine
):
    app.config.update(SESSION_IDLE_MINUTES=30, SESSION_MAX_HOURS=1)
    time_machine.move_to(START, tick=False)
    auth.login("wuling.fire")
    time_machine.move_to(START + timedelta(minutes=29), tick=False)
    assert logged_in(client)
    time_machine.move_to(START + timedelta(minutes=58), tick=False)
    assert logged_in(client)
    time_machine.move_to(START + timedelta(minutes=61), tick=False)
    assert not logged_in(client)


def _failures_by_address(app: Flask) -> set[str]:
    with app.app_context():
        keys = db.session.scalars(select(LoginThrottle.key).where(LoginThrottle.failures > 0))
        return {k.removeprefix("address:") for k in keys if k.startswith("address:")}


def test_the_client_address_comes_from_the_proxy_only_when_configured(app: Flask):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    plain = app.test_client()
    plain.post("/api/v1/tokens", json={"username": "x", "password": "y"}, headers=forwarded)
    assert _failures_by_address(app) == {"127.0.0.1"}
    proxied = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "DUBAN_PROXY_HOPS": 1})
    client = proxied.test_client()
    client.post("/api/v1/tokens", json={"username": "x", "password": "y"}, headers=forwarded)
    assert _failures_by_address(app) == {"127.0.0.1", "198.51.100.7"}
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


# --- redirects after login ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "//evil",
        "/%0d%0aSet-Cookie:%20x=1",
        "https://evil.example/",
        "javascript:alert(1)",
        "/%20/evil.example",
        "%2F%2Fevil.example",
    ],
)
def test_login_never_redirects_off_site(client: FlaskClient, target: str):
    page = client.get(f"/login?next={target}")
    assert page.status_code == 200
    assert "evil" not in page.text and "javascript" not in page.text
    response = client.post(
        f"/login?next={target}",
        data={"username": "wuling.fire", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"  # the officer's inbox


def test_login_follows_a_path_on_this_site(client: FlaskClient):
    page = client.get("/login?next=/cases%3Fq%3D%E7%81%AB")
    assert 'action="/login?next=/cases?q%3D%E7%81%AB"' in page.text
    response = client.post(
        "/login?next=/cases%3Fq%3D%E7%81%AB",
        data={"username": "wuling.fire", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/cases?q=%E7%81%AB"


def test_other_next_parameters_are_checked_alike(client: FlaskClient, auth: Auth):
    auth.login("wuling.fire")
    token = csrf_token(client.get("/notifications").text)
    response = client.post(
        "/notifications/read-all", data={"csrf_token": token, "next": "/\t/evil.example"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
