"""Bulletins: a host asks for one, the worker builds its MP3, the host publishes it.

A bulletin is the script spoken (speech/ TTS: gTTS where reachable, else espeak-ng) with the
approved caller clips played in the quotes' place. A clip is played only when its message has
on-air consent, its quote was approved and its audio was approved separately by a host who
listened to it; a clip whose audio cannot be read is skipped, read out as text instead, and named
in the bulletin's `skipped` list for the host to see.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.disclosure import allowed
from ivr.core.models import Message, Recording, utcnow
from ivr.core.models.radio import RadioBulletin, RadioClip
from ivr.core.prompt_audio import synthesis_voices
from ivr.radio.audio import encode_mp3, join
from ivr.radio.period import Period
from ivr.radio.script import Script, write_script
from ivr.radio.station import Station
from ivr.radio.summary import Quote
from recordings.errors import StoreError
from recordings.store import LocalStore
from speech.telephone_audio import Pcm, UndecodableAudio, decode
from speech.tts import PromptText, render_many

log = logging.getLogger(__name__)

BUILDING, READY, FAILED, PUBLISHED = "building", "ready", "failed", "published"
MIN_CLIP_SECONDS = 0.1


class BulletinError(Exception):
    """A host's request about a bulletin cannot be done; the message says why."""


class SpeechFailed(Exception):
    """No text-to-speech voice could speak a sentence of the script; the message says why."""


@dataclass(frozen=True)
class Clip:
    """Where a quote's approved audio is, or why it cannot be played."""

    quote: Quote
    path: Path | None
    problem: str | None = None


def bulletins_dir(config: Config) -> Path:
    return config.data_dir / "bulletins"


def speech_cache(config: Config) -> Path:
    return config.data_dir / "radio-speech"


def request_bulletin(session: Session, station: Station, period: Period, *, language: str | None = None,
                     place: str | None = None, user_id: int | None = None) -> RadioBulletin:
    """Add a bulletin to build (status "building") for a period; the caller enqueues its job."""
    lang = station.script_language(language)
    if language and language != lang.code:
        raise BulletinError(f"no radio phrases for language {language!r} (menus/radio/{language}.toml)")
    bulletin = RadioBulletin(language=lang.code, place=station.check_place(place) or "", period_start=period.start,
                             period_end=period.end, status=BUILDING, created_by=user_id)
    session.add(bulletin)
    session.flush()
    return bulletin


def build_bulletin(session: Session, station: Station, config: Config, bulletin_id: int) -> str:
    """Render a bulletin's MP3 and mark it ready (or failed, with the reason); return its status.

    Idempotent: a bulletin already ready or published is left alone; a failed or half-built one is
    built again from the database as it is now. The file is written under a temporary name and
    renamed, so a crash never leaves a truncated MP3 behind a "ready" row.
    """
    bulletin = session.get(RadioBulletin, bulletin_id)
    if bulletin is None:
        log.warning("bulletin %s no longer exists; nothing to build", bulletin_id)
        return "missing"
    if bulletin.status in (READY, PUBLISHED):
        return bulletin.status
    summary = station.summarise(session, Period(bulletin.period_start, bulletin.period_end),
                                place=bulletin.place or None)
    script = write_script(summary, station.script_language(bulletin.language), station.menus)
    clips = find_clips(session, config, script.quotes)
    bulletin.script = script.text()
    try:
        parts, skipped = spoken_parts(script, clips, config)
    except SpeechFailed as exc:
        bulletin.status, bulletin.error = FAILED, f"the script could not be spoken in {bulletin.language}: {exc}"
        log.warning("bulletin %s failed: no voice spoke it (%s)", bulletin_id, type(exc).__name__)
        return FAILED
    encoded = encode_mp3(join(parts))
    digest = hashlib.sha256(encoded.data).hexdigest()
    name = f"bulletin-{bulletin.id}-{digest[:12]}.mp3"
    _write_atomically(bulletins_dir(config) / name, encoded.data)
    bulletin.audio_path, bulletin.size_bytes, bulletin.sha256 = name, len(encoded.data), digest
    bulletin.duration_seconds = encoded.duration_seconds
    bulletin.skipped = json.dumps(skipped)
    bulletin.status, bulletin.error = READY, None
    return READY


def find_clips(session: Session, config: Config, quotes: tuple[Quote, ...]) -> dict[int, Clip]:
    """Find the stored audio of each quote whose audio a host approved (consent checked again)."""
    wanted = [q for q in quotes if q.audio]
    if not wanted:
        return {}
    rows = session.execute(
        select(RadioClip.id, Recording.recording_sid)
        .join(Message, Message.id == RadioClip.message_id)
        .outerjoin(Recording, Recording.message_id == Message.id)
        .where(RadioClip.id.in_([q.clip_id for q in wanted]), RadioClip.status == "approved",
               RadioClip.audio_approved.is_(True), allowed("radio", "clip"))).all()
    sids = dict(rows)
    store = LocalStore(config.recordings_dir)
    clips: dict[int, Clip] = {}
    for quote in wanted:
        sid = sids.get(quote.clip_id)
        if sid is None:
            clips[quote.clip_id] = Clip(quote, None, "no stored recording")
            continue
        try:
            clips[quote.clip_id] = Clip(quote, store.path(sid))
        except StoreError as exc:
            clips[quote.clip_id] = Clip(quote, None, f"recording not stored: {type(exc).__name__}")
    return clips


def spoken_parts(script: Script, clips: dict[int, Clip], config: Config) -> tuple[list[Pcm], list[dict[str, object]]]:
    """Speak each sentence of the script, playing approved clips in place of their quotes.

    Every sentence is rendered in one batch, so an engine that cannot be reached (gTTS offline) is
    tried once, not once per sentence. Raises SpeechFailed naming the first sentence no voice spoke.
    """
    plan: list[str | Pcm] = [script.title]
    skipped: list[dict[str, object]] = []
    quote_lines = dict(zip((q.clip_id for q in script.quotes), _quote_lines(script), strict=False))
    for section in script.sections:
        if section.heading:
            plan.append(section.heading)
        if section.key != "quotes":
            plan.extend(section.lines)
            continue
        for quote in script.quotes:
            clip = clips.get(quote.clip_id)
            audio, problem = _clip_audio(clip) if clip is not None else (None, None)
            if problem is not None:
                skipped.append({"clip": quote.clip_id, "reason": problem})
            plan.extend((script.clip_intros[quote.clip_id], audio) if audio is not None
                        else (quote_lines[quote.clip_id],))
    spoken = _speak_all([p for p in plan if isinstance(p, str)], script.language, config)
    return [spoken[p] if isinstance(p, str) else p for p in plan], skipped


def _quote_lines(script: Script) -> tuple[str, ...]:
    section = script.section("quotes")
    return section.lines if section is not None else ()


def _clip_audio(clip: Clip) -> tuple[Pcm | None, str | None]:
    """Decode a clip; or say why it cannot be played (missing, unreadable, empty)."""
    if clip.path is None:
        return None, clip.problem or "no stored recording"
    try:
        pcm = decode(clip.path)
    except (UndecodableAudio, OSError):
        return None, "audio unreadable"
    if pcm.duration_s <= MIN_CLIP_SECONDS:
        return None, "audio empty"
    return pcm, None


def _speak_all(texts: list[str], language: str, config: Config) -> dict[str, Pcm]:
    """Render every sentence (cached by text, language and voice) and decode each once."""
    outcomes = render_many([PromptText(text, language) for text in dict.fromkeys(texts)],
                           cache_dir=speech_cache(config), voices=synthesis_voices(config))
    failed = next((o for o in outcomes if o.status == "failed"), None)
    if failed is not None:
        raise SpeechFailed(failed.reason or "no voice spoke it")
    return {o.item.text: decode(o.prompt.path) for o in outcomes if o.prompt is not None}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".mp3")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish_bulletin(session: Session, bulletin_id: int) -> RadioBulletin:
    """Publish a ready bulletin: callers hear it on main menu 3 and the feed lists it."""
    bulletin = session.get(RadioBulletin, bulletin_id)
    if bulletin is None:
        raise BulletinError(f"bulletin {bulletin_id} does not exist")
    if bulletin.status == PUBLISHED:
        return bulletin
    if bulletin.status != READY:
        raise BulletinError(f"bulletin {bulletin_id} is {bulletin.status}: only a ready bulletin can be published")
    bulletin.status, bulletin.published_at = PUBLISHED, utcnow()
    return bulletin
