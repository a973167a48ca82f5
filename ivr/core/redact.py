"""Remove what could identify a caller from text before it leaves the hotline.

Applied to every transcript sent to an agency's webhook, mailbox or Open311 endpoint, and to any
text shown beyond the agency that owns the message: phone numbers (written or spoken digit by
digit, in any of the hotline's languages), other long digit runs, email addresses, and the name
after "my name is …" and its equivalents. It errs towards removing too much: a lost house number
costs an official one question; a leaked phone number can cost a caller their safety.

Pure: text in, text and counts out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LONG_RUN = 6  # digits: a run this long (or longer) is never passed on
PHONE_DIGITS = 7  # digits: a run this long, or one that starts with "+", is called a phone number

# Spoken digits, by language; each counts as that many digits in a run.
_DIGIT_WORDS: dict[str, int] = {
    **dict.fromkeys("zero oh nought one two three four five six seven eight nine".split(), 1),  # en
    **dict.fromkeys("zéro un deux trois quatre cinq six sept huit neuf".split(), 1),  # fr
    # French says numbers in pairs ("zéro six, douze, trente-quatre"): a tens word stands for two digits.
    **dict.fromkeys("dix onze douze treize quatorze quinze seize vingt trente quarante cinquante soixante"
                    .split(), 2),
    **dict.fromkeys("shunya sunya ek do teen char chaar paanch panch chhah chhe saat aath nau".split(), 1),  # hi
    **dict.fromkeys("शून्य एक दो तीन चार पांच पाँच छह छः छे सात आठ नौ".split(), 1),
    **dict.fromkeys("saiva dua rua tolu va lima ono vitu walu ciwa".split(), 1),  # fj
}
_MULTIPLIERS = {"double": 1, "triple": 2}  # "double five" is two digits: the word adds to the next one
_JOINERS = set(" -.()\u00a0")  # what may sit between the parts of one number ("923-4567", "(679) 923")
_MAX_JOIN = 3

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[\w.-]+\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)+\b", re.IGNORECASE)
_NAME_TRIGGERS = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name['’]s|i\s+am\s+called|i['’]m\s+called"  # en
    r"|je\s+m['’]\s*appelle|mon\s+nom\s+est"  # fr
    r"|mera\s+naam|मेरा\s+नाम"  # hi: the name comes before "hai" / "है"
    r"|o\s+yau\s+o|na\s+yacaqu\s+o)(?=\W|$)",  # fj
    re.IGNORECASE)
_NAME_WORD = re.compile(r"\s*([^\s\d.,;:!?()\[\]{}\"<>/\\|@#%&*+=~`^$]+)")
_MAX_NAME_WORDS = 3
# Words that end a name: what usually follows it in a caller's sentence, in each language.
_AFTER_NAME = set(
    "and from in at of the i i'm im my we live living is was a an to not calling call here with but so because "
    "please and, et de du des à je j'habite habite dans mais parce que hai है aur main mein se ka ki ke ko mai "
    "mujhe na e ni kei qai sa vaka au keitou".split())


@dataclass(frozen=True)
class Redaction:
    """Redacted text and how many of each kind of personal detail were taken out."""

    text: str
    phones: int = 0
    numbers: int = 0
    emails: int = 0
    names: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {"phones": self.phones, "numbers": self.numbers, "emails": self.emails, "names": self.names}

    @property
    def total(self) -> int:
        return self.phones + self.numbers + self.emails + self.names


def redact(text: str) -> Redaction:
    """Replace phone numbers, long digit runs, email addresses and self-introduced names with labels."""
    text, emails = _EMAIL.subn("[email]", text)
    text, names = _redact_names(text)
    text, phones, numbers = _redact_digits(text)
    return Redaction(text=text, phones=phones, numbers=numbers, emails=emails, names=names)


def _redact_names(text: str) -> tuple[str, int]:
    """Replace the (at most three) words after "my name is" and its equivalents with one [name]."""
    out: list[str] = []
    pos = count = 0
    for trigger in _NAME_TRIGGERS.finditer(text):
        if trigger.start() < pos:
            continue
        hindi = trigger.group(0).casefold().startswith(("mera", "मेरा"))
        end = trigger.end()
        first = last = None
        for _ in range(_MAX_NAME_WORDS + (1 if hindi else 0)):
            word = _NAME_WORD.match(text, end)
            if word is None or word.group(1).casefold().strip("'’-") in _AFTER_NAME:
                break
            first = word.start(1) if first is None else first
            last = end = word.end(1)
        if first is None or last is None:
            continue
        out.append(text[pos:first] + "[name]")
        pos = last
        count += 1
    out.append(text[pos:])
    return "".join(out), count


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Split text into (start, end, kind) pieces: 'digits', 'word' (letters and marks) or 'other'."""
    pieces: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while i < n:
        kind = _kind(text[i])
        j = i + 1
        if kind != "other":
            while j < n and _kind(text[j]) == kind:
                j += 1
        pieces.append((i, j, kind))
        i = j
    return pieces


def _kind(ch: str) -> str:
    if ch.isdecimal():
        return "digits"
    return "word" if unicodedata.category(ch)[0] in "LM" else "other"


def _weight(text: str, piece: tuple[int, int, str]) -> tuple[int, int]:
    """Return (digits, multiplier) a piece stands for in a spoken or written number."""
    start, end, kind = piece
    if kind == "digits":
        return end - start, 0
    if kind == "word":
        word = unicodedata.normalize("NFC", text[start:end]).casefold()
        return _DIGIT_WORDS.get(word, 0), _MULTIPLIERS.get(word, 0)
    return 0, 0


def _runs(text: str) -> list[tuple[int, int, int]]:
    """Find each number written or spoken in the text: (start, end, how many digits it has)."""
    runs: list[tuple[int, int, int]] = []
    current: list[int] | None = None  # [start, end, digits]
    pending = 0  # digits a "double"/"triple" adds to the next digit
    gap = ""
    for start, end, kind in _tokens(text):
        weight, multiplier = _weight(text, (start, end, kind))
        if weight or multiplier:
            if current is None or len(gap) > _MAX_JOIN or not set(gap) <= _JOINERS:
                if current is not None:
                    runs.append((current[0], current[1], current[2]))
                current, pending = [start, start, 0], 0
            if weight:
                current[1], current[2], pending = end, current[2] + weight + pending, 0
            else:
                pending = multiplier
            gap = ""
        elif current is not None:
            gap += text[start:end]
            if len(gap) > _MAX_JOIN or not set(gap) <= _JOINERS:
                runs.append((current[0], current[1], current[2]))
                current, gap, pending = None, "", 0
    if current is not None:
        runs.append((current[0], current[1], current[2]))
    return [r for r in runs if r[2] > 0]


def _redact_digits(text: str) -> tuple[str, int, int]:
    """Replace numbers of six digits or more (or "+" and four) with [phone] or [number]; count each."""
    out: list[str] = []
    pos = phones = numbers = 0
    for start, end, digits in _runs(text):
        plus = start > 0 and text[start - 1] == "+"
        # An international prefix says "phone number" even when fewer digits follow.
        if digits < LONG_RUN and not (plus and digits >= 4):
            continue
        while start > pos and text[start - 1] in "+(":
            start -= 1
        phone = digits >= PHONE_DIGITS or plus
        out.append(text[pos:start] + ("[phone]" if phone else "[number]"))
        pos = end
        phones, numbers = phones + phone, numbers + (not phone)
    out.append(text[pos:])
    return "".join(out), phones, numbers
