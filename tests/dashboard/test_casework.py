"""Casework on the message page: close unanswered with a reason, reassign with a reason and return, split a group,
delivery state, local times, and the inbox row (language by name, redacted snippet, due, flags)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core.db import database_for
from ivr.core.models import Answer, Message, Transcript
from ivr.core.models.accounts import AuditEvent
from ivr.core.models.base import utcnow
from ivr.core.models.delivery import HELD, SCHEDULED, CallAttempt, Delivery
from tests.accounts_helpers import page_token
from tests.dashboard.conftest import Dash
from tests.ivr.test_cli import env_for


def audits(dash: Dash, action: str) -> list[tuple[str | None, str]]:
    with database_for(dash.config.database_url).session() as db:
        return [(r.target_id, r.detail) for r in
                db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def stored(dash: Dash, ident: int) -> Message:
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None
        db.expunge(m)
        return m


def group(dash: Dash, *ids: int) -> None:
    """Make the messages one cluster led by the first (as the routing job does)."""
    with database_for(dash.config.database_url).session() as db:
        for ident in ids:
            m = db.get(Message, ident)
            assert m is not None
            m.cluster_id = ids[0]


def test_inbox_row_is_local_named_redacted_and_flagged(dash: Dash) -> None:
    # 22:30 UTC on Thursday is 10:30 on Friday in Fiji (UTC+12), the test config's HOTLINE_TIMEZONE.
    at = datetime(2026, 1, 15, 22, 30)
    ident = dash.message(language="fj", created_at=at, audio=None,
                         text="na paipo e kavoro call me on 9234567 my name is Mere thank you")
    html = dash.client().get("/dashboard/").get_data(as_text=True)
    row = html.split(f'<tr id="message-{ident}">', 1)[1].split("</tr>", 1)[0]
    assert 'title="2026-01-15 22:30 UTC"' in row and "Fri 16 Jan 2026 10:30" in row and " ago · " in row
    assert "Vosa vaka-Viti" in row  # the language by name, not "fj"
    assert "machine text:" in row and "na paipo e kavoro" in row
    assert "9234567" not in row and "Mere" not in row  # the snippet is redacted
    assert 'class="overdue">overdue' in row  # due 7 days after, long past
    assert "unchecked" in row


def test_inbox_row_without_transcript_and_needs_listening_flag(dash: Dash) -> None:
    plain = dash.message(audio=None)
    doubtful = dash.message(audio=None, words=[{"word": "mumble", "confidence": 0.1, "start": 0, "end": 1}])
    with database_for(dash.config.database_url).session() as db:
        t = db.scalars(select(Transcript).where(Transcript.message_id == doubtful)).one()
        t.check_by_ear = True
    html = dash.client().get("/dashboard/").get_data(as_text=True)
    rows = {int(i): body for i, body in re.findall(r'<tr id="message-(\d+)">(.*?)</tr>', html, re.S)}
    assert "no transcript: listen" in rows[plain] and "needs listening" not in rows[plain]
    assert "needs listening" in rows[doubtful]
    assert "due " in rows[plain] and "overdue" not in rows[plain]


def test_close_without_answer_needs_a_listed_reason_and_other_needs_words(dash: Dash) -> None:
    ident = dash.message(audio=None)
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{ident}")
    for data, words in (({"reason": "bored"}, "the reason must be one of"),
                        ({"reason": "other", "note": "  "}, "closing for &#39;other&#39; needs a reason")):
        resp = client.post(f"/dashboard/messages/{ident}/close", data={**data, "csrf_token": token})
        assert resp.status_code == 409 and words in resp.get_data(as_text=True)
    assert stored(dash, ident).status == "received"
    resp = client.post(f"/dashboard/messages/{ident}/close",
                       data={"reason": "other", "note": "the caller rang to say it is fixed", "csrf_token": token})
    assert resp.status_code == 302
    m = stored(dash, ident)
    assert (m.status, m.close_reason, m.close_note) == ("closed", "other", "the caller rang to say it is fixed")
    page = client.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert 'id="close-reason">other: the caller rang to say it is fixed' in page
    assert audits(dash, "close") == [(str(ident), "reason=other")]


def test_closing_twice_from_two_tabs_is_refused_with_what_happened(dash: Dash) -> None:
    ident = dash.message(audio=None)
    first, second = dash.client(), dash.client()
    tokens = [page_token(c, f"/dashboard/messages/{ident}") for c in (first, second)]  # both tabs open
    assert first.post(f"/dashboard/messages/{ident}/close",
                      data={"reason": "duplicate", "csrf_token": tokens[0]}).status_code == 302
    resp = second.post(f"/dashboard/messages/{ident}/close",
                       data={"reason": "resolved_on_site", "csrf_token": tokens[1]})
    assert resp.status_code == 409
    assert "is closed already (closed: duplicate)" in resp.get_data(as_text=True)
    assert stored(dash, ident).close_reason == "duplicate"
    assert len(audits(dash, "close")) == 1


def test_reassigned_message_can_be_returned_by_the_receiving_agency_with_a_reason(dash: Dash) -> None:
    ident = dash.message(audio=None)
    water, roads = dash.client(), dash.client("roads@example.org")
    token = page_token(water, f"/dashboard/messages/{ident}")
    assert water.post(f"/dashboard/messages/{ident}/reassign",
                      data={"agency": "roads", "reason": "pothole, not a pipe", "csrf_token": token}).status_code == 302
    page = roads.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert "Reassigned from" in page and "pothole, not a pipe" in page and 'id="return-form"' in page
    token = page_token(roads, f"/dashboard/messages/{ident}")
    resp = roads.post(f"/dashboard/messages/{ident}/return", data={"reason": " ", "csrf_token": token})
    assert resp.status_code == 409 and "returning a message needs a reason" in resp.get_data(as_text=True)
    resp = roads.post(f"/dashboard/messages/{ident}/return",
                      data={"reason": "the road is fine; the pipe under it burst", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    m = stored(dash, ident)
    assert (m.agency, m.reassigned_from) == ("water", None)
    assert m.reassign_reason == "returned by roads: the road is fine; the pipe under it burst"
    page = water.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert "returned by roads" in page and 'id="return-form"' not in page
    # Nothing to return now: it was not reassigned to water.
    token = page_token(water, f"/dashboard/messages/{ident}")
    resp = water.post(f"/dashboard/messages/{ident}/return", data={"reason": "x", "csrf_token": token})
    assert resp.status_code == 409 and "was not reassigned to you" in resp.get_data(as_text=True)
    assert [d for _, d in audits(dash, "return")] == ["roads->water: the road is fine; the pipe under it burst"]


def test_group_shows_as_one_row_and_a_member_can_be_split_out_but_not_the_last(dash: Dash) -> None:
    now = utcnow()
    a, b, c = (dash.message(audio=None, created_at=now - timedelta(minutes=m)) for m in (30, 20, 10))
    group(dash, a, b, c)
    client = dash.client()
    html = client.get("/dashboard/").get_data(as_text=True)
    assert re.findall(r'<tr id="message-(\d+)">', html) == [str(a)]
    assert 'data-callers="3">3 callers' in html
    page = client.get(f"/dashboard/messages/{b}").get_data(as_text=True)
    assert "3 callers reported this" in page
    token = page_token(client, f"/dashboard/messages/{a}")
    # The lead leaves: the oldest remaining member leads.
    assert client.post(f"/dashboard/messages/{a}/split", data={"csrf_token": token}).status_code == 302
    assert (stored(dash, a).cluster_id, stored(dash, a).cluster_split) == (None, True)
    assert stored(dash, b).cluster_id == b and stored(dash, c).cluster_id == b
    html = client.get("/dashboard/").get_data(as_text=True)
    assert sorted(re.findall(r'<tr id="message-(\d+)">', html)) == sorted([str(a), str(b)])
    assert 'data-callers="2">2 callers' in html
    # Two left: splitting one dissolves the group.
    assert client.post(f"/dashboard/messages/{c}/split", data={"csrf_token": token}).status_code == 302
    assert stored(dash, b).cluster_id is None and stored(dash, c).cluster_id is None
    resp = client.post(f"/dashboard/messages/{b}/split", data={"csrf_token": token})
    assert resp.status_code == 409 and "is not in a group" in resp.get_data(as_text=True)


def test_splitting_the_last_member_is_refused(dash: Dash) -> None:
    alone = dash.message(audio=None)
    group(dash, alone)  # a group of one, as a half-finished split could leave
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{alone}")
    resp = client.post(f"/dashboard/messages/{alone}/split", data={"csrf_token": token})
    assert resp.status_code == 409 and "the last message of its group" in resp.get_data(as_text=True)


def test_closing_a_group_closes_its_open_members(dash: Dash) -> None:
    a, b = dash.message(audio=None), dash.message(audio=None, status="in_progress")
    group(dash, a, b)
    client = dash.client()
    token = page_token(client, f"/dashboard/messages/{a}")
    assert client.post(f"/dashboard/messages/{a}/close",
                       data={"reason": "resolved_on_site", "csrf_token": token}).status_code == 302
    assert [stored(dash, i).status for i in (a, b)] == ["closed", "closed"]
    assert sorted(t for t, _ in audits(dash, "close")) == sorted([str(a), str(b)])


def test_delivery_state_is_on_the_message_page(dash: Dash) -> None:
    ident = dash.message(audio=None)
    due = datetime(2026, 1, 15, 20, 0)  # 08:00 in Fiji
    with database_for(dash.config.database_url).session() as db:
        held, scheduled, heard = (Answer(message_id=ident, text=f"answer {i}", source="text") for i in range(3))
        db.add_all([held, scheduled, heard])
        db.flush()
        db.add(Delivery(kind="answer", answer_id=held.id, reason="consent", status=HELD,
                        held_reason="the caller reported anonymously"))
        db.add(Delivery(kind="answer", answer_id=scheduled.id, reason="consent", status=SCHEDULED,
                        next_attempt_at=due))
        done = Delivery(kind="answer", answer_id=heard.id, reason="consent", status="completed",
                        completed_at=due)
        db.add(done)
        db.flush()
        db.add(CallAttempt(delivery_id=done.id, number=1, call_sid="CA" + "1" * 32, status="completed", heard=True))
        ids = held.id, scheduled.id, heard.id
    page = dash.client().get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    found = re.findall(r'<div class="answer" id="answer-(\d+)">.*?data-state="(\w+)">(.*?)</p>', page, re.S)
    states = {int(i): (state, words) for i, state, words in found}
    assert states[ids[0]][0] == "held" and "held: the caller reported anonymously" in states[ids[0]][1]
    assert states[ids[1]][0] == "scheduled" and "Fri 16 Jan 2026 08:00" in states[ids[1]][1]
    assert states[ids[2]][0] == "heard"


def test_one_answer_reaches_every_caller_of_the_group_in_its_language(dash: Dash) -> None:
    now = utcnow()
    lead = dash.message(audio=None, created_at=now - timedelta(minutes=30))
    same = dash.message(audio=None, created_at=now - timedelta(minutes=20))
    hindi = dash.message(audio=None, language="hi", created_at=now - timedelta(minutes=10))
    group(dash, lead, same, hindi)
    client = dash.client()
    page = client.get(f"/dashboard/messages/{lead}").get_data(as_text=True)
    assert 'data-language="en">English: 2 callers waiting' in page and 'data-language="hi">' in page
    token = page_token(client, f"/dashboard/messages/{lead}")
    resp = client.post(f"/dashboard/messages/{lead}/answers",
                       data={"source": "text", "text": "A crew is on its way.", "language": "en", "csrf_token": token})
    assert resp.status_code == 302
    with database_for(dash.config.database_url).session() as db:
        got = {a.message_id: a.text for a in db.scalars(select(Answer))}
    assert got == {lead: "A crew is on its way.", same: "A crew is on its way."}
    assert [stored(dash, i).status for i in (lead, same, hindi)] == ["answered", "answered", "received"]
    page = client.get(f"/dashboard/messages/{lead}").get_data(as_text=True)
    assert 'data-language="hi">' in page and 'data-language="en">' not in page
    assert 'name="language"' in page  # the only language still waiting is not the page's: it must be chosen
    resp = client.post(f"/dashboard/messages/{lead}/answers",
                       data={"source": "text", "text": "Paani ki team aa rahi hai.", "language": "hi",
                             "csrf_token": token})
    assert resp.status_code == 302
    assert stored(dash, hindi).status == "answered"
    resp = client.post(f"/dashboard/messages/{lead}/answers",
                       data={"source": "text", "text": "x", "language": "fr", "csrf_token": token})
    assert resp.status_code == 400 and "no open message in this group is in fr" in resp.get_data(as_text=True)


def test_messages_json_has_cluster_overdue_and_needs_listening(dash: Dash) -> None:
    old = dash.message(audio=None, created_at=utcnow() - timedelta(days=30), text="the tap is dry")
    doubtful = dash.message(audio=None, text="mumble")
    member = dash.message(audio=None)
    group(dash, doubtful, member)
    with database_for(dash.config.database_url).session() as db:
        db.scalars(select(Transcript).where(Transcript.message_id == doubtful)).one().check_by_ear = True
    env = env_for(dash.config.data_dir.parent, DATABASE_URL=dash.config.database_url)
    result = CliRunner().invoke(main, ["messages", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, result.output.splitlines())}
    assert (rows[old]["cluster"], rows[old]["overdue"], rows[old]["needs_listening"]) == (None, True, False)
    assert (rows[doubtful]["cluster"], rows[doubtful]["overdue"], rows[doubtful]["needs_listening"]) == (
        doubtful, False, True)
    assert (rows[member]["cluster"], rows[member]["needs_listening"]) == (doubtful, True)  # no transcript
