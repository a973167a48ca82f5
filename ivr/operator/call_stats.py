"""Where callers give up: the funnel from the language menu to a kept message, per node and language.

Read from funnel_counts (written in batches by the webhooks, ivr/core/funnel.py) and, for the time a
report takes, from calls and messages. `hotline stats` and the operator's calls page show the same
CallStats.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.core.funnel import CALL, FIELDS, KEPT, TRANSFERRED, today
from ivr.core.models import Call, Message
from ivr.core.models.funnel import FunnelCount
from menus import Flow, Menus

WORST_PROMPTS = 10
NO_LANGUAGE = ""  # before the caller chose one (the language menu)


@dataclass
class NodeFigures:
    """One node's counts over the period: presentations and how each ended."""

    node: str
    prompt: str
    entered: int = 0
    repeated: int = 0
    chose: int = 0
    silence: int = 0
    wrong_key: int = 0
    ends_call: bool = False  # a goodbye: hanging up here is how the call ends

    @property
    def presentations(self) -> int:
        return self.entered + self.repeated

    @property
    def hung_up(self) -> int:
        return max(0, self.presentations - self.chose - self.silence - self.wrong_key)

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "presentations": self.presentations, "hung_up": self.hung_up}


@dataclass
class CallStats:
    """Everything the funnel pages show, for one period."""

    since: date
    until: date
    calls: dict[str, int]  # by language ("" = hung up before choosing one)
    funnel: list[dict[str, object]]  # [{node, prompt, entered, share}] from the first node to ":kept"
    funnel_by_language: dict[str, list[dict[str, object]]]
    nodes: dict[str, list[NodeFigures]]  # by language, every node reached
    completion: list[dict[str, object]]  # [{language, reports, kept, rate}]
    time_to_report: list[dict[str, object]]  # [{language, reports, median_seconds, p90_seconds}]
    worst_prompts: list[dict[str, object]]  # [{language, node, prompt, presentations, trouble, rate}]
    transferred: int = 0
    kept: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "calls": self.calls,
                "kept": self.kept, "transferred": self.transferred, "funnel": self.funnel,
                "funnel_by_language": self.funnel_by_language,
                "nodes": {lang: [n.as_json() for n in rows] for lang, rows in self.nodes.items()},
                "completion": self.completion, "time_to_report": self.time_to_report,
                "worst_prompts": self.worst_prompts}


def report_path(flow: Flow) -> list[str]:
    """Return the shortest path of nodes from the flow's start to the node whose key keeps a message."""
    parents: dict[str, str | None] = {flow.start: None}
    queue = [flow.start]
    while queue:
        name = queue.pop(0)
        node = flow.nodes[name]
        if any(o.action == "keep_message" for o in node.options.values()):
            path = [name]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for target in [o.go for o in node.options.values()] + ([node.next] if node.next else []):
            if target in flow.nodes and target not in parents:
                parents[target] = name
                queue.append(target)
    return []


def call_stats(session: Session, menus: Menus, days: int = 30, until: date | None = None) -> CallStats:
    """Add up the funnel counts of the last `days` days (UTC, today included) and the reports' times."""
    until = until or today()
    since = until - timedelta(days=days - 1)
    flow = menus.flow
    rows = session.execute(
        select(FunnelCount.language, FunnelCount.node, *(func.sum(getattr(FunnelCount, f)) for f in FIELDS))
        .where(FunnelCount.day >= since, FunnelCount.day <= until)
        .group_by(FunnelCount.language, FunnelCount.node)).all()
    by_lang: dict[str, dict[str, NodeFigures]] = defaultdict(dict)
    for lang, node, *sums in rows:
        by_lang[lang][node] = _figures(flow, node, [int(s or 0) for s in sums])
    total: dict[str, NodeFigures] = {}
    for nodes in by_lang.values():
        for name, fig in nodes.items():
            into = total.setdefault(name, _figures(flow, name, [0] * len(FIELDS)))
            for f in FIELDS:
                setattr(into, f, getattr(into, f) + getattr(fig, f))
    path = [*report_path(flow), KEPT]
    languages = sorted(lang for lang in by_lang if lang != NO_LANGUAGE)
    calls = {lang: by_lang[lang][CALL].entered for lang in sorted(by_lang) if CALL in by_lang[lang]}
    kept = {lang: by_lang[lang][KEPT].entered for lang in languages if KEPT in by_lang[lang]}
    first_report = path[path.index(flow.returning_start) + 1] if flow.returning_start in path[:-1] else path[0]
    completion = []
    for lang in languages:
        started = by_lang[lang][first_report].entered if first_report in by_lang[lang] else 0
        done = kept.get(lang, 0)
        completion.append({"language": lang, "reports": started, "kept": done,
                           "rate": round(done / started, 3) if started else None})
    return CallStats(
        since=since, until=until, calls=calls,
        funnel=_funnel(path, total, flow),
        funnel_by_language={lang: _funnel([n for n in path if n != flow.start], by_lang[lang], flow)
                            for lang in languages},
        nodes={lang: sorted(nodes.values(), key=lambda n: n.node) for lang, nodes in sorted(by_lang.items())},
        completion=completion, time_to_report=_times(session, since, until),
        worst_prompts=_worst(by_lang), transferred=total[TRANSFERRED].entered if TRANSFERRED in total else 0,
        kept=kept)


def _figures(flow: Flow, name: str, sums: list[int]) -> NodeFigures:
    node = flow.nodes.get(name)
    prompt = (node.prompt or ",".join(node.prompt_ids()) or node.type) if node is not None else name
    ends = node is not None and node.type == "say" and node.hangup
    return NodeFigures(name, prompt, **dict(zip(FIELDS, sums, strict=True)), ends_call=ends)


def _funnel(path: list[str], nodes: dict[str, NodeFigures], flow: Flow) -> list[dict[str, object]]:
    first = nodes[path[0]].entered if path and path[0] in nodes else 0
    stages = []
    for name in path:
        entered = nodes[name].entered if name in nodes else 0
        prompt = (nodes[name] if name in nodes else _figures(flow, name, [0] * len(FIELDS))).prompt
        stages.append({"node": name, "prompt": prompt, "entered": entered,
                       "share": round(entered / first, 3) if first else None})
    return stages


def _times(session: Session, since: date, until: date) -> list[dict[str, object]]:
    """Seconds from a call's start to its message being kept, per language: median and 90th percentile."""
    start = datetime.combine(since, time())
    end = datetime.combine(until + timedelta(days=1), time())
    rows = session.execute(
        select(Message.language, Message.created_at, Call.started_at).join(Call, Message.call_id == Call.id)
        .where(Message.created_at >= start, Message.created_at < end)).all()
    seconds: dict[str, list[float]] = defaultdict(list)
    for lang, created, started in rows:
        seconds[lang].append(max(0.0, (created - started).total_seconds()))
    out = []
    for lang, values in sorted(seconds.items()):
        values.sort()
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        out.append({"language": lang, "reports": len(values), "median_seconds": round(statistics.median(values), 1),
                    "p90_seconds": round(p90, 1)})
    return out


def _worst(by_lang: dict[str, dict[str, NodeFigures]]) -> list[dict[str, object]]:
    """Prompts (nodes) where most presentations ended in silence, a wrong key or a hang-up."""
    ranked: list[tuple[float, int, str, NodeFigures]] = []
    for lang, nodes in by_lang.items():
        for fig in nodes.values():
            if not fig.node.startswith(":") and not fig.ends_call and fig.presentations:
                rate = (fig.silence + fig.wrong_key + fig.hung_up) / fig.presentations
                ranked.append((rate, fig.presentations, lang, fig))
    ranked.sort(key=lambda r: (-r[0], -r[1], r[2], r[3].node))
    return [{"language": lang, "node": fig.node, "prompt": fig.prompt, "presentations": fig.presentations,
             "silence": fig.silence, "wrong_key": fig.wrong_key, "hung_up": fig.hung_up,
             "trouble": fig.silence + fig.wrong_key + fig.hung_up, "rate": round(rate, 3)}
            for rate, _, lang, fig in ranked[:WORST_PROMPTS]]
