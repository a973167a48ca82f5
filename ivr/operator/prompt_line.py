"""The prompt-recording line: a native speaker records every missing prompt of a language by phone.

Point a second phone number's voice webhook at /voice/prompt-line/incoming (or forward to it). After
the PIN (HOTLINE_PROMPT_LINE_PIN; empty turns the line off), the speaker picks a language and hears,
prompt after prompt, what callers hear in the reference language (its audio, or its text spoken)
and the language's written text, records after the beep, listens, and keeps (1), redoes (2), listens
again (3) or skips (9). A kept take is fetched from Twilio by a job (worker.prompt_takes) and stored
exactly as an upload on the operator page is: converted, checked, in HOTLINE_DATA_DIR/prompt-recordings,
where the operator page plays it and anyone with the page can replace it.

Where the speaker is travels in the action URLs; Twilio signs the exact URL, so nobody without the
auth token can skip the PIN by editing it (as with the call state: ivr/voice/state_token.py).
"""

from __future__ import annotations

import hmac
import logging
import re
import tomllib
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.core.prompts import Play
from ivr.core.services import Services, services
from ivr.voice import webhooks

log = logging.getLogger(__name__)
bp = Blueprint("prompt_line", __name__, url_prefix="/voice/prompt-line")

STORE_JOB = "worker.prompt_takes.store_prompt_take"
MAX_PIN_TRIES = 3
MAX_MISSES = 3  # silences in a row at the beep before the line says goodbye
TAKE_MAX_SECONDS = 60
PROMPT_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@bp.before_request
def line_on() -> None:
    """The line exists only when a PIN is set."""
    if not services().config.prompt_line_pin:
        abort(404)


bp.before_request(webhooks.verify_twilio)  # after line_on: a line that is off answers 404 to everyone


@bp.errorhandler(Exception)
def line_error(exc: Exception) -> Response:
    """Answer valid TwiML whatever failed: a polite goodbye, never an error page read aloud."""
    if getattr(exc, "code", None) in (403, 404, 405, 415):
        return exc  # type: ignore[return-value]
    log.exception("prompt line %s failed", request.endpoint)
    svc = services()
    response = VoiceResponse()
    _say(svc, response, "goodbye")
    response.hangup()
    return webhooks.twiml(str(response))


def phrases(svc: Services) -> dict[str, str]:
    """The line's words in its reference language (menus/prompt_line.toml beside the menus)."""
    path = Path(svc.menus.root) / "prompt_line.toml"
    with path.open("rb") as f:
        data = tomllib.load(f)
    reference = svc.config.prompt_line_reference
    return dict(data.get(reference) or data["en"])


def _say(svc: Services, target: VoiceResponse | Gather, phrase: str, **values: str) -> None:
    voice = svc.menus.languages[svc.config.prompt_line_reference].twilio_voice
    target.say(phrases(svc)[phrase].format(**values), language=voice or None)


def _url(svc: Services, path: str, **query: str | int) -> str:
    return f"{svc.config.public_base_url}/voice/prompt-line/{path}" + (f"?{urlencode(query)}" if query else "")


def missing(svc: Services, language: str) -> list[str]:
    """The language's prompts without a human recording, in the order callers meet them."""
    library = svc.prompts.library
    library.refresh()
    return [pid for pid in library.required
            if (found := library.find(language, pid)) is None or found.source != "human"]


@bp.post("/incoming")
def incoming() -> Response:
    """Ask for the PIN."""
    return _ask_pin(services(), 0)


def _ask_pin(svc: Services, tries: int) -> Response:
    response = VoiceResponse()
    gather = Gather(action=_url(svc, "pin", tries=tries), method="POST", timeout=10, finish_on_key="#")
    _say(svc, gather, "enter_pin")
    response.append(gather)
    _say(svc, response, "goodbye")
    response.hangup()
    return webhooks.twiml(str(response))


@bp.post("/pin")
def pin() -> Response:
    """Check the PIN (three tries per call), then offer the languages."""
    svc = services()
    tries = _int_arg("tries", 0, MAX_PIN_TRIES)
    sent = request.form.get("Digits", "")[:32]
    if not hmac.compare_digest(sent.encode(), svc.config.prompt_line_pin.encode()):
        log.warning("prompt line: wrong PIN (try %d)", tries + 1)  # never the digits
        if tries + 1 >= MAX_PIN_TRIES:
            response = VoiceResponse()
            _say(svc, response, "wrong_pin")
            _say(svc, response, "goodbye")
            response.hangup()
            return webhooks.twiml(str(response))
        return _ask_pin(svc, tries + 1)
    return _choose_language(svc)


def _choose_language(svc: Services) -> Response:
    response = VoiceResponse()
    gather = Gather(action=_url(svc, "language", ok=1), method="POST", timeout=10, num_digits=1)
    _say(svc, gather, "choose_language")
    for lang in sorted(svc.menus.languages.values(), key=lambda lang: lang.key):
        _say(svc, gather, "language_option", language=lang.name, key=lang.key)
    response.append(gather)
    _say(svc, response, "goodbye")
    response.hangup()
    return webhooks.twiml(str(response))


@bp.post("/language")
def language() -> Response:
    """Start on the language's first missing prompt."""
    svc = services()
    _require_pin_passed()
    lang = svc.menus.language_by_key(request.form.get("Digits", "")[:1])
    if lang is None:
        return _choose_language(svc)
    return _next_prompt(svc, lang.code, after=None)


def _next_prompt(svc: Services, code: str, after: str | None) -> Response:
    """Present the first missing prompt after `after` (None: from the start), or say all are done."""
    todo = missing(svc, code)
    if after is not None and after in svc.prompts.library.required:
        order = list(svc.prompts.library.required)
        todo = [pid for pid in todo if order.index(pid) > order.index(after)]
    if not todo:
        response = VoiceResponse()
        _say(svc, response, "all_done", language=svc.menus.languages[code].name)
        response.hangup()
        return webhooks.twiml(str(response))
    return _present(svc, code, todo[0])


def _present(svc: Services, code: str, pid: str, misses: int = 0) -> Response:
    """What callers hear in the reference language, the written text, then the beep."""
    reference = svc.config.prompt_line_reference
    required = list(svc.prompts.library.required)
    lang = svc.menus.languages[code]
    response = VoiceResponse()
    _say(svc, response, "prompt_intro", number=str(required.index(pid) + 1), total=str(len(required)),
         prompt=pid.replace("_", " "))
    _say(svc, response, "reference_is", reference=svc.menus.languages[reference].name)
    heard = svc.prompts.resolve(reference, pid)
    if isinstance(heard, Play):
        response.play(heard.url)
    else:
        response.say(svc.menus.text(reference, pid),
                     language=svc.menus.languages[reference].twilio_voice or None)
    if code != reference and lang.prompts.get(pid):
        _say(svc, response, "text_is", language=lang.name)
        response.say(lang.prompts[pid], language=svc.menus.languages[reference].twilio_voice or None)
    _say(svc, response, "record_now", language=lang.name)
    response.record(action=_url(svc, "take", ok=1, lang=code, p=pid), method="POST", max_length=TAKE_MAX_SECONDS,
                    timeout=5, finish_on_key="#", play_beep=True)
    _say(svc, response, "nothing_heard")
    response.redirect(_url(svc, "again", ok=1, lang=code, p=pid, n=misses + 1), method="POST")
    return webhooks.twiml(str(response))


@bp.post("/again")
def again() -> Response:
    """Present the same prompt again (nothing was recorded, or the speaker asked to redo it)."""
    svc = services()
    _require_pin_passed()
    code, pid = _lang_and_prompt(svc)
    misses = _int_arg("n", 0, MAX_MISSES)
    if misses >= MAX_MISSES:  # a line left open in silence ends, like a caller's too_many_tries
        response = VoiceResponse()
        _say(svc, response, "goodbye")
        response.hangup()
        return webhooks.twiml(str(response))
    return _present(svc, code, pid, misses)


@bp.post("/take")
def take() -> Response:
    """The <Record> action: play the take back and ask keep, redo, listen again or skip."""
    svc = services()
    _require_pin_passed()
    code, pid = _lang_and_prompt(svc)
    url = request.form.get("RecordingUrl", "")
    if not url.startswith(("http://", "https://")) or not webhooks.SID.match(request.form.get("RecordingSid", "")):
        return _present(svc, code, pid)
    return _review(svc, code, pid, url)


def _review(svc: Services, code: str, pid: str, url: str) -> Response:
    response = VoiceResponse()
    gather = Gather(action=_url(svc, "review", ok=1, lang=code, p=pid, take=url), method="POST", timeout=10,
                    num_digits=1)
    _say(svc, gather, "you_said")
    gather.play(url)
    _say(svc, gather, "review")
    response.append(gather)
    response.redirect(_url(svc, "review", ok=1, lang=code, p=pid, take=url) + "&silence=1", method="POST")
    return webhooks.twiml(str(response))


@bp.post("/review")
def review() -> Response:
    """1 keep (a job stores it like an upload), 2 record again, 3 listen again, 9 skip; silence repeats."""
    svc = services()
    _require_pin_passed()
    code, pid = _lang_and_prompt(svc)
    url = request.args.get("take", "")
    if not url.startswith(("http://", "https://")):
        abort(400, description="take is required")
    key = "" if request.args.get("silence") == "1" else request.form.get("Digits", "")[:1]
    if key == "1":
        svc.queue.enqueue(STORE_JOB, code, pid, url, job_id=f"prompt-take-{code}-{pid}-{url.rsplit('/', 1)[-1]}")
        log.info("prompt line: take kept for %s/%s", code, pid)
        response_first = VoiceResponse()
        _say(svc, response_first, "kept")
        following = _next_prompt(svc, code, after=pid)
        return webhooks.twiml(_joined(response_first, following))
    if key == "2":
        return _present(svc, code, pid)
    if key == "9":
        return _next_prompt(svc, code, after=pid)
    return _review(svc, code, pid, url)


def _joined(first: VoiceResponse, then: Response) -> str:
    """One TwiML document: `first`'s verbs, then those of an already rendered answer."""
    head = str(first).rsplit("</Response>", 1)[0]
    body = then.get_data(as_text=True)
    return head + body.split("<Response>", 1)[-1] if "<Response>" in body else head + "</Response>"


def _require_pin_passed() -> None:
    # The URLs carrying ok=1 were written by us and signed by Twilio: only a caller past the PIN reaches them.
    if request.args.get("ok") != "1":
        abort(403, description="the PIN comes first")


def _lang_and_prompt(svc: Services) -> tuple[str, str]:
    code, pid = request.args.get("lang", ""), request.args.get("p", "")
    if code not in svc.menus.languages or not PROMPT_ID.match(pid) or pid not in svc.prompts.library.required:
        abort(400, description="lang and p must name a language and one of its prompts")
    return code, pid


def _int_arg(name: str, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    return min(high, max(low, int(raw))) if raw.isdigit() else low
