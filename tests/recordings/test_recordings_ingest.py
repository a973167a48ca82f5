"""fetch_and_store end to end against the local Twilio, and then deleting Twilio's copy."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from recordings.errors import AudioUnreadable, FetchFailed, StoreError
from recordings.fetch import delete_remote_recording
from recordings.ingest import fetch_and_store
from recordings.store import LocalStore

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import FakeTwilio

Nap = Callable[[float], None]


def test_fetches_checks_and_stores_once(twilio: FakeTwilio, store: LocalStore, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav, twilio.processing(), twilio.processing())

    stored = fetch_and_store(url, twilio.sid, store, **twilio.credentials(), sleep=nap)

    assert stored.sha256 == hashlib.sha256(wav).hexdigest() and stored.key == f"{twilio.sid}.wav"
    assert store.get(twilio.sid) == wav
    assert len(twilio.hits()) == 3

    again = fetch_and_store(url, twilio.sid, store, **twilio.credentials(), sleep=nap)

    assert again == stored
    assert len(twilio.hits()) == 3  # already stored: Twilio is not asked again


def test_then_twilios_copy_can_go(twilio: FakeTwilio, store: LocalStore, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav)
    stored = fetch_and_store(url, twilio.sid, store, **twilio.credentials(), sleep=nap)
    assert store.verify(twilio.sid, stored.sha256)

    assert delete_remote_recording(url, twilio.account_sid, twilio.auth_token, hosts=twilio.hosts)

    assert twilio.sid not in twilio.recordings
    assert fetch_and_store(url, twilio.sid, store, hosts=twilio.hosts, sleep=nap) == stored  # ours is enough now


@pytest.mark.parametrize("body", [
    b"<html><body><h1>Service Unavailable</h1></body></html>",
    bytes(range(256)) * 40,
    b"",
], ids=["html-page", "garbage", "empty"])
def test_a_200_that_is_not_audio_stores_nothing(twilio: FakeTwilio, store: LocalStore, wav: bytes, nap: Nap,
                                                body: bytes) -> None:
    url = twilio.add(wav, twilio.reply(200, body, {"Content-Type": "text/html"}))

    with pytest.raises(AudioUnreadable):
        fetch_and_store(url, twilio.sid, store, **twilio.credentials(), sleep=nap)

    assert not store.exists(twilio.sid)
    assert list(store.root.iterdir()) == []


def test_a_truncated_wav_stores_nothing(twilio: FakeTwilio, store: LocalStore, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav, twilio.reply(200, wav[: len(wav) * 2 // 3], {"Content-Type": "audio/x-wav"}))
    with pytest.raises(AudioUnreadable, match="truncated"):
        fetch_and_store(url, twilio.sid, store, **twilio.credentials(), sleep=nap)
    assert not store.exists(twilio.sid)


def test_refuses_a_bad_id_before_any_download(twilio: FakeTwilio, store: LocalStore, wav: bytes) -> None:
    with pytest.raises(StoreError):
        fetch_and_store(twilio.add(wav), "../escape", store, **twilio.credentials())
    assert twilio.seen == []


def test_a_failed_download_stores_nothing(twilio: FakeTwilio, store: LocalStore, nap: Nap) -> None:
    url = twilio.queue(twilio.reply(500, b"down"))
    with pytest.raises(FetchFailed) as caught:
        fetch_and_store(url, twilio.sid, store, **twilio.credentials(), attempts=3, sleep=nap)
    assert caught.value.retryable and caught.value.attempts == 3
    assert not store.exists(twilio.sid)
