"""Bring one caller's recording from Twilio into our store, exactly once.

This is what the worker's ingest job calls. It is idempotent: a recording already stored is
returned without touching the network, so the job can be retried, or enqueued twice, safely.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

import requests

from .audio import MAX_SECONDS, inspect_audio
from .fetch import MAX_DOWNLOAD_BYTES, TWILIO_MEDIA_HOSTS, Sleep, fetch_recording
from .store import RecordingStore, StoredAudio, check_sid

log = logging.getLogger(__name__)


def fetch_and_store(url: str, sid: str, store: RecordingStore, *, account_sid: str = "",
                    auth_token: str = "", attempts: int = 5, backoff: float = 0.5, timeout: float = 30,
                    session: requests.Session | None = None, max_bytes: int = MAX_DOWNLOAD_BYTES,
                    max_seconds: float = MAX_SECONDS, sleep: Sleep = time.sleep,
                    hosts: Collection[str] = TWILIO_MEDIA_HOSTS) -> StoredAudio:
    """Return the stored recording sid, downloading, checking and storing it first if needed.

    Raises FetchFailed (download), AudioUnreadable (the bytes are not usable audio: nothing is
    stored, so Twilio's copy must stay) or StoreError (the store refused or failed).
    """
    check_sid(sid)
    if store.exists(sid):
        log.info("recording %s already stored; not fetched again", sid)
        return store.info(sid)
    fetched = fetch_recording(url, account_sid=account_sid, auth_token=auth_token, attempts=attempts,
                              backoff=backoff, timeout=timeout, session=session, max_bytes=max_bytes,
                              sleep=sleep, hosts=hosts)
    info = inspect_audio(fetched.data, max_seconds=max_seconds)
    stored = store.put(sid, fetched.data, suffix=info.suffix)
    log.info("ingested recording %s: %s %d Hz, %.1f s", sid, info.format, info.sample_rate, info.duration)
    return stored
