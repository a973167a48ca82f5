"""`hotline transcribe` and `hotline models`, run through the real `hotline` click group."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from ivr.commands.cli import main

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import MakeModel, ModelSite

NAME = "vosk-model-small-fr-0.22"


@pytest.fixture
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "vosk"
    folder.mkdir()
    return folder


def hotline(args: list[str], models: Path | None, data_dir: Path) -> Result:
    env = {"HOTLINE_VOSK_MODELS": str(models) if models else None, "HOTLINE_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(main, args, env=env)


def test_transcribe_prints_file_and_text(dev_audio: Path, models: Path, tmp_path: Path) -> None:
    files = [str(dev_audio / "cathy_a0100.wav"), str(dev_audio / "cathy_a0102.wav")]
    result = hotline(["transcribe", *files], models, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == files
    assert lines[0] == f"{files[0]}: you must sleep he urged"


def test_transcribe_json_lines(dev_audio: Path, models: Path, tmp_path: Path) -> None:
    path = str(dev_audio / "cathy_a0100.wav")
    result = hotline(["transcribe", "--lang", "en", "--json", path], models, tmp_path)
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    data = json.loads(line)
    assert set(data) == {"file", "text", "engine", "words", "duration", "seconds", "confidence", "check_by_ear"}
    assert 0.0 <= data["confidence"] <= 1.0 and data["check_by_ear"] == (data["confidence"] < 0.4)
    assert (data["file"], data["engine"]) == (path, "pocketsphinx")
    assert data["text"] == " ".join(w["word"] for w in data["words"])
    assert all(set(w) == {"word", "confidence", "start", "end"} for w in data["words"])
    assert data["duration"] == pytest.approx(1.89, abs=0.01)


def test_unreadable_file_is_named_and_fails_the_command(dev_audio: Path, models: Path, tmp_path: Path) -> None:
    junk = tmp_path / "voicemail.wav"
    junk.write_bytes(b"not audio")
    good = str(dev_audio / "cathy_a0102.wav")
    result = hotline(["transcribe", str(junk), good], models, tmp_path)
    assert result.exit_code == 1
    assert f"cannot read audio {junk}" in result.output
    assert f"{good}: " in result.output  # the readable file is still transcribed
    assert "could not read 1 of 2 files" in result.output


def test_language_without_engine(dev_audio: Path, models: Path, tmp_path: Path) -> None:
    result = hotline(["transcribe", "--lang", "fj", str(dev_audio / "cathy_a0100.wav")], models, tmp_path)
    assert result.exit_code == 1
    assert "no speech engine for language 'fj'" in result.output
    assert str(models) in result.output


def test_broken_model_is_reported(dev_audio: Path, models: Path, tmp_path: Path, make_model: MakeModel) -> None:
    make_model(models / "vosk-model-small-en-us-0.15", omit=("graph/HCLG.fst",))
    result = hotline(["transcribe", str(dev_audio / "cathy_a0100.wav")], models, tmp_path)
    assert result.exit_code == 1
    assert "broken model" in result.output and "missing graph/HCLG.fst" in result.output


def test_models_list(models: Path, tmp_path: Path, make_model: MakeModel) -> None:
    make_model(models / NAME)
    make_model(models / "vosk-model-small-hi-0.22", omit=("am/final.mdl",))
    result = hotline(["models", "list", "--lang", "fj"], models, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"models folder: {models}"
    assert "en        pocketsphinx (bundled)" in lines
    assert f"fr        vosk {NAME}" in lines
    assert any(line.startswith("fj        none") for line in lines)
    assert any(line.startswith("hi        none: vosk-model-small-hi-0.22 is broken") for line in lines)
    assert f"  {NAME}  language=fr  rate=16000  in use" in lines


def test_models_folder_defaults_under_the_data_dir(tmp_path: Path) -> None:
    result = hotline(["models", "list"], None, tmp_path / "data")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "data" / "models" / "vosk"
    assert result.output.splitlines()[0] == f"models folder: {folder} (does not exist yet)"
    assert "en        pocketsphinx (bundled)" in result.output


def test_models_install(model_site: ModelSite, tmp_path: Path, make_model: MakeModel) -> None:
    make_model(tmp_path / "build" / NAME)
    data = Path(shutil.make_archive(str(tmp_path / NAME), "zip", tmp_path / "build", NAME)).read_bytes()
    model_site.put(f"{NAME}.zip", data)
    digest = hashlib.sha256(data).hexdigest()
    args = ["models", "install", NAME, "--sha256", digest, "--base-url", model_site.base_url]
    result = hotline(args, None, tmp_path / "data")
    assert result.exit_code == 0, result.output
    target = tmp_path / "data" / "models" / "vosk" / NAME
    assert f"installed {NAME} (language fr, 16000 Hz) in {target}" in result.output
    assert f"archive sha256 {digest}" in result.output
    assert (target / "am" / "final.mdl").is_file()


def test_models_install_failures(model_site: ModelSite, tmp_path: Path) -> None:
    result = hotline(["models", "install", NAME, "--sha256", "xyz"], None, tmp_path)
    assert result.exit_code == 2 and "64 hexadecimal digits" in result.output
    model_site.put(f"{NAME}.zip", b"PK not really")
    args = ["models", "install", NAME, "--sha256", "0" * 64, "--base-url", model_site.base_url]
    result = hotline(args, None, tmp_path)
    assert result.exit_code == 1 and "sha256 of" in result.output and "expected " + "0" * 64 in result.output


def test_transcribe_json_flags_the_bad_transcript_not_the_good_one(dev_audio: Path, models: Path,
                                                                   tmp_path: Path) -> None:
    # cathy_a0101 comes out word for word; voxforge_en-0538 ("please could we pull together") does not.
    good, bad = str(dev_audio / "cathy_a0101.wav"), str(dev_audio / "voxforge_en-0538.wav")
    result = hotline(["transcribe", "--json", good, bad], models, tmp_path)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["confidence"] > second["confidence"]
    assert (first["check_by_ear"], second["check_by_ear"]) == (False, True)
