"""The spoken-choice part of the pure flow engine, and its TwiML: no Flask, no database, no audio."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ivr.core.urls import Urls
from ivr.voice.flow import CallState, Context, Gather, Keys, Listen, Number, Prompt, Spoken, Step, next_step
from ivr.voice.twiml import render
from menus import Menus, load_menus

ROOT = Path(__file__).resolve().parents[2]
HEARS_EN = Context(offered=("en", "fr"), listens=frozenset({"en"}))


@pytest.fixture(scope="module")
def menus() -> Menus:
    return load_menus(ROOT / "menus")


def at(node: str, **kw: object) -> CallState:
    return CallState(node=node, language="en", **kw)  # type: ignore[arg-type]


def test_silence_invites_a_spoken_answer_only_where_a_model_hears_the_language(menus: Menus) -> None:
    out = next_step(menus, at("report_topic"), Keys("report_topic", ""), HEARS_EN)
    assert out.step == Step((Prompt("say_the_number"),), Listen("report_topic"))
    assert out.state.attempts == 0  # the silence counts once: when nothing is said either
    french = CallState(node="report_topic", language="fr")
    out = next_step(menus, french, Keys("report_topic", ""), HEARS_EN)
    assert not isinstance(out.step.then, Listen) and Prompt("no_input") in out.step.say
    out = next_step(menus, at("report_topic"), Keys("report_topic", ""), Context(offered=("en",)))
    assert not isinstance(out.step.then, Listen)


def test_only_one_key_menus_listen(menus: Menus) -> None:
    # The reference number (several keys and #) and the language menu (no language yet) never listen.
    out = next_step(menus, at("answer_reference"), Keys("answer_reference", ""), HEARS_EN)
    assert not isinstance(out.step.then, Listen)
    out = next_step(menus, CallState(node="language"), Keys("language", ""), HEARS_EN)
    assert not isinstance(out.step.then, Listen)


def test_a_sure_answer_is_a_key_press(menus: Menus) -> None:
    spoken = next_step(menus, at("report_topic"), Spoken("report_topic", "3", sure=True), HEARS_EN)
    pressed = next_step(menus, at("report_topic"), Keys("report_topic", "3"), HEARS_EN)
    assert spoken == pressed and spoken.state.topic == "roads"


def test_an_unsure_answer_is_confirmed_once(menus: Menus) -> None:
    out = next_step(menus, at("report_topic"), Spoken("report_topic", "3"), HEARS_EN)
    assert out.state.heard == "3" and out.state.topic is None
    assert out.step.say == (Prompt("you_said"), Number("heard"), Prompt("confirm_choice"))
    assert isinstance(out.step.then, Gather) and out.step.then.node == "report_topic"
    yes = next_step(menus, out.state, Keys("report_topic", "1"), HEARS_EN)
    assert yes.state.topic == "roads" and yes.state.heard is None and yes.state.node == "report_place"
    said_yes = next_step(menus, out.state, Spoken("report_topic", "1", sure=True), HEARS_EN)
    assert said_yes == yes
    for no in (Keys("report_topic", "2"), Spoken("report_topic", "2", sure=True), Spoken("report_topic", None)):
        back = next_step(menus, out.state, no, HEARS_EN)
        assert back.state.heard is None and back.state.topic is None and back.state.attempts == 1
        assert back.step.say[0] == Prompt("no_input") and back.state.node == "report_topic"
    # Silent at the question: invited to say yes, the question still open.
    quiet = next_step(menus, out.state, Keys("report_topic", ""), HEARS_EN)
    assert quiet.step == Step((Prompt("say_yes_now"),), Listen("report_topic")) and quiet.state.heard == "3"


def test_nothing_heard_repeats_the_menu_as_a_silence_does(menus: Menus) -> None:
    out = next_step(menus, at("main"), Spoken("main", None), HEARS_EN)
    plain = next_step(menus, at("main"), Keys("main", ""), Context(offered=("en", "fr")))
    assert out == plain


def test_listen_renders_a_short_record_without_beep_or_status_callback() -> None:
    class Silent:
        def resolve(self, language: str, prompt: str) -> None:
            return None

    body = render(Step((), Listen("main")), "en", {}, Silent(), Urls("https://hotline.example"),  # type: ignore[arg-type]
                  max_length=120, state="tok")
    root = ET.fromstring(body)
    record, redirect = list(root)
    assert record.tag == "Record" and redirect.tag == "Redirect"
    assert record.attrib["playBeep"] == "false" and record.attrib["trim"] == "trim-silence"
    assert int(record.attrib["maxLength"]) <= 5 and "recordingStatusCallback" not in record.attrib
    assert record.attrib["action"] == redirect.text == "https://hotline.example/voice/spoken?node=main&s=tok"
    # Only attributes Somleng's <Record> also supports.
    assert set(record.attrib) <= {"action", "method", "timeout", "finishOnKey", "maxLength", "playBeep", "trim"}
