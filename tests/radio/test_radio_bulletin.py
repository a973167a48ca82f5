"""Bulletins: the script spoken with approved clips, as an MP3 that decodes; only consented, approved audio."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import soundfile
from sqlalchemy.orm import Session

from ivr.config import Config
from ivr.models import Message, utcnow
from ivr.models.radio import RadioBulletin
from ivr.radio.bulletin import (
    FAILED,
    READY,
    BulletinError,
    build_bulletin,
    bulletins_dir,
    publish_bulletin,
    request_bulletin,
)
from ivr.radio.moderation import approve
from ivr.radio.period import last
from ivr.radio.station import Station

from .conftest import add_message, store_recording

WEEK_SPAN = timedelta(days=7)
GOOD = "The road to the school in Nadi is flooded every time it rains"
BROKEN = "There is no water at the health centre in Ba since Friday"
WITHDRAWN = "The street lights in Suva have been off all week long"


def approved_clips(config: Config, session: Session, speech_wav: bytes) -> dict[str, int]:
    """One playable clip, one whose stored audio is not audio, one whose caller's consent is no longer radio."""
    now = utcnow()
    good = add_message(session, at=now - timedelta(days=1), consent="radio", topic="roads", place="nadi",
                       transcript=GOOD)
    broken = add_message(session, at=now - timedelta(days=2), consent="radio", topic="water", place="ba",
                         transcript=BROKEN)
    withdrawn = add_message(session, at=now - timedelta(days=3), consent="radio", topic="electricity", place="suva",
                            transcript=WITHDRAWN)
    store_recording(config, session, good.id, speech_wav)
    store_recording(config, session, broken.id, b"RIFF\x00\x00\x00\x00WAVEthis is not audio at all" * 40)
    store_recording(config, session, withdrawn.id, speech_wav)
    clips = {name: approve(session, m.id, None, audio=True, listened=True).id
             for name, m in (("good", good), ("broken", broken), ("withdrawn", withdrawn))}
    session.get_one(Message, withdrawn.id).consent = "agency"  # consent changed after approval: off air
    session.flush()
    return clips


def test_bulletin_mp3_decodes_and_skips_the_unreadable_clip(radio_config: Config, station: Station,
                                                           session: Session, speech_wav: bytes) -> None:
    clips = approved_clips(radio_config, session, speech_wav)
    bulletin = request_bulletin(session, station, last(WEEK_SPAN, utcnow()), language="en")
    assert build_bulletin(session, station, radio_config, bulletin.id) == READY
    assert bulletin.audio_path is not None and bulletin.size_bytes and bulletin.duration_seconds
    path = bulletins_dir(radio_config) / bulletin.audio_path
    assert path.stat().st_size == bulletin.size_bytes
    info = soundfile.info(str(path))
    assert info.format == "MP3" and info.samplerate == 16000
    clip_seconds = soundfile.info(io.BytesIO(speech_wav)).duration
    assert info.duration == pytest.approx(bulletin.duration_seconds, abs=0.2)
    assert info.duration > clip_seconds + 10  # the spoken script and the clip
    assert json.loads(bulletin.skipped) == [{"clip": clips["broken"], "reason": "audio unreadable"}]
    # The unreadable clip's quote is read as text instead; the withdrawn one is nowhere.
    assert "There is no water at the health centre in Ba since Friday" in bulletin.script
    assert "The road to the school in Nadi" in bulletin.script
    assert "street lights" not in bulletin.script
    # Idempotent: building again leaves the ready bulletin as it is.
    assert build_bulletin(session, station, radio_config, bulletin.id) == READY


def test_a_language_no_voice_speaks_fails_with_the_reason(radio_config: Config, station: Station,
                                                         session: Session) -> None:
    bulletin = request_bulletin(session, station, last(WEEK_SPAN, utcnow()), language="fj")
    assert build_bulletin(session, station, radio_config, bulletin.id) == FAILED
    assert bulletin.error is not None and "could not be spoken in fj" in bulletin.error
    with pytest.raises(BulletinError, match="only a ready bulletin can be published"):
        publish_bulletin(session, bulletin.id)


def test_unknown_language_is_refused(station: Station, session: Session) -> None:
    with pytest.raises(BulletinError, match="no radio phrases for language 'xx'"):
        request_bulletin(session, station, last(WEEK_SPAN, utcnow()), language="xx")
    assert session.query(RadioBulletin).count() == 0
