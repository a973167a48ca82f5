"""Keep callers' phone numbers out of the database and the logs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

# Numbers Twilio and carriers send when the caller withheld theirs: no caller to recognise.
ANONYMOUS = {"", "anonymous", "restricted", "unknown", "private", "+266696687", "+7378742833", "+2562533",
             "+8656696"}


def normalise_number(raw: str) -> str:
    """Strip spaces and punctuation so one phone always hashes the same way."""
    raw = raw.strip()
    plus = raw.startswith("+")
    digits = re.sub(r"\D", "", raw)
    return ("+" if plus else "") + digits


def hash_number(number: str, pepper: str) -> str | None:
    """Return the keyed hash of a phone number, or None for a withheld number.

    HMAC with a secret pepper, not a plain hash: phone numbers are few enough to brute-force a plain
    SHA-256 in minutes, but not without the key.
    """
    if number.strip().lower() in ANONYMOUS:
        return None
    norm = normalise_number(number)
    if len(norm.lstrip("+")) < 3:
        return None
    return hmac.new(pepper.encode(), norm.encode(), hashlib.sha256).hexdigest()


class NumberKeyError(ValueError):
    """HOTLINE_NUMBER_KEY is not 32 bytes of URL-safe base64."""


def decode_number_key(raw: str) -> bytes:
    """Return the 32-byte key written in HOTLINE_NUMBER_KEY."""
    try:
        key = base64.urlsafe_b64decode(raw.strip().encode("ascii") + b"=" * (-len(raw.strip()) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NumberKeyError("must be URL-safe base64 (make one with `hotline init`)") from exc
    if len(key) != 32:
        raise NumberKeyError(f"must decode to 32 bytes, got {len(key)}")
    return key


def new_number_key() -> str:
    """Return a fresh random HOTLINE_NUMBER_KEY value."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")
