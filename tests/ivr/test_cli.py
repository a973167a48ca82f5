"""The `hotline` command, run the way an operator runs it (environment variables, exit codes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from ivr.commands.cli import main
from ivr.voice.emulator import Phone, Script
from menus.loader import DEFAULT_ROOT


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
            "HOTLINE_DATA_DIR": str(tmp_path / "data"), "HOTLINE_ENV_FILE": str(tmp_path / "none.env"),
            "DATABASE_URL": "", "REDIS_URL": "", **extra}


def test_missing_settings_are_named(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    del env["SECRET_KEY"], env["HOTLINE_PEPPER"]
    result = CliRunner().invoke(main, ["db", "upgrade"], env={**env, "SECRET_KEY": "", "HOTLINE_PEPPER": ""})
    assert result.exit_code != 0
    assert "SECRET_KEY" in result.output and "HOTLINE_PEPPER" in result.output


def test_malformed_number_setting_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env_for(tmp_path, HOTLINE_RECORDING_MAX_SECONDS="lots"))
    assert result.exit_code != 0 and "HOTLINE_RECORDING_MAX_SECONDS" in result.output


def test_init_writes_secrets_once_and_commands_use_them(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "inst"), "SECRET_KEY": "", "HOTLINE_PEPPER": "", "TWILIO_AUTH_TOKEN": "",
           "PUBLIC_BASE_URL": "", "HOTLINE_ENV_FILE": "", "DATABASE_URL": ""}
    first = runner.invoke(main, ["init"], env=env)
    assert first.exit_code == 0, first.output
    content = (tmp_path / "inst" / "hotline.env").read_text()
    assert "SECRET_KEY=" in content and (tmp_path / "inst" / "hotline.env").stat().st_mode & 0o077 == 0
    again = runner.invoke(main, ["init"], env=env)
    assert "keeping" in again.output and (tmp_path / "inst" / "hotline.env").read_text() == content
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert (tmp_path / "inst" / "hotline.sqlite3").exists()


def test_menus_check_names_file_and_node(tmp_path: Path) -> None:
    broken = tmp_path / "menus"
    shutil.copytree(DEFAULT_ROOT, broken, ignore=shutil.ignore_patterns("*.py", "__pycache__", "audio"))
    flow = (broken / "flow.toml").read_text().replace('1 = { go = "report_topic" }', '1 = { go = "nowhere" }')
    (broken / "flow.toml").write_text(flow)
    fr = (broken / "prompts" / "fr.toml").read_text()
    (broken / "prompts" / "fr.toml").write_text("\n".join(x for x in fr.splitlines() if not x.startswith("goodbye")))
    result = CliRunner().invoke(main, ["menus", "check", "--menus", str(broken)])
    assert result.exit_code != 0
    assert "flow.toml: node main: target 'nowhere' does not exist" in result.output
    assert "prompts/fr.toml: prompt goodbye: missing (used by node confirm)" in result.output
    ok = CliRunner().invoke(main, ["menus", "check"])
    assert ok.exit_code == 0 and "menus OK" in ok.output


def test_messages_json_lists_what_callers_left(app: Flask, phone: Phone, speech_wav: bytes, tmp_path: Path) -> None:
    from ivr.core.services import services

    phone.call(Script(["2", "1", "3", "4", "1", "REC", "1"], [speech_wav]))
    db_url = services(app).config.database_url
    result = CliRunner().invoke(main, ["messages", "--json"], env=env_for(tmp_path, DATABASE_URL=db_url))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 1
    assert set(rows[0]) == {"id", "reference", "status", "language", "topic", "place", "created_at", "cluster",
                            "overdue", "needs_listening"}
    assert (rows[0]["cluster"], rows[0]["overdue"]) == (None, False)
    assert isinstance(rows[0]["needs_listening"], bool)
    assert (rows[0]["language"], rows[0]["topic"], rows[0]["place"]) == ("fr", "roads", "lautoka")


def test_menus_check_also_checks_the_radio_phrases(tmp_path: Path) -> None:
    menus = tmp_path / "menus"
    shutil.copytree(DEFAULT_ROOT, menus, ignore=shutil.ignore_patterns("*.py", "__pycache__", "audio"))
    ok = CliRunner().invoke(main, ["menus", "check", "--menus", str(menus)])
    assert ok.exit_code == 0, ok.output
    assert "radio phrases OK: en, fj, fr, hi (not reviewed by a native speaker: fj, fr, hi)" in ok.output
    fr = menus / "radio" / "fr.toml"
    fr.write_text(fr.read_text(encoding="utf-8").replace("{total} messages", "{totale} messages"), encoding="utf-8")
    broken = CliRunner().invoke(main, ["menus", "check", "--menus", str(menus)])
    assert broken.exit_code != 0
    assert "radio/fr.toml: phrase intro must use the fields" in broken.output
