"""Choose how each prompt reaches the caller: a recorded file to <Play>, else text to <Say>.

Deciding is a cheap look-up done during a live call; nothing here synthesises audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from menus import Menus

AUDIO_SUFFIXES = (".mp3", ".wav")


@dataclass(frozen=True)
class Play:
    """Play the audio file at this URL."""

    url: str


@dataclass(frozen=True)
class Say:
    """Speak this text with Twilio's voice for `voice` ('' = Twilio's default voice)."""

    text: str
    voice: str


Spoken = Play | Say


class PromptSource:
    """Resolve (language, prompt id) to audio or text, human recordings first."""

    def __init__(self, menus: Menus, base_url: str) -> None:
        self.menus = menus
        self.base_url = base_url
        self.root = Path(menus.root)

    def recorded_file(self, language: str, prompt: str) -> Path | None:
        """Return the human recording for a prompt, if a native speaker supplied one."""
        folder = self.root / "audio" / language
        for suffix in AUDIO_SUFFIXES:
            path = folder / f"{prompt}{suffix}"
            if path.is_file():
                return path
        return None

    def resolve(self, language: str, prompt: str) -> Spoken:
        path = self.recorded_file(language, prompt)
        if path is not None:
            return Play(f"{self.base_url}/prompts/{language}/{path.name}")
        lang = self.menus.languages[language]
        return Say(lang.prompts[prompt], lang.twilio_voice)

    def say_text(self, language: str, text: str) -> Say:
        return Say(text, self.menus.languages[language].twilio_voice)
