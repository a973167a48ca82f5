"""Tell the funnel what one webhook step did: which node the caller left and how, which one they reached.

Pure apart from the in-memory buffer (ivr/core/funnel.py): no database, no I/O, so a menu step stays as
cheap as it was.
"""

from __future__ import annotations

from ivr.core.funnel import CALL, KEPT, TRANSFERRED, FunnelBuffer
from ivr.voice.flow import CallState, Event, Keys, Listen, Outcome, Recorded, Spoken, Start, Transfer
from menus import Flow


def count_step(buffer: FunnelBuffer, flow: Flow, before: CallState, event: Event, outcome: Outcome) -> None:
    """Count the node left (chose, silence or wrong key) and the node reached (entered or repeated)."""
    after = outcome.state
    if isinstance(event, Start):
        buffer.note(after.language, CALL, "entered")
    elif event.node != before.node or before.node not in flow.nodes or before.finished:
        return  # a late or repeated webhook: the caller did nothing new
    elif isinstance(outcome.step.then, Listen) or outcome.state.heard is not None:
        return  # asked to say the number, or to confirm what was heard: counted once the caller's answer decides
    else:
        buffer.note(before.language, before.node, _how_left(flow, before, event, outcome))
    if isinstance(outcome.step.then, Transfer):
        buffer.note(before.language, TRANSFERRED, "entered")
    elif after.node:
        buffer.note(after.language, after.node,
                    "repeated" if after.node == before.node and not isinstance(event, Start) else "entered")
    if "keep_message" in outcome.step.effects:
        buffer.note(after.language, KEPT, "entered")


def _how_left(flow: Flow, before: CallState, event: Keys | Recorded | Spoken, outcome: Outcome) -> str:
    if isinstance(event, Spoken):
        # A spoken number the recogniser was sure of acts as its key; anything else repeats like silence.
        return "chose" if event.sure and event.key else "silence"
    if isinstance(event, Recorded):
        return "chose" if event.duration > 0 and event.url else "silence"
    if not event.digits:
        return "silence"
    after = outcome.state
    retried = after.node == before.node and after.attempts == before.attempts + 1
    if (flow.nodes[before.node].type == "record" or retried or isinstance(outcome.step.then, Transfer)
            or after.node == flow.too_many_tries):
        return "wrong_key"  # a key where speech was due, a key the menu does not have, an unknown reference
    return "chose"
