"""Place outbound calls through Twilio's REST API (the Calls resource), with nothing but requests.

    POST {TWILIO_API_BASE_URL}/2010-04-01/Accounts/{AccountSid}/Calls.json   (HTTP basic auth)
    form: To, From, Url, Method, StatusCallback, StatusCallbackMethod, StatusCallbackEvent (repeated),
          Timeout
    201 {"sid": "CA...", "status": "queued", ...}
    4xx {"code": 21201, "message": "No 'To' number is specified", "more_info": ..., "status": 400}

Why not the twilio package's client: the base URL must point at a local server in tests, and one
POST with explicit fields is easier to check against Twilio's documentation than a generated client.
The exception tree: TwilioRestError (retryable tells whether trying again could help).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

USER_AGENT = "TalanoaHotline/1 (+outbound-calls)"
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


class TwilioRestError(Exception):
    """Twilio did not create the call; `code` is Twilio's error code when it gave one."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class CallRequest:
    """What Twilio needs to place one call."""

    to: str
    from_: str
    url: str
    status_callback: str
    timeout: int = 30


@dataclass(frozen=True)
class PlacedCall:
    """Twilio's answer for a created call."""

    sid: str
    status: str


@dataclass(frozen=True)
class TwilioRest:
    """A client for one Twilio account."""

    base_url: str
    account_sid: str
    auth_token: str
    timeout_seconds: float = 10.0

    def calls_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Calls.json"

    def create_call(self, call: CallRequest) -> PlacedCall:
        """Ask Twilio to ring a number and fetch `call.url` for TwiML when it is answered."""
        if not self.account_sid or not self.auth_token:
            raise TwilioRestError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to place calls",
                                  retryable=False)
        form: list[tuple[str, str]] = [
            ("To", call.to), ("From", call.from_), ("Url", call.url), ("Method", "POST"),
            ("StatusCallback", call.status_callback), ("StatusCallbackMethod", "POST"),
            *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
            ("Timeout", str(call.timeout)),
        ]
        try:
            # No redirects: the account's credentials must go to the configured host only.
            response = requests.post(self.calls_url(), data=form, auth=(self.account_sid, self.auth_token),
                                     timeout=self.timeout_seconds, allow_redirects=False,
                                     headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        except requests.RequestException as exc:
            raise TwilioRestError(f"Twilio unreachable: {type(exc).__name__}") from exc
        body = _json(response)
        if response.status_code != 201 and response.status_code != 200:
            code = body.get("code") if isinstance(body.get("code"), int) else None
            message = str(body.get("message") or "no error message")[:300]
            raise TwilioRestError(f"Twilio answered HTTP {response.status_code} (error {code}): {message}",
                                  status=response.status_code, code=code, retryable=_retryable(response.status_code))
        sid, status = body.get("sid"), body.get("status")
        if not isinstance(sid, str) or not sid.startswith("CA"):
            raise TwilioRestError("Twilio's answer has no call sid", status=response.status_code)
        return PlacedCall(sid=sid, status=str(status or "queued"))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retryable(status: int) -> bool:
    # A 4xx says the request is wrong (bad number, bad credentials): repeating it cannot help, except these.
    return status >= 500 or status in (408, 429)


def send_sms(client: TwilioRest, to: str, from_: str, body: str, status_callback: str) -> PlacedCall:
    """Send one SMS through Twilio's Messages resource (Somleng speaks the same API); return its sid and status.

        POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json   form: To, From, Body, StatusCallback
        201 {"sid": "SM...", "status": "queued", ...}; 4xx {"code": 21610, "message": ...} as for calls
    """
    url = client.calls_url().removesuffix("Calls.json") + "Messages.json"
    try:
        # No redirects: the account's credentials must go to the configured host only.
        response = requests.post(url, data={"To": to, "From": from_, "Body": body, "StatusCallback": status_callback},
                                 auth=(client.account_sid, client.auth_token), timeout=client.timeout_seconds,
                                 allow_redirects=False,
                                 headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    except requests.RequestException as exc:
        raise TwilioRestError(f"Twilio unreachable: {type(exc).__name__}") from exc
    answer = _json(response)
    if response.status_code not in (200, 201):
        code = answer.get("code") if isinstance(answer.get("code"), int) else None
        message = str(answer.get("message") or "no error message")[:300]
        raise TwilioRestError(f"Twilio answered HTTP {response.status_code} (error {code}): {message}",
                              status=response.status_code, code=code, retryable=_retryable(response.status_code))
    sid = answer.get("sid")
    if not isinstance(sid, str) or not sid.startswith(("SM", "MM")):
        raise TwilioRestError("Twilio's answer has no message sid", status=response.status_code)
    return PlacedCall(sid=sid, status=str(answer.get("status") or "queued"))
