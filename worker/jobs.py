"""Background jobs: fetch and store a caller's recording, then transcribe it.

Each job takes a message id, reads what it needs from SQL, and is idempotent: running it twice, or
after a crash half-way, leaves the same result as running it once. The message's pipeline state
in SQL (ivr.core.pipeline) says what has been done, so nothing depends on Redis keeping a job.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.models import Message, Recording, Transcript
from ivr.core.queue import make_queue
from ivr.core.runtime import current_config, current_db
from recordings.errors import AudioUnreadable, FetchFailed, StoreError
from recordings.fetch import delete_remote_recording
from recordings.ingest import fetch_and_store
from recordings.store import LocalStore

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """A job could not finish; RQ retries it, and the message shows the reason meanwhile."""


def store_for(config: Config) -> LocalStore:
    return LocalStore(config.recordings_dir)


GRACE_SECONDS = 5
"""A recording may run this much past the record limit (Twilio rounds, and stops on the next packet)."""
MAX_BYTES_PER_SECOND = 48_000 * 2 * 2
"""The most a second of uncompressed audio can weigh here: 48 kHz, 16-bit, two channels."""


def max_seconds(config: Config) -> int:
    """Return the longest recording accepted: the record limit callers have, plus a few seconds."""
    return config.recording_max_seconds + GRACE_SECONDS


def max_bytes(config: Config) -> int:
    """Return the largest download accepted: what the longest recording can weigh, plus a header's room."""
    return max_seconds(config) * MAX_BYTES_PER_SECOND + 65536


STORAGE_REASONS = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded", errno.EROFS: "read-only disk",
                   errno.EACCES: "store not writable", errno.EPERM: "store not writable", errno.EIO: "disk I/O error"}


def storage_reason(exc: BaseException) -> str:
    """Name why the store failed in two or three words an operator acts on (disk full, read-only disk ...)."""
    for err in (exc, exc.__cause__, exc.__context__):
        if isinstance(err, OSError) and err.errno in STORAGE_REASONS:
            return STORAGE_REASONS[err.errno]
    return "store failed"


def ingest_recording(message_id: int) -> str:
    """Fetch a message's recording from Twilio and store it once; then queue its transcription.

    Idempotent: a recording already stored (same sid) is not fetched again, and the transcription
    job id is derived from the RecordingSid, so a repeat enqueues nothing new.
    """
    config, db = current_config(), current_db()
    with db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        if message.status == "withdrawn":  # the caller took it back (ivr/voice/withdrawal.py): nothing to fetch
            return "withdrawn by the caller"
        rec = session.scalar(select(Recording).where(Recording.message_id == message_id))
        if rec is None:
            return "no recording"
        if message.pipeline not in (pipeline.RECEIVED, pipeline.FAILED) and rec.stored_path:
            return "already stored"
        url, sid = rec.url, rec.recording_sid
    try:
        store = store_for(config)
        stored = fetch_and_store(url, sid, store, account_sid=config.twilio_account_sid,
                                 auth_token=config.twilio_auth_token, attempts=3, hosts=config.media_hosts,
                                 max_seconds=max_seconds(config), max_bytes=max_bytes(config))
    except AudioUnreadable as exc:
        # Not retried: the same bytes will not become audio. The message is kept and shown to operators.
        log.warning("message %s: recording %s is not audio: %s", message_id, sid, exc.reason)
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            pipeline.set_state(message, pipeline.AUDIO_UNREADABLE, f"audio unreadable: {exc.reason}")
        return "audio unreadable"
    except FetchFailed as exc:
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            state = pipeline.RECEIVED if exc.retryable else pipeline.FAILED
            pipeline.set_state(message, state, f"fetch failed: {exc}")
        raise JobFailed(f"message {message_id}: {exc}") from exc
    except (StoreError, OSError) as exc:
        # A full or read-only disk: shown as the reason ("failed: disk full"), retried by RQ and the sweeper.
        reason = storage_reason(exc)
        log.warning("message %s: recording %s not stored: %s", message_id, sid, reason)
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            pipeline.set_state(message, pipeline.FAILED, f"{reason}: {exc}")
        raise JobFailed(f"message {message_id}: {reason}: {exc}") from exc
    with db.session() as session:
        rec = session.scalar(select(Recording).where(Recording.recording_sid == sid))
        message = session.get(Message, message_id)
        assert rec is not None and message is not None
        rec.stored_path, rec.sha256, rec.size_bytes = stored.key, stored.sha256, stored.size
        pipeline.set_state(message, pipeline.STORED)
    if config.delete_twilio_copy and store.verify(sid, stored.sha256):
        delete_remote_recording(url, config.twilio_account_sid, config.twilio_auth_token, hosts=config.media_hosts)
    make_queue(config).enqueue(pipeline.TRANSCRIBE_JOB, message_id, job_id=f"transcribe-{sid}")
    return "stored"


def transcribe_message(message_id: int) -> str:
    """Transcribe a stored recording with the engine for the message's language, exactly once.

    Idempotent: the transcripts table allows one row per message, so a retried or recovered job
    that finds a transcript (or loses the insert race) changes nothing.
    """
    from speech.confidence import check_by_ear
    from speech.errors import AudioUnreadable as SpeechAudioUnreadable
    from speech.registry import engine_for

    config, db = current_config(), current_db()
    with db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        transcribed = message.transcript is not None
        if transcribed:
            if message.pipeline not in (pipeline.READY, pipeline.ROUTED):
                pipeline.set_state(message, pipeline.READY)
            routed = message.pipeline == pipeline.ROUTED
        else:
            rec = session.scalar(select(Recording).where(Recording.message_id == message_id))
            if rec is None or not rec.stored_path:
                raise JobFailed(f"message {message_id}: recording not stored yet")
            language, path = message.language, store_for(config).path(rec.recording_sid)
    if transcribed:
        if not routed:
            queue_routing(config, message_id)  # after the commit above, so the routing job sees READY
        return "already transcribed"
    # Without Redis this runs on a thread of the web process: decode in a child process there, so a
    # transcription never holds the GIL that every webhook of this process needs (speech/isolated.py).
    engine = engine_for(language, config.vosk_models_dir, isolated=not config.redis_url)
    if engine is None:
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            pipeline.set_state(message, pipeline.NEEDS_LISTENING, f"no speech engine for {language!r}")
        queue_routing(config, message_id)  # the keypad choices alone can route it
        return "needs listening"
    try:
        result = engine.transcribe(path, language)
    except SpeechAudioUnreadable as exc:
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            pipeline.set_state(message, pipeline.AUDIO_UNREADABLE, f"audio unreadable: {exc.reason}")
        return "audio unreadable"
    confidence = result.confidence
    words = [{"word": w.word, "confidence": round(w.confidence, 3), "start": w.start, "end": w.end}
             for w in result.words]
    try:
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            session.add(Transcript(
                message_id=message_id, language=result.language, text=result.text, words=json.dumps(words),
                engine=result.engine, model=result.model, confidence=confidence,
                # A doubt (words in another script than the language's) needs an ear whatever the confidence.
                check_by_ear=check_by_ear(confidence, config.check_by_ear_below) or bool(result.doubts),
                audio_seconds=result.duration, processing_seconds=result.seconds))
            pipeline.set_state(message, pipeline.READY)
    except IntegrityError:
        return "already transcribed"  # another worker finished the same message first
    # The next step first: should Redis go away now, the message is READY in SQL and the sweeper routes it.
    queue_routing(config, message_id)
    _note_job(engine_loads=_engine_loads())
    return "transcribed"


def queue_routing(config: Config, message_id: int) -> bool:
    """Queue the routing job of a message that now has a transcript, or will never have one."""
    return make_queue(config).enqueue(pipeline.ROUTE_JOB, message_id, job_id=pipeline.route_job_id(message_id))


@dataclass
class Sweep:
    """What one sweeper run did: the job ids it queued, and what it could not do (one line each)."""

    queued: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def attempt(self, what: str, func: Callable[[], object]) -> object:
        """Run one step of the sweep on its own: a failure is logged and counted, and the run goes on."""
        try:
            return func()
        except Exception as exc:  # one broken job must not cost every other one its retry
            log.warning("sweeper: %s failed: %s: %s", what, type(exc).__name__, exc)
            self.problems.append(f"{what}: {type(exc).__name__}: {exc}"[:300])
            return None


def recover(older_than_seconds: float | None = None, include_failed: bool = False) -> list[str]:
    """Re-enqueue every message stuck in a waiting state; return the job ids queued (see sweep)."""
    return sweep(older_than_seconds, include_failed).queued


def sweep(older_than_seconds: float | None = None, include_failed: bool = False) -> Sweep:
    """Re-enqueue stuck messages, notifications and calls, each on its own; say what was queued and what failed."""
    from datetime import timedelta

    config, db = current_config(), current_db()
    threshold = timedelta(seconds=config.stuck_after_seconds if older_than_seconds is None else older_than_seconds)
    run = Sweep()
    from ivr.voice.journal import replay

    # Callbacks parked while the database was down come first: they may create the messages swept below.
    replayed = cast(Any, run.attempt("journal", lambda: replay(config)))
    if replayed is not None:
        run.problems += replayed.problems

    def stuck_jobs() -> list[pipeline.PendingJob | None]:
        with db.session() as session:
            rows = pipeline.stuck(session, threshold, include_failed=include_failed)
            return [pipeline.job_for(m, r) for m, r in rows]

    for job in cast(list[pipeline.PendingJob | None], run.attempt("listing stuck messages", stuck_jobs) or []):
        if job is not None and run.attempt(f"requeue {job.job_id}", functools.partial(_requeue, config, job)):
            run.queued.append(job.job_id)
    from worker.notify import requeue_stuck

    run.queued += cast(list[str], run.attempt("notifications", lambda: requeue_stuck(
        config, threshold, include_failed=include_failed, problems=run.problems)) or [])
    from worker.callback import recover_calls

    run.attempt("stale temporary files", lambda: store_for(config).remove_stale_temps())
    # Outbound call tries whose scheduled job was lost; expired numbers deleted.
    run.queued += cast(list[str], run.attempt("outbound calls", lambda: recover_calls(problems=run.problems)) or [])
    if run.problems:
        log.warning("sweeper: %d job(s) queued, %d problem(s)", len(run.queued), len(run.problems))
    return run


def _requeue(config: Config, job: pipeline.PendingJob) -> bool:
    """Enqueue a job again, replacing a finished, failed or abandoned RQ job of the same id."""
    if config.redis_url:
        from worker.rq_jobs import clear_dead_job

        clear_dead_job(config, job.job_id)
    return make_queue(config).enqueue(job.func, job.message_id, job_id=job.job_id)


def _engine_loads() -> int:
    from speech.registry import load_counts

    return sum(load_counts().values())


def _note_job(**meta: object) -> None:
    """Record facts about this run on the RQ job (worker pid, model loads) for operators and tests."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return
    from redis.exceptions import RedisError

    try:
        job = get_current_job()
        if job is not None:
            job.meta.update({"pid": os.getpid(), **meta})
            job.save_meta()
    except RedisError as exc:  # facts for operators, not the work: the transcript is in SQL already
        log.warning("could not note job facts (Redis: %s)", type(exc).__name__)
