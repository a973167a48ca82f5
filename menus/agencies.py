"""Load agencies.toml into frozen objects, or say everything that is wrong with it.

An operator edits this file (who receives which topics and places, and how each agency hears of a
new message), never the code. Every problem is reported at once, each naming the file and the
agency, so a typo is caught by `hotline menus check` and not by a message that reaches nobody.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .loader import MenuError, read_toml
from .rules import Rules, load_rules
from .schema import Menus

ANY = "*"
CHANNELS = ("webhook", "email", "open311")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
EMAIL = re.compile(r"^[^@\s<>,;\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
AGENCY_KEYS = {"name", "topics", "places", "languages", "triage", "notify", "supervisors"}
TARGET_KEYS = {
    "webhook": {"webhook", "secret_env"},
    "email": {"email"},
    "open311": {"open311", "service_code", "api_key_env", "jurisdiction_id", "address_suffix", "attributes"},
}


@dataclass(frozen=True)
class Target:
    """One way to tell an agency about a message: a signed webhook, an email, or an Open311 request.

    Secrets never live in the file: `secret_env` and `api_key_env` name environment variables.
    """

    channel: str
    address: str  # the webhook URL, email address or Open311 base URL: a notification's `target`
    secret_env: str = ""
    service_code: str = ""
    api_key_env: str = ""
    jurisdiction_id: str = ""
    address_suffix: str = ""
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Agency:
    """An agency: what it covers (topics, places, languages) and where its notifications go."""

    code: str
    name: str
    topics: tuple[str, ...]
    places: tuple[str, ...]
    languages: tuple[str, ...]
    targets: tuple[Target, ...] = ()
    triage: bool = False
    supervisors: tuple[str, ...] = ()  # email addresses told when a message passes its due date

    def emails(self) -> tuple[str, ...]:
        """Return the agency's own email addresses (its email notify targets): where its daily digest goes."""
        return tuple(t.address for t in self.targets if t.channel == "email")

    def covers(self, topic: str | None, place: str | None) -> bool:
        """Tell whether the agency takes this keypad topic at this place."""
        return topic in self.topics and (ANY in self.places or place in self.places)

    def rank(self, place: str | None, language: str) -> tuple[bool, bool, bool]:
        """Order agencies covering the same topic: speaks the language, then named place, then named language."""
        speaks = ANY in self.languages or language in self.languages
        return speaks, place in self.places, language in self.languages

    def target(self, channel: str, address: str) -> Target | None:
        return next((t for t in self.targets if t.channel == channel and t.address == address), None)


@dataclass(frozen=True)
class Agencies:
    """Every agency by code, in file order, and the one triage queue for what nothing else covers."""

    by_code: Mapping[str, Agency]
    triage: Agency
    path: str

    def candidates(self, topic: str | None, place: str | None, language: str) -> list[Agency]:
        """List the agencies (triage aside) that cover a topic at a place, best first."""
        covering = [a for a in self.by_code.values() if not a.triage and a.covers(topic, place)]
        return sorted(covering, key=lambda a: a.rank(place, language), reverse=True)


@dataclass(frozen=True)
class Routing:
    """The agencies and the keyword rules, checked against each other and against the menus."""

    agencies: Agencies
    rules: Rules


def load_routing(menus: Menus, agencies_path: Path | str, rules_path: Path | str) -> Routing:
    """Load the agencies file and the rules file, reporting the problems of both at once."""
    problems: list[str] = []
    agencies: Agencies | None = None
    try:
        agencies = load_agencies(agencies_path, menus)
    except MenuError as exc:
        problems.extend(exc.problems)
    try:
        rules = load_rules(rules_path, languages=tuple(menus.languages),
                           topics=tuple(menus.flow.tables.get("topics", {}).values()),
                           agencies=tuple(agencies.by_code) if agencies else None)
    except MenuError as exc:
        problems.extend(exc.problems)
    if problems or agencies is None:
        raise MenuError(problems)
    return Routing(agencies=agencies, rules=rules)


def load_agencies(path: Path | str, menus: Menus) -> Agencies:
    """Read and validate an agencies file against the flow's topics and places and the languages."""
    return check_agencies(Path(path), topics=tuple(menus.flow.tables.get("topics", {}).values()),
                          places=tuple(menus.flow.tables.get("places", {}).values()),
                          languages=tuple(menus.languages))


def check_agencies(path: Path, *, topics: Collection[str], places: Collection[str],
                   languages: Collection[str]) -> Agencies:
    """Build Agencies from a file, raising one MenuError that lists every problem."""
    fname = path.name
    problems: list[str] = []
    raw = read_toml(path, fname)
    for extra in sorted(set(raw) - {"agencies"}):
        problems.append(f"{fname}: unknown top-level setting {extra!r} (agencies go in [agencies.CODE])")
    tables = raw.get("agencies")
    if not isinstance(tables, dict) or not tables:
        raise MenuError([*problems, f"{fname}: no [agencies.CODE] tables"])
    known = {"topics": set(topics), "places": {*places, ANY}, "languages": {*languages, ANY}}
    agencies: dict[str, Agency] = {}
    for code, spec in tables.items():
        agency = _build_agency(code, spec, f"{fname}: agency {code}", known, problems)
        if agency is not None:
            agencies[code] = agency
    triage = [a for a in agencies.values() if a.triage]
    if len(triage) != 1:
        named = ", ".join(a.code for a in triage) or "none"
        problems.append(f"{fname}: exactly one agency must have triage = true (it takes what nothing else "
                        f"covers); found {named}")
    _check_overlaps(agencies, fname, topics, places, languages, problems)
    if problems:
        raise MenuError(problems)
    return Agencies(by_code=MappingProxyType(agencies), triage=triage[0], path=str(path))


def _build_agency(code: str, spec: Any, where: str, known: dict[str, set[str]],
                  problems: list[str]) -> Agency | None:
    if not CODE.match(code):
        problems.append(f"{where}: code must be a lowercase word (a-z, 0-9, _), at most 32 characters")
        return None
    if not isinstance(spec, dict):
        problems.append(f"{where}: must be a table")
        return None
    for extra in sorted(set(spec) - AGENCY_KEYS):
        problems.append(f"{where}: unknown setting {extra!r}")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: name is missing")
        name = code
    triage = spec.get("triage", False)
    if not isinstance(triage, bool):
        problems.append(f"{where}: triage must be true or false")
        triage = False
    lists: dict[str, tuple[str, ...]] = {}
    for key, default in (("topics", [] if triage else None), ("places", [ANY]), ("languages", [ANY])):
        lists[key] = _codes(spec.get(key, default), key, where, known[key], problems)
    if not lists["topics"] and not triage:
        problems.append(f"{where}: topics is empty: the agency would never receive a message")
    targets: list[Target] = []
    raw_targets = spec.get("notify", [])
    if not isinstance(raw_targets, list):
        problems.append(f"{where}: notify must be a list of [[agencies.{code}.notify]] tables")
        raw_targets = []
    for n, raw in enumerate(raw_targets, start=1):
        target = _build_target(raw, f"{where}: notify #{n}", problems)
        if target is None:
            continue
        if any(t.channel == target.channel and t.address == target.address for t in targets):
            problems.append(f"{where}: notify #{n}: {target.channel} {target.address} is listed twice")
            continue
        targets.append(target)
    supervisors = spec.get("supervisors", [])
    if not isinstance(supervisors, list) or not all(isinstance(a, str) and EMAIL.match(a.strip()) for a in supervisors):
        problems.append(f"{where}: supervisors must be a list of email addresses")
        supervisors = []
    return Agency(code=code, name=name.strip(), topics=lists["topics"], places=lists["places"],
                  languages=lists["languages"], targets=tuple(targets), triage=triage,
                  supervisors=tuple(dict.fromkeys(a.strip() for a in supervisors)))


def _codes(value: Any, key: str, where: str, known: set[str], problems: list[str]) -> tuple[str, ...]:
    if value is None:
        problems.append(f"{where}: {key} is missing")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: {key} must be a list of codes")
        return ()
    for v in value:
        if v not in known:
            problems.append(f"{where}: {key}: {v!r} is not one of {', '.join(sorted(known))}")
    if ANY in value and len(value) > 1:
        problems.append(f"{where}: {key}: \"*\" already means all; list nothing else beside it")
    return tuple(dict.fromkeys(v for v in value if v in known))


def _build_target(raw: Any, where: str, problems: list[str]) -> Target | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    channels = [c for c in CHANNELS if c in raw]
    if len(channels) != 1:
        problems.append(f"{where}: name exactly one of webhook = URL, email = ADDRESS or open311 = URL")
        return None
    channel = channels[0]
    for secret in sorted({"secret", "api_key", "password", "token"} & set(raw)):
        # A secret in a data file ends up in version control and backups; the file names a variable instead.
        problems.append(f"{where}: {secret!r} must not be written in this file: put it in an environment "
                        f"variable and name it with {'secret_env' if channel == 'webhook' else 'api_key_env'}")
    for extra in sorted(set(raw) - TARGET_KEYS[channel] - {"secret", "api_key", "password", "token"}):
        problems.append(f"{where}: unknown setting {extra!r} for a {channel} target")
    address = raw[channel]
    if not isinstance(address, str) or not address.strip():
        problems.append(f"{where}: {channel} must be text")
        return None
    address = address.strip()
    if channel == "email":
        if not EMAIL.match(address):
            problems.append(f"{where}: {address!r} is not an email address")
        return Target(channel, address)
    _check_url(address, where, problems)
    if channel == "webhook":
        return Target(channel, address, secret_env=_env_name(raw, "secret_env", where, problems))
    for key in ("service_code", "jurisdiction_id", "address_suffix"):
        if not isinstance(raw.get(key, ""), str):
            problems.append(f"{where}: {key} must be text")
    if not raw.get("service_code"):
        problems.append(f"{where}: an open311 target needs service_code (from the endpoint's GET services)")
    attributes = raw.get("attributes", {})
    if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
        problems.append(f"{where}: attributes must be a table of code = \"value\"")
        attributes = {}
    return Target(channel, address.rstrip("/"), api_key_env=_env_name(raw, "api_key_env", where, problems),
                  service_code=str(raw.get("service_code") or ""),
                  jurisdiction_id=str(raw.get("jurisdiction_id") or ""),
                  address_suffix=str(raw.get("address_suffix") or ""),
                  attributes=MappingProxyType(dict(attributes)))


def _check_url(url: str, where: str, problems: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"{where}: {url!r} is not an http(s) URL")
    elif parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        # Transcripts and API keys must not cross a network in clear text: plain http only to this machine.
        problems.append(f"{where}: {url!r} must use https (plain http only for localhost)")


def _env_name(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not ENV_NAME.match(value):
        problems.append(f"{where}: {key} must name an environment variable (UPPER_CASE) that holds the secret")
        return ""
    return value


def _check_overlaps(agencies: dict[str, Agency], fname: str, topics: Collection[str], places: Collection[str],
                    languages: Collection[str], problems: list[str]) -> None:
    """Name every topic, place and language for which two agencies tie: routing would pick one by file order."""
    seen: set[tuple[str, str]] = set()
    regular = [a for a in agencies.values() if not a.triage]
    for topic in topics:
        for place in places:
            for language in languages:
                covering = sorted((a for a in regular if a.covers(topic, place)),
                                  key=lambda a: a.rank(place, language), reverse=True)
                if len(covering) > 1 and covering[0].rank(place, language) == covering[1].rank(place, language):
                    pair = (covering[0].code, covering[1].code)
                    if pair not in seen:
                        seen.add(pair)
                        problems.append(f"{fname}: agency {pair[1]}: covers topic {topic} at {place} in "
                                        f"{language} just as agency {pair[0]} does; name places or languages "
                                        f"so that one of them is more specific")
