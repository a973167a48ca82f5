"""The objects one app instance shares: config, database, menus, queue, prompt source."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from menus import Menus

from .config import Config
from .db import Database
from .prompts import PromptSource
from .queue import JobQueue
from .twiml import Urls


@dataclass
class Services:
    config: Config
    db: Database
    menus: Menus
    queue: JobQueue
    prompts: PromptSource
    urls: Urls

    def offered_languages(self) -> tuple[str, ...]:
        """Languages the language menu offers, in keypad order."""
        langs = sorted(self.menus.languages.values(), key=lambda lang: lang.key)
        return tuple(lang.code for lang in langs)

    def default_language(self) -> str:
        offered = self.offered_languages()
        return offered[0] if offered else next(iter(self.menus.languages))


def services(app: Flask | None = None) -> Services:
    """Return the Services of the given app, or of the current one."""
    app = app or current_app
    return app.extensions["hotline"]
