"""benchmarks/digits.py --vosk-models measures an installed Vosk model for English the way a call uses it.

No English Vosk model can be fetched here, so the real Korean model is filed as English: the run must
go through Vosk (not the bundled engine), and digit words the model cannot say must come out as no
answer, never as a wrong digit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEAKERS = ("jackson", "nicolas", "george")


def run_benchmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "digits.py"), "--quick", *args],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def korean_as_english(korean_model: Path, linked_copy: Callable[..., Path],
                      tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("english-vosk")
    linked_copy(korean_model, folder / korean_model.name, language="en")
    return folder


def test_an_installed_english_vosk_model_is_measured_beside_the_plain_grammar(
    digits: Path, korean_as_english: Path,
) -> None:
    done = run_benchmark("--json", "--vosk-models", str(korean_as_english))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["engine"] == "vosk" and report["files"] == 150
    for speaker in SPEAKERS:
        vosk, base = report["vosk"][speaker], report["baseline"][speaker]
        assert vosk["files"] == base["files"] == 50
        assert vosk["wrong"] == 0.0 and vosk["none"] == 1.0  # words it cannot say are never a wrong digit
        assert base["correct"] > 0.3  # the plain grammar beside it really ran on the same files
        assert vosk["ms_per_file"] is not None and vosk["ms_per_file"] > 0
    assert report["target_met"] is False
    assert run_benchmark("--strict", "--vosk-models", str(korean_as_english)).returncode == 1


def test_a_folder_without_an_english_model_is_refused_by_name(tmp_path: Path, korean_models: Path) -> None:
    missing = tmp_path / "nowhere"
    done = run_benchmark("--vosk-models", str(missing))
    assert done.returncode == 2 and f"{missing} is not a folder" in done.stderr
    done = run_benchmark("--vosk-models", str(korean_models))  # Korean only: English would be the bundled engine
    assert done.returncode == 2
    assert f"no usable English Vosk model in {korean_models}" in done.stderr and "pocketsphinx" in done.stderr
