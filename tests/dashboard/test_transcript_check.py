"""An official listens and corrects a transcript: the machine text is kept, the check audited and shown,
routing uses the checked words only when the official asks, and notifications say which text is which."""

from __future__ import annotations

from sqlalchemy import select

from ivr.core.db import database_for
from ivr.core.models import Message, Transcript
from ivr.core.models.accounts import AuditEvent
from tests.accounts_helpers import csrf_from
from worker.deliver import email_text, open311_description

from .conftest import Dash

MACHINE = "you better off without told the mass murder"
SAID = "the road to the school is flooded again"


def _check(dash: Dash, email: str, ident: int, **form: str) -> tuple[int, str]:
    client = dash.client(email)
    page = client.get(f"/dashboard/messages/{ident}")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post(f"/dashboard/messages/{ident}/transcript", data={"csrf_token": token, **form})
    return resp.status_code, resp.get_data(as_text=True)


def test_official_corrects_after_listening_and_the_machine_text_is_kept(dash: Dash) -> None:
    ident = dash.message(text=MACHINE)
    status, body = _check(dash, "water@example.org", ident, text=SAID)
    assert status == 409 and "listen to the whole recording first" in body
    status, _ = _check(dash, "water@example.org", ident, text=f"  {SAID} ", listened="1")
    assert status == 302
    with database_for(dash.config.database_url).session() as db:
        t = db.scalars(select(Transcript).where(Transcript.message_id == ident)).one()
        assert (t.text, t.checked_text, t.checked_by) == (MACHINE, SAID, dash.water)
        assert t.checked and t.best_text == SAID
        rows = db.scalars(select(AuditEvent).where(AuditEvent.target_id == str(ident)))
        events = [(e.action, e.detail) for e in rows]
        assert ("transcript_check", "by=official corrected=yes") in events
        assert all(SAID not in (d or "") for _, d in events)  # the audit log never holds the caller's words
        m = db.get(Message, ident)
        assert m is not None and m.agency == "water"  # no re-routing unless asked
    html = dash.client().get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert 'id="checked-mark"' in html and "Checked by a person" in html
    assert SAID in html and "better off without" in html  # both texts shown, the machine's marked as such


def test_a_foreign_official_cannot_check_and_a_no_engine_message_gets_a_person_transcript(dash: Dash) -> None:
    ident = dash.message(language="hi", text=None)
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None
        m.pipeline = "routed"
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None and m.needs_listening
    client = dash.client("roads@example.org")
    assert client.get(f"/dashboard/messages/{ident}").status_code == 404
    status, _ = _check(dash, "water@example.org", ident, text="नल से पानी नहीं आता", listened="1")
    assert status == 302
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None and m.transcript is not None
        assert m.transcript.engine == "person" and m.transcript.best_text == "नल से पानी नहीं आता"
        assert not m.needs_listening


def test_reroute_on_checked_words_only_when_the_official_asks(dash: Dash) -> None:
    kept = dash.message(agency="triage", topic="other", text=MACHINE)
    moved = dash.message(agency="triage", topic="other", text=MACHINE)
    assert _check(dash, "admin@example.org", kept, text=SAID, listened="1")[0] == 302
    assert _check(dash, "admin@example.org", moved, text=SAID, listened="1", reroute="1")[0] == 302
    with database_for(dash.config.database_url).session() as db:
        a, b = db.get(Message, kept), db.get(Message, moved)
        assert a is not None and b is not None
        assert a.agency == "triage"
        assert b.agency == "roads" and "re-routed on checked words" in (b.routing_reason or "")
        assert "keyword 'road'" in (b.routing_reason or "")


def test_notifications_mark_machine_text_as_unchecked() -> None:
    base = {"agency_name": "Water", "agency": "water", "reference": "1", "topic": "water", "place": "ba",
            "language": "en", "created_at": "2026-12-04T10:00:00Z", "routing_reason": "topic=water"}
    machine = email_text({**base, "transcript": MACHINE, "transcript_checked": False})
    checked = email_text({**base, "transcript": SAID, "transcript_checked": True})
    assert "unchecked" in machine and "not the caller's words" in machine
    assert "checked by a person" in checked and "unchecked" not in checked
    assert "unchecked" in open311_description({**base, "transcript": MACHINE, "transcript_checked": False})
    assert "checked by a person" in open311_description({**base, "transcript": SAID, "transcript_checked": True})
