"""The recogniser in a child process: the same words as in-process, decoded in another process,
and a child that dies is replaced rather than taking transcription down with it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from speech.isolated import EngineCrashed, IsolatedEngine
from speech.registry import engine_for

FILE = "cathy_a0100.wav"


@pytest.fixture
def isolated() -> IsolatedEngine:
    engine = IsolatedEngine("en", None)
    yield engine  # type: ignore[misc]
    engine.close()


def test_same_transcript_as_in_process_from_another_process(isolated: IsolatedEngine, dev_audio: Path) -> None:
    direct = engine_for("en", None)
    assert direct is not None
    here = direct.transcribe(dev_audio / FILE, "en")
    there = isolated.transcribe(dev_audio / FILE, "en")
    assert there.text == here.text and there.text
    assert [w.word for w in there.words] == [w.word for w in here.words]
    assert (there.engine, there.model) == (here.engine, here.model)
    assert isolated.pid != os.getpid()
    # live calls in the parent win the cores: the child decodes only on time nothing else wants
    assert os.sched_getscheduler(isolated.pid) == os.SCHED_IDLE


def test_a_killed_child_is_replaced(isolated: IsolatedEngine, dev_audio: Path) -> None:
    first = isolated.transcribe(dev_audio / FILE, "en")
    old = isolated.pid
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while isolated._proc is not None and isolated._proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    again = isolated.transcribe(dev_audio / FILE, "en")  # notices the dead child and starts another
    assert again.text == first.text


def test_a_language_no_engine_speaks_fails_clearly() -> None:
    with pytest.raises(EngineCrashed, match="no speech engine for 'fj'"):
        IsolatedEngine("fj", None)


def test_registry_shares_one_isolated_engine_per_model() -> None:
    a = engine_for("en", None, isolated=True)
    b = engine_for("en-gb", None, isolated=True)
    assert isinstance(a, IsolatedEngine) and a is b
    assert engine_for("en", None) is not a
