"""Twilio's voice webhooks: verify, parse the form into an event, run the flow, answer TwiML.

Every live call step answers valid TwiML, whatever went wrong, because an error page would be read
to the caller as "an application error has occurred" and the call would end in confusion.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, abort, g, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ivr.core.live_calls import live_calls
from ivr.core.models import Caller, utcnow
from ivr.core.models.delivery import Delivery
from ivr.core.pipeline import INGEST_JOB
from ivr.core.privacy import hash_number
from ivr.core.services import Services, services
from ivr.radio import polls
from ivr.voice import calls, journal, state_token, withdrawal
from ivr.voice.answers import answer_audio_url
from ivr.voice.flow import (
    WITHDRAW_ACTIONS,
    CallState,
    Context,
    Event,
    Keys,
    Outcome,
    Recorded,
    Spoken,
    Start,
    Step,
    next_step,
    valid_digits,
    withdrawing,
)
from ivr.voice.funnel_steps import count_step
from ivr.voice.outbound_calls import (
    PLACE_CALL_JOB,
    callback_allowed,
    callbacks_offered,
    caller_number,
    keep_number_for_consent,
    place_call_job_id,
    request_callback,
)
from ivr.voice.poll_offer import offer_for
from ivr.voice.signature import is_signed
from ivr.voice.spoken import choices_for, hear_choice, listening_languages
from ivr.voice.twiml import render, render_error
from menus import Node
from recordings.errors import StoreError
from recordings.store import LocalStore

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")

SID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
NODE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
CALL_STATUSES = {"queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}
LIVE_ENDPOINTS = {"voice.incoming", "voice.step", "voice.recorded", "voice.spoken"}
DB_DOWN = (OperationalError, InterfaceError)  # the database does not answer (not: a query of ours is wrong)


def twiml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/xml")


def empty_twiml() -> Response:
    return twiml('<?xml version="1.0" encoding="UTF-8"?><Response />')


def begin_webhook() -> None:
    """Count a live call's webhook in flight (background jobs wait for a gap: ivr/core/live_calls.py) and speak
    its answer from one look at the prompt folders (PromptLibrary.one_look), until end_webhook."""
    stack = ExitStack()
    stack.enter_context(live_calls.webhook())
    stack.enter_context(services().prompts.library.one_look())
    g.live_webhook = stack


def end_webhook(_exc: BaseException | None) -> None:
    stack = g.pop("live_webhook", None)
    if stack is not None:
        stack.close()


bp.before_request(begin_webhook)  # before verify_twilio: a refused request is counted in and out too
bp.teardown_request(end_webhook)


@bp.before_request
def verify_twilio() -> Response | None:
    """Refuse anything not signed by Twilio for this exact URL; nothing is stored for it."""
    svc = services()
    if request.method != "POST":
        abort(405)
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(415, description="Twilio webhooks are form-encoded (application/x-www-form-urlencoded)")
    if not is_signed(svc.config.twilio_auth_token, svc.config.public_base_url, request):
        # Log the path only: the form carries the caller's phone number.
        log.warning("rejected unsigned or mis-signed webhook for %s", request.path)
        abort(403, description="X-Twilio-Signature is missing or does not match this URL")
    return None


def twilio_error(exc: Exception, live: bool) -> Response | HTTPException:
    """Answer a failed webhook: a polite TwiML goodbye, 200 on a live call, 500 on a callback (Twilio logs it)."""
    if isinstance(exc, HTTPException):
        return exc
    log.exception("voice webhook %s failed", request.endpoint)
    svc = services()
    body = render_error(svc.prompts, svc.default_language())
    return twiml(body) if live else twiml(body, status=500)


@bp.errorhandler(Exception)
def live_call_error(exc: Exception) -> Response | HTTPException:
    """Keep the caller on a sensible path even when our side failed."""
    return twilio_error(exc, live=request.endpoint in LIVE_ENDPOINTS)


class CallRow:
    """The call's database row, looked up only when a step needs it (a plain menu step does not)."""

    def __init__(self, svc: Services, session: Session, sid: str, call: calls.Call | None = None) -> None:
        self.svc, self.session, self.sid, self._call = svc, session, sid, call

    def get(self) -> calls.Call:
        """Return the row, creating it for a call we have no record of (database restored, webhook replayed)."""
        if self._call is None:
            self._call = calls.find_call(self.session, self.sid) or self.create()
        return self._call

    def create(self) -> calls.Call:
        """Start the row of a call the database does not know (a repeated webhook finds the one it started)."""
        # On a call the hotline placed, the caller is the To side: never register the hotline's own number.
        caller = calls.find_caller(self.session, caller_number(request.form), self.svc.config.pepper, create=True)
        self._call = calls.start_call(self.session, self.sid, caller)
        return self._call

    @property
    def known(self) -> calls.Call | None:
        """The row if it has been looked up and exists, else None (nothing is queried)."""
        return self._call

    def caller(self) -> Caller | None:
        return self.get().caller


def _context(svc: Services, session: Session | None = None, voter: Callable[[], str | None] | None = None) -> Context:
    poll = None
    if session is not None and voter is not None:
        # The open poll (checked in memory, ivr/radio/polls.py) and, while one is open, whether this phone voted.
        poll = offer_for(session, voter, svc.config.public_base_url + "/polls/{poll}/{lang}.wav?v={v}",
                               svc.say_voices)
    offered = svc.offered_languages()
    return Context(offered=offered, operator=bool(svc.config.operator_number),
                   callbacks=callbacks_offered(svc.config), poll=poll,
                   listens=listening_languages(offered, svc.config.vosk_models_dir))


def _number_hash(caller: Caller | None) -> str | None:
    return caller.number_hash if caller is not None else None


def _call_sid() -> str | None:
    sid = request.form.get("CallSid", "")
    return sid if SID.match(sid) else None


def _node() -> str:
    node = request.args.get("node", "")
    return node if NODE.match(node) else ""


def _carried_state() -> CallState | None:
    """Return the state our TwiML put in the URL (None: an older URL, or one we did not write)."""
    token = request.args.get("s")
    return state_token.decode(token) if token is not None else None


# Effects after which the stored state must be current: the end-of-call callback keeps a recording
# the caller neither kept nor discarded, and needs to know which.
STATE_EFFECTS = frozenset({"keep_message", "discard_recording"})
# Effects whose writes are bookkeeping a power cut may lose (ivr/core/db.py light_writes): the call's row,
# the caller's language. Every other effect (a kept message, a vote, a withdrawal) waits for the disk.
LIGHT_EFFECTS = frozenset({"remember_language"})


def _respond(svc: Services, session: Session, row: CallRow, state: CallState, event: Event, *,
             store: bool, ctx: Context | None = None) -> Response:
    """Run the flow one step and answer its TwiML; the state goes to the database only when `store`
    is set or an effect needs it there (a plain menu step carries it in the URLs alone).

    `ctx` is the flow's context when the view read it already, before a write of its own.
    """
    if ctx is None:
        ctx = _context(svc, session, lambda: _number_hash(row.caller()))
    outcome = next_step(svc.menus, state, event, ctx)
    if svc.config.call_funnel:
        count_step(svc.funnel, svc.menus.flow, state, event, outcome)  # in memory: written in batches
    if LIGHT_EFFECTS.issuperset(outcome.step.effects):
        svc.db.light_writes(session)
    new_state = outcome.state
    if outcome.step.effects:
        new_state = _apply_effects(svc, session, row, state, outcome)
    if store or STATE_EFFECTS.intersection(outcome.step.effects):
        calls.save_state(session, row.get(), new_state)
    session.commit()  # before rendering: on SQLite, other writers wait for this transaction (ivr/core/writer_lock.py)
    return _answer(svc, outcome.step, new_state)


def _answer(svc: Services, step: Step, state: CallState) -> Response:
    """Render a step as TwiML whose URLs carry the call's new state."""
    # An anonymous report's reference is spoken once but never carried (calls.kept_state).
    numbers = {"reference": state.reference or g.get("spoken_reference", ""), "heard": state.heard or ""}
    return twiml(render(step, state.language or svc.default_language(), numbers, svc.prompts, svc.urls,
                        max_length=svc.config.recording_max_seconds,
                        operator_number=svc.config.operator_number, state=state_token.encode(state)))


def _apply_effects(svc: Services, session: Session, row: CallRow, before: CallState,
                   outcome: Outcome) -> CallState:
    state = outcome.state
    for effect in outcome.step.effects:
        if effect == "remember_language":
            calls.remember_language(session, row.sid, state.language)
            continue
        call = row.get()
        if effect == "keep_message":
            message = calls.keep_message(session, call, state)
            # Only with consent 1 or 3, and only encrypted: the agency may ring back with the answer.
            keep_number_for_consent(session, svc.config, call.caller, caller_number(request.form), state.consent,
                                    now=utcnow())
            rec_sid, g.spoken_reference = state.recording_sid, message.reference
            state = calls.kept_state(state, message)
            calls.save_state(session, call, state)  # in the same commit: the call knows its reference at once
            session.commit()  # store first: the message exists before any job is queued
            svc.queue.enqueue(INGEST_JOB, message.id, job_id=f"ingest-{rec_sid}")
        elif effect == "request_callback":
            _queue_callback(svc, session, request_callback(session, svc.config, call.caller,
                                                           caller_number(request.form), reason="key-8",
                                                           language=state.language, now=utcnow()))
        elif effect == "discard_recording":
            calls.discard_recording(session, before.recording_sid)  # the state the caller came with holds it
        elif effect in WITHDRAW_ACTIONS:
            sid = withdrawal.withdraw(session, before.reference, call.caller, effect)
            session.commit()  # the rows first: a file is deleted only once no row points at it
            if sid is not None:
                _delete_recording(svc, sid)
        elif effect == "vote_poll" and state.poll_id is not None and state.poll_vote is not None:
            polls.record_vote(session, state.poll_id, _number_hash(call.caller), state.poll_vote,
                              state.language or svc.default_language())
    return state


def _delete_recording(svc: Services, sid: str) -> None:
    try:
        LocalStore(svc.config.recordings_dir).delete(sid)
    except (OSError, StoreError) as exc:  # claimed by no row now: `hotline retention run` deletes it
        log.warning("withdrawn recording %s not deleted yet (%s)", sid, type(exc).__name__)


def _queue_callback(svc: Services, session: Session, delivery: Delivery | None) -> None:
    """Queue the first try of a callback the caller asked for, once it is stored."""
    if delivery is None:
        return
    delivery_id = delivery.id
    session.commit()  # store first: the callback exists before its job is queued
    svc.queue.enqueue(PLACE_CALL_JOB, delivery_id, 1, job_id=place_call_job_id(delivery_id, 1))


@bp.post("/incoming")
def incoming() -> Response:
    """A call arrives: greet a new caller with the language menu, a returning one in their language."""
    svc = services()
    sid = _call_sid()
    if sid is None:
        return twiml(render_error(svc.prompts, svc.default_language()))
    number = request.form.get("From", "")
    digest = hash_number(number, svc.config.pepper)
    with svc.db.session() as session:
        # Read and work out the first step before writing: on SQLite other writers wait only for the writes.
        look = calls.first_look(session, sid, digest)
        arrival = None
        if not look.known:
            outcome = next_step(svc.menus, CallState(), Start(language=look.language),
                                _context(svc, session, lambda: digest))
            if LIGHT_EFFECTS.issuperset(outcome.step.effects):
                svc.db.light_writes(session)  # the call's and caller's rows: bookkeeping
            arrival = calls.arrive(session, sid, digest, outcome.state)
        if arrival is None:
            # A repeated incoming webhook finds the call already started: it starts again from the top.
            row = CallRow(svc, session, sid)
            call = row.create()
            remembered = calls.load_state(call).language or (call.caller.language if call.caller else None)
            return _respond(svc, session, row, CallState(), Start(language=remembered), store=True)
        state = outcome.state
        if svc.config.call_funnel:
            count_step(svc.funnel, svc.menus.flow, CallState(), Start(language=look.language), outcome)
        if outcome.step.effects:  # none in today's flow (a call's first step only speaks), but a menu file may add one
            state = _apply_effects(svc, session, CallRow(svc, session, sid), CallState(), outcome)
    return _answer(svc, outcome.step, state)


@bp.post("/step")
def step() -> Response:
    """The caller pressed keys (or stayed silent) at a node."""
    svc = services()
    sid = _call_sid()
    if sid is None:
        return twiml(render_error(svc.prompts, svc.default_language()))
    node = _node()
    carried = _carried_state()
    with svc.db.session() as session:
        if carried is None:
            # A URL without the state (a callback's redirect into the menus, an older deploy): the row has it.
            row = CallRow(svc, session, sid, calls.find_call(session, sid))
            if row.known is None:
                call = row.create()
                return _respond(svc, session, row, CallState(), Start(language=call.caller.language if call.caller
                                                                      else None), store=True)
            state = calls.load_state(row.known)
        else:
            row, state = CallRow(svc, session, sid), carried
        silence = request.args.get("silence") == "1"
        raw = "" if silence else request.form.get("Digits", "")
        digits = valid_digits(raw)
        if digits is None:
            digits = "?"  # letters or an absurd length: treated as a wrong key, so the prompt repeats
        return _respond(svc, session, row, state, _key_event(svc, session, row, state, node, digits),
                        store=carried is None)


def _key_event(svc: Services, session: Session, row: CallRow, state: CallState, node: str, digits: str) -> Keys:
    """Gather what the database knows that a key press needs (a reference's lookup, a bulletin, a callback).

    While a spoken choice waits for its yes, key 1 stands for the key heard: its facts are gathered.
    """
    pressed = state.heard if state.heard is not None and digits == "1" else digits
    lookup = None
    current = svc.menus.flow.nodes.get(state.node)
    if current is not None and current.type == "reference" and node == state.node and pressed:
        lookup = calls.lookup_reference(session, pressed, lambda a: answer_audio_url(svc.config, a),
                                        svc.say_voices)
        if withdrawing(svc.menus.flow, current):  # who may withdraw it: only the phone that made it
            lookup = replace(lookup, answer=None, withdraw=withdrawal.withdrawal_status(session, pressed,
                                                                                         row.caller()))
    option = current.options.get(pressed) if current is not None and node == state.node else None
    bulletin = None
    if option is not None and option.action == "play_bulletin":
        caller = row.caller()
        place = calls.caller_place(session, state.place, caller.id if caller is not None else None)
        bulletin = calls.latest_bulletin(session, state.language or svc.default_language(),
                                         svc.config.public_base_url, place)
    withdraw = None
    if option is not None and option.action in WITHDRAW_ACTIONS:
        withdraw = withdrawal.withdrawal_status(session, state.reference, row.caller(), option.action)
    callback = None
    if current is not None and node == state.node and _asks_callback(current, pressed):
        callback = callback_allowed(session, svc.config, row.caller(), utcnow(), caller_number(request.form))
    return Keys(node=node, digits=digits, lookup=lookup, callback=callback, bulletin=bulletin,
                withdraw=withdraw)


def _asks_callback(node: Node, digits: str) -> bool:
    option = node.options.get(digits)
    return option is not None and option.action == "request_callback"


@bp.post("/spoken")
def spoken() -> Response:
    """A spoken menu choice was recorded (or nothing was said): recognise it and go on as if keyed."""
    svc = services()
    sid = _call_sid()
    if sid is None:
        return twiml(render_error(svc.prompts, svc.default_language()))
    state = _carried_state()
    if state is None:  # a URL we did not write: the call's row has its state
        with svc.db.session() as session:
            call = calls.find_call(session, sid)
            state = calls.load_state(call) if call is not None else CallState()
    node = _node()
    url = request.form.get("RecordingUrl", "")
    current = svc.menus.flow.nodes.get(state.node)
    choice = None
    if url.startswith(("http://", "https://")) and current is not None and node == state.node and state.language:
        choice = hear_choice(svc.config, url, state.language,
                             choices_for(svc.menus.flow, current, state, state.language))
    key = choice.key if choice is not None else None
    with svc.db.session() as session:
        row = CallRow(svc, session, sid)
        keys = _key_event(svc, session, row, state, node, key) if key is not None else None
        event = Spoken(node=node, key=key, sure=choice is not None and choice.sure, keys=keys)
        return _respond(svc, session, row, state, event, store=False)


@bp.post("/recorded")
def recorded() -> Response:
    """The <Record> action: store the recording's metadata, then ask the caller to keep or redo it."""
    svc = services()
    sid = _call_sid()
    if sid is None:
        return twiml(render_error(svc.prompts, svc.default_language()))
    carried = _carried_state()
    try:
        return _recorded(svc, sid, carried)
    except DB_DOWN:
        if SID.match(request.form.get("RecordingSid", "")):
            journal.park(svc.config, "recording", request.form)  # the recording must not outlive its message
        raise


def _recorded(svc: Services, sid: str, carried: CallState | None) -> Response:
    with svc.db.session() as session:
        call = calls.find_call(session, sid)
        if call is None:
            call = calls.start_call(session, sid, None)
        state = carried if carried is not None else calls.load_state(call)
        rec_sid = request.form.get("RecordingSid", "")
        url = request.form.get("RecordingUrl", "")
        duration = _int(request.form.get("RecordingDuration"))
        if not (SID.match(rec_sid) and url.startswith(("http://", "https://"))):
            rec_sid, url, duration = "", "", 0
        ctx = _context(svc, session, lambda: _number_hash(call.caller))  # read before the writes below
        if rec_sid:
            calls.upsert_recording(session, calls.RecordingUpdate(rec_sid, sid, url, duration, None))
        # Stored with the state: should the caller hang up now, the status callback keeps the message.
        return _respond(svc, session, CallRow(svc, session, sid, call), state,
                        Recorded(node=_node(), sid=rec_sid, url=url, duration=duration or 0), store=True, ctx=ctx)


@bp.post("/recording-status")
def recording_status() -> Response:
    """Twilio's recording status callback: may come twice, and before or after the <Record> action."""
    svc = services()
    form = request.form
    sid, rec_sid, url = _call_sid(), form.get("RecordingSid", ""), form.get("RecordingUrl", "")
    if sid is None or not SID.match(rec_sid) or not url.startswith(("http://", "https://")):
        abort(400, description="CallSid, RecordingSid and RecordingUrl are required")
    try:
        with svc.db.session() as session:
            jobs = journal.apply_recording(session, form)
    except DB_DOWN:
        return _parked("recording")
    jobs.run(svc.queue)
    return empty_twiml()


@bp.post("/status")
def call_status() -> Response:
    """Twilio's call status callback: record the end of the call and its duration."""
    svc = services()
    sid = _call_sid()
    status = request.form.get("CallStatus", "")
    if sid is None or status not in CALL_STATUSES:
        abort(400, description="CallSid and a known CallStatus are required")
    try:
        with svc.db.session() as session:
            jobs = journal.apply_status(session, svc.config, request.form,
                                        funnel=svc.funnel if svc.config.call_funnel else None)
    except DB_DOWN:
        return _parked("status")
    jobs.run(svc.queue)
    return empty_twiml()


def _parked(kind: str) -> Response:
    """Keep a callback Twilio will not send again in the local journal; 503 only if even that failed."""
    try:
        journal.park(services().config, kind, request.form)
    except OSError:
        log.exception("database unreachable and the journal not writable: %s callback lost", kind)
        return twiml('<?xml version="1.0" encoding="UTF-8"?><Response />', status=503)
    return empty_twiml()


def _int(raw: Any) -> int | None:
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 10**7 else None
