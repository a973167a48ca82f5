"""Render prompts end to end: which engine speaks, the cache, batches, and the errors callers see."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from speech.espeak_voice import EspeakVoice
from speech.gtts_voice import GttsVoice
from speech.telephone_audio import check_playable
from speech.tts import PromptText, RenderOutcome, find_cached, render, render_many, voices_for
from speech.tts_errors import (
    AllVoicesFailed,
    EmptyText,
    NoVoiceForLanguage,
    TextTooLong,
    UnreadableScript,
)

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import FakeGoogleTTS

WELCOME = "Welcome to Talanoa. Press 1 to leave a message."


def test_gtts_speaks_when_its_endpoint_answers(
    gtts: GttsVoice, espeak: EspeakVoice, google_tts: FakeGoogleTTS, cache_dir: Path
) -> None:
    prompt = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak), prompt_id="welcome")

    assert (prompt.engine, prompt.voice) == ("gtts", "en@com.au")
    assert [(r.path, r.lang, r.text) for r in google_tts.received] == [(google_tts.path, "en", WELCOME)]
    check = check_playable(prompt.path)
    assert check.playable, check.problems
    assert prompt.sample_rate == check.sample_rate == 8000
    assert prompt.duration_s == pytest.approx(check.duration_s)
    assert prompt.path.is_relative_to(cache_dir / "en")


@pytest.mark.parametrize(("language", "text"), [("fr", "Bienvenue sur Talanoa."), ("hi", "टालानोआ में आपका स्वागत है।")])
def test_gtts_is_asked_in_each_language_it_has(
    gtts: GttsVoice, google_tts: FakeGoogleTTS, cache_dir: Path, language: str, text: str
) -> None:
    prompt = render(text, language, cache_dir=cache_dir, voices=(gtts,))

    assert prompt.engine == "gtts"
    assert [(r.lang, r.text) for r in google_tts.received] == [(language, text)]


def test_long_text_is_sent_in_pieces_and_joined(gtts: GttsVoice, google_tts: FakeGoogleTTS, cache_dir: Path) -> None:
    text = " ".join([WELCOME] * 5)  # gTTS sends at most 100 characters per request

    prompt = render(text, "en", cache_dir=cache_dir, voices=(gtts,))

    pieces = len(google_tts.received)
    assert pieces >= 3
    one_piece = render("Hello.", "en", cache_dir=cache_dir, voices=(gtts,)).duration_s
    assert prompt.duration_s == pytest.approx(pieces * one_piece, rel=0.05)


def test_espeak_speaks_when_the_endpoint_refuses(refused_url: str, espeak: EspeakVoice, cache_dir: Path) -> None:
    gtts = GttsVoice(base_url=refused_url, connect_timeout_s=0.5, read_timeout_s=0.5)

    prompt = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak))

    assert (prompt.engine, prompt.voice) == ("espeak-ng", "en")
    assert check_playable(prompt.path).playable


def test_espeak_speaks_when_the_endpoint_times_out(
    gtts: GttsVoice, espeak: EspeakVoice, google_tts: FakeGoogleTTS, cache_dir: Path
) -> None:
    google_tts.mode = "slow"
    started = time.monotonic()

    prompt = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak))

    assert prompt.engine == "espeak-ng"
    assert len(google_tts.received) == 1
    assert time.monotonic() - started < 3


def test_an_unreachable_endpoint_is_named(
    gtts: GttsVoice, google_tts: FakeGoogleTTS, refused_url: str, cache_dir: Path
) -> None:
    offline = GttsVoice(base_url=refused_url, connect_timeout_s=0.5)
    google_tts.mode = "slow"

    with pytest.raises(AllVoicesFailed, match=f"gtts: gTTS endpoint {refused_url} refused the connection"):
        render(WELCOME, "en", cache_dir=cache_dir, voices=(offline,))
    with pytest.raises(AllVoicesFailed, match=r"did not answer within 0\.5 s"):
        render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,))


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error500", "answered HTTP 500"),
        ("no_audio", "answered without audio"),
        ("empty", "answered without audio"),
    ],
)
def test_a_bad_answer_falls_back_and_is_named(
    gtts: GttsVoice, espeak: EspeakVoice, google_tts: FakeGoogleTTS, cache_dir: Path, mode: str, message: str
) -> None:
    google_tts.mode = mode

    assert render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak)).engine == "espeak-ng"
    with pytest.raises(AllVoicesFailed, match=message) as failure:
        render(WELCOME, "fr", cache_dir=cache_dir, voices=(gtts,), prompt_id="menu.main")

    assert "prompt 'menu.main', language 'fr'" in str(failure.value)
    assert list(failure.value.reasons) == ["gtts"]


def test_a_cache_hit_calls_no_engine(gtts: GttsVoice, google_tts: FakeGoogleTTS, cache_dir: Path) -> None:
    assert find_cached(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,)) is None

    first = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,))
    again = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,))
    found = find_cached(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,))

    assert len(google_tts.received) == 1
    assert again == first == found


def test_editing_a_prompt_renders_only_that_prompt(gtts: GttsVoice, google_tts: FakeGoogleTTS, cache_dir: Path) -> None:
    goodbye = "Thank you for calling."
    old = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,))
    kept = render(goodbye, "en", cache_dir=cache_dir, voices=(gtts,))
    edited_text = WELCOME.replace("Press 1", "Press 2")

    edited = render(edited_text, "en", cache_dir=cache_dir, voices=(gtts,))
    render(goodbye, "en", cache_dir=cache_dir, voices=(gtts,))
    render(f"  {goodbye}\n", "en", cache_dir=cache_dir, voices=(gtts,))  # same words, new line breaks

    assert google_tts.texts() == [WELCOME, goodbye, edited_text]
    assert edited.cache_key != old.cache_key
    assert find_cached(goodbye, "en", cache_dir=cache_dir, voices=(gtts,)) == kept


def test_force_renders_again(gtts: GttsVoice, google_tts: FakeGoogleTTS, cache_dir: Path) -> None:
    render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,))
    render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts,), force=True)

    assert len(google_tts.received) == 2


def test_a_fallback_rendering_is_kept_until_forced(
    gtts: GttsVoice, espeak: EspeakVoice, google_tts: FakeGoogleTTS, refused_url: str, cache_dir: Path
) -> None:
    offline = GttsVoice(base_url=refused_url, connect_timeout_s=0.5)
    assert render(WELCOME, "en", cache_dir=cache_dir, voices=(offline, espeak)).engine == "espeak-ng"

    cached = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak))
    upgraded = render(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak), force=True)
    preferred = find_cached(WELCOME, "en", cache_dir=cache_dir, voices=(gtts, espeak))

    assert cached.engine == "espeak-ng"
    assert upgraded.engine == "gtts"
    assert preferred == upgraded
    assert len(google_tts.received) == 1


def test_fijian_has_no_voice(gtts: GttsVoice, espeak: EspeakVoice, cache_dir: Path) -> None:
    assert voices_for("fj", (gtts, espeak)) == []
    assert voices_for("hi", (gtts, espeak)) == ["gtts:hi@co.in", "espeak-ng:hi"]

    with pytest.raises(NoVoiceForLanguage, match="'fj'") as failure:
        render("Bula vinaka.", "fj", cache_dir=cache_dir, voices=(gtts, espeak), prompt_id="welcome")

    assert failure.value.language == "fj"
    assert failure.value.prompt_id == "welcome"
    assert "gtts, espeak-ng" in str(failure.value)
    assert find_cached("Bula vinaka.", "fj", cache_dir=cache_dir, voices=(gtts, espeak)) is None


@pytest.mark.parametrize(
    ("text", "language", "error", "message"),
    [
        ("", "en", EmptyText, "empty"),
        (" \n\t ", "fr", EmptyText, "empty"),
        ("...", "en", EmptyText, "nothing to speak"),
        ("Press one. " * 100, "en", TextTooLong, "1099 characters"),
        ("Press 1: नमस्ते", "en", UnreadableScript, "DEVANAGARI"),
        ("Appuyez sur 1 — 你好", "fr", UnreadableScript, "CJK"),
        ("नमस्ते Привет", "hi", UnreadableScript, "CYRILLIC"),
    ],
)
def test_bad_text_is_refused_before_any_engine_runs(
    gtts: GttsVoice,
    espeak: EspeakVoice,
    google_tts: FakeGoogleTTS,
    cache_dir: Path,
    text: str,
    language: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message) as failure:
        render(text, language, cache_dir=cache_dir, voices=(gtts, espeak), prompt_id="p1")

    assert f"prompt 'p1', language '{language}'" in str(failure.value)
    assert google_tts.received == []
    assert not cache_dir.exists()


def test_render_many_reports_each_prompt_as_it_goes(
    gtts: GttsVoice, espeak: EspeakVoice, google_tts: FakeGoogleTTS, cache_dir: Path
) -> None:
    items = [
        PromptText(WELCOME, "en", "welcome"),
        PromptText("Bienvenue.", "fr", "welcome"),
        PromptText("Bula vinaka.", "fj", "welcome"),
        PromptText("", "en", "blank"),
        PromptText(WELCOME, "en", "welcome.again"),
    ]
    seen: list[RenderOutcome] = []

    outcomes = render_many(iter(items), cache_dir=cache_dir, voices=(gtts, espeak), on_progress=seen.append)

    assert seen == outcomes
    assert [o.item for o in outcomes] == items
    assert [o.status for o in outcomes] == ["rendered", "rendered", "failed", "failed", "cached"]
    assert outcomes[0].prompt is not None and outcomes[0].prompt.engine == "gtts"
    assert outcomes[2].reason is not None and "no text-to-speech voice for language 'fj'" in outcomes[2].reason
    assert outcomes[3].reason is not None and "prompt 'blank'" in outcomes[3].reason
    assert google_tts.texts() == [WELCOME, "Bienvenue."]


def test_render_many_stops_waiting_on_an_unreachable_engine(
    gtts: GttsVoice, espeak: EspeakVoice, google_tts: FakeGoogleTTS, cache_dir: Path
) -> None:
    google_tts.mode = "slow"
    items = [PromptText(f"Prompt number {n}.", "en", f"p{n}") for n in range(5)]
    started = time.monotonic()

    outcomes = render_many(items, cache_dir=cache_dir, voices=(gtts, espeak))

    assert {(o.status, o.prompt.engine if o.prompt else None) for o in outcomes} == {("rendered", "espeak-ng")}
    assert len(google_tts.received) == 1
    assert time.monotonic() - started < 3
