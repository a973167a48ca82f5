"""Fixtures for the recordings tests: real audio, a store, and a local stand-in for Twilio.

Twilio's REST API cannot be reached from here, so `twilio` is a local HTTP server that answers
the way Twilio documents its Recordings resource: GET .../Recordings/RE...(.wav) returns
audio/x-wav, .json the resource, DELETE .../RE....json returns 204; 401 with Twilio's JSON error
body when HTTP auth is enforced and the credentials are wrong, 404 for an unknown recording. A
test can queue replies to serve before the real one (404 while processing, 5xx, a dropped
connection, a body cut short, a stall).

Test modules cannot import this file at run time (--import-mode=importlib), so everything they
need comes through fixtures: `twilio.sid`, `twilio.account_sid`, `twilio.reply(...)` and so on.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypedDict

import pytest
import requests

from recordings.store import LocalStore

DEV_AUDIO = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "dev"
ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "test-auth-token-" + "0" * 16
SID = "RE" + "0123456789abcdef" * 2

_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Recordings/(RE[0-9a-f]{32})(\.wav|\.mp3|\.json)?")
_MEDIA = re.compile(r"/media/(RE[0-9a-f]{32})\.wav")


class Credentials(TypedDict):
    """Twilio credentials, as fetch_recording's keyword arguments."""

    account_sid: str
    auth_token: str
    hosts: tuple[str, ...]


@dataclass
class Reply:
    """One scripted answer. action: "" (answer), "drop" (close without answering),
    "cut" (send the headers and half the body, then close), "stall" (wait `delay` first)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = ""
    delay: float = 0.0
    send_length: bool = True


@dataclass
class Seen:
    """A request the fake Twilio received."""

    method: str
    path: str
    authorization: str | None


class FakeTwilio:
    """State behind the local Twilio: recordings, queued replies, the requests seen."""

    def __init__(self) -> None:
        self.base = ""
        self.sid = SID
        self.account_sid = ACCOUNT_SID
        self.auth_token = AUTH_TOKEN
        self.require_auth = True
        self.recordings: dict[str, bytes] = {}
        self.queued: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def recording_url(self, sid: str = SID) -> str:
        """Return the RecordingUrl Twilio would post for sid (no extension)."""
        return f"{self.base}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"

    def add(self, data: bytes, *before: Reply, sid: str = SID) -> str:
        """Hold data as recording sid, serve the `before` replies first; return its RecordingUrl."""
        self.recordings[sid] = data
        self.queued[sid] = list(before)
        return self.recording_url(sid)

    def queue(self, *replies: Reply, sid: str = SID) -> str:
        """Serve these replies (the last one forever) for a recording that has no media."""
        self.queued[sid] = list(replies)
        return self.recording_url(sid)

    def credentials(self) -> Credentials:
        """Return the right credentials as fetch_recording's keyword arguments."""
        return {"account_sid": self.account_sid, "auth_token": self.auth_token, "hosts": self.hosts}

    # This local Twilio is the one media host the fetcher may use (TWILIO_MEDIA_HOSTS in the app).
    hosts = ("127.0.0.1",)

    @staticmethod
    def reply(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None, *,
              action: str = "", delay: float = 0.0, send_length: bool = True) -> Reply:
        """Build a scripted reply (see Reply)."""
        return Reply(status, body, headers or {}, action, delay, send_length)

    @staticmethod
    def processing() -> Reply:
        """Return what Twilio answers while a fresh recording is still being processed."""
        return _error(404, 20404, "The requested resource was not found")

    def hits(self, method: str = "GET") -> list[Seen]:
        return [s for s in self.seen if s.method == method]

    def expected_authorization(self) -> str:
        raw = f"{self.account_sid}:{self.auth_token}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def _error(status: int, code: int, message: str) -> Reply:
    body = json.dumps({"code": code, "message": message, "status": status,
                       "more_info": f"https://www.twilio.com/docs/errors/{code}"}).encode()
    return Reply(status, body, {"Content-Type": "application/json"})


def _make_handler(state: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._route("GET")

        def do_DELETE(self) -> None:
            self._route("DELETE")

        def _route(self, method: str) -> None:
            with state.lock:
                state.seen.append(Seen(method, self.path, self.headers.get("Authorization")))
            media = _MEDIA.fullmatch(self.path)
            if media and method == "GET":  # the "CDN" a redirect points at: no auth
                self._send(Reply(200, state.recordings[media[1]], {"Content-Type": "audio/x-wav"}))
                return
            match = _PATH.fullmatch(self.path)
            if not match or match[1] != state.account_sid:
                self._send(_error(404, 20404, "The requested resource was not found"))
                return
            if state.require_auth and self.headers.get("Authorization") != state.expected_authorization():
                self._send(_error(401, 20003, "Authenticate"))
                return
            sid, ext = match[2], match[3] or ""
            if method == "GET":
                with state.lock:
                    queue = state.queued.get(sid)
                    scripted = None
                    if queue:  # a recording without media repeats its last reply forever
                        keep_last = len(queue) == 1 and sid not in state.recordings
                        scripted = queue[0] if keep_last else queue.pop(0)
                if scripted is not None:
                    self._send(scripted)
                    return
            if sid not in state.recordings:
                self._send(_error(404, 20404, f"The requested resource /Recordings/{sid} was not found"))
            elif method == "DELETE" and ext == ".json":
                del state.recordings[sid]
                self._send(Reply(204))
            elif method == "GET" and ext in ("", ".wav"):
                self._send(Reply(200, state.recordings[sid], {"Content-Type": "audio/x-wav"}))
            elif method == "GET" and ext == ".json":
                body = json.dumps({"sid": sid, "account_sid": state.account_sid, "status": "completed"})
                self._send(Reply(200, body.encode(), {"Content-Type": "application/json"}))
            else:
                self._send(_error(405, 20004, "Method not allowed"))

        def _send(self, reply: Reply) -> None:
            if reply.action == "drop":
                self.close_connection = True
                return
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                body = reply.body[: len(reply.body) // 2] if reply.action == "cut" else reply.body
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass
            self.close_connection = True

    return Handler


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    """Run a local server that answers like Twilio's Recordings resource."""
    state = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def http_session() -> Iterator[requests.Session]:
    """A requests session closed after the test."""
    with requests.Session() as s:
        yield s


@pytest.fixture
def sleeps() -> list[float]:
    """A list that the `nap` fixture fills with every requested wait."""
    return []


@pytest.fixture
def nap(sleeps: list[float]) -> Callable[[float], None]:
    """A sleep function that records the wait instead of waiting."""
    return sleeps.append


@pytest.fixture
def wav_path() -> Path:
    path = DEV_AUDIO / "osr_us_0011_09.wav"
    if not path.exists():
        pytest.fail(f"the shared dev audio is missing: {path} (clone `shared` beside the repo)")
    return path


@pytest.fixture
def wav(wav_path: Path) -> bytes:
    """A real 8 kHz 16-bit mono WAV of speech, 2.2 s long."""
    return wav_path.read_bytes()


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "recordings")
