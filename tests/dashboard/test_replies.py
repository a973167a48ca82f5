"""Reply templates: per agency and language, filled in with one click, editable, and a bad one named clearly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from ivr.core.db import database_for
from ivr.core.models import Message
from ivr.dashboard.replies import Template, check_template, fill, load_replies
from tests.accounts_helpers import page_token
from tests.dashboard.conftest import Dash

REPLIES = '''
[water.en]
"Crew sent" = "Report {reference}: a crew is on its way to {place} today, {date}. {agency}"
"Bad one" = "Dear {name}, thank you"
[water.fr]
"Équipe" = "Rapport {reference} : une équipe arrive à {place}."
[roads.en]
"Roads only" = "Roads: {reference}"
[sewers.en]
"x" = "y"
'''


def test_a_placeholder_that_does_not_exist_is_named_and_only_that_template_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.write_text(REPLIES, encoding="utf-8")
    found = load_replies(path, {"water", "roads"}, {"en", "fr"})
    assert [t.name for t in found.for_message("water", "en")] == ["Crew sent"]
    assert [t.name for t in found.for_message("water", "fr")] == ["Équipe"]
    assert found.problems == [
        "replies.toml: [water.en] 'Bad one': placeholder {name} does not exist "
        "(use {reference}, {agency}, {topic}, {place}, {date})",
        "replies.toml: [sewers] is not an agency of agencies.toml"]


def test_braces_that_are_not_plain_placeholders_are_refused() -> None:
    assert check_template("{reference.__class__}") == (
        "{reference.__class__} is not a plain placeholder name (write {{ and }} for a literal brace)")
    assert "not a plain placeholder" in str(check_template("{reference!r}"))
    assert "Single '}'" in str(check_template("oops }"))
    assert check_template("{{literal}} {reference}") is None
    with pytest.raises(ValueError, match=r"placeholder \{nope\} does not exist"):
        fill(Template("water", "en", "t", "{nope}"), reference="12345678", agency="W", topic=None, place=None,
             today=datetime(2026, 1, 1))


def test_one_click_fills_the_answer_box_for_editing(make_dash: Callable[..., Dash], tmp_path: Path) -> None:
    path = tmp_path / "replies.toml"
    path.write_text(REPLIES, encoding="utf-8")
    dash = make_dash(replies_file=path)
    ident = dash.message(audio=None, place="ba")
    client = dash.client()
    page = client.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert 'class="reply-template">Crew sent</a>' in page and "Roads only" not in page and "Équipe" not in page
    assert "placeholder {name} does not exist" in page  # the operator's mistake is shown, not hidden
    page = client.get(f"/dashboard/messages/{ident}?reply=0").get_data(as_text=True)
    with database_for(dash.config.database_url).session() as db:
        m = db.get(Message, ident)
        assert m is not None
        reference = m.reference
    spaced = f"{reference[:4]} {reference[4:]}"
    box = page.split('id="answer-text-input">', 1)[1].split("</textarea>", 1)[0]
    assert box.startswith(f"Report {spaced}: a crew is on its way to ba today, ")
    page = client.get(f"/dashboard/messages/{ident}?reply=7").get_data(as_text=True)
    assert "there is no reply template &#39;7&#39;" in page
    # Edited before sending: what is sent is what the official typed.
    token = page_token(client, f"/dashboard/messages/{ident}")
    resp = client.post(f"/dashboard/messages/{ident}/answers",
                       data={"source": "text", "text": box.replace("today", "tomorrow"), "csrf_token": token})
    assert resp.status_code == 302
    page = client.get(f"/dashboard/messages/{ident}").get_data(as_text=True)
    assert "a crew is on its way to ba tomorrow" in page


def test_the_shipped_templates_load_without_problems() -> None:
    from menus import load_menus
    from menus.agencies import load_agencies

    root = Path(__file__).resolve().parents[2] / "menus"
    menus = load_menus(root)
    agencies = set(load_agencies(root / "agencies.toml", menus).by_code)
    found = load_replies(root / "replies.toml", agencies, set(menus.languages))
    assert found.problems == [] and found.for_message("water", "en")
