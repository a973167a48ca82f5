"""Background jobs: fetch and store a caller's recording, then transcribe it.

Each job takes a message id, reads what it needs from SQL, and is idempotent: running it twice, or
after a crash half-way, leaves the same result as running it once. The message's pipeline state
in SQL (ivr.core.pipeline) says what has been done, so nothing depends on Redis keeping a job.
"""

from __future__ import annotations

import json
import logging
import os

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.core import pipeline
from ivr.core.config import Config
from ivr.core.models import Message, Recording, Transcript
from ivr.core.queue import make_queue
from ivr.core.runtime import current_config, current_db
from recordings.errors import AudioUnreadable, FetchFailed
from recordings.fetch import delete_remote_recording
from recordings.ingest import fetch_and_store
from recordings.store import LocalStore

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """A job could not finish; RQ retries it, and the message shows the reason meanwhile."""


def store_for(config: Config) -> LocalStore:
    return LocalStore(config.recordings_dir)


def ingest_recording(message_id: int) -> str:
    """Fetch a message's recording from Twilio and store it once; then queue its transcription.

    Idempotent: a recording already stored (same sid) is not fetched again, and the transcription
    job id is derived from the RecordingSid, so a repeat enqueues nothing new.
    """
    config, db = current_config(), current_db()
    store = store_for(config)
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
        stored = fetch_and_store(url, sid, store, account_sid=config.twilio_account_sid,
                                 auth_token=config.twilio_auth_token, attempts=3)
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
    with db.session() as session:
        rec = session.scalar(select(Recording).where(Recording.recording_sid == sid))
        message = session.get(Message, message_id)
        assert rec is not None and message is not None
        rec.stored_path, rec.sha256, rec.size_bytes = stored.key, stored.sha256, stored.size
        pipeline.set_state(message, pipeline.STORED)
    if config.delete_twilio_copy and store.verify(sid, stored.sha256):
        delete_remote_recording(url, config.twilio_account_sid, config.twilio_auth_token)
    make_queue(config).enqueue(pipeline.TRANSCRIBE_JOB, message_id, job_id=f"transcribe-{sid}")
    return "stored"


def transcribe_message(message_id: int) -> str:
    """Transcribe a stored recording with the engine for the message's language, exactly once.

    Idempotent: the transcripts table allows one row per message, so a retried or recovered job
    that finds a transcript (or loses the insert race) changes nothing.
    """
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
    confidence = result.mean_confidence
    words = [{"word": w.word, "confidence": round(w.confidence, 3), "start": w.start, "end": w.end}
             for w in result.words]
    try:
        with db.session() as session:
            message = session.get(Message, message_id)
            assert message is not None
            session.add(Transcript(
                message_id=message_id, language=result.language, text=result.text, words=json.dumps(words),
                engine=result.engine, model=result.model, confidence=confidence,
                check_by_ear=confidence is None or confidence < config.check_by_ear_below,
                audio_seconds=result.duration, processing_seconds=result.seconds))
            pipeline.set_state(message, pipeline.READY)
    except IntegrityError:
        return "already transcribed"  # another worker finished the same message first
    _note_job(engine_loads=_engine_loads())
    queue_routing(config, message_id)
    return "transcribed"


def queue_routing(config: Config, message_id: int) -> bool:
    """Queue the routing job of a message that now has a transcript, or will never have one."""
    return make_queue(config).enqueue(pipeline.ROUTE_JOB, message_id, job_id=pipeline.route_job_id(message_id))


def recover(older_than_seconds: float | None = None, include_failed: bool = False) -> list[str]:
    """Re-enqueue every message stuck in a waiting state; return the job ids queued."""
    from datetime import timedelta

    config, db = current_config(), current_db()
    threshold = timedelta(seconds=config.stuck_after_seconds if older_than_seconds is None else older_than_seconds)
    queued: list[str] = []
    with db.session() as session:
        jobs = [pipeline.job_for(m, r) for m, r in pipeline.stuck(session, threshold, include_failed=include_failed)]
    for job in jobs:
        if job is None:
            continue
        if _requeue(config, job):
            queued.append(job.job_id)
    from worker.notify import requeue_stuck

    queued += requeue_stuck(config, threshold, include_failed=include_failed)
    from worker.callback import recover_calls

    queued += recover_calls()  # outbound call tries whose scheduled job was lost; expired numbers deleted
    return queued


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
    job = get_current_job()
    if job is not None:
        job.meta.update({"pid": os.getpid(), **meta})
        job.save_meta()
