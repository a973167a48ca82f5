"""Two keep webhooks for one recording at the same instant make one message, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

from flask import Flask
from sqlalchemy import select

from ivr.core.models import Message, Recording
from ivr.core.services import services
from ivr.voice.emulator import Heard, Phone


class KeepReached(Exception):
    """The caller is at the keep-or-redo menu: its Gather's action URL is the keep webhook."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class StopAtKeep:
    """Report a problem (water, Ba, agency may call back), record, then stop at the keep menu."""

    def __init__(self, audio: bytes) -> None:
        self.keys_left = ["1", "1", "1", "5", "1"]
        self.audio: bytes | None = audio

    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        if self.audio is None:
            raise KeepReached(gather.get("action", ""))
        return self.keys_left.pop(0)

    def record(self, heard: list[Heard]) -> bytes | None:
        audio, self.audio = self.audio, None
        return audio


def post_at_once(app: Flask, phone: Phone, url: str, form: dict[str, str], times: int = 2) -> list[int]:
    """POST one signed webhook `times` times at the same instant, each on its own thread; return the statuses."""
    barrier = threading.Barrier(times)
    statuses: list[int] = []

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(url.removeprefix(phone.base_url), data=form, headers=phone.sign(url, form))
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=post) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def keep_twice_at_once(app: Flask, phone: Phone, speech_wav: bytes, rounds: int) -> None:
    for _ in range(rounds):
        url = ""
        try:
            phone.call(StopAtKeep(speech_wav))
        except KeepReached as stop:
            url = stop.action
        assert url
        form = {"CallSid": _last_call_sid(app), "AccountSid": phone.media.account_sid, "From": phone.from_number,
                "To": phone.to_number, "CallStatus": "in-progress", "Direction": "inbound", "Digits": "1"}
        assert post_at_once(app, phone, url, form) == [200, 200]


def _last_call_sid(app: Flask) -> str:
    from ivr.core.models import Call

    with services(app).db.session() as s:
        return s.scalars(select(Call.call_sid).order_by(Call.id.desc()).limit(1)).one()


def test_two_keeps_at_once_make_one_message(app: Flask, phone: Phone, speech_wav: bytes) -> None:
    rounds = 3
    phone = Phone(phone.transport, phone.auth_token, phone.base_url, phone.media, status_callback=False)
    keep_twice_at_once(app, phone, speech_wav, rounds)
    with services(app).db.session() as s:
        messages = s.scalars(select(Message)).all()
        recordings = s.scalars(select(Recording)).all()
        assert len(recordings) == rounds
        assert len(messages) == rounds  # today: up to 2 per recording, one an orphan without a recording
        assert all(r.message_id is not None for r in recordings)
        assert {m.id for m in messages} == {r.message_id for r in recordings}
