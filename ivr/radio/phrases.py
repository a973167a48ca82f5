"""Load the stations' sentences and stopwords (menus/radio/<lang>.toml), or say what is wrong.

A station or a translator edits these files, never the code: every sentence the script and the
bulletin say is here, with {fields} that only take numbers from the database, names of topics and
places from the prompt files, and quotes from redacted transcripts.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from menus import MenuError

REFERENCE_LANGUAGE = "en"  # every other language must have the same phrases, with the same fields


@dataclass(frozen=True)
class RadioLanguage:
    """One language's script phrases, month names and theme stopwords."""

    code: str
    reviewed: bool
    months: tuple[str, ...]
    phrases: Mapping[str, str]
    stopwords: frozenset[str]

    def say(self, phrase: str, **fields: object) -> str:
        """Fill in one phrase's fields."""
        return self.phrases[phrase].format(**fields)

    def date(self, moment: datetime) -> str:
        """Write a date as the station says it: day and month name ("16 November")."""
        return f"{moment.day} {self.months[moment.month - 1]}"


def load_radio_languages(folder: Path) -> Mapping[str, RadioLanguage]:
    """Read every <lang>.toml in the folder; raise MenuError listing every problem at once."""
    problems: list[str] = []
    found: dict[str, RadioLanguage] = {}
    for path in sorted(folder.glob("*.toml")):
        lang = _read(path, problems)
        if lang is not None:
            found[lang.code] = lang
    if REFERENCE_LANGUAGE not in found:
        problems.append(f"radio/{REFERENCE_LANGUAGE}.toml: missing (every radio language is checked against it)")
    else:
        reference = found[REFERENCE_LANGUAGE]
        for lang in found.values():
            _compare(reference, lang, problems)
    if problems:
        raise MenuError(problems)
    return MappingProxyType(found)


def _read(path: Path, problems: list[str]) -> RadioLanguage | None:
    where = f"radio/{path.name}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: not valid TOML: {exc}")
        return None
    meta, phrases, themes = raw.get("language"), raw.get("phrases"), raw.get("themes", {})
    if not isinstance(meta, dict) or meta.get("code") != path.stem:
        problems.append(f"{where}: [language] code must be {path.stem!r}")
        return None
    months = meta.get("months")
    if not isinstance(months, list) or len(months) != 12 or not all(isinstance(m, str) and m for m in months):
        problems.append(f"{where}: months must list the twelve month names")
        months = [str(m) for m in range(1, 13)]
    if not isinstance(phrases, dict) or not all(isinstance(v, str) and v.strip() for v in phrases.values()):
        problems.append(f"{where}: [phrases] must map each phrase to its text")
        return None
    words = themes.get("stopwords", "") if isinstance(themes, dict) else ""
    if not isinstance(words, str):
        problems.append(f"{where}: [themes] stopwords must be text (words separated by spaces)")
        words = ""
    return RadioLanguage(code=path.stem, reviewed=meta.get("reviewed") is True, months=tuple(months),
                         phrases=MappingProxyType({k: v.strip() for k, v in phrases.items()}),
                         stopwords=frozenset(w.casefold() for w in words.split()))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _compare(reference: RadioLanguage, lang: RadioLanguage, problems: list[str]) -> None:
    where = f"radio/{lang.code}.toml"
    for phrase, text in reference.phrases.items():
        if phrase not in lang.phrases:
            problems.append(f"{where}: phrase {phrase} is missing")
            continue
        try:
            theirs = _fields(lang.phrases[phrase])
        except ValueError as exc:
            problems.append(f"{where}: phrase {phrase}: {exc}")
            continue
        if theirs != _fields(text):
            problems.append(f"{where}: phrase {phrase} must use the fields {sorted(_fields(text))}, "
                            f"not {sorted(theirs)}")
    for phrase in sorted(set(lang.phrases) - set(reference.phrases)):
        problems.append(f"{where}: phrase {phrase} is not one the hotline says")
