"""Turn a summary into the sentences a host reads on air, in the station's language.

Every sentence is a phrase of menus/radio/<lang>.toml with its fields filled from the summary:
numbers from the database, topic and place names from the prompt files, quotes verbatim. The same
Script is printed (plain text), shown (HTML page) and spoken (the bulletin).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ivr.core.disclosure import suppress_counts, withheld
from ivr.radio.phrases import RadioLanguage
from ivr.radio.summary import Count, Quote, Summary
from menus import Menus

MAX_QUOTES = 5


@dataclass(frozen=True)
class Section:
    """A part of the script: an optional heading and its sentences."""

    key: str
    heading: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Script:
    """The whole script, and the quotes it reads (the bulletin plays their approved audio)."""

    language: str
    reviewed: bool
    title: str
    sections: tuple[Section, ...]
    quotes: tuple[Quote, ...]
    clip_intros: Mapping[int, str]  # what is said before a quote's own audio plays, by clip id

    def text(self) -> str:
        """Return the script as plain text, ready to print."""
        out = [self.title, "=" * len(self.title), ""]
        for section in self.sections:
            if section.heading:
                out.append(section.heading)
            out.extend(section.lines)
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


def write_script(summary: Summary, lang: RadioLanguage, menus: Menus, *, title: str | None = None) -> Script:
    """Write the script of a summary in one language."""
    names = _Names(lang, menus)
    period = {"start": lang.date(summary.period.start), "end": lang.date(summary.period.end),
              "days": summary.period.days}
    sections = [_intro(summary, lang, names, period)]
    if summary.total:
        sections.append(_counts("topics", lang.say("topics_intro"), summary.topics, lang, "topic_line", "topic",
                                names.topic))
        sections.append(_counts("places", lang.say("places_intro"), summary.places, lang, "place_line", "place",
                                names.place))
        agencies = _agencies(summary, lang)
        if agencies.lines:
            sections.append(agencies)
        sections.append(_themes(summary, lang, names))
    polls = tuple(lang.say("poll_line", question=p.question, results=", ".join(
        lang.say("poll_option", label=label, votes=votes) for _, label, votes in p.options))
        for p in summary.polls if p.votes)
    if polls:
        sections.append(Section("polls", lang.say("polls_intro"), polls))
    # A quote is read only in its own language's script: a Hindi caller's words are not read by an English voice.
    quotes = tuple(q for q in summary.quotes if q.language == lang.code)[:MAX_QUOTES]
    if quotes:
        sections.append(Section("quotes", lang.say("quotes_intro"), tuple(
            lang.say("quote_line", topic=names.topic(q.topic), place=names.place(q.place), quote=f"“{q.text}”")
            for q in quotes)))
    sections.append(Section("outro", None, (lang.say("outro"),)))
    intros = {q.clip_id: lang.say("clip_intro", topic=names.topic(q.topic), place=names.place(q.place))
              for q in quotes}
    return Script(language=lang.code, reviewed=lang.reviewed, title=title or lang.say("title"),
                  sections=tuple(s for s in sections if s.lines), quotes=quotes, clip_intros=intros)


class _Names:
    """Topic, place and language names in the script's language, from the prompt files."""

    def __init__(self, lang: RadioLanguage, menus: Menus) -> None:
        self.lang, self.menus = lang, menus
        prompts = menus.languages.get(lang.code) or menus.languages["en"]
        self.prompts = prompts.prompts

    def _named(self, prefix: str, code: str | None) -> str:
        if code is None:
            return self.lang.say("unknown")
        return self.prompts.get(prefix + code, code)

    def topic(self, code: str | None) -> str:
        return self._named("topic_", code)

    def place(self, code: str | None) -> str:
        return self._named("place_", code)

    def language(self, code: str | None) -> str:
        """Name a language in the script's own language and script ("Hindi", never "हिन्दी" in English)."""
        if code is None:
            return self.lang.say("unknown")
        phrase = f"language_{code}"
        return self.lang.say(phrase) if phrase in self.lang.phrases else self.lang.say("language_other")


def _figure(count: int, lang: RadioLanguage, hidden: bool = False) -> str:
    """Say a count on air under the small-group rule (ivr/core/disclosure.py): under 5 is "a few"."""
    return lang.say("a_few") if hidden or withheld(count) else str(count)


def _intro(summary: Summary, lang: RadioLanguage, names: _Names, period: dict[str, object]) -> Section:
    if summary.total == 0:
        lines = [lang.say("no_messages", **period)]
    elif summary.total == 1 and not withheld(1):
        lines = [lang.say("intro_one", **period)]
    else:
        lines = [lang.say("intro", total=_figure(summary.total, lang), **period)]
    if summary.place:
        lines.append(lang.say("filter_place", place=names.place(summary.place)))
    if summary.language:
        lines.append(lang.say("filter_language", language=names.language(summary.language)))
    change = summary.change
    # A change between two small totals (or one) would tell how many: said only between published numbers.
    if withheld(summary.total) or withheld(summary.previous_total):
        pass
    elif summary.total or summary.previous_total:
        if change > 0:
            lines.append(lang.say("change_up", change=change, previous=summary.previous_total, days=period["days"]))
        elif change < 0:
            lines.append(lang.say("change_down", change=-change, previous=summary.previous_total,
                                  days=period["days"]))
        else:
            lines.append(lang.say("change_same", days=period["days"]))
    return Section("intro", None, tuple(lines))


def _counts(key: str, heading: str, counts: tuple[Count, ...], lang: RadioLanguage, phrase: str, field: str,
            name: Callable[[str | None], str]) -> Section:
    """List each topic (or place) that had messages, most first; small groups (and their complement) as "a few"."""
    hidden = suppress_counts({c.key: c.count for c in counts})
    return Section(key, heading, tuple(lang.say(phrase, **{field: name(c.key),
                                                           "count": _figure(c.count, lang, c.key in hidden)})
                                       for c in counts if c.count))


def _agencies(summary: Summary, lang: RadioLanguage) -> Section:
    lines: list[str] = []
    for agency in summary.agencies:
        if agency.received:
            lines.append(lang.say("agency_line", agency=agency.name,
                                  within=_figure(agency.answered_within_due, lang),
                                  received=_figure(agency.received, lang), due_days=summary.due_days))
        if agency.overdue:
            lines.append(lang.say("agency_overdue", agency=agency.name, overdue=_figure(agency.overdue, lang),
                                  due_days=summary.due_days))
    return Section("agencies", lang.say("agencies_intro"), tuple(lines))


def _themes(summary: Summary, lang: RadioLanguage, names: _Names) -> Section:
    lines: list[str] = []
    for themes in summary.themes:
        language = names.language(themes.language)
        if themes.language != lang.code:
            # Another language's words would be in another script: its messages are counted, not quoted.
            # The same small-group rule as every other figure on air: under 5 is "a few".
            lines.append(lang.say("other_language_messages", language=language,
                                  count=_figure(themes.messages, lang)))
        elif themes.transcripts == 0:
            lines.append(lang.say("no_transcripts", language=language))
        elif themes.words:
            lines.append(lang.say("themes_intro", language=language))
            lines.append(lang.say("theme_line", words=", ".join(w.word for w in themes.words)))
    return Section("themes", None, tuple(lines))
