"""Tell which writing system a word is in, and whether it is the one a language is written in.

Why: a Vosk model always answers in its own language, confidently. Installed under the wrong
`language` file (the Korean model labelled `fj`), it turns English or Hindi speech into Hangul text
with confidences as high as on Korean speech, so confidence alone cannot catch it; the script of the
words can, for every language whose script we know.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

LATIN, DEVANAGARI, HANGUL, HAN, KANA, CYRILLIC, ARABIC, GREEK, THAI = (
    "Latin", "Devanagari", "Hangul", "Han", "Kana", "Cyrillic", "Arabic", "Greek", "Thai")

# The script each language's transcripts are written in: the hotline's own languages and Vosk's models.
SCRIPT_OF_LANGUAGE = {
    **dict.fromkeys(("en", "fr", "fj", "de", "es", "it", "pt", "nl", "ca", "tr", "vi", "pl", "cs", "eo", "tl",
                     "uz", "br", "sm", "to", "mi"), LATIN),
    **dict.fromkeys(("hi", "mr", "ne"), DEVANAGARI),
    **dict.fromkeys(("ru", "uk", "kk", "ky", "tg"), CYRILLIC),
    **dict.fromkeys(("ar", "fa"), ARABIC),
    "ko": HANGUL, "zh": HAN, "ja": KANA, "el": GREEK, "th": THAI,
}
# Japanese transcripts mix kana with kanji: either counts as written in Japanese.
_ALSO = {KANA: {HAN}}
_PREFIXES = (("LATIN", LATIN), ("DEVANAGARI", DEVANAGARI), ("HANGUL", HANGUL), ("CJK", HAN), ("HIRAGANA", KANA),
             ("KATAKANA", KANA), ("CYRILLIC", CYRILLIC), ("ARABIC", ARABIC), ("GREEK", GREEK), ("THAI", THAI))


def script_of(char: str) -> str | None:
    """Return the script of one letter ("Latin", "Hangul" ...), or None for digits, marks and symbols."""
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    for prefix, script in _PREFIXES:
        if name.startswith(prefix):
            return script
    return "other"


def script_counts(texts: Iterable[str]) -> Counter[str]:
    """Count the letters of each script in some words."""
    counts: Counter[str] = Counter()
    for text in texts:
        for char in text:
            script = script_of(char)
            if script is not None:
                counts[script] += 1
    return counts


def expected_script(language: str) -> str | None:
    """Return the script a language is written in ("fj" -> "Latin"), or None when we do not know it."""
    return SCRIPT_OF_LANGUAGE.get(language.split("-", 1)[0])


def share_in_script(texts: Iterable[str], language: str) -> float | None:
    """Return the share of letters written in the language's script, or None (no letters, unknown script)."""
    script = expected_script(language)
    counts = script_counts(texts)
    total = sum(counts.values())
    if script is None or total == 0:
        return None
    allowed = {script} | _ALSO.get(script, set())
    return sum(n for s, n in counts.items() if s in allowed) / total


def main_script(texts: Iterable[str]) -> tuple[str | None, float]:
    """Return the script most letters are in and its share of them: (None, 0.0) with no letters."""
    counts = script_counts(texts)
    total = sum(counts.values())
    if not total:
        return None, 0.0
    script, n = counts.most_common(1)[0]
    return script, n / total
