"""Local stand-ins for agencies' systems: a webhook receiver that checks signatures, an Open311
GeoReport v2 endpoint that answers as the spec documents, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiosmtpd.controller import Controller

from tests.worker.conftest import redis_url, workers  # noqa: F401 - real Redis and `hotline worker` processes

WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"
OPEN311_KEY = "open311-key-for-tests"
SECRET_ENV = "TEST_WATER_WEBHOOK_SECRET"
KEY_ENV = "TEST_WATER_OPEN311_KEY"


@dataclass
class Received:
    """One request an agency system received."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class AgencySystem:
    """Answer POST /hook as an agency's webhook and POST /georeport/v2/requests.json as Open311."""

    secret: str = WEBHOOK_SECRET
    api_key: str = OPEN311_KEY
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0  # answer this many requests with HTTP 503 first
    fail_path: str | None = None  # ... only requests to this path (None: any)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> AgencySystem:
        system = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                system._answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def hooks(self) -> list[Received]:
        return [r for r in self.received if r.path == "/hook"]

    def requests(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("/requests.json")]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        got = Received(handler.path, dict(handler.headers.items()), body)
        with self._lock:
            self.received.append(got)
            failing = self.fail_next > 0 and self.fail_path in (None, handler.path)
            self.fail_next -= failing
        if failing:
            return _send(handler, 503, b"busy", "text/plain")
        if handler.path == "/hook":
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            got.signature_ok = hmac.compare_digest(handler.headers.get("X-Talanoa-Signature", ""), expected)
            return _send(handler, 204 if got.signature_ok else 401, b"", "text/plain")
        if handler.path == "/georeport/v2/requests.json":
            form = got.form()
            if form.get("api_key") != self.api_key:
                return _send(handler, 403, b'[{"code":403,"description":"Invalid api_key received"}]',
                             "application/json")
            if not form.get("service_code"):
                return _send(handler, 400, b'[{"code":400,"description":"service_code was not provided"}]',
                             "application/json")
            answer = [{"service_request_id": f"SR-{len(self.requests())}",
                       "service_notice": "The utility will inspect within 48 hours", "account_id": None}]
            return _send(handler, 200, json.dumps(answer).encode(), "application/json; charset=utf-8")
        _send(handler, 404, b"not found", "text/plain")


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


class Mailbox:
    """Keep every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def agency_system() -> Iterator[AgencySystem]:
    system = AgencySystem().start()
    yield system
    system.stop()


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=closed_port())  # it cannot take port 0
    controller.start()
    yield SmtpServer(controller.port, mailbox)
    controller.stop()


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, WEBHOOK_SECRET)
    monkeypatch.setenv(KEY_ENV, OPEN311_KEY)


def closed_port() -> int:
    """A port on this machine where nothing listens: an agency whose server is down."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_agencies(path: Path, system: AgencySystem, *, down: bool = False, email: str = "desk@water.example.org",
                   extra: str = "") -> Path:
    """Write an agencies file whose water agency is notified by webhook, Open311 and email."""
    down_target = f'''
[[agencies.water.notify]]
webhook = "http://127.0.0.1:{closed_port()}/hook"
secret_env = "{SECRET_ENV}"
''' if down else ""
    path.write_text(f'''
[agencies.water]
name = "Water Authority"
topics = ["water"]

[[agencies.water.notify]]
webhook = "{system.base}/hook"
secret_env = "{SECRET_ENV}"

[[agencies.water.notify]]
open311 = "{system.base}/georeport/v2"
service_code = "WATER-LEAK"
api_key_env = "{KEY_ENV}"
jurisdiction_id = "water.example.org"
address_suffix = ", Fiji"
attributes = {{ SOURCE = "hotline" }}

[[agencies.water.notify]]
email = "{email}"
{down_target}
[agencies.roads]
name = "Roads Authority"
topics = ["roads"]

[agencies.triage]
name = "Triage desk"
topics = ["other"]
triage = true
{extra}''', encoding="utf-8")
    return path


def write_rules(path: Path) -> Path:
    path.write_text('''
[en.topics]
water = ["well", "pipe*", "tap*"]
roads = ["road*", "pothole*"]
''', encoding="utf-8")
    return path
