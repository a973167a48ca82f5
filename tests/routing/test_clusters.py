"""Grouping reports of one problem in the routing job: same agency, topic and place, within the window,
close in words where both have a transcript; never a split-out message, never into a closed group."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Transcript
from ivr.core.queue import InlineQueue
from ivr.core.runtime import set_config
from tests.conftest import make_config
from tests.routing.conftest import AgencySystem, SmtpServer, write_agencies, write_rules
from tests.routing.test_route_job import add_message
from worker.clusters import cluster_message, similar
from worker.notify import notification_queue
from worker.routing import route_message

T0 = datetime(2026, 3, 1, 8, 0)


def routed(config: Config, *, minutes: float, topic: str = "water", place: str = "ba", language: str = "en",
           text: str | None = None, status: str = "received", agency: str = "water") -> int:
    with database_for(config.database_url).session() as s:
        m = Message(reference=str(secrets.randbelow(9 * 10**7) + 10**7), language=language, topic=topic, place=place,
                    consent="agency", status=status, agency=agency, created_at=T0 + timedelta(minutes=minutes),
                    routed_at=T0)
        s.add(m)
        s.flush()
        if text is not None:
            s.add(Transcript(message_id=m.id, language=language, text=text, words="[]", engine="test", model="test",
                             confidence=0.9, audio_seconds=1.0, processing_seconds=0.1))
        return m.id


def group_of(config: Config, ident: int, hours: float = 48) -> int | None:
    with database_for(config.database_url).session() as s:
        return cluster_message(s, ident, hours)


def cluster_ids(config: Config, *ids: int) -> list[int | None]:
    with database_for(config.database_url).session() as s:
        return [s.get(Message, i).cluster_id for i in ids]  # type: ignore[union-attr]


def test_same_topic_place_and_window_group_under_the_first(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    a = routed(config, minutes=0, text="the water main burst on the main road near the school")
    b = routed(config, minutes=30, text="water pipe burst near the school there is water everywhere")
    c = routed(config, minutes=60, language="hi", text="paani ka pipe phat gaya")  # other language: keypad decides
    assert group_of(config, b) == a and group_of(config, c) == a
    assert cluster_ids(config, a, b, c) == [a, a, a]
    assert group_of(config, b) is None  # repeated job: already grouped, nothing changes


def test_what_does_not_group(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    lead = routed(config, minutes=0, text="the water main burst near the school")
    far = routed(config, minutes=0, place="suva")
    late = routed(config, minutes=49 * 60)
    other_words = routed(config, minutes=10, text="bills are too expensive this month for everybody")
    roads = routed(config, minutes=10, topic="roads", agency="roads")
    other_topic = routed(config, minutes=10, topic="other", agency="water")
    for ident in (far, late, other_words, roads, other_topic):
        assert group_of(config, ident) is None, ident
    assert group_of(config, lead, hours=0) is None  # HOTLINE_CLUSTER_HOURS=0: never group


def test_split_messages_and_closed_groups_are_left_alone(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    closed = routed(config, minutes=0, status="closed")
    fresh = routed(config, minutes=10)
    assert group_of(config, fresh) is None  # the only match is closed: a new case
    split = routed(config, minutes=20)
    with database_for(config.database_url).session() as s:
        s.get(Message, split).cluster_split = True  # type: ignore[union-attr]
    assert group_of(config, split) is None
    later = routed(config, minutes=30)
    assert group_of(config, later) == fresh  # not the split one, not the closed one
    assert cluster_ids(config, closed, fresh, split, later) == [None, fresh, None, fresh]


def test_similar_compares_words_only_when_both_have_some() -> None:
    assert similar(None, "anything") and similar("", "x")
    assert similar("burst water main at the school", "water main burst again")
    assert not similar("burst water main at the school", "electricity bills are too high")


def test_the_routing_job_groups(tmp_path: Path, sqlite_url: str, agency_system: AgencySystem,
                                smtp_server: SmtpServer, secrets_env: None) -> None:
    config = make_config(tmp_path, sqlite_url, agencies_file=write_agencies(tmp_path / "agencies.toml", agency_system),
                         routing_rules_file=write_rules(tmp_path / "routing.toml"), smtp_host="127.0.0.1",
                         smtp_port=smtp_server.port, notify_timeout_seconds=5.0)
    set_config(config)
    try:
        first = add_message(config, topic="water", place="ba", transcript="the water main burst")
        second = add_message(config, topic="water", place="ba", transcript="water main burst at the market")
        assert route_message(first) == "routed to water"
        assert route_message(second) == f"routed to water, grouped with {first}"
        assert cluster_ids(config, first, second) == [first, first]
        notifying = notification_queue(config)
        assert isinstance(notifying, InlineQueue) and notifying.join(timeout=30)
    finally:
        set_config(None)
