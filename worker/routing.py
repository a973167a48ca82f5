"""The routing job: choose a message's agency once, store why, and queue its notifications.

Runs after transcription (or straight after it when no engine speaks the language, with the keypad
choices alone). The decision itself is the pure ivr.core.routing.route; this job reads the message,
loads the agencies and rules files, stores the Decision, and creates one notification row per
target of the agency, all in one transaction.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from ivr.core import pipeline
from ivr.core.agencies import MenuError, routing_for
from ivr.core.models import Message, Notification, utcnow
from ivr.core.queue import make_queue
from ivr.core.routing import MessageFacts, route
from ivr.core.runtime import current_config, current_db
from ivr.core.sms import enqueue_sms

from .clusters import cluster_message
from .notify import PENDING, queue_notification

log = logging.getLogger(__name__)


class RoutingFailed(Exception):
    """The message could not be routed now (the agencies or rules file is broken); the queue retries."""


def route_message(message_id: int) -> str:
    """Route a transcribed message to one agency, once, and queue a notification for each of its targets.

    Idempotent: the decision is written only while messages.routed_at is still empty (a conditional
    UPDATE, so of two racing jobs exactly one writes it), notification rows are unique per message
    and target, and a repeat only queues again the notifications not yet sent.
    """
    config, db = current_config(), current_db()
    with db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        routed = message.routed_at is not None
        if not routed and message.pipeline not in pipeline.TRANSCRIBED:
            return f"not transcribed yet ({message.pipeline})"  # the transcription job queues routing
        if routed and message.pipeline in pipeline.TRANSCRIBED:
            pipeline.set_state(message, pipeline.ROUTED)  # a recovered transcription job set it back
        facts = MessageFacts(topic=message.topic, place=message.place, language=message.language)
        # A person's checked words when there are some: they are what the caller said.
        transcript = message.transcript.best_text if message.transcript is not None else None
    outcome = "already routed"
    if not routed:
        try:
            _, routing = routing_for(config)
        except MenuError as exc:
            with db.session() as session:
                message = session.get(Message, message_id)
                assert message is not None
                message.pipeline_error = f"routing files: {exc}"[:2000]
            raise RoutingFailed(f"message {message_id}: {exc}") from exc
        decision = route(facts, transcript, routing.agencies, routing.rules)
        agency = routing.agencies.by_code[decision.agency]
        try:
            with db.session() as session:
                now = utcnow()
                result = session.execute(
                    update(Message).where(Message.id == message_id, Message.routed_at.is_(None))
                    .values(agency=agency.code, routing_reason=decision.reason, routed_at=now,
                            pipeline=pipeline.ROUTED, pipeline_at=now, pipeline_error=None))
                won = cast(CursorResult[Any], result).rowcount
                if won:
                    session.add_all(Notification(message_id=message_id, agency=agency.code, channel=t.channel,
                                                 target=t.address, status=PENDING) for t in agency.targets)
        except IntegrityError:
            won = 0  # another job created the same notifications first
        if won:
            outcome = f"routed to {agency.code}"
            with db.session() as session:
                group = cluster_message(session, message_id, config.cluster_hours)
            outcome += f", grouped with {group}" if group else ""
            enqueue_sms(make_queue(config), config, message_id, "reference")  # the caller's copy of the reference
            # Ids and codes only: the reason can quote the caller's words.
            log.info("message %s routed to %s with %d notification(s)", message_id, agency.code,
                     len(agency.targets))
    with db.session() as session:
        pending = list(session.scalars(select(Notification.id).where(Notification.message_id == message_id,
                                                                     Notification.status == PENDING)
                                       .order_by(Notification.id)))
    for notification_id in pending:
        queue_notification(config, notification_id)
    return outcome
