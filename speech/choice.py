"""Recognise a spoken menu choice ("three") offline: the choice with a confidence, or none.

Callers who cannot press keys say the number instead. A choice is recognised among only the
words the menu offers, which is far easier than open transcription: English with PocketSphinx's
bundled model (speech/choice_sphinx.py), any language with an installed Vosk model with Vosk's
grammar-restricted recognition (speech/choice_vosk.py), the same order of choice as
transcription (speech/registry.py). A language no model speaks cannot be recognised, and a call
must then never invite the caller to speak (`can_recognise`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .audio import AudioSource
from .choice_audio import prepare_answer
from .choice_sphinx import SphinxChooser
from .choice_vosk import vosk_choose
from .engine import normalise_language
from .errors import NoEngineForLanguage
from .registry import choose_engine, engine_for
from .vosk_engine import VoskEngine

# PocketSphinx's confidence is the best word's softmax share (speech/choice_sphinx.py). Below
# ANSWER_THRESHOLD the answer is "none"; at or above SURE_THRESHOLD a menu acts on it at once;
# between the two it asks the caller to confirm. Both chosen by benchmarks/digits.py --fit on all
# three speakers: the lowest values at which no speaker's wrong digits reach 0.5 % (answers) or 0.2 %
# (acted on at once); its held-out figures say how they carry over (a "no answer" beats a wrong one).
ANSWER_THRESHOLD = 0.495
SURE_THRESHOLD = 0.535
# Vosk's own word confidence (a posterior): not measured here, since no English Vosk model can be
# installed on these machines to compare with the recordings; the values PocketSphinx used before.
VOSK_ANSWER_THRESHOLD = 0.68
VOSK_SURE_THRESHOLD = 0.9

# The words for each key, per language; a key may have several (spellings a model may use).
DIGIT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"0": ("zero",), "1": ("one",), "2": ("two",), "3": ("three",), "4": ("four",),
           "5": ("five",), "6": ("six",), "7": ("seven",), "8": ("eight",), "9": ("nine",)},
    "fr": {"0": ("zéro",), "1": ("un",), "2": ("deux",), "3": ("trois",), "4": ("quatre",),
           "5": ("cinq",), "6": ("six",), "7": ("sept",), "8": ("huit",), "9": ("neuf",)},
    "hi": {"0": ("शून्य",), "1": ("एक",), "2": ("दो",), "3": ("तीन",), "4": ("चार",),
           "5": ("पाँच", "पांच"), "6": ("छह", "छः"), "7": ("सात",), "8": ("आठ",), "9": ("नौ",)},
    "fj": {"0": ("saiva",), "1": ("dua",), "2": ("rua",), "3": ("tolu",), "4": ("va",),
           "5": ("lima",), "6": ("ono",), "7": ("vitu",), "8": ("walu",), "9": ("ciwa",)},
}


@dataclass(frozen=True)
class Choice:
    """What a caller chose by voice: the key it stands for, or None when nothing sure enough was heard."""

    key: str | None
    word: str | None
    confidence: float  # in [0, 1]
    engine: str
    seconds: float

    @property
    def sure(self) -> bool:
        """Tell whether to act on it without asking the caller to confirm."""
        return self.key is not None and self.confidence >= thresholds(self.engine)[1]


_sphinx: SphinxChooser | None = None
_sphinx_lock = threading.Lock()


def sphinx_chooser() -> SphinxChooser:
    """Return the process's one PocketSphinx chooser, loading it on first use (a third of a second)."""
    global _sphinx
    with _sphinx_lock:
        if _sphinx is None:
            _sphinx = SphinxChooser()
        return _sphinx


def thresholds(engine: str) -> tuple[float, float]:
    """Return the (answer, sure) confidence thresholds for an engine's confidences."""
    if engine == SphinxChooser.engine:
        return ANSWER_THRESHOLD, SURE_THRESHOLD
    return VOSK_ANSWER_THRESHOLD, VOSK_SURE_THRESHOLD


def digit_words(language: str) -> dict[str, tuple[str, ...]]:
    """Return the words for the keys 0-9 in a language ("en-gb" uses "en"); empty when unknown."""
    tag = normalise_language(language)
    return DIGIT_WORDS.get(tag) or DIGIT_WORDS.get(tag.split("-", 1)[0], {})


def can_recognise(language: str, vosk_models_dir: Path | None) -> bool:
    """Tell whether some installed model can hear a choice in the language, without loading it."""
    if not digit_words(language):
        return False
    return choose_engine(language, vosk_models_dir).engine in ("vosk", "pocketsphinx")


def recognise_choice(
    audio: AudioSource,
    choices: Mapping[str, Sequence[str]],
    language: str,
    vosk_models_dir: Path | None,
) -> Choice:
    """Recognise which of `choices` (key -> its words) was said in a short recording.

    Raises AudioUnreadable for audio that cannot be decoded, NoEngineForLanguage when no model
    speaks the language, BrokenModel for a broken model folder.
    """
    started = time.perf_counter()
    by_word = {word.lower(): key for key, words in choices.items() for word in words}
    # PocketSphinx's transcription decoder is not needed for English: only Vosk's model is shared.
    chosen = choose_engine(language, vosk_models_dir).engine
    engine = engine_for(language, vosk_models_dir) if chosen != "pocketsphinx" else None
    if engine is None and chosen != "pocketsphinx":
        raise NoEngineForLanguage(language)
    word: str | None
    if isinstance(engine, VoskEngine):
        name = engine.name
        pcm = prepare_answer(audio, engine.sample_rate)
        word, confidence = (None, 0.0) if pcm.silent else vosk_choose(engine, pcm, list(by_word))
    else:
        chooser = sphinx_chooser()
        name = chooser.engine
        pcm = prepare_answer(audio, chooser.sample_rate)
        known = [w for w in by_word if chooser.known(w)]
        word, confidence = (None, 0.0) if pcm.silent else chooser.choose(pcm, known)
    confidence = round(min(max(confidence, 0.0), 1.0), 4)
    if word is None or confidence < thresholds(name)[0]:
        word = None
    return Choice(
        key=by_word[word] if word is not None else None,
        word=word,
        confidence=confidence,
        engine=name,
        seconds=round(time.perf_counter() - started, 3),
    )
