"""Make accounts and log in with the Flask test client: for every helper's dashboard-side tests."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.core.auth import create_user
from ivr.core.config import Config
from ivr.core.db import database_for

PASSWORD = "correct horse battery staple"
AGENCIES = ("water", "health", "roads", "power", "police", "triage")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(config_or_db_url: Config | str, email: str, role: str, agency: str | None = None,
             password: str = PASSWORD) -> int:
    """Create an account in the database (agency checked against the shipped agency codes); return its id."""
    url = config_or_db_url if isinstance(config_or_db_url, str) else config_or_db_url.database_url
    with database_for(url).session() as db:
        known = (*AGENCIES, agency) if agency else AGENCIES
        return create_user(db, email, role, password, agency=agency, agencies=known).id


def csrf_from(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    found = _TOKEN.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Log in through the real form (GET /login for the token, then POST it); return the POST's response."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def page_token(client: FlaskClient, path: str) -> str:
    """Return the CSRF token shown on a logged-in page."""
    return csrf_from(client.get(path).get_data(as_text=True))
