"""The call's state travels in the signed URLs: menu steps skip the database, tampering is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import event, select

from ivr.core.models import Call
from ivr.core.services import services
from ivr.voice import flow, state_token
from ivr.voice.emulator import Exchange, Phone, Script
from ivr.voice.flow import CallState

from .test_webhook_security import signed_post

FULL = CallState(node="keep", language="fr", attempts=2, topic="water", place="suva", consent="radio",
                 recording_sid="RE" + "a" * 32, recording_url="https://api.twilio.com/2010-04-01/Accounts/AC1/"
                 "Recordings/RE" + "a" * 32, reference="41234567", poll_id=3, poll_vote=2, finished=True)


def test_a_state_comes_back_as_it_went() -> None:
    token = state_token.encode(FULL)
    assert state_token.decode(token) == FULL
    assert state_token.decode(state_token.encode(CallState())) == CallState()
    assert len(token) < 600 and token.replace("-", "").replace("_", "").isalnum()  # safe in a URL as it is


@pytest.mark.parametrize("token", ["", "%%%", "bm90IGpzb24", "W10", "x" * (state_token.MAX_TOKEN + 1)])
def test_what_is_not_one_of_our_tokens_gives_no_state(token: str) -> None:
    assert state_token.decode(token) is None


def test_every_state_field_has_a_checked_type() -> None:
    assert set(flow._STATE_TYPES) == set(CallState.__dataclass_fields__)


def test_fields_of_the_wrong_type_or_unknown_are_dropped() -> None:
    raw = json.dumps({"node": "main", "attempts": True, "poll_id": "3", "finished": 1, "evil": "x"})
    token = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert state_token.decode(token) == CallState(node="main")


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the test runs."""
    seen: list[str] = []
    engine = services(app).db.engine

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_plain_menu_steps_neither_read_nor_write_the_calls_table(app: Flask, phone: Phone, speech_wav: bytes,
                                                                 statements: list[str]) -> None:
    per_request: list[tuple[str, list[str]]] = []

    def note(exchange: Exchange) -> None:
        per_request.append((exchange.url, list(statements)))
        statements.clear()

    phone.on_exchange = note
    phone.call(Script(["1", "1", "2", "3", "1", "REC", "1"], [speech_wav]))
    touching = {urlsplit(url).path + "?node=" + parse_qs(urlsplit(url).query).get("node", [""])[0]:
                any(" calls" in s or "calls." in s for s in sql) for url, sql in per_request}
    # The topic, place and consent menus (the caller's choices) ran on the URL's state alone ...
    assert touching["/voice/step?node=report_topic"] is False
    assert touching["/voice/step?node=report_place"] is False
    assert touching["/voice/step?node=report_consent"] is False
    # ... and the steps that store something wrote the state with it.
    assert touching["/voice/incoming?node="] and touching["/voice/recorded?node=record"]
    with services(app).db.session() as s:
        call = s.scalars(select(Call)).one()
        stored = json.loads(call.state)
    assert (stored["topic"], stored["place"], stored["consent"]) == ("health", "nadi", "agency")
    assert stored["reference"]


def test_a_changed_state_in_the_url_is_refused_and_changes_nothing(app: Flask, phone: Phone) -> None:
    exchanges: list[Exchange] = []
    phone.on_exchange = exchanges.append
    phone.call(Script(["1", "1", "1", "1", None, None, None], []))
    step = next(e for e in exchanges if "node=report_consent" in e.url)
    parts = urlsplit(step.url)
    query = parse_qs(parts.query)
    forged = state_token.encode(CallState(node="report_consent", language="en", topic="water", reference="1"))
    path = f"{parts.path}?{urlencode({'node': 'report_consent', 's': forged})}"
    with services(app).db.session() as s:
        before = s.scalars(select(Call)).one().state
    # Signed for the URL Twilio was given, sent to another: exactly what a forger can do without the token.
    resp = signed_post(app.test_client(), path, step.form, url=f"{parts.scheme}://{parts.netloc}{parts.path}?"
                       f"{urlencode({k: v[0] for k, v in query.items()})}")
    assert resp.status_code == 403
    with services(app).db.session() as s:
        assert s.scalars(select(Call)).one().state == before
