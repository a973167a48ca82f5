"""Count the voice webhooks in flight in this process, so background work can wait for a gap.

Without Redis the inline queue runs jobs (fetching recordings, the transcription's parent side,
routing, notifications) on threads of the web process, where they share the cores and Python's
lock with the webhooks of live calls. Callers come first: before each job the inline queue waits
until no webhook has been in flight for GAP_SECONDS, but never more than DEFER_SECONDS after the
job was queued, so under steady traffic background work runs late, never not at all.
"""

from __future__ import annotations

import threading
import time

GAP_SECONDS = 0.05  # a quiet moment this long between webhooks lets a job start
DEFER_SECONDS = 10.0  # the longest a queued job waits for such a moment


class LiveCalls:
    """Webhooks in flight, and when the last one ended."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._in_flight = 0
        self._last_end = float("-inf")

    def begin(self) -> None:
        with self._changed:
            self._in_flight += 1

    def end(self) -> None:
        with self._changed:
            self._in_flight = max(0, self._in_flight - 1)
            self._last_end = time.monotonic()
            self._changed.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

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
