"""The REST client places calls as Twilio documents, against a local server that answers the same way."""

from __future__ import annotations

import pytest

from ivr.voice.twilio_rest import STATUS_EVENTS, CallRequest, TwilioRest, TwilioRestError
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.delivery.conftest import CALLER_NUMBER, HOTLINE_NUMBER
from tests.delivery.fake_twilio import FakeTwilio, TwilioFault

REQUEST = CallRequest(to=CALLER_NUMBER, from_=HOTLINE_NUMBER, url="https://hotline.example.org/voice/outbound?delivery=1",
                      status_callback="https://hotline.example.org/voice/outbound-status?delivery=1", timeout=25)


def test_creates_a_call_with_every_documented_field(twilio: FakeTwilio) -> None:
    placed = TwilioRest(twilio.base_url, ACCOUNT_SID, AUTH_TOKEN).create_call(REQUEST)
    assert placed.sid.startswith("CA") and placed.status == "queued"
    [post] = twilio.posts
    assert post.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json" and post.authorised
    assert post.one("To") == CALLER_NUMBER and post.one("From") == HOTLINE_NUMBER
    assert post.one("Url") == REQUEST.url and post.one("Method") == "POST"
    assert post.one("StatusCallback") == REQUEST.status_callback and post.one("StatusCallbackMethod") == "POST"
    assert post.form["StatusCallbackEvent"] == list(STATUS_EVENTS)
    assert post.one("Timeout") == "25"
    assert post.sid == placed.sid


def test_wrong_credentials_are_not_retried(twilio: FakeTwilio) -> None:
    with pytest.raises(TwilioRestError) as caught:
        TwilioRest(twilio.base_url, ACCOUNT_SID, "wrong-token").create_call(REQUEST)
    assert caught.value.status == 401 and caught.value.code == 20003 and not caught.value.retryable
    assert twilio.created() == []


def test_missing_to_gets_twilios_error(twilio: FakeTwilio) -> None:
    request = CallRequest(to="", from_=HOTLINE_NUMBER, url=REQUEST.url, status_callback=REQUEST.status_callback)
    with pytest.raises(TwilioRestError) as caught:
        TwilioRest(twilio.base_url, ACCOUNT_SID, AUTH_TOKEN).create_call(request)
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (400, 21201, False)
    assert "No 'To' number" in str(caught.value)


def test_server_errors_and_rate_limits_are_retryable(twilio: FakeTwilio) -> None:
    twilio.faults += [TwilioFault(503, 20500, "Internal Server Error"), TwilioFault(429, 20429, "Too Many Requests")]
    client = TwilioRest(twilio.base_url, ACCOUNT_SID, AUTH_TOKEN)
    for status in (503, 429):
        with pytest.raises(TwilioRestError) as caught:
            client.create_call(REQUEST)
        assert caught.value.status == status and caught.value.retryable
    assert client.create_call(REQUEST).status == "queued"


def test_unreachable_twilio_is_retryable() -> None:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as gone:
        base = gone.base_url
    with pytest.raises(TwilioRestError) as caught:
        TwilioRest(base, ACCOUNT_SID, AUTH_TOKEN, timeout_seconds=2).create_call(REQUEST)
    assert caught.value.retryable and caught.value.status is None


def test_no_credentials_refuses_before_any_request(twilio: FakeTwilio) -> None:
    with pytest.raises(TwilioRestError) as caught:
        TwilioRest(twilio.base_url, "", "").create_call(REQUEST)
    assert not caught.value.retryable and twilio.posts == []
