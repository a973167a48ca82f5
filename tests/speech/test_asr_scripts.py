"""Scripts of words and model vocabularies: what the wrong-language checks stand on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from speech.doubts import transcript_doubts
from speech.scripts import expected_script, main_script, script_of, share_in_script
from speech.vocabulary import VocabularyUnreadable, iter_vocabulary, unknown_words

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import MakeModel


def test_scripts_of_letters() -> None:
    assert [script_of(c) for c in "a학नя字カ1-"] == ["Latin", "Hangul", "Devanagari", "Cyrillic", "Han", "Kana",
                                                     None, None]
    assert expected_script("en-GB".lower()) == "Latin" and expected_script("xx") is None


def test_share_in_the_languages_script() -> None:
    assert share_in_script(["bula", "vinaka"], "fj") == 1.0
    assert share_in_script(["학교", "TV"], "fj") == pytest.approx(2 / 4)
    assert share_in_script(["東京", "です"], "ja") == 1.0  # kanji count as Japanese
    assert share_in_script(["123"], "fj") is None and share_in_script(["bula"], "xx") is None
    assert main_script(["학교", "병원", "TV"]) == ("Hangul", pytest.approx(4 / 6))


def test_transcript_doubts() -> None:
    assert transcript_doubts(["bula", "vinaka"], "fj") == ()
    (doubt,) = transcript_doubts(["이윤열", "느리", "해킹"], "fj")
    assert "100% of the letters are Hangul, not the Latin of 'fj'" in doubt
    assert transcript_doubts([], "fj") == () and transcript_doubts(["학교"], "xx") == ()


def test_vocabulary_from_words_txt_and_unreadable_graphs(tmp_path: Path, make_model: MakeModel) -> None:
    listed = make_model(tmp_path / "listed")  # graph/words.txt: <eps> bula
    assert unknown_words(listed, frozenset({"bula", "vinaka"})) == frozenset({"vinaka"})
    small = make_model(tmp_path / "small", graph="lookahead", omit=("graph/words.txt",))
    (small / "graph" / "Gr.fst").write_bytes(b"\0" * 64)
    with pytest.raises(VocabularyUnreadable, match="not an OpenFst file"):
        iter_vocabulary(small)
    bare = make_model(tmp_path / "bare", graph="hclg", omit=("graph/words.txt",))
    (bare / "graph" / "HCLG.fst").write_bytes(b"")
    with pytest.raises(VocabularyUnreadable, match="ends inside its header"):
        iter_vocabulary(bare)
