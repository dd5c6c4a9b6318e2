"""Login throttling: growing delays per account and address pair, per address and per account,
on the form and the API alike; unknown accounts answered like known ones; parallel guesses never
overtake the count.

The clock is moved with time-machine, never slept on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import check_password_hash

import server.auth
from server.audit import verify_chain
from server.extensions import db
from server.models import Event, LoginThrottle
from tests.integration.conftest import PASSWORD, csrf_token

START = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
HOME = "127.0.0.1"  # the test client's address
WRONG = "用户名或密码错误"


def system_events(app: Flask) -> list[Event]:
    with app.app_context():
        events = db.session.scalars(
            select(Event).where(Event.case_id.is_(None)).order_by(Event.seq)
        ).all()
        db.session.expunge_all()
        return list(events)


def counts(app: Flask) -> dict[str, int]:
    """Failures counted per throttling key."""
    with app.app_context():
        return {row.key: row.failures for row in db.session.scalars(select(LoginThrottle))}


def login(client: FlaskClient, username: str, password: str, address: str = HOME):
    """Post the login form from ``address`` (a fresh client session each time)."""
    client.delete_cookie("session")
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        environ_overrides={"REMOTE_ADDR": address},
    )


def token(client: FlaskClient, username: str, password: str, address: str = HOME):
    return client.post(
        "/api/v1/tokens",
        json={"username": username, "password": password},
        environ_overrides={"REMOTE_ADDR": address},
    )


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The passwords whose hash was checked, in order (the verify function is patched)."""
    seen: list[str] = []
    lock = threading.Lock()

    def counting(pwhash: str, password: str) -> bool:
        with lock:
            seen.append(password)
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(server.auth, "check_password_hash", counting)
    yield seen


def test_five_failures_start_a_wait_that_doubles(
    app: Flask, client: FlaskClient, time_machine, checks: list[str]
):
    time_machine.move_to(START, tick=False)
    before = len(system_events(app))
    for attempt in range(1, 5):
        response = login(client, "wuling.fire", "wrong")
        assert response.status_code == 401
        assert WRONG in response.text and "后再试" not in response.text
        assert counts(app)[f"pair:wuling.fire|{HOME}"] == attempt
    fifth = login(client, "wuling.fire", "wrong")
    assert fifth.status_code == 429
    assert "登录失败次数过多，请于 10:00:30 后再试" in fifth.text

    # While the pair waits even the right password is refused, unchecked.
    time_machine.move_to(START + timedelta(seconds=29), tick=False)
    refused = login(client, "wuling.fire", PASSWORD)
    assert refused.status_code == 429 and "10:00:30" in refused.text
    assert len(checks) == 5
    assert client.get("/", follow_redirects=False).status_code == 302  # not logged in

    # One more guess after the wait; failing, it doubles the wait.
    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    sixth = login(client, "wuling.fire", "wrong")
    assert sixth.status_code == 429 and "请于 10:01:30 后再试" in sixth.text
    time_machine.move_to(START + timedelta(seconds=90), tick=False)
    assert login(client, "wuling.fire", PASSWORD).status_code == 302
    assert client.get("/", follow_redirects=False).status_code == 200
    # The success takes only itself off the count, and ends the wait it started.
    assert counts(app)[f"pair:wuling.fire|{HOME}"] == 6
    assert login(client, "wuling.fire", PASSWORD).status_code == 302

    events = system_events(app)[before:]
    assert [(e.kind, e.data.get("reason")) for e in events] == [
        *[("login_failed", "credentials")] * 5,
        ("login_throttled", None),
        ("login_failed", "throttled"),
        ("login_failed", "credentials"),
        ("login_throttled", None),
        ("login", None),
        ("login", None),
    ]
    assert events[5].data["retry_at"] == (START + timedelta(seconds=30)).isoformat()
    assert events[5].data["address"] == HOME
    with app.app_context():
        assert verify_chain(None).ok


def test_the_wait_grows_up_to_the_longest(app: Flask, client: FlaskClient, time_machine):
    app.config.update(LOGIN_MAX_FAILURES=2, LOGIN_BACKOFF_SECONDS=60, LOGIN_LOCK_MINUTES=3)
    now = START
    time_machine.move_to(now, tick=False)
    login(client, "wuling.fire", "wrong")
    waits = []
    for _ in range(4):
        response = login(client, "wuling.fire", "wrong")
        assert response.status_code == 429
        wait = 60 if not waits else min(waits[-1] * 2, 180)
        until = now + timedelta(seconds=wait)
        assert f"请于 {until.astimezone(server.auth.SHANGHAI):%H:%M:%S} 后再试" in response.text
        waits.append(wait)
        now = until
        time_machine.move_to(now, tick=False)
    assert waits == [60, 120, 180, 180]


def test_a_success_keeps_earlier_failures_counted(app: Flask, client: FlaskClient, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(4):
        login(client, "wuling.fire", "wrong")
    assert login(client, "wuling.fire", PASSWORD).status_code == 302
    assert counts(app)[f"pair:wuling.fire|{HOME}"] == 4
    assert login(client, "wuling.fire", "wrong").status_code == 429


def test_counts_are_forgotten_an_hour_after_the_last_failure(
    app: Flask, client: FlaskClient, time_machine
):
    time_machine.move_to(START, tick=False)
    for _ in range(5):
        login(client, "wuling.fire", "wrong")
    time_machine.move_to(START + timedelta(minutes=59), tick=False)
    assert login(client, "wuling.fire", "wrong").status_code == 429
    time_machine.move_to(START + timedelta(minutes=119, seconds=1), tick=False)
    assert login(client, "wuling.fire", "wrong").status_code == 401
    assert counts(app)[f"pair:wuling.fire|{HOME}"] == 1


def test_an_attacker_elsewhere_cannot_lock_the_officer_out(
    app: Flask, client: FlaskClient, time_machine
):
    time_machine.move_to(START, tick=False)
    for _ in range(8):
        login(client, "wuling.fire", "wrong", address="203.0.113.9")
    assert login(client, "wuling.fire", "wrong", address="203.0.113.9").status_code == 429
    # The officer at the office logs in all the same.
    assert login(client, "wuling.fire", PASSWORD, address="10.1.2.3").status_code == 302


def test_one_address_spraying_many_accounts_is_stopped(
    app: Flask, client: FlaskClient, time_machine, checks: list[str]
):
    time_machine.move_to(START, tick=False)
    names = [f"{d}.fire" for d in ("wuling", "dingcheng", "lixian", "jinshi", "hanshou")]
    statuses = [login(client, names[i % 5], "wrong").status_code for i in range(20)]
    assert statuses.count(429) == 1 and statuses[-1] == 429  # the 20th starts the wait
    # The address now waits for any account, a never-tried one and the right password too.
    assert login(client, "wuling.gov", PASSWORD).status_code == 429
    assert len(checks) == 20
    assert login(client, "wuling.gov", PASSWORD, address="10.1.2.3").status_code == 302


def test_one_account_guessed_from_many_addresses_is_stopped(
    app: Flask, client: FlaskClient, time_machine, checks: list[str]
):
    time_machine.move_to(START, tick=False)
    for i in range(20):
        login(client, "wuling.fire", "wrong", address=f"198.51.100.{i + 1}")
    refused = login(client, "wuling.fire", PASSWORD, address="198.51.100.200")
    assert refused.status_code == 429 and "10:00:30" in refused.text
    assert len(checks) == 20
    # Growing delays, not a long lock: the account accepts its password 30 seconds later.
    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    assert login(client, "wuling.fire", PASSWORD, address="10.1.2.3").status_code == 302


def test_unknown_and_known_accounts_are_answered_alike(
    app: Flask, client: FlaskClient, time_machine, checks: list[str]
):
    time_machine.move_to(START, tick=False)

    def answers(username: str) -> list[tuple[int, str]]:
        result = []
        for _ in range(6):
            response = login(client, username, "wrong")
            text = response.text.replace(username, "")
            result.append((response.status_code, csrf_free(text)))
        return result

    known = answers("wuling.fire")
    checked_known = len(checks)
    unknown = answers("nobody.here")
    assert unknown == known
    assert [status for status, _ in known] == [401, 401, 401, 401, 429, 429]
    # A password hash is checked for the unknown name as often as for the known account.
    assert len(checks) - checked_known == checked_known == 5
    api_known = token(client, "wuling.gov", "wrong")
    api_unknown = token(client, "nobody.else", "wrong")
    assert api_known.status_code == api_unknown.status_code == 401
    assert api_known.json == api_unknown.json


def csrf_free(html: str) -> str:
    """A page without its per-session CSRF token."""
    import re

    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_settings_come_from_the_config(app: Flask, client: FlaskClient, time_machine):
    app.config.update(LOGIN_MAX_FAILURES=2, LOGIN_BACKOFF_SECONDS=3600)
    time_machine.move_to(START, tick=False)
    login(client, "wuling.fire", "wrong")
    assert "请于 10:15:00 后再试" in login(client, "wuling.fire", "wrong").text  # capped at 15
    app.config.update(LOGIN_LOCK_MINUTES=120)
    login(client, "wuling.gov", "wrong")
    assert "请于 11:00:00 后再试" in login(client, "wuling.gov", "wrong").text


def test_a_wait_ending_another_day_names_the_date(app: Flask, client: FlaskClient, time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 15, 59, 50, tzinfo=UTC), tick=False)  # 23:59:50
    for _ in range(5):
        last = login(client, "wuling.fire", "wrong")
    assert "请于 3月11日 00:00:20 后再试" in last.text


def test_the_api_token_endpoint_is_throttled_alike(app: Flask, client: FlaskClient, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(4):
        response = token(client, "wuling.fire", "wrong")
        assert response.status_code == 401 and response.json["error"] == "unauthorized"
    fifth = token(client, "wuling.fire", "wrong")
    assert fifth.status_code == 429
    assert fifth.json["error"] == "too_many_attempts"
    assert "请于 10:00:30 后再试" in fifth.json["message"]
    assert fifth.headers["Retry-After"] == "30"
    time_machine.move_to(START + timedelta(seconds=20), tick=False)
    refused = token(client, "wuling.fire", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
    # The web form shares the count.
    assert login(client, "wuling.fire", PASSWORD).status_code == 429
    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    assert token(client, "wuling.fire", PASSWORD).status_code == 201
    events = [e for e in system_events(app) if e.data.get("via") == "api"]
    assert [e.kind for e in events] == [
        *["login_failed"] * 5,
        "login_throttled",
        "login_failed",
    ]
    with app.app_context():
        assert verify_chain(None).ok


def _parallel(app: Flask, calls: list[Any]) -> list[int]:
    """Run ``calls`` (functions of a test client) at once, each on its own thread and client."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> int:
        client = app.test_client()
        prepared = call(client)  # e.g. fetch the login page and its CSRF token first
        barrier.wait()
        return int(prepared().status_code)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _slow(monkeypatch: pytest.MonkeyPatch, checks: list[str]) -> None:
    """Make each password check take a while, as scrypt does, so that the requests overlap."""
    import time

    counting = server.auth.check_password_hash

    def slow(pwhash: str, password: str) -> bool:
        time.sleep(0.05)
        return counting(pwhash, password)

    monkeypatch.setattr(server.auth, "check_password_hash", slow)


@pytest.mark.parametrize("via", ["api", "web"])
def test_parallel_guesses_never_overtake_the_count(
    app: Flask, checks: list[str], monkeypatch: pytest.MonkeyPatch, via: str
):
    """20 wrong guesses and the right password at once: at most LOGIN_MAX_FAILURES passwords
    are checked, no request fails."""
    _slow(monkeypatch, checks)

    def attempt(password: str) -> Any:
        def prepare(client: FlaskClient) -> Any:
            if via == "api":
                return lambda: token(client, "wuling.fire", password)
            page = client.get("/login")
            data = {
                "username": "wuling.fire",
                "password": password,
                "csrf_token": csrf_token(page.text),
            }
            return lambda: client.post("/login", data=data)

        return prepare

    statuses = _parallel(app, [attempt("wrong") for _ in range(20)] + [attempt(PASSWORD)])
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert checks.count("wrong") <= limit, f"{len(checks)} passwords checked: {checks}"
    assert len(checks) <= limit + 1
    assert all(status < 500 for status in statuses), statuses
    success = 201 if via == "api" else 302
    assert set(statuses) <= {success, 401, 429}
    assert statuses.count(429) >= 20 - limit
    events = system_events(app)
    failed = [e for e in events if e.kind == "login_failed"]
    assert len(failed) == statuses.count(401) + statuses.count(429)
    with app.app_context():
        assert verify_chain(None).ok
