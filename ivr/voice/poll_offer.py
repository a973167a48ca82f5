"""Offer the station's open keypad poll to a caller: the flow engine's view of it (rules in ivr/radio/polls.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from ivr.radio.polls import has_voted, open_polls
from ivr.voice.flow import Audio, OpenPoll, Text, Utterance


def offer_for(session: Session, voter: Callable[[], str | None], audio_url: str,
              say_voices: Mapping[str, str]) -> OpenPoll | None:
    """Describe the open poll for the flow engine, or None when no poll is open.

    `voter` returns the caller's number hash (asked only while a poll is open: it may cost a query);
    `audio_url` is a format string with {poll}, {lang} and {v}; `say_voices` maps each language to
    its Twilio <Say> voice ("" when there is none), used where no audio could be rendered.
    """
    poll = open_polls.get(session)
    if poll is None:
        return None
    questions: dict[str, Utterance] = {}
    # A language is offered the poll only where its question can be heard: audio (rendered from the
    # host's text, or the host's own recording, the only way for a language no voice speaks), or
    # the host's text said by that language's own Twilio voice. Never another language's voice.
    for lang in dict.fromkeys([*poll.spoken, *poll.audio]):
        if lang in poll.audio:
            questions[lang] = Audio(audio_url.format(poll=poll.id, lang=lang, v=poll.audio[lang]["sha256"][:16]))
        elif say_voices.get(lang) and poll.spoken.get(lang):
            questions[lang] = Text(poll.spoken[lang])
    voter_hash = voter()
    voted = bool(voter_hash) and has_voted(session, poll.id, str(voter_hash))
    return OpenPoll(id=poll.id, options=poll.options, questions=questions, can_vote=bool(voter_hash), voted=voted)
