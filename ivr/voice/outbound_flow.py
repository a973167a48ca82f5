"""What a caller hears when the hotline rings them: the answer and a short menu, or a callback's greeting.

Pure: the view (ivr/voice/outbound.py) gathers the facts into an OutboundCall, this decides the step,
and `render_outbound` turns it into TwiML with the same prompt source as every other call.
An answer call greets in the caller's language, reads their reference number, plays the answer,
then offers 1 to hear it again and 2 for the main menu; silence ends it with a goodbye. A callback
call (missed call, key 8) greets and goes straight into the incoming menus.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr.core.prompts import Play, PromptSource, Say
from ivr.voice.flow import Audio, Number, Prompt, Text, Utterance

MENU_TIMEOUT = 8
MENU_TRIES = 3  # wrong keys at the after-answer menu before a polite goodbye


@dataclass(frozen=True)
class OutboundCall:
    """Facts about one outbound call, read from the database by the view."""

    delivery_id: int
    attempt: int
    kind: str  # answer | callback
    language: str
    reference: str | None = None
    answer: Audio | Text | None = None


@dataclass(frozen=True)
class OutboundStep:
    """What to say, then: 'menu' (wait for 1 or 2), 'main' (enter the incoming flow) or 'hangup'."""

    say: tuple[Utterance, ...]
    then: str
    tries: int = 0


def outbound_step(call: OutboundCall, step: str, digits: str, tries: int = 0) -> OutboundStep:
    """Decide the next step of an outbound call from where it is and the key pressed."""
    if call.kind != "answer" or call.answer is None:
        # A callback, or an answer deleted since the call was placed: the caller gets the menus.
        return OutboundStep((Prompt("callback_greeting"),), "main")
    if step != "menu":
        heard: tuple[Utterance, ...] = (Prompt("outbound_greeting"),)
        if call.reference:
            heard += (Prompt("your_reference_is"), Number("reference"))
        return OutboundStep((*heard, Prompt("answer_intro"), call.answer), "menu")
    if digits == "1":
        return OutboundStep((Prompt("answer_intro"), call.answer), "menu")
    if digits == "2":
        return OutboundStep((), "main")
    if not digits:
        return OutboundStep((Prompt("goodbye"),), "hangup")
    if tries + 1 >= MENU_TRIES:
        return OutboundStep((Prompt("invalid_choice"), Prompt("goodbye")), "hangup")
    return OutboundStep((Prompt("invalid_choice"),), "menu", tries=tries + 1)


def outbound_url(base: str, call: OutboundCall, **extra: str) -> str:
    query = {"delivery": str(call.delivery_id), "attempt": str(call.attempt), **extra}
    return f"{base}/voice/outbound?{urlencode(query)}"


def render_outbound(step: OutboundStep, call: OutboundCall, voice: PromptSource, base: str) -> str:
    """Turn an outbound step into TwiML."""
    resp = VoiceResponse()
    numbers = {"reference": call.reference or ""}
    if step.then == "menu":
        _speak(resp, step.say, call.language, numbers, voice)
        gather = resp.gather(action=outbound_url(base, call, step="menu", tries=str(step.tries)), method="POST",
                             timeout=MENU_TIMEOUT, num_digits=1, input="dtmf")
        _speak(gather, (Prompt("outbound_menu"),), call.language, numbers, voice)
        # Silence: Twilio falls through to these verbs, so a caller who just listens hears a goodbye.
        _speak(resp, (Prompt("goodbye"),), call.language, numbers, voice)
        resp.hangup()
    elif step.then == "main":
        _speak(resp, step.say, call.language, numbers, voice)
        # The call's state already holds the language: /voice/step starts it at the main menu.
        resp.redirect(f"{base}/voice/step?{urlencode({'node': 'main'})}", method="POST")
    else:
        _speak(resp, step.say, call.language, numbers, voice)
        resp.hangup()
    return str(resp)


def _speak(verb: VoiceResponse | GatherVerb, items: tuple[Utterance, ...], language: str,
           numbers: dict[str, str], voice: PromptSource) -> None:
    for item in items:
        if isinstance(item, Audio):
            verb.play(item.url)
            continue
        spoken: list[Play | Say | None]
        if isinstance(item, Text):
            said = voice.say_text(language, item.text)
            spoken = [said if said.voice else None]  # never another language's voice reading this text
        elif isinstance(item, Number):
            spoken = [voice.resolve(language, f"digit_{d}") for d in numbers.get(item.field, "") if d.isdigit()]
        else:
            spoken = [voice.resolve(item.language or language, item.id)]
        for one in spoken:
            if one is None:
                continue  # no audio and no <Say> voice: only possible in a language not offered
            if isinstance(one, Play):
                verb.play(one.url)
            elif one.voice:
                verb.say(one.text, language=one.voice)
            else:
                verb.say(one.text)
