"""Choosing an engine per language, and loading each model once per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from speech.engine import Engine
from speech.errors import BrokenModel, NoEngineForLanguage
from speech.pocketsphinx_engine import PocketSphinxEngine
from speech.registry import (
    POCKETSPHINX_KEY,
    available_languages,
    choose_engine,
    engine_choices,
    engine_for,
    load_counts,
    preload,
    transcribe,
)

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import MakeModel


def test_english_works_on_a_fresh_machine(tmp_path: Path) -> None:
    for models_dir in (None, tmp_path / "no-such-folder", tmp_path):
        engine = engine_for("en", models_dir)
        assert isinstance(engine, PocketSphinxEngine)
        assert engine.name == "pocketsphinx"


def test_the_engine_is_loaded_once_and_shared(tmp_path: Path) -> None:
    first = engine_for("en", tmp_path)
    loads = load_counts()[POCKETSPHINX_KEY]
    assert engine_for("en", tmp_path) is first
    assert engine_for("EN-us", None) is first  # a regional tag uses the language's engine
    assert preload(["en"], tmp_path) == {"en": first}
    assert load_counts()[POCKETSPHINX_KEY] == loads == 1


def test_threads_asking_at_once_share_one_engine(tmp_path: Path) -> None:
    found: list[Engine | None] = []
    barrier = threading.Barrier(4)

    def ask() -> None:
        barrier.wait()
        found.append(engine_for("en", tmp_path))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4 and all(engine is found[0] for engine in found)
    assert load_counts()[POCKETSPHINX_KEY] == 1


def test_a_language_without_engine_needs_listening(tmp_path: Path, dev_audio: Path) -> None:
    assert engine_for("fj", tmp_path) is None
    assert choose_engine("fj", tmp_path).engine is None
    with pytest.raises(NoEngineForLanguage, match="'fj'") as caught:
        transcribe(dev_audio / "cathy_a0100.wav", "fj", tmp_path)
    assert caught.value.language == "fj"


def test_an_engine_refuses_a_language_it_does_not_speak(tmp_path: Path, dev_audio: Path) -> None:
    english = engine_for("en", tmp_path)
    assert english is not None
    with pytest.raises(NoEngineForLanguage):
        english.transcribe(dev_audio / "cathy_a0100.wav", "hi")


def test_a_broken_model_is_an_error_not_a_fallback(tmp_path: Path, make_model: MakeModel) -> None:
    make_model(tmp_path / "vosk-model-small-en-us-0.15", omit=("am/final.mdl",))
    with pytest.raises(BrokenModel, match=r"missing am/final\.mdl"):
        engine_for("en", tmp_path)
    choice = choose_engine("en", tmp_path)
    assert (choice.engine, choice.model) == (None, "vosk-model-small-en-us-0.15")
    assert choice.problems


def test_a_model_vosk_cannot_load_raises_and_is_not_cached(tmp_path: Path, make_model: MakeModel) -> None:
    make_model(tmp_path / "vosk-model-small-fr-0.22")  # right layout, placeholder contents
    assert choose_engine("fr", tmp_path).engine == "vosk"
    for _ in range(2):
        with pytest.raises(BrokenModel, match="Vosk could not load it"):
            engine_for("fr", tmp_path)
    assert not any(key.startswith("vosk:") and "small-fr" in key for key in load_counts())


def test_available_languages_and_choices(tmp_path: Path, make_model: MakeModel) -> None:
    make_model(tmp_path / "vosk-model-small-fr-0.22")
    make_model(tmp_path / "vosk-model-small-hi-0.22", omit=("conf/mfcc.conf",))
    make_model(tmp_path / "fj")
    assert available_languages(tmp_path) == ["en", "fj", "fr"]
    choices = {c.language: c for c in engine_choices(tmp_path, ["sm"])}
    assert sorted(choices) == ["en", "fj", "fr", "hi", "sm"]
    assert (choices["en"].engine, choices["fr"].model, choices["fj"].model) == (
        "pocketsphinx", "vosk-model-small-fr-0.22", "fj")
    assert choices["hi"].engine is None and "missing conf/mfcc.conf" in choices["hi"].problems
    assert choices["sm"].engine is None and not choices["sm"].problems
