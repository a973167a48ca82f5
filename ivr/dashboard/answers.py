"""Take an official's answer (an uploaded or browser-recorded audio file, or typed text) and queue its delivery.

Audio is checked (it must decode, last at most HOTLINE_ANSWER_MAX_SECONDS, hold sound) and stored
as 8 kHz 16-bit mono WAV under HOTLINE_DATA_DIR/answers/<message id>/, the format Twilio plays
without another conversion. The file is written before the row that names it is committed, and the
delivery job is enqueued only after that commit (store first, enqueue second).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ivr.core.audit import record_audit
from ivr.core.config import Config
from ivr.core.models import Answer, Message
from ivr.core.models.accounts import User
from ivr.core.queue import JobQueue
from ivr.dashboard.messages import ActionRefused
from speech.telephone_audio import (
    UndecodableAudio,
    declared_seconds,
    decode,
    store_playable_wav,
)

ACCEPTED = "WAV, MP3, OGG or FLAC"
SOURCES = ("upload", "browser", "text")
MAX_TEXT = 2000  # spoken at telephone pace this is several minutes already
DELIVER_JOB = "worker.delivery.deliver_answer"


@dataclass(frozen=True)
class StoredAudio:
    relative_path: str  # under answers_dir(config)
    seconds: float


def answers_dir(config: Config) -> Path:
    """Return the folder of answer audio (GET /answers/<id>/audio serves only files inside it)."""
    return config.data_dir / "answers"


def store_answer_audio(data: bytes, config: Config, message_id: int) -> StoredAudio:
    """Check an answer recording and write it as 8 kHz mono WAV; raise ActionRefused saying what was wrong."""
    if not data:
        raise ActionRefused("the audio file is empty")
    if len(data) > config.answer_upload_max_bytes:
        raise ActionRefused(f"the audio file has {len(data)} bytes, more than the "
                            f"{config.answer_upload_max_bytes} allowed")
    seconds = declared_seconds(data)
    if seconds is None:
        raise ActionRefused(f"the file is not audio this hotline can read ({ACCEPTED})")
    if seconds > config.answer_max_seconds:
        # From the header, before decoding: a long file is refused without being decoded into memory.
        raise ActionRefused(f"the recording lasts {seconds:.0f} s; an answer may last at most "
                            f"{config.answer_max_seconds} s")
    try:
        pcm = decode(data)
    except UndecodableAudio as exc:
        raise ActionRefused(f"the file is not audio this hotline can read ({ACCEPTED}): {exc}") from exc
    if pcm.duration_s > config.answer_max_seconds:
        raise ActionRefused(f"the recording lasts {pcm.duration_s:.0f} s; an answer may last at most "
                            f"{config.answer_max_seconds} s")
    # A random name: a second answer never overwrites the first, and names cannot be guessed.
    name = f"{secrets.token_hex(8)}.wav"
    check = store_playable_wav(pcm, answers_dir(config) / str(message_id) / name)
    if not check.playable:
        raise ActionRefused("the recording cannot be played to a caller: " + "; ".join(check.problems))
    return StoredAudio(f"{message_id}/{name}", check.duration_s)


def add_answer(db: Session, user: User, message: Message, *, source: str, text: str | None = None,
               audio: StoredAudio | None = None) -> Answer:
    """Add the answer row, mark the message answered and audit it (the caller commits, then enqueues)."""
    if source not in SOURCES:
        raise ActionRefused(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if source == "text":
        text = (text or "").strip()
        if not text:
            raise ActionRefused("the answer text is empty")
        if len(text) > MAX_TEXT:
            raise ActionRefused(f"a typed answer may have at most {MAX_TEXT} characters (this one has {len(text)})")
    elif audio is None:
        raise ActionRefused("choose an audio file, or record one")
    answer = Answer(message_id=message.id, text=text if source == "text" else None,
                    audio_path=audio.relative_path if audio else None, author_id=user.id, source=source)
    db.add(answer)
    db.flush()
    old = message.status
    message.status = "answered"
    detail = f"answer {answer.id} ({source}" + (f", {audio.seconds:.1f} s" if audio else "") + f"); {old}->answered"
    record_audit(db, user.id, "answer", "message", message.id, detail)
    return answer


def enqueue_delivery(queue: JobQueue, answer_id: int) -> bool:
    """Queue the delivery of a committed answer (deterministic job id: queuing twice delivers once)."""
    return queue.enqueue(DELIVER_JOB, answer_id, job_id=f"deliver-answer-{answer_id}")
