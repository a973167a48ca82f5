"""`hotline call`, typed at as a person would: prompt texts always shown, a hang-up key, truthful fetch reports."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core.db import database_for
from ivr.core.models import Call, Message, Recording
from menus import load_menus
from tests.conftest import AUDIO_DIR

MENUS = load_menus(None)


def env_for(tmp_path: Path, sqlite_url: str) -> dict[str, str]:
    return {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t" * 16,
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "HOTLINE_DATA_DIR": str(tmp_path / "data"), "HOTLINE_ENV_FILE": str(tmp_path / "none.env"),
            "DATABASE_URL": sqlite_url, "REDIS_URL": "", "HOTLINE_GTTS": "0", "HOTLINE_PROMPTS_QUEUE_MISSING": "0",
            "HOTLINE_INLINE_SWEEP_SECONDS": "0"}


def call(tmp_path: Path, sqlite_url: str, lines: list[str]) -> str:
    result = CliRunner().invoke(main, ["call", "--in-process", "--no-audio"], env=env_for(tmp_path, sqlite_url),
                                input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return result.output


def test_a_prompt_with_audio_still_shows_its_text_and_h_hangs_up(tmp_path: Path, sqlite_url: str) -> None:
    recorded = tmp_path / "data" / "prompt-recordings" / "en"
    recorded.mkdir(parents=True)
    shutil.copy(AUDIO_DIR / "osr_us_0010_01.wav", recorded / "main_menu.wav")  # a human recording of the main menu
    out = call(tmp_path, sqlite_url, ["1", "h"])
    assert MENUS.text("en", "main_menu") in out  # its words, not a bare URL
    assert "/prompts/en/main_menu.wav" not in out
    assert "you hung up" in out
    with database_for(sqlite_url).session() as s:
        row = s.scalars(select(Call)).one()
        assert row.status == "completed" and row.ended_at is not None  # the end-of-call callback arrived


def test_record_again_reports_the_first_take_discarded_and_the_kept_one_fetched(tmp_path: Path,
                                                                               sqlite_url: str) -> None:
    wav = str(AUDIO_DIR / "osr_us_0010_01.wav")
    out = call(tmp_path, sqlite_url, ["1", "1", "1", "1", "1", wav, "2", wav, "1"])
    assert "discarded (you recorded again" in out
    assert "recording fetched by the hotline" in out
    assert "was not fetched" not in out
    with database_for(sqlite_url).session() as s:
        takes = s.scalars(select(Recording).order_by(Recording.id)).all()
        assert [t.discarded for t in takes] == [True, False]


def test_hanging_up_after_recording_keeps_the_take_and_says_it_was_fetched(tmp_path: Path, sqlite_url: str) -> None:
    wav = str(AUDIO_DIR / "osr_us_0010_01.wav")
    out = call(tmp_path, sqlite_url, ["1", "1", "1", "1", "1", wav, "h"])
    assert "you hung up" in out and "recording fetched by the hotline" in out
    with database_for(sqlite_url).session() as s:
        message = s.scalars(select(Message)).one()
        assert not message.confirmed  # kept by the status callback, unconfirmed
