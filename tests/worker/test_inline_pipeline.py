"""Without Redis: a call's recording is fetched, stored and transcribed on the inline queue."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core import pipeline
from ivr.core.models import Message
from ivr.core.queue import InlineQueue
from ivr.core.services import services
from ivr.voice.emulator import Phone, Script
from ivr.voice.media_host import Fault
from speech.registry import engine_for
from speech.wer import word_error_rate
from tests.conftest import AUDIO_DIR


def reference_text(name: str) -> str:
    for line in (AUDIO_DIR / "transcripts.tsv").read_text().splitlines():
        file, _, text = line.partition("\t")
        if file == name:
            return text
    raise KeyError(name)


def wait(app: Flask) -> InlineQueue:
    queue = services(app).queue
    assert isinstance(queue, InlineQueue)
    assert queue.join(timeout=120)
    return queue


def test_call_to_transcript_on_the_inline_queue(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    phone.call(Script(["1", "1", "1", "1", "1", "REC", "1"], [speech_wav]))
    queue = wait(app)
    assert queue.failed == []
    svc = services(app)
    with svc.db.session() as s:
        message = s.scalars(select(Message)).one()
        assert message.pipeline == pipeline.ROUTED  # transcribed, then routed (tests/routing)
        rec = message.recording
        assert rec is not None and rec.sha256 and rec.size_bytes == len(speech_wav)
        stored = svc.config.recordings_dir / rec.stored_path  # type: ignore[operator]
        assert stored.read_bytes() == speech_wav
        transcript = message.transcript
        assert transcript is not None and transcript.engine == "pocketsphinx"
        # the pipeline hands the engine the stored audio untouched: same words as the engine run directly
        direct = engine_for("en", svc.config.vosk_models_dir)
        assert direct is not None
        assert transcript.text == direct.transcribe(AUDIO_DIR / "osr_us_0010_01.wav", "en").text
        assert word_error_rate(reference_text("osr_us_0010_01.wav"), transcript.text) < 1.0
        words = json.loads(transcript.words)
        assert words and all(0.0 <= w["confidence"] <= 1.0 for w in words)
        assert transcript.check_by_ear == (transcript.confidence is None or
                                           transcript.confidence < svc.config.check_by_ear_below)


def test_fijian_message_needs_listening(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    # Fijian has no Twilio voice and no synthesiser: callers are offered it once every prompt is recorded.
    recorded = services(app).config.prompt_recordings_dir / "fj"
    recorded.mkdir(parents=True)
    for prompt in services(app).menus.required_prompts():
        (recorded / f"{prompt}.wav").write_bytes(speech_wav)
    phone.call(Script(["4", "1", "2", "2", "1", "REC", "1"], [speech_wav]))
    wait(app)
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        assert message.language == "fj"
        # no engine speaks Fijian: routed by its keypad choices alone (topic 2 = health)
        assert message.pipeline == pipeline.ROUTED and message.transcript is None and message.agency == "health"
        assert message.recording is not None and message.recording.stored_path


def test_recording_that_is_html_is_kept_and_marked_unreadable(app: Flask, phone: Phone, media,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    html = b"<html><body>Service Unavailable</body></html>"
    phone.call(Script(["1", "1", "1", "1", "1", "REC", "1"], [html]))
    wait(app)
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
        assert message.pipeline == pipeline.AUDIO_UNREADABLE
        assert "unreadable" in (message.pipeline_error or "")
        reference = message.reference
    # visible to an operator in `hotline jobs`
    config = services(app).config
    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://x",
           "DATABASE_URL": config.database_url, "REDIS_URL": "", "HOTLINE_ENV_FILE": str(tmp_path / "none")}
    result = CliRunner().invoke(main, ["jobs", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["reference"], r["state"]) for r in rows] == [(reference, pipeline.AUDIO_UNREADABLE)]
    assert "html" in rows[0]["error"].lower()


def test_404_twice_then_audio_is_transcribed(app: Flask, phone: Phone, media, speech_wav: bytes) -> None:  # type: ignore[no-untyped-def]
    original_add = media.add

    def add_with_faults(audio: bytes, sid: str | None = None) -> tuple[str, str]:
        sid, url = original_add(audio, sid)
        media.faults[sid] = [Fault(404, b'{"code": 20404}', "application/json")] * 2
        return sid, url

    media.add = add_with_faults
    phone.call(Script(["1", "1", "1", "1", "1", "REC", "1"], [speech_wav]))
    wait(app)
    gets = [p for m, p in media.requests if m == "GET"]
    assert len(gets) == 3
    with services(app).db.session() as s:
        assert s.scalars(select(Message)).one().pipeline == pipeline.ROUTED
