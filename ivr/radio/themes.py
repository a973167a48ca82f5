"""The main themes of a period: the words callers used most, per language, from redacted transcripts.

Each transcript is redacted once (ivr.core.redact) and kept in radio_redacted_transcripts, so a weekly
summary over a hundred thousand messages reads stored text instead of redacting it all again, and
no raw transcript is ever read for the radio. A theme counts messages, not words: a word counts once
per message, and only a word that at least MIN_MESSAGES callers used is a theme, because a rare word
(a street, a surname the redaction missed) could point at the one caller who said it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.core.disclosure import allowed
from ivr.core.models import Message, Transcript
from ivr.core.models.radio import RedactedTranscript
from ivr.core.redact import redact
from ivr.radio.period import Period

MIN_MESSAGES = 2
TOP_WORDS = 8
MIN_LETTERS = 2
BATCH = 1000
_LABELS = re.compile(r"\[(?:name|phone|number|email)\]")
# Letters and combining marks (Devanagari vowel signs are marks, which \w alone would split on).
_WORD = re.compile(r"[\w\u0900-\u097f\u0300-\u036f]+")


@dataclass(frozen=True)
class Theme:
    """A word and how many messages of the period used it."""

    word: str
    messages: int


@dataclass(frozen=True)
class LanguageThemes:
    """The themes of one language: how many messages it had, how many have a transcript, top words."""

    language: str
    messages: int
    transcripts: int
    words: tuple[Theme, ...]


def message_filter(period: Period, place: str | None, language: str | None) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses that pick a period's messages (optionally one place, one language)."""
    where = [Message.created_at >= period.start, Message.created_at < period.end]
    if place:
        where.append(Message.place == place)
    if language:
        where.append(Message.language == language)
    return where


def redact_new_transcripts(session: Session, period: Period) -> int:
    """Redact and keep every transcript of the period not redacted yet; return how many.

    Idempotent: a transcript already kept is skipped, and two summaries racing on the same
    transcript keep one row (the primary key is the message id).
    """
    rows = session.execute(
        # A person's checked words when there are some (ivr/core/transcript_check.py).
        select(Transcript.message_id, Transcript.language,
               func.coalesce(Transcript.checked_text, Transcript.text).label("text"))
        .join(Message, Message.id == Transcript.message_id)
        .outerjoin(RedactedTranscript, RedactedTranscript.message_id == Transcript.message_id)
        .where(RedactedTranscript.message_id.is_(None), *message_filter(period, None, None))).all()
    for start in range(0, len(rows), BATCH):
        batch = [RedactedTranscript(message_id=r.message_id, language=r.language, text=(red := redact(r.text)).text,
                                    removed=red.total) for r in rows[start:start + BATCH]]
        try:
            with session.begin_nested():
                session.add_all(batch)
        except IntegrityError:  # another summary kept some of these meanwhile: keep the rest one by one
            for row in batch:
                try:
                    with session.begin_nested():
                        session.merge(row)
                except IntegrityError:
                    continue
    return len(rows)


def words_of(text: str, stopwords: frozenset[str]) -> set[str]:
    """Return the distinct theme words of one redacted text (no labels, digits or stopwords)."""
    words = set()
    for token in _WORD.findall(_LABELS.sub(" ", text).casefold()):
        if len(token) >= MIN_LETTERS and token not in stopwords and not any(c.isdecimal() or c == "_" for c in token):
            words.add(token)
    return words


def top_themes(texts: Iterable[str], stopwords: frozenset[str]) -> tuple[Theme, ...]:
    """Count in how many texts each word appears; keep the most used that MIN_MESSAGES share."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words_of(text, stopwords))
    ranked = sorted(((w, n) for w, n in counts.items() if n >= MIN_MESSAGES), key=lambda wn: (-wn[1], wn[0]))
    return tuple(Theme(w, n) for w, n in ranked[:TOP_WORDS])


def period_themes(session: Session, period: Period, *, place: str | None, language: str | None,
                  stopwords: Mapping[str, frozenset[str]]) -> tuple[LanguageThemes, ...]:
    """Return the themes of every language that has messages in the period (most messages first)."""
    where = message_filter(period, place, language)
    languages = session.execute(
        select(Message.language, func.count(Message.id), func.count(RedactedTranscript.message_id))
        .outerjoin(RedactedTranscript, RedactedTranscript.message_id == Message.id)
        .where(*where).group_by(Message.language)).all()
    texts: dict[str, list[str]] = {}
    with_text = [lang for lang, _, transcribed in languages if transcribed]
    if with_text:
        stream = session.execute(
            select(Message.language, RedactedTranscript.text)
            .join(Message, Message.id == RedactedTranscript.message_id)
            # Themes are read on air: only words of callers who agreed to radio (ivr/core/disclosure.py).
            .where(*where, allowed("radio", "redacted_words")).execution_options(yield_per=5000))
        for lang, text in stream:
            texts.setdefault(lang, []).append(text)
    result = [LanguageThemes(language=lang, messages=count, transcripts=transcribed,
                             words=top_themes(texts.get(lang, ()), stopwords.get(lang, frozenset())))
              for lang, count, transcribed in languages]
    return tuple(sorted(result, key=lambda t: (-t.messages, t.language)))
