"""Callers first: on the inline queue, a long transcription runs while the same process answers calls.

Real speech, the real engine in its child process and whole emulated calls: the second and third
callers' every step is answered while the first caller's long message is still being decoded, and
once the line is quiet the backlog drains in the order the messages were left.
"""

from __future__ import annotations

import io
import time
import wave

from flask import Flask
from sqlalchemy import select

from ivr.core import pipeline
from ivr.core.backlog import measure
from ivr.core.models import Message, utcnow
from ivr.core.queue import InlineQueue
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script
from speech import isolated
from tests.conftest import AUDIO_DIR

REPORT = ["1", "1", "1", "5", "1", "REC", "1"]  # English, a topic, a place, consent, record, keep


def long_speech(seconds: float) -> bytes:
    """Real telephone speech, the dev recordings one after another until `seconds` of audio."""
    frames, params = [], None
    total = 0.0
    while total < seconds:
        for path in sorted(AUDIO_DIR.glob("*.wav")):
            with wave.open(str(path)) as source:
                if params is None:
                    params = source.getparams()
                if (source.getframerate(), source.getnchannels()) != (params.framerate, params.nchannels):
                    continue
                frames.append(source.readframes(source.getnframes()))
                total += source.getnframes() / source.getframerate()
            if total >= seconds:
                break
    assert params is not None
    out = io.BytesIO()
    with wave.open(out, "wb") as sink:
        sink.setparams(params)
        sink.writeframes(b"".join(frames))
    return out.getvalue()


def decoding() -> bool:
    """Whether a recogniser child of this process is decoding a request right now."""
    return any(engine._lock.locked() for engine in list(isolated._running))


def test_calls_are_answered_while_a_long_message_is_transcribed_then_the_backlog_drains_in_order(
        app: Flask, phone: Phone, speech_wav: bytes) -> None:
    svc = services(app)
    assert isinstance(svc.queue, InlineQueue)
    first = phone.call(Script(list(REPORT), [long_speech(40.0)]))
    assert first.hung_up
    deadline = time.monotonic() + 120
    while not decoding():  # the inline queue fetches and stores it, then hands it to the engine
        assert time.monotonic() < deadline, "the first message was never handed to the engine"
        time.sleep(0.05)

    later = [phone.call(Script(list(REPORT), [speech_wav])) for _ in range(2)]

    # Every step of both calls got its TwiML, and the caller heard their reference...
    assert all(call.hung_up and call.recordings for call in later)
    assert all(any("reference" in heard.text.lower() for heard in call.heard) for call in later)
    # ...while the first message was still being decoded: no step waited for it.
    assert decoding()
    with svc.db.session() as session:
        waiting = session.scalars(select(Message).order_by(Message.id)).all()
        assert len(waiting) == 3 and all(m.transcript is None for m in waiting)
        backlog = measure(session, utcnow())
        assert backlog.messages == 3 and backlog.audio_seconds >= 40.0

    assert svc.queue.join(timeout=300)
    assert svc.queue.failed == []
    with svc.db.session() as session:
        messages = session.scalars(select(Message).order_by(Message.id)).all()
        assert [m.pipeline for m in messages] == [pipeline.ROUTED] * 3
        finished = [m.transcript.created_at for m in messages if m.transcript is not None]
        assert len(finished) == 3 and finished == sorted(finished)  # oldest first
        assert measure(session, utcnow()).messages == 0
