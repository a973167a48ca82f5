"""The operator's calls page: the funnel, completion, time to report and worst prompts, drawn as SVG.

Same login as the prompts pages (the operator token or an admin account); no script runs on it.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from ivr.core.charts import Bar, Stack, bar_chart, stacked_chart
from ivr.core.services import services
from ivr.operator import views
from ivr.operator.call_stats import CallStats, call_stats

bp = Blueprint("operator_calls", __name__, url_prefix="/operator")
bp.before_request(views.guard)
bp.after_request(views.security_headers)
bp.context_processor(views.template_helpers)

PERIODS = (1, 7, 30, 90)
OUTCOMES = ("went on", "silence", "wrong key", "hung up")


def node_label(name: str) -> str:
    return {":kept": "message kept", ":call": "calls", ":transferred": "transferred"}.get(name, name)


@bp.get("/calls")
def page() -> str:
    """Show where callers give up, per node and language, for ?days= (1-3650, default 30)."""
    raw = request.args.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        abort(400, description=f"days must be a whole number from 1 to 3650 (got {raw[:20]!r})")
    svc = services()
    with svc.db.session() as session:
        figures = call_stats(session, svc.menus, days=int(raw))
    return render_template("operator/calls.html", figures=figures, days=int(raw), periods=PERIODS,
                           charts=charts(figures), label=node_label)


def charts(figures: CallStats) -> dict[str, object]:
    """Draw every chart of the page from the figures."""
    def pct(value: object) -> str:
        return f"{float(str(value)):.0%}" if value is not None else "–"

    out: dict[str, object] = {
        "funnel": bar_chart("Callers reaching each step, all languages",
                            [Bar(node_label(str(s["node"])), float(str(s["entered"])),
                                 f"{s['entered']} ({pct(s['share'])})") for s in figures.funnel]),
        "completion": bar_chart("Reports begun that were kept, by language",
                                [Bar(str(c["language"]), float(str(c["rate"] or 0)),
                                     f"{pct(c['rate'])} ({c['kept']} of {c['reports']})")
                                 for c in figures.completion]),
        "time": bar_chart("Median seconds from the call's start to the message kept",
                          [Bar(str(t["language"]), float(str(t["median_seconds"])),
                               f"{t['median_seconds']} s (90%: {t['p90_seconds']} s, {t['reports']} reports)")
                           for t in figures.time_to_report]),
        "worst": bar_chart("Share of times heard that ended in silence, a wrong key or a hang-up",
                           [Bar(f"{w['language'] or '-'} {w['node']}", float(str(w["rate"])),
                                f"{pct(w['rate'])} of {w['presentations']}") for w in figures.worst_prompts]),
    }
    out["outcomes"] = {lang: stacked_chart(f"How each node was left ({lang or 'before choosing a language'})",
                                           OUTCOMES,
                                           [Stack(n.node, (n.chose, n.silence, n.wrong_key, n.hung_up))
                                            for n in nodes if not n.node.startswith(":") and not n.ends_call])
                       for lang, nodes in figures.nodes.items()}
    return out
