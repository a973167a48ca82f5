"""fetch_recording and delete_remote_recording against a local server that answers like Twilio."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests

from recordings.errors import DeleteFailed, FetchFailed
from recordings.fetch import delete_remote_recording, fetch_recording, media_url, resource_url

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import Credentials, FakeTwilio

Nap = Callable[[float], None]
ACCOUNT_SID = "AC" + "a1" * 16
SID = "RE" + "0123456789abcdef" * 2
CREDS: Credentials = {"account_sid": ACCOUNT_SID, "auth_token": "some-token",
                      "hosts": ("127.0.0.1", "api.twilio.invalid")}


# -- URLs ----------------------------------------------------------------------------------------


def test_media_url_appends_wav_as_twilio_documents() -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}"
    assert media_url(url) == url + ".wav"
    assert media_url(url + ".mp3") == url + ".mp3"
    assert media_url(url + ".wav") == url + ".wav"
    assert resource_url(url) == resource_url(url + ".wav") == url + ".json"


@pytest.mark.parametrize("bad", ["ftp://api.twilio.com/x/RE1", "not a url", "https:///RE1",
                                 f"https://api.twilio.com/Recordings/{SID}.json"])
def test_media_url_refuses_what_cannot_name_audio(bad: str) -> None:
    with pytest.raises(ValueError):
        media_url(bad)


# -- success -------------------------------------------------------------------------------------


def test_fetches_wav_with_basic_auth(twilio: FakeTwilio, wav: bytes, nap: Nap, sleeps: list[float]) -> None:
    url = twilio.add(wav)

    got = fetch_recording(url, **twilio.credentials(), sleep=nap)

    assert got.data == wav
    assert got.sha256 == hashlib.sha256(wav).hexdigest()
    assert got.content_type == "audio/x-wav"
    assert got.attempts == 1 and sleeps == []
    [seen] = twilio.hits()
    assert seen.path.endswith(f"/Recordings/{SID}.wav")
    assert seen.authorization == twilio.expected_authorization()


def test_public_media_needs_no_credentials(twilio: FakeTwilio, wav: bytes) -> None:
    twilio.require_auth = False
    got = fetch_recording(twilio.add(wav), hosts=twilio.hosts)
    assert got.data == wav
    assert twilio.hits()[0].authorization is None


def test_uses_a_given_session(twilio: FakeTwilio, wav: bytes, http_session: requests.Session) -> None:
    assert fetch_recording(twilio.add(wav), **twilio.credentials(), session=http_session).data == wav


# -- retried ---------------------------------------------------------------------------------------


def test_404_while_processing_is_retried_until_ready(twilio: FakeTwilio, wav: bytes, nap: Nap,
                                                     sleeps: list[float]) -> None:
    url = twilio.add(wav, twilio.processing(), twilio.processing())

    got = fetch_recording(url, **twilio.credentials(), sleep=nap)

    assert got.data == wav
    assert got.attempts == 3
    assert len(twilio.hits()) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff


def test_server_errors_are_retried(twilio: FakeTwilio, wav: bytes, nap: Nap, sleeps: list[float]) -> None:
    url = twilio.add(wav, twilio.reply(503, b"busy"), twilio.reply(500, b"oops"), twilio.reply(502, b"gateway"))
    got = fetch_recording(url, **twilio.credentials(), backoff=0.25, sleep=nap)
    assert got.attempts == 4
    assert sleeps == [0.25, 0.5, 1.0]


def test_429_waits_as_long_as_retry_after_asks(twilio: FakeTwilio, wav: bytes, nap: Nap,
                                               sleeps: list[float]) -> None:
    url = twilio.add(wav, twilio.reply(429, b"{}", {"Retry-After": "3"}),
                     twilio.reply(429, b"{}", {"Retry-After": "999"}))
    assert fetch_recording(url, **twilio.credentials(), sleep=nap).attempts == 3
    assert sleeps == [3.0, 60.0]  # Retry-After honoured, capped at a minute


def test_dropped_connection_is_retried(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav, twilio.reply(action="drop"))
    assert fetch_recording(url, **twilio.credentials(), sleep=nap).attempts == 2


def test_body_cut_short_is_retried_not_returned(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav, twilio.reply(200, wav, {"Content-Type": "audio/x-wav"}, action="cut"))
    got = fetch_recording(url, **twilio.credentials(), sleep=nap)
    assert got.attempts == 2
    assert got.data == wav


def test_timeout_is_retried(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav, twilio.reply(200, wav, action="stall", delay=1.0))
    got = fetch_recording(url, **twilio.credentials(), timeout=0.3, sleep=nap)
    assert got.attempts == 2 and got.data == wav


def test_gives_up_after_the_last_attempt_and_says_it_may_pass(twilio: FakeTwilio, nap: Nap,
                                                              sleeps: list[float]) -> None:
    url = twilio.queue(twilio.processing())

    with pytest.raises(FetchFailed) as caught:
        fetch_recording(url, **twilio.credentials(), sleep=nap)

    assert caught.value.attempts == 5
    assert caught.value.status == 404
    assert caught.value.retryable
    assert len(twilio.hits()) == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # no useless wait after the last attempt


def test_unreachable_host_fails_with_no_status(nap: Nap) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}"

    with pytest.raises(FetchFailed) as caught:
        fetch_recording(url, **CREDS, attempts=2, sleep=nap)

    assert caught.value.status is None
    assert caught.value.attempts == 2
    assert caught.value.retryable


# -- not retried -------------------------------------------------------------------------------------


def test_401_without_credentials_says_what_to_configure(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    with pytest.raises(FetchFailed) as caught:
        fetch_recording(twilio.add(wav), hosts=twilio.hosts, sleep=nap)

    assert caught.value.status == 401
    assert not caught.value.retryable
    assert caught.value.attempts == 1 and len(twilio.hits()) == 1
    assert "TWILIO_ACCOUNT_SID" in str(caught.value)


def test_401_with_wrong_token_is_not_retried(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    with pytest.raises(FetchFailed, match="refused the credentials") as caught:
        fetch_recording(twilio.add(wav), account_sid=twilio.account_sid, auth_token="wrong", hosts=twilio.hosts,
                        sleep=nap)
    assert caught.value.status == 401 and len(twilio.hits()) == 1
    assert "wrong" not in str(caught.value)  # the token never appears in an error


@pytest.mark.parametrize("status", [400, 403, 405, 410])
def test_other_client_errors_are_not_retried(twilio: FakeTwilio, wav: bytes, nap: Nap, status: int) -> None:
    url = twilio.add(wav, twilio.reply(status, b"{}"))
    with pytest.raises(FetchFailed) as caught:
        fetch_recording(url, **twilio.credentials(), sleep=nap)
    assert caught.value.status == status and not caught.value.retryable
    assert len(twilio.hits()) == 1


def test_refuses_a_download_larger_than_allowed(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    with pytest.raises(FetchFailed, match="allowed") as caught:
        fetch_recording(twilio.add(wav), **twilio.credentials(), max_bytes=1000, sleep=nap)
    assert not caught.value.retryable and len(twilio.hits()) == 1


def test_refuses_an_oversized_body_without_content_length(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav, twilio.reply(200, wav * 3, {"Content-Type": "audio/x-wav"}, send_length=False))
    with pytest.raises(FetchFailed, match="allowed"):
        fetch_recording(url, **twilio.credentials(), max_bytes=len(wav) * 2, sleep=nap)


def test_never_sends_credentials_in_clear_text_off_this_machine(nap: Nap) -> None:
    url = f"http://api.twilio.invalid/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}"
    with pytest.raises(FetchFailed, match="plain http") as caught:
        fetch_recording(url, **CREDS, sleep=nap)
    assert caught.value.attempts == 0


def test_credentials_do_not_follow_a_redirect_to_another_host(twilio: FakeTwilio, wav: bytes) -> None:
    cdn = twilio.base.replace("127.0.0.1", "localhost") + f"/media/{SID}.wav"
    url = twilio.add(wav, twilio.reply(302, b"", {"Location": cdn}))

    assert fetch_recording(url, **{**twilio.credentials(), "hosts": ("127.0.0.1", "localhost")}).data == wav

    api, media = twilio.hits()
    assert api.authorization == twilio.expected_authorization()
    assert media.path == f"/media/{SID}.wav" and media.authorization is None


def test_refuses_a_redirect_off_the_media_hosts(twilio: FakeTwilio, wav: bytes) -> None:
    elsewhere = twilio.base.replace("127.0.0.1", "localhost") + f"/media/{SID}.wav"
    url = twilio.add(wav, twilio.reply(302, b"", {"Location": elsewhere}))

    with pytest.raises(FetchFailed, match="not a Twilio media host") as caught:
        fetch_recording(url, **twilio.credentials())  # hosts: 127.0.0.1 only

    assert not caught.value.retryable
    assert [hit.path for hit in twilio.hits()] == [f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}.wav"]


def test_fetches_nothing_and_sends_no_credentials_off_the_media_hosts(twilio: FakeTwilio, wav: bytes) -> None:
    url = twilio.add(wav)  # a signed webhook may name any URL: here one on this machine, not Twilio's

    for hosts in (("api.twilio.com",), ("localhost",), ("127.0.0.1:1",)):
        with pytest.raises(FetchFailed, match="not a Twilio media host") as caught:
            fetch_recording(url, **{**twilio.credentials(), "hosts": hosts})
        assert caught.value.attempts == 0 and not caught.value.retryable
        with pytest.raises(DeleteFailed, match="not a Twilio media host"):
            delete_remote_recording(url, twilio.account_sid, twilio.auth_token, hosts=hosts)
    assert twilio.seen == []
    port = twilio.base.rsplit(":", 1)[1]
    assert fetch_recording(url, **{**twilio.credentials(), "hosts": (f"127.0.0.1:{port}",)}).data == wav


# -- delete ------------------------------------------------------------------------------------------


def test_deletes_twilios_copy_once(twilio: FakeTwilio, wav: bytes, nap: Nap) -> None:
    url = twilio.add(wav)

    assert delete_remote_recording(url, twilio.account_sid, twilio.auth_token, hosts=twilio.hosts) is True
    # already gone: safe to repeat
    assert delete_remote_recording(url, twilio.account_sid, twilio.auth_token, hosts=twilio.hosts) is False

    first = twilio.hits("DELETE")[0]
    assert first.path.endswith(f"/Recordings/{SID}.json")
    assert first.authorization == twilio.expected_authorization()
    with pytest.raises(FetchFailed) as caught:
        fetch_recording(url, **twilio.credentials(), attempts=1, sleep=nap)
    assert caught.value.status == 404


def test_delete_with_wrong_credentials_fails_clearly(twilio: FakeTwilio, wav: bytes) -> None:
    url = twilio.add(wav)
    with pytest.raises(DeleteFailed) as caught:
        delete_remote_recording(url, twilio.account_sid, "wrong", hosts=twilio.hosts)
    assert caught.value.status == 401
    assert SID in twilio.recordings


def test_delete_needs_credentials(twilio: FakeTwilio, wav: bytes) -> None:
    with pytest.raises(DeleteFailed, match="TWILIO_ACCOUNT_SID"):
        delete_remote_recording(twilio.add(wav), "", "", hosts=twilio.hosts)
    assert twilio.seen == []
