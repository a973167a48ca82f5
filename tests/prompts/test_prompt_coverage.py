"""A language is offered only when every prompt it needs is playable; `hotline menus check` counts sources."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from ivr.commands.cli import main
from ivr.core.prompt_audio import PromptLibrary
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from menus import load_menus
from speech.espeak_voice import EspeakVoice
from speech.tts import PromptText, render_many
from tests.conftest import AUTH_TOKEN, BASE_URL
from tests.prompts.conftest import record_humans


def test_fijian_is_offered_only_once_every_prompt_has_a_human_recording(
        prompt_app: Callable[..., Flask], menus_copy: Path, media: MediaHost, sqlite_url: str) -> None:
    required = load_menus(menus_copy).required_prompts()
    record_humans(menus_copy, "fj", required[:-1])
    app = prompt_app(menus_dir=menus_copy, database_url=sqlite_url)
    svc = services(app)
    coverage = svc.prompts.library.coverage("fj")
    assert (coverage.human, coverage.synthesised, coverage.missing) == (len(required) - 1, 0, (required[-1],))
    assert svc.offered_languages() == ("en", "fr", "hi")

    record_humans(menus_copy, "fj", required[-1:])  # the same running app notices the new file
    assert svc.offered_languages() == ("en", "fr", "hi", "fj")

    # A new caller hears the Fijian option in Fijian (its recording), and can choose it with key 4.
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    log = phone.call(Script(["4", None, None, None]))
    plays = [h.text for h in log.heard if h.kind == "play"]
    assert plays[0].startswith(f"{BASE_URL}/prompts/fj/language_option.wav?v=")
    # after choosing Fijian every prompt is a human recording; nothing is <Say>
    after_menu = log.heard[len(svc.offered_languages()) - 1:]
    assert all(h.kind == "play" and "/prompts/fj/" in h.text for h in after_menu if h.kind in ("play", "say"))


def test_language_without_twilio_voice_is_offered_only_with_audio_for_every_prompt(
        prompt_app: Callable[..., Flask], menus_copy: Path, cache_copy: Path) -> None:
    hindi = menus_copy / "prompts" / "hi.toml"
    hindi.write_text(re.sub(r'(?m)^twilio_voice = ".*"', 'twilio_voice = ""', hindi.read_text(encoding="utf-8")),
                     encoding="utf-8")
    app = prompt_app(menus_dir=menus_copy, prompts_cache_dir=cache_copy)
    svc = services(app)
    assert svc.prompts.library.coverage("hi").synthesised == 11  # the menu option and digits only
    assert "hi" not in svc.offered_languages()

    rest = svc.prompts.library.coverage("hi").missing
    items = [PromptText(svc.menus.text("hi", pid), "hi", pid) for pid in rest[:3]]
    render_many(items, cache_dir=cache_copy, voices=(EspeakVoice(),))  # synthesised...
    record_humans(menus_copy, "hi", rest[3:])  # ...or recorded: any audio counts
    assert svc.prompts.library.coverage("hi").missing == ()
    assert svc.offered_languages() == ("en", "fr", "hi")


def test_menus_check_reports_human_synthesised_and_missing_per_language(
        menus_copy: Path, rendered_cache: Path, tmp_path: Path) -> None:
    record_humans(menus_copy, "fr", ["goodbye", "main_menu"])
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "HOTLINE_PROMPTS_CACHE": str(rendered_cache),
           "HOTLINE_MENUS": "", "SECRET_KEY": ""}
    result = CliRunner().invoke(main, ["menus", "check", "--menus", str(menus_copy)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    total = len(PromptLibrary(load_menus(menus_copy), recordings_dir=None, cache_dir=None).required)

    def audio_line(code: str) -> str:
        index = next(i for i, line in enumerate(lines) if re.match(rf"\s+\d {code}\s", line))
        return lines[index + 1]

    assert f"audio: 2 human, {total - 2} synthesised, 0 missing; offered" in audio_line("fr")
    assert f"audio: 0 human, 11 synthesised, {total - 11} missing; offered (missing prompts use" in audio_line("en")
    fijian = audio_line("fj")
    assert f"audio: 0 human, 0 synthesised, {total} missing; NOT offered" in fijian
    assert "no text-to-speech engine speaks it: record them" in fijian
