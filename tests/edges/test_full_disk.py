"""A full disk is a visible failure with its reason; the retry stores what it holds; stale temp files go."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr import create_app
from ivr.core.models import Message
from ivr.core.services import services
from ivr.voice.emulator import FlaskTransport, Phone, Script
from ivr.voice.media_host import MediaHost
from recordings.store import LocalStore
from tests.conftest import AUTH_TOKEN, BASE_URL, finish_jobs, make_config


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 kB filesystem (tmpfs) for the recordings store: the caller's WAV does not fit."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> Path:
    """Fill a filesystem to the last byte; return the filler file."""
    filler = path / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def test_a_full_disk_is_shown_and_the_retry_does_not_download_again(tmp_path: Path, sqlite_url: str,
                                                                   small_disk: Path, media: MediaHost,
                                                                   speech_wav: bytes) -> None:
    data_dir = small_disk / "data"
    data_dir.mkdir()
    (data_dir / "recordings").mkdir()
    filler = fill(small_disk)
    app: Flask = create_app(make_config(tmp_path, sqlite_url, data_dir=data_dir, job_retries=1,
                                        retry_base_seconds=0.05))
    phone = Phone(FlaskTransport(app.test_client()), AUTH_TOKEN, BASE_URL, media)
    phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]))
    finish_jobs(app)
    with services(app).db.session() as s:
        message = s.scalars(select(Message)).one()
    assert message.pipeline == "failed"  # today: received, no reason, stuck
    assert message.pipeline_error is not None and message.pipeline_error.startswith("disk full: ")
    health = app.test_client().get("/health").get_json()
    assert health["message_problems"] == {"failed: disk full": 1}
    gets = [path for method, path in media.requests if method == "GET"]
    assert len(gets) == 1  # two tries (one retry), one download: the retry used the bytes it held

    filler.unlink()  # the operator frees space, then retries
    from worker.jobs import ingest_recording

    with app.app_context():
        from ivr.core.runtime import set_config

        set_config(app.extensions["hotline"].config)
        assert ingest_recording(message.id) == "stored"
    finish_jobs(app)
    assert [m for m, _ in media.requests].count("GET") == 1
    assert LocalStore(data_dir / "recordings").exists(message.recording_sid or "")


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "recordings")
    stale = store.root / (".RE" + "0" * 32 + ".abc123.tmp")
    fresh = store.root / (".RE" + "1" * 32 + ".def456.tmp")
    stale.write_bytes(b"half a recording")
    fresh.write_bytes(b"being written")
    hour_ago = time.time() - 7200
    os.utime(stale, (hour_ago, hour_ago))
    assert store.remove_stale_temps() == 1
    assert not stale.exists() and fresh.exists()
