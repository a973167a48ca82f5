"""Who may see what of a caller's message: the one answer every page, feed, export, job and notification asks.

A caller chose, by keypad, who hears them (README key table, "report: consent"): 1 the agency, 2 the
agency without any link to the phone, 3 the agency and community radio. That choice is the whole rule,
written once here, so a new page cannot quietly show more than the caller agreed to:

- agency (an official of the routed agency, an admin): everything (words, voice, reference, answers)
  of every consent, by routing;
- radio (board, moderation, quotes, themes, bulletins, feed): topic, place, language and time of every
  message; redacted words (board, themes, moderation) and voice (a host's moderation listen) of consent 3
  only; on air (script, bulletin, feed) only a quote or clip a host approved, of consent 3;
- public (page, open data): counts only, through the small-group rule (ivr/core/accountability.py).

Raw (unredacted) words never leave the agency.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from sqlalchemy import ColumnElement, false, true

from ivr.core.models import Message

Audience = Literal["agency", "radio", "public"]
Field = Literal["facts", "words", "redacted_words", "voice", "reference", "answers", "quote", "clip"]

ON_AIR = "radio"  # consent 3: the only one under which anything a caller said may reach the radio
CONSENTS = ("agency", "anonymous", "radio")
ALL = None  # whatever the consent (every consent includes the agency the message is routed to)

# (audience, field) -> the consents under which it may be seen (ALL: any); absent: never.
RULES: dict[tuple[Audience, Field], frozenset[str] | None] = {
    ("agency", "facts"): ALL, ("agency", "words"): ALL, ("agency", "redacted_words"): ALL,
    ("agency", "voice"): ALL, ("agency", "reference"): ALL, ("agency", "answers"): ALL,
    ("radio", "facts"): ALL,  # topic, place, language, time: what the board shows of every message
    ("radio", "redacted_words"): frozenset({ON_AIR}),
    ("radio", "voice"): frozenset({ON_AIR}),  # a host listens before approving; audited
    ("radio", "quote"): frozenset({ON_AIR}),  # and only once a host approved it (RadioClip)
    ("radio", "clip"): frozenset({ON_AIR}),
    # The public sees no message at all: only counts (the small-group rule applies to those).
}


class Facts(Protocol):
    """What the rule needs of a message: its consent and the agency it was routed to."""

    @property
    def consent(self) -> str: ...

    @property
    def agency(self) -> str | None: ...


@dataclass(frozen=True)
class MessageFacts:
    """The two columns the rule reads, for a query that selected columns rather than a Message."""

    consent: str
    agency: str | None = None


class Viewer(Protocol):
    def can_see_agency(self, agency: str | None) -> bool: ...


@dataclass(frozen=True)
class Agency:
    """An agency itself as the reader (its notification targets): it sees what is routed to it now."""

    code: str

    def can_see_agency(self, agency: str | None) -> bool:
        return agency == self.code


# ---- the small-group rule, for every published figure (public page, open data, radio script, bulletin, feed) ----

THRESHOLD = 5  # a group of fewer messages than this is never published as a number
K = TypeVar("K", bound=Hashable)


def withheld(count: int) -> bool:
    """Answer whether a published count must be withheld: 1 to THRESHOLD - 1 messages could point at a caller."""
    return 0 < count < THRESHOLD


def suppress_counts(counts: Mapping[K, int]) -> set[K]:
    """Choose which groups of one table to hide: those under THRESHOLD, plus one more if only one is.

    With a published total, a lone hidden group equals the total minus the rest; hiding the next
    smallest non-zero group as well leaves two unknowns that cannot be told apart.
    """
    hidden = {k for k, n in counts.items() if 0 < n < THRESHOLD}
    if len(hidden) == 1:
        visible = sorted((n, i) for i, (k, n) in enumerate(counts.items()) if n > 0 and k not in hidden)
        if visible:
            keys = list(counts)
            hidden.add(keys[visible[0][1]])
    return hidden


def ended_days(now: datetime) -> datetime:
    """Return the end of the last whole UTC day before `now`: public figures stop there.

    So the figures are the same before and after any one call today: one call cannot be isolated by
    comparing two responses.
    """
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def may_see(audience: Audience, field: Field, message: Facts, *, viewer: Viewer | None = None,
            approved: bool = False) -> bool:
    """Answer whether `audience` may see `field` of `message`.

    An agency reader must be given as `viewer` (routing decides); an on-air quote or clip needs `approved`.
    """
    if (audience, field) not in RULES:
        return False
    consents = RULES[(audience, field)]
    if consents is not ALL and message.consent not in consents:
        return False
    if audience == "agency":
        return viewer is not None and viewer.can_see_agency(message.agency)
    if field in ("quote", "clip"):
        return approved
    return True


def allowed(audience: Audience, field: Field) -> ColumnElement[bool]:
    """Return the same rule as a WHERE clause on messages, for queries that read many at once."""
    if (audience, field) not in RULES:
        return false()
    consents = RULES[(audience, field)]
    return true() if consents is ALL else Message.consent.in_(sorted(consents))
