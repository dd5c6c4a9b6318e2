"""Fixtures of the end-to-end tests: a real server on a free port, a real Chromium.

The server is ``flask --app server run`` in a subprocess over its own SQLite database in a
temporary directory, migrated with ``init-db`` and filled with ``seed-demo``, exactly as
``make run`` does. The browser is Debian's Chromium (``apt-get install chromium``) driven by
Playwright; Playwright's own browser downloads are never used.

Screenshots of every step go to ``test-artifacts/e2e/`` (ignored by git). With
``DUBAN_README_SCREENSHOTS=DIR`` the steps that illustrate the README are saved to ``DIR`` as
well (``scripts/update-screenshots`` does that for ``docs/screenshots/``).

Without Chromium (or Playwright) the tests are skipped with a message, unless
``DUBAN_E2E_REQUIRED=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import ARTIFACTS, CHROMIUM, LAPTOP, PASSWORD, ROOT, TIMEOUT_MS, Officer


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make setup installs it)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium not found at {CHROMIUM} (sudo apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tests, with the reason, when Chromium or Playwright is missing."""
    reason = _missing()
    if reason is None:
        return
    e2e = [item for item in items if Path(str(item.fspath)).is_relative_to(Path(__file__).parent)]
    if not e2e:
        return
    if os.environ.get("DUBAN_E2E_REQUIRED") == "1":
        raise pytest.UsageError(f"end-to-end tests required (DUBAN_E2E_REQUIRED=1) but {reason}")
    marker = pytest.mark.skip(reason=f"end-to-end tests skipped: {reason}")
    for item in e2e:
        item.add_marker(marker)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """The running server: its base URL, environment and log file."""

    url: str
    env: dict[str, str]
    log: Path
    notes: dict[str, Any] = field(default_factory=dict)  # passed from one journey to another


def _flask(env: dict[str, str], *args: str, log: Path) -> None:
    with log.open("a") as out:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "server", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=300,
        )  # fmt: skip


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling the server's start, not waiting for time-dependent behaviour
    raise RuntimeError(f"the server did not answer within 60 s:\n{log.read_text()}")


def _database(work: Path) -> str:
    """The server's database: a SQLite file, or with ``DUBAN_TEST_POSTGRES`` (a server URL) a
    fresh PostgreSQL database, so that the journeys run on both like the rest of the suite."""
    server = os.environ.get("DUBAN_TEST_POSTGRES", "")
    if not server:
        return f"sqlite:///{work / 'duban.sqlite3'}"
    from sqlalchemy import create_engine, text

    name = f"duban_e2e_{os.getpid()}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def _drop(database: str) -> None:
    server = os.environ.get("DUBAN_TEST_POSTGRES", "")
    if not server or not database.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {database.rsplit('/', 1)[1]}"))
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A migrated, demo-seeded server on a free port, stopped at the end of the session."""
    work = tmp_path_factory.mktemp("e2e-server")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "server.log"
    log.write_text("")
    database = _database(work)
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "UPLOAD_DIR": str(work / "attachments"),
        "EXPORT_DIR": str(work / "exports"),
        "DEMO_PASSWORD": PASSWORD,
        "DUBAN_ENV": "development",
        "SECRET_KEY": "e2e-secret",
        # The demo's missed deadlines are recorded while seeding; no sweep needed while testing.
        "SCHEDULER_ENABLED": "0",
        "EXPORT_SYNC": "0",  # the batch export runs in the background, as in production
    }
    env.pop("FLASK_DEBUG", None)
    _flask(env, "init-db", log=log)
    _flask(env, "seed-demo", log=log)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "server", "run",
             "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_up(url, process, log)
        yield LiveServer(url, env, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _drop(database)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless=new", "--lang=zh-CN", "--disable-gpu",
                  "--disable-dev-shm-usage"],
            # With Debian's chromium-l10n, native controls (date fields, file pickers) speak
            # Chinese, as on the officers' computers; without it they stay in English.
            env={**os.environ, "LANGUAGE": "zh_CN:zh", "LANG": "zh_CN.UTF-8"},
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def officer_factory(live_server: LiveServer, browser: Any) -> Iterator[Any]:
    """``officer(username, journey, viewport=LAPTOP)``: a fresh browser context, signed in."""
    contexts: list[Any] = []
    errors: list[str] = []

    def console(message: Any) -> None:
        # A 404 page is an expected answer in journey 4; CSP violations and script errors are not.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def make(username: str | None, journey: str, viewport: dict[str, int] | None = None) -> Officer:
        context = browser.new_context(
            viewport=viewport or LAPTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
            accept_downloads=True,
        )  # fmt: skip
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", console)
        person = Officer(live_server, page, journey)
        if username:
            person.login(username)
        return person

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript or CSP errors in the browser: {errors}"


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts() -> None:
    """Start every run with an empty screenshot folder, so stale steps do not linger."""
    if ARTIFACTS.exists():
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()
        for old in ARTIFACTS.glob("*.pdf"):
            old.unlink()
