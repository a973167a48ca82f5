"""Render menu prompts to audio files Twilio plays: gTTS when it answers, else espeak-ng, cached on disk.

Rendering happens ahead of calls (a CLI renders every prompt of every language). During a call the
app only asks `find_cached`, which never synthesises: a caller must never wait on a TTS engine.

    prompt = render("Press 1 for English.", "en", cache_dir=Path("instance/prompts"))
    prompt.path, prompt.engine, prompt.duration_s   # 8 kHz 16-bit mono WAV, "gtts" or "espeak-ng"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Protocol

from speech import tts_cache
from speech.espeak_voice import EspeakVoice, describe_letters, letters_outside
from speech.gtts_voice import GttsVoice
from speech.telephone_audio import Pcm, to_telephone
from speech.tts_cache import RenderedPrompt, normalise_text
from speech.tts_errors import (
    AllVoicesFailed,
    EmptyText,
    EngineFailed,
    EngineUnavailable,
    NotPlayable,
    NoVoiceForLanguage,
    TextTooLong,
    TTSError,
    UnreadableScript,
)

__all__ = [
    "DEFAULT_VOICES",
    "PROMPT_MAX_CHARS",
    "PromptText",
    "RenderOutcome",
    "RenderedPrompt",
    "Voice",
    "check_prompt_text",
    "find_cached",
    "render",
    "render_many",
    "voices_for",
]

PROMPT_MAX_CHARS = 1000  # a phone prompt is seconds long; 1000 characters is already over a minute

# The scripts each language's prompts are written in. Checked before any engine runs, so a prompt
# that gTTS would speak today is one espeak-ng can still speak when the network is down.
PROMPT_SCRIPTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"en": ("LATIN",), "fr": ("LATIN",), "hi": ("DEVANAGARI", "LATIN"), "fj": ("LATIN",)}
)


class Voice(Protocol):
    """Speak text in one engine; GttsVoice and EspeakVoice are the two we have."""

    @property
    def engine(self) -> str:
        """Name the engine ("gtts", "espeak-ng"); part of every cache key."""
        ...

    def voice_for(self, language: str) -> str | None:
        """Return this engine's voice label for our language code, or None."""
        ...

    def synthesize(self, text: str, language: str, *, prompt_id: str | None = None) -> Pcm:
        """Return the spoken text, or raise a TTSError."""
        ...


DEFAULT_VOICES: tuple[Voice, ...] = (GttsVoice(), EspeakVoice())


@dataclass(frozen=True)
class PromptText:
    """Name one prompt to render: its text, our language code, and an id used in messages."""

    text: str
    language: str
    prompt_id: str | None = None


@dataclass(frozen=True)
class RenderOutcome:
    """Report what `render_many` did with one prompt: rendered, found cached, or failed and why."""

    item: PromptText
    status: Literal["rendered", "cached", "failed"]
    prompt: RenderedPrompt | None = None
    reason: str | None = None


def voices_for(language: str, voices: Sequence[Voice] = DEFAULT_VOICES) -> list[str]:
    """List the voices that speak a language as `engine:voice`, most preferred first.

    An empty list means the language cannot be offered without human recordings.
    """
    return [f"{voice.engine}:{label}" for voice, label in _candidates(language, voices)]


def check_prompt_text(
    text: str, language: str, *, prompt_id: str | None = None, max_chars: int = PROMPT_MAX_CHARS
) -> str:
    """Return the text as it will be spoken, or raise EmptyText, TextTooLong or UnreadableScript."""
    spoken = normalise_text(text)
    if not spoken:
        raise EmptyText("prompt text is empty", language=language, prompt_id=prompt_id)
    if not any(char.isalnum() for char in spoken):
        raise EmptyText(
            f"prompt text {spoken!r} has nothing to speak (no letters or digits)",
            language=language,
            prompt_id=prompt_id,
        )
    if len(spoken) > max_chars:
        raise TextTooLong(
            f"prompt text has {len(spoken)} characters, more than the {max_chars} allowed",
            language=language,
            prompt_id=prompt_id,
        )
    scripts = PROMPT_SCRIPTS.get(language)
    foreign = letters_outside(spoken, scripts) if scripts else []
    if foreign:
        raise UnreadableScript(
            f"prompt text holds letters outside the {'/'.join(scripts or ())} script: {describe_letters(foreign)}",
            language=language,
            prompt_id=prompt_id,
        )
    return spoken


def find_cached(
    text: str, language: str, *, cache_dir: Path, voices: Sequence[Voice] = DEFAULT_VOICES
) -> RenderedPrompt | None:
    """Return the cached rendering of this text, preferring the first voice's, or None. Never renders.

    This is the only TTS call the live call path makes.
    """
    for voice, label in _candidates(language, voices):
        key = tts_cache.cache_key(text, language, voice.engine, label)
        found = tts_cache.lookup(cache_dir, language, key)
        if found is not None:
            return found
    return None


def render(
    text: str,
    language: str,
    *,
    cache_dir: Path,
    voices: Sequence[Voice] = DEFAULT_VOICES,
    prompt_id: str | None = None,
    force: bool = False,
    max_chars: int = PROMPT_MAX_CHARS,
) -> RenderedPrompt:
    """Return the prompt's audio, from the cache or rendered by the first voice that succeeds.

    A cached rendering by any of the voices is returned as is; `force=True` renders again (e.g.
    to replace an espeak-ng fallback with gTTS once the network is back).
    """
    prompt, _ = _render(PromptText(text, language, prompt_id), cache_dir, voices, force=force, max_chars=max_chars)
    return prompt


def render_many(
    items: Iterable[PromptText],
    *,
    cache_dir: Path,
    voices: Sequence[Voice] = DEFAULT_VOICES,
    force: bool = False,
    max_chars: int = PROMPT_MAX_CHARS,
    on_progress: Callable[[RenderOutcome], None] | None = None,
) -> list[RenderOutcome]:
    """Render many prompts, reporting each outcome to `on_progress` as soon as it is known.

    A failed prompt does not stop the batch; its reason is in its outcome. An engine that is
    unreachable once (no network) is skipped for the rest of the batch, so a hundred prompts do not
    each wait for the same timeout.
    """
    unavailable: set[str] = set()
    outcomes = []
    for item in items:
        try:
            prompt, cached = _render(item, cache_dir, voices, force=force, max_chars=max_chars, unavailable=unavailable)
            outcome = RenderOutcome(item, "cached" if cached else "rendered", prompt=prompt)
        except TTSError as error:
            outcome = RenderOutcome(item, "failed", reason=str(error))
        outcomes.append(outcome)
        if on_progress is not None:
            on_progress(outcome)
    return outcomes


def _candidates(language: str, voices: Sequence[Voice]) -> list[tuple[Voice, str]]:
    """Return (voice, label) for each voice that speaks the language, in preference order."""
    found = []
    for voice in voices:
        label = voice.voice_for(language)
        if label is not None:
            found.append((voice, label))
    return found


def _render(
    item: PromptText,
    cache_dir: Path,
    voices: Sequence[Voice],
    *,
    force: bool,
    max_chars: int,
    unavailable: set[str] | None = None,
) -> tuple[RenderedPrompt, bool]:
    """Return the rendering and whether it came from the cache; see `render`."""
    language, prompt_id = item.language, item.prompt_id
    candidates = _candidates(language, voices)
    if not candidates:
        raise NoVoiceForLanguage(language, prompt_id=prompt_id, engines=tuple(v.engine for v in voices))
    spoken = check_prompt_text(item.text, language, prompt_id=prompt_id, max_chars=max_chars)
    if not force:
        cached = find_cached(spoken, language, cache_dir=cache_dir, voices=voices)
        if cached is not None:
            return cached, True
    skipped = unavailable if unavailable is not None else set()
    reasons: dict[str, TTSError] = {}
    for voice, label in candidates:
        if voice.engine in skipped:
            reasons[voice.engine] = EngineUnavailable(
                "skipped: unavailable earlier in this batch", language=language, prompt_id=prompt_id
            )
            continue
        try:
            pcm = voice.synthesize(spoken, language, prompt_id=prompt_id)
            prompt = tts_cache.store(
                cache_dir,
                to_telephone(pcm),
                text=spoken,
                language=language,
                engine=voice.engine,
                voice=label,
                prompt_id=prompt_id,
            )
        except EngineUnavailable as error:
            skipped.add(voice.engine)
            reasons[voice.engine] = error
        except (EngineFailed, NotPlayable) as error:
            reasons[voice.engine] = error
        else:
            return prompt, False
    raise AllVoicesFailed(reasons, language=language, prompt_id=prompt_id)
