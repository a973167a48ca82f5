"""Check that a webhook really comes from Twilio, for the URL Twilio was told to call."""

from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator


def public_url(base_url: str, request: Request) -> str:
    """Rebuild the URL Twilio signed from PUBLIC_BASE_URL, not from the Host header a proxy rewrote."""
    query = request.query_string.decode("latin-1")
    return f"{base_url}{request.path}" + (f"?{query}" if query else "")


def is_signed(auth_token: str, base_url: str, request: Request) -> bool:
    """Return True when X-Twilio-Signature matches the URL and the POSTed form."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    return bool(RequestValidator(auth_token).validate(public_url(base_url, request), params, signature))
