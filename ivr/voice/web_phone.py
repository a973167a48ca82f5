"""A phone driven one turn at a time: what the browser phone (/operator/phone) uses to place calls.

It speaks Twilio's side of the webhook protocol like the emulator (ivr/voice/emulator.py) — every
request signed with the auth token for PUBLIC_BASE_URL, Gather and Record followed as Twilio does,
the end-of-call callback sent when the call ends — but stops wherever the caller must act and hands
back what was heard and the rest of the TwiML, so a web page can wait for a person between turns.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

from ivr.voice.emulator import MAX_REQUESTS, CallError, Transport, action_url, gathered_digits


@dataclass
class Turn:
    """What the caller heard since their last action, and what the call waits for now."""

    heard: list[dict[str, str]] = field(default_factory=list)  # {kind: say|play|pause|beep|dial, text, url, language}
    wait: str = "ended"  # "keys", "record" or "ended"
    rest: str = ""  # the TwiML still to run, starting at the Gather or Record that waits (empty when ended)
    num_digits: str = ""
    finish_on_key: str = ""


@dataclass
class WebPhone:
    """One call's identity (its CallSid and the caller's number) and the way to reach the hotline."""

    transport: Transport
    auth_token: str
    base_url: str
    account_sid: str
    call_sid: str
    from_number: str
    to_number: str = "+6793300000"
    requests: int = 0

    def start(self) -> Turn:
        """Ring the hotline: its first answer, run until the caller must act."""
        return self._run(self._post(f"{self.base_url}/voice/incoming", {"CallStatus": "ringing"}), Turn())

    def keys(self, rest: str, digits: str) -> Turn:
        """Press keys at the waiting Gather (an empty string is silence until its timeout)."""
        verbs = _verbs(rest)
        gather = verbs[0] if verbs and verbs[0].tag == "Gather" else None
        if gather is None:
            raise CallError("the call is not waiting for keys")
        if not digits:
            if gather.get("actionOnEmptyResult") == "true":
                return self._run(self._post(action_url(gather), {"Digits": ""}), Turn())
            return self._run_verbs(verbs[1:], Turn())  # Twilio falls through to the next verb
        return self._run(self._post(action_url(gather), {"Digits": gathered_digits(gather, digits)}), Turn())

    def record(self, rest: str, recording: tuple[str, str, int] | None) -> Turn:
        """Answer the waiting Record: (RecordingSid, RecordingUrl, seconds), or None for silence."""
        verbs = _verbs(rest)
        verb = verbs[0] if verbs and verbs[0].tag == "Record" else None
        if verb is None:
            raise CallError("the call is not waiting for a recording")
        if recording is None:
            return self._run_verbs(verbs[1:], Turn())  # nothing said: Twilio skips the action and goes on
        sid, url, seconds = recording
        body = self._post(action_url(verb), {"RecordingSid": sid, "RecordingUrl": url,
                                          "RecordingDuration": str(max(1, seconds)), "Digits": "#"})
        status_url = verb.get("recordingStatusCallback")
        if status_url:  # Twilio's usual order: the status callback after the action
            self._post(status_url, {"RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed",
                                    "RecordingDuration": str(max(1, seconds)), "RecordingChannels": "1",
                                    "RecordingSource": "RecordVerb"})
        return self._run(body, Turn())

    def hang_up(self, seconds: int = 30) -> Turn:
        """Put the phone down: Twilio's end-of-call status callback."""
        self._post(f"{self.base_url}/voice/status", {"CallStatus": "completed", "CallDuration": str(seconds)})
        return Turn(wait="ended")

    def _post(self, url: str, extra: dict[str, str]) -> str:
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise CallError(f"more than {MAX_REQUESTS} webhooks in one turn: the flow is looping")
        form = {"CallSid": self.call_sid, "AccountSid": self.account_sid, "From": self.from_number,
                "To": self.to_number, "Caller": self.from_number, "Called": self.to_number,
                "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        status, body = self.transport.post(url, form, {"X-Twilio-Signature": signature})
        if status != 200:
            raise CallError(f"{url.split('?')[0]} answered HTTP {status}")
        return body

    def _run(self, body: str, turn: Turn) -> Turn:
        return self._run_verbs(_verbs(body), turn)

    def _run_verbs(self, verbs: list[ET.Element], turn: Turn) -> Turn:
        """Run verbs until one waits for the caller or the call ends (then the status callback is sent)."""
        while True:
            for i, verb in enumerate(verbs):
                if verb.tag in ("Say", "Play", "Pause"):
                    turn.heard.append(_heard(verb))
                elif verb.tag == "Gather":
                    turn.heard.extend(_heard(inner) for inner in verb)
                    turn.wait, turn.rest = "keys", _document(verbs[i:])
                    turn.num_digits, turn.finish_on_key = verb.get("numDigits", ""), verb.get("finishOnKey", "#")
                    return turn
                elif verb.tag == "Record":
                    turn.heard.append({"kind": "beep", "text": "", "url": "", "language": ""})
                    turn.wait, turn.rest = "record", _document(verbs[i:])
                    return turn
                elif verb.tag == "Redirect":
                    verbs = _verbs(self._post((verb.text or "").strip(), {}))
                    break
                elif verb.tag == "Dial":
                    turn.heard.append({"kind": "dial", "text": (verb.text or "").strip(), "url": "", "language": ""})
                elif verb.tag == "Hangup":
                    verbs = []
                    break
                else:
                    raise CallError(f"unsupported verb <{verb.tag}>")
            else:
                verbs = []
            if not verbs:
                self.hang_up()
                turn.wait, turn.rest = "ended", ""
                return turn


def _verbs(body: str) -> list[ET.Element]:
    try:
        root = ET.fromstring(body)  # noqa: S314 - TwiML from our own app, or our own signed token
    except ET.ParseError as exc:
        raise CallError(f"answer is not XML: {exc}") from exc
    if root.tag != "Response":
        raise CallError(f"answer is not TwiML (root <{root.tag}>)")
    return list(root)


def _document(verbs: list[ET.Element]) -> str:
    root = ET.Element("Response")
    root.extend(verbs)
    return ET.tostring(root, encoding="unicode")


def _heard(verb: ET.Element) -> dict[str, str]:
    if verb.tag == "Say":
        return {"kind": "say", "text": (verb.text or "").strip(), "url": "", "language": verb.get("language", "")}
    if verb.tag == "Play":
        return {"kind": "play", "text": "", "url": (verb.text or "").strip(), "language": ""}
    if verb.tag == "Pause":
        return {"kind": "pause", "text": verb.get("length", "1"), "url": "", "language": ""}
    raise CallError(f"<{verb.tag}> is not allowed inside <Gather>")
