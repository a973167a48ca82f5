"""The one small interface every speech recogniser sits behind, and what it returns.

The worker only ever sees `Engine.transcribe(audio, language) -> Transcript`, so Vosk and
PocketSphinx (or a future engine) can be swapped per language without touching job code.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from .audio import SOXR, AudioSource, Pcm, read_pcm16
from .confidence import message_confidence
from .doubts import transcript_doubts
from .errors import NoEngineForLanguage

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Word:
    """One recognised word: its confidence in [0, 1] and where it lies in the audio, in seconds."""

    word: str
    confidence: float
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """What an engine heard in one recording, with enough detail to judge how far to trust it."""

    text: str
    words: tuple[Word, ...]
    engine: str
    model: str
    language: str
    duration: float
    seconds: float
    # Why to check it by ear whatever its confidence, e.g. words in another script than the language's.
    doubts: tuple[str, ...] = ()
    # The message's calibrated confidence, 0-1 (speech/confidence.py); None when nothing was heard.
    confidence: float | None = None

    @property
    def mean_confidence(self) -> float | None:
        """Return the mean word confidence, or None when nothing was recognised."""
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON (words as a list of dicts)."""
        data = asdict(self)
        data["words"] = [asdict(w) for w in self.words]
        return data


def normalise_language(code: str) -> str:
    """Lower-case a language tag and use '-' between subtags ("en_US" -> "en-us")."""
    return code.strip().lower().replace("_", "-")


def is_language_code(code: str) -> bool:
    """Tell whether a string looks like a language tag such as "fj" or "en-us"."""
    return bool(_LANGUAGE.match(code))


def language_candidates(code: str) -> list[str]:
    """List the tags to try for a request, most specific first ("en-us" -> ["en-us", "en"])."""
    tag = normalise_language(code)
    primary = tag.split("-", 1)[0]
    return [tag] if primary == tag else [tag, primary]


def is_filler(token: str) -> bool:
    """Tell whether a token is a recogniser's marker (<s>, <sil>, [NOISE], [unk], ++UH++), not a word."""
    return not token or token[0] in "<[+"


def clip_words(words: Iterable[Word], duration: float) -> tuple[Word, ...]:
    """Keep word times inside the audio and confidences in [0, 1].

    Engines round frame times and posteriors (PocketSphinx reports 1.0001), and callers rely on
    these bounds, so they are enforced once here.
    """
    out = []
    for w in words:
        start = min(max(w.start, 0.0), duration)
        end = min(max(w.end, start), duration)
        confidence = min(max(w.confidence, 0.0), 1.0)
        out.append(Word(w.word, round(confidence, 4), round(start, 3), round(end, 3)))
    return tuple(out)


class Engine(ABC):
    """A speech recogniser for one or more languages, loaded once and shared by every job."""

    name: ClassVar[str]
    model: str
    languages: frozenset[str]
    sample_rate: int
    # Found when the model was loaded and repeated on each of its transcripts (speech/language_check.py).
    doubts: tuple[str, ...] = ()
    resampler: ClassVar[str] = SOXR  # how 8 kHz calls reach sample_rate (speech/audio.py RESAMPLERS)

    def speaks(self, language: str) -> bool:
        """Tell whether this engine transcribes the language (a region is allowed: "en-gb")."""
        return any(tag in self.languages for tag in language_candidates(language))

    def transcribe(self, audio: AudioSource, language: str) -> Transcript:
        """Transcribe a recording (path or bytes) spoken in `language`.

        Raises AudioUnreadable for audio that cannot be decoded and NoEngineForLanguage when
        asked for a language this engine's model does not speak.
        """
        started = time.perf_counter()
        tag = normalise_language(language)
        if not self.speaks(tag):
            raise NoEngineForLanguage(language)
        pcm = read_pcm16(audio, self.sample_rate, self.resampler)
        words = () if pcm.silent else clip_words(self.recognise(pcm), pcm.duration)
        return Transcript(
            text=" ".join(w.word for w in words),
            words=words,
            engine=self.name,
            model=self.model,
            language=tag,
            duration=round(pcm.duration, 3),
            seconds=round(time.perf_counter() - started, 3),
            doubts=self.doubts + transcript_doubts((w.word for w in words), tag),
            confidence=message_confidence(self.name, words, pcm.duration),
        )

    @abstractmethod
    def recognise(self, pcm: Pcm) -> list[Word]:
        """Return the words heard in 16-bit mono PCM at `self.sample_rate`, fillers dropped."""
