"""The public page and open-data exports: aggregates only, groups under 5 hidden, no personal data."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from flask import Flask

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Caller, Transcript, utcnow
from ivr.public.open_data import CSV_COLUMNS, HIDDEN, suppress_counts, suppress_grid
from tests.accountability.dataset import HOUR, add_message

SECRET_WORDS = "Ratu Sefanaia at Lot 41, call 9234567"


def add_town(config: Config) -> list[str]:
    """Water 7 (Suva), roads 6 (Suva), health 3 (Nadi): health is small, so roads is hidden with it."""
    references = []
    now = utcnow()
    with database_for(config.database_url).session() as session:
        caller = Caller(number_hash="f" * 64)
        session.add(caller)
        session.flush()
        for i in range(7):
            m = add_message(session, agency="water", created=now - timedelta(days=3, hours=i),
                            answers_after=(5 * HOUR,) if i < 4 else ())
            m.caller_id = caller.id
            references.append(m.reference)
        for _ in range(6):
            references.append(add_message(session, agency="roads", created=now - timedelta(days=2)).reference)
        for _ in range(3):
            m = add_message(session, agency="health", created=now - timedelta(days=1), place="nadi")
            session.add(Transcript(message_id=m.id, language="en", text=SECRET_WORDS, engine="test", model="none",
                                   audio_seconds=3.0, processing_seconds=0.1))
            references.append(m.reference)
        add_message(session, agency="water", created=now - timedelta(days=200))  # outside a 30-day window
    return references


def table_rows(page: str, caption: str) -> dict[str, list[str]]:
    """Read one table of the page as {row heading: [cell texts]}."""
    table = page.split(f"<caption>{caption}</caption>", 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        head = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if head:
            rows[head.group(1).strip()] = [re.sub(r"<[^>]+>", "", td).strip()
                                           for td in re.findall(r"<td>(.*?)</td>", row, re.S)]
    return rows


def test_suppress_counts_hides_small_and_one_more() -> None:
    assert suppress_counts({"a": 7, "b": 3, "c": 6, "d": 0}) == {"b", "c"}
    assert suppress_counts({"a": 7, "b": 3, "c": 2}) == {"b", "c"}
    assert suppress_counts({"a": 7, "b": 9, "c": 0}) == set()
    # A lone small group and nothing else to hide with it: hidden anyway.
    assert suppress_counts({"a": 4, "b": 0}) == {"a"}


def test_suppress_grid_leaves_no_row_or_column_with_one_hidden_cell() -> None:
    grid = {("suva", "water"): 9, ("suva", "roads"): 2, ("nadi", "water"): 8, ("nadi", "roads"): 12,
            ("ba", "water"): 0, ("ba", "roads"): 0}
    hidden = suppress_grid(grid)
    assert ("suva", "roads") in hidden
    for axis in (0, 1):
        for line in {cell[axis] for cell in grid}:
            assert sum(1 for c in hidden if c[axis] == line) != 1, (axis, line, hidden)
    assert not any(cell[0] == "ba" for cell in hidden)


def test_public_page_hides_small_groups_and_says_so(app: Flask, config: Config) -> None:
    add_town(config)
    response = app.test_client().get("/public/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "fewer than 5" in page and "To protect callers" in page
    agencies = table_rows(page, "By agency")
    assert agencies["Water Authority"][:2] == ["8", "4"]  # all time: the 200-day-old one too
    assert agencies["Ministry of Health"] == [HIDDEN] * 5
    # Complementary: the total minus water would reveal health, so roads is withheld with it.
    assert agencies["Roads Authority"] == [HIDDEN] * 5
    assert agencies["Police"][0] == "0"


def test_public_page_shows_nothing_personal(app: Flask, config: Config) -> None:
    references = add_town(config)
    client = app.test_client()
    for url in ("/public/", "/public/data.csv", "/public/data.json", "/public/?days=30"):
        body = client.get(url).get_data(as_text=True)
        assert "Sefanaia" not in body and "9234567" not in body and "Lot 41" not in body
        assert "f" * 64 not in body
        for ref in references:
            assert ref not in body, (url, ref)


def test_json_export_schema_and_suppression(app: Flask, config: Config) -> None:
    add_town(config)
    response = app.test_client().get("/public/data.json?days=30")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = json.loads(response.data)
    assert set(data) == {"generated_at", "since", "until", "due_days", "total", "suppression", "agencies",
                         "places", "topics", "place_topic"}
    assert data["suppression"]["threshold"] == 5
    assert data["total"] == 16  # the 200-day-old message is outside the window
    agencies = {a["key"]: a for a in data["agencies"]}
    assert agencies["water"]["received"] == 7 and agencies["water"]["answered"] == 4
    assert agencies["water"]["median_hours_to_first_answer"] == pytest.approx(5.0)
    for code in ("health", "roads"):
        assert agencies[code]["suppressed"] is True
        assert all(agencies[code][f] is None for f in ("received", "answered", "overdue"))
    assert agencies["police"] == {**agencies["police"], "received": 0, "suppressed": False}
    places = {p["key"]: p for p in data["places"]}
    # Nadi (3) is small; Suva would then give it away (16 - Suva), so both are withheld.
    assert places["nadi"]["suppressed"] is True and places["suva"]["suppressed"] is True
    assert places["lautoka"]["received"] == 0 and places["lautoka"]["suppressed"] is False
    cells = {(c["place"], c["topic"]): c for c in data["place_topic"]}
    assert cells[("suva", "water")]["received"] == 7
    assert cells[("nadi", "health")]["suppressed"] is True and cells[("nadi", "health")]["received"] is None
    all_time = json.loads(app.test_client().get("/public/data.json").data)
    assert all_time["total"] == 17 and all_time["since"] is None


def test_csv_export_has_header_and_same_figures(app: Flask, config: Config) -> None:
    add_town(config)
    client = app.test_client()
    response = client.get("/public/data.csv?days=30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    data = json.loads(client.get("/public/data.json?days=30").data)
    expected = len(data["agencies"]) + len(data["places"]) + len(data["topics"]) + len(data["place_topic"])
    assert len(rows) == expected
    water = next(r for r in rows if r["group"] == "agency" and r["key"] == "water")
    assert (water["received"], water["answered"], water["suppressed"]) == ("7", "4", "false")
    health = next(r for r in rows if r["group"] == "agency" and r["key"] == "health")
    assert (health["received"], health["suppressed"]) == ("", "true")


def test_exports_carry_cache_headers_and_answer_304(app: Flask, config: Config) -> None:
    add_town(config)
    client = app.test_client()
    for url in ("/public/", "/public/data.csv", "/public/data.json"):
        first = client.get(url)
        assert "max-age=" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
        etag = first.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("days", ["0", "-3", "abc", "99999", "1.5", "2", "3", "29", "31"])
def test_bad_period_refused_clearly(app: Flask, days: str) -> None:
    # Only the fixed periods: ?days=2 against ?days=3 would isolate the messages of one day.
    response = app.test_client().get(f"/public/data.json?days={days}")
    assert response.status_code == 400
    assert b"days must be one of 30, 90, 365 or &#39;all&#39;" in response.data or \
        b"days must be one of 30, 90, 365 or 'all'" in response.data


def test_a_call_today_changes_no_public_figure_until_the_day_has_ended(app: Flask, config: Config) -> None:
    with database_for(config.database_url).session() as session:
        for i in range(6):
            add_message(session, agency="water", created=utcnow() - timedelta(days=2, hours=i))
    client = app.test_client()
    before = {url: client.get(url).data for url in ("/public/data.json", "/public/data.json?days=30")}
    app.extensions["public_figures"].clear()  # not the minute's memo: the figures themselves
    with database_for(config.database_url).session() as session:
        add_message(session, agency="water", created=utcnow())
    after = {url: client.get(url).data for url in before}
    assert before == after
    assert json.loads(after["/public/data.json"])["total"] == 6
    assert "whole days that have ended" in client.get("/public/").get_data(as_text=True)


def test_tiny_total_is_hidden_too(app: Flask, config: Config) -> None:
    with database_for(config.database_url).session() as session:
        add_message(session, agency="water", created=utcnow() - timedelta(days=1))
    data = json.loads(app.test_client().get("/public/data.json").data)
    assert data["total"] is None
    assert "Fewer than 5 messages" in app.test_client().get("/public/").get_data(as_text=True)
