"""Callers who say the number instead of pressing it: whole calls through the emulator, real recordings.

The spoken answers are real recordings of digit words (../shared/audio/digits, 8 kHz). Which ones is
found by the shipped recogniser itself (`example`): the first recording of a digit that it hears
sure, or unsure but right, with the very words the call listens for at that menu. When the
recogniser changes, the examples follow it instead of breaking.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.core.config import Config
from ivr.core.models import Message, Recording
from ivr.core.services import services
from ivr.voice.emulator import CallLog, Phone, Script
from ivr.voice.flow import CallState
from ivr.voice.media_host import Fault, MediaHost
from ivr.voice.spoken import choices_for, hear_choice
from menus import load_menus
from speech.choice import recognise_choice

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / ".." / "shared" / "audio" / "digits"
SPEAKERS = ("jackson", "nicolas", "george")


def said(name: str) -> bytes:
    return (DIGITS / f"{name}.wav").read_bytes()


@functools.cache
def example(digit: str, node: str, sure: bool | None, confirming: bool = False) -> str:
    """Return the first recording of `digit` (by speaker, then take) heard as that digit at `node`.

    `sure`: heard sure (True), unsure but right (False) or either (None); `confirming`: at the
    "press or say one for yes" question, whose words are one/yes and two/no.
    """
    flow = load_menus(ROOT / "menus").flow
    choices = choices_for(flow, flow.node(node), CallState(heard="1" if confirming else None), "en")
    for speaker in SPEAKERS:
        for take in range(50):
            name = f"{digit}_{speaker}_{take}"
            choice = recognise_choice(DIGITS / f"{name}.wav", choices, "en", None)
            if choice.key == digit and (sure is None or choice.sure == sure):
                return name
    pytest.fail(f"no recording of {digit} is heard {'sure' if sure else 'unsure'} at {node}")


def text(app: Flask, lang: str, prompt: str) -> str:
    return services(app).menus.text(lang, prompt)


def spoken_exchanges(log: CallLog) -> list[str]:
    return [e.url for e in log.exchanges if "/voice/spoken" in e.url]


def test_a_whole_report_answered_by_voice_with_an_unsure_choice_confirmed(
    app: Flask, phone: Phone, media: MediaHost, speech_wav: bytes,
) -> None:
    # Keys only at the language menu (no language yet, so nothing to listen in); every other menu by voice.
    steps: list[str | None] = ["1", None, "SAY", None, "SAY", None, "SAY", None, "SAY", None, "SAY", "REC",
                               None, "SAY"]
    voices = [said(example("1", "main", sure=False)),  # "one": heard, not surely -> "You said one. Press or say..."
              said(example("1", "main", sure=None, confirming=True)),  # "one": yes
              said(example("2", "report_topic", sure=True)),  # topic: health
              said(example("4", "report_place", sure=True)),  # place: Lautoka
              said(example("1", "report_consent", sure=True)),  # consent: share with the agency
              speech_wav,  # the message itself, after the beep
              said(example("1", "review", sure=True))]  # review: keep it
    log = phone.call(Script(steps, voices))
    heard = log.said()
    assert log.hung_up
    assert heard.count(text(app, "en", "say_the_number")) == 5  # main, topic, place, consent, review
    assert heard.count(text(app, "en", "say_yes_now")) == 1  # silent at "press or say one for yes"
    assert text(app, "en", "you_said") in heard and text(app, "en", "confirm_choice") in heard
    # The confirmation names what was heard, in the caller's language's digit prompts.
    assert heard[heard.index(text(app, "en", "you_said")) + 1] == text(app, "en", "digit_1")
    svc = services(app)
    with svc.db.session() as s:
        message = s.scalars(select(Message)).one()
        assert (message.topic, message.place, message.consent, message.confirmed) == (
            "health", "lautoka", "agency", True)
        stored = {r.recording_sid for r in s.scalars(select(Recording))}
        assert message.recording is not None
        kept = message.recording.recording_sid
    spoken_sids = [sid for sid in log.recordings if sid not in stored]
    assert len(spoken_sids) == 6 and len(stored) == 1  # only the message was kept: spoken choices are not messages
    for sid in spoken_sids:
        assert sid not in media.recordings  # Twilio's copy deleted
        assert ("DELETE", f"/2010-04-01/Accounts/{media.account_sid}/Recordings/{sid}.json") in media.requests
    assert kept not in spoken_sids


def test_an_unsure_choice_rejected_repeats_the_menu_as_a_silence_does(
    app: Flask, phone: Phone, media: MediaHost,
) -> None:
    log = phone.call(Script(["1", None, "SAY", "2", None, None], [said(example("1", "main", sure=False))]))
    heard = log.said()
    confirm = heard.index(text(app, "en", "confirm_choice"))
    # "No": the caller hears what a silence brings, the menu again, and nothing was chosen.
    assert heard[confirm + 1] == text(app, "en", "no_input")
    assert heard[confirm + 2] == text(app, "en", "main_menu")
    assert heard[-1] == text(app, "en", "too_many_tries")
    with services(app).db.session() as s:
        assert s.scalars(select(Message)).first() is None
    assert log.recordings and all(sid not in media.recordings for sid in log.recordings)


def test_a_sure_choice_goes_on_as_if_the_key_was_pressed(app: Flask, phone: Phone) -> None:
    # Main menu, said "two": straight to "key in your reference number", no confirmation.
    log = phone.call(Script(["1", None, "SAY", None, None, None], [said(example("2", "main", sure=True))]))
    heard = log.said()
    assert text(app, "en", "you_said") not in heard
    assert heard[heard.index(text(app, "en", "say_the_number")) + 1] == text(app, "en", "enter_reference")


def test_a_language_without_a_model_is_never_invited_to_speak(app: Flask, phone: Phone) -> None:
    # French: no Vosk model installed here, and PocketSphinx speaks English only.
    log = phone.call(Script(["2", None, None, None]))
    assert text(app, "fr", "say_the_number") not in log.said()
    assert not spoken_exchanges(log)
    assert log.said()[-1] == text(app, "fr", "too_many_tries")


def test_a_caller_who_says_nothing_hears_the_menu_again(app: Flask, phone: Phone) -> None:
    log = phone.call(Script(["1", None, None, None]))
    heard = log.said()
    assert heard.count(text(app, "en", "say_the_number")) == 3
    assert len(spoken_exchanges(log)) == 3  # Twilio's fall-through after the silent <Record>
    assert heard[-1] == text(app, "en", "too_many_tries")


def test_the_fetch_waits_out_twilios_404_then_deletes_its_copy(app: Flask, media: MediaHost) -> None:
    config: Config = services(app).config
    sid, url = media.add(said(example("2", "report_topic", sure=True)))
    media.faults[sid] += [Fault(404, b'{"code": 20404}', "application/json")] * 2
    flow = services(app).menus.flow
    choice = hear_choice(config, url, "en", choices_for(flow, flow.node("report_topic"), CallState(), "en"))
    assert choice is not None and choice.key == "2" and choice.sure
    gets = [path for method, path in media.requests if method == "GET"]
    assert len(gets) == 3 and sid not in media.recordings


def test_a_recording_that_never_arrives_is_no_answer(app: Flask, media: MediaHost) -> None:
    config: Config = services(app).config
    sid, url = media.add(said("2_jackson_0"))
    media.faults[sid] += [Fault(404, b"{}", "application/json")] * 10
    flow = services(app).menus.flow
    assert hear_choice(config, url, "en", choices_for(flow, flow.node("main"), CallState(), "en")) is None
