"""The call's state as it travels in the URLs Twilio calls back, so a menu step needs no database.

Every action URL in our TwiML carries the state the caller has reached (`s`: compact JSON, URL-safe
base64). Twilio signs the exact URL it requests with our auth token and the webhooks refuse any
other signature, so nobody else can alter it; it holds only flow choices (node, language, topic,
place, consent, the recording's id and URL, the reference), never the phone number. Plain menu
steps then run without reading or writing the calls table; the database keeps the state at every
step that stores something (the call's start, a recording, a kept message, a vote, a callback),
which is all the end-of-call callback needs.
"""

from __future__ import annotations

import base64
import binascii
import json

from ivr.voice.flow import CallState

MAX_TOKEN = 2048  # characters; a full state is a few hundred (Twilio accepts URLs of 4,096)


def encode(state: CallState) -> str:
    """Return the state as a URL-safe token."""
    raw = json.dumps(state.to_dict(), sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str) -> CallState | None:
    """Return the state a token holds, or None when it is not one of ours."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    return CallState.from_dict(data) if isinstance(data, dict) else None
