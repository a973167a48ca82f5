"""Fixtures for answer delivery: Twilio's Calls resource on a local server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.delivery.fake_twilio import FakeTwilio

HOTLINE_NUMBER = "+6793300000"
CALLER_NUMBER = "+6799990000"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake
