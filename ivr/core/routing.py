"""Choose the agency that receives a message, and say why in words an official can check.

The keypad topic and place choose the agency. Keyword rules for the message's language, matched
against the transcript, refine that choice: a keyword naming an agency wins over the keypad, and a
keyword naming a topic decides when the keypad did not (the caller pressed "other", or nothing).
A keyword that disagrees with a keypad topic is only noted. Whatever nothing covers goes to triage.

Pure: no database, no files, no clock, so tests call it directly and the routing job only stores
the Decision it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from menus.agencies import Agencies, Agency
from menus.rules import Rule, Rules, words


@dataclass(frozen=True)
class MessageFacts:
    """What the caller chose by keypad, and the language they spoke."""

    topic: str | None
    place: str | None
    language: str


@dataclass(frozen=True)
class Decision:
    """The agency chosen and the reason, e.g. "topic=water, place=ba → water; keyword 'pipe'"."""

    agency: str
    reason: str


def route(facts: MessageFacts, transcript: str | None, agencies: Agencies, rules: Rules) -> Decision:
    """Decide which agency receives a message, from keypad choices first and the transcript second."""
    keypad = f"topic={facts.topic or 'none'}, place={facts.place or 'none'}"
    spoken = words(transcript) if transcript else ()
    hits = [(rule, found) for rule in rules.for_language(facts.language) if (found := rule.matches(spoken))]
    direct = _strongest([(r, k) for r, k in hits if r.agency in agencies.by_code])
    if direct is not None:
        rule, found = direct
        return Decision(str(rule.agency), f"{keypad}; {_keywords(found)} → {rule.agency}")
    topical = [(r, k) for r, k in hits if r.topic]
    chosen = _best_agency(agencies, facts.topic, facts.place, facts.language)
    if chosen is not None:
        agency, note = chosen
        reason = f"{keypad} → {agency.code}{note}"
        agreeing = [kw for r, found in topical if r.topic == facts.topic for kw in found]
        other = _strongest([(r, k) for r, k in topical if r.topic != facts.topic])
        if agreeing:
            reason += f"; {_keywords(agreeing)}"
        elif other is not None:
            reason += f"; {_keywords(other[1])} suggests {other[0].topic} (keypad kept)"
        return Decision(agency.code, reason)
    triage = agencies.triage.code
    best = _strongest(topical)
    if best is not None:
        rule, found = best
        picked = _best_agency(agencies, rule.topic, facts.place, facts.language)
        if picked is not None:
            return Decision(picked[0].code, f"{keypad}; {_keywords(found)} → topic {rule.topic} → "
                                            f"{picked[0].code}{picked[1]}")
        return Decision(triage, f"{keypad}; {_keywords(found)} → topic {rule.topic}, which no agency covers "
                                f"at {facts.place or 'an unknown place'} → {triage}")
    if facts.topic is None:
        why = "no topic chosen"
    elif any(facts.topic in a.topics for a in agencies.by_code.values() if not a.triage):
        why = f"no agency covers {facts.topic} at {facts.place or 'an unknown place'}"
    else:
        why = f"no agency covers {facts.topic}"
    matched = "no keyword matched" if rules.for_language(facts.language) and spoken else (
        "no transcript" if not spoken else f"no keyword rules for {facts.language}")
    return Decision(triage, f"{keypad} → {triage}; {why}, {matched}")


def _best_agency(agencies: Agencies, topic: str | None, place: str | None,
                 language: str) -> tuple[Agency, str] | None:
    """Pick the best agency for a topic at a place, with a note when it does not list the language."""
    candidates = agencies.candidates(topic, place, language)
    if not candidates:
        return None
    best = candidates[0]
    speaks = best.rank(place, language)[0]
    # Better an agency that must find an interpreter than a message that waits in triage.
    return best, "" if speaks else f" (it does not list language {language})"


def _strongest(hits: list[tuple[Rule, list[str]]]) -> tuple[Rule, list[str]] | None:
    """Return the rule with the most keywords found; on a tie, the first in the file."""
    return max(hits, key=lambda h: len(h[1])) if hits else None


def _keywords(found: list[str]) -> str:
    quoted = ", ".join(f"'{k}'" for k in dict.fromkeys(found))
    return f"keyword{'s' if len(set(found)) > 1 else ''} {quoted}"
