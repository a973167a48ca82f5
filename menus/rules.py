"""Load routing.toml: keywords per language that refine routing from what the caller said.

A keyword names a topic (it decides when the keypad said "other" or nothing) or an agency (it wins
over the keypad). Like the menus, the file is data an operator or translator edits; every problem
is reported at once with the file, the language and the keyword.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .loader import MenuError, read_toml

SEPARATORS = ("P", "S", "Z")  # Unicode categories that end a word: punctuation, symbols, spaces (and controls)


@dataclass(frozen=True)
class Rule:
    """Keywords that point to a topic or (directly) to an agency; a keyword ending in * matches a prefix."""

    keywords: tuple[str, ...]
    topic: str | None = None
    agency: str | None = None

    def matches(self, spoken: tuple[str, ...]) -> list[str]:
        """Return the words of a transcript that match this rule's keywords, in rule order."""
        return [found for k in self.keywords if (found := _found(k, spoken))]


@dataclass(frozen=True)
class Rules:
    """Every language's rules, in file order."""

    by_language: Mapping[str, tuple[Rule, ...]]
    path: str

    def for_language(self, language: str) -> tuple[Rule, ...]:
        return self.by_language.get(language, ())


def words(text: str) -> tuple[str, ...]:
    """Split text into lowercase words; marks inside a word (Devanagari vowel signs) stay in it.

    An apostrophe splits ("l'eau" is "l", "eau"), so French elision does not hide a keyword.
    """
    text = unicodedata.normalize("NFC", text).casefold()
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if (category[0] in SEPARATORS or category == "Cc") and ch != "-":
            if current:
                out.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return tuple(w.strip("-") for w in out if w.strip("-"))


def _found(keyword: str, spoken: tuple[str, ...]) -> str | None:
    """Return the words that match a keyword ("pipe*" matches "pipes"), or None."""
    parts = keyword.split()
    prefix = parts[-1].endswith("*")
    if prefix:
        parts[-1] = parts[-1][:-1]
    n = len(parts)
    for i in range(len(spoken) - n + 1):
        window = spoken[i:i + n]
        if window[:-1] == tuple(parts[:-1]) and (
                window[-1].startswith(parts[-1]) if prefix else window[-1] == parts[-1]):
            return " ".join(window)
    return None


def load_rules(path: Path | str, *, languages: Collection[str], topics: Collection[str],
               agencies: Collection[str] | None) -> Rules:
    """Read and validate a rules file; raise one MenuError listing every problem.

    `agencies` None: the agencies file could not be read, so agency codes are not checked.
    """
    path = Path(path)
    fname = path.name
    raw = read_toml(path, fname)
    problems: list[str] = []
    by_language: dict[str, tuple[Rule, ...]] = {}
    for language, spec in raw.items():
        where = f"{fname}: language {language}"
        if language not in languages:
            problems.append(f"{where}: not a language of the menus ({', '.join(sorted(languages))})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a table with [{language}.topics] and/or [{language}.agencies]")
            continue
        for extra in sorted(set(spec) - {"topics", "agencies"}):
            problems.append(f"{where}: unknown table {extra!r} (use topics or agencies)")
        rules: list[Rule] = []
        owner: dict[str, str] = {}
        for kind, known in (("agencies", agencies), ("topics", topics)):
            if known is None:
                continue
            table = spec.get(kind, {})
            if not isinstance(table, dict):
                problems.append(f"{where}: {kind} must be a table of code = [keywords]")
                continue
            for code, keywords in table.items():
                rule = _build_rule(kind, code, keywords, f"{where}: {kind[:-1] if kind == 'topics' else 'agency'} "
                                   f"{code}", known, owner, problems)
                if rule is not None:
                    rules.append(rule)
        by_language[language] = tuple(rules)
    if problems:
        raise MenuError(problems)
    return Rules(by_language=MappingProxyType(by_language), path=str(path))


def _build_rule(kind: str, code: str, keywords: Any, where: str, known: Collection[str], owner: dict[str, str],
                problems: list[str]) -> Rule | None:
    if code not in known:
        problems.append(f"{where}: not one of {', '.join(sorted(known))}")
        return None
    if not isinstance(keywords, list) or not keywords or not all(isinstance(k, str) for k in keywords):
        problems.append(f"{where}: must be a non-empty list of keywords")
        return None
    clean: list[str] = []
    for keyword in keywords:
        parts = words(keyword.rstrip("*"))
        if not parts:
            problems.append(f"{where}: keyword {keyword!r} has no letters")
            continue
        norm = " ".join(parts) + ("*" if keyword.rstrip().endswith("*") else "")
        if norm in owner:
            problems.append(f"{where}: keyword {keyword!r} is also listed for {owner[norm]}")
            continue
        owner[norm] = where.rsplit(": ", 1)[-1]
        clean.append(norm)
    if kind == "agencies":
        return Rule(keywords=tuple(clean), agency=code)
    return Rule(keywords=tuple(clean), topic=code)
