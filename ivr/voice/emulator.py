"""A phone that speaks Twilio's webhook protocol: place whole calls without a phone or Twilio.

It interprets TwiML the way Twilio does (Gather with its timeout fall-through, Record with its
action and status callback, Redirect, Play/Say/Pause, Dial, Hangup), signs every request with the
auth token, and hosts what the caller "records" at Twilio-shaped media URLs. The end-to-end tests
and `hotline call` are built on it.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from ivr.voice.media_host import MediaHost

MAX_REQUESTS = 200  # a call that needs more webhooks than this is looping: stop it
HANG_UP = "HANGUP"  # what a Caller returns (from keys or record) to put the phone down there


class Transport(Protocol):
    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        """POST a form to a URL the app gave; return status and body."""
        ...


class FlaskTransport:
    """Deliver requests to an app in this process through Flask's test client."""

    def __init__(self, client: object) -> None:
        self.client = client

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        resp = self.client.post(path, data=form, headers=headers)  # type: ignore[attr-defined]
        return resp.status_code, resp.get_data(as_text=True)


class HttpTransport:
    """Deliver requests over HTTP to a running hotline (`hotline serve`)."""

    def __init__(self, server: str, timeout: float = 10.0) -> None:
        import requests

        self.server = server.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        target = self.server + parts.path + (f"?{parts.query}" if parts.query else "")
        resp = self.session.post(target, data=form, headers=headers, timeout=self.timeout)
        return resp.status_code, resp.text


@dataclass(frozen=True)
class Heard:
    """Something the caller heard: a Say's text, a Play's URL, a pause, a beep, a transfer."""

    kind: str
    text: str = ""
    language: str = ""


@dataclass
class Exchange:
    """One webhook request and the app's answer."""

    url: str
    form: dict[str, str]
    status: int
    body: str


class Caller(Protocol):
    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        """Return the keys pressed at a <Gather>, None to stay silent until it times out, or HANG_UP."""
        ...

    def record(self, heard: list[Heard]) -> bytes | str | None:
        """Return the WAV bytes spoken at a <Record>, None to stay silent, or HANG_UP."""
        ...


@dataclass
class Script:
    """A caller who presses the given keys in order; 'REC' speaks the next recording, None is silence,
    HANG_UP puts the phone down (at keys or at the beep).

    'SAY' answers an invitation to say the number with the next recording (a caller who cannot press keys);
    at an invitation whose next step is not 'SAY', the caller stays silent.
    """

    steps: list[str | None]
    recordings: list[bytes] = field(default_factory=list)

    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        if not self.steps:
            raise CallError(f"the script ran out of key presses; last heard: {heard[-3:]}")
        step = self.steps.pop(0)
        if step == "REC":
            raise CallError("the script expected to record but the hotline asked for keys")
        return step

    def record(self, heard: list[Heard]) -> bytes | str | None:
        if not self.steps:
            raise CallError("the script ran out of steps at a recording")
        step = self.steps.pop(0)
        if step is None or step == HANG_UP:
            return step
        if step != "REC":
            raise CallError(f"the script wanted to press {step!r} but the hotline asked for a recording")
        return self.recordings.pop(0)

    def speak(self, heard: list[Heard]) -> bytes | None:
        """Answer an invitation to say a menu choice: the next recording if the next step is "SAY", else silence."""
        if not self.steps or self.steps[0] != "SAY":
            return None
        self.steps.pop(0)
        return self.recordings.pop(0)


class CallError(Exception):
    """The emulated call went wrong: a non-TwiML answer, an HTTP error, a loop, or a script mismatch."""


@dataclass
class CallLog:
    """Everything that happened in one emulated call."""

    call_sid: str
    heard: list[Heard] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    hung_up: bool = False  # the hotline ended the call (<Hangup>, or out of verbs)
    caller_hung_up: bool = False  # the caller put the phone down (HANG_UP)
    dialled: list[str] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)  # form fields of every request (outbound calls)

    def said(self) -> list[str]:
        return [h.text for h in self.heard if h.kind == "say"]

    def transcript(self) -> str:
        return "\n".join(h.text for h in self.heard if h.text)


@dataclass
class Phone:
    """Place calls to the hotline the way Twilio would."""

    transport: Transport
    auth_token: str
    base_url: str
    media: MediaHost
    from_number: str = "+6799990000"
    to_number: str = "+6793300000"
    # "after" (Twilio's usual order), "before" the <Record> action, "twice" or "none".
    recording_callback: str = "after"
    status_callback: bool = True
    on_exchange: Callable[[Exchange], None] | None = None

    def sign(self, url: str, form: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(url, form)}

    def post(self, log: CallLog, url: str, extra: dict[str, str]) -> str:
        form = {"CallSid": log.call_sid, "AccountSid": self.media.account_sid, "From": self.from_number,
                "To": self.to_number, "Caller": self.from_number, "Called": self.to_number,
                "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01", **log.overrides,
                **extra}
        status, body = self.transport.post(url, form, self.sign(url, form))
        exchange = Exchange(url, form, status, body)
        log.exchanges.append(exchange)
        if self.on_exchange:
            self.on_exchange(exchange)
        if status != 200:
            raise CallError(f"{url} answered HTTP {status}: {body[:200]}")
        return body

    def call(self, caller: Caller, call_sid: str | None = None, path: str = "/voice/incoming") -> CallLog:
        """Ring the hotline (its number's voice webhook at `path`) and follow its TwiML until it hangs up."""
        log = CallLog(call_sid=call_sid or "CA" + secrets.token_hex(16))
        body = self.post(log, f"{self.base_url}{path}", {"CallStatus": "ringing"})
        self._follow(log, body, caller)
        if self.status_callback:
            self.post(log, f"{self.base_url}/voice/status",
                      {"CallStatus": "completed", "CallDuration": str(5 + len(log.exchanges))})
        return log

    def answer(self, url: str, caller: Caller, call_sid: str) -> CallLog:
        """Pick up a call the hotline placed: fetch its TwiML from `url` as Twilio does, and follow it.

        Twilio's requests for a call placed through its REST API come From the hotline's number To
        this phone, with Direction outbound-api. No status callback is sent: tests send their own.
        """
        log = CallLog(call_sid=call_sid, overrides={"From": self.to_number, "To": self.from_number,
                                                    "Caller": self.to_number, "Called": self.from_number,
                                                    "Direction": "outbound-api"})
        self._follow(log, self.post(log, url, {"CallStatus": "in-progress"}), caller)
        return log

    def _follow(self, log: CallLog, body: str, caller: Caller) -> None:
        """Run TwiML documents, making each request they lead to, until the call ends."""
        while True:
            if len(log.exchanges) >= MAX_REQUESTS:
                raise CallError(f"more than {MAX_REQUESTS} webhooks in one call: the flow is looping")
            nxt = self._run(log, body, caller)
            if nxt is None:
                break
            body = nxt if isinstance(nxt, str) else self.post(log, nxt[0], nxt[1])

    def _run(self, log: CallLog, body: str, caller: Caller) -> tuple[str, dict[str, str]] | str | None:
        """Run one TwiML document: return the next request to make, TwiML already fetched, or None."""
        try:
            root = ET.fromstring(body)  # noqa: S314 - the TwiML comes from our own app under test
        except ET.ParseError as exc:
            raise CallError(f"answer is not XML: {exc}: {body[:200]}") from exc
        if root.tag != "Response":
            raise CallError(f"answer is not TwiML (root <{root.tag}>)")
        for verb in root:
            if verb.tag in ("Say", "Play", "Pause"):
                self._hear(log, verb)
            elif verb.tag == "Gather":
                for inner in verb:
                    self._hear(log, inner)
                keys = caller.keys(log.heard, verb)
                if keys == HANG_UP:
                    log.caller_hung_up = True
                    return None  # Twilio makes no request for a Gather the caller hung up on
                if keys is None:
                    if verb.get("actionOnEmptyResult") == "true":
                        return action_url(verb), {"Digits": ""}
                    continue  # Twilio falls through to the next verb on silence
                return action_url(verb), {"Digits": gathered_digits(verb, keys)}
            elif verb.tag == "Record" and verb.get("playBeep") == "false":
                # A spoken menu choice: only a caller who can speak answers (Script: a "SAY" step).
                speak = getattr(caller, "speak", None)
                audio = speak(log.heard) if speak is not None else None
                if audio is None:
                    continue  # nothing said: Twilio skips the action and goes on
                return self._recorded(log, verb, audio)
            elif verb.tag == "Record":
                log.heard.append(Heard("beep"))
                audio = caller.record(log.heard)
                if audio == HANG_UP:
                    log.caller_hung_up = True
                    return None  # hung up at the beep, before saying anything: nothing was recorded
                if audio is None or isinstance(audio, str):
                    continue  # nothing recorded: Twilio skips the action and goes on
                return self._recorded(log, verb, audio)
            elif verb.tag == "Redirect":
                return (verb.text or "").strip(), {}
            elif verb.tag == "Dial":
                log.dialled.append((verb.text or "").strip())
                log.heard.append(Heard("dial", (verb.text or "").strip()))
            elif verb.tag == "Hangup":
                log.hung_up = True
                return None
            else:
                raise CallError(f"unsupported verb <{verb.tag}>")
        return None  # Twilio ends a call that runs out of verbs

    def _hear(self, log: CallLog, verb: ET.Element) -> None:
        if verb.tag == "Say":
            log.heard.append(Heard("say", (verb.text or "").strip(), verb.get("language", "")))
        elif verb.tag == "Play":
            log.heard.append(Heard("play", (verb.text or "").strip()))
        elif verb.tag == "Pause":
            log.heard.append(Heard("pause", verb.get("length", "1")))
        else:
            raise CallError(f"<{verb.tag}> is not allowed inside <Gather>")

    def _recorded(self, log: CallLog, verb: ET.Element, audio: bytes) -> str:
        sid, url = self.media.add(audio)
        log.recordings.append(sid)
        duration = str(max(1, _wav_seconds(audio)))
        status_url = verb.get("recordingStatusCallback")
        status_form = {"RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed",
                       "RecordingDuration": duration, "RecordingChannels": "1", "RecordingSource": "RecordVerb"}
        if status_url and self.recording_callback in ("before", "twice"):
            self.post(log, status_url, status_form)
        action_form = {"RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": duration, "Digits": "#"}
        body = self.post(log, action_url(verb), action_form)
        if status_url and self.recording_callback in ("after", "twice"):
            self.post(log, status_url, status_form)
        return body


def action_url(verb: ET.Element) -> str:
    action = verb.get("action")
    if not action:
        raise CallError(f"<{verb.tag}> has no action URL")
    return action


def gathered_digits(verb: ET.Element, keys: str) -> str:
    finish = verb.get("finishOnKey", "#")
    num = verb.get("numDigits")
    if num:
        keys = keys[: int(num)]
    if finish and finish in keys:
        keys = keys[: keys.index(finish)]
    return keys


def _wav_seconds(audio: bytes) -> int:
    import io
    import wave

    try:
        with wave.open(io.BytesIO(audio)) as wav:
            return round(wav.getnframes() / wav.getframerate())
    except (wave.Error, EOFError):
        return 1


def prompt_of(url: str) -> tuple[str, str] | None:
    """Return (language, prompt id) of a prompt's audio URL (/prompts/<lang>/<id>.<ext>), else None."""
    parts = urlsplit(url).path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "prompts" and "." in parts[2]:
        return parts[1], parts[2].rsplit(".", 1)[0]
    return None


def describe_audio(url: str, text_of: Callable[[str, str], str | None]) -> str:
    """Say in words what a <Play> URL plays: a prompt's text (via `text_of(lang, id)`), or what kind of audio.

    Why: a prompt with audio is a bare URL in the TwiML; a person trying the line must still read it.
    """
    found = prompt_of(url)
    if found is not None:
        text = text_of(*found)
        if text:
            return text
    path = urlsplit(url).path
    for marker, label in (("/Recordings/", "[the caller's own recording]"), ("/answers/", "[an agency's answer]"),
                          ("/polls/", "[the poll's question]"), ("/radio/bulletins/", "[the radio bulletin]")):
        if marker in path:
            return label
    return f"[audio] {url}"


def read_wav(path: str | Path) -> bytes:
    return Path(path).read_bytes()
