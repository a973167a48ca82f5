"""Protect the operator's forms from cross-site requests with a per-session token.

The synchroniser-token pattern: a random token lives in the signed session cookie and in a hidden
field of every form; a POST whose field does not match is refused. Another site can make a logged-in
browser send a form, but it cannot read our pages, so it cannot know the token.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_KEY = "_csrf"


def csrf_token() -> str:
    """Return this session's token, creating it on first use (templates call this in every form)."""
    token = session.get(_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_KEY] = token
    return token


def rotate_csrf_token() -> str:
    """Issue a fresh token, e.g. at login, so a token seen before login is worth nothing after it."""
    session[_KEY] = secrets.token_urlsafe(32)
    return str(session[_KEY])


def check_csrf() -> None:
    """Refuse (400) a request whose form field or header does not carry this session's token."""
    expected = session.get(_KEY)
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    # compare_digest: the comparison takes the same time however many leading characters match.
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="This form was stale or did not come from this site (CSRF token missing or "
                               "wrong). Reload the page and try again.")
