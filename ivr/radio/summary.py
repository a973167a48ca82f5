"""What callers raised in a period: counts by topic and place against the period before, themes,
the agencies' answer figures, and approved quotes. Every number is counted in SQL.

    summary = summarise(session, agencies, last(timedelta(days=7), now), stopwords=...)
    summary.to_json()   # what `hotline radio summary --json` prints and radio_summaries keeps
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.core.accountability import AgencyFigures, agency_figures
from ivr.core.disclosure import allowed
from ivr.core.models import Message, utcnow
from ivr.core.models.radio import RadioClip, RadioPoll, RadioSummary
from ivr.radio.period import Period
from ivr.radio.polls import poll_results
from ivr.radio.themes import LanguageThemes, Theme, message_filter, period_themes, redact_new_transcripts
from menus.agencies import Agencies


@dataclass(frozen=True)
class Count:
    """How many messages one topic or place had in the period, and in the period before."""

    key: str | None
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True)
class Quote:
    """An approved quote: verbatim from a redacted transcript of a message with on-air consent."""

    clip_id: int
    text: str
    topic: str | None
    place: str | None
    language: str
    audio: bool  # the host also approved its audio for the bulletin


@dataclass(frozen=True)
class PollResult:
    """A keypad poll opened in the period: the host's question and labels, and the votes per key."""

    poll_id: int
    question: str
    options: tuple[tuple[int, str, int], ...]  # (key, label, votes)

    @property
    def votes(self) -> int:
        return sum(v for _, _, v in self.options)


@dataclass(frozen=True)
class Summary:
    """A period's summary, frozen; `to_json` and `from_json` round-trip it."""

    period: Period
    place: str | None
    language: str | None
    due_days: int
    total: int
    previous_total: int
    topics: tuple[Count, ...]
    places: tuple[Count, ...]
    themes: tuple[LanguageThemes, ...]
    agencies: tuple[AgencyFigures, ...]
    quotes: tuple[Quote, ...]
    generated_at: datetime
    polls: tuple[PollResult, ...] = ()

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    def to_json(self) -> dict[str, Any]:
        """Return plain JSON data: `total`, `topics` as [{topic, count, previous}], `places`, `agencies`, `quotes`."""
        return {
            "period": {"start": _iso(self.period.start), "end": _iso(self.period.end)},
            "place": self.place, "language": self.language, "due_days": self.due_days,
            "total": self.total, "previous_total": self.previous_total,
            "topics": [{"topic": c.key, "count": c.count, "previous": c.previous} for c in self.topics],
            "places": [{"place": c.key, "count": c.count, "previous": c.previous} for c in self.places],
            "themes": [{"language": t.language, "messages": t.messages, "transcripts": t.transcripts,
                        "words": [{"word": w.word, "messages": w.messages} for w in t.words]} for t in self.themes],
            "agencies": [asdict(a) for a in self.agencies],
            "quotes": [asdict(q) for q in self.quotes],
            "polls": [{"poll_id": p.poll_id, "question": p.question,
                       "options": [{"key": k, "label": label, "votes": v} for k, label, v in p.options]}
                      for p in self.polls],
            "generated_at": _iso(self.generated_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """Rebuild a summary from `to_json` data (a stored summary)."""
        return cls(
            period=Period(_parse(data["period"]["start"]), _parse(data["period"]["end"])),
            place=data["place"], language=data["language"], due_days=data["due_days"],
            total=data["total"], previous_total=data["previous_total"],
            topics=tuple(Count(c["topic"], c["count"], c["previous"]) for c in data["topics"]),
            places=tuple(Count(c["place"], c["count"], c["previous"]) for c in data["places"]),
            themes=tuple(LanguageThemes(t["language"], t["messages"], t["transcripts"],
                                        tuple(Theme(w["word"], w["messages"]) for w in t["words"]))
                         for t in data["themes"]),
            agencies=tuple(AgencyFigures(**a) for a in data["agencies"]),
            quotes=tuple(Quote(**q) for q in data["quotes"]),
            generated_at=_parse(data["generated_at"]),
            polls=tuple(PollResult(p["poll_id"], p["question"],
                                   tuple((o["key"], o["label"], o["votes"]) for o in p["options"]))
                        for p in data.get("polls", ())),
        )


def _iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def summarise(session: Session, agencies: Agencies, period: Period, *, place: str | None = None,
              language: str | None = None, stopwords: Mapping[str, frozenset[str]] | None = None,
              due_days: int = 7, now: datetime | None = None) -> Summary:
    """Count what callers raised in a period; redacts (once) any transcript of it not yet redacted."""
    redact_new_transcripts(session, period)
    topics = _counts(session, Message.topic, period, place, language)
    return Summary(
        period=period, place=place, language=language, due_days=due_days,
        total=sum(c.count for c in topics), previous_total=sum(c.previous for c in topics),
        topics=topics, places=_counts(session, Message.place, period, place, language),
        themes=period_themes(session, period, place=place, language=language, stopwords=stopwords or {}),
        agencies=tuple(agency_figures(session, agencies, since=period.start, until=period.end, place=place,
                                      language=language, due_days=due_days, now=now or utcnow())),
        quotes=approved_quotes(session, period, place=place, language=language),
        generated_at=now or utcnow(),
        polls=period_polls(session, period),
    )


def period_polls(session: Session, period: Period) -> tuple[PollResult, ...]:
    """Return the results of the keypad polls opened in the period (station-wide: polls ask everyone)."""
    polls = session.scalars(select(RadioPoll).where(RadioPoll.opened_at >= period.start,
                                                    RadioPoll.opened_at < period.end)
                            .order_by(RadioPoll.opened_at)).all()
    return tuple(PollResult(p.id, p.question, tuple(poll_results(session, p.id))) for p in polls)


def _counts(session: Session, column: InstrumentedAttribute[str | None], period: Period, place: str | None,
            language: str | None) -> tuple[Count, ...]:
    """Count messages per value of a column in the period and the one before, in one GROUP BY."""
    both = Period(period.previous().start, period.end)
    now_in: ColumnElement[int] = func.sum(case((Message.created_at >= period.start, 1), else_=0))
    before: ColumnElement[int] = func.sum(case((Message.created_at < period.start, 1), else_=0))
    rows = session.execute(select(column, now_in, before).where(*message_filter(both, place, language))
                           .group_by(column)).all()
    counts = [Count(key, int(n or 0), int(p or 0)) for key, n, p in rows]
    return tuple(sorted(counts, key=lambda c: (-c.count, -c.previous, c.key or "")))


def approved_quotes(session: Session, period: Period, *, place: str | None = None,
                    language: str | None = None) -> tuple[Quote, ...]:
    """Return the approved quotes of the period's messages, checking on-air consent again here.

    The consent is checked at approval and again at every read: a quote stays off air if the
    message's consent is no longer "radio", whatever its clip row says.
    """
    rows = session.execute(
        select(RadioClip.id, RadioClip.quote, RadioClip.audio_approved, Message.topic, Message.place,
               Message.language)
        .join(Message, Message.id == RadioClip.message_id)
        .where(RadioClip.status == "approved", RadioClip.quote.is_not(None), allowed("radio", "quote"),
               *message_filter(period, place, language))
        .order_by(RadioClip.decided_at, RadioClip.id)).all()
    return tuple(Quote(clip_id=r[0], text=r[1] or "", audio=r[2], topic=r[3], place=r[4], language=r[5]) for r in rows)


def store_summary(session: Session, summary: Summary) -> RadioSummary:
    """Keep a summary once per period, place and language, replacing an earlier one of the same key.

    Idempotent: the scheduler running twice for a week leaves one row with the latest figures.
    """
    key = dict(period_start=summary.period.start, period_end=summary.period.end,
               place=summary.place or "", language=summary.language or "")
    body = json.dumps(summary.to_json(), ensure_ascii=False, sort_keys=True)
    row = session.scalar(select(RadioSummary).filter_by(**key))
    if row is None:
        row = RadioSummary(**key, body=body)
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:  # the other scheduler run stored it first
            row = session.scalar(select(RadioSummary).filter_by(**key))
            assert row is not None
    row.body, row.created_at = body, utcnow()
    return row
