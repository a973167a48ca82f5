"""Vosk on real recordings, with the real models in HOTLINE_VOSK_MODELS (or ../shared/models/vosk).

Model archives cannot be downloaded on every machine, so these tests skip, saying why, where no
model is installed. Everything that does not need a real model (discovery, validation, a folder
Vosk refuses) is tested with fake folders in test_asr_models.py and test_asr_registry.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from speech.engine import Transcript
from speech.models import ModelInfo, models_by_language
from speech.registry import engine_for, load_counts
from speech.vosk_engine import VoskEngine
from speech.wer import word_errors

# The same clips as the PocketSphinx test. Vosk is the production engine and must do at least
# as well as the fallback: PocketSphinx measured 0.43 on them (see test_asr_pocketsphinx.py).
FILES = [f"cathy_a01{i:02d}.wav" for i in range(6)] + ["osr_us_0011_01.wav", "osr_us_0011_05.wav"]
POCKETSPHINX_WER = 0.43
MARGIN = 0.15
MAX_LANGUAGES = 3  # each model takes seconds to load; three is enough to show the mapping works


@pytest.fixture(scope="module")
def installed(real_vosk_models: Path | None) -> tuple[Path, dict[str, ModelInfo]]:
    if real_vosk_models is None:
        pytest.skip("no Vosk models here: set HOTLINE_VOSK_MODELS to a folder of model folders "
                    "(or put them in ../shared/models/vosk), e.g. `hotline models install vosk-model-small-en-us-0.15`")
    chosen = models_by_language(real_vosk_models)
    if not chosen:
        pytest.skip(f"no usable Vosk model in {real_vosk_models} (see `hotline models list`)")
    return real_vosk_models, dict(list(chosen.items())[:MAX_LANGUAGES])


def check_words(transcript: Transcript) -> None:
    previous = 0.0
    for word in transcript.words:
        assert 0.0 <= word.confidence <= 1.0
        assert previous <= word.start <= word.end <= transcript.duration
        assert word.word and word.word[0] not in "<[+"
        previous = word.start
    assert transcript.text == " ".join(w.word for w in transcript.words)


def test_each_model_transcribes_telephone_audio(installed: tuple[Path, dict[str, ModelInfo]], dev_audio: Path) -> None:
    folder, chosen = installed
    for language, info in chosen.items():
        engine = engine_for(language, folder)
        assert isinstance(engine, VoskEngine)
        assert (engine.model, engine.sample_rate) == (info.name, info.sample_rate)
        transcript = engine.transcribe(dev_audio / "cathy_a0104.wav", language)
        assert (transcript.engine, transcript.model, transcript.language) == ("vosk", info.name, language)
        assert transcript.words, f"{info.name} heard nothing in 3.8 s of speech"
        check_words(transcript)


def test_models_are_loaded_once(installed: tuple[Path, dict[str, ModelInfo]]) -> None:
    folder, chosen = installed
    language, info = next(iter(chosen.items()))
    engine = engine_for(language, folder)
    assert engine_for(language, folder) is engine
    assert load_counts()[f"vosk:{info.path.resolve()}"] == 1


def test_threads_share_a_model(installed: tuple[Path, dict[str, ModelInfo]], dev_audio: Path) -> None:
    # Vosk dithers its features with a process-wide random generator, so the same audio can give
    # slightly different words from one run to the next (alphacep/vosk-api#868): compare shapes.
    folder, chosen = installed
    language = next(iter(chosen))
    engine = engine_for(language, folder)
    assert engine is not None
    names = ["cathy_a0100.wav", "cathy_a0102.wav"]
    together: dict[int, Transcript] = {}

    def run(index: int) -> None:
        together[index] = engine.transcribe((dev_audio / names[index]).read_bytes(), language)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(together) == [0, 1]
    for transcript in together.values():
        assert transcript.words
        check_words(transcript)


def test_english_accuracy(
    installed: tuple[Path, dict[str, ModelInfo]], dev_audio: Path, references: dict[str, str]
) -> None:
    folder, chosen = installed
    if "en" not in chosen:
        pytest.skip(f"no English Vosk model in {folder}: the dev recordings are English")
    engine = engine_for("en", folder)
    assert isinstance(engine, VoskEngine)
    errors = words = 0
    for name in FILES:
        transcript = engine.transcribe(dev_audio / name, "en")
        check_words(transcript)
        e, n = word_errors(references[name], transcript.text)
        errors += e
        words += n
    assert errors / words < POCKETSPHINX_WER + MARGIN
