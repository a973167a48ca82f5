"""What every dashboard page shares: security headers, a per-request script nonce, labels.

A page carries at most one inline script, allowed by a nonce that changes with every response: the
shared recorder (templates/_recorder.js) on the message page, the polls page and the browser phone,
and the live board's event-stream reader. Nothing else can run even if some text escaped escaping.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from html import escape

from flask import Response, current_app, g, url_for
from markupsafe import Markup

from ivr.core.local_time import parse_timezone, shown
from ivr.core.models.accounts import User
from ivr.core.models.base import utcnow
from ivr.core.services import services

STATUS_LABELS = {"received": "new", "in_progress": "in progress", "answered": "answered", "closed": "closed",
                 "withdrawn": "withdrawn by the caller"}  # main menu key 5 (ivr/voice/withdrawal.py)


def csp_nonce() -> str:
    """Return this response's script nonce (templates put it on their one inline script)."""
    nonce = g.get("hotline_csp_nonce")
    if not nonce:
        nonce = g.hotline_csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def secure_page(resp: Response) -> Response:
    """Forbid framing, sniffing, caching and any script but our nonce'd one on dashboard pages."""
    if "Content-Security-Policy" not in resp.headers:
        # Scripts: only the inline one carrying this response's nonce. Media: our routes and recorded blobs.
        # connect-src 'self': the recorder posts the recording to us only.
        resp.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'nonce-{csp_nonce()}'; style-src 'unsafe-inline'; "
            "img-src 'self'; media-src 'self' blob:; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"  # message ids in URLs stay on this site
    resp.cache_control.no_store = True  # a shared office computer's cache keeps no caller's message
    resp.cache_control.private = True
    return resp


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str


# (endpoint, label, roles): shown when the app has the endpoint and the user holds a role (admin: all).
# Pages of the radio, board and accountability work appear as soon as their blueprints register.
NAV = (("dashboard.inbox", "Inbox", ("official",)),
       ("radio.index", "Radio", ("radio",)),
       ("board.index", "Live board", ("radio",)),
       ("polls.index", "Polls", ("radio",)),
       ("accountability.admin_page", "Accountability", ("admin",)),
       ("dashboard.audit", "Audit log", ("admin",)),
       ("operator.languages", "Prompts", ("admin",)),
       ("operator_calls.page", "Calls", ("admin",)),
       ("operator_phone.page", "Phone", ("admin",)))


def nav_links(user: User) -> list[NavLink]:
    """Return the navigation links for a user's role, leaving out pages this app does not have."""
    return [NavLink(url_for(endpoint), label) for endpoint, label, roles in NAV
            if endpoint in current_app.view_functions and (user.role == "admin" or user.role in roles)]


def local_time(when: datetime | None, *, ago: bool = True) -> Markup:
    """Render a stored (naive UTC) time in HOTLINE_TIMEZONE: "2 h ago · Fri 4 Dec 2026 19:05", UTC on hover."""
    if when is None:
        return Markup("-")
    s = shown(when, utcnow(), parse_timezone(services().config.timezone))
    text = f"{s.ago} · {s.local}" if ago else s.local
    # Every part goes through html.escape (markupsafe's escaping, 100 times a page, cost more than the rest of
    # an inbox row); the parts are our own formatting of a datetime anyway.
    html = f'<time datetime="{escape(s.iso)}" title="{escape(s.utc)}">{escape(text)}</time>'
    return Markup(html)  # noqa: S704 - escaped above


def template_helpers() -> dict[str, object]:
    """Give templates the nonce, the status labels, the navigation and local times."""
    return {"csp_nonce": csp_nonce, "status_labels": STATUS_LABELS, "nav_links": nav_links,
            "local_time": local_time}
