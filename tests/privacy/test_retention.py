"""Promise 5: callers' words and voices are kept no longer than the settings say; counts stay; all audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Answer, Message, Recording, Transcript, utcnow
from ivr.core.models.accounts import AuditEvent, Note
from ivr.core.models.delivery import SCHEDULED, Delivery
from ivr.core.models.radio import RadioClip, RedactedTranscript
from ivr.core.retention import SCRUBBED, run_retention
from recordings.store import LocalStore
from tests.conftest import AUDIO_DIR, make_config

SPEECH = (AUDIO_DIR / "osr_us_0010_01.wav").read_bytes()
WORDS = "the pipe at Ana's house on Waimanu road burst"


def add_closed(config: Config, *, closed: datetime, status: str = "closed", ref: str = "1") -> tuple[int, str, Path]:
    """A closed message with everything a caller and an agency leave: recording, transcript, note, clip, answer."""
    sid = f"RE{ref:0>32}"
    stored = LocalStore(config.recordings_dir).put(sid, SPEECH)
    answer_file = config.data_dir / "answers" / ref / "a.wav"
    answer_file.parent.mkdir(parents=True, exist_ok=True)
    answer_file.write_bytes(SPEECH)
    with database_for(config.database_url).session() as s:
        m = Message(reference=ref, language="en", topic="water", place="ba", consent="radio", agency="water",
                    status=status, created_at=closed - timedelta(days=3), updated_at=closed)
        s.add(m)
        s.flush()
        s.add_all([Recording(recording_sid=sid, call_sid="", message_id=m.id, url="https://x/r", stored_path=stored.key,
                             sha256=stored.sha256, size_bytes=stored.size),
                   Transcript(message_id=m.id, language="en", text=WORDS, words="[]", engine="vosk", model="m",
                              audio_seconds=3.0, processing_seconds=1.0),
                   RedactedTranscript(message_id=m.id, language="en", text=WORDS),
                   RadioClip(message_id=m.id, status="approved", quote="the pipe burst"),
                   Note(message_id=m.id, text="Ana rang twice"),
                   Answer(message_id=m.id, text="Fixed on Monday.", audio_path=f"{ref}/a.wav",
                          created_at=closed - timedelta(days=1))])
        s.flush()
        return m.id, sid, answer_file


def test_past_the_keep_period_files_go_text_is_scrubbed_and_counts_stay(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    db = database_for(database_url)
    closed = utcnow()
    old_id, sid, answer_file = add_closed(config, closed=closed, ref="11111111")
    open_id, open_sid, _ = add_closed(config, closed=closed, status="answered", ref="22222222")  # not closed
    store = LocalStore(config.recordings_dir)
    # Before the period ends nothing goes; a dry run a year on changes nothing either.
    assert run_retention(db, config, now=closed + timedelta(days=364)).recordings == []
    dry = run_retention(db, config, now=closed + timedelta(days=366), dry_run=True)
    assert (dry.recordings, dry.transcripts, dry.answers) == ([old_id], [old_id], [old_id])
    assert store.exists(sid) and answer_file.exists()
    report = run_retention(db, config, now=closed + timedelta(days=366))
    assert (report.recordings, report.transcripts, report.answers) == ([old_id], [old_id], [old_id])
    assert not store.exists(sid) and not answer_file.exists() and store.exists(open_sid)
    with db.session() as s:
        m = s.get(Message, old_id)
        assert m is not None and (m.topic, m.place, m.agency, m.status) == ("water", "ba", "water", "closed")
        assert m.recording is not None and m.recording.stored_path is None
        assert m.transcript is not None and m.transcript.text == ""
        assert s.get(RedactedTranscript, old_id) is None
        assert s.scalars(select(RadioClip.quote).where(RadioClip.message_id == old_id)).one() is None
        assert s.scalars(select(Note.text).where(Note.message_id == old_id)).one() == SCRUBBED
        [answer] = m.answers
        assert answer.text is None and answer.audio_path is None and answer.created_at  # still counts as answered
        audit = [r.detail for r in s.scalars(select(AuditEvent).where(AuditEvent.action == "retention",
                                                                      AuditEvent.target_id == str(old_id)))]
        assert len(audit) == 3
        assert s.get(Message, open_id) is not None and s.get(Message, open_id).transcript.text == WORDS  # type: ignore[union-attr]
    # A second run finds nothing more to do.
    again = run_retention(db, config, now=closed + timedelta(days=400))
    assert (again.recordings, again.transcripts, again.answers) == ([], [], [])


def test_an_answer_still_being_called_out_is_kept_whole(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url)
    db = database_for(database_url)
    closed = utcnow()
    mid, _, answer_file = add_closed(config, closed=closed, ref="33333333")
    with db.session() as s:
        answer = s.scalars(select(Answer).where(Answer.message_id == mid)).one()
        s.add(Delivery(kind="answer", answer_id=answer.id, reason="consent", status=SCHEDULED))
    report = run_retention(db, config, now=closed + timedelta(days=400))
    assert report.kept_undelivered == [mid] and report.answers == []
    assert answer_file.exists()
    with db.session() as s:
        assert s.scalars(select(Answer.text).where(Answer.message_id == mid)).one() == "Fixed on Monday."


def test_hotline_retention_run_command(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url, recording_keep_days=1, transcript_keep_days=1, answer_keep_days=1)
    mid, sid, _ = add_closed(config, closed=utcnow() - timedelta(days=2), ref="44444444")
    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "test-pepper", "TWILIO_AUTH_TOKEN": "t",
           "PUBLIC_BASE_URL": "http://127.0.0.1:5000", "HOTLINE_DATA_DIR": str(config.data_dir),
           "HOTLINE_ENV_FILE": str(tmp_path / "none.env"), "DATABASE_URL": database_url, "REDIS_URL": "",
           "HOTLINE_RECORDING_KEEP_DAYS": "1", "HOTLINE_TRANSCRIPT_KEEP_DAYS": "1", "HOTLINE_ANSWER_KEEP_DAYS": "1"}
    dry = CliRunner().invoke(main, ["retention", "run", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert f"would delete recordings of 1 message(s): {mid}" in dry.output
    assert LocalStore(config.recordings_dir).exists(sid)
    done = CliRunner().invoke(main, ["retention", "run"], env=env)
    assert done.exit_code == 0 and f"deleted recordings of 1 message(s): {mid}" in done.output
    assert not LocalStore(config.recordings_dir).exists(sid)
    bad = CliRunner().invoke(main, ["retention", "run"], env={**env, "HOTLINE_RECORDING_KEEP_DAYS": "0"})
    assert bad.exit_code != 0 and "HOTLINE_RECORDING_KEEP_DAYS" in bad.output
