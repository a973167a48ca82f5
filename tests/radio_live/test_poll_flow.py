"""The poll's part of the pure flow engine: offered as data, no Flask, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.voice.flow import CallState, Context, Keys, OpenPoll, Prompt, Text, next_step
from menus import Menus, load_menus

ROOT = Path(__file__).resolve().parents[2]
QUESTION = Text("Market on Sundays? Yes 1, no 2.")


@pytest.fixture(scope="module")
def menus() -> Menus:
    return load_menus(ROOT / "menus")


def at_main(menus: Menus, ctx: Context, digits: str) -> tuple[CallState, list[object], tuple[str, ...]]:
    state = CallState(node="main", language="en")
    outcome = next_step(menus, state, Keys(node="main", digits=digits), ctx)
    return outcome.state, list(outcome.step.say), outcome.step.effects


def poll(**kw: object) -> OpenPoll:
    return OpenPoll(id=7, options=2, questions={"en": QUESTION}, **kw)  # type: ignore[arg-type]


def test_main_menu_names_key_4_only_while_a_poll_is_open_in_the_callers_language(menus: Menus) -> None:
    _, said, _ = at_main(menus, Context(offered=("en",), poll=poll()), "0")
    assert Prompt("poll_offer") in said
    _, said, _ = at_main(menus, Context(offered=("en",)), "0")
    assert Prompt("poll_offer") not in said
    french_only = OpenPoll(id=7, options=2, questions={"fr": QUESTION})
    _, said, _ = at_main(menus, Context(offered=("en",), poll=french_only), "0")
    assert Prompt("poll_offer") not in said


def test_key_4_plays_the_question_then_a_key_votes(menus: Menus) -> None:
    ctx = Context(offered=("en",), poll=poll())
    state, said, _ = at_main(menus, ctx, "4")
    assert state.node == "poll" and state.poll_id == 7 and QUESTION in said
    voted = next_step(menus, state, Keys(node="poll", digits="2"), ctx)
    assert voted.step.effects == ("vote_poll",) and voted.state.poll_vote == 2
    wrong = next_step(menus, state, Keys(node="poll", digits="3"), ctx)
    assert Prompt("invalid_choice") in wrong.step.say and not wrong.step.effects


def test_refusals_are_spoken(menus: Menus) -> None:
    _, said, _ = at_main(menus, Context(offered=("en",), poll=poll(can_vote=False)), "4")
    assert said[0] == Prompt("poll_needs_number")
    _, said, _ = at_main(menus, Context(offered=("en",), poll=poll(voted=True)), "4")
    assert said[0] == Prompt("poll_already_voted")
    _, said, _ = at_main(menus, Context(offered=("en",)), "4")
    assert said[0] == Prompt("invalid_choice")
    # The poll closed (or another opened) while the caller listened to the question.
    listening = CallState(node="poll", language="en", poll_id=7)
    closed = next_step(menus, listening, Keys(node="poll", digits="1"), Context(offered=("en",)))
    assert closed.step.say[0] == Prompt("poll_closed") and not closed.step.effects
