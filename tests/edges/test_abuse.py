"""Logins, passwords, operator sessions, the database file, malformed input and HSTS under abuse."""

from __future__ import annotations

import re
import stat
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr import create_app
from ivr.core.auth import LoginRefused, PasswordRejected, authenticate, check_password_policy
from ivr.core.db import database_for
from tests.accounts_helpers import PASSWORD, add_user, login
from tests.conftest import make_config

OPERATOR_TOKEN = "operator-token-0123456789"


def csrf_of(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Flask:
    return create_app(make_config(tmp_path, database_url, operator_token=OPERATOR_TOKEN))


def test_a_burst_of_logins_checks_no_more_passwords_than_the_limit(app: Flask) -> None:
    config = app.extensions["hotline"].config
    add_user(config, "water@example.org", "official", "water")
    db = database_for(config.database_url)
    burst = 12
    barrier = threading.Barrier(burst)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            with db.session() as session:
                authenticate(session, config, "water@example.org", f"wrong password number {i}", f"10.0.0.{i}")
        except LoginRefused as exc:
            outcomes.append("limited" if exc.limited else "checked")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == burst
    assert outcomes.count("checked") <= config.login_max_failures  # today: 7 to 12 of 12 were checked
    with db.session() as session:  # and the right password is refused too, until the window passes
        with pytest.raises(LoginRefused) as caught:
            authenticate(session, config, "water@example.org", PASSWORD, "10.0.1.1")
        assert caught.value.limited


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "password1234", " " * 12, "P@ssw0rd2024!", "qwertyuiop123",
                                      "1234567890123", "letmeinletmein", "water@example.org", "my water pass 2024"])
def test_easy_passwords_are_refused(password: str) -> None:
    with pytest.raises(PasswordRejected):
        check_password_policy(password, "water@example.org")


def test_a_good_password_passes() -> None:
    check_password_policy(PASSWORD, "water@example.org")
    check_password_policy("vinaka-ba-river-2031-kava", "water@example.org")


def test_operator_logout_ends_the_session_for_every_copy_of_the_cookie(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(client, "/operator/login")
    assert client.post("/operator/login", data={"token": OPERATOR_TOKEN, "csrf_token": token}).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen = app.test_client()
    stolen.set_cookie("session", cookie.value)
    assert stolen.get("/operator/prompts").status_code == 200
    client.post("/operator/logout", data={"csrf_token": csrf_of(client, "/operator/prompts")})
    resp = stolen.get("/operator/prompts")  # today: still 200, the old cookie could upload prompts
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/operator/login")


def test_sqlite_database_and_wal_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'hotline.sqlite3'}"
    db = database_for(url)
    db.upgrade()
    app = create_app(make_config(tmp_path, url))
    add_user(app.extensions["hotline"].config, "admin@example.org", "admin")
    for name in ("hotline.sqlite3", "hotline.sqlite3-wal"):
        path = tmp_path / "fresh" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name  # today: 0644


def test_malformed_next_and_cursors_are_400(tmp_path: Path, sqlite_url: str) -> None:
    app = create_app(make_config(tmp_path, sqlite_url))
    config = app.extensions["hotline"].config
    add_user(config, "admin@example.org", "admin")
    client = app.test_client()
    assert client.get("/login?next=/dashboard/%0d%0aSet-Cookie:%20x=1").status_code == 400  # today: 500
    assert login(client, "admin@example.org").status_code == 302
    assert client.get("/dashboard/?before=2026-01-01T00:00:00~" + "9" * 40).status_code == 400  # today: 500
    assert client.get("/dashboard/audit?before=" + "9" * 40).status_code == 400


def test_hsts_when_served_over_https(tmp_path: Path, sqlite_url: str) -> None:
    https = create_app(make_config(tmp_path, sqlite_url))  # the tests' PUBLIC_BASE_URL is https
    assert https.test_client().get("/health").headers["Strict-Transport-Security"].startswith("max-age=")
    plain = create_app(make_config(tmp_path, sqlite_url, public_base_url="http://127.0.0.1:5000"))
    assert "Strict-Transport-Security" not in plain.test_client().get("/health").headers
