"""The production entry point: the configuration it refuses, and gunicorn serving the app."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from server import create_app
from server.config import DEFAULT_SECRET, production_problems
from tests.integration.conftest import PASSWORD, TEST_CONFIG

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = "postgresql+psycopg://duban@db.example/duban"


PRODUCTION = {"DUBAN_ENV": "production", "SECRET_KEY": "s3cret"}


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"DUBAN_ENV": "development"}, []),
        ({"DUBAN_ENV": "production", "SQLALCHEMY_DATABASE_URI": POSTGRES_URL}, ["SECRET_KEY"]),
        (PRODUCTION, ["DATABASE_URL"]),
        ({**PRODUCTION, "DUBAN_ALLOW_SQLITE": True}, []),
        ({**PRODUCTION, "SQLALCHEMY_DATABASE_URI": POSTGRES_URL}, []),
    ],
)
def test_production_needs_a_secret_and_a_database_server(config, refused):
    config = {"SECRET_KEY": DEFAULT_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite:///x", **config}
    problems = production_problems(config)
    assert [p.split(" ", 1)[0] for p in problems] == refused


def test_the_app_refuses_to_start_in_production_with_the_defaults(tmp_path):
    with pytest.raises(RuntimeError, match=r"SECRET_KEY must be set.*DATABASE_URL must name"):
        create_app(
            {
                **TEST_CONFIG,
                "DUBAN_ENV": "production",
                "SECRET_KEY": DEFAULT_SECRET,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            }
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={**(headers or {})})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_gunicorn_serves_the_app_with_several_workers(databases, tmp_path):
    url = databases.new()
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DUBAN_ENV": "production",
        "DUBAN_ALLOW_SQLITE": "1",
        "SECRET_KEY": "a-test-secret",
        "DUBAN_BIND": f"127.0.0.1:{port}",
        "DUBAN_WORKERS": "2",
        "SCHEDULER_ENABLED": "1",
        "SWEEP_SECONDS": "1",
        "UPLOAD_DIR": str(tmp_path / "attachments"),
    }
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
            try:
                status, _ = request(f"{base}/login")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not answer:\n{log.read_text()}")
        assert status == 200
        status, body = request(
            f"{base}/api/v1/tokens", {"username": "wuling.fire", "password": PASSWORD}
        )
        assert status == 201, body
        token = json.loads(body)["token"]
        for _ in range(6):  # served by either worker: both read the same database
            status, body = request(
                f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
            )
            assert status == 200 and json.loads(body)["username"] == "wuling.fire"
        time.sleep(2.5)  # a few scheduler ticks in both workers, taking turns through the lock
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        databases.drop(url)
    text = log.read_text()
    assert text.count("Booting worker") == 2, text
    assert "Traceback" not in text, text
