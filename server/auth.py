"""Authentication: sessions (Flask-Login) for the browser, bearer tokens for the API.

A session id carries the user's session token, the user's authentication epoch: rotating it
(logout, 退出所有设备, a password changed or reset, deactivation) ends every session of the
user. Password changes, resets, deactivation and 退出所有设备 also revoke every API token
(:func:`end_all_sessions`). A browser session also ends after ``SESSION_IDLE_MINUTES`` without a
request (default 480, 8 hours) and ``SESSION_MAX_HOURS`` after the login (default 168, 7 days),
checked on every request against times kept in the signed session cookie. API tokens are random,
stored as SHA-256, expire after 30 days and can be revoked.

Password logins (the login form, ``POST /api/v1/tokens`` and the current password of a password
change) are throttled per account, per client address and per pair with growing delays
(:mod:`server.throttle`); the attempt is counted before the password hash is checked, so parallel
guesses cannot overtake the count. Unknown and known usernames are answered alike: the same
status and message, a password hash checked all the same, the same throttling. Every failure,
wait and success is an event on the system audit chain. Behind a reverse proxy,
``DUBAN_PROXY_HOPS`` (default 0) tells how many proxies' ``X-Forwarded-For``/``-Proto`` to trust,
so that the client address is the real one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, func, select, update
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from server import throttle
from server.audit import append_event
from server.extensions import db, login_manager
from server.models import ApiToken, User
from workflows.calendar import SHANGHAI

bp = Blueprint("auth", __name__)
TOKEN_LIFETIME = timedelta(days=30)
F = TypeVar("F", bound=Callable[..., Any])
#: Session keys: when the user logged in and when the session was last used (Unix seconds).
AUTH_AT, SEEN_AT = "duban_auth_at", "duban_seen_at"
#: Shortest and longest password accepted by a password change.
PASSWORD_MIN, PASSWORD_MAX = 10, 200


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


def client_address() -> str:
    """The client's address (the proxy's unless ``DUBAN_PROXY_HOPS`` trusts its header)."""
    return (request.remote_addr or "unknown")[:45]


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a password login: the user, or why not.

    ``locked_until`` is set when the attempt must wait (refused, or this very failure started a
    wait): when the next attempt may be made.
    """

    user: User | None
    locked_until: datetime | None = None

    @property
    def message(self) -> str:
        """The Chinese message for the login page or the API error."""
        if self.locked_until is not None:
            return wait_message(self.locked_until)
        return "用户名或密码错误"


def wait_message(until: datetime, now: datetime | None = None) -> str:
    """The message shown while logins must wait, with the time to retry at (Shanghai time)."""
    local = until.astimezone(SHANGHAI)
    today = (now or datetime.now(UTC)).astimezone(SHANGHAI).date()
    when = (
        local.strftime("%H:%M:%S")
        if local.date() == today
        else f"{local.month}月{local.day}日 {local:%H:%M:%S}"
    )
    return f"登录失败次数过多，请于 {when} 后再试"


def attempt_login(username: str, password: str, *, via: str = "web") -> LoginOutcome:
    """Check a password login with throttling and audit it.

    The attempt is first counted (:func:`server.throttle.reserve`, committed); an attempt that
    must wait is refused without checking the password (``login_failed``, reason
    ``throttled``). Unknown user, deactivated user or wrong password: ``login_failed`` (reason
    ``credentials``), and ``login_throttled`` when this failure starts a wait; committed. A
    success takes its own attempt off the counts; the caller records the login and commits.

    :param via: ``web``, ``api`` or ``account`` (a password change), recorded with the events.
    """
    config = current_app.config
    policy = throttle.Policy.from_config(config)
    now = datetime.now(UTC)
    username = username.strip()
    address = client_address()
    who = {"username": username[:80], "via": via, "address": address}
    reservation = throttle.reserve(username, address, now, policy)
    if not reservation.allowed:
        until = reservation.wait_until
        data = {**who, "reason": "throttled", "retry_at": until.isoformat() if until else None}
        append_event(None, "login_failed", data=data, at=now)
        db.session.commit()
        return LoginOutcome(None, until)
    user = db.session.scalar(select(User).where(User.username == username))
    method = config.get("PASSWORD_HASH_METHOD", "scrypt")
    stored = user.password_hash if user is not None else _dummy_hash(method)
    valid = check_password_hash(stored, password)
    if user is not None and user.active and valid:
        throttle.clear(username, address, policy, reservation)
        return LoginOutcome(user)
    throttle.hold(username, address, policy)
    append_event(None, "login_failed", data={**who, "reason": "credentials"}, at=now)
    if reservation.wait_until is not None:
        retry_at = reservation.wait_until.isoformat()
        append_event(None, "login_throttled", data={**who, "retry_at": retry_at}, at=now)
    db.session.commit()
    return LoginOutcome(None, reservation.wait_until)


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


def end_all_sessions(user: User) -> int:
    """End every browser session of ``user`` (a new session token) and revoke every API token
    (not committed). Returns how many tokens were revoked."""
    user.session_token = new_session_token()
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_password(user: User, password: str, *, actor: User | None, kind: str) -> int:
    """Give ``user`` a new password, ending their sessions and tokens; audited as ``kind``
    (``password_changed`` by the user, ``password_reset`` by an administrator). Not committed.
    Returns how many tokens were revoked."""
    user.password_hash = hash_password(password)
    revoked = end_all_sessions(user)
    append_event(
        None, kind, actor=actor, data={"username": user.username, "tokens_revoked": revoked}
    )
    return revoked


def deactivate_user(user: User, *, actor: User | None) -> int:
    """Deactivate ``user``, ending their sessions and tokens (audited, not committed)."""
    user.active = False
    revoked = end_all_sessions(user)
    append_event(
        None,
        "user_deactivated",
        actor=actor,
        data={"username": user.username, "tokens_revoked": revoked},
    )
    return revoked


def password_problem(user: User, new: str, confirm: str) -> str | None:
    """Why ``new`` cannot be ``user``'s password, or None."""
    if len(new) < PASSWORD_MIN:
        return f"新密码至少 {PASSWORD_MIN} 个字符"
    if len(new) > PASSWORD_MAX:
        return f"新密码不能超过 {PASSWORD_MAX} 个字符"
    if new.strip() != new or new.lower() == user.username.lower():
        return "新密码不能与用户名相同，首尾不能有空格"
    if new != confirm:
        return "两次输入的新密码不一致"
    return None


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Restore the user of a session if its session token is still current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


@login_manager.request_loader
def load_user_from_bearer(req) -> User | None:
    """Authenticate API calls carrying ``Authorization: Bearer <token>``."""
    token = bearer_token(req.headers)
    if token is None:
        return None
    # One query, one entity loaded (the user): the token row is only checked, never held.
    return db.session.scalar(
        _USER_OF_TOKEN, {"token_hash": _token_hash(token), "now": datetime.now(UTC)}
    )


# Built once, with bound parameters: building the statement (and its cache key) per request
# costs more than running it.
_USER_OF_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)


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


def start_session(user: User) -> None:
    """Log ``user`` in to this browser, with fresh idle and absolute expiry times."""
    login_user(user)
    session[AUTH_AT] = session[SEEN_AT] = int(time.time())


def _expire_session() -> None:
    """End a browser session idle for ``SESSION_IDLE_MINUTES`` or older than
    ``SESSION_MAX_HOURS``; a session without these times (from before they existed) ends too."""
    if "_user_id" not in session:
        return
    now = time.time()
    config = current_app.config
    idle = float(config.get("SESSION_IDLE_MINUTES", 480)) * 60
    lifetime = float(config.get("SESSION_MAX_HOURS", 168)) * 3600
    auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
    if (
        not isinstance(auth_at, int | float)
        or not isinstance(seen_at, int | float)
        or now - seen_at > idle
        or now - auth_at > lifetime
    ):
        logout_user()
        session.pop(AUTH_AT, None)
        session.pop(SEEN_AT, None)
        flash("登录已过期，请重新登录", "info")
        return
    if now - seen_at >= 60:  # rewrite the cookie at most once a minute
        session[SEEN_AT] = int(now)


def safe_target(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``.

    Browsers drop tabs and line breaks inside URLs and read ``\\`` as ``/``, so
    ``/\t/evil.example`` or ``/\\evil.example`` would lead off-site: a target with any control
    character, whitespace or backslash is refused, as is one that is not a single-slash path.
    """
    if not target:
        return default
    if any(ord(c) < 0x21 or c in "\\\x7f" or c.isspace() for c in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parsed = urlsplit(target)
    if parsed.scheme or parsed.netloc:
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login page."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    error, status = None, 200
    if request.method == "POST":
        outcome = attempt_login(
            request.form.get("username", ""), request.form.get("password", ""), via="web"
        )
        user = outcome.user
        if user is None:
            error = outcome.message
            status = 429 if outcome.locked_until is not None else 401
        else:
            start_session(user)
            append_event(None, "login", actor=user, data={"via": "web"})
            db.session.commit()
            return redirect(safe_target(request.args.get("next"), landing_url(user)))
    next_url = safe_target(request.args.get("next"), "")
    return render_template("auth/login.html", error=error, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    """Log out: rotating the session token ends every browser session of the user (so a copied
    cookie dies too). API tokens stay valid: 退出所有设备 on the account page revokes them."""
    user = _me()
    user.session_token = new_session_token()
    append_event(None, "logout", actor=user)
    db.session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


def _me() -> User:
    """The logged-in user's row."""
    user = db.session.get(User, current_user.id)
    if user is None:
        abort(404)
    return user


def _active_tokens(user: User) -> int:
    now = datetime.now(UTC)
    count = db.session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    )
    return int(count or 0)


def _account_page(
    errors: dict[str, str] | None = None, status: int = 200, mail_form: dict | None = None
) -> Any:
    from server.mail import mail_configured

    user = _me()
    return render_template(
        "auth/account.html",
        errors=errors or {},
        active_tokens=_active_tokens(user),
        password_min=PASSWORD_MIN,
        mail_form=mail_form or {"email": user.email or "", "mail_enabled": user.mail_enabled},
        mail_available=mail_configured(),
    ), status


@bp.get("/account")
@login_required
def account() -> Any:
    """The user's own account: change the password, log out everywhere."""
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    """Change one's own password with the current one; every other session and every API
    token of the user ends, this browser stays logged in."""
    user = _me()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    confirm = request.form.get("confirm_password", "")
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "请输入当前密码"  # noqa: S105 - a message
    problem = password_problem(user, new, confirm)
    if problem:
        errors["new_password"] = problem
    if errors:
        return _account_page(errors, 422)
    outcome = attempt_login(user.username, current, via="account")
    if outcome.user is None or outcome.user.id != user.id:
        status = 429 if outcome.locked_until is not None else 422
        message = outcome.message if outcome.locked_until is not None else "当前密码不正确"
        return _account_page({"current_password": message}, status)
    user = outcome.user
    revoked = set_password(user, new, actor=user, kind="password_changed")
    db.session.commit()
    start_session(user)  # this browser goes on with the new session token
    flash(
        "密码已修改。其他设备上的登录已全部退出"
        + (f"，{revoked} 个 API 令牌已作废。" if revoked else "。"),
        "success",
    )
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/mail")
@login_required
def account_mail() -> Any:
    """Set one's e-mail address and whether messages are sent there (server/mail.py)."""
    from server.mail import set_mail_preferences

    user = _me()
    email = request.form.get("email", "")
    enabled = request.form.get("mail_enabled") == "1"
    errors = set_mail_preferences(user, email, enabled)
    if errors:
        db.session.rollback()
        return _account_page(errors, 422, {"email": email, "mail_enabled": enabled})
    db.session.commit()
    if user.mail_enabled:
        flash(f"已保存：新消息将同时发送到 {user.email}。", "success")
    else:
        flash("已保存：消息不以邮件发送。", "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere() -> Any:
    """退出所有设备: end every browser session of the user and revoke every API token."""
    user = _me()
    revoked = end_all_sessions(user)
    append_event(None, "logout_everywhere", actor=user, data={"tokens_revoked": revoked})
    db.session.commit()
    logout_user()
    flash("已退出所有设备" + (f"，{revoked} 个 API 令牌已作废" if revoked else "") + "。", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Register the blueprint, the login view and the session expiry; trust
    ``DUBAN_PROXY_HOPS`` reverse proxies for the client address."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    app.before_request(_expire_session)
    hops = int(app.config.get("DUBAN_PROXY_HOPS", 0) or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.register_blueprint(bp)
