"""Fixtures for the prompt-audio tests: rendered prompts, human recordings, menus copies, the fake gTTS.

Rendering is real (espeak-ng, and gTTS answered by the local server from tests/tts that speaks
Google's protocol); it is done once per session into `rendered_cache`, which read-only tests point
HOTLINE_PROMPTS_CACHE at, and which writing tests copy.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr
from flask import Flask

from ivr import create_app
from ivr.core.config import Config
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from menus import load_menus
from speech.espeak_voice import EspeakVoice
from speech.telephone_audio import check_playable
from speech.tts import PromptText, render_many
from tests.conftest import AUDIO_DIR, AUTH_TOKEN, make_config
from tests.tts.conftest import FakeGoogleTTS, serve

MENUS = Path(__file__).resolve().parents[2] / "menus"
OPERATOR_TOKEN = "operator-token-0123456789"
# A poll's question as callers hear it: typed in English and Fijian, but no voice speaks Fijian.
POLL_SPOKEN = {"en": "Should the market open on Sundays? For yes press 1, for no press 2.",
               "fj": "E dodonu me dola na makete ena Sigatabu? Kevaka io taba na 1, kevaka sega taba na 2."}
# Every French prompt, and for English and Hindi what the language menu and a reference number need.
PARTIAL = ("language_option", *(f"digit_{d}" for d in range(10)))


def telephone_wav_problems(data: bytes) -> list[str]:
    """Return what keeps these bytes from being a playable 8 kHz mono WAV prompt (empty: none)."""
    info = soundfile.info(io.BytesIO(data))
    problems = []
    if (info.format, info.samplerate, info.channels) != ("WAV", 8000, 1):
        problems.append(f"{info.format} {info.samplerate} Hz {info.channels} ch")
    if info.duration <= 0:
        problems.append("no duration")
    return problems


@pytest.fixture(scope="session")
def rendered_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a prompt cache holding every French prompt and English/Hindi menu options and digits."""
    cache = tmp_path_factory.mktemp("rendered") / "prompts-cache"
    menus = load_menus(MENUS)
    items = [PromptText(menus.text("fr", pid), "fr", pid) for pid in menus.required_prompts()]
    items += [PromptText(menus.text(lang, pid), lang, pid) for lang in ("en", "hi") for pid in PARTIAL]
    failed = [o.reason for o in render_many(items, cache_dir=cache, voices=(EspeakVoice(),)) if o.status == "failed"]
    assert not failed, failed
    return cache


@pytest.fixture
def cache_copy(rendered_cache: Path, tmp_path: Path) -> Path:
    """Return a writable copy of the rendered cache."""
    return Path(shutil.copytree(rendered_cache, tmp_path / "prompts-cache"))


@pytest.fixture
def menus_copy(tmp_path: Path) -> Path:
    """Return a copy of the shipped menus that a test may edit (prompt texts, audio/)."""
    return Path(shutil.copytree(MENUS, tmp_path / "menus", ignore=shutil.ignore_patterns("*.py", "__pycache__")))


def speech_files() -> list[Path]:
    return sorted(AUDIO_DIR.glob("*.wav"))


def record_humans(menus_dir: Path, language: str, prompt_ids: list[str] | tuple[str, ...]) -> None:
    """Put a distinct real speech recording in menus/audio/<language>/ for each prompt id."""
    folder = menus_dir / "audio" / language
    folder.mkdir(parents=True, exist_ok=True)
    files = speech_files()
    for i, pid in enumerate(prompt_ids):
        shutil.copyfile(files[i % len(files)], folder / f"{pid}.wav")


def fijian_call(app: Flask, media: MediaHost, number: str, keys: list[str | None], base_url: str) -> list[str]:
    """Place a call choosing Fijian (key 4) with these keys; return the URLs it played.

    After the language menu (each option in its own language), nothing may be read by another language's voice.
    """
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, base_url, media, from_number=number)
    log = phone.call(Script(keys))
    chosen = next(i for i, h in enumerate(log.heard) if h.kind == "play" and "/prompts/fj/" in h.text
                  and "language_option" not in h.text)
    assert not [h for h in log.heard[chosen:] if h.kind == "say"]
    return [h.text for h in log.heard if h.kind == "play"]


@pytest.fixture
def prompt_config(tmp_path: Path) -> Callable[..., Config]:
    """Return a factory of configs, overrides as keyword arguments.

    The SQLite file is not migrated (most of these tests never touch the database, and a migration
    costs a third of a second); tests that place calls pass `database_url=sqlite_url`.
    """
    def build(**overrides: object) -> Config:
        url = str(overrides.pop("database_url", f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"))
        return make_config(tmp_path, url, **overrides)

    return build


@pytest.fixture
def prompt_app(prompt_config: Callable[..., Config]) -> Callable[..., Flask]:
    """Return a factory of apps, overrides of the config as keyword arguments."""
    def build(**overrides: object) -> Flask:
        return create_app(prompt_config(**overrides))

    return build


@pytest.fixture(scope="session")
def speech_mp3() -> bytes:
    """Return real speech as a 24 kHz MP3, the way Google's endpoint answers."""
    wav = subprocess.run(["espeak-ng", "-v", "en", "--stdout", "Talanoa."], capture_output=True, check=True).stdout
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    resampled = np.asarray(soxr.resample(samples, rate, 24000), dtype=np.float32)
    out = io.BytesIO()
    soundfile.write(out, resampled, 24000, format="MP3", subtype="MPEG_LAYER_III")
    return out.getvalue()


@pytest.fixture
def google_tts(speech_mp3: bytes) -> Iterator[FakeGoogleTTS]:
    """Run the local server that answers like Google's TTS endpoint (tests/tts/conftest.py)."""
    with serve(speech_mp3) as state:
        yield state


def assert_playable_file(path: Path) -> None:
    check = check_playable(path)
    assert check.playable, check.problems


@pytest.fixture
def refused_url() -> str:
    """Return a base URL on 127.0.0.1 where nothing listens, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
