"""The inbox: an official's own agency only, by status, filtered, newest first, keyset pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from ivr.core.models.base import utcnow
from ivr.dashboard.inbox import MAX_PAGE_SIZE, InboxFilter, decode_cursor, encode_cursor
from tests.dashboard.conftest import Dash


def listed(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="message-(\d+)">', html)]


def test_official_sees_only_their_agency_newest_first(dash: Dash) -> None:
    now = utcnow()
    old = dash.message(created_at=now - timedelta(hours=2), audio=None)
    new = dash.message(created_at=now - timedelta(hours=1), audio=None)
    roads = dash.message(agency="roads", topic="roads", audio=None)
    page = dash.client().get("/dashboard/").get_data(as_text=True)
    assert listed(page) == [new, old]
    assert roads not in listed(page)
    assert listed(dash.client("roads@example.org").get("/dashboard/").get_data(as_text=True)) == [roads]


def test_official_cannot_widen_the_inbox_with_agency_in_the_url(dash: Dash) -> None:
    roads = dash.message(agency="roads", topic="roads", audio=None)
    page = dash.client().get("/dashboard/?agency=roads").get_data(as_text=True)
    assert roads not in listed(page)


def test_tabs_by_status_with_counts(dash: Dash) -> None:
    received = dash.message(audio=None)
    progress = dash.message(status="in_progress", audio=None)
    client = dash.client()
    page = client.get("/dashboard/").get_data(as_text=True)
    assert listed(page) == [received]
    assert 'data-status="in_progress">in progress (1)' in page and 'data-status="received">new (1)' in page
    assert listed(client.get("/dashboard/?status=in_progress").get_data(as_text=True)) == [progress]
    assert listed(client.get("/dashboard/?status=closed").get_data(as_text=True)) == []


def test_filters_topic_place_language_dates(dash: Dash) -> None:
    now = utcnow()
    a = dash.message(place="ba", language="en", created_at=now - timedelta(days=3), audio=None)
    b = dash.message(place="suva", language="fj", created_at=now - timedelta(days=1), audio=None)
    c = dash.message(topic="health", place="suva", language="fj", created_at=now, audio=None)
    client = dash.client()

    def ids(query: str) -> list[int]:
        resp = client.get(f"/dashboard/?{query}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return listed(resp.get_data(as_text=True))

    assert ids("place=suva") == [c, b]
    assert ids("language=en") == [a]
    assert ids("topic=health") == [c]
    assert ids(f"from={(now - timedelta(days=2)).date()}") == [c, b]
    assert ids(f"to={(now - timedelta(days=2)).date()}") == [a]
    assert ids(f"from={(now - timedelta(days=1)).date()}&to={(now - timedelta(days=1)).date()}&place=suva") == [b]


def test_overdue_filter(make_dash: Callable[..., Dash]) -> None:
    dash = make_dash(answer_due_days=7)
    now = utcnow()
    late = dash.message(created_at=now - timedelta(days=8), audio=None)
    fresh = dash.message(created_at=now - timedelta(days=1), audio=None)
    client = dash.client()
    page = client.get("/dashboard/").get_data(as_text=True)
    assert listed(page) == [fresh, late]
    assert page.count('class="overdue"') == 1
    assert listed(client.get("/dashboard/?overdue=1").get_data(as_text=True)) == [late]


def test_bad_filters_answer_400_naming_the_problem(dash: Dash) -> None:
    client = dash.client()
    for query, words in [("status=lost", "status must be one of"), ("topic=weather", "topic must be one of"),
                         ("from=yesterday", "from must be a date"), ("per_page=100000", "per_page must be"),
                         ("before=garbage", "page cursor"), ("from=2025-02-01&to=2025-01-01", "must not be after")]:
        resp = client.get(f"/dashboard/?{query}")
        assert resp.status_code == 400, query
        assert words in resp.get_data(as_text=True), query


def test_keyset_pages_cover_every_message_once(dash: Dash) -> None:
    now = utcnow()
    same = now - timedelta(minutes=5)
    made = [dash.message(created_at=now - timedelta(minutes=i), audio=None) for i in range(7)]
    made += [dash.message(created_at=same, audio=None) for _ in range(3)]  # ties broken by id
    client = dash.client()
    seen: list[int] = []
    url = "/dashboard/?per_page=3"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        got = listed(html)
        assert len(got) <= 3
        seen += got
        pages += 1
        found = re.search(r'id="older" rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen)) == 10
    assert pages == 4


def test_page_size_is_capped(dash: Dash) -> None:
    assert dash.client().get(f"/dashboard/?per_page={MAX_PAGE_SIZE + 1}").status_code == 400


def test_cursor_round_trips() -> None:
    now = utcnow()
    assert decode_cursor(encode_cursor((now, 42))) == (now, 42)
    assert InboxFilter(agency="water", before=(now, 42)).query_args()["before"] == encode_cursor((now, 42))


def test_admin_sees_every_agency_and_can_filter_by_one(dash: Dash) -> None:
    water = dash.message(audio=None)
    roads = dash.message(agency="roads", topic="roads", audio=None)
    client = dash.client("admin@example.org")
    assert set(listed(client.get("/dashboard/").get_data(as_text=True))) == {water, roads}
    assert listed(client.get("/dashboard/?agency=roads").get_data(as_text=True)) == [roads]
    assert client.get("/dashboard/?agency=sewers").status_code == 400
