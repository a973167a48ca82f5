"""Logging in to the dashboard: passwords, the same error for unknown email, rate limit, timeouts, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from ivr.core.auth import BAD_LOGIN, hash_password, verify_password
from ivr.core.db import database_for
from ivr.core.models.accounts import User, UserSession
from tests.accounts_helpers import PASSWORD, csrf_from, login
from tests.dashboard.conftest import Dash


def test_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)


def test_login_opens_the_inbox_and_rotates_the_session(dash: Dash) -> None:
    client = dash.app.test_client()
    page = client.get("/login")
    before = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login", data={"email": "WATER@example.org ", "password": PASSWORD, "csrf_token": before})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    inbox = client.get("/dashboard/")
    assert inbox.status_code == 200 and "Water Authority" in inbox.get_data(as_text=True)
    # the CSRF token seen before login is worth nothing after it
    assert csrf_from(inbox.get_data(as_text=True)) != before
    with database_for(dash.config.database_url).session() as db:
        user = db.get(User, dash.water)
        assert user is not None and user.last_login_at is not None
        assert db.scalar(select(UserSession.user_id).where(UserSession.ended_at.is_(None))) == dash.water


def test_session_cookie_flags(dash: Dash) -> None:
    client = dash.app.test_client()
    resp = login(client, "water@example.org")
    cookie = resp.headers["Set-Cookie"]
    # the test config's PUBLIC_BASE_URL is https: the cookie is Secure
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_cookie_is_not_secure_on_a_plain_http_base_url(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(public_base_url="http://127.0.0.1:5000")
    resp = login(dash.app.test_client(), "water@example.org")
    assert "Secure" not in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]


def test_wrong_password_and_unknown_email_get_the_same_answer(dash: Dash) -> None:
    wrong = login(dash.app.test_client(), "water@example.org", "wrong password here")
    unknown = login(dash.app.test_client(), "nobody@example.org", "wrong password here")
    assert wrong.status_code == unknown.status_code == 401
    assert BAD_LOGIN in wrong.get_data(as_text=True) and BAD_LOGIN in unknown.get_data(as_text=True)
    assert dash.app.test_client().get("/dashboard/").status_code == 302


def test_disabled_account_cannot_log_in(dash: Dash) -> None:
    with database_for(dash.config.database_url).session() as db:
        db.execute(update(User).where(User.id == dash.roads).values(disabled=True))
    assert login(dash.app.test_client(), "roads@example.org").status_code == 401


def test_not_logged_in_is_sent_to_login_and_back(dash: Dash) -> None:
    client = dash.app.test_client()
    resp = client.get("/dashboard/?status=closed")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    resp = client.post("/login", data={"email": "water@example.org", "password": PASSWORD,
                                       "csrf_token": csrf_from(page), "next": "/dashboard/?status=closed"})
    assert resp.headers["Location"] == "/dashboard/?status=closed"


def test_next_cannot_lead_off_site(dash: Dash) -> None:
    client = dash.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post("/login", data={"email": "water@example.org", "password": PASSWORD,
                                       "csrf_token": csrf_from(page), "next": "//evil.example/x"})
    assert resp.headers["Location"] == "/dashboard/"


def test_login_without_or_with_forged_csrf_is_refused(dash: Dash) -> None:
    client = dash.app.test_client()
    client.get("/login")
    missing = client.post("/login", data={"email": "water@example.org", "password": PASSWORD})
    forged = client.post("/login", data={"email": "water@example.org", "password": PASSWORD, "csrf_token": "x" * 43})
    assert missing.status_code == forged.status_code == 400
    assert "CSRF" in forged.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_rate_limit_per_email_answers_429_even_with_the_right_password(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(login_max_failures=3)
    for _ in range(3):
        assert login(dash.app.test_client(), "water@example.org", "wrong password!!").status_code == 401
    limited = login(dash.app.test_client(), "water@example.org")
    assert limited.status_code == 429
    assert "Too many failed logins" in limited.get_data(as_text=True)
    # another account from another address is not held back
    assert login(dash.app.test_client(), "roads@example.org").status_code == 302


def test_rate_limit_per_address(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(login_max_failures=100, login_max_failures_per_address=4)
    for n in range(4):
        assert login(dash.app.test_client(), f"guess{n}@example.org", "wrong password!!").status_code == 401
    assert login(dash.app.test_client(), "water@example.org").status_code == 429


def test_rate_limit_window_passes(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(login_max_failures=2, login_window_minutes=1)
    for _ in range(2):
        login(dash.app.test_client(), "water@example.org", "wrong password!!")
    assert login(dash.app.test_client(), "water@example.org").status_code == 429
    from ivr.core.models.accounts import LoginAttempt

    with database_for(dash.config.database_url).session() as db:
        for row in db.scalars(select(LoginAttempt)):
            row.at -= timedelta(minutes=2)
    assert login(dash.app.test_client(), "water@example.org").status_code == 302


def _age_session(dash: Dash, *, created: timedelta, seen: timedelta) -> None:
    with database_for(dash.config.database_url).session() as db:
        for row in db.scalars(select(UserSession)):  # in Python: SQLite has no datetime arithmetic
            row.created_at -= created
            row.last_seen_at -= seen


def test_idle_timeout_ends_the_login(dash: Dash) -> None:
    client = dash.client()
    assert client.get("/dashboard/").status_code == 200
    _age_session(dash, created=timedelta(minutes=31), seen=timedelta(minutes=31))
    resp = client.get("/dashboard/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert client.get("/dashboard/").status_code == 302  # ended for good, not only for one request


def test_idle_timeout_message_is_shown(dash: Dash) -> None:
    client = dash.client()
    _age_session(dash, created=timedelta(minutes=45), seen=timedelta(minutes=45))
    page = client.get("/login").get_data(as_text=True)
    assert "30 minutes without activity" in page


def test_activity_keeps_the_login_until_the_absolute_timeout(dash: Dash) -> None:
    client = dash.client()
    _age_session(dash, created=timedelta(hours=11, minutes=50), seen=timedelta(minutes=5))
    assert client.get("/dashboard/").status_code == 200
    _age_session(dash, created=timedelta(minutes=20), seen=timedelta(0))
    page = client.get("/login").get_data(as_text=True)
    assert "12 hours, the longest allowed" in page
    assert client.get("/dashboard/").status_code == 302


def test_logout_ends_the_session_everywhere(dash: Dash) -> None:
    client = dash.client()
    token = csrf_from(client.get("/dashboard/").get_data(as_text=True))
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    # a copy of the old cookie (another tab, a thief) is logged out too
    other = dash.app.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/dashboard/").status_code == 302


def test_logout_needs_csrf(dash: Dash) -> None:
    client = dash.client()
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200


def test_disabling_a_user_ends_their_open_login(dash: Dash) -> None:
    client = dash.client("roads@example.org")
    assert client.get("/dashboard/").status_code == 200
    with database_for(dash.config.database_url).session() as db:
        db.execute(update(User).where(User.id == dash.roads).values(disabled=True))
    assert client.get("/dashboard/").status_code == 302


def test_radio_host_may_not_open_the_inbox(dash: Dash) -> None:
    from tests.accounts_helpers import add_user

    add_user(dash.config, "radio@example.org", "radio")
    client = dash.client("radio@example.org")
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/home").status_code == 200


def test_radio_host_lands_on_the_radio_page(dash: Dash) -> None:
    from tests.accounts_helpers import add_user

    add_user(dash.config, "host@example.org", "radio")
    resp = login(dash.app.test_client(), "host@example.org")
    expected = "/radio/" if "radio.index" in dash.app.view_functions else "/dashboard/home"
    assert resp.status_code == 302 and resp.headers["Location"] == expected
