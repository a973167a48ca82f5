"""The home page at `/`: what this is and where to go next (log in, the public figures, the phone).

A first run prints http://127.0.0.1:PORT/; it must answer with a way in, not a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from ivr.core.services import services

bp = Blueprint("home", __name__)

# Static links only, no script: the page says nothing about any caller.
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


@bp.get("/")
def index() -> Response:
    """Say what the hotline is and link to the login, the public page and the phone."""
    svc = services()
    html = render_template("public/home.html", base_url=svc.config.public_base_url,
                           languages=[svc.menus.languages[c].name for c in svc.offered_languages()])
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
