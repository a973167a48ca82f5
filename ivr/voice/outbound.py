"""Webhooks of the calls the hotline places: the TwiML a callee hears, and Twilio's status callbacks.

Signed like every /voice route (the same check runs before each request). The TwiML route always
answers valid TwiML, whatever went wrong: the person on the line hears a polite goodbye at worst.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ivr.core.delayed_jobs import enqueue_at
from ivr.core.models import Answer, Caller, Message, utcnow
from ivr.core.models.delivery import ANSWER, CallAttempt, Delivery
from ivr.core.pipeline import INGEST_JOB
from ivr.core.services import Services, services
from ivr.voice import calls
from ivr.voice.answers import answer_audio_url
from ivr.voice.flow import Audio, CallState, Text
from ivr.voice.outbound_calls import PLACE_CALL_JOB, StatusUpdate, place_call_job_id, record_status
from ivr.voice.outbound_flow import OutboundCall, outbound_step, render_outbound
from ivr.voice.twiml import render_error
from ivr.voice.webhooks import (
    CALL_STATUSES,
    SID,
    begin_webhook,
    empty_twiml,
    end_webhook,
    twilio_error,
    twiml,
    verify_twilio,
)

log = logging.getLogger(__name__)
bp = Blueprint("outbound", __name__, url_prefix="/voice")
bp.before_request(begin_webhook)
bp.teardown_request(end_webhook)
bp.before_request(verify_twilio)

OUTBOUND_STATUSES = CALL_STATUSES | {"initiated", "answered"}


@bp.errorhandler(Exception)
def outbound_error(exc: Exception) -> Response | HTTPException:
    """Say goodbye politely on a live call; a status callback gets a 500 so Twilio's log shows it."""
    return twilio_error(exc, live=request.endpoint == "outbound.outbound")


def _arg_int(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.post("/outbound")
def outbound() -> Response:
    """The callee picked up (or pressed a key): the answer and its menu, or a callback's way into the menus."""
    svc = services()
    sid = request.form.get("CallSid", "")
    delivery_id, attempt = _arg_int("delivery"), _arg_int("attempt")
    if not SID.match(sid) or delivery_id is None or attempt is None:
        return twiml(render_error(svc.prompts, svc.default_language()))
    digits = request.form.get("Digits", "")
    digits = digits if digits.isdigit() and len(digits) <= 2 else ("?" if digits else "")
    with svc.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return twiml(render_error(svc.prompts, svc.default_language()))
        facts = _facts(svc, session, delivery, attempt)
        # Only a language the caller chose carries into the menus; else they get the language menu.
        remembered = delivery.language if delivery.language in svc.offered_languages() else None
        _bind_call(session, delivery, attempt, sid, remembered)
    step = outbound_step(facts, request.args.get("step", ""), digits, _arg_int("tries") or 0)
    return twiml(render_outbound(step, facts, svc.prompts, svc.config.public_base_url))


def _facts(svc: Services, session: Session, delivery: Delivery, attempt: int) -> OutboundCall:
    offered = svc.offered_languages()
    language = delivery.language if delivery.language in offered else svc.default_language()
    if delivery.kind != ANSWER or delivery.answer_id is None:
        return OutboundCall(delivery.id, attempt, delivery.kind, language)
    answer = session.get(Answer, delivery.answer_id)
    if answer is None:
        return OutboundCall(delivery.id, attempt, delivery.kind, language)
    message = session.get(Message, answer.message_id)
    heard: Audio | Text | None = None
    if answer.audio_path:
        heard = Audio(answer_audio_url(svc.config, answer))
    elif answer.text:
        heard = Text(answer.text)
    return OutboundCall(delivery.id, attempt, delivery.kind, language,
                        reference=message.reference if message else None, answer=heard)


def _bind_call(session: Session, delivery: Delivery, attempt: int, sid: str, language: str | None) -> None:
    """Mark the try as picked up and give the call a row, so the incoming menus can take it over."""
    row = session.scalar(select(CallAttempt).where(CallAttempt.delivery_id == delivery.id,
                                                         CallAttempt.number == attempt))
    if row is not None and row.call_sid in (None, sid):
        row.call_sid = sid
        if not row.heard:
            row.heard, row.answered_at = True, utcnow()
    if calls.find_call(session, sid) is None:
        caller = session.get(Caller, delivery.caller_id) if delivery.caller_id is not None else None
        call = calls.start_call(session, sid, caller)
        calls.save_state(session, call, CallState(language=language))


@bp.post("/outbound-status")
def outbound_status() -> Response:
    """Twilio's status callback for a call we placed: store it once; schedule a retry when it failed."""
    svc = services()
    form = request.form
    sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    delivery_id, attempt = _arg_int("delivery"), _arg_int("attempt")
    if not SID.match(sid) or status not in OUTBOUND_STATUSES or delivery_id is None or attempt is None:
        abort(400, description="CallSid, a known CallStatus, and delivery and attempt in the URL are required")
    update = StatusUpdate(delivery_id, attempt, sid, status, duration=_form_int("CallDuration"),
                          sequence=_form_int("SequenceNumber"))
    now = utcnow()
    message_id, rec_sid = None, None
    with svc.db.session() as session:
        followup = record_status(session, svc.config, update, now=now)
        call = calls.find_call(session, sid)
        if call is not None and status in ("completed", "busy", "no-answer", "failed", "canceled"):
            # A callback call went through the menus: keep a recording the caller made but never confirmed.
            message = calls.end_call(session, call, status, update.duration)
            message_id = message.id if message is not None else None
            rec_sid = calls.load_state(call).recording_sid
    if message_id is not None:
        svc.queue.enqueue(INGEST_JOB, message_id, job_id=f"ingest-{rec_sid}")
    if followup is not None and followup.at is not None and followup.attempt is not None:
        enqueue_at(svc.queue, followup.at, PLACE_CALL_JOB, followup.delivery_id, followup.attempt,
                   job_id=place_call_job_id(followup.delivery_id, followup.attempt), now=now)
    return empty_twiml()


def _form_int(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 8 else None
