"""Bring one caller's recording from Twilio into our store, exactly once.

This is what the worker's ingest job calls. It is idempotent: a recording already stored is
returned without touching the network, so the job can be retried, or enqueued twice, safely.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Collection

import requests

from .audio import MAX_SECONDS, inspect_audio
from .errors import StoreError
from .fetch import MAX_DOWNLOAD_BYTES, TWILIO_MEDIA_HOSTS, Sleep, fetch_recording
from .store import RecordingStore, StoredAudio, check_sid

log = logging.getLogger(__name__)

HELD_MAX_BYTES = 64 * 1024 * 1024
"""Most audio kept in memory for recordings downloaded but not stored (the store failed)."""


class _Held:
    """Downloads this process holds because the store refused them, oldest dropped first past the cap."""

    def __init__(self, max_bytes: int = HELD_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def hold(self, sid: str, data: bytes) -> None:
        with self._lock:
            self._data[sid] = data
            while sum(len(d) for d in self._data.values()) > self.max_bytes and len(self._data) > 1:
                self._data.popitem(last=False)

    def take(self, sid: str) -> bytes | None:
        with self._lock:
            return self._data.pop(sid, None)


_held = _Held()


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
    data = _held.take(sid)
    if data is None:
        data = fetch_recording(url, account_sid=account_sid, auth_token=auth_token, attempts=attempts,
                               backoff=backoff, timeout=timeout, session=session, max_bytes=max_bytes,
                               sleep=sleep, hosts=hosts).data
    else:
        log.info("recording %s: storing the copy held since the store failed; not fetched again", sid)
    info = inspect_audio(data, max_seconds=max_seconds)
    try:
        stored = store.put(sid, data, suffix=info.suffix)
    except StoreError:
        _held.hold(sid, data)  # a full or read-only disk: the retry stores these bytes, it does not fetch again
        raise
    log.info("ingested recording %s: %s %d Hz, %.1f s", sid, info.format, info.sample_rate, info.duration)
    return stored
