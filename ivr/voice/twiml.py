"""Render a flow Step as TwiML, with twilio.twiml.voice_response and nothing hand-written.

Only verbs and attributes that Somleng also runs (Gather DTMF, Play, Say, Pause, Record, Redirect,
Dial, Hangup), so the hotline can move to self-hosted telephony.
"""

from __future__ import annotations

from typing import Any

from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr.core.prompts import Play, PromptSource, Say
from ivr.core.urls import Urls
from ivr.voice.flow import (
    Audio,
    Gather,
    Hangup,
    Listen,
    Number,
    Prompt,
    Record,
    Redirect,
    Step,
    Text,
    Transfer,
    Utterance,
)

LISTEN_SECONDS = 4  # <Record maxLength>: a number, said once
LISTEN_SILENCE_SECONDS = 3  # <Record timeout>: silence that ends it


def render(step: Step, language: str, numbers: dict[str, str], voice: PromptSource, urls: Urls,
           *, max_length: int, operator_number: str = "", state: str = "") -> str:
    """Turn a Step into the TwiML document Twilio plays; every URL in it carries `state` when given."""
    resp = VoiceResponse()
    then = step.then
    if isinstance(then, Gather):
        gather_args: dict[str, Any] = {"action": urls.step(then.node, state), "method": "POST",
                                       "timeout": then.timeout, "input": "dtmf"}
        if then.num_digits:
            gather_args["num_digits"] = then.num_digits
        if then.finish_on_key:
            gather_args["finish_on_key"] = then.finish_on_key
        gather = resp.gather(**gather_args)
        _speak(gather, step.say, language, numbers, voice)
        # Silence: Twilio falls through to the next verb, which reports it as empty keys.
        resp.redirect(urls.step(then.node, state, silence="1"), method="POST")
    elif isinstance(then, Record):
        _speak(resp, step.say, language, numbers, voice)
        resp.record(action=urls.recorded(then.node, state), method="POST", max_length=max_length, finish_on_key="#",
                    play_beep=True, timeout=then.timeout, recording_status_callback=urls.recording_status(),
                    recording_status_callback_method="POST")
        resp.redirect(urls.step(then.node, state, silence="1"), method="POST")
    elif isinstance(then, Listen):
        # A spoken choice: one word, so a few seconds, no beep (the invitation is the cue), silence trimmed.
        # No status callback: it is not a message. Nothing said: Twilio goes on to the Redirect below.
        _speak(resp, step.say, language, numbers, voice)
        resp.record(action=urls.spoken(then.node, state), method="POST", max_length=LISTEN_SECONDS,
                    timeout=LISTEN_SILENCE_SECONDS, play_beep=False, trim="trim-silence", finish_on_key="#")
        resp.redirect(urls.spoken(then.node, state), method="POST")
    elif isinstance(then, Redirect):
        _speak(resp, step.say, language, numbers, voice)
        resp.redirect(urls.step(then.node, state), method="POST")
    elif isinstance(then, Transfer) and operator_number:
        _speak(resp, step.say, language, numbers, voice)
        resp.dial(operator_number)
        resp.hangup()
    else:
        assert isinstance(then, Hangup | Transfer)
        _speak(resp, step.say, language, numbers, voice)
        resp.hangup()
    return str(resp)


def _speak(verb: VoiceResponse | GatherVerb, items: tuple[Utterance, ...], language: str,
           numbers: dict[str, str], voice: PromptSource) -> None:
    for item in items:
        for spoken in _spoken(item, language, numbers, voice):
            if isinstance(spoken, Play):
                verb.play(spoken.url)
            elif spoken.voice:
                verb.say(spoken.text, language=spoken.voice)
            else:
                verb.say(spoken.text)


def _spoken(item: Utterance, language: str, numbers: dict[str, str], voice: PromptSource) -> list[Play | Say]:
    if isinstance(item, Prompt):
        return _present([voice.resolve(item.language or language, item.id)])
    if isinstance(item, Number):
        # Each digit is that language's own digit prompt: numbers work in every language, Fijian included.
        digits = numbers.get(item.field, "")
        return _present([voice.resolve(language, f"digit_{d}") for d in digits if d.isdigit()])
    if isinstance(item, Audio):
        return [Play(item.url)]
    assert isinstance(item, Text)
    said = voice.say_text(language, item.text)
    # Free text only in its own language's voice: never Twilio's default (English) reading Fijian.
    return [said] if said.voice else []


def _present(spoken: list[Play | Say | None]) -> list[Play | Say]:
    """Drop prompts that have no audio and no <Say> voice (only possible in a language not offered)."""
    return [s for s in spoken if s is not None]


def render_error(voice: PromptSource, language: str) -> str:
    """Answer Twilio with a polite goodbye when something failed on our side mid-call."""
    resp = VoiceResponse()
    for spoken in _present([voice.resolve(language, "technical_problem")]):
        if isinstance(spoken, Play):
            resp.play(spoken.url)
        else:
            resp.say(spoken.text, **({"language": spoken.voice} if spoken.voice else {}))
    resp.hangup()
    return str(resp)
