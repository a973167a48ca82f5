"""Fixtures the edge drills share with other folders: the local Twilio REST API, real Redis and workers."""

from __future__ import annotations

from tests.delivery.conftest import twilio  # noqa: F401 - the local Twilio REST API
from tests.worker.conftest import own_redis, redis_url, workers  # noqa: F401 - real Redis and `hotline worker`
