"""Decide a call's next step from the flow, the call's state and what the caller just did.

Pure: no Flask, no database, no I/O. The webhook views turn Twilio's form into an Event, gather any
facts from the database into it (a reference number's lookup), call next_step, carry out the
returned effects, and render the Step as TwiML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from menus import Flow, Menus, Node

# ---- what the caller hears ---------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """A prompt id spoken in the call's language (or in `language` when given)."""

    id: str
    language: str | None = None


@dataclass(frozen=True)
class Number:
    """A number from the call's state, spoken digit by digit."""

    field: str


@dataclass(frozen=True)
class Audio:
    """An audio file at a URL (the caller's own recording, an answer)."""

    url: str


@dataclass(frozen=True)
class Text:
    """Free text in the call's language (an answer typed by an official, before it has audio)."""

    text: str


Utterance = Prompt | Number | Audio | Text

# ---- what happens after the caller has heard it ------------------------------------------------


@dataclass(frozen=True)
class Gather:
    """Wait for keys: one for a menu, several ending with # for a reference number."""

    node: str
    timeout: int
    num_digits: int | None = 1
    finish_on_key: str = ""


@dataclass(frozen=True)
class Record:
    """Record the caller's message after a beep."""

    node: str
    timeout: int


@dataclass(frozen=True)
class Listen:
    """Record a spoken menu choice: a few seconds, no beep (speech/choice.py recognises it)."""

    node: str


@dataclass(frozen=True)
class Redirect:
    """Continue at a node without waiting for the caller."""

    node: str


@dataclass(frozen=True)
class Hangup:
    """End the call."""


@dataclass(frozen=True)
class Transfer:
    """Connect the caller to the operator's number."""


Then = Gather | Record | Listen | Redirect | Hangup | Transfer


@dataclass(frozen=True)
class Step:
    """What to say, what to wait for, and the side effects the view must carry out first."""

    say: tuple[Utterance, ...]
    then: Then
    effects: tuple[str, ...] = ()


# ---- the call's state, kept in the database between webhooks -----------------------------------


@dataclass(frozen=True)
class CallState:
    """Where a call is in the flow and what the caller has chosen so far."""

    node: str = ""
    language: str | None = None
    attempts: int = 0
    topic: str | None = None
    place: str | None = None
    consent: str | None = None
    recording_sid: str | None = None
    recording_url: str | None = None
    reference: str | None = None
    poll_id: int | None = None  # the poll the caller is answering
    poll_vote: int | None = None  # the key they chose: the view stores it (effect "vote_poll")
    heard: str | None = None  # a key said aloud but not surely heard, waiting for the caller's yes
    finished: bool = False

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False, 0, "")}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CallState:
        """Build a state from stored or carried data, keeping only known fields of the right type."""
        kept = {k: v for k, v in data.items() if isinstance(v, _STATE_TYPES.get(k, ())) and
                not (isinstance(v, bool) and _STATE_TYPES[k] is int)}  # True is an int to Python, not here
        return cls(**kept)  # type: ignore[arg-type]


# One entry per CallState field (tests/ivr/test_state_token.py checks): what a stored or carried value must be.
_STATE_TYPES: dict[str, type] = {
    "node": str, "language": str, "attempts": int, "topic": str, "place": str, "consent": str,
    "recording_sid": str, "recording_url": str, "reference": str, "poll_id": int, "poll_vote": int, "finished": bool,
    "heard": str,
}

# ---- what the caller did -----------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """A new call: the caller's remembered language, if any."""

    language: str | None = None


@dataclass(frozen=True)
class Lookup:
    """What the database knows about a reference number the caller keyed."""

    found: bool
    status: str = "received"
    answer: Utterance | None = None
    withdraw: str = ""  # at a withdrawal's reference node: calls.withdrawal_status for this phone


@dataclass(frozen=True)
class Keys:
    """Keys pressed at a node ('' means silence); `lookup` is filled for a reference node."""

    node: str
    digits: str
    lookup: Lookup | None = None
    bulletin: Utterance | None = None  # for a play_bulletin key: the latest bulletin in the caller's language
    callback: bool | None = None  # for a request_callback key: whether a callback can be promised now
    withdraw: str | None = None  # for a withdraw_* key: calls.withdrawal_status ("yours" lets it happen)


@dataclass(frozen=True)
class Recorded:
    """The <Record> action: a recording exists (duration 0 or no URL means nothing was said)."""

    node: str
    sid: str
    url: str
    duration: int


@dataclass(frozen=True)
class Spoken:
    """A spoken choice recognised at a node: the key it stands for (None: nothing sure), and whether it is sure.

    The view fills `keys` with the facts a key press of that key would carry (a callback's, a bulletin).
    """

    node: str
    key: str | None
    sure: bool = False
    keys: Keys | None = None


Event = Start | Keys | Recorded | Spoken

# Nodes where one key chooses: silence there invites the caller to say the number instead.
LISTENING_NODES = frozenset({"menu", "choice"})

CONSENT_ACTIONS = {"consent_agency": "agency", "consent_anonymous": "anonymous", "consent_radio": "radio"}
WITHDRAW_ACTIONS = ("withdraw_report", "withdraw_radio")
# Why a phone may not withdraw a report, as the caller hears it (README: "Withdrawing a report").
WITHDRAW_REFUSALS = {"anonymous": "withdraw_anonymous", "not_yours": "withdraw_not_yours",
                     "withdrawn": "withdraw_already", "no_radio": "withdraw_no_radio"}
CALLER_STATUS = {"in_progress": "status_in_progress", "answered": "status_answered", "closed": "status_closed"}
MAX_REFERENCE_DIGITS = 12


@dataclass(frozen=True)
class Outcome:
    """The new state and the step to render."""

    state: CallState
    step: Step


@dataclass(frozen=True)
class Context:
    """Facts about the hotline the flow needs besides the menus."""

    offered: tuple[str, ...]
    operator: bool = False
    callbacks: bool = False  # outbound calls are set up: main menu key 8 offers a callback
    poll: OpenPoll | None = None  # the keypad poll open right now, if any (ivr/radio/polls.py)
    listens: frozenset[str] = frozenset()  # languages whose spoken choices a model recognises (speech/choice.py)


@dataclass(frozen=True)
class OpenPoll:
    """The open keypad poll as this call sees it: main menu key 4 offers it while it exists.

    Offered in a language only when `questions` has that language; `can_vote` is False for a call
    without a caller id (one vote per phone cannot be kept), `voted` when this phone already voted.
    """

    id: int
    options: int  # keys 1..options
    questions: Mapping[str, Utterance]
    can_vote: bool = True
    voted: bool = False


def next_step(menus: Menus, state: CallState, event: Event, ctx: Context) -> Outcome:
    """Move the call on by one event."""
    flow = menus.flow
    if isinstance(event, Start):
        if event.language and event.language in ctx.offered:
            return enter(flow, CallState(language=event.language), flow.returning_start, ctx)
        return enter(flow, CallState(), flow.start, ctx)
    if state.finished:
        return Outcome(state, Step((), Hangup()))
    if not state.node or state.node not in flow.nodes:
        return enter(flow, state, flow.start if state.language is None else flow.returning_start, ctx)
    if event.node != state.node:
        # A late or repeated webhook for a node the caller already left: say where they are now.
        return enter(flow, state, state.node, ctx, keep_attempts=True)
    node = flow.node(state.node)
    if isinstance(event, Recorded):
        return _recorded(flow, node, state, event, ctx)
    if isinstance(event, Spoken):
        return _spoken(menus, node, state, event, ctx)
    if state.heard is not None:
        return _confirmed(menus, node, state, event, ctx)
    if not event.digits and _listens(node, state, ctx):
        # Silence at a one-key menu: perhaps the caller cannot press keys; they may say the number.
        return _invite(node, state)
    return _keys(menus, node, state, event, ctx)


def enter(flow: Flow, state: CallState, name: str, ctx: Context, *, keep_attempts: bool = False,
          before: tuple[Utterance, ...] = (), effects: tuple[str, ...] = ()) -> Outcome:
    """Arrive at a node: speak its prompts and wait for what it waits for."""
    node = flow.node(name)
    state = replace(state, node=name, attempts=state.attempts if keep_attempts else 0)
    say = before + _node_prompts(node, ctx, state.language)
    if node.type == "say":
        if node.hangup:
            return Outcome(replace(state, finished=True), Step(say, Hangup(), effects))
        assert node.next is not None
        following = enter(flow, state, node.next, ctx)
        return Outcome(following.state, Step(say + following.step.say, following.step.then, effects))
    if node.type == "record":
        return Outcome(state, Step(say, Record(name, node.timeout), effects))
    if node.type == "reference":
        return Outcome(state, Step(say, Gather(name, node.timeout, None, "#"), effects))
    return Outcome(state, Step(say, Gather(name, node.timeout), effects))


def _node_prompts(node: Node, ctx: Context, language: str | None = None) -> tuple[Utterance, ...]:
    if node.type == "language":
        # Each option in its own language, so every caller hears their language named in it.
        return tuple(Prompt("language_option", code) for code in ctx.offered)
    items: list[Utterance] = []
    for pid in ((node.prompt,) if node.prompt else ()) + node.prompts:
        items.append(Number(pid[1:]) if pid.startswith("$") else Prompt(pid))
    if ctx.callbacks and any(o.action == "request_callback" for o in node.options.values()):
        items.append(Prompt("callback_offer"))  # key 8 is named only where a callback can be placed
    poll = _poll_for(ctx, language)
    actions = {o.action for o in node.options.values()}
    if poll is not None and "open_poll" in actions:
        items.append(Prompt("poll_offer"))  # the menu names key 4 only while a poll is open
    if poll is not None and "vote" in actions:
        items.append(poll.questions[language or ""])
    return tuple(items)


def _poll_for(ctx: Context, language: str | None) -> OpenPoll | None:
    """Return the open poll if the caller's language can hear its question."""
    poll = ctx.poll
    return poll if poll is not None and language in poll.questions else None


def _keys(menus: Menus, node: Node, state: CallState, event: Keys, ctx: Context) -> Outcome:
    flow = menus.flow
    digits = event.digits
    if node.type == "record":
        # Silence at the beep (Twilio skips the action and falls through) or a key instead of speech.
        return _retry(flow, node, state, ctx, "nothing_recorded")
    if not digits:
        return _retry(flow, node, state, ctx, "no_input")
    if node.type == "language":
        lang = menus.language_by_key(digits[:1])
        if len(digits) != 1 or lang is None or lang.code not in ctx.offered:
            return _retry(flow, node, state, ctx, "invalid_choice")
        assert node.next is not None
        return enter(flow, replace(state, language=lang.code), node.next, ctx, effects=("remember_language",))
    if node.type == "choice":
        table = flow.tables[node.choices or ""]
        code = table.get(digits) if len(digits) == 1 else None
        if code is None:
            return _retry(flow, node, state, ctx, "invalid_choice")
        assert node.next is not None
        chosen = replace(state, place=code) if node.field_name == "place" else replace(state, topic=code)
        return enter(flow, chosen, node.next, ctx)
    if node.type == "reference":
        return _reference(flow, node, state, event, ctx)
    option = node.options.get(digits) if len(digits) == 1 else None
    if option is not None and option.action in ("open_poll", "vote"):
        return _poll_key(flow, node, state, option.go, option.action, int(digits), ctx)
    if option is None:
        return _retry(flow, node, state, ctx, "invalid_choice")
    if option.action == "request_callback":
        return _callback(flow, node, state, option.go, event.callback, ctx)
    if option.action == "play_bulletin":
        return _bulletin(flow, state, option.go, event.bulletin, ctx)
    if option.action in WITHDRAW_ACTIONS:
        if event.withdraw != "yours":
            refusal = WITHDRAW_REFUSALS.get(event.withdraw or "", "withdraw_not_yours")
            return enter(flow, replace(state, reference=None), flow.returning_start, ctx, before=(Prompt(refusal),))
        # The view applies it with the reference this state carries; the call forgets it from here on.
        return enter(flow, replace(state, reference=None), option.go, ctx, effects=(option.action,))
    return _option(flow, state, option.go, option.action, ctx)


def _poll_key(flow: Flow, node: Node, state: CallState, go: str, action: str | None, key: int,
              ctx: Context) -> Outcome:
    """Offer the open poll (action open_poll) or take a vote (action vote)."""
    poll = _poll_for(ctx, state.language)
    back = flow.returning_start
    if action == "open_poll":
        if poll is None:  # no poll open: key 4 is not on the menu
            return _retry(flow, node, state, ctx, "invalid_choice")
        if not poll.can_vote:
            return enter(flow, state, back, ctx, before=(Prompt("poll_needs_number"),))
        if poll.voted:
            return enter(flow, state, back, ctx, before=(Prompt("poll_already_voted"),))
        return enter(flow, replace(state, poll_id=poll.id, poll_vote=None), go, ctx)
    if poll is None or poll.id != state.poll_id:  # closed while the caller listened
        return enter(flow, replace(state, poll_id=None), back, ctx, before=(Prompt("poll_closed"),))
    if not 1 <= key <= poll.options:
        return _retry(flow, node, state, ctx, "invalid_choice")
    if poll.voted:
        return enter(flow, state, back, ctx, before=(Prompt("poll_already_voted"),))
    return enter(flow, replace(state, poll_vote=key), go, ctx, effects=("vote_poll",))


def _callback(flow: Flow, node: Node, state: CallState, go: str, allowed: bool | None, ctx: Context) -> Outcome:
    """Key 8: promise a callback and hang up, or say why not and stay in the menus."""
    if not ctx.callbacks:
        return _retry(flow, node, state, ctx, "invalid_choice")  # not offered: a wrong key like any other
    if not allowed:
        # A hidden number, or today's callbacks for this phone used up: the caller keeps the menu.
        return enter(flow, state, flow.returning_start, ctx, before=(Prompt("callback_unavailable"),))
    return enter(flow, state, go, ctx, effects=("request_callback",))


def _option(flow: Flow, state: CallState, go: str, action: str | None, ctx: Context) -> Outcome:
    if action in CONSENT_ACTIONS:
        return enter(flow, replace(state, consent=CONSENT_ACTIONS[action]), go, ctx)
    if action == "keep_message":
        if not state.recording_sid:
            return enter(flow, state, _record_node(flow), ctx, before=(Prompt("nothing_recorded"),))
        return enter(flow, state, go, ctx, effects=("keep_message",))
    if action == "discard_recording":
        cleared = replace(state, recording_sid=None, recording_url=None)
        return enter(flow, cleared, go, ctx, effects=("discard_recording",))
    if action == "play_recording" and state.recording_url:
        return enter(flow, state, go, ctx, before=(Prompt("your_recording_is"), Audio(state.recording_url)))
    return enter(flow, state, go, ctx)


def _bulletin(flow: Flow, state: CallState, go: str, bulletin: Utterance | None, ctx: Context) -> Outcome:
    """Key 3: the latest published radio bulletin in the caller's language, else "no announcements yet"."""
    heard = (Prompt("bulletin_intro"), bulletin) if bulletin is not None else (Prompt("no_announcements"),)
    return enter(flow, state, go, ctx, before=heard)


def _record_node(flow: Flow) -> str:
    return next(n.name for n in flow.nodes.values() if n.type == "record")


def _recorded(flow: Flow, node: Node, state: CallState, event: Recorded, ctx: Context) -> Outcome:
    if node.type != "record":
        return enter(flow, state, node.name, ctx, keep_attempts=True)
    if event.duration <= 0 or not event.url:
        return _retry(flow, node, state, ctx, "nothing_recorded")
    assert node.next is not None
    return enter(flow, replace(state, recording_sid=event.sid, recording_url=event.url), node.next, ctx)


def withdrawing(flow: Flow, node: Node) -> bool:
    """Answer whether a reference node starts a withdrawal (its next node offers withdraw_* keys)."""
    following = flow.nodes.get(node.next or "")
    return following is not None and any(o.action in WITHDRAW_ACTIONS for o in following.options.values())


def _reference(flow: Flow, node: Node, state: CallState, event: Keys, ctx: Context) -> Outcome:
    lookup = event.lookup
    if lookup is None or not lookup.found:
        return _retry(flow, node, state, ctx, "reference_unknown")
    if withdrawing(flow, node):  # never the answer here: only whether this phone may withdraw it
        if lookup.withdraw != "yours":
            refusal = WITHDRAW_REFUSALS.get(lookup.withdraw, "withdraw_not_yours")
            return enter(flow, state, flow.returning_start, ctx, before=(Prompt(refusal),))
        assert node.next is not None
        return enter(flow, replace(state, reference=event.digits), node.next, ctx)
    heard: tuple[Utterance, ...]
    if lookup.answer is not None:
        heard = (Prompt("answer_intro"), lookup.answer)
    else:
        heard = (Prompt(CALLER_STATUS.get(lookup.status, "status_received")),)
    assert node.next is not None
    return enter(flow, state, node.next, ctx, before=heard)


def _retry(flow: Flow, node: Node, state: CallState, ctx: Context, why: str) -> Outcome:
    attempts = state.attempts + 1
    if attempts > node.retries:
        if ctx.operator:
            done = replace(state, attempts=attempts, finished=True)
            return Outcome(done, Step((Prompt("transferring"),), Transfer()))
        return enter(flow, replace(state, attempts=attempts), flow.too_many_tries, ctx)
    return enter(flow, replace(state, attempts=attempts), node.name, ctx, keep_attempts=True,
                 before=(Prompt(why),))


def _listens(node: Node, state: CallState, ctx: Context) -> bool:
    """Tell whether a silence at this node invites a spoken answer (a model speaks the caller's language)."""
    return node.type in LISTENING_NODES and state.language is not None and state.language in ctx.listens


def _invite(node: Node, state: CallState) -> Outcome:
    """Invite the caller to say the number; nothing said counts as the silence it follows (one try)."""
    return Outcome(state, Step((Prompt("say_the_number"),), Listen(node.name)))


def _spoken(menus: Menus, node: Node, state: CallState, event: Spoken, ctx: Context) -> Outcome:
    """Go on as if the key was pressed when sure; when unsure ask once; with nothing heard, repeat the menu."""
    if state.heard is not None:
        # The answer to "you said three: press or say one for yes".
        facts = event.keys or Keys(node.name, "")
        return _confirmed(menus, node, state, replace(facts, digits=event.key or "?"), ctx)
    if event.key is None:
        return _retry(menus.flow, node, state, ctx, "no_input")
    if event.sure:
        return _keys(menus, node, state, event.keys or Keys(node.name, event.key), ctx)
    asked = replace(state, heard=event.key)
    say = (Prompt("you_said"), Number("heard"), Prompt("confirm_choice"))
    return Outcome(asked, Step(say, Gather(node.name, node.timeout)))


def _confirmed(menus: Menus, node: Node, state: CallState, event: Keys, ctx: Context) -> Outcome:
    """Key 1 (or "one", "yes") takes the heard key as pressed; anything else repeats the menu as a silence does.

    The view has filled `event` with the facts a press of the heard key carries (a bulletin, a callback).
    """
    heard, cleared = state.heard, replace(state, heard=None)
    if event.digits == "1" and heard is not None:
        return _keys(menus, node, cleared, replace(event, digits=heard), ctx)
    if not event.digits and _listens(node, state, ctx):
        return Outcome(state, Step((Prompt("say_yes_now"),), Listen(node.name)))  # keeps the question open
    return _retry(menus.flow, node, cleared, ctx, "no_input")


def valid_digits(raw: str) -> str | None:
    """Return the keys Twilio reported, or None when they are not keypad keys of sane length."""
    if len(raw) > MAX_REFERENCE_DIGITS + 1 or any(c not in "0123456789*#" for c in raw):
        return None
    return raw.rstrip("#")
