"""Park what Twilio sent while the database could not be reached, and replay it once it can.

Twilio does not send a call's end or a recording's status again: if those callbacks fail, a caller's
recording would exist at Twilio with no message here. So when the database does not answer, the callback
is written to a small local journal (one JSON file per request, in HOTLINE_DATA_DIR/journal, owner-only)
and answered 200; the sweeper (worker.jobs.sweep) replays the journal once the database is back. The
caller's number, needed for a missed-call callback, is kept sealed with the number key, never in clear.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.funnel import KEPT, FunnelBuffer
from ivr.core.models import Recording, utcnow
from ivr.core.pipeline import INGEST_JOB
from ivr.core.queue import JobQueue, make_queue
from ivr.voice import calls
from ivr.voice.callback_numbers import number_key, open_number, seal_number
from ivr.voice.outbound_calls import (
    PLACE_CALL_JOB,
    caller_number,
    keep_number_for_consent,
    missed_call,
    place_call_job_id,
)

log = logging.getLogger(__name__)

KINDS = ("status", "recording")
FIELDS = ("CallSid", "CallStatus", "CallDuration", "Direction", "RecordingSid", "RecordingUrl", "RecordingDuration",
          "RecordingStatus")
JOURNAL_AD = 0  # the sealed number belongs to no caller row yet: 0 is the associated data of the journal


def journal_dir(config: Config) -> Path:
    return config.data_dir / "journal"


def park(config: Config, kind: str, form: Mapping[str, str]) -> Path:
    """Write one callback to the journal, durably (temporary file, fsync, rename); return its path."""
    assert kind in KINDS
    folder = journal_dir(config)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    number = caller_number(form)
    kept = {k: form[k] for k in FIELDS if k in form}
    entry = {"kind": kind, "at": utcnow().isoformat(), "form": kept,
             "number": seal_number(number, number_key(config), JOURNAL_AD) if number.startswith("+") else ""}
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.json"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(entry, f)
        f.flush()
        os.fsync(f.fileno())
    path = folder / name
    os.replace(tmp, path)
    log.warning("database unreachable: %s callback for call %s parked in the journal", kind,
                kept.get("CallSid", "?"))
    return path


@dataclass
class Jobs:
    """Jobs a callback leads to, queued after its transaction commits (store first, enqueue second)."""

    queued: list[tuple[str, tuple[Any, ...], str]] = field(default_factory=list)

    def run(self, queue: JobQueue) -> None:
        for func, args, job_id in self.queued:
            queue.enqueue(func, *args, job_id=job_id)


def apply_recording(session: Session, form: Mapping[str, str], *, keep_orphan: bool = False) -> Jobs:
    """Store a recording status callback; with keep_orphan, give a recording no message yet an unconfirmed one."""
    jobs = Jobs()
    sid, rec_sid = form.get("CallSid", ""), form.get("RecordingSid", "")
    status = form.get("RecordingStatus", "completed")[:20]
    message_id = calls.upsert_recording(session, calls.RecordingUpdate(
        rec_sid, sid, form.get("RecordingUrl", ""), _int(form.get("RecordingDuration")), status))
    if message_id is None and keep_orphan:
        # Parked while the database was down: the call's own steps may never have stored it. A recording the
        # caller did not discard is kept, unconfirmed, rather than lost (as calls.end_call does).
        call = calls.find_call(session, sid) or calls.start_call(session, sid, None)
        state = calls.load_state(call)
        rec = session.scalar(select(Recording).where(Recording.recording_sid == rec_sid))
        if rec is not None and not rec.discarded:
            message_id = calls.keep_message(session, call, replace(state, recording_sid=rec_sid), confirmed=False).id
    if message_id is not None and status == "completed":
        jobs.queued.append((INGEST_JOB, (message_id,), f"ingest-{rec_sid}"))
    return jobs


def apply_status(session: Session, config: Config, form: Mapping[str, str],
                 funnel: FunnelBuffer | None = None) -> Jobs:
    """Record a call's end: a missed call's callback, or the unconfirmed message of a caller who hung up.

    `funnel`, when given, is this process's call counts: written with this callback's own transaction at
    most every HOTLINE_FUNNEL_FLUSH_SECONDS, off the caller's path.
    """
    jobs = Jobs()
    sid = form.get("CallSid", "")
    call = calls.find_call(session, sid)
    delivery = missed_call(session, config, call, form, now=utcnow())
    if delivery is not None:
        session.flush()
        jobs.queued.append((PLACE_CALL_JOB, (delivery.id, 1), place_call_job_id(delivery.id, 1)))
    if call is None:
        return jobs
    message = calls.end_call(session, call, form.get("CallStatus", ""), _int(form.get("CallDuration")))
    if funnel is not None:
        if message is not None:
            funnel.note(message.language, KEPT, "entered")  # kept unconfirmed: the caller hung up at review
        if funnel.due(config.funnel_flush_seconds):
            funnel.flush(session)
    if message is not None:
        keep_number_for_consent(session, config, call.caller, caller_number(form), message.consent, now=utcnow())
        rec_sid = calls.load_state(call).recording_sid
        if message.recording is not None:
            rec_sid = message.recording.recording_sid  # an anonymous call's state forgot it
        jobs.queued.append((INGEST_JOB, (message.id,), f"ingest-{rec_sid}"))
    return jobs


@dataclass
class Replay:
    replayed: int = 0
    problems: list[str] = field(default_factory=list)


def replay(config: Config) -> Replay:
    """Apply every parked callback in the order received, deleting each once applied; the rest wait."""
    done = Replay()
    folder = journal_dir(config)
    if not folder.is_dir():
        return done
    db = database_for(config.database_url)
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            form = dict(entry["form"])
            if entry.get("number"):
                number = open_number(entry["number"], number_key(config), JOURNAL_AD)
                form["To" if form.get("Direction", "").startswith("outbound") else "From"] = number
            with db.session() as session:
                if entry["kind"] == "recording":
                    jobs = apply_recording(session, form, keep_orphan=True)
                else:
                    jobs = apply_status(session, config, form)
            jobs.run(make_queue(config))
            path.unlink()
            done.replayed += 1
        except Exception as exc:  # left in the journal for the next sweep; the others still go
            done.problems.append(f"journal {path.name}: {type(exc).__name__}: {exc}"[:300])
    if done.replayed:
        log.info("replayed %d parked callback(s) from the journal", done.replayed)
    return done


def _int(raw: Any) -> int | None:
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 10**7 else None
