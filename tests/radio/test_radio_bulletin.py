"""Bulletins: the script spoken with approved clips, as an MP3 that decodes; only consented, approved audio."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr
from sqlalchemy.orm import Session

from ivr.core.config import Config
from ivr.core.models import Message, utcnow
from ivr.core.models.radio import RadioBulletin
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
from tests.conftest import make_config
from tests.tts.conftest import serve

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


def test_bulletin_spoken_by_gtts_when_it_answers(tmp_path: Path, database_url: str, session: Session) -> None:
    """Google's TTS endpoint, answered by a local server speaking its protocol, speaks every sentence."""
    with serve(_speech_mp3()) as google:
        config = make_config(tmp_path, database_url, gtts_enabled=True, gtts_base_url=google.base_url,
                             gtts_timeout_seconds=5.0)
        station = Station.for_config(config)
        add_message(session, at=utcnow() - timedelta(days=1), topic="roads", place="nadi")
        bulletin = request_bulletin(session, station, last(WEEK_SPAN, utcnow()), language="en")
        assert build_bulletin(session, station, config, bulletin.id) == READY
        asked = google.texts()
    sentences = [line for line in bulletin.script.splitlines() if line and not set(line) <= {"="}]
    heard = " ".join(asked)  # gTTS asks long sentences in pieces, split at punctuation
    assert sentences and all(s.split(",")[0].rstrip(".") in heard for s in sentences)


def _speech_mp3() -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "en", "--stdout", "Welcome to Talanoa."], capture_output=True,
                         check=True).stdout
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    out = io.BytesIO()
    soundfile.write(out, np.asarray(soxr.resample(samples, rate, 24000), dtype=np.float32), 24000, format="MP3",
                    subtype="MPEG_LAYER_III")
    return out.getvalue()


def test_an_empty_week_makes_a_bulletin_that_says_so(radio_config: Config, station: Station,
                                                    session: Session) -> None:
    bulletin = request_bulletin(session, station, last(WEEK_SPAN, utcnow()), language="fr")
    assert build_bulletin(session, station, radio_config, bulletin.id) == READY
    assert "personne n'a laissé de message" in bulletin.script and json.loads(bulletin.skipped) == []
    assert soundfile.info(str(bulletins_dir(radio_config) / (bulletin.audio_path or ""))).duration > 3
