"""Find the country calling code (ITU-T E.164) a phone number starts with.

Callbacks are free to the caller and paid by the hotline, so by default they may only ring numbers
in the hotline's own country; that country is read from TWILIO_CALLER_ID's code.
"""

from __future__ import annotations

import re

# Country codes are prefix-free: 1 and 7 stand alone, these two-digit codes are whole, every other
# code has three digits (ITU-T E.164 assigned list).
TWO_DIGIT = frozenset("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
                      "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split())


def country_code(number: str) -> str:
    """Return the country calling code of an E.164 number (+679… → "679"); "" when it is not one."""
    digits = number.strip()
    if not re.fullmatch(r"\+[1-9]\d{3,14}", digits):
        return ""
    digits = digits[1:]
    if digits[0] in "17":
        return digits[0]
    return digits[:2] if digits[:2] in TWO_DIGIT else digits[:3]
