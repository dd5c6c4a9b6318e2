"""Configuration from the environment, with development defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_SECRET = "duban-development-secret"  # noqa: S105 - refused outside development


def from_environment(instance_path: str) -> dict[str, Any]:
    """Return the app config read from environment variables.

    ``DATABASE_URL`` (any SQLAlchemy URL; default a SQLite file under ``instance/``),
    ``SECRET_KEY``, ``DUBAN_ENV`` (development or production), ``DEMO_PASSWORD``,
    ``SWEEP_SECONDS`` (scheduler interval; 0 switches the scheduler off), ``UPLOAD_DIR``,
    ``MAX_UPLOAD_MB``, ``DOSSIER_FONT`` (the dossier's CJK TrueType font), ``DOCUMENT_FONT_BODY``,
    ``_TITLE``, ``_HEI``, ``_KAI`` (the issued documents' fonts by role), ``EXPORT_DIR`` (batch
    exports of dossiers), ``EXPORT_SYNC=1`` (build exports within the request),
    ``LOGIN_MAX_FAILURES`` (wrong passwords for one account from one address before a wait,
    default 5), ``LOGIN_MAX_FAILURES_PER_ADDRESS`` and ``LOGIN_MAX_FAILURES_PER_ACCOUNT``
    (default 20 each), ``LOGIN_BACKOFF_SECONDS`` (the first wait, default 30, doubled by each
    further failure) and ``LOGIN_LOCK_MINUTES`` (the longest wait, default 15): see
    server/throttle.py; ``SESSION_IDLE_MINUTES`` (default 480) and ``SESSION_MAX_HOURS``
    (default 168): browser sessions end after that long idle resp. after the login;
    ``DUBAN_PROXY_HOPS`` (reverse proxies trusted for ``X-Forwarded-For``/``-Proto``, default 0),
    ``DUBAN_HTTPS=1`` or ``PREFERRED_URL_SCHEME=https`` (served over HTTPS: cookies are sent
    with ``Secure``; production implies it), ``DUBAN_ALLOW_SQLITE=1`` (production on SQLite:
    one server only, see :func:`production_problems`).

    E-mail of users' messages (docs/mail.md; off when ``MAIL_SERVER`` is unset):
    ``MAIL_SERVER``, ``MAIL_PORT`` (default 25, 465 with SSL), ``MAIL_USE_TLS=1`` (STARTTLS) or
    ``MAIL_USE_SSL=1`` (implicit TLS), ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_FROM`` (the
    sender address), ``MAIL_CA_FILE`` (a CA bundle to trust for the mail server's certificate
    instead of the system's), ``MAIL_TIMEOUT`` (seconds, default 30), ``MAIL_MAX_ATTEMPTS``
    (default 8), ``MAIL_SEND_SECONDS`` (the sender's interval, default 60) and
    ``PUBLIC_BASE_URL`` (the address users open Duban at, for the links in the e-mails).
    """
    instance = Path(instance_path)
    default_db = f"sqlite:///{instance / 'duban.sqlite3'}"
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        "DUBAN_ENV": os.environ.get("DUBAN_ENV", "development"),
        "DEMO_PASSWORD": os.environ.get("DEMO_PASSWORD", "changde-demo"),
        "SWEEP_SECONDS": int(os.environ.get("SWEEP_SECONDS", "60")),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance / "attachments")),
        # Dossier font: PATH or PATH#N (face N of a .ttc); empty: the installed CJK fonts.
        "DOSSIER_FONT": os.environ.get("DOSSIER_FONT", ""),
        # Document fonts by GB/T 9704 role (server/documents/fonts.py), PATH or PATH#N each;
        # empty: the installed ones (AR PL UMing, WenQuanYi Micro Hei, AR PL UKai).
        **{
            key: os.environ.get(key, "")
            for key in (
                "DOCUMENT_FONT_BODY",
                "DOCUMENT_FONT_TITLE",
                "DOCUMENT_FONT_HEI",
                "DOCUMENT_FONT_KAI",
            )
        },
        "EXPORT_DIR": os.environ.get("EXPORT_DIR", str(instance / "exports")),
        "EXPORT_SYNC": os.environ.get("EXPORT_SYNC", "0") == "1",
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(
            os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "20")
        ),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(
            os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", "20")
        ),
        "LOGIN_BACKOFF_SECONDS": float(os.environ.get("LOGIN_BACKOFF_SECONDS", "30")),
        "LOGIN_LOCK_MINUTES": float(os.environ.get("LOGIN_LOCK_MINUTES", "15")),
        "SESSION_IDLE_MINUTES": float(os.environ.get("SESSION_IDLE_MINUTES", "480")),
        "SESSION_MAX_HOURS": float(os.environ.get("SESSION_MAX_HOURS", "168")),
        "DUBAN_PROXY_HOPS": int(os.environ.get("DUBAN_PROXY_HOPS", "0")),
        "DUBAN_HTTPS": os.environ.get("DUBAN_HTTPS", "0") == "1",
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "http"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 20,
        "SCHEDULER_ENABLED": os.environ.get("SCHEDULER_ENABLED", "0") == "1",
        "DUBAN_ALLOW_SQLITE": os.environ.get("DUBAN_ALLOW_SQLITE", "0") == "1",
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "0") or 0),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "0") == "1",
        "MAIL_USE_SSL": os.environ.get("MAIL_USE_SSL", "0") == "1",
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "duban@localhost"),
        "MAIL_CA_FILE": os.environ.get("MAIL_CA_FILE", ""),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "30")),
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "8")),
        "MAIL_SEND_SECONDS": int(os.environ.get("MAIL_SEND_SECONDS", "60")),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000"),
    }


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """What forbids serving ``config`` in production (``DUBAN_ENV=production``); empty if fine.

    Production needs its own ``SECRET_KEY`` (the default one is public, in this file) and a
    database server: SQLite serialises every writer and cannot be shared by several servers,
    so it is refused unless ``DUBAN_ALLOW_SQLITE=1`` says that one small server is meant.
    """
    if config.get("DUBAN_ENV") != "production":
        return []
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET):
        problems.append("SECRET_KEY must be set in production (DUBAN_ENV=production)")
    url = str(config.get("SQLALCHEMY_DATABASE_URI", ""))
    if url.startswith("sqlite") and not config.get("DUBAN_ALLOW_SQLITE"):
        problems.append(
            "DATABASE_URL must name a PostgreSQL database in production "
            "(postgresql+psycopg://…); DUBAN_ALLOW_SQLITE=1 allows SQLite for a single server"
        )
    return problems
