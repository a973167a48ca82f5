"""Quiet hours and retention on the jobs themselves, with the clock passed in (never patched)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.delayed_jobs import waiting_timers
from ivr.core.models import Caller
from ivr.core.models.delivery import CallbackNumber
from ivr.core.privacy import hash_number
from ivr.core.queue import InlineQueue, make_queue
from ivr.core.runtime import set_config
from ivr.voice.outbound_calls import StatusUpdate, place_call_job_id, record_status, request_callback
from tests.delivery.conftest import CALLER_NUMBER, add_report, delivery_config, delivery_of
from tests.delivery.fake_twilio import FakeTwilio
from worker.callback import place_call, recover_calls
from worker.delivery import deliver_answer

FIJI_NIGHT = datetime(2031, 3, 3, 10, 0)  # 22:00 in Fiji (UTC+12)
MORNING = datetime(2031, 3, 3, 19, 0)     # 07:00 the next day in Fiji


@pytest.fixture
def quiet(tmp_path: Path, database_url: str, twilio: FakeTwilio) -> Iterator[Config]:
    config = delivery_config(tmp_path, database_url, twilio, quiet_hours="21-07", timezone="Pacific/Fiji",
                             call_retry_minutes=30)
    set_config(config)  # the jobs below run in this process, as a worker would run them
    yield config
    set_config(None)


def test_answer_due_in_quiet_hours_is_called_when_they_end(quiet: Config, twilio: FakeTwilio) -> None:
    answer_id = add_report(quiet, consent="agency", now=FIJI_NIGHT)
    result = deliver_answer(answer_id, now=FIJI_NIGHT)
    delivery = delivery_of(quiet, answer_id)
    assert result == f"delivery {delivery.id} call queued for 2031-03-03T19:00"
    assert (delivery.status, delivery.next_attempt_at) == ("scheduled", MORNING)
    assert place_call_job_id(delivery.id, 1) in waiting_timers()  # an inline timer waits for the morning
    # A job that comes early (a sweeper, a clock ahead) moves itself to 07:00 instead of ringing.
    assert place_call(delivery.id, 1, now=MORNING - timedelta(minutes=1)).startswith("deferred to 2031-03-03T19:00")
    assert twilio.posts == []
    assert place_call(delivery.id, 1, now=MORNING).startswith("placed CA")
    [post] = twilio.created()
    assert post.one("To") == CALLER_NUMBER

    # Busy at 20:50: the next try would fall at 21:20, so it waits for 07:00 the morning after.
    evening = MORNING + timedelta(hours=13, minutes=50)
    with database_for(quiet.database_url).session() as s:
        followup = record_status(s, quiet, StatusUpdate(delivery.id, 1, post.sid or "", "busy"), now=evening)
    assert followup is not None and (followup.attempt, followup.at) == (2, MORNING + timedelta(days=1))
    assert place_call(delivery.id, 2, now=MORNING + timedelta(days=1)).startswith("placed CA")
    second = twilio.created()[1]
    with database_for(quiet.database_url).session() as s:
        # No answer at 10:00: the next try is 30 minutes later, the same morning.
        followup = record_status(s, quiet, StatusUpdate(delivery.id, 2, second.sid or "", "no-answer"),
                                 now=MORNING + timedelta(days=1, hours=3))
    assert followup is not None and followup.at == MORNING + timedelta(days=1, hours=3, minutes=30)


def test_first_callback_goes_out_at_once_even_at_night(quiet: Config, twilio: FakeTwilio) -> None:
    digest = hash_number(CALLER_NUMBER, quiet.pepper)
    assert digest is not None
    with database_for(quiet.database_url).session() as s:
        caller = Caller(number_hash=digest)
        s.add(caller)
        s.flush()
        delivery = request_callback(s, quiet, caller, CALLER_NUMBER, reason="missed-call", language=None,
                                    now=FIJI_NIGHT)
        assert delivery is not None
        delivery_id = delivery.id
    # They rang a moment ago: they are awake, and the call is what they asked for.
    assert place_call(delivery_id, 1, now=FIJI_NIGHT + timedelta(seconds=5)).startswith("placed CA")
    [post] = twilio.created()
    with database_for(quiet.database_url).session() as s:
        followup = record_status(s, quiet, StatusUpdate(delivery_id, 1, post.sid or "", "no-answer"),
                                 now=FIJI_NIGHT + timedelta(minutes=1))
    assert followup is not None and followup.at == MORNING  # its retry respects quiet hours


def test_ciphertext_is_not_the_number_and_is_gone_after_retention(quiet: Config, twilio: FakeTwilio) -> None:
    answer_id = add_report(quiet, consent="agency", now=FIJI_NIGHT)
    db = database_for(quiet.database_url)
    with db.engine.connect() as conn:
        [(stored,)] = conn.execute(text("SELECT ciphertext FROM callback_numbers")).all()
    assert "9990000" not in stored and "679" not in stored.split(":", 1)[0]
    later = FIJI_NIGHT + timedelta(days=quiet.number_retention_days, minutes=1)
    assert recover_calls(now=later) == []  # the sweeper deletes expired numbers even when nothing is due
    with db.session() as s:
        assert s.scalars(select(CallbackNumber)).all() == []
    result = deliver_answer(answer_id, now=later)
    delivery = delivery_of(quiet, answer_id)
    assert result == f"delivery {delivery.id} held"
    assert delivery.held_reason is not None and "no number kept" in delivery.held_reason
    assert twilio.posts == []


def test_a_call_due_after_the_number_expired_is_held(quiet: Config, twilio: FakeTwilio) -> None:
    answer_id = add_report(quiet, consent="agency", now=FIJI_NIGHT - timedelta(days=quiet.number_retention_days - 1))
    deliver_answer(answer_id, now=FIJI_NIGHT)  # scheduled for 07:00; the number expires at 22:00 + 1 day - 1 day
    delivery = delivery_of(quiet, answer_id)
    assert delivery.status == "scheduled"
    assert place_call(delivery.id, 1, now=MORNING + timedelta(days=1)) == "held: no number"
    assert delivery_of(quiet, answer_id).status == "held" and twilio.posts == []


def test_sweeper_queues_a_try_whose_timer_was_lost(quiet: Config, twilio: FakeTwilio) -> None:
    answer_id = add_report(quiet, consent="agency", now=FIJI_NIGHT)
    deliver_answer(answer_id, now=FIJI_NIGHT)
    delivery = delivery_of(quiet, answer_id)
    assert recover_calls(now=MORNING) == []  # due, but not yet overdue: its own job will come
    queued = recover_calls(now=MORNING + timedelta(minutes=5))
    assert queued == [f"{place_call_job_id(delivery.id, 1)}-recovered-203103031905"]
    queue = make_queue(quiet)
    # The recovered job ran, on the real clock (years before this test's morning): it deferred itself again.
    assert isinstance(queue, InlineQueue) and queue.join(timeout=30)
    assert twilio.posts == []
