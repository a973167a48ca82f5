"""The English engine decodes through the shipped telephone-band MLLR transform, and it helps.

The transform (speech/data/en-us-telephone.mllr) was estimated on the dev recordings, so the gain here is
in-sample; the held-out figure (each speaker left out of the estimate: WER 0.670 to 0.575) comes from
benchmarks/telephone_mllr.py. These tests prove the engine really applies it: without it the same
recordings come out measurably worse, and a missing transform is a clear error, not a silent fallback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from speech.choice import DIGIT_WORDS
from speech.choice_audio import prepare_answer
from speech.choice_sphinx import SphinxChooser
from speech.errors import BrokenModel
from speech.pocketsphinx_engine import TELEPHONE_MLLR, PocketSphinxEngine
from speech.registry import engine_for, unload_all
from speech.wer import word_errors

# One talker of the dev set, ten short sentences of CMU ARCTIC read into a simulated telephone band.
SPEAKERS = ("cathy_",)
GAIN = 0.05  # at least five points of WER, so the transform must really be in the decoder


def corpus_wer(engine: PocketSphinxEngine, dev_audio: Path, references: dict[str, str]) -> float:
    errors = words = 0
    for name, reference in sorted(references.items()):
        if name.startswith(SPEAKERS):
            e, n = word_errors(reference, engine.transcribe(dev_audio / name, "en").text)
            errors += e
            words += n
    assert words > 50
    return errors / words


def test_the_configured_english_engine_is_adapted_to_the_telephone() -> None:
    unload_all()
    engine = engine_for("en", None)
    assert isinstance(engine, PocketSphinxEngine)
    assert engine.adaptation == TELEPHONE_MLLR and TELEPHONE_MLLR.is_file()


def test_the_transform_lowers_the_word_error_rate(dev_audio: Path, references: dict[str, str]) -> None:
    adapted = corpus_wer(PocketSphinxEngine(), dev_audio, references)
    plain = corpus_wer(PocketSphinxEngine(mllr=None), dev_audio, references)
    assert adapted <= plain - GAIN, (adapted, plain)


def test_a_missing_transform_is_a_broken_model_naming_the_file(tmp_path: Path) -> None:
    gone = tmp_path / "en-us-telephone.mllr"
    with pytest.raises(BrokenModel, match=r"en-us-telephone\.mllr is missing"):
        PocketSphinxEngine(mllr=gone)
    with pytest.raises(BrokenModel, match=r"en-us-telephone\.mllr is missing"):
        SphinxChooser(mllr=gone)


def test_a_corrupt_transform_is_refused_at_load(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mllr"
    shutil.copyfile(TELEPHONE_MLLR, broken)
    broken.write_text("1\n3\n13\nnot numbers\n")
    with pytest.raises(BrokenModel, match="could not load"):
        PocketSphinxEngine(mllr=broken)


def test_spoken_choices_are_scored_through_the_transform(digits: Path) -> None:
    words = [DIGIT_WORDS["en"][str(d)][0] for d in range(10)]
    pcm = prepare_answer(digits / "3_george_0.wav", 16000)
    adapted, _ = SphinxChooser().scores(pcm, words)
    plain, _ = SphinxChooser(mllr=None).scores(pcm, words)
    assert adapted and plain
    assert adapted != plain  # the same answer, a different acoustic model: the scores must move
