"""The public accountability page and its open-data exports: no login, aggregates only.

GET /public/ (HTML), /public/data.csv and /public/data.json show the same PublicFigures
(ivr/public/open_data.py): per agency, place and topic, with every group under 5 messages hidden. Nothing
here reads a message's text, reference, caller or recording: the queries only count.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from ivr.core.charts import Bar, bar_chart
from ivr.core.disclosure import ended_days
from ivr.core.models import utcnow
from ivr.core.services import services
from ivr.public.open_data import HIDDEN, THRESHOLD, PublicFigures, PublicRow, public_figures
from menus.agencies import load_agencies

bp = Blueprint("public", __name__, url_prefix="/public")

MAX_DAYS = 3650
PERIODS = (30, 90, 365)  # the public page's only periods ("all" besides): see parse_public_days
CACHE_SECONDS = 300
MEMO_SECONDS = 60.0
_cache_lock = threading.Lock()
# The public page runs no script and embeds nothing: it cannot leak anything to a third party.
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def parse_days(raw: str | None) -> int | None:
    """Read ?days=N (1..3650; absent or "all" = all time) or stop with a 400 that says what was wrong."""
    if raw is None or raw in ("", "all"):
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        abort(400, description=f"days must be a whole number from 1 to {MAX_DAYS}, or 'all' (got {raw[:20]!r})")
    return int(raw)


def parse_public_days(raw: str | None) -> int | None:
    """Read the public ?days=: one of PERIODS or "all", else a 400 that says so.

    Fixed periods over whole ended days (disclosure.ended_days): comparing two periods, or the page
    before and after a call, cannot isolate one message.
    """
    if raw is None or raw in ("", "all"):
        return None
    if raw not in {str(p) for p in PERIODS}:
        abort(400, description=f"days must be one of {', '.join(map(str, PERIODS))} or 'all' (got {raw[:20]!r})")
    return int(raw)


def figures_for_request() -> tuple[PublicFigures, int | None]:
    """Return the figures for ?days=, computed at most once a minute per period and process.

    Over a million messages they take seconds of database time (benchmarks/accountability.py), and
    the public page is the one page anyone may ask for as often as they like.
    """
    svc = services()
    days = parse_public_days(request.args.get("days"))
    until = ended_days(utcnow())
    cache: dict[tuple[int | None, datetime], tuple[float, PublicFigures]] = current_app.extensions.setdefault(
        "public_figures", {})
    with _cache_lock:
        hit = cache.get((days, until))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1], days
    agencies = load_agencies(svc.config.agencies_path, svc.menus)
    with svc.db.session() as session:
        figures = public_figures(session, agencies, svc.menus, days=days, due_days=svc.config.answer_due_days,
                                 now=until)
    with _cache_lock:
        cache[(days, until)] = (time.monotonic() + MEMO_SECONDS, figures)
    return figures, days


def cached(response: Response) -> Response:
    """Let browsers and proxies keep the figures for a few minutes, and answer 304 when unchanged."""
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.add_etag()
    response.make_conditional(request)  # turns this response into a 304 when the ETag matches
    return response


@bp.get("/")
def page() -> Response:
    """Show how many issues were raised, where, and how fast each agency answered."""
    figures, days = figures_for_request()
    html = render_template("public/accountability.html", figures=figures, days=days, periods=PERIODS,
                           hidden=HIDDEN, threshold=THRESHOLD, charts=public_charts(figures))
    return cached(Response(html, mimetype="text/html"))


def public_charts(figures: PublicFigures) -> dict[str, Markup]:
    """Draw the page's figures: a hidden small group gets no bar, only the words that hide it."""
    def received(title: str, rows: tuple[PublicRow, ...]) -> Markup:
        return bar_chart(title, [Bar(r.name, None if r.suppressed or r.received is None else float(r.received),
                                     HIDDEN if r.suppressed else str(r.received)) for r in rows])

    within = []
    for r in figures.agencies:
        share = (r.answered_within_due / r.received if not r.suppressed and r.received
                 and r.answered_within_due is not None else None)
        within.append(Bar(r.name, share, HIDDEN if r.suppressed else
                          "–" if share is None else f"{share:.0%} ({r.answered_within_due} of {r.received})"))
    return {"agencies": received("Messages received, by agency", figures.agencies),
            "places": received("Messages received, by place", figures.places),
            "topics": received("Messages received, by topic", figures.topics),
            "within_due": bar_chart(f"Answered within {figures.due_days} days, by agency", within)}


@bp.get("/data.csv")
def data_csv() -> Response:
    """Export the page's figures as CSV (one header row; suppressed numbers left empty)."""
    figures, _ = figures_for_request()
    response = Response(figures.as_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="talanoa-accountability.csv"'
    # Open data: anyone's page or notebook may fetch it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return cached(response)


@bp.get("/data.json")
def data_json() -> Response:
    """Export the page's figures as JSON (suppressed numbers null, with suppressed: true)."""
    figures, _ = figures_for_request()
    response = Response(json.dumps(figures.as_json(), ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return cached(response)
