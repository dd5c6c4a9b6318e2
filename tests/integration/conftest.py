"""Fixtures of the integration tests: an app over a fresh copy of a migrated, seeded database.

The schema is built once per session through the migrations (``init-db``), with Changde's
agencies and the demo users; each test gets its own copy of that SQLite file.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from tests.support.api import Api

PASSWORD = "test-password"
TEST_CONFIG = {
    "TESTING": True,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast for tests; production uses scrypt
    "DEMO_PASSWORD": PASSWORD,
    "SWEEP_SECONDS": 0,
}


class Databases:
    """Fresh test databases cloned from one migrated, seeded template.

    SQLite (default): the template is a file, each clone a copy of it. PostgreSQL (when
    ``DUBAN_TEST_POSTGRES`` names a server URL, e.g. from ``scripts/test-postgres start``): the
    template is a database and each clone ``CREATE DATABASE … TEMPLATE``.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.server = os.environ.get("DUBAN_TEST_POSTGRES", "")
        self.prefix = f"duban_test_{os.getpid()}"
        self.template = self._build_template()

    def _admin(self):
        from sqlalchemy import create_engine

        return create_engine(self.server, isolation_level="AUTOCOMMIT")

    def _execute(self, *statements: str) -> None:
        from sqlalchemy import text

        engine = self._admin()
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
        engine.dispose()

    def _url(self, name: str) -> str:
        return self.server.rsplit("/", 1)[0] + "/" + name

    def _build_template(self) -> str:
        if self.server:
            name = f"{self.prefix}_template"
            self._execute(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
            url = self._url(name)
        else:
            url = f"sqlite:///{self.workdir / 'template.sqlite3'}"
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            from server.directory import ensure_agencies, ensure_demo_users
            from server.extensions import db

            ensure_agencies()
            ensure_demo_users(PASSWORD)
            db.session.remove()  # return the connection before the pool goes
            db.engine.dispose()
        return url

    def new(self) -> str:
        """The URL of a new database with the template's content."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        if self.server:
            template = self.template.rsplit("/", 1)[1]
            self._execute(f"CREATE DATABASE {name} TEMPLATE {template}")
            return self._url(name)
        path = self.workdir / f"{name}.sqlite3"
        shutil.copy(self.template.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"

    def empty(self) -> str:
        """The URL of a new database without any table (for the migration tests)."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        if self.server:
            self._execute(f"CREATE DATABASE {name}")
            return self._url(name)
        return f"sqlite:///{self.workdir / f'{name}.sqlite3'}"

    def drop(self, url: str) -> None:
        """Remove a database made by :meth:`new`."""
        if self.server:
            name = url.rsplit("/", 1)[1]
            self._execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the template."""
        if self.server:
            name = self.template.rsplit("/", 1)[1]
            self._execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The session's :class:`Databases`."""
    databases = Databases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


@pytest.fixture
def app(databases: Databases, tmp_path: Path) -> Iterator[Flask]:
    """An app over a private copy of the template database."""
    url = databases.new()
    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(tmp_path / "attachments"),
        }
    )
    yield app
    with app.app_context():
        from server.extensions import db

        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


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


@pytest.fixture
def api(client: FlaskClient, auth: Auth) -> Api:
    """Calls to /api/v1 with a token per user (:class:`tests.support.api.Api`)."""
    return Api(client, auth)
