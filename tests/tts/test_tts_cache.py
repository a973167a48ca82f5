"""Keep renderings on disk: what the key depends on, atomic writes, and lookups that never render."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from speech import tts_cache
from speech.telephone_audio import Pcm, check_playable
from speech.tts_errors import NotPlayable


def speech_like(seconds: float = 1.0) -> Pcm:
    """Return an 8 kHz tone standing in for rendered speech."""
    t = np.arange(int(seconds * 8000), dtype=np.float32) / 8000
    return Pcm(samples=(0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), sample_rate=8000)


def stored(cache_dir: Path, text: str = "Press 1.", language: str = "en") -> tts_cache.RenderedPrompt:
    return tts_cache.store(cache_dir, speech_like(), text=text, language=language, engine="espeak-ng", voice="en")


def test_the_key_changes_with_text_language_engine_and_voice() -> None:
    base = ("Press 1.", "en", "gtts", "en@com.au")
    variants = [
        ("Press 2.", "en", "gtts", "en@com.au"),
        ("Press 1.", "fr", "gtts", "en@com.au"),
        ("Press 1.", "en", "espeak-ng", "en@com.au"),
        ("Press 1.", "en", "gtts", "en@com"),
    ]

    keys = {tts_cache.cache_key(*fields) for fields in [base, *variants]}

    assert len(keys) == 5


def test_the_key_ignores_spacing_and_unicode_composition() -> None:
    composed = tts_cache.cache_key("Appuyez sur é.", "fr", "gtts", "fr@fr")
    decomposed = tts_cache.cache_key("  Appuyez\n sur e\u0301. ", "fr", "gtts", "fr@fr")

    assert composed == decomposed


def test_a_stored_rendering_is_found_again(tmp_path: Path) -> None:
    prompt = stored(tmp_path)

    found = tts_cache.lookup(tmp_path, "en", prompt.cache_key)

    assert found == prompt
    assert prompt.path == tmp_path / "en" / f"{prompt.cache_key}.wav"
    assert check_playable(prompt.path).playable
    facts = json.loads(prompt.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert facts["text"] == "Press 1." and facts["sha256"] == prompt.sha256
    assert sorted(p.name for p in (tmp_path / "en").iterdir()) == sorted(
        [f"{prompt.cache_key}.wav", f"{prompt.cache_key}.json"]
    )  # no temporary files left behind


def test_a_wav_without_its_facts_is_a_miss(tmp_path: Path) -> None:
    prompt = stored(tmp_path)
    prompt.path.with_suffix(".json").unlink()  # as if the process died between the two renames

    assert tts_cache.lookup(tmp_path, "en", prompt.cache_key) is None


@pytest.mark.parametrize("facts", ["", "{not json", '{"engine": "gtts"}'])
def test_unreadable_facts_are_a_miss(tmp_path: Path, facts: str) -> None:
    prompt = stored(tmp_path)
    prompt.path.with_suffix(".json").write_text(facts, encoding="utf-8")

    assert tts_cache.lookup(tmp_path, "en", prompt.cache_key) is None


def test_an_unplayable_rendering_never_enters_the_cache(tmp_path: Path) -> None:
    silence = Pcm(samples=np.zeros(8000, dtype=np.float32), sample_rate=8000)

    with pytest.raises(NotPlayable, match="silent") as failure:
        tts_cache.store(
            tmp_path, silence, text="Press 1.", language="en", engine="espeak-ng", voice="en", prompt_id="menu"
        )

    assert "prompt 'menu', language 'en'" in str(failure.value)
    assert list((tmp_path / "en").iterdir()) == []


@pytest.mark.parametrize("language", ["../etc", "en/../../x", "", "EN"])
def test_a_language_code_cannot_leave_the_cache(tmp_path: Path, language: str) -> None:
    with pytest.raises(ValueError, match="not a language code"):
        stored(tmp_path, language=language)
    with pytest.raises(ValueError, match="not a language code"):
        tts_cache.lookup(tmp_path, language, "0" * 64)
