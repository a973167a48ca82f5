"""Speak prompt text offline with the espeak-ng program, the fallback when gTTS cannot answer.

espeak-ng 1.51 (Debian package `espeak-ng`) has voices for English, French and Hindi but none for
Fijian (`espeak-ng --voices` lists no `fj`), so Fijian prompts need human recordings.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from speech.telephone_audio import MIN_SPEECH_SECONDS, Pcm, UndecodableAudio, decode
from speech.tts_errors import (
    EmptyText,
    EngineFailed,
    EspeakNotInstalled,
    NoVoiceForLanguage,
    TextTooLong,
    UnreadableScript,
)

DEBIAN_PACKAGE = "espeak-ng"
MAX_CHARS = 1000

# Our language code → espeak-ng voice name (`espeak-ng --voices=<name>` lists each).
ESPEAK_VOICES: Mapping[str, str] = MappingProxyType({"en": "en", "fr": "fr", "hi": "hi"})

# Unicode scripts each voice reads; Hindi prompts may carry Latin words such as "SMS".
READABLE_SCRIPTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"en": ("LATIN",), "fr": ("LATIN",), "hi": ("DEVANAGARI", "LATIN")}
)


def letters_outside(text: str, scripts: tuple[str, ...]) -> list[str]:
    """Return the letters of `text` that belong to none of `scripts` (Unicode script name prefixes).

    Only letters count: digits, punctuation and combining marks are read in any script.
    """
    return [
        char
        for char in text
        if unicodedata.category(char).startswith("L") and not unicodedata.name(char, "").startswith(scripts)
    ]


def describe_letters(letters: list[str]) -> str:
    """Name a few offending letters and their scripts for an error message."""
    unique = list(dict.fromkeys(letters))[:5]
    return ", ".join(f"{char!r} ({unicodedata.name(char, 'unknown').split()[0]})" for char in unique)


@dataclass(frozen=True)
class EspeakVoice:
    """Render text with espeak-ng, reading the text from stdin and writing a WAV file.

    The text goes through stdin, never the command line or a shell, so text that starts with "-" or
    holds quotes is spoken rather than parsed.
    """

    engine: ClassVar[str] = "espeak-ng"

    executable: str = "espeak-ng"
    voices: Mapping[str, str] = field(default_factory=lambda: ESPEAK_VOICES)
    max_chars: int = MAX_CHARS
    timeout_s: float = 30.0

    def voice_for(self, language: str) -> str | None:
        """Return the espeak-ng voice name for our language code, or None when there is none."""
        return self.voices.get(language)

    def synthesize(self, text: str, language: str, *, prompt_id: str | None = None) -> Pcm:
        """Speak `text` in `language` and return the decoded speech.

        Raises our errors for a missing voice, bad text, a missing program, a failed run, and a
        rendering without speech (espeak-ng exits 0 with silence for text such as "...").
        """
        voice = self.voice_for(language)
        if voice is None:
            raise NoVoiceForLanguage(language, prompt_id=prompt_id, engines=(self.engine,))
        spoken = self._checked_text(text, language, voice, prompt_id)
        program = shutil.which(self.executable)
        if program is None:
            raise EspeakNotInstalled(
                f"{self.executable} is not installed; install the Debian package {DEBIAN_PACKAGE} "
                f"(apt-get install {DEBIAN_PACKAGE})",
                language=language,
                prompt_id=prompt_id,
            )
        with tempfile.TemporaryDirectory(prefix="espeak-") as workdir:
            out = Path(workdir) / "speech.wav"
            command = [program, "-v", voice, "-b", "1", "-w", str(out), "--stdin"]
            try:
                # Argument list, no shell, text on stdin: prompt text cannot become a command or option.
                result = subprocess.run(  # noqa: S603
                    command, input=spoken.encode("utf-8"), capture_output=True, timeout=self.timeout_s
                )
            except subprocess.TimeoutExpired as error:
                raise EngineFailed(
                    f"espeak-ng did not finish within {self.timeout_s} s",
                    language=language,
                    prompt_id=prompt_id,
                ) from error
            if result.returncode != 0:
                stderr = result.stderr.decode("utf-8", "replace").strip() or "no message"
                raise EngineFailed(
                    f"espeak-ng exited with status {result.returncode}: {stderr}",
                    language=language,
                    prompt_id=prompt_id,
                )
            try:
                pcm = decode(out)
            except UndecodableAudio as error:
                raise EngineFailed(
                    f"espeak-ng wrote no readable audio: {error}", language=language, prompt_id=prompt_id
                ) from error
        if pcm.sounding_s < MIN_SPEECH_SECONDS:
            raise EngineFailed(
                f"espeak-ng voice {voice!r} produced {pcm.duration_s:.3f} s of audio and no speech",
                language=language,
                prompt_id=prompt_id,
            )
        return pcm

    def _checked_text(self, text: str, language: str, voice: str, prompt_id: str | None) -> str:
        """Return the trimmed text, or raise when it is empty, too long or in a foreign script."""
        spoken = text.strip()
        if not spoken:
            raise EmptyText("prompt text is empty", language=language, prompt_id=prompt_id)
        if len(spoken) > self.max_chars:
            raise TextTooLong(
                f"prompt text has {len(spoken)} characters, more than the {self.max_chars} allowed",
                language=language,
                prompt_id=prompt_id,
            )
        scripts = READABLE_SCRIPTS.get(language)
        foreign = letters_outside(spoken, scripts) if scripts else []
        if foreign:
            raise UnreadableScript(
                f"espeak-ng voice {voice!r} cannot read {describe_letters(foreign)}",
                language=language,
                prompt_id=prompt_id,
            )
        return spoken
