"""word_error_rate: the measure the recognition tests and benchmarks rely on."""

from __future__ import annotations

import pytest

from speech.wer import normalise_words, word_error_rate, word_errors


def test_case_and_punctuation_do_not_count() -> None:
    reference = "The birch canoe slid on the smooth planks."
    assert word_error_rate(reference, "the birch canoe slid on the smooth planks") == 0.0
    assert normalise_words("It's easy — isn’t it? Fifty-two!") == ["it's", "easy", "isn't", "it", "fifty", "two"]


@pytest.mark.parametrize(
    ("reference", "hypothesis", "errors"),
    [
        ("a b c d", "a b c d", 0),
        ("a b c d", "a x c d", 1),  # substitution
        ("a b c d", "a c d", 1),  # deletion
        ("a b c d", "a b b c d", 1),  # insertion
        ("a b c d", "", 4),
        ("a b", "c d e f", 4),  # more errors than words: WER above 1
    ],
)
def test_counts_edits(reference: str, hypothesis: str, errors: int) -> None:
    assert word_errors(reference, hypothesis) == (errors, len(reference.split()))
    assert word_error_rate(reference, hypothesis) == errors / len(reference.split())


def test_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("...", "something") == 1.0


def test_other_scripts_are_words_too() -> None:
    assert normalise_words("Bula vinaka! नमस्ते दुनिया") == ["bula", "vinaka", "नमस्ते", "दुनिया"]
