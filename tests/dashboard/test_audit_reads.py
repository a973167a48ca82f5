"""Promise 4: every read of a caller's words or voice leaves one audit row, and the log cannot be changed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ivr.core.db import database_for
from ivr.core.models.accounts import AuditEvent, User
from tests.dashboard.conftest import SPEECH, Dash


def rows(dash: Dash, action: str) -> list[AuditEvent]:
    with database_for(dash.config.database_url).session() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def player_src(html: str) -> str:
    found = re.search(r'<audio id="recording" controls preload="none" src="([^"]+)"', html)
    assert found, "the player must not preload: opening the page is not a listen"
    return found.group(1).replace("&amp;", "&")


def test_each_page_view_is_audited_and_opening_it_is_no_listen(dash: Dash) -> None:
    ident = dash.message(text="the pipe at the school burst")
    client = dash.client()
    for _ in range(2):
        assert client.get(f"/dashboard/messages/{ident}").status_code == 200
    assert [(r.user_id, r.target_id) for r in rows(dash, "view")] == [(dash.water, str(ident))] * 2
    assert rows(dash, "listen") == []
    dash.client("roads@example.org").get(f"/dashboard/messages/{ident}")  # 404: nothing read, nothing logged
    assert len(rows(dash, "view")) == 2


def test_one_listen_per_play_session_however_many_ranges(dash: Dash) -> None:
    ident = dash.message()
    client = dash.client()
    src = player_src(client.get(f"/dashboard/messages/{ident}").get_data(as_text=True))
    size = SPEECH.stat().st_size
    for rng in (None, "bytes=0-", "bytes=100-199", f"bytes={size - 10}-"):
        with client.get(src, headers={"Range": rng} if rng else {}) as resp:
            assert resp.status_code in (200, 206)
    assert len(rows(dash, "listen")) == 1
    # A second page view is a second play session.
    src2 = player_src(client.get(f"/dashboard/messages/{ident}").get_data(as_text=True))
    client.get(src2, headers={"Range": "bytes=0-"}).close()
    assert len(rows(dash, "listen")) == 2


@pytest.mark.parametrize("rng", [None, "bytes=-5000", "bytes=1-", "bytes=500-", "bytes=-10"])
def test_any_fetch_without_the_players_token_is_a_listen_of_its_own(dash: Dash, rng: str | None) -> None:
    ident = dash.message()
    client = dash.client()
    forged = ("", "?play=not-a-token", "?play=")
    for query in forged:
        with client.get(f"/dashboard/messages/{ident}/audio{query}", headers={"Range": rng} if rng else {}) as r:
            assert r.status_code in (200, 206)
    listens = rows(dash, "listen")
    assert len(listens) == len(forged) and all(r.user_id == dash.water for r in listens)
    # Another official's token (or one for another message) does not fold a fetch into their session.
    other = dash.message()
    src = player_src(client.get(f"/dashboard/messages/{other}").get_data(as_text=True))
    client.get(src.replace(f"/messages/{other}/", f"/messages/{ident}/"), headers={"Range": "bytes=1-"}).close()
    assert len(rows(dash, "listen")) == len(forged) + 1


@pytest.mark.parametrize("rng", [None, "bytes=-100", "bytes=1-", "bytes=0-10"])
def test_every_download_is_audited_whatever_the_range(dash: Dash, rng: str | None) -> None:
    ident = dash.message()
    client = dash.client()
    for _ in range(2):
        client.get(f"/dashboard/messages/{ident}/download", headers={"Range": rng} if rng else {}).close()
    assert [(r.user_id, r.target_id) for r in rows(dash, "download")] == [(dash.water, str(ident))] * 2


def test_the_audit_log_is_append_only_even_for_the_owner_of_the_tables(dash: Dash) -> None:
    ident = dash.message()
    dash.client().get(f"/dashboard/messages/{ident}")
    db = database_for(dash.config.database_url)
    for statement in ("UPDATE audit_events SET detail = 'nothing to see'", "DELETE FROM audit_events",
                      "UPDATE audit_events SET user_id = NULL, action = 'x'"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    if db.url.startswith("postgresql"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_events"))
    # Deleting an account keeps its rows, without the name (the foreign key's ON DELETE SET NULL).
    with db.session() as s:
        s.delete(s.get(User, dash.water))
    [view] = rows(dash, "view")
    assert view.user_id is None and view.target_id == str(ident)
