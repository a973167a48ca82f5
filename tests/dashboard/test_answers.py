"""Answering on the message page: upload, browser recording, text; bad uploads refused; delivery queued."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import soundfile
from sqlalchemy import select

from ivr.core.db import database_for
from ivr.core.models import Answer, Message
from ivr.core.models.accounts import AuditEvent
from ivr.core.services import services
from ivr.dashboard.answers import answers_dir
from ivr.voice.answers import answer_audio_path
from tests.accounts_helpers import page_token
from tests.dashboard.conftest import SPEECH, Dash


def tone_wav(seconds: float, rate: int = 44100, channels: int = 2) -> bytes:
    """A 440 Hz tone as 16-bit PCM WAV (stereo 44.1 kHz by default, like a laptop recording)."""
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * n / rate))) * channels
                      for n in range(int(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def post_answer(dash: Dash, ident: int, *, data: bytes | None = None, name: str = "answer.wav",
                source: str = "upload", text: str | None = None, headers: dict[str, str] | None = None,
                email: str = "water@example.org"):  # type: ignore[no-untyped-def]
    client = dash.client(email)
    form: dict[str, object] = {"csrf_token": page_token(client, f"/dashboard/messages/{ident}"), "source": source}
    if data is not None:
        form["audio"] = (io.BytesIO(data), name)
    if text is not None:
        form["text"] = text
    return client.post(f"/dashboard/messages/{ident}/answers", data=form, content_type="multipart/form-data",
                       headers=headers or {})


def answers_of(dash: Dash, ident: int) -> list[Answer]:
    with database_for(dash.config.database_url).session() as db:
        return list(db.scalars(select(Answer).where(Answer.message_id == ident).order_by(Answer.id)))


def status_of(dash: Dash, ident: int) -> str:
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None
        return m.status


def test_uploaded_answer_is_stored_as_8khz_mono_wav_and_marks_answered(dash: Dash) -> None:
    ident = dash.message(status="in_progress")
    resp = post_answer(dash, ident, data=tone_wav(1.5))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    [answer] = answers_of(dash, ident)
    assert answer.source == "upload" and answer.author_id == dash.water and answer.text is None
    assert answer.audio_path is not None and answer.audio_path.startswith(f"{ident}/")
    info = soundfile.info(str(answers_dir(dash.config) / answer.audio_path))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert abs(info.duration - 1.5) < 0.05
    assert status_of(dash, ident) == "answered"
    # the page plays it from the route Twilio also fetches, and the caller-facing route serves it
    page = dash.client().get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    src = answer_audio_path(dash.config.secret_key, answer)
    assert f'src="{src}"'.replace("&", "&amp;") in page or f'src="{src}"' in page
    with dash.app.test_client().get(src) as served:
        assert served.status_code == 200 and served.data[:4] == b"RIFF"
    # without the token, or with another answer's, the audio is not there
    assert dash.app.test_client().get(f"/answers/{answer.id}/audio").status_code == 404
    assert dash.app.test_client().get(f"/answers/{answer.id}/audio?k={'0' * 32}").status_code == 404
    with database_for(dash.config.database_url).session() as db:
        audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "answer"))
        assert audit is not None and audit.user_id == dash.water and audit.target_id == str(ident)
        assert f"answer {answer.id} (upload" in audit.detail


def test_real_speech_upload_is_accepted(dash: Dash) -> None:
    ident = dash.message()
    assert post_answer(dash, ident, data=SPEECH.read_bytes()).status_code == 302
    assert len(answers_of(dash, ident)) == 1


def test_browser_recording_posts_to_the_same_route_and_gets_a_location(dash: Dash) -> None:
    ident = dash.message()
    resp = post_answer(dash, ident, data=tone_wav(1.0, rate=16000, channels=1), name="recording.wav",
                       source="browser", headers={"X-Requested-With": "recorder"})
    assert resp.status_code == 201 and resp.get_data(as_text=True) == f"/dashboard/messages/{ident}"
    assert [a.source for a in answers_of(dash, ident)] == ["browser"]


def test_text_answer(dash: Dash) -> None:
    ident = dash.message()
    assert post_answer(dash, ident, source="text", text="  The pipe in Ba is fixed.  ").status_code == 302
    [answer] = answers_of(dash, ident)
    assert answer.text == "The pipe in Ba is fixed." and answer.audio_path is None and answer.source == "text"
    empty = post_answer(dash, ident, source="text", text="   ")
    assert empty.status_code == 400 and "the answer text is empty" in empty.get_data(as_text=True)


def test_not_audio_is_refused_with_a_clear_message(dash: Dash, tmp_path: Path) -> None:
    ident = dash.message()
    for data, name in ((b"<html>not audio</html>", "answer.wav"), (b"MZ\x90\x00" * 200, "answer.mp3"), (b"", "x.wav")):
        resp = post_answer(dash, ident, data=data, name=name)
        assert resp.status_code == 400
        body = resp.get_data(as_text=True)
        assert "The answer was not saved" in body
        assert "not audio this hotline can read" in body or "no audio file" in body or "empty" in body
    assert answers_of(dash, ident) == [] and status_of(dash, ident) == "received"
    assert not any(p.suffix == ".wav" for p in answers_dir(dash.config).rglob("*"))


def test_no_file_chosen(dash: Dash) -> None:
    ident = dash.message()
    resp = post_answer(dash, ident)
    assert resp.status_code == 400 and "no audio file was chosen" in resp.get_data(as_text=True)


def test_too_large_upload_is_refused_with_413(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(answer_upload_max_bytes=50_000)
    ident = dash.message()
    # ~176 kB: past the limit and the form overhead (kept under 500 kB, where Werkzeug's test client
    # would spool the body to a temporary file that it never closes)
    resp = post_answer(dash, ident, data=tone_wav(2.0, rate=44100, channels=1))
    assert resp.status_code == 413
    assert "too large: an answer may have at most 50000 bytes" in resp.get_data(as_text=True)
    just_over = post_answer(dash, ident, data=tone_wav(0.3, rate=44100, channels=1))  # ~26 kB: under the overhead
    assert just_over.status_code in (302, 400)
    big = post_answer(dash, ident, data=tone_wav(0.9, rate=44100, channels=1))  # ~79 kB: inside the overhead
    assert big.status_code == 400 and "more than the 50000 allowed" in big.get_data(as_text=True)


def test_too_long_recording_is_refused(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(answer_max_seconds=2)
    ident = dash.message()
    resp = post_answer(dash, ident, data=tone_wav(3.0, rate=8000, channels=1))
    assert resp.status_code == 400 and "an answer may last at most 2 s" in resp.get_data(as_text=True)


def test_answer_enqueues_delivery_by_name_with_a_deterministic_id(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash()
    queue = services(dash.app).queue
    ident = dash.message()
    post_answer(dash, ident, source="text", text="Fixed.")
    [answer] = answers_of(dash, ident)
    # the inline queue refuses a second job with the same id while the first is pending or running
    assert queue.enqueue("worker.delivery.deliver_answer", answer.id, job_id=f"deliver-answer-{answer.id}") in (
        False, True)


def test_radio_host_cannot_answer(dash: Dash) -> None:
    from tests.accounts_helpers import add_user

    add_user(dash.config, "radio@example.org", "radio")
    ident = dash.message()
    client = dash.client("radio@example.org")
    token = page_token(client, "/dashboard/home")
    resp = client.post(f"/dashboard/messages/{ident}/answers",
                       data={"source": "text", "text": "hi", "csrf_token": token})
    assert resp.status_code == 403 and answers_of(dash, ident) == []
