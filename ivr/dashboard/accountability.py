"""The admin's accountability page: every agency's figures, unsuppressed, with filters.

Admins see exact counts (small groups included) because they already see every message; the
public sees the suppressed version at /public/. The figures come from ivr/core/accountability.py.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, render_template, request

from ivr.core.accountability import agency_figures
from ivr.core.auth import login_required
from ivr.core.models import utcnow
from ivr.core.pages import secure_page
from ivr.core.services import services
from ivr.public.views import PERIODS, parse_days
from menus.agencies import load_agencies

bp = Blueprint("accountability", __name__, url_prefix="/dashboard")
bp.after_request(secure_page)


@bp.get("/accountability")
@login_required("admin")
def admin_page() -> str:
    """Show received, answered, within due, median time to first answer and overdue per agency."""
    svc = services()
    days = parse_days(request.args.get("days"))
    places = tuple(svc.menus.flow.tables.get("places", {}).values())
    place = request.args.get("place") or None
    language = request.args.get("language") or None
    if place is not None and place not in places:
        abort(400, description=f"unknown place {place[:32]!r}")
    if language is not None and language not in svc.menus.languages:
        abort(400, description=f"unknown language {language[:8]!r}")
    now = utcnow()
    agencies = load_agencies(svc.config.agencies_path, svc.menus)
    with svc.db.session() as session:
        figures = agency_figures(session, agencies, since=now - timedelta(days=days) if days else None, until=now,
                                 place=place, language=language, due_days=svc.config.answer_due_days, now=now)
    return render_template("dashboard/accountability.html", figures=figures, days=days, periods=PERIODS,
                           place=place, language=language, places=places, languages=svc.menus.languages,
                           due_days=svc.config.answer_due_days)
