"""Run a recogniser in a child process, so decoding never freezes the process that asked for it.

Why: PocketSphinx's binding holds Python's GIL for the whole decode (measured: a 7.5 s recording
froze every other thread of the process for a second). The inline queue transcribes on a thread of
the web process, so without this each transcription would stall every webhook of that gunicorn
worker: callers would hear dead air. In the child, the decode holds only the child's GIL, the
parent thread waits on a pipe (which releases its GIL), and the child runs under SCHED_IDLE (else
at a lower priority) so live calls win the cores. `hotline worker` processes do not need it: jobs are all they run.

The child loads its engine once and serves one request at a time over stdin/stdout:
request = 4-byte length + JSON header + PCM bytes; reply = 4-byte length + JSON.
"""

from __future__ import annotations

import atexit
import json
import os
import struct
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import IO, Any

from .audio import Pcm
from .engine import Engine, Word
from .errors import SpeechError

HEADER = struct.Struct(">I")
CHILD_NICENESS = 10
_running: weakref.WeakSet[IsolatedEngine] = weakref.WeakSet()


class EngineCrashed(SpeechError):
    """The child process running a recogniser died or answered nonsense; the job should retry."""


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


class IsolatedEngine(Engine):
    """The engine a language would use, loaded in a child process and driven over a pipe."""

    def __init__(self, language: str, vosk_models_dir: Path | None, timeout: float = 600.0) -> None:
        self.language = language
        self.vosk_models_dir = vosk_models_dir
        self.timeout = timeout
        self._lock = threading.Lock()  # one request at a time per child
        self._proc: subprocess.Popen[bytes] | None = None
        hello = self._start()
        self.name = str(hello["engine"])  # type: ignore[misc]  # per instance: the wrapped engine's name
        self.model = str(hello["model"])
        self.languages = frozenset(hello["languages"])
        self.sample_rate = int(hello["sample_rate"])
        self.doubts = tuple(str(d) for d in hello.get("doubts", ()))
        # The parent resamples, so it must do so as the wrapped engine would (speech/audio.py).
        self.resampler = str(hello.get("resampler", self.resampler))  # type: ignore[misc]
        self.pid = int(hello["pid"])

    def _start(self) -> dict[str, Any]:
        args = [sys.executable, "-m", "speech.isolated_child", self.language, str(self.vosk_models_dir or "")]
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        # Our own interpreter and module, with arguments from our config: nothing from outside.
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)  # noqa: S603
        _running.add(self)
        hello = self._receive()
        if "error" in hello:
            self.close()
            raise EngineCrashed(f"speech engine for {self.language!r} did not start: {hello['error']}")
        return hello

    def _receive(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        body = read_frame(self._proc.stdout)
        if body is None:
            code = self._proc.poll()
            raise EngineCrashed(f"speech engine process for {self.language!r} ended (exit status {code})")
        try:
            reply = json.loads(body)
        except ValueError as exc:
            raise EngineCrashed(f"speech engine process for {self.language!r} answered garbage") from exc
        if not isinstance(reply, dict):
            raise EngineCrashed(f"speech engine process for {self.language!r} answered garbage")
        return reply

    def recognise(self, pcm: Pcm) -> list[Word]:
        """Send the PCM to the child and wait for its words; restart the child if it had died."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.close()  # reap a child that died between requests, then start a fresh one
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
            header = json.dumps({"rate": pcm.rate, "duration": pcm.duration, "peak": pcm.peak}).encode()
            try:
                write_frame(self._proc.stdin, HEADER.pack(len(header)) + header + pcm.data)
                reply = self._receive()
            except (BrokenPipeError, EngineCrashed) as exc:
                self.close()
                raise EngineCrashed(f"speech engine process for {self.language!r} died mid-decode") from exc
        if "error" in reply:
            raise EngineCrashed(f"speech engine for {self.language!r} failed: {reply['error']}")
        return [Word(str(w[0]), float(w[1]), float(w[2]), float(w[3])) for w in reply["words"]]

    def close(self) -> None:
        """Stop the child (closing its stdin ends it); the next request starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@atexit.register
def close_all() -> None:
    """Stop every child at exit, so none outlives the process that started it."""
    for engine in list(_running):
        engine.close()
