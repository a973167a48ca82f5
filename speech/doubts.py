"""Say why a transcript should be checked by ear even when its words look confident.

Why: a model of the wrong language (the Korean model filed as `fj`) turns any speech into its own
language with confidences like those on its own speech, so mean confidence does not catch it. The
script of the words does: measured on /work/shared/audio/dev (English, 8 kHz) through the Korean
model, 100 % of the letters came out Hangul; a transcript in the language's own script keeps most
of its letters there. A transcript with no letters, or in a language whose script we do not know,
raises no doubt here.
"""

from __future__ import annotations

from collections.abc import Iterable

from .scripts import expected_script, main_script, share_in_script

MIN_SCRIPT_SHARE = 0.5


def transcript_doubts(words: Iterable[str], language: str) -> tuple[str, ...]:
    """Return the reasons to doubt a transcript of `language`, empty when there are none."""
    texts = list(words)
    share = share_in_script(texts, language)
    if share is None or share >= MIN_SCRIPT_SHARE:
        return ()
    script, found = main_script(texts)
    return (f"wrong script: {found:.0%} of the letters are {script}, not the {expected_script(language)} "
            f"of {language!r}; is the model of another language?",)
