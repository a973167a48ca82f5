"""Refuse to install a model whose words are written in another script than its declared language.

Why: the `language` file is typed by a person, and a model answers in its own language whatever it
hears, with confidences as high as on its own speech (measured: the Korean model on English
recordings). A Korean model filed as `fj` would make every Fijian message a confident Korean
transcript. The words a model can output (speech/vocabulary.py) show its script without any audio.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelInstallError
from .scripts import expected_script, main_script, share_in_script
from .vocabulary import VocabularyUnreadable, iter_vocabulary, spoken_words

SAMPLE_WORDS = 20_000  # enough to tell a script by; the whole table of a big model takes seconds
MIN_SCRIPT_SHARE = 0.5  # Korean's vocabulary is 96 % Hangul by letters, with some Latin acronyms


class WrongLanguageModel(ModelInstallError):
    """The model's words are in another script than the language it was filed under."""


def vocabulary_sample(folder: Path) -> list[str] | None:
    """Return up to SAMPLE_WORDS of the model's words, spread over its vocabulary; None if unreadable."""
    try:
        words = iter_vocabulary(folder)
    except (VocabularyUnreadable, OSError):
        return None
    if words is None:
        return None
    every = spoken_words(words)
    return every[:: max(1, len(every) // SAMPLE_WORDS)]


def check_language(folder: Path, language: str | None) -> None:
    """Raise WrongLanguageModel when the model's words are mostly in another script than its language's."""
    if language is None or expected_script(language) is None:
        return
    sample = vocabulary_sample(folder)
    share = share_in_script(sample, language) if sample else None
    if share is None or share >= MIN_SCRIPT_SHARE:
        return
    script, found = main_script(sample or [])
    raise WrongLanguageModel(
        f"{folder.name} is filed as language {language!r}, written in {expected_script(language)} "
        f"script, but {found:.0%} of the letters in its words are {script}: it is a model of another "
        "language (fix the `language` file or the folder name)")
