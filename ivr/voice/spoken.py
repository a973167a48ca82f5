"""Hear a spoken menu choice: fetch the short recording from Twilio, recognise it, delete every copy.

A caller who stays silent at a one-key menu is invited to say the number (ivr/voice/flow.py); the
<Record> action lands here. It all happens inside Twilio's 15-second webhook limit: the fetch
retries Twilio's brief 404 while the recording is processed, with short timeouts, and gives up
in about ten seconds, leaving the caller the menu again. The recording is not a message: it is
kept only in memory and Twilio's copy is deleted as soon as it is recognised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from ivr.core.config import Config
from ivr.voice.flow import CallState
from menus import Flow, Node
from recordings.errors import DeleteFailed, FetchFailed
from recordings.fetch import delete_remote_recording, fetch_recording, recording_id
from speech.choice import Choice, can_recognise, digit_words, recognise_choice
from speech.errors import SpeechError

log = logging.getLogger(__name__)

FETCH_ATTEMPTS = 4  # waits 0.3 + 0.6 + 1.2 s between them: Twilio's 404 while processing lasts about a second
FETCH_BACKOFF = 0.3
HTTP_TIMEOUT = 2.0  # per request: four fetches and a delete stay well inside Twilio's 15 s
YES_NO = {"en": {"1": ("yes",), "2": ("no",)}}  # besides "one" and "two", where the model knows them


def listening_languages(offered: Iterable[str], models_dir: Path | None) -> frozenset[str]:
    """Return the offered languages in which a caller may say the number (a model hears them)."""
    return frozenset(code for code in offered if can_recognise(code, models_dir))


def choices_for(flow: Flow, node: Node, state: CallState, language: str) -> dict[str, tuple[str, ...]]:
    """Return the words to listen for at a node: its keys' digit words, or 1/2 (yes/no) for a confirmation."""
    words = digit_words(language)
    if state.heard is not None:
        extra = YES_NO.get(language, {})
        return {key: words.get(key, ()) + extra.get(key, ()) for key in ("1", "2")}
    keys = flow.tables[node.choices].keys() if node.type == "choice" and node.choices else node.options.keys()
    return {key: words[key] for key in keys if key in words}


def hear_choice(config: Config, url: str, language: str, choices: dict[str, tuple[str, ...]]) -> Choice | None:
    """Fetch, recognise and delete a spoken-choice recording; None when it could not be fetched or heard."""
    rid = recording_id(url)
    try:
        fetched = fetch_recording(url, account_sid=config.twilio_account_sid, auth_token=config.twilio_auth_token,
                                  attempts=FETCH_ATTEMPTS, backoff=FETCH_BACKOFF, timeout=HTTP_TIMEOUT,
                                  hosts=config.media_hosts)
    except (FetchFailed, ValueError) as exc:
        log.warning("spoken choice %s: not fetched (%s)", rid, exc)
        return None
    try:
        choice: Choice | None = recognise_choice(fetched.data, choices, language, config.vosk_models_dir)
    except SpeechError as exc:
        log.warning("spoken choice %s: not recognised (%s)", rid, exc)
        choice = None
    try:
        delete_remote_recording(url, config.twilio_account_sid, config.twilio_auth_token, timeout=HTTP_TIMEOUT,
                                hosts=config.media_hosts)
    except DeleteFailed as exc:
        # The call goes on; the operator sees this in the log and can delete it in Twilio's console.
        log.warning("spoken choice %s: Twilio's copy not deleted (%s)", rid, exc)
    if choice is not None:
        # Ids and the engine's numbers only: what the caller said is not logged.
        log.info("spoken choice %s: %s, confidence %.2f, %.2f s", rid,
                 "heard" if choice.key is not None else "nothing sure", choice.confidence, choice.seconds)
    return choice
