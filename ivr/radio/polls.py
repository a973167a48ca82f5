"""Keypad polls: a host asks callers a question during a programme; callers answer with one key.

A host types the question as the board shows it, 2 to 9 option labels (key 1 = the first), and the
question as callers should hear it, per language ("Should the market open on Sundays? For yes press
1, for no press 2."). Each spoken question is rendered to audio offline with espeak-ng (the prompts'
TTS pipeline, speech/tts.py) when the poll is created; a language espeak-ng cannot speak is said by
Twilio's <Say> voice for it; a language with neither (Fijian today) is offered the poll only once a
host has recorded the question in it (`record_question`: an uploaded or browser-recorded file).

At most one poll is open. While it is open, main menu key 4 offers it (ivr/voice/flow.py gets it as data,
OpenPoll). One vote per caller per poll, by the caller's number hash: a call that shows no caller
id cannot vote, because nothing would stop it voting again (the caller is told so).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.core.models import utcnow
from ivr.core.models.radio import RadioPoll, RadioPollVote
from speech.espeak_voice import EspeakVoice
from speech.telephone_audio import (
    UndecodableAudio,
    decode,
    store_playable_wav,
)
from speech.tts import render
from speech.tts_errors import TTSError

log = logging.getLogger(__name__)

MIN_OPTIONS = 2
MAX_OPTIONS = 9  # one keypad key each, 1..9
MAX_QUESTION = 300
MAX_LABEL = 80
MAX_SPOKEN = 400
MAX_RECORDED_BYTES = 5_000_000
MAX_RECORDED_SECONDS = 60.0
POLL_CHECK_SECONDS = 2.0  # how stale each web process's view of "which poll is open" may be


class PollRefused(ValueError):
    """A poll or a vote that cannot be accepted; the message says what was wrong, for the host."""


@dataclass(frozen=True)
class PollDraft:
    """A host's checked input for a new poll."""

    question: str
    options: tuple[str, ...]
    spoken: Mapping[str, str]  # language code -> the question as spoken, with its keys


def check_poll(question: str, options: list[str], spoken: Mapping[str, str], languages: tuple[str, ...]) -> PollDraft:
    """Check a host's poll form, or raise PollRefused naming every problem.

    Blank option fields are dropped (the form has nine), so "2 to 9" counts what the host filled in.
    """
    problems: list[str] = []
    question = question.strip()
    if not question:
        problems.append("the question is empty")
    elif len(question) > MAX_QUESTION:
        problems.append(f"the question has {len(question)} characters, more than {MAX_QUESTION}")
    labels = tuple(o.strip() for o in options if o.strip())
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        problems.append(f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options (keys 1 to 9); got {len(labels)}")
    long = [i + 1 for i, label in enumerate(labels) if len(label) > MAX_LABEL]
    if long:
        problems.append(f"option {', '.join(map(str, long))} is longer than {MAX_LABEL} characters")
    said = {lang: text.strip() for lang, text in spoken.items() if text.strip()}
    unknown = sorted(set(said) - set(languages))
    if unknown:
        problems.append(f"unknown language {', '.join(unknown)}")
    if not said:
        problems.append("write the question as callers will hear it in at least one language")
    for lang, text in said.items():
        if len(text) > MAX_SPOKEN:
            problems.append(f"the spoken question in {lang} has more than {MAX_SPOKEN} characters")
    if problems:
        raise PollRefused("; ".join(problems))
    return PollDraft(question, labels, {lang: said[lang] for lang in languages if lang in said})


def open_poll(session: Session) -> RadioPoll | None:
    """Return the open poll, if any (the newest, should two ever be open)."""
    return session.scalar(select(RadioPoll).where(RadioPoll.status == "open")
                          .order_by(RadioPoll.opened_at.desc(), RadioPoll.id.desc()).limit(1))


@dataclass(frozen=True)
class OpenPollView:
    """What a call step needs of the open poll, kept in memory between look-ups."""

    id: int
    options: int
    spoken: Mapping[str, str]
    audio: Mapping[str, Mapping[str, str]]


class OpenPollCache:
    """Remember, per database, which poll is open, and look again after POLL_CHECK_SECONDS.

    Every call step asks (main menu key 4 is offered only while a poll is open) and almost always
    no poll is open, so a web process asks the database at most every two seconds instead of on
    every webhook. Opening or closing a poll in this process is seen at once; in another process
    within POLL_CHECK_SECONDS. A vote is still checked against the database when it is stored.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, OpenPollView | None]] = {}

    def get(self, session: Session) -> OpenPollView | None:
        key = str(session.get_bind().engine.url)
        now = time.monotonic()
        with self._lock:
            known = self._entries.get(key)
        if known is not None and now - known[0] < POLL_CHECK_SECONDS:
            return known[1]
        poll = open_poll(session)
        view = None if poll is None else OpenPollView(poll.id, len(options_of(poll)), json.loads(poll.spoken),
                                                      json.loads(poll.audio))
        with self._lock:
            self._entries[key] = (now, view)
        return view

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


open_polls = OpenPollCache()


def create_poll(session: Session, draft: PollDraft, *, user_id: int | None, data_dir: Path) -> RadioPoll:
    """Open a poll with its spoken question rendered per language; refuse while another is open."""
    current = open_poll(session)
    if current is not None:
        raise PollRefused(f"poll {current.id} is still open: close it before opening another")
    poll = RadioPoll(question=draft.question, options=json.dumps(list(draft.options)),
                     spoken=json.dumps(dict(draft.spoken)), audio="{}", status="open", created_by=user_id,
                     opened_at=utcnow())
    session.add(poll)
    session.flush()
    poll.audio = json.dumps(_render_questions(poll.id, draft.spoken, data_dir))
    open_polls.forget()
    return poll


def close_poll(session: Session, poll_id: int) -> RadioPoll:
    """Close a poll (closing a closed one changes nothing); raise PollRefused for an unknown id."""
    poll = session.get(RadioPoll, poll_id)
    if poll is None:
        raise PollRefused(f"there is no poll {poll_id}")
    if poll.status == "open":
        poll.status = "closed"
        poll.closed_at = utcnow()
        open_polls.forget()
    return poll


def options_of(poll: RadioPoll) -> list[str]:
    return [str(o) for o in json.loads(poll.options)]


def poll_results(session: Session, poll_id: int) -> list[tuple[int, str, int]]:
    """Return (key, label, votes) for every option of a poll, zeros included, in key order."""
    poll = session.get(RadioPoll, poll_id)
    if poll is None:
        return []
    counts = dict(session.execute(select(RadioPollVote.option, func.count(RadioPollVote.id))
                                  .where(RadioPollVote.poll_id == poll_id).group_by(RadioPollVote.option)).all())
    return [(key, label, int(counts.get(key, 0))) for key, label in enumerate(options_of(poll), start=1)]


def has_voted(session: Session, poll_id: int, voter_hash: str) -> bool:
    return session.scalar(select(RadioPollVote.id).where(RadioPollVote.poll_id == poll_id,
                                                         RadioPollVote.voter_hash == voter_hash)) is not None


def record_vote(session: Session, poll_id: int, voter_hash: str | None, option: int, language: str) -> str:
    """Store one vote; return "counted", "duplicate", "closed", "anonymous" or "invalid".

    The unique (poll, voter) pair makes a second vote impossible even when two calls race; the
    loser's insert fails and is reported as a duplicate.
    """
    if not voter_hash:
        return "anonymous"
    poll = session.get(RadioPoll, poll_id)
    if poll is None or poll.status != "open":
        return "closed"
    if not 1 <= option <= len(options_of(poll)):
        return "invalid"
    if has_voted(session, poll_id, voter_hash):
        return "duplicate"
    try:
        with session.begin_nested():
            session.add(RadioPollVote(poll_id=poll_id, voter_hash=voter_hash, option=option, language=language))
            session.flush()
    except IntegrityError:
        return "duplicate"
    log.info("poll %s: vote counted", poll_id)  # never who voted
    return "counted"


def question_audio(data_dir: Path, poll: RadioPoll, language: str) -> Path | None:
    """Return the stored audio file of a poll's spoken question in a language, if one was rendered."""
    entry = json.loads(poll.audio).get(language)
    if not entry:
        return None
    root = (data_dir / "polls").resolve()
    path = (root / entry["path"]).resolve()
    # The stored path is ours, but check it stays under the polls folder all the same.
    return path if path.is_relative_to(root) and path.is_file() else None


def _render_questions(poll_id: int, spoken: Mapping[str, str], data_dir: Path) -> dict[str, dict[str, str]]:
    """Render each spoken question with espeak-ng (offline, fast); skip languages it cannot speak."""
    folder = data_dir / "polls" / str(poll_id)
    folder.mkdir(parents=True, exist_ok=True)
    rendered: dict[str, dict[str, str]] = {}
    for lang, text in spoken.items():
        try:
            prompt = render(text, lang, cache_dir=data_dir / "polls" / "tts-cache", voices=(EspeakVoice(),),
                            prompt_id=f"poll-{poll_id}")
        except TTSError as exc:
            log.info("poll %s: no audio for %s (%s)", poll_id, lang, type(exc).__name__)
            continue
        target = folder / f"{lang}.wav"
        shutil.copyfile(prompt.path, target)
        rendered[lang] = {"path": f"{poll_id}/{lang}.wav", "sha256": prompt.sha256}
    return rendered


def record_question(session: Session, poll_id: int, language: str, data: bytes, *, data_dir: Path,
                    languages: tuple[str, ...]) -> RadioPoll:
    """Keep a host's recording of an open poll's question in one language, as 8 kHz WAV; callers of it hear it.

    The way to offer a poll in a language no voice speaks (Fijian): a recording replaces any
    rendered audio for that language. Refused, saying why, for a closed poll or unplayable audio.
    """
    poll = session.get(RadioPoll, poll_id)
    if poll is None or poll.status != "open":
        raise PollRefused(f"poll {poll_id} is not open")
    if language not in languages:
        raise PollRefused(f"language must be one of {', '.join(languages)}, not {language!r}")
    if not data:
        raise PollRefused("the audio file is empty")
    if len(data) > MAX_RECORDED_BYTES:
        raise PollRefused(f"the audio file has {len(data)} bytes, more than the {MAX_RECORDED_BYTES} allowed")
    try:
        pcm = decode(data)
    except UndecodableAudio as exc:
        raise PollRefused(f"the file is not audio this hotline can read: {exc}") from exc
    if pcm.duration_s > MAX_RECORDED_SECONDS:
        raise PollRefused(f"the recording lasts {pcm.duration_s:.0f} s; a question may last at most "
                          f"{MAX_RECORDED_SECONDS:.0f} s")
    target = data_dir / "polls" / str(poll_id) / f"{language}.wav"
    check = store_playable_wav(pcm, target)
    if not check.playable:
        raise PollRefused(f"the recording cannot be played to callers: {'; '.join(check.problems)}")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    audio = json.loads(poll.audio)
    audio[language] = {"path": f"{poll_id}/{language}.wav", "sha256": digest, "recorded": "1"}
    poll.audio = json.dumps(audio)
    session.flush()
    open_polls.forget()  # this process offers it at once; others within POLL_CHECK_SECONDS
    return poll
