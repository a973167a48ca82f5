"""The login and logout pages of the dashboard (officials, radio hosts, admins).

Thin views: the decisions (password check, rate limit, session timeouts) live in ivr/core/auth.py.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for

from ivr.core.auth import ENDED_MESSAGES, LoginRefused, authenticate, current_user, log_in, log_out, safe_next
from ivr.core.csrf import check_csrf
from ivr.core.pages import secure_page
from ivr.core.services import services

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
bp.after_request(secure_page)

HOME = {"official": "dashboard.inbox", "admin": "dashboard.inbox", "radio": "radio.index"}


def home_for(role: str) -> str:
    """Return the first page a user of this role sees after logging in (the list of pages if it is missing)."""
    endpoint = HOME.get(role, "dashboard.home")
    return url_for(endpoint if endpoint in current_app.view_functions else "dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Show the login form; on POST check the email and password and open a fresh session."""
    svc = services()
    next_page = safe_next(request.values.get("next"))
    if request.method == "GET":
        user = current_user()
        if user is not None:
            return redirect(next_page or home_for(user.role))  # type: ignore[return-value]
        ended = g.get("hotline_login_ended", "")
        notice = ENDED_MESSAGES.get(ended, "").format(idle=svc.config.session_idle_minutes,
                                                      hours=svc.config.session_max_hours)
        return render_template("login.html", error="", notice=notice, next=next_page or "", email="")
    check_csrf()  # a login form posted from another site could log a victim in to the attacker's account
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    if not email or not password:
        return render_template("login.html", error="Enter your email and your password.", notice="",
                               next=next_page or "", email=email), 400
    refused: LoginRefused | None = None
    with svc.db.session() as db:
        try:
            account = authenticate(db, svc.config, email, password, request.remote_addr or "unknown")
            db.flush()
            db.expunge(account)
        except LoginRefused as exc:
            refused = exc  # caught inside the transaction: the failed attempt it recorded is committed
    if refused is not None:
        # Log the outcome, never the email typed (it may be someone else's, or a password typed in the wrong box).
        log.info("dashboard login refused (%s)", "rate limited" if refused.limited else "bad credentials")
        return render_template("login.html", error=str(refused), notice="", next=next_page or "",
                               email=email), (429 if refused.limited else 401)
    log_in(account)
    log.info("dashboard login: user %s", account.id)
    return redirect(next_page or home_for(account.role))  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    """End the login (a POST with CSRF: another site cannot log an official out)."""
    check_csrf()
    log_out()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]
