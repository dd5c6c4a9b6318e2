"""Security headers: a strict CSP (no inline script or style), no framing, no sniffing."""

import re

import pytest


def test_pages_carry_the_security_headers(client, auth):
    auth.login("wuling.nanping")
    for path in ("/login", "/", "/cases", "/cases/new", "/api/v1/openapi.json"):
        response = client.get(path, follow_redirects=True)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_need_no_inline_script_or_style(client, auth):
    auth.login("wuling.nanping")
    page = client.get("/cases/new").text + client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # every script is a file
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert 'style="' not in page and "<style" not in page


# --- cookies -----------------------------------------------------------------------------------


def session_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_session_cookie_is_httponly_and_samesite_lax_over_http(client, auth):
    response = auth.login("wuling.nanping")
    assert response.status_code == 302
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "secure" not in cookie_flags(cookie)  # plain HTTP in development: no Secure flag
    # No remember-me cookie is handed out at all (sessions end with the browser).
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize(
    "setting",
    [
        {"DUBAN_HTTPS": True},
        {"PREFERRED_URL_SCHEME": "https"},
        {"DUBAN_ENV": "production", "DUBAN_ALLOW_SQLITE": True},
    ],
)
def test_cookies_are_secure_when_served_over_https(app, setting):
    from server import create_app
    from tests.integration.conftest import PASSWORD, TEST_CONFIG, csrf_token

    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    https = create_app({**config, "SECRET_KEY": "a-test-secret", **setting})
    try:
        assert https.config["SESSION_COOKIE_SECURE"] and https.config["REMEMBER_COOKIE_SECURE"]
        assert https.config["REMEMBER_COOKIE_HTTPONLY"]
        assert https.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
        client = https.test_client()
        base = "https://duban.example"
        page = client.get("/login", base_url=base)
        response = client.post(
            "/login",
            base_url=base,
            headers={"Referer": f"{base}/login"},  # CSRF over HTTPS checks the referrer
            data={"username": "wuling.nanping", "password": PASSWORD,
                  "csrf_token": csrf_token(page.text)},
        )  # fmt: skip
        assert response.status_code == 302
        cookie = session_cookie(response)
        assert {"secure", "httponly", "samesite"} <= cookie_flags(cookie)
        assert "SameSite=Lax" in cookie
    finally:
        with https.app_context():
            from server.extensions import db

            db.session.remove()
            db.engine.dispose()
