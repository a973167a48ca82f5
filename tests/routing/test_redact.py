"""Redaction removes phone numbers, long digit runs, email addresses and self-introduced names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.core.redact import redact

LONG_DIGIT_RUN = re.compile(r"\d{6,}")


@pytest.mark.parametrize(("text", "expected"), [
    ("call me on +679 923 4567 please", "call me on [phone] please"),
    ("my number is (679) 923-4567.", "my number is [phone]."),
    ("ring 9234567 or 923.4567", "ring [phone] or [phone]"),
    ("account 123456 and house 12", "account [number] and house 12"),
    ("my number is nine two three four five six seven", "my number is [phone]"),
    ("double five six seven eight nine", "[number]"),
    ("c'est le zéro six douze trente-quatre cinquante-six", "c'est le [phone]"),
    ("mera number nau do teen char paanch chhe saat hai", "mera number [phone] hai"),
    ("मेरा नंबर नौ दो तीन चार पांच छह सात है", "मेरा नंबर [phone] है"),
    ("noqu naba ciwa rua tolu va lima ono vitu", "noqu naba [phone]"),
    ("write to jo.smith+hotline@example.com today", "write to [email] today"),
    ("write to josmith at gmail dot com", "write to [email]"),
])
def test_numbers_and_emails(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("My name is John Smith and I live in Ba", "My name is [name] and I live in Ba"),
    ("hello my name's mere. the tap is broken", "hello my name's [name]. the tap is broken"),
    ("I am called Ana, from Nadi", "I am called [name], from Nadi"),
    ("bonjour je m'appelle Marie Dupont et j'habite à Suva", "bonjour je m'appelle [name] et j'habite à Suva"),
    ("mera naam Ravi Kumar hai aur paani nahin hai", "mera naam [name] hai aur paani nahin hai"),
    ("मेरा नाम राम है", "मेरा नाम [name] है"),
    ("bula o yau o Jone mai Ba", "bula o yau o [name] mai Ba"),
    ("my name is not important", "my name is not important"),
])
def test_names_after_introductions(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_counts_and_what_stays() -> None:
    result = redact("My name is Sam, call 9234567 or 555-0199-22, mail sam@example.org; pipe 3 broke in 2019")
    assert result.text == "My name is [name], call [phone] or [phone], mail [email]; pipe 3 broke in 2019"
    assert result.counts == {"phones": 2, "numbers": 0, "emails": 1, "names": 1}
    assert result.total == 4
    assert redact("The pipe near the school has leaked for 3 days").total == 0


def test_words_that_contain_number_words_are_not_digits() -> None:
    assert redact("someone often gone, tone, money, phone").total == 0


digits_text = st.text(alphabet=st.sampled_from("0123456789 -.()+٣٤५६abc\n"), max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_no_long_digit_run_survives_any_text(text: str) -> None:
    assert LONG_DIGIT_RUN.search(redact(text).text) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(digits_text, st.lists(st.sampled_from(["one", "two", "nine", "oh", "double", "6", "42", " ", "-",
                                                        "sept", "दो", "rua", "and"]), max_size=20).map("".join)))
def test_no_long_digit_run_survives_number_like_text(text: str) -> None:
    assert LONG_DIGIT_RUN.search(redact(text).text) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.integers(min_value=1_000_000, max_value=99_999_999_999),
       st.sampled_from([" ", "-", ".", "  "]), st.text(max_size=40))
def test_a_phone_number_anywhere_is_removed(before: str, number: int, sep: str, after: str) -> None:
    digits = str(number)
    written = sep.join([digits[:3], digits[3:]])
    out = redact(f"{before} {written} {after}").text
    assert digits[3:] not in out or digits[3:] in before + after


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once
