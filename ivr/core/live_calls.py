"""Count the voice webhooks in flight in this process, so background work can wait for a gap.

Without Redis the inline queue runs jobs (fetching recordings, the transcription's parent side,
routing, notifications) on threads of the web process, where they share the cores and Python's
lock with the webhooks of live calls. Callers come first: before each job the inline queue waits
until no webhook has been in flight for GAP_SECONDS, but never more than DEFER_SECONDS after the
job was queued, so under steady traffic background work runs late, never not at all.

A job is several pieces of work (a fetch, then a few database sessions): while the inline queue
runs one it marks its thread as background, and each outermost database session the job opens
(ivr/core/db.py) waits for a gap again, within the same deadline. A session opened inside another
never waits: the outer one may hold locks a webhook needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

GAP_SECONDS = 0.05  # a quiet moment this long between webhooks lets a job start
DEFER_SECONDS = 10.0  # the longest a queued job waits for such a moment


class LiveCalls:
    """Webhooks in flight, and when the last one ended."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._in_flight = 0
        self._last_end = float("-inf")
        self._background = threading.local()  # .until: this thread runs background work until then

    def begin(self) -> None:
        with self._changed:
            self._in_flight += 1

    def end(self) -> None:
        with self._changed:
            self._in_flight = max(0, self._in_flight - 1)
            self._last_end = time.monotonic()
            self._changed.notify_all()

    @contextmanager
    def webhook(self) -> Iterator[None]:
        """Count one webhook in flight for the duration of the block."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextmanager
    def background(self, until: float) -> Iterator[None]:
        """Mark this thread's work as background: pause() waits for a gap until the monotonic time `until`."""
        outer = getattr(self._background, "until", None)
        self._background.until = until
        try:
            yield
        finally:
            self._background.until = outer

    def pause(self) -> float:
        """On a thread marked background, wait for a gap between webhooks (at most until its deadline).

        Elsewhere (a webhook, a worker process, a command) return at once. Returns the wait.
        """
        until = getattr(self._background, "until", None)
        return 0.0 if until is None else self.wait_for_gap(until)

    def wait_for_gap(self, until: float, gap: float = GAP_SECONDS) -> float:
        """Wait until no webhook has run for `gap` seconds, or until the monotonic time `until`; return the wait."""
        start = time.monotonic()
        with self._changed:
            while True:
                now = time.monotonic()
                if now >= until:
                    break
                quiet_for = now - self._last_end
                if self._in_flight == 0 and quiet_for >= gap:
                    break
                timeout = until - now if self._in_flight else min(gap - quiet_for, until - now)
                self._changed.wait(timeout)
        return time.monotonic() - start


live_calls = LiveCalls()
