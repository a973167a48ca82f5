"""A local stand-in for Twilio's Recordings media URLs, for the phone emulator and the tests.

It answers as Twilio documents: GET <RecordingUrl>.wav returns the audio (basic auth when an
account SID is set), <RecordingUrl>.mp3 is refused here (we only ask for WAV), DELETE answers 204.
Faults can be scheduled per recording (404 while "processing", 5xx, an HTML page, garbage) to
prove the fetcher's retries against a real socket.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """An answer to give instead of the audio: a status and a body."""

    status: int
    body: bytes = b""
    content_type: str = "text/html"


@dataclass
class MediaHost:
    """Serve recordings at Twilio-shaped URLs on 127.0.0.1."""

    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = ""
    recordings: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    requests: list[tuple[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> MediaHost:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # silence the test output
                return

            def do_GET(self) -> None:
                host._answer(self, "GET")

            def do_DELETE(self) -> None:
                host._answer(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MediaHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the media host first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, audio: bytes, sid: str | None = None) -> tuple[str, str]:
        """Host a recording; return its RecordingSid and RecordingUrl (no extension, as Twilio sends)."""
        sid = sid or "RE" + secrets.token_hex(16)
        self.recordings[sid] = audio
        return sid, f"{self.base}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.requests.append((method, handler.path))
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Recordings/"
        path = handler.path.split("?", 1)[0]
        if not path.startswith(prefix):
            return _send(handler, 404, b'{"code": 20404, "message": "not found"}', "application/json")
        if self.auth_token and not self._authorised(handler.headers.get("Authorization", "")):
            return _send(handler, 401, b'{"code": 20003, "message": "Authenticate"}', "application/json")
        name = path[len(prefix):]
        sid, _, ext = name.partition(".")
        if sid not in self.recordings:
            return _send(handler, 404, b'{"code": 20404, "message": "not found"}', "application/json")
        if method == "DELETE":
            del self.recordings[sid]
            return _send(handler, 204, b"", "text/plain")
        if self.faults.get(sid):
            fault = self.faults[sid].pop(0)
            return _send(handler, fault.status, fault.body, fault.content_type)
        if ext not in ("", "wav"):
            return _send(handler, 415, b"only wav here", "text/plain")
        return _send(handler, 200, self.recordings[sid], "audio/x-wav")

    def _authorised(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(header, f"Basic {expected}")


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body and handler.command != "HEAD":
        handler.wfile.write(body)
