"""The transcription backlog: what waits to be transcribed, and how long it will take at the recent pace.

Callers come first (ivr/core/live_calls.py): on a busy line transcription falls behind and catches
up once the line is quiet. Operators see how far behind it is in `/health` and `hotline jobs`:

- messages and seconds of audio waiting (stored or still being fetched), and how long the oldest has waited;
- the pace: seconds of audio transcribed per second of wall time since the backlog began (within the last
  PACE_WINDOW), i.e. what the transcribers achieved beside the live calls;
- the estimated wait for the newest message: the audio waiting over that pace. Before anything has been
  transcribed in the window, the engines' own speed (audio over processing time of recent transcripts,
  one transcriber) stands in; with no transcript at all the wait is unknown (None).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.core import pipeline
from ivr.core.models import Message, Recording, Transcript, utcnow

PACE_WINDOW = timedelta(minutes=5)
MIN_PACE_SPAN = timedelta(seconds=10)  # a shorter span says too little about the pace
SPEED_SAMPLE = 20  # recent transcripts whose engine speed stands in for the pace
WAITING = (pipeline.RECEIVED, pipeline.STORED)


@dataclass(frozen=True)
class Backlog:
    messages: int
    audio_seconds: float
    oldest_waiting_seconds: float | None
    pace: float | None  # seconds of audio transcribed per wall-clock second
    pace_basis: str | None  # "recent" (achieved since the backlog began) or "engine speed"
    estimated_wait_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def describe(self) -> str:
        """One line for an operator's terminal."""
        if not self.messages:
            return "transcription backlog: none"
        line = (f"transcription backlog: {self.messages} message(s), {self.audio_seconds:.0f} s of audio, "
                f"the oldest waiting {self.oldest_waiting_seconds or 0:.0f} s")
        if self.estimated_wait_seconds is None or self.pace is None:
            return line + "; wait unknown (nothing transcribed yet)"
        basis = "at the recent pace" if self.pace_basis == "recent" else "at the engine's speed"
        return (line + f"; {basis} ({self.pace:.2f} s of audio per second) about "
                f"{self.estimated_wait_seconds:.0f} s to clear")


def measure(session: Session, now: datetime | None = None) -> Backlog:
    """Measure the backlog from SQL alone (every web and worker process sees the same figures)."""
    now = now or utcnow()
    row = session.execute(
        select(func.count(Message.id), func.coalesce(func.sum(Recording.duration_seconds), 0),
               func.min(Message.created_at))
        .outerjoin(Recording, Recording.message_id == Message.id)
        .where(Message.pipeline.in_(WAITING))).one()
    count, audio, oldest = int(row[0] or 0), float(row[1] or 0), row[2]
    if not count:
        return Backlog(0, 0.0, None, None, None, 0.0)
    waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
    pace, basis = _recent_pace(session, now, oldest)
    if pace is None:
        pace, basis = _engine_speed(session), "engine speed"
    wait = audio / pace if pace else None
    return Backlog(count, audio, waited, pace, basis if pace else None, wait)


def _recent_pace(session: Session, now: datetime, oldest: datetime | None) -> tuple[float | None, str | None]:
    """Audio transcribed per second since the backlog began (at most PACE_WINDOW back)."""
    start = now - PACE_WINDOW
    if oldest is not None and oldest > start:
        start = oldest
    if now - start < MIN_PACE_SPAN:
        return None, None
    done = session.scalar(select(func.coalesce(func.sum(Transcript.audio_seconds), 0.0))
                          .where(Transcript.created_at >= start))
    done = float(done or 0.0)
    if done <= 0:
        return None, None
    return done / (now - start).total_seconds(), "recent"


def _engine_speed(session: Session) -> float | None:
    """The median audio-to-processing ratio of recent transcripts: one transcriber, working undisturbed."""
    rows = session.execute(select(Transcript.audio_seconds, Transcript.processing_seconds)
                           .order_by(Transcript.id.desc()).limit(SPEED_SAMPLE)).all()
    speeds = [a / p for a, p in rows if a and p and p > 0]
    return median(speeds) if speeds else None
