"""Authentication: sessions (Flask-Login) for the browser, bearer tokens for the API.

A session id carries the user's session token, rotated on logout, so a logged-out session
cookie no longer authenticates. API tokens are random, stored as SHA-256, expire and can be
revoked.

Password logins (the login form and ``POST /api/v1/tokens``) are throttled per account:
``LOGIN_MAX_FAILURES`` consecutive failures lock the account for ``LOGIN_LOCK_MINUTES``. Every
failure, lock and success is an event on the system audit chain. An unknown username answers
like a wrong password (same message, a password hash checked all the same); only the lock
message, shown once an account is locked, tells that the account exists — unavoidable when the
user must be told why a correct password is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from server.audit import append_event
from server.extensions import db, login_manager
from server.models import ApiToken, User
from workflows.calendar import SHANGHAI

bp = Blueprint("auth", __name__)
TOKEN_LIFETIME = timedelta(days=30)
F = TypeVar("F", bound=Callable[..., Any])


def hash_password(password: str) -> str:
    """Hash a password with scrypt (werkzeug's modern default); tests may pick a cheaper one."""
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


def new_session_token() -> str:
    """A random token identifying the user's current sessions."""
    return secrets.token_hex(16)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (no throttling, no audit)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    # Checked against when the username is unknown, so that it costs as much as a wrong password.
    return generate_password_hash(secrets.token_hex(16), method=method)


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a password login: the user, or why not.

    ``locked_until`` is set when the account is locked (now or by this very failure).
    """

    user: User | None
    locked_until: datetime | None = None

    @property
    def message(self) -> str:
        """The Chinese message for the login page or the API error."""
        if self.locked_until is not None:
            return lock_message(self.locked_until)
        return "用户名或密码错误"


def lock_message(until: datetime, now: datetime | None = None) -> str:
    """The message shown while an account is locked, with the end of the lock (Shanghai time)."""
    local = until.astimezone(SHANGHAI)
    today = (now or datetime.now(UTC)).astimezone(SHANGHAI).date()
    when = (
        local.strftime("%H:%M")
        if local.date() == today
        else (f"{local.month}月{local.day}日 {local:%H:%M}")
    )
    return f"登录失败次数过多，账户已临时锁定，请于 {when} 后再试"


def attempt_login(username: str, password: str, *, via: str = "web") -> LoginOutcome:
    """Check a password login with throttling and audit it; commits.

    Unknown user or wrong password: ``login_failed`` (the account's counter goes up, and at
    ``LOGIN_MAX_FAILURES`` the account is locked: ``account_locked``). A locked account is
    refused even with the right password (``login_failed`` with reason ``locked``), without
    counting or extending the lock. A success resets the counter; the caller records the login.

    :param via: ``web`` or ``api``, recorded with the events.
    """
    config = current_app.config
    max_failures = int(config.get("LOGIN_MAX_FAILURES", 5))
    lock_for = timedelta(minutes=float(config.get("LOGIN_LOCK_MINUTES", 15)))
    now = datetime.now(UTC)
    username = username.strip()
    who = {"username": username[:80], "via": via}
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(config.get("PASSWORD_HASH_METHOD", "scrypt")), password)
        append_event(None, "login_failed", data={**who, "reason": "credentials"}, at=now)
        db.session.commit()
        return LoginOutcome(None)
    if user.locked_until is not None and user.locked_until > now:
        append_event(
            None,
            "login_failed",
            data={**who, "reason": "locked", "locked_until": user.locked_until.isoformat()},
            at=now,
        )
        db.session.commit()
        return LoginOutcome(None, user.locked_until)
    if user.active and check_password_hash(user.password_hash, password):
        if user.failed_logins or user.locked_until is not None:
            user.failed_logins, user.locked_until = 0, None
        return LoginOutcome(user)
    # Counted in the database, so that parallel guesses cannot overwrite each other's count.
    expired = user.locked_until is not None  # a past lock: this failure starts a new count
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            failed_logins=1 if expired else User.failed_logins + 1,
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    append_event(
        None,
        "login_failed",
        data={**who, "reason": "credentials", "failures": user.failed_logins},
        at=now,
    )
    locked = None
    if user.failed_logins >= max_failures:
        locked = now + lock_for
        user.locked_until = locked
        append_event(
            None,
            "account_locked",
            data={**who, "failures": user.failed_logins, "locked_until": locked.isoformat()},
            at=now,
        )
    db.session.commit()
    return LoginOutcome(None, locked)


def issue_token(user: User) -> tuple[str, datetime]:
    """Create an API token for ``user``; only its hash is stored. Returns (token, expiry)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + TOKEN_LIFETIME
    db.session.add(
        ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=now, expires_at=expires)
    )
    append_event(None, "token_issued", actor=user)
    db.session.commit()
    return token, expires


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (scheme case-insensitive), or None."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def revoke_token(token: str) -> bool:
    """Revoke a token; True if it existed and was active."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    db.session.commit()
    return True


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Restore the user of a session if its session token is still current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


@login_manager.request_loader
def load_user_from_bearer(req) -> User | None:
    """Authenticate API calls carrying ``Authorization: Bearer <token>``."""
    token = bearer_token(req.headers)
    if token is None:
        return None
    row = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token))
        .options(joinedload(ApiToken.user))
    )
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at <= datetime.now(UTC) or not row.user.active:
        return None
    return row.user


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow a view only to users holding one of ``roles`` (others get 404)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not any(current_user.has_role(role) for role in roles):
                abort(404)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def landing_url(user: User) -> str:
    """Where a user lands after login: officers their inbox, supervisors the supervision
    dashboard, auditors the audit page, others the case list."""
    if user.has_role("officer"):
        return url_for("inbox.index")
    if user.has_role("supervisor"):
        return url_for("supervision.dashboard")
    if user.has_role("auditor"):
        return url_for("audit.index")
    return url_for("cases.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login page."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    error = None
    if request.method == "POST":
        outcome = attempt_login(
            request.form.get("username", ""), request.form.get("password", ""), via="web"
        )
        user = outcome.user
        if user is None:
            error = outcome.message
        else:
            login_user(user)
            append_event(None, "login", actor=user, data={"via": "web"})
            db.session.commit()
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = landing_url(user)
            return redirect(target)
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """Log out everywhere: rotating the session token invalidates every session cookie."""
    user = db.session.get(User, current_user.id)
    user.session_token = new_session_token()
    append_event(None, "logout", actor=user)
    db.session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Register the blueprint and the login view."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    app.register_blueprint(bp)
