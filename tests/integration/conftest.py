"""Fixtures of the integration tests: an app over a fresh copy of a migrated, seeded database.

The schema is built once per session through the migrations (``init-db``), with Changde's
agencies and the demo users; each test gets its own copy of that SQLite file.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import create_app

PASSWORD = "test-password"
TEST_CONFIG = {
    "TESTING": True,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast for tests; production uses scrypt
    "DEMO_PASSWORD": PASSWORD,
    "SWEEP_SECONDS": 0,
}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the directory and demo users, built once."""
    path = tmp_path_factory.mktemp("template") / "duban.sqlite3"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from server.directory import ensure_agencies, ensure_demo_users
        from server.extensions import db

        ensure_agencies()
        ensure_demo_users(PASSWORD)
        db.engine.dispose()
    return path


@pytest.fixture
def app(template_db: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app over a private copy of the template database."""
    path = tmp_path / "duban.sqlite3"
    shutil.copy(template_db, path)
    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "UPLOAD_DIR": str(tmp_path / "attachments"),
        }
    )
    yield app
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for ``flask --app server …`` commands."""
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token in the page"
    return match.group(1)


class Auth:
    """Log users in and out of the test client, or get API tokens for them."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        """Log ``username`` in through the login form (with its CSRF token)."""
        self.client.post("/logout", data={"csrf_token": self._token("/login")})
        page = self.client.get("/login")
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        )

    def _token(self, path: str) -> str:
        page = self.client.get(path, follow_redirects=True)
        try:
            return csrf_token(page.text)
        except AssertionError:
            return ""

    def token(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        """Authorization headers with an API token for ``username``."""
        response = self.client.post(
            "/api/v1/tokens", json={"username": username, "password": password}
        )
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json['token']}"}


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> Auth:
    """The :class:`Auth` helper."""
    return Auth(app, client)
