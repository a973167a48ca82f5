"""Call steps learn which poll is open from memory: this process's changes at once, others' within seconds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.core.db import database_for
from ivr.core.models.radio import RadioPoll
from ivr.radio import polls


@pytest.fixture
def cache() -> Iterator[polls.OpenPollCache]:
    fresh = polls.OpenPollCache()
    yield fresh
    polls.open_polls.forget()  # the shared one: no poll of this test's database outlives it


def test_a_poll_opened_by_another_process_is_seen_after_the_check_interval(
        sqlite_url: str, cache: polls.OpenPollCache, monkeypatch: pytest.MonkeyPatch) -> None:
    db = database_for(sqlite_url)
    clock = [1000.0]
    monkeypatch.setattr(polls.time, "monotonic", lambda: clock[0])
    with db.session() as session:
        assert cache.get(session) is None
        # What the dashboard of another gunicorn worker does: a row this process did not write.
        session.add(RadioPoll(question="Market on Sundays?", options=json.dumps(["yes", "no"]),
                              spoken=json.dumps({"en": "Market on Sundays? Yes 1, no 2."}), status="open"))
    with db.session() as session:
        clock[0] += polls.POLL_CHECK_SECONDS / 2
        assert cache.get(session) is None  # no query: the answer is still fresh
        clock[0] += polls.POLL_CHECK_SECONDS
        seen = cache.get(session)
    assert seen is not None and seen.options == 2 and seen.spoken == {"en": "Market on Sundays? Yes 1, no 2."}


def test_opening_and_closing_in_this_process_is_seen_at_once(sqlite_url: str, tmp_path: Path) -> None:
    db = database_for(sqlite_url)
    with db.session() as session:
        assert polls.open_polls.get(session) is None
        draft = polls.check_poll("Market on Sundays?", ["yes", "no"], {"en": "Market on Sundays? Yes 1, no 2."},
                                 ("en",))
        poll_id = polls.create_poll(session, draft, user_id=None, data_dir=tmp_path).id
    with db.session() as session:
        seen = polls.open_polls.get(session)
        assert seen is not None and seen.id == poll_id
        polls.close_poll(session, poll_id)
    with db.session() as session:
        assert polls.open_polls.get(session) is None
