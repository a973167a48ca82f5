"""Database work behind the voice webhooks, as plain functions on a session.

The views call these; tests call them without HTTP.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ivr.core.db import upsert_insert
from ivr.core.models import Answer, Base, Call, Caller, Message, Recording, utcnow
from ivr.core.models.radio import RadioBulletin
from ivr.core.privacy import hash_number
from ivr.voice.flow import Audio, CallState, Lookup, Text, Utterance

REFERENCE_DIGITS = 8


def new_reference() -> str:
    """Return a random reference number that does not start with 0 (easy to key and to say)."""
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(REFERENCE_DIGITS - 1))


def find_caller(session: Session, number: str, pepper: str, *, create: bool) -> Caller | None:
    """Find (or create) the caller for a phone number, by its keyed hash only."""
    digest = hash_number(number, pepper)
    if digest is None:
        return None
    caller = session.scalar(select(Caller).where(Caller.number_hash == digest))
    if caller is None and create:
        caller = Caller(number_hash=digest)
        session.add(caller)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # two calls from one phone at once: the other request created it
            caller = session.scalar(select(Caller).where(Caller.number_hash == digest))
    return caller


@dataclass(frozen=True)
class FirstLook:
    """What a call's first webhook reads before it writes: whether the call is known, the caller's language."""

    known: bool
    language: str | None


@dataclass(frozen=True)
class Arrival:
    """A call seen for the first time: its row, and the phone it comes from (None: number withheld)."""

    call_id: int
    caller_id: int | None
    number_hash: str | None


@dataclass(frozen=True)
class _Statements:
    """The first webhook's statements in one dialect, built once: each webhook only binds values."""

    first_look: Any
    count_caller: Any
    insert_call: Any
    uncount_caller: Any
    upsert_recording: Any


def _statements(session: Session) -> _Statements:
    return _build(session.get_bind().dialect.name)


@cache
def _build(dialect: str) -> _Statements:
    insert = upsert_insert(dialect)
    calls_t, callers_t, recordings_t = _table(Call), _table(Caller), _table(Recording)
    first_look = select(
        select(calls_t.c.id).where(calls_t.c.call_sid == bindparam("sid")).scalar_subquery(),
        select(callers_t.c.language).where(callers_t.c.number_hash == bindparam("digest")).scalar_subquery())
    count = insert(callers_t).values(number_hash=bindparam("digest"), calls_count=1, last_call_at=bindparam("now"),
                                     created_at=bindparam("now"))
    count = count.on_conflict_do_update(index_elements=[callers_t.c.number_hash], set_={
        "calls_count": callers_t.c.calls_count + 1, "last_call_at": count.excluded.last_call_at,
    }).returning(callers_t.c.id)
    insert_call = insert(calls_t).values(
        call_sid=bindparam("sid"), caller_id=bindparam("caller_id"), state=bindparam("state"),
        started_at=bindparam("now"), updated_at=bindparam("now"),
    ).on_conflict_do_nothing(index_elements=[calls_t.c.call_sid]).returning(calls_t.c.id)
    uncount = update(callers_t).where(callers_t.c.id == bindparam("caller_id")).values(
        calls_count=callers_t.c.calls_count - 1)
    rec = insert(recordings_t).values(
        recording_sid=bindparam("sid"), call_sid=bindparam("call_sid"), url=bindparam("url"),
        duration_seconds=bindparam("duration"), twilio_status=bindparam("status"), discarded=False,
        created_at=bindparam("now"), updated_at=bindparam("now"))
    # A repeated or second request keeps what it does not say: an empty URL, no duration, no status.
    rec = rec.on_conflict_do_update(index_elements=[recordings_t.c.recording_sid], set_={
        "url": func.coalesce(func.nullif(rec.excluded.url, ""), recordings_t.c.url),
        "duration_seconds": case((rec.excluded.duration_seconds > 0, rec.excluded.duration_seconds),
                                 else_=recordings_t.c.duration_seconds),
        "twilio_status": func.coalesce(rec.excluded.twilio_status, recordings_t.c.twilio_status),
        "updated_at": rec.excluded.updated_at,
    }).returning(recordings_t.c.message_id)
    return _Statements(first_look, count, insert_call, uncount, rec)


def first_look(session: Session, call_sid: str, digest: str | None) -> FirstLook:
    """Read, in one statement, whether a call is stored already and the language its caller last chose."""
    call_id, language = session.execute(_statements(session).first_look, {"sid": call_sid, "digest": digest}).one()
    return FirstLook(known=call_id is not None, language=language)


def arrive(session: Session, call_sid: str, digest: str | None, state: CallState) -> Arrival | None:
    """Count the caller and store the new call where it starts, in two statements; None when it is stored already.

    Everything is worked out before the first statement, so on SQLite the writer lock
    (ivr/core/writer_lock.py) is held for the two statements and the commit only. Twilio may repeat the
    incoming webhook: a repeat that raced past first_look undoes its count before the commit.
    """
    stmts, now = _statements(session), utcnow()
    caller_id = None
    if digest is not None:
        caller_id = session.execute(stmts.count_caller, {"digest": digest, "now": now}).scalar_one()
    call_id = session.execute(stmts.insert_call, {"sid": call_sid, "caller_id": caller_id, "now": now,
                                                  "state": json.dumps(state.to_dict(), sort_keys=True)}).scalar()
    if call_id is None:
        if caller_id is not None:
            session.execute(stmts.uncount_caller, {"caller_id": caller_id})
        return None
    return Arrival(call_id, caller_id, digest)


def remember_language(session: Session, call_sid: str, language: str | None) -> None:
    """Keep the language a caller chose for their next call, in one UPDATE (the second webhook of most calls)."""
    calls_t, callers_t = _table(Call), _table(Caller)
    session.execute(update(callers_t).where(callers_t.c.id == select(calls_t.c.caller_id).where(
        calls_t.c.call_sid == call_sid).scalar_subquery()).values(language=language))


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def find_call(session: Session, call_sid: str) -> Call | None:
    return session.scalar(select(Call).where(Call.call_sid == call_sid))


def start_call(session: Session, call_sid: str, caller: Caller | None) -> Call:
    """Create the call row, or return it when Twilio repeats the incoming webhook."""
    call = find_call(session, call_sid)
    if call is not None:
        return call
    call = Call(call_sid=call_sid, caller_id=caller.id if caller else None)
    session.add(call)
    if caller is not None:
        caller.calls_count += 1
        caller.last_call_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        existing = find_call(session, call_sid)
        assert existing is not None
        return existing
    return call


def load_state(call: Call) -> CallState:
    try:
        data = json.loads(call.state or "{}")
    except ValueError:
        data = {}
    return CallState.from_dict(data if isinstance(data, dict) else {})


def save_state(session: Session, call: Call, state: CallState) -> None:
    """Store where the call is: one UPDATE of a stored call, without the ORM's flush (every webhook does this)."""
    value = json.dumps(state.to_dict(), sort_keys=True)
    info = inspect(call)
    if not info.persistent or info.modified:
        call.state = value  # a new call, or one with other changes: the flush writes it all at once
        return
    if call.state == value:
        return  # stored already, in this transaction or an earlier one
    now = utcnow()
    calls_t = _table(Call)
    session.execute(update(calls_t).where(calls_t.c.id == call.id).values(state=value, updated_at=now))
    set_committed_value(call, "state", value)
    set_committed_value(call, "updated_at", now)


@dataclass(frozen=True)
class RecordingUpdate:
    """What a <Record> action or a recording status callback says about one recording."""

    sid: str
    call_sid: str
    url: str
    duration: int | None
    status: str | None


def upsert_recording(session: Session, update: RecordingUpdate) -> int | None:
    """Store a recording's metadata once, whichever of Twilio's two requests arrives first, in one statement.

    Return the id of the message the recording belongs to (None while the caller has not kept it).
    """
    return session.execute(_statements(session).upsert_recording, {
        "sid": update.sid, "call_sid": update.call_sid, "url": update.url, "duration": update.duration,
        "status": update.status, "now": utcnow()}).scalar_one_or_none()


def keep_message(session: Session, call: Call, state: CallState, *, confirmed: bool = True) -> Message:
    """Turn the call's recording and choices into a message with a fresh reference number, once per recording.

    One INSERT … ON CONFLICT on messages.recording_sid (unique), not a read then a write: two keep webhooks
    at the same instant (or a keep and the end-of-call callback) both get the one message, never two.
    """
    anonymous = state.consent == "anonymous"
    for _ in range(20):
        reference = new_reference()
        if session.scalar(select(Message.id).where(Message.reference == reference)) is None:
            break
    now = utcnow()
    # Anonymous: no link to the phone at all (no caller, no call, no call sid on the recording), so the
    # report cannot lead back to the caller through any join (tests/privacy/test_anonymous.py walks them).
    values = dict(reference=reference, call_id=None if anonymous else call.id,
                  caller_id=None if anonymous else call.caller_id,
                  language=state.language or "en", topic=state.topic, place=state.place,
                  consent=state.consent or "anonymous", confirmed=confirmed, status="received",
                  pipeline="received", pipeline_at=now, created_at=now, updated_at=now,
                  recording_sid=state.recording_sid)
    if not state.recording_sid:
        unrecorded = Message(**values)
        session.add(unrecorded)
        session.flush()
        return unrecorded
    messages_t = _table(Message)
    insert = upsert_insert(session.get_bind().dialect.name)
    message_id = session.execute(insert(messages_t).values(**values).on_conflict_do_nothing(
        index_elements=[messages_t.c.recording_sid]).returning(messages_t.c.id)).scalar()
    if message_id is None:  # kept already, by a repeated or simultaneous webhook: one message per recording
        message_id = session.scalar(select(Message.id).where(Message.recording_sid == state.recording_sid))
    recordings_t = _table(Recording)
    session.execute(update(recordings_t).where(recordings_t.c.recording_sid == state.recording_sid,
                                               recordings_t.c.message_id.is_(None))
                    .values(message_id=message_id, discarded=False, **({"call_sid": ""} if anonymous else {})))
    message = session.get(Message, message_id)
    assert message is not None
    return message


def kept_state(state: CallState, message: Message) -> CallState:
    """Return the state a call keeps (in its row and its URLs) once `message` is kept.

    An anonymous report's call forgets its recording and reference: the call row keeps its caller (the
    language preference, a key-8 callback) only because nothing in it leads to the message any more.
    """
    if message.consent == "anonymous":
        return replace(state, recording_sid=None, recording_url=None, reference=None)
    return replace(state, reference=message.reference)


def discard_recording(session: Session, sid: str | None) -> None:
    if not sid:
        return
    rec = session.scalar(select(Recording).where(Recording.recording_sid == sid))
    if rec is not None and rec.message_id is None:
        rec.discarded = True


def lookup_reference(session: Session, digits: str, audio_url: Callable[[Answer], str],
                     say_voices: Mapping[str, str] | None = None) -> Lookup:
    """Say what a caller may hear about a reference number: its latest answer, else its status.

    A typed answer not yet spoken (no audio) is read only by the message language's own Twilio voice
    (`say_voices`); where there is none (Fijian) the caller hears the status, never another voice.
    """
    if not digits.isdigit():
        return Lookup(found=False)
    message = session.scalar(select(Message).where(Message.reference == digits))
    if message is None:
        return Lookup(found=False)
    answer: Utterance | None = None
    latest: Answer | None = message.answers[-1] if message.answers else None
    if latest is not None and latest.audio_path:
        answer = Audio(audio_url(latest))
    elif latest is not None and latest.text and (say_voices is None or say_voices.get(message.language)):
        answer = Text(latest.text)
    return Lookup(found=True, status=message.status, answer=answer)


def end_call(session: Session, call: Call, status: str, duration: int | None) -> Message | None:
    """Record how a call ended; keep a recording the caller made but never confirmed or discarded.

    A caller on a feature phone often hangs up right after speaking: losing that message would be
    worse than keeping one they did not confirm, which is marked unconfirmed for the agency.
    """
    call.status = status
    call.ended_at = call.ended_at or utcnow()
    if duration is not None:
        call.duration_seconds = duration
    state = load_state(call)
    if status != "completed" or not state.recording_sid or state.reference:
        return None
    rec = session.scalar(select(Recording).where(Recording.recording_sid == state.recording_sid))
    if rec is None or rec.discarded or rec.message_id is not None:
        return None
    message = keep_message(session, call, state, confirmed=False)
    save_state(session, call, kept_state(state, message))
    return message


def caller_place(session: Session, place: str | None, caller_id: int | None) -> str | None:
    """Return the caller's place: chosen in this call, else that of their latest message kept with their phone."""
    if place:
        return place
    if caller_id is None:
        return None
    return session.scalar(select(Message.place).where(Message.caller_id == caller_id, Message.place.is_not(None))
                          .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))


def latest_bulletin(session: Session, language: str, base_url: str, place: str | None = None) -> Audio | None:
    """Return the latest published radio bulletin in a language for the caller's place, or for every place.

    For main menu key 3: a bulletin made for another place is never played; one for every place ("")
    is played to anyone. None when there is neither.
    """
    places = ["", place] if place else [""]
    bulletin_id = session.scalar(select(RadioBulletin.id).where(RadioBulletin.status == "published",
                                                                RadioBulletin.language == language,
                                                                RadioBulletin.place.in_(places))
                                 .order_by(RadioBulletin.published_at.desc(), RadioBulletin.id.desc()).limit(1))
    return Audio(f"{base_url}/radio/bulletins/{bulletin_id}.mp3") if bulletin_id is not None else None

