"""The dashboard's decisions as plain functions, without HTTP: visibility, transitions, words, policy."""

from __future__ import annotations

import json

import pytest

from ivr.core.auth import PasswordRejected, check_password_policy, has_role, safe_next
from ivr.core.models import Transcript
from ivr.core.models.accounts import User
from ivr.dashboard.messages import TRANSITIONS, transcript_words


def user(role: str, agency: str | None = None) -> User:
    return User(email=f"{role}@example.org", role=role, agency=agency, password_hash="x")


def test_who_sees_which_agency() -> None:
    assert user("official", "water").can_see_agency("water")
    assert not user("official", "water").can_see_agency("roads")
    assert not user("official", "water").can_see_agency(None)
    assert not user("official", None).can_see_agency(None)
    assert not user("radio").can_see_agency("water")
    assert user("admin").can_see_agency("roads") and user("admin").can_see_agency(None)


def test_roles() -> None:
    assert has_role(user("admin"), ("radio",)) and has_role(user("admin"), ("official",))
    assert not has_role(user("radio"), ("official",)) and has_role(user("radio"), ())


def test_transitions_go_forward_or_reopen() -> None:
    assert TRANSITIONS["received"] == {"in_progress"}
    assert "closed" not in TRANSITIONS["received"] | TRANSITIONS["in_progress"]
    assert all("received" not in nxt for nxt in TRANSITIONS.values())


def test_password_policy() -> None:
    check_password_policy("twelve chars")
    with pytest.raises(PasswordRejected, match="at least 12 characters"):
        check_password_policy("eleven char")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "evil", ""])
def test_safe_next_refuses_other_sites(target: str) -> None:
    assert safe_next(target) is None


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/dashboard/?status=closed") == "/dashboard/?status=closed"


def test_transcript_words_marks_low_confidence_and_survives_bad_json() -> None:
    t = Transcript(text="pipe burst", words=json.dumps([{"word": "pipe", "confidence": 0.9},
                                                        {"word": "burst", "confidence": 0.2}, {"oops": 1}]))
    words = transcript_words(t, 0.6)
    assert [(w.text, w.low) for w in words] == [("pipe", False), ("burst", True)]
    broken = Transcript(text="no words stored", words="{not json")
    assert [(w.text, w.low) for w in transcript_words(broken, 0.6)] == [("no", False), ("words", False),
                                                                          ("stored", False)]
