"""One message: isolation between agencies, audio with range requests, transcript marks, status, reassign, notes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.core.db import database_for
from ivr.core.models import Message
from ivr.core.models.accounts import AuditEvent, Note
from tests.accounts_helpers import page_token
from tests.dashboard.conftest import SPEECH, Dash

SCRIPT = '<script>alert("x")</script><b>bold</b>'


def audits(dash: Dash, action: str) -> list[AuditEvent]:
    with database_for(dash.config.database_url).session() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_another_agencys_message_is_404_on_every_route(dash: Dash) -> None:
    theirs = dash.message(agency="roads", topic="roads")
    client = dash.client()
    token = page_token(client, "/dashboard/")
    missing = theirs + 1000
    for ident in (theirs, missing):
        for path in ("", "/audio", "/download"):
            assert client.get(f"/dashboard/messages/{ident}{path}").status_code == 404, path
        for path, data in (("/status", {"status": "in_progress"}), ("/reassign", {"agency": "water"}),
                           ("/notes", {"text": "mine now"}), ("/answers", {"source": "text", "text": "hello"}),
                           ("/close", {"reason": "duplicate"}), ("/return", {"reason": "x"}), ("/split", {})):
            resp = client.post(f"/dashboard/messages/{ident}{path}", data={**data, "csrf_token": token})
            assert resp.status_code == 404, path
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, theirs)
        assert m is not None and m.status == "received" and m.agency == "roads" and not m.answers
        assert db.scalar(select(Note)) is None
    assert audits(dash, "listen") == [] and audits(dash, "download") == []


def test_unrouted_message_is_hidden_from_officials_but_not_admins(dash: Dash) -> None:
    ident = dash.message(agency="water")
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None
        m.agency = None
    assert dash.client().get(f"/dashboard/messages/{ident}").status_code == 404
    assert dash.client("admin@example.org").get(f"/dashboard/messages/{ident}").status_code == 200


def test_page_shows_player_transcript_marks_and_reason(dash: Dash) -> None:
    ident = dash.message(words=[{"word": "pipe", "confidence": 0.95, "start": 0, "end": 0.4},
                                {"word": "burst", "confidence": 0.31, "start": 0.4, "end": 0.9}])
    html = dash.client().get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert f'<audio id="recording" controls preload="none" src="/dashboard/messages/{ident}/audio?play=' in html
    assert 'class="low" title="confidence 0.31">burst</span>' in html
    assert "pipe" in html and 'class="low" title="confidence 0.95"' not in html
    assert "topic=water → water" in html


def test_transcript_and_notes_are_escaped(dash: Dash) -> None:
    ident = dash.message(words=[{"word": SCRIPT, "confidence": 0.2, "start": 0, "end": 1}])
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{ident}")
    note = client.post(f"/dashboard/messages/{ident}/notes", data={"text": SCRIPT, "csrf_token": token})
    assert note.status_code == 302
    html = client.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert SCRIPT not in html
    # the transcript, the correction form pre-filled with it, and the note
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;") == 3
    # the only script on the page is ours, carrying the response's nonce
    csp = client.get(f"/dashboard/messages/{ident}").headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "unsafe-inline'; img" not in csp.split("style-src")[0]


def test_audio_streams_with_range_requests_and_audits_listens(dash: Dash) -> None:
    ident = dash.message()
    client = dash.client()
    size = SPEECH.stat().st_size
    with client.get(f"/dashboard/messages/{ident}/audio") as full:
        assert full.status_code == 200 and full.data == SPEECH.read_bytes() and full.mimetype == "audio/wav"
        assert full.headers["Accept-Ranges"] == "bytes"
        assert "no-store" in full.headers["Cache-Control"]
    with client.get(f"/dashboard/messages/{ident}/audio", headers={"Range": "bytes=100-199"}) as part:
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
        assert part.data == SPEECH.read_bytes()[100:200]
    with client.get(f"/dashboard/messages/{ident}/audio", headers={"Range": "bytes=0-"}) as first:
        assert first.status_code == 206 and first.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    with client.get(f"/dashboard/messages/{ident}/audio", headers={"Range": f"bytes={size + 10}-"}) as bad:
        assert bad.status_code == 416
    # without the player's token every fetch that sent audio is a listen (tests/dashboard/test_audit_reads.py)
    rows = audits(dash, "listen")
    assert [(r.user_id, r.target_type, r.target_id) for r in rows] == [(dash.water, "message", str(ident))] * 3


def test_download_is_an_attachment_and_audited(dash: Dash) -> None:
    ident = dash.message()
    with dash.client().get(f"/dashboard/messages/{ident}/download") as resp:
        assert resp.status_code == 200 and resp.data == SPEECH.read_bytes()
        assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert [(r.user_id, r.target_id) for r in audits(dash, "download")] == [(dash.water, str(ident))]


def test_message_without_stored_audio_has_no_audio_route(dash: Dash) -> None:
    ident = dash.message(audio=None)
    client = dash.client()
    assert "not stored yet" in client.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert client.get(f"/dashboard/messages/{ident}/audio").status_code == 404


@pytest.mark.parametrize(("start", "to", "ok"), [
    ("received", "in_progress", True), ("received", "closed", False), ("received", "answered", False),
    ("in_progress", "answered", False),  # no answer yet
    ("answered", "closed", True), ("closed", "in_progress", True), ("closed", "received", False),
    ("in_progress", "deleted", False),
])
def test_status_transitions(dash: Dash, start: str, to: str, ok: bool) -> None:
    ident = dash.message(status=start, audio=None)
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{ident}")
    resp = client.post(f"/dashboard/messages/{ident}/status", data={"status": to, "csrf_token": token})
    assert resp.status_code == (302 if ok else 409), resp.get_data(as_text=True)
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None and m.status == (to if ok else start)
    rows = audits(dash, "status")
    assert [r.detail for r in rows] == ([f"{start}->{to}"] if ok else [])
    if not ok:
        assert "The status was not changed" in resp.get_data(as_text=True)


def test_status_change_needs_csrf(dash: Dash) -> None:
    ident = dash.message(audio=None)
    client = dash.client()
    page_token(client, f"/dashboard/messages/{ident}")
    for data in ({"status": "in_progress"}, {"status": "in_progress", "csrf_token": "forged"}):
        resp = client.post(f"/dashboard/messages/{ident}/status", data=data)
        assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None and m.status == "received"


def test_post_without_login_is_refused(dash: Dash) -> None:
    ident = dash.message(audio=None)
    resp = dash.app.test_client().post(f"/dashboard/messages/{ident}/status", data={"status": "in_progress"})
    assert resp.status_code == 401


def test_reassign_moves_the_message_out_of_the_inbox_and_is_audited(dash: Dash) -> None:
    ident = dash.message()
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{ident}")
    resp = client.post(f"/dashboard/messages/{ident}/reassign",
                       data={"agency": "roads", "reason": "a burst main under the road", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    assert client.get(f"/dashboard/messages/{ident}").status_code == 404
    roads = dash.client("roads@example.org").get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert f"reassigned by user {dash.water}: water → roads (a burst main under the road)" in roads
    assert [(r.user_id, r.detail) for r in audits(dash, "reassign")] == [
        (dash.water, "water->roads: a burst main under the road")]


def test_reassign_to_unknown_or_same_agency_is_refused(dash: Dash) -> None:
    ident = dash.message(audio=None)
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{ident}")
    for agency, reason, words in (("sewers", "x", "agency must be one of"), ("water", "x", "with water already"),
                                  ("roads", " ", "a reassignment needs a reason")):
        resp = client.post(f"/dashboard/messages/{ident}/reassign",
                           data={"agency": agency, "reason": reason, "csrf_token": token})
        assert resp.status_code == 400 and words in resp.get_data(as_text=True)
    assert audits(dash, "reassign") == []


def test_notes_are_kept_checked_and_audited(dash: Dash) -> None:
    ident = dash.message(audio=None)
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{ident}")
    blank = client.post(f"/dashboard/messages/{ident}/notes", data={"text": "  ", "csrf_token": token})
    assert blank.status_code == 400
    too_long = client.post(f"/dashboard/messages/{ident}/notes", data={"text": "x" * 5001, "csrf_token": token})
    assert too_long.status_code == 400 and "at most 5000" in too_long.get_data(as_text=True)
    ok = client.post(f"/dashboard/messages/{ident}/notes", data={"text": "Crew sent to Ba", "csrf_token": token})
    assert ok.status_code == 302
    html = client.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert "Crew sent to Ba" in html and "water@example.org" in html
    rows = audits(dash, "note")
    assert len(rows) == 1 and rows[0].target_id == str(ident) and "Crew" not in rows[0].detail
