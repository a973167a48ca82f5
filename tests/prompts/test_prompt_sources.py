"""Where each prompt's audio comes from: upload, then menus/audio, then the cache, then <Say>, then nothing."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from ivr.core import runtime
from ivr.core.config import Config
from ivr.core.prompt_audio import HUMAN, SYNTHESISED, PromptLibrary
from ivr.core.prompts import RENDER_JOB, Play, PromptSource, Say
from ivr.core.queue import InlineQueue
from ivr.core.services import services
from menus import load_menus
from tests.conftest import BASE_URL
from tests.prompts.conftest import record_humans, speech_files
from tests.tts.conftest import FakeGoogleTTS
from worker.prompts import render_prompt


class ListQueue:
    """A queue that only remembers what was enqueued."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...], str]] = []

    def enqueue(self, func: str, *args: Any, job_id: str) -> bool:
        self.jobs.append((func, args, job_id))
        return True


def test_sources_in_order_upload_then_menus_then_cache_then_say_then_nothing(
        prompt_app: Callable[..., Flask], menus_copy: Path, cache_copy: Path) -> None:
    app = prompt_app(menus_dir=menus_copy, prompts_cache_dir=cache_copy)
    svc = services(app)
    source, library = svc.prompts, svc.prompts.library

    synthesised = library.find("fr", "goodbye")
    assert synthesised is not None and synthesised.source == SYNTHESISED and synthesised.engine == "espeak-ng"
    played = source.resolve("fr", "goodbye")
    assert played == Play(f"{BASE_URL}/prompts/fr/goodbye.wav?v={synthesised.sha256[:16]}")

    # no audio: <Say> in the language's Twilio voice, and for Fijian (no Twilio voice) nothing at all
    assert source.resolve("en", "goodbye") == Say(svc.menus.text("en", "goodbye"), "en-GB")
    assert source.resolve("fj", "goodbye") is None

    record_humans(menus_copy, "fr", ["goodbye"])
    shipped = library.find("fr", "goodbye")
    assert shipped is not None and shipped.source == HUMAN and shipped.path.parent == menus_copy / "audio" / "fr"

    uploaded_path = svc.config.prompt_recordings_dir / "fr" / "goodbye.wav"
    uploaded_path.parent.mkdir(parents=True)
    shutil.copyfile(speech_files()[5], uploaded_path)
    uploaded = library.find("fr", "goodbye")
    assert uploaded is not None and uploaded.path == uploaded_path and uploaded.sha256 != shipped.sha256
    assert source.resolve("fr", "goodbye") == Play(f"{BASE_URL}/prompts/fr/goodbye.wav?v={uploaded.sha256[:16]}")

    uploaded_path.unlink()
    (menus_copy / "audio" / "fr" / "goodbye.wav").unlink()
    assert library.find("fr", "goodbye") == synthesised  # back to the synthesised file


def test_a_prompt_without_audio_is_queued_once_and_never_rendered_in_the_call(tmp_path: Path) -> None:
    menus = load_menus()
    queue = ListQueue()
    library = PromptLibrary(menus, recordings_dir=tmp_path / "rec", cache_dir=tmp_path / "cache")
    source = PromptSource(menus, BASE_URL, library=library, queue=queue)
    for _ in range(3):
        assert isinstance(source.resolve("en", "main_menu"), Say)
    assert source.resolve("fj", "main_menu") is None  # no engine speaks Fijian: nothing to queue
    assert len(queue.jobs) == 1
    func, args, job_id = queue.jobs[0]
    assert (func, args) == (RENDER_JOB, ("en", "main_menu"))
    assert re.fullmatch(r"prompt-en-main_menu-[0-9a-f]{12}", job_id)
    assert not (tmp_path / "cache").exists()


def test_queued_rendering_uses_gtts_in_the_background_then_the_call_plays_it(
        prompt_config: Callable[..., Config], google_tts: FakeGoogleTTS) -> None:
    from ivr import create_app

    config = prompt_config(prompts_queue_missing=True, gtts_base_url=google_tts.base_url, gtts_timeout_seconds=5)
    app = create_app(config)
    svc = services(app)
    google_tts.mode = "slow"  # the endpoint holds its answer until released
    started = time.monotonic()
    heard = svc.prompts.resolve("en", "goodbye")
    assert isinstance(heard, Say) and time.monotonic() - started < 0.5  # the call did not wait for gTTS
    google_tts.release.set()
    queue = svc.queue
    assert isinstance(queue, InlineQueue) and queue.join(timeout=10) and not queue.failed
    found = svc.prompts.library.find("en", "goodbye")
    assert found is not None and found.engine == "gtts"
    assert google_tts.texts() == [svc.menus.text("en", "goodbye")]
    assert isinstance(svc.prompts.resolve("en", "goodbye"), Play)
    runtime.set_config(None)


def test_render_job_falls_back_to_espeak_when_gtts_is_refused_and_is_idempotent(
        prompt_config: Callable[..., Config], refused_url: str) -> None:
    config = prompt_config(gtts_base_url=refused_url, gtts_timeout_seconds=0.5)
    runtime.set_config(config)
    try:
        assert render_prompt("fr", "goodbye") == "rendered with espeak-ng"
        assert render_prompt("fr", "goodbye") == "has audio"
        assert render_prompt("fr", "no_such_prompt") == "not in menus"
    finally:
        runtime.set_config(None)
    found = PromptLibrary.for_config(config, load_menus()).find("fr", "goodbye")
    assert found is not None and found.path.is_relative_to(config.prompts_cache)


def test_a_human_file_that_is_not_audio_is_ignored(prompt_app: Callable[..., Flask], menus_copy: Path,
                                                   rendered_cache: Path) -> None:
    folder = menus_copy / "audio" / "fr"
    folder.mkdir(parents=True)
    (folder / "goodbye.wav").write_bytes(b"RIFF but not really a wave file")
    (folder / "main_menu.mp3").write_bytes(b"")
    app = prompt_app(menus_dir=menus_copy, prompts_cache_dir=rendered_cache)
    library = services(app).prompts.library
    for prompt in ("goodbye", "main_menu"):
        found = library.find("fr", prompt)
        assert found is not None and found.source == SYNTHESISED


def test_one_look_answers_a_whole_step_from_one_snapshot_and_only_in_its_own_thread(
        prompt_app: Callable[..., Flask], menus_copy: Path, cache_copy: Path) -> None:
    library = services(prompt_app(menus_dir=menus_copy, prompts_cache_dir=cache_copy)).prompts.library
    synthesised = library.find("fr", "goodbye")
    assert synthesised is not None and synthesised.source == SYNTHESISED
    seen_elsewhere: list[Any] = []
    with library.one_look():
        assert library.find("fr", "goodbye") == synthesised  # the look's one stat of the French folders
        record_humans(menus_copy, "fr", ["goodbye"])  # a translator's recording lands mid-step
        assert library.find("fr", "goodbye") == synthesised  # the step is spoken from the look it started with
        with library.one_look():  # nested: still the outer look
            assert library.find("fr", "goodbye") == synthesised
        other = threading.Thread(target=lambda: seen_elsewhere.append(library.find("fr", "goodbye")))
        other.start()
        other.join()
    human = library.find("fr", "goodbye")  # the next step looks again
    assert human is not None and human.source == HUMAN
    assert seen_elsewhere == [human]  # another thread's webhook was never held to this look
