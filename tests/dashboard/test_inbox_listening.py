"""Triage from the list: each row's redacted snippet and confidence, and a filter for messages that need listening."""

from __future__ import annotations

import re

from sqlalchemy import select

from ivr.core.db import database_for
from ivr.core.models import Message, Transcript, utcnow

from .conftest import Dash


def _set(dash: Dash, ident: int, *, pipeline: str | None = None, **fields: object) -> None:
    with database_for(dash.config.database_url).session() as db:
        if pipeline is not None:
            m = db.get(Message, ident)
            assert m is not None
            m.pipeline = pipeline
        t = db.scalar(select(Transcript).where(Transcript.message_id == ident))
        for name, value in fields.items():
            assert t is not None
            setattr(t, name, value)


def _rows(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'id="message-(\d+)"', html)}


def test_needs_listening_filter_and_snippets(dash: Dash) -> None:
    sure = dash.message(text="the water pipe on Queens Road burst this morning")
    unsure = dash.message(text="my name is Ana Tuilagi call me on 9234567 the tap is dry")
    hindi = dash.message(language="hi", text=None)
    checked = dash.message(text="you better off without")
    waiting = dash.message(language="hi", text=None)  # still being fetched: not yet for listening
    _set(dash, sure, confidence=0.81, check_by_ear=False)
    _set(dash, unsure, confidence=0.22, check_by_ear=True)
    _set(dash, hindi, pipeline="routed")
    _set(dash, checked, confidence=0.1, check_by_ear=True, checked_text="the road is flooded", checked_at=utcnow())
    _set(dash, waiting, pipeline="stored")
    client = dash.client()
    every = client.get("/dashboard/").get_data(as_text=True)
    assert _rows(every) == {sure, unsure, hindi, checked, waiting}
    sure_row, checked_row = _row(every, sure), _row(every, checked)
    assert "the water pipe on Queens Road burst this morning" in sure_row and "81% sure" in sure_row
    assert "machine text" in sure_row and "unchecked" in sure_row  # a guess, shown as one
    assert "[name]" in every and "[phone]" in every and "Tuilagi" not in every and "9234567" not in every
    assert "the road is flooded" in checked_row and "better off" not in every
    assert "machine text" not in checked_row and "unchecked" not in checked_row  # a person checked it
    assert "needs-listening" in _row(every, hindi) and "needs-listening" not in checked_row
    listen = client.get("/dashboard/?listen=1").get_data(as_text=True)
    assert _rows(listen) == {unsure, hindi}
    assert 'name="listen" value="1" checked' in listen
    with database_for(dash.config.database_url).session() as db:
        flags = {m.id: m.needs_listening for m in db.scalars(select(Message))}
    assert flags == {sure: False, unsure: True, hindi: True, checked: False, waiting: False}


def _row(page: str, message_id: int) -> str:
    """Return the inbox row of one message, as HTML."""
    start = page.index(f'<tr id="message-{message_id}"')
    return page[start:page.index("</tr>", start)]
