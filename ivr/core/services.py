"""The objects one app instance shares: config, database, menus, queue, prompt source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from flask import Flask, current_app

from ivr.core.config import Config
from ivr.core.db import Database
from ivr.core.funnel import FunnelBuffer
from ivr.core.prompts import PromptSource
from ivr.core.queue import JobQueue
from ivr.core.urls import Urls
from menus import Menus


@dataclass
class Services:
    config: Config
    db: Database
    menus: Menus
    queue: JobQueue
    prompts: PromptSource
    urls: Urls
    funnel: FunnelBuffer = field(default_factory=FunnelBuffer)  # this process's unwritten call counts

    def offered_languages(self) -> tuple[str, ...]:
        """Languages the language menu offers, in keypad order: only those a caller hears in full.

        The prompt library keeps this in memory and re-reads a language's audio folders only when
        they changed, so asking on every webhook is cheap and a new recording counts at once.
        """
        return self.prompts.library.offered()

    @cached_property
    def say_voices(self) -> Mapping[str, str]:
        """Each language's Twilio <Say> voice ("" where it has none), from the menus loaded at start."""
        return MappingProxyType({code: lang.twilio_voice for code, lang in self.menus.languages.items()})

    def default_language(self) -> str:
        offered = self.offered_languages()
        return offered[0] if offered else next(iter(self.menus.languages))


def services(app: Flask | None = None) -> Services:
    """Return the Services of the given app, or of the current one."""
    app = app or current_app
    return app.extensions["hotline"]
