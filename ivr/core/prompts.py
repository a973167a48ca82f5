"""Choose how each prompt reaches the caller: a human recording, a synthesised file, <Say>, or nothing.

Deciding is a cheap look-up done during a live call; nothing here synthesises audio. A prompt found
without audio is queued for rendering in the background (once per process and prompt text), and the
caller hears Twilio's <Say> meanwhile, but only in a language Twilio has a voice for: Twilio's
English voice reading Fijian words would be worse than the language not being offered at all.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass

from ivr.core.prompt_audio import PromptLibrary, can_synthesise
from ivr.core.queue import JobQueue
from menus import Menus
from speech.tts_cache import normalise_text

log = logging.getLogger(__name__)

RENDER_JOB = "worker.prompts.render_prompt"


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

    def __init__(self, menus: Menus, base_url: str, library: PromptLibrary | None = None,
                 queue: JobQueue | None = None) -> None:
        self.menus = menus
        self.base_url = base_url
        self.library = library or PromptLibrary(menus, recordings_dir=None, cache_dir=None)
        self.queue = queue
        self._queued: set[str] = set()
        self._lock = threading.Lock()

    def resolve(self, language: str, prompt: str) -> Spoken | None:
        """Return what the caller hears for a prompt; None when the language cannot speak it at all."""
        audio = self.library.find(language, prompt)
        if audio is not None:
            return Play(f"{self.base_url}/prompts/{language}/{audio.filename}?v={audio.version}")
        self._queue_rendering(language, prompt)
        lang = self.menus.languages[language]
        if lang.twilio_voice and prompt in lang.prompts:
            return Say(lang.prompts[prompt], lang.twilio_voice)
        return None

    def say_text(self, language: str, text: str) -> Say:
        return Say(text, self.menus.languages[language].twilio_voice)

    def _queue_rendering(self, language: str, prompt: str) -> None:
        """Ask a worker to render the prompt, at most once per process for each text of it."""
        text = self.menus.languages[language].prompts.get(prompt, "")
        if self.queue is None or not text or not can_synthesise(language):
            return
        digest = hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:12]
        job_id = f"prompt-{language}-{prompt}-{digest}"
        with self._lock:
            if job_id in self._queued:
                return
            # Remembered before enqueueing: a Redis outage must not cost every later call step a timeout.
            self._queued.add(job_id)
        self.queue.enqueue(RENDER_JOB, language, prompt, job_id=job_id)
        log.info("prompt %s (%s) has no audio: queued %s", prompt, language, job_id)
