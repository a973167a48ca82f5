"""A local HTTP server that answers as Twilio documents its Calls and Messages resources, and records every request.

    POST /2010-04-01/Accounts/{AccountSid}/Calls.json   basic auth AccountSid:AuthToken
      201 {"sid": "CA...", "status": "queued", "to": ..., "from": ..., ...}
      401 {"code": 20003, "message": "Authenticate", ...}            wrong or missing credentials
      400 {"code": 21201, "message": "No 'To' number is specified"}   (21213 for From, 21205 for Url)
      404 {"code": 20404, ...}                                        any other path
    POST /2010-04-01/Accounts/{AccountSid}/Messages.json   form To, From, Body, StatusCallback
      201 {"sid": "SM...", "status": "queued", ...}; 400 {"code": 21604/21603/21602}; queued faults as for calls

Twilio's error bodies carry code, message, more_info and status; this server sends the same keys.
A test may queue faults (HTTP status and Twilio error code) to be answered instead of a created call.
Each server answers under a random path prefix of its own (part of its base URL): a request meant for
another test's server that happens to get the same port is refused unrecorded, so tests stay apart.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class CallPost:
    """One request the hotline made to create a call: its form (repeated keys kept) and our answer."""

    path: str
    form: dict[str, list[str]]
    authorised: bool
    status: int
    sid: str | None

    def one(self, key: str) -> str:
        values = self.form.get(key, [])
        assert len(values) == 1, f"{key}: {values}"
        return values[0]


@dataclass(frozen=True)
class TwilioFault:
    status: int
    code: int
    message: str


@dataclass
class FakeTwilio:
    """Twilio's Calls resource on 127.0.0.1, for one account."""

    account_sid: str
    auth_token: str
    posts: list[CallPost] = field(default_factory=list)
    faults: list[TwilioFault] = field(default_factory=list)
    prefix: str = field(default_factory=lambda: "/fake-twilio-" + secrets.token_hex(4))
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake._answer(self)

            def do_GET(self) -> None:
                _send(self, 405, _error(20004, "Method not allowed", 405))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def created(self) -> list[CallPost]:
        """The requests that created a call (201), in order."""
        with self._lock:
            return [p for p in self.posts if p.status == 201]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0") or 0)
        raw = handler.rfile.read(length).decode("utf-8")
        form = parse_qs(raw, keep_blank_values=True)
        path = handler.path.split("?", 1)[0]
        if not path.startswith(self.prefix + "/"):
            return _send(handler, 404, _error(20404, "not this test's Twilio", 404))
        path = path[len(self.prefix):]
        authorised = self._authorised(handler.headers.get("Authorization", ""))
        status, body, sid = self._decide(path, form, authorised)
        with self._lock:
            self.posts.append(CallPost(path, form, authorised, status, sid))
        _send(handler, status, body)

    def _decide(self, path: str, form: dict[str, list[str]],
                authorised: bool) -> tuple[int, dict[str, Any], str | None]:
        if path == f"/2010-04-01/Accounts/{self.account_sid}/Messages.json" and authorised:
            return self._message(form)
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Calls.json":
            if not authorised:
                return 401, _error(20003, "Authenticate", 401), None
            return 404, _error(20404, f"The requested resource {path} was not found", 404), None
        if not authorised:
            return 401, _error(20003, "Authenticate", 401), None
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            return fault.status, _error(fault.code, fault.message, fault.status), None
        if not form.get("To", [""])[0]:
            return 400, _error(21201, "No 'To' number is specified", 400), None
        if not form.get("From", [""])[0]:
            return 400, _error(21213, "No 'From' number is specified", 400), None
        if not form.get("Url", [""])[0] and not form.get("Twiml", [""])[0]:
            return 400, _error(21205, "Url parameter is required", 400), None
        sid = "CA" + secrets.token_hex(16)
        body = {"sid": sid, "account_sid": self.account_sid, "to": form["To"][0], "from": form["From"][0],
                "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"}
        return 201, body, sid

    def _message(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any], str | None]:
        """The Messages resource: 201 with an SM sid, or a queued fault (e.g. 21610 unsubscribed recipient)."""
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            return fault.status, _error(fault.code, fault.message, fault.status), None
        if not form.get("To", [""])[0]:
            return 400, _error(21604, "A 'To' phone number is required.", 400), None
        if not form.get("From", [""])[0]:
            return 400, _error(21603, "A 'From' phone number is required.", 400), None
        if not form.get("Body", [""])[0]:
            return 400, _error(21602, "Message body is required.", 400), None
        sid = "SM" + secrets.token_hex(16)
        return 201, {"sid": sid, "account_sid": self.account_sid, "to": form["To"][0], "from": form["From"][0],
                     "body": form["Body"][0], "status": "queued", "direction": "outbound-api",
                     "api_version": "2010-04-01", "num_segments": "1",
                     "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"}, sid

    def _authorised(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(header, f"Basic {expected}")


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
