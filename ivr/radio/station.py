"""What every radio feature reads once: menus, agencies, the stations' phrases and the settings.

The CLI, the pages and the jobs build one Station from the config, so "the station's language",
the topic names and the stopwords mean the same in the script, the bulletin and the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ivr.core.agencies import routing_for
from ivr.core.config import Config
from ivr.radio.period import Period
from ivr.radio.phrases import RadioLanguage, load_radio_languages
from ivr.radio.summary import Summary, summarise
from menus import Menus
from menus.agencies import Agencies


class UnknownChoice(ValueError):
    """A place or language that the menus do not have; the message names what is known."""


@dataclass(frozen=True)
class Station:
    """The radio station's view of the hotline."""

    menus: Menus
    agencies: Agencies
    languages: Mapping[str, RadioLanguage]
    name: str
    language: str
    due_days: int
    data_dir: Path

    @classmethod
    def for_config(cls, config: Config) -> Station:
        """Load the menus, the agencies and menus/radio/ (raises MenuError listing every problem)."""
        menus, routing = routing_for(config)
        languages = load_radio_languages(config.menus_dir / "radio")
        return cls(menus=menus, agencies=routing.agencies, languages=languages, name=config.radio_station,
                   language=config.radio_language, due_days=config.answer_due_days, data_dir=config.data_dir)

    @property
    def places(self) -> tuple[str, ...]:
        return tuple(self.menus.flow.tables["places"].values())

    def check_place(self, place: str | None) -> str | None:
        """Return the place code (or None for every place); raise UnknownChoice naming the known ones."""
        if not place:
            return None
        if place not in self.places:
            raise UnknownChoice(f"unknown place {place!r}: one of {', '.join(self.places)}")
        return place

    def check_language(self, language: str | None) -> str | None:
        """Return a language code of the menus (or None for every language); raise UnknownChoice otherwise."""
        if not language:
            return None
        if language not in self.menus.languages:
            raise UnknownChoice(f"unknown language {language!r}: one of {', '.join(self.menus.languages)}")
        return language

    def script_language(self, wanted: str | None = None) -> RadioLanguage:
        """Return the phrases to write in: the one asked for if it has a radio file, else the station's."""
        if wanted and wanted in self.languages:
            return self.languages[wanted]
        if self.language in self.languages:
            return self.languages[self.language]
        return self.languages["en"]

    def stopwords(self) -> dict[str, frozenset[str]]:
        return {code: lang.stopwords for code, lang in self.languages.items()}

    def summarise(self, session: Session, period: Period, *, place: str | None = None,
                  language: str | None = None, now: datetime | None = None) -> Summary:
        """Summarise a period with this station's agencies, stopwords and due days."""
        return summarise(session, self.agencies, period, place=self.check_place(place),
                         language=self.check_language(language), stopwords=self.stopwords(),
                         due_days=self.due_days, now=now)
