"""Who is logged in to the dashboard: passwords, sessions with timeouts, roles, the login rate limit.

A login is a row in `user_sessions`; the signed Flask session cookie carries only its random token.
Keeping the session in SQL lets every gunicorn worker see a logout, a disabled account and the idle
and absolute timeouts at once, and lets a login rotate the session id (a token planted before login
is worth nothing after it). Views import `current_user` and `login_required` from here.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, abort, g, redirect, request, session, url_for
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from ivr.core.common_passwords import weakness
from ivr.core.config import Config
from ivr.core.csrf import check_csrf, csrf_token, rotate_csrf_token
from ivr.core.models.accounts import ROLES, LoginAttempt, User, UserSession
from ivr.core.models.base import utcnow
from ivr.core.pages import template_helpers
from ivr.core.services import services

MIN_PASSWORD_LENGTH = 12
SESSION_TOKEN_KEY = "_login"  # noqa: S105 - the session key name, not a secret
TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often: fewer writes per page
F = TypeVar("F", bound=Callable[..., Any])

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: 64 MiB, 3 passes).
_hasher = PasswordHasher()
# Verified when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class PasswordRejected(ValueError):
    """Say why a new password does not meet the policy."""


class LoginRefused(Exception):
    """Say why a login failed; `limited` means too many recent failures (HTTP 429)."""

    def __init__(self, message: str, *, limited: bool = False) -> None:
        super().__init__(message)
        self.limited = limited


BAD_LOGIN = "That email and password do not match an account."  # the same for an unknown email
LIMITED = ("Too many failed logins for this account or from this address. Wait {minutes} minutes and try "
           "again, or ask an admin to check your account.")


def check_password_policy(password: str, email: str = "") -> None:
    """Refuse a password shorter than 12 characters, one of the common ones, or one containing the email.

    Length makes a password hard to guess only if it is not on the lists guessers start with.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"the password must have at least {MIN_PASSWORD_LENGTH} characters "
                               f"(it has {len(password)})")
    lower, email = password.lower(), email.strip().lower()
    local = email.split("@", 1)[0]
    if email and (email in lower or (len(local) >= 3 and local in lower)):
        raise PasswordRejected("the password must not contain the account's email address or its name part")
    why = weakness(password)
    if why is not None:
        raise PasswordRejected(f"the password is too easy to guess: {why}")


def hash_password(password: str, email: str = "") -> str:
    """Return the Argon2id hash of a password that meets the policy."""
    check_password_policy(password, email)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether the password matches the stored Argon2id hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


EMAIL_SHAPE = re.compile(r"^[^@\s<>,;\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


class AccountRejected(ValueError):
    """Say why an account cannot be created as asked."""


def create_user(db: Session, email: str, role: str, password: str, *, agency: str | None = None,
                agencies: Collection[str] = ()) -> User:
    """Add an account after checking email, role, agency (one of `agencies`) and the password policy."""
    email = email.strip().lower()
    problems = []
    if not EMAIL_SHAPE.match(email) or len(email) > 254:
        problems.append(f"{email!r} is not an email address")
    if role not in ROLES:
        problems.append(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "official" and not agency:
        problems.append("an official needs --agency (the agency whose messages they answer)")
    if agency and agency not in agencies:
        problems.append(f"agency {agency!r} is not in the agencies file (known: {', '.join(sorted(agencies))})")
    try:
        check_password_policy(password, email)
    except PasswordRejected as exc:
        problems.append(str(exc))
    if not problems and db.scalar(select(User.id).where(User.email == email)) is not None:
        problems.append(f"an account for {email} exists already")
    if problems:
        raise AccountRejected("; ".join(problems))
    user = User(email=email, role=role, agency=agency or None, password_hash=hash_password(password, email))
    db.add(user)
    db.flush()
    return user


# -- login rate limit ---------------------------------------------------------------------------------

def _attempt_key(config: Config, kind: str, value: str) -> str:
    # Keyed hash: the table counts attempts without holding who tried from which address.
    return hmac.new(config.secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _failures(db: Session, key: str, since: datetime) -> int:
    return db.scalar(select(func.count()).select_from(LoginAttempt)
                     .where(LoginAttempt.key == key, LoginAttempt.at >= since)) or 0


def authenticate(db: Session, config: Config, email: str, password: str, address: str,
                 now: datetime | None = None) -> User:
    """Return the active user whose email and password these are, or raise LoginRefused.

    Failures are counted per email and per client address over HOTLINE_LOGIN_WINDOW_MINUTES; past
    the limit every attempt is refused before the password is even checked, right or wrong.
    """
    now = now or utcnow()
    email = email.strip().lower()
    since = now - timedelta(minutes=config.login_window_minutes)
    keys = (_attempt_key(config, "email", email), _attempt_key(config, "address", address))
    # Count this attempt before checking it, committed: of a burst of simultaneous attempts each sees the
    # ones committed before it, so no more than the limit ever reach the password check.
    reserved = [LoginAttempt(key=k, at=now) for k in keys]
    db.add_all(reserved)
    db.commit()
    if (_failures(db, keys[0], since) > config.login_max_failures
            or _failures(db, keys[1], since) > config.login_max_failures_per_address):
        raise LoginRefused(LIMITED.format(minutes=config.login_window_minutes), limited=True)
    user = db.scalar(select(User).where(User.email == email)) if email else None
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or user.disabled:
        # The attempt stays counted as a failure. Old attempts are worthless; deleted here, not by a cleanup job.
        db.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
        raise LoginRefused(BAD_LOGIN)
    db.execute(delete(LoginAttempt).where(LoginAttempt.id.in_([r.id for r in reserved])))  # it succeeded
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


# -- sessions -----------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionState:
    """What a session token is worth now: the user, or why it ended."""

    user: User | None
    ended: str = ""  # "", "idle", "expired", "logged out", "disabled"


def open_session(db: Session, user: User, now: datetime | None = None) -> str:
    """Create a login for the user and return its new random token (the cookie's value)."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    db.add(UserSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    return token


def session_state(db: Session, config: Config, token: str, now: datetime | None = None) -> SessionState:
    """Return the user a token belongs to, ending the login when it is idle, too old, or the user disabled."""
    now = now or utcnow()
    row = db.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None:
        return SessionState(None, "logged out")
    if row.ended_at is not None:
        return SessionState(None, "logged out")
    ended = ""
    if now - row.created_at > timedelta(hours=config.session_max_hours):
        ended = "expired"
    elif now - row.last_seen_at > timedelta(minutes=config.session_idle_minutes):
        ended = "idle"
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        ended = "disabled"
    if ended:
        row.ended_at = now
        return SessionState(None, ended)
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return SessionState(user)


def close_session(db: Session, token: str, now: datetime | None = None) -> None:
    """End the login a token belongs to (logout)."""
    db.execute(update(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
               .values(ended_at=now or utcnow()))


# -- Flask side ---------------------------------------------------------------------------------------

ENDED_MESSAGES = {
    "idle": "You were logged out after {idle} minutes without activity. Log in again.",
    "expired": "Your login lasted {hours} hours, the longest allowed. Log in again.",
    "disabled": "This account is disabled.",
}


def current_user() -> User | None:
    """Return the logged-in user of this request (detached from any session), or None."""
    if "hotline_user" in g:
        return cast(User | None, g.hotline_user)
    token = session.get(SESSION_TOKEN_KEY)
    user: User | None = None
    g.hotline_login_ended = ""
    if isinstance(token, str) and token:
        svc = services()
        with svc.db.session() as db:
            state = session_state(db, svc.config, token)
            user = state.user
            if user is not None:
                db.expunge(user)
        if user is None:
            session.pop(SESSION_TOKEN_KEY, None)
            g.hotline_login_ended = state.ended
    g.hotline_user = user
    return user


def log_in(user: User) -> None:
    """Start a fresh login for the user in this browser: new session id, new CSRF token."""
    svc = services()
    old = session.get(SESSION_TOKEN_KEY)
    with svc.db.session() as db:
        if isinstance(old, str) and old:
            close_session(db, old)
        token = open_session(db, user)
    # session.clear(): nothing a visitor set before logging in survives into the login (session fixation).
    session.clear()
    session[SESSION_TOKEN_KEY] = token
    rotate_csrf_token()
    g.hotline_user = user


def log_out() -> None:
    """End this browser's login, in SQL and in the cookie."""
    token = session.get(SESSION_TOKEN_KEY)
    if isinstance(token, str) and token:
        with services().db.session() as db:
            close_session(db, token)
    session.clear()
    g.hotline_user = None


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else None (no open redirect after login)."""
    if target and (len(target) > 2000 or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)):
        # A CR/LF here would end up in the Location header: refuse the request rather than fail on it.
        raise BadRequest("next must be a path on this site, without control characters")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def has_role(user: User, roles: tuple[str, ...]) -> bool:
    """Return whether the user holds one of the roles; an admin holds them all."""
    return not roles or user.role == "admin" or user.role in roles


def login_required(*roles: str) -> Callable[[F], F]:
    """Let a view run only for a logged-in user with one of `roles` (none: any role; admin: always).

    Not logged in: redirect to /login?next=<this page>. Wrong role: 403. Every POST is CSRF-checked.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {ROLES}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.method != "GET":
                    abort(401, description="You are not logged in (or your login ended). Log in and try again.")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not has_role(user, roles):
                abort(403, description="Your account's role may not open this page.")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                check_csrf()
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def init_app(app: Flask) -> None:
    """Set the session cookie's flags and give every template `current_user` and `csrf_token`."""
    config: Config = app.extensions["hotline"].config
    # Secure whenever the hotline is served over https (PUBLIC_BASE_URL): the cookie is then never sent
    # in clear. A plain-http base URL is a local or test setup, where a Secure cookie would never be sent.
    app.config.update(SESSION_COOKIE_SECURE=config.public_base_url.startswith("https://"),
                      SESSION_COOKIE_HTTPONLY=True,  # scripts cannot read it: an XSS cannot steal a login
                      SESSION_COOKIE_SAMESITE="Lax")  # other sites' forms and fetches do not carry it

    if config.public_base_url.startswith("https://"):
        @app.after_request
        def strict_transport(resp: Response) -> Response:
            # Served over https: browsers must never fall back to plain http, where the cookie could be read.
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            return resp

    @app.context_processor
    def auth_helpers() -> dict[str, object]:
        return {"current_user": current_user, "csrf_token": csrf_token, **template_helpers()}
