"""Speak with the real espeak-ng: every language it has, and each way it can refuse or fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from speech.espeak_voice import ESPEAK_VOICES, EspeakVoice
from speech.telephone_audio import check_playable
from speech.tts import render
from speech.tts_errors import (
    EmptyText,
    EngineFailed,
    EspeakNotInstalled,
    NoVoiceForLanguage,
    TextTooLong,
    UnreadableScript,
)

TEXTS = {
    "en": "Welcome to Talanoa. Press 1 to leave a message.",
    "fr": "Bienvenue sur Talanoa. Appuyez sur 1 pour laisser un message.",
    "hi": "टालानोआ में आपका स्वागत है। संदेश छोड़ने के लिए 1 दबाएँ।",
}


@pytest.mark.parametrize("language", ["en", "fr", "hi"])
def test_each_language_renders_with_espeak(espeak: EspeakVoice, cache_dir: Path, language: str) -> None:
    prompt = render(TEXTS[language], language, cache_dir=cache_dir, voices=(espeak,))

    check = check_playable(prompt.path)
    assert check.playable, check.problems
    assert (prompt.engine, prompt.voice, prompt.sample_rate) == ("espeak-ng", language, 8000)
    assert 1.0 < prompt.duration_s < 10.0


def test_our_voice_table_matches_the_installed_voices() -> None:
    for voice in ESPEAK_VOICES.values():
        listed = subprocess.run(["espeak-ng", f"--voices={voice}"], capture_output=True, text=True, check=True)
        assert len(listed.stdout.splitlines()) > 1, f"espeak-ng has no voice {voice!r}"
    fijian = subprocess.run(["espeak-ng", "--voices=fj"], capture_output=True, text=True, check=True)
    assert len(fijian.stdout.splitlines()) == 1  # the header line alone: no Fijian voice
    assert "fj" not in ESPEAK_VOICES


def test_fijian_has_no_espeak_voice(espeak: EspeakVoice) -> None:
    with pytest.raises(NoVoiceForLanguage, match=r"'fj'.*espeak-ng"):
        espeak.synthesize("Bula vinaka.", "fj", prompt_id="welcome")


def test_text_that_looks_like_options_is_spoken(espeak: EspeakVoice) -> None:
    pcm = espeak.synthesize('-v fr --help "; rm -rf /', "en")

    assert pcm.duration_s > 1.0


def test_a_missing_program_names_the_debian_package() -> None:
    missing = EspeakVoice(executable="espeak-ng-not-installed")

    with pytest.raises(EspeakNotInstalled, match="apt-get install espeak-ng") as failure:
        missing.synthesize("Hello.", "en", prompt_id="welcome")

    assert "prompt 'welcome', language 'en'" in str(failure.value)


def test_a_failing_run_reports_the_exit_status() -> None:
    broken = EspeakVoice(voices={"en": "zz-none"})  # "no-…" would be Norwegian

    with pytest.raises(EngineFailed, match=r"exited with status 1: .*voice does not exist"):
        broken.synthesize("Hello.", "en")


@pytest.mark.parametrize("text", [".", "..."])
def test_a_rendering_without_speech_is_refused(espeak: EspeakVoice, text: str) -> None:
    with pytest.raises(EngineFailed, match="and no speech"):
        espeak.synthesize(text, "en")  # espeak-ng exits 0 with 7 ms, or 0.3 s, of silence


@pytest.mark.parametrize(
    ("text", "language", "error", "message"),
    [
        ("   ", "en", EmptyText, "empty"),
        ("a" * 1001, "en", TextTooLong, "1001 characters"),
        ("नमस्ते", "en", UnreadableScript, "'en' cannot read 'न' \\(DEVANAGARI\\)"),
        ("Привет", "hi", UnreadableScript, "CYRILLIC"),
    ],
)
def test_bad_text_is_refused(
    espeak: EspeakVoice, text: str, language: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        espeak.synthesize(text, language)


def test_hindi_prompts_may_carry_latin_words(espeak: EspeakVoice) -> None:
    assert espeak.synthesize("अपना SMS देखें।", "hi").duration_s > 0.5
