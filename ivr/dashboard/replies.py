"""Reply templates: an agency's common answers per language, filled in for one message in one click.

Kept as data (replies.toml beside agencies.toml, or HOTLINE_REPLIES) so an agency's staff or an
operator edits them without code. A template may use only the placeholders in PLACEHOLDERS; one that
names anything else (or misuses braces) is listed as unusable with the reason, and the others stay
usable. Attribute or index access in a placeholder ({reference.__class__}) is refused: only plain names.

    [water.en]
    "Crew on the way" = "Report {reference}: a crew is on its way to {place}."
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PLACEHOLDERS = {"reference": "the message's reference number, in groups of four digits",
                "agency": "the agency's name", "topic": "the topic the caller chose",
                "place": "the place the caller chose", "date": "today's date, local"}
MAX_TEMPLATE = 2000


@dataclass(frozen=True)
class Template:
    agency: str
    language: str
    name: str
    text: str


@dataclass(frozen=True)
class Replies:
    """Usable templates by (agency, language), and what was wrong with the others."""

    templates: dict[tuple[str, str], list[Template]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def for_message(self, agency: str | None, language: str) -> list[Template]:
        return self.templates.get((agency or "", language), [])


def placeholders_of(text: str) -> list[str]:
    """Return the placeholder names in `text`; raise ValueError when braces are malformed or not plain names."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} is "
                             "not a plain placeholder name")
        names.append(name)
    return names


def check_template(text: str) -> str | None:
    """Say what is wrong with a template text, or None when it is usable."""
    if not text.strip():
        return "the text is empty"
    if len(text) > MAX_TEMPLATE:
        return f"the text has {len(text)} characters, at most {MAX_TEMPLATE} are allowed"
    try:
        names = placeholders_of(text)
    except ValueError as exc:
        return f"{exc} (write {{{{ and }}}} for a literal brace)"
    unknown = [n for n in dict.fromkeys(names) if n not in PLACEHOLDERS]
    if unknown:
        return (f"placeholder {', '.join('{' + n + '}' for n in unknown)} does not exist "
                f"(use {', '.join('{' + n + '}' for n in PLACEHOLDERS)})")
    return None


def load_replies(path: Path, agencies: set[str], languages: set[str]) -> Replies:
    """Read the reply templates file; a missing file means no templates. Problems are collected, not raised."""
    if not path.exists():
        return Replies()
    fname = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Replies(problems=[f"{fname}: not valid TOML: {exc}"])
    templates: dict[tuple[str, str], list[Template]] = {}
    problems = []
    for agency, per_language in raw.items():
        if agency not in agencies:
            problems.append(f"{fname}: [{agency}] is not an agency of agencies.toml")
            continue
        if not isinstance(per_language, dict):
            problems.append(f"{fname}: [{agency}] must hold tables per language, like [{agency}.en]")
            continue
        for language, named in per_language.items():
            where = f"{fname}: [{agency}.{language}]"
            if language not in languages:
                problems.append(f"{where}: {language!r} is not a language of the menus")
                continue
            if not isinstance(named, dict):
                problems.append(f"{where}: must hold name = \"text\" lines")
                continue
            for name, text in named.items():
                wrong = "the text must be a string" if not isinstance(text, str) else check_template(text)
                if wrong:
                    problems.append(f"{where} {name!r}: {wrong}")
                    continue
                templates.setdefault((agency, language), []).append(Template(agency, language, name, text))
    return Replies(templates, problems)


def fill(template: Template, *, reference: str, agency: str, topic: str | None, place: str | None,
         today: datetime) -> str:
    """Fill a checked template for one message (raise ValueError naming a placeholder that does not exist)."""
    wrong = check_template(template.text)
    if wrong:
        raise ValueError(f"template {template.name!r}: {wrong}")
    spaced = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
    values = {"reference": spaced, "agency": agency, "topic": topic or "-", "place": place or "-",
              "date": f"{today.day} {today:%b %Y}"}
    return template.text.format_map(values)
