"""Keep callers' words and voices no longer than the settings say, leaving the counts public figures need.

Once a message is closed (its status "closed"; the time is its last change, `updated_at`), after
HOTLINE_RECORDING_KEEP_DAYS its recording file is deleted, after HOTLINE_TRANSCRIPT_KEEP_DAYS its
transcript, redacted copy, radio quote and notes are scrubbed, after HOTLINE_ANSWER_KEEP_DAYS its answers'
audio and text are. The message row (topic, place, language, agency, status, times) and the answer rows'
times stay, so every published figure is the same after retention as before.

Each message and kind is one transaction with its audit row; files are deleted after the commit, so a
row never points at a deleted file. A file whose deletion failed is an orphan no row claims, deleted by
the next run (recordings.retention.purge_older_than). An answer whose outbound call is still scheduled or
ringing is kept until that call ends (reported as kept); an answer held for the caller to ring for is
deleted with the rest: they had the whole keep period to hear it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, delete, exists, or_, select

from ivr.core.audit import record_audit
from ivr.core.config import Config
from ivr.core.db import Database
from ivr.core.models import Answer, Message, Recording, Transcript
from ivr.core.models.accounts import Note
from ivr.core.models.delivery import CALLING, SCHEDULED, Delivery
from ivr.core.models.radio import RadioClip, RedactedTranscript
from recordings.errors import StoreError
from recordings.retention import purge_older_than
from recordings.store import LocalStore

log = logging.getLogger(__name__)

RETENTION_JOB = "worker.retention.run_retention_job"
SCRUBBED = "[removed after the retention period]"


@dataclass
class RetentionReport:
    """What one run deleted (or, dry, would delete), by message id."""

    recordings: list[int] = field(default_factory=list)
    transcripts: list[int] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    kept_undelivered: list[int] = field(default_factory=list)  # answers still being called out
    orphans: list[str] = field(default_factory=list)  # recording files no row claimed


def _closed_before(cutoff: datetime) -> list[ColumnElement[bool]]:
    return [Message.status == "closed", Message.updated_at < cutoff]


def run_retention(db: Database, config: Config, *, now: datetime, dry_run: bool = False) -> RetentionReport:
    """Delete what is past its keep period; with dry_run only say what that would be."""
    report = RetentionReport()
    store = LocalStore(config.recordings_dir)
    with db.session() as s:
        recordings = s.execute(
            select(Message.id, Recording.recording_sid).join(Recording, Recording.message_id == Message.id)
            .where(*_closed_before(now - timedelta(days=config.recording_keep_days)),
                   Recording.stored_path.is_not(None)).order_by(Message.id)).all()
        transcripts = list(s.scalars(select(Message.id).where(
            *_closed_before(now - timedelta(days=config.transcript_keep_days)),
            or_(exists().where(Transcript.message_id == Message.id, Transcript.text != ""),
                exists().where(RedactedTranscript.message_id == Message.id),
                exists().where(Note.message_id == Message.id, Note.text != SCRUBBED),
                exists().where(RadioClip.message_id == Message.id, RadioClip.quote.is_not(None))))
            .order_by(Message.id)))
        answers = list(s.scalars(select(Message.id).where(
            *_closed_before(now - timedelta(days=config.answer_keep_days)),
            exists().where(Answer.message_id == Message.id,
                           or_(Answer.text.is_not(None), Answer.audio_path.is_not(None)))).order_by(Message.id)))
        calling = set(s.scalars(select(Answer.message_id).join(Delivery, Delivery.answer_id == Answer.id)
                                .where(Answer.message_id.in_(answers), Delivery.status.in_((SCHEDULED, CALLING)))))
    report.kept_undelivered = sorted(calling)
    answers = [m for m in answers if m not in calling]
    if dry_run:
        report.recordings, report.transcripts, report.answers = [m for m, _ in recordings], transcripts, answers
        return report
    for message_id, sid in recordings:
        with db.session() as s:
            rec = s.scalar(select(Recording).where(Recording.message_id == message_id))
            if rec is None or rec.stored_path is None:
                continue
            rec.stored_path, rec.sha256, rec.size_bytes = None, None, None
            record_audit(s, None, "retention", "message", message_id, "recording deleted")
        _delete_recording(store, sid)
        report.recordings.append(message_id)
    for message_id in transcripts:
        with db.session() as s:
            for t in s.scalars(select(Transcript).where(Transcript.message_id == message_id)):
                t.text, t.words, t.confidence = "", "[]", None
            s.execute(delete(RedactedTranscript).where(RedactedTranscript.message_id == message_id))
            for clip in s.scalars(select(RadioClip).where(RadioClip.message_id == message_id)):
                clip.quote, clip.audio_approved = None, False
            for note in s.scalars(select(Note).where(Note.message_id == message_id)):
                note.text = SCRUBBED
            record_audit(s, None, "retention", "message", message_id, "transcript, quote and notes scrubbed")
        report.transcripts.append(message_id)
    answers_root = config.data_dir / "answers"
    for message_id in answers:
        files: list[str] = []
        with db.session() as s:
            for answer in s.scalars(select(Answer).where(Answer.message_id == message_id)):
                if answer.audio_path:
                    files.append(answer.audio_path)
                answer.text, answer.audio_path = None, None
            record_audit(s, None, "retention", "message", message_id, f"answers scrubbed ({len(files)} audio)")
        for relative in files:
            _delete_answer_audio(answers_root, relative)
        report.answers.append(message_id)
    with db.session() as s:
        claimed = set(s.scalars(select(Recording.recording_sid).where(Recording.stored_path.is_not(None))))
    report.orphans = purge_older_than(store, config.recording_keep_days, claimed, now=now.replace(tzinfo=UTC))
    log.info("retention: %d recording(s), %d transcript(s), %d answer set(s) removed; %d kept (being called)",
             len(report.recordings), len(report.transcripts), len(report.answers), len(report.kept_undelivered))
    return report


def _delete_recording(store: LocalStore, sid: str) -> None:
    try:
        store.delete(sid)
    except (OSError, StoreError) as exc:  # the row no longer claims it: the next run deletes the orphan
        log.warning("retention: recording %s not deleted yet (%s)", sid, type(exc).__name__)


def _delete_answer_audio(root: Path, relative: str) -> None:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        return  # never outside the answers folder, whatever a row says
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("retention: an answer's audio was not deleted (%s)", type(exc).__name__)
