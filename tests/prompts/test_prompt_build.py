"""`hotline prompts build`: gTTS when it answers, espeak-ng when not, caching, and clear errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from ivr.commands.cli import main
from ivr.core.config import SETTINGS
from ivr.core.prompt_audio import PromptLibrary
from ivr.core.prompts import Play
from ivr.core.services import services
from menus import load_menus
from tests.prompts.conftest import assert_playable_file
from tests.tts.conftest import FakeGoogleTTS


@pytest.fixture
def build_env(tmp_path: Path, menus_copy: Path, cache_copy: Path) -> dict[str, str]:
    """Return the environment of a hotline whose menus and cache are this test's copies."""
    env = {s.env: "placeholder-secret" for s in SETTINGS if s.required}
    env.update({"PUBLIC_BASE_URL": "https://hotline.example.org", "HOTLINE_DATA_DIR": str(tmp_path / "data"),
                "HOTLINE_MENUS": str(menus_copy), "HOTLINE_PROMPTS_CACHE": str(cache_copy),
                "HOTLINE_GTTS": "0", "HOTLINE_GTTS_TIMEOUT_SECONDS": "0.5", "HOTLINE_ENV_FILE": str(tmp_path / "none")})
    return env


def run_build(env: dict[str, str], *args: str, **extra: str) -> Result:
    return CliRunner().invoke(main, ["prompts", "build", *args], env={**env, **extra})


def edit_prompt(menus_dir: Path, language: str, prompt_id: str, text: str) -> None:
    path = menus_dir / "prompts" / f"{language}.toml"
    body = re.sub(rf"(?m)^{prompt_id} = .*$", f"{prompt_id} = {text!r}".replace("'", '"'),
                  path.read_text(encoding="utf-8"))
    path.write_text(body, encoding="utf-8")


def prompt_count(menus_dir: Path) -> int:
    """How many prompts each language has: counted from the menus, so adding a prompt changes no test."""
    return len(load_menus(menus_dir).required_prompts())


def language_line(output: str, code: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(f"{code} "))


def test_gtts_renders_only_the_edited_prompt_and_a_second_build_renders_nothing(
        build_env: dict[str, str], menus_copy: Path, cache_copy: Path, google_tts: FakeGoogleTTS) -> None:
    edit_prompt(menus_copy, "fr", "goodbye", "Merci et au revoir.")
    gtts = {"HOTLINE_GTTS": "1", "HOTLINE_GTTS_BASE_URL": google_tts.base_url}
    result = run_build(build_env, "--lang", "fr", "--lang", "fj", **gtts)
    assert result.exit_code == 0, result.output
    assert "rendering prompts" in result.output  # the progress bar
    french = language_line(result.output, "fr")
    assert "rendered now: 1 with gtts" in french and f"already had audio: {prompt_count(menus_copy) - 1}" in french
    assert google_tts.texts() == ["Merci et au revoir."]
    found = PromptLibrary(load_menus(menus_copy), recordings_dir=None, cache_dir=cache_copy).find("fr", "goodbye")
    assert found is not None and found.engine == "gtts"
    assert_playable_file(found.path)
    count = prompt_count(menus_copy)
    assert f"{count} prompt(s) without audio: no text-to-speech engine speaks Vosa vaka-Viti (fj)" in result.output

    again = run_build(build_env, "--lang", "fr", **gtts)
    assert again.exit_code == 0, again.output
    assert f"rendered now: none; already had audio: {prompt_count(menus_copy)}" in language_line(again.output, "fr")
    assert len(google_tts.received) == 1


@pytest.mark.parametrize(("mode", "why"), [
    ("refused", "refused the connection"),
    ("error500", "answered HTTP 500"),
    ("slow", "did not answer within"),
])
def test_gtts_failing_falls_back_to_espeak_and_says_why(
        build_env: dict[str, str], menus_copy: Path, google_tts: FakeGoogleTTS, refused_url: str,
        mode: str, why: str) -> None:
    edit_prompt(menus_copy, "fr", "goodbye", "Merci et au revoir.")
    google_tts.mode = mode
    base_url = refused_url if mode == "refused" else google_tts.base_url
    result = run_build(build_env, "--lang", "fr", HOTLINE_GTTS="1", HOTLINE_GTTS_BASE_URL=base_url)
    assert result.exit_code == 0, result.output
    assert "rendered now: 1 with espeak-ng" in language_line(result.output, "fr")
    assert "note: gtts failed at least once" in result.output and why in result.output
    assert "prompt 'goodbye', language 'fr'" in result.output


def test_force_replaces_espeak_renderings_with_gtts_once_it_answers(
        build_env: dict[str, str], menus_copy: Path, cache_copy: Path, google_tts: FakeGoogleTTS) -> None:
    library = PromptLibrary(load_menus(menus_copy), recordings_dir=None, cache_dir=cache_copy)
    espeak = library.find("fr", "main_menu")
    assert espeak is not None and espeak.engine == "espeak-ng"
    result = run_build(build_env, "--lang", "fr", "--force", HOTLINE_GTTS="1",
                       HOTLINE_GTTS_BASE_URL=google_tts.base_url)
    assert result.exit_code == 0, result.output
    count = prompt_count(menus_copy)
    assert f"rendered now: {count} with gtts; already had audio: 0" in language_line(result.output, "fr")
    gtts = library.find("fr", "main_menu")
    assert gtts is not None and gtts.engine == "gtts" and gtts.sha256 != espeak.sha256
    assert espeak.path.is_file()  # nothing deleted: the espeak-ng file simply stops being chosen


def test_without_network_every_language_espeak_knows_is_voiced_and_fijian_is_explained(
        build_env: dict[str, str], menus_copy: Path, refused_url: str) -> None:
    result = run_build(build_env, HOTLINE_GTTS="1", HOTLINE_GTTS_BASE_URL=refused_url)
    assert result.exit_code == 0, result.output
    for code in ("en", "fr", "hi"):
        assert language_line(result.output, code).endswith("without audio: 0"), result.output
    assert language_line(result.output, "fj").endswith(f"without audio: {prompt_count(menus_copy)}")
    assert "no text-to-speech engine speaks Vosa vaka-Viti (fj); record them on the operator page" in result.output
    assert "missing: language_option," in result.output


def test_an_unreadable_script_fails_that_prompt_by_name_and_the_running_hotline_keeps_its_audio(
        build_env: dict[str, str], menus_copy: Path, cache_copy: Path, prompt_app: Callable[..., Flask]) -> None:
    app = prompt_app(menus_dir=menus_copy, prompts_cache_dir=cache_copy)  # running with the old texts
    before = services(app).prompts.resolve("fr", "goodbye")
    assert isinstance(before, Play)
    edit_prompt(menus_copy, "fr", "goodbye", "Au revoir, до свидания.")
    result = run_build(build_env, "--lang", "fr")
    assert result.exit_code == 1
    assert "FAILED fr/goodbye:" in result.output and "CYRILLIC" in result.output
    assert "prompt 'goodbye', language 'fr'" in result.output
    assert "any audio they had before stays in service" in result.output
    count = prompt_count(menus_copy)
    assert f"rendered now: none; already had audio: {count - 1}" in language_line(result.output, "fr")
    assert services(app).prompts.resolve("fr", "goodbye") == before
    with app.test_client().get(before.url.removeprefix("https://hotline.example.org")) as served:
        assert served.status_code == 200


def test_empty_or_very_long_prompt_text_is_refused_naming_file_and_prompt(
        build_env: dict[str, str], menus_copy: Path) -> None:
    edit_prompt(menus_copy, "fr", "goodbye", "   ")
    edit_prompt(menus_copy, "fr", "main_menu", "Appuyez. " * 120)
    result = run_build(build_env, "--lang", "fr")
    assert result.exit_code == 1
    assert "prompts/fr.toml: prompt goodbye: text is empty" in result.output
    assert "prompts/fr.toml: prompt main_menu: text is longer than 1000 characters" in result.output


def test_unknown_language_is_refused(build_env: dict[str, str]) -> None:
    result = run_build(build_env, "--lang", "xx")
    assert result.exit_code == 1 and "unknown language(s): xx" in result.output
