"""`hotline transcribe --digits`: one spoken digit per file, run through the real `hotline` click group."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from ivr.commands.cli import main

DIGITS = Path(__file__).resolve().parents[2] / ".." / "shared" / "audio" / "digits"


def hotline(args: list[str], models: Path, data_dir: Path) -> Result:
    env = {"HOTLINE_VOSK_MODELS": str(models), "HOTLINE_DATA_DIR": str(data_dir)}
    return CliRunner().invoke(main, args, env=env)


def test_digits_json_prints_file_digit_and_confidence(tmp_path: Path) -> None:
    files = [str(DIGITS / "7_jackson_0.wav"), str(DIGITS / "3_george_0.wav")]
    result = hotline(["transcribe", "--digits", "--json", *files], tmp_path, tmp_path)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["file"] for row in rows] == files
    for row in rows:
        assert set(row) == {"file", "digit", "confidence"}
        assert row["digit"] is None or (row["digit"] in "0123456789" and len(row["digit"]) == 1)
        assert 0.0 <= row["confidence"] <= 1.0


def test_digits_plain_output_and_an_unreadable_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio")
    good = str(DIGITS / "1_jackson_0.wav")
    result = hotline(["transcribe", "--digits", str(junk), good], tmp_path, tmp_path)
    assert result.exit_code == 1
    assert f"{good}: " in result.output
    assert "could not read 1 of 2 files" in result.output and str(junk) in result.output


def test_digits_in_a_language_no_model_speaks_is_refused(tmp_path: Path) -> None:
    result = hotline(["transcribe", "--digits", "--lang", "fj", str(DIGITS / "1_jackson_0.wav")], tmp_path, tmp_path)
    assert result.exit_code == 1
    assert "no model recognises spoken digits in 'fj'" in result.output
