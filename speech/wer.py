"""Score a transcript against what was really said: word error rate, the usual ASR measure.

Used by the tests and benchmarks on the dev recordings, so a change of engine or model is judged
by numbers rather than by reading a few transcripts.
"""

from __future__ import annotations

import unicodedata


def _word_char(char: str) -> bool:
    # Letters, digits and combining marks: Devanagari vowel signs are marks, not punctuation.
    return char == "'" or unicodedata.category(char)[0] in "LNM"


def normalise_words(text: str) -> list[str]:
    """Split text into lower-case words, ignoring punctuation and case ("Don't!" -> ["don't"]).

    Hyphens split words ("fifty-two" -> "fifty", "two") and curly apostrophes count as straight
    ones, so a published reference and an engine's output compare on the words alone.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    words = "".join(c if _word_char(c) else " " for c in text).split()
    return [w.strip("'") for w in words if w.strip("'")]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Return (substitutions + deletions + insertions, number of reference words)."""
    ref = normalise_words(reference)
    hyp = normalise_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (ref_word != hyp_word),  # substitution or match
            )
        previous = current
    return previous[len(hyp)], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Return the word error rate: edits needed divided by reference words (can exceed 1).

    An empty reference scores 0.0 against an empty hypothesis and 1.0 against anything else.
    """
    errors, words = word_errors(reference, hypothesis)
    if words == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / words
