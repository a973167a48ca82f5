"""The checked, frozen shape of the call flow and its prompts.

The loader builds these from flow.toml and prompts/<lang>.toml; nothing else constructs them, so
every Menus object in the running hotline has passed validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

NODE_TYPES = ("language", "menu", "choice", "record", "reference", "say")
ACTIONS = (
    "consent_agency",
    "consent_anonymous",
    "consent_radio",
    "keep_message",
    "discard_recording",
    "play_recording",
    "play_bulletin",  # main menu key 3: the latest published radio bulletin in the caller's language
    "request_callback",  # main menu key 8: the hotline calls the caller back (free for them)
    "open_poll",  # main menu key 4: the open keypad poll (offered only while one is open)
    "vote",  # a key at the poll node: one vote for that option
    "withdraw_report",  # main menu 5 (issue 13): withdraw the report keyed at the node before
    "withdraw_radio",  # ... or only take it off the radio
)
# Prompts the hotline speaks outside any one node (errors, numbers, statuses): every language needs them.
SYSTEM_PROMPTS = (
    "language_option",
    "invalid_choice",
    "no_input",
    "nothing_recorded",
    "your_recording_is",
    "reference_unknown",
    "answer_intro",
    "status_received",
    "status_in_progress",
    "status_answered",
    "status_closed",
    "transferring",
    "technical_problem",
    "bulletin_intro",
    "no_announcements",
    "callback_offer",
    "callback_unavailable",
    "callback_greeting",
    "outbound_greeting",
    "outbound_menu",
    "poll_offer",
    "poll_needs_number",
    "poll_already_voted",
    "poll_closed",
    "say_the_number",  # spoken choices (issue 18): the invitation after a silence, and the confirmation
    "you_said",
    "confirm_choice",
    "say_yes_now",
    "withdraw_anonymous",  # withdrawal (issue 13): said instead of the withdraw menu
    "withdraw_not_yours",
    "withdraw_already",
    "withdraw_no_radio",
    *(f"digit_{d}" for d in range(10)),
)
NUMBER_FIELDS = ("$reference",)


@dataclass(frozen=True)
class Option:
    """What one key does at a menu node."""

    go: str
    action: str | None = None


@dataclass(frozen=True)
class Node:
    """One step of the call flow."""

    name: str
    type: str
    prompt: str | None = None
    prompts: tuple[str, ...] = ()
    options: Mapping[str, Option] = field(default_factory=lambda: MappingProxyType({}))
    field_name: str | None = None
    choices: str | None = None
    next: str | None = None
    hangup: bool = False
    timeout: int = 6
    retries: int = 2

    def prompt_ids(self) -> tuple[str, ...]:
        """Name every prompt this node speaks (numbers excluded)."""
        ids = ((self.prompt,) if self.prompt else ()) + self.prompts
        return tuple(p for p in ids if not p.startswith("$"))


@dataclass(frozen=True)
class Flow:
    """The whole call flow: nodes, entry points, and the keypad tables."""

    nodes: Mapping[str, Node]
    start: str
    returning_start: str
    too_many_tries: str
    tables: Mapping[str, Mapping[str, str]]

    def node(self, name: str) -> Node:
        return self.nodes[name]


@dataclass(frozen=True)
class Language:
    """One language's prompt file: identity, keypad key and every prompt's text."""

    code: str
    name: str
    key: str
    twilio_voice: str
    reviewed: bool
    prompts: Mapping[str, str]
    path: str


@dataclass(frozen=True)
class Menus:
    """A validated flow plus its languages, keyed by language code."""

    flow: Flow
    languages: Mapping[str, Language]
    root: str

    def required_prompts(self) -> tuple[str, ...]:
        """List every prompt id a language must have to be fully spoken."""
        ids: list[str] = list(SYSTEM_PROMPTS)
        for node in self.flow.nodes.values():
            ids.extend(node.prompt_ids())
        for table, rows in self.flow.tables.items():
            prefix = {"topics": "topic_", "places": "place_"}.get(table, f"{table}_")
            ids.extend(prefix + code for code in rows.values())
        return tuple(dict.fromkeys(ids))

    def language_by_key(self, key: str) -> Language | None:
        return next((lang for lang in self.languages.values() if lang.key == key), None)

    def text(self, language: str, prompt: str) -> str:
        return self.languages[language].prompts[prompt]
