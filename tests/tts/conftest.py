"""Fixtures for the text-to-speech tests: a local Google TTS endpoint, real MP3 speech, voices.

Google's endpoint cannot be reached from here, so `google_tts` is a local HTTP server that answers
`POST /_/TranslateWebserverUi/data/batchexecute` the way the real one does and gTTS parses: a
`)]}'` guard line, then a JSON line with `"wrb.fr","jQ1olc","[\\"<base64 MP3>\\"]"`. A test sets
`mode` to make it fail: "error500", "no_audio" (the jQ1olc line without audio, as Google answers an
unsupported language), "empty" (no jQ1olc line at all), "slow" (answers only after the client gave up).
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest
import soundfile
import soxr

from speech.espeak_voice import EspeakVoice
from speech.gtts_voice import GttsVoice

MP3_RATE = 24000  # what Google's TTS answers: 24 kHz mono MP3
BATCHEXECUTE = "/_/TranslateWebserverUi/data/batchexecute"


@dataclass
class Received:
    """One request the local endpoint received, decoded from gTTS's f.req form field."""

    path: str
    text: str
    lang: str


@dataclass
class FakeGoogleTTS:
    """State behind the local endpoint: what it answers with, and what it was asked."""

    mp3: bytes
    base_url: str = ""
    path: str = BATCHEXECUTE
    mode: str = "audio"
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        """Return the texts asked for, in order."""
        return [request.text for request in self.received]


def _answer(mp3: bytes, mode: str) -> bytes:
    """Build a batchexecute answer body the way Google frames it."""
    if mode == "empty":
        rpc: list[object] = [["di", 12], ["af.httprm", 11, "-4054", 20]]
    elif mode == "no_audio":
        rpc = [["wrb.fr", "jQ1olc", None, None, None, [3], "generic"], ["di", 12]]
    else:
        inner = json.dumps([base64.b64encode(mp3).decode("ascii")])
        rpc = [["wrb.fr", "jQ1olc", inner, None, None, None, "generic"], ["di", 55]]
    line = json.dumps(rpc, separators=(",", ":"))
    tail = json.dumps([["e", 4, None, None, len(line)]], separators=(",", ":"))
    return f")]}}'\n\n{len(line)}\n{line}\n{len(tail)}\n{tail}\n".encode()


def _handler(state: FakeGoogleTTS) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            rpc = json.loads(parse_qs(body)["f.req"][0])
            text, lang = json.loads(rpc[0][0][1])[:2]
            with state.lock:
                state.received.append(Received(self.path, text, lang))
            if state.mode == "slow":
                state.release.wait(timeout=5)
            if self.path != BATCHEXECUTE:
                status, payload = 404, b"Not Found"
            elif state.mode == "error500":
                status, payload = 500, b"<html>Internal Server Error</html>"
            else:
                status, payload = 200, _answer(state.mp3, state.mode)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                pass
            self.close_connection = True

    return Handler


@contextmanager
def serve(mp3: bytes) -> Iterator[FakeGoogleTTS]:
    """Run the endpoint on a free port until the block ends."""
    state = FakeGoogleTTS(mp3=mp3)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def speech_mp3() -> bytes:
    """Return real speech as a 24 kHz mono MP3: espeak-ng's WAV, resampled, encoded by libsndfile."""
    program = shutil.which("espeak-ng")
    assert program, "these tests need the Debian package espeak-ng"
    wav = subprocess.run(
        [program, "-v", "en", "--stdout", "Welcome to Talanoa."], capture_output=True, check=True
    ).stdout
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    resampled = np.asarray(soxr.resample(samples, rate, MP3_RATE), dtype=np.float32)
    out = io.BytesIO()
    soundfile.write(out, resampled, MP3_RATE, format="MP3", subtype="MPEG_LAYER_III")
    return out.getvalue()


@pytest.fixture
def google_tts(speech_mp3: bytes) -> Iterator[FakeGoogleTTS]:
    """Run a local server on 127.0.0.1 that answers like Google's TTS endpoint."""
    with serve(speech_mp3) as state:
        yield state


@pytest.fixture
def refused_url() -> str:
    """Return a base URL on 127.0.0.1 where nothing listens, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def gtts(google_tts: FakeGoogleTTS) -> GttsVoice:
    """Return a gTTS voice pointed at the local endpoint, with short timeouts."""
    return GttsVoice(base_url=google_tts.base_url, connect_timeout_s=0.5, read_timeout_s=0.5)


@pytest.fixture
def espeak() -> EspeakVoice:
    """Return the espeak-ng voice with its defaults."""
    return EspeakVoice()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """Return an empty prompt cache folder."""
    return tmp_path / "prompts"
