"""Enqueue a job by name to run later: RQ's scheduler with Redis, a timer thread on the inline queue.

The retries of outbound calls are spaced by minutes and pushed past quiet hours, so they cannot use
a job's own retry backoff. The time a call is due is stored in SQL first (Delivery.next_attempt_at),
so a timer lost with its process, or a Redis flushed meanwhile, is found again by the sweeper.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from ivr.core.models import utcnow
from ivr.core.queue import InlineQueue, JobQueue, RQQueue

log = logging.getLogger(__name__)

_timers: dict[str, threading.Timer] = {}
_timers_lock = threading.Lock()


def enqueue_at(queue: JobQueue, when: datetime, func: str, *args: Any, job_id: str,
               now: datetime | None = None) -> bool:
    """Queue `func(*args)` to start at `when` (naive UTC); at once when `when` has passed.

    Returns False when a job of that id is already waiting. `now` (naive UTC) is the clock the
    delay is measured from; it defaults to the real one.
    """
    delay = (when - (now or utcnow())).total_seconds()
    if delay <= 0:
        return queue.enqueue(func, *args, job_id=job_id)
    if isinstance(queue, RQQueue):
        return _rq_enqueue_at(queue, when, func, args, job_id)
    if isinstance(queue, InlineQueue):
        return _timer_enqueue(queue, delay, func, args, job_id)
    raise TypeError(f"cannot schedule on {type(queue).__name__}")


def _rq_enqueue_at(queue: RQQueue, when: datetime, func: str, args: tuple[Any, ...], job_id: str) -> bool:
    from redis.exceptions import RedisError
    from rq.exceptions import DuplicateJobError

    try:
        # Aware UTC: RQ reads a naive datetime as the machine's local time.
        queue.queue.enqueue_at(when.replace(tzinfo=UTC), func, *args, job_id=job_id, unique=True,
                               result_ttl=86400, failure_ttl=30 * 86400)
    except DuplicateJobError:
        return False
    except RedisError as exc:
        # The due time is in SQL: the sweeper (worker.callback.recover_calls) places the call later.
        log.warning("could not schedule %s (Redis unavailable: %s); the sweeper will", job_id, type(exc).__name__)
        return False
    return True


def _timer_enqueue(queue: InlineQueue, delay: float, func: str, args: tuple[Any, ...], job_id: str) -> bool:
    with _timers_lock:
        if job_id in _timers and _timers[job_id].is_alive():
            return False
        timer = threading.Timer(delay, _fire, args=(queue, func, args, job_id))
        timer.daemon = True  # a timer must not keep a stopping process alive; SQL remembers the due time
        _timers[job_id] = timer
        timer.start()
    return True


def _fire(queue: InlineQueue, func: str, args: tuple[Any, ...], job_id: str) -> None:
    with _timers_lock:
        _timers.pop(job_id, None)
    queue.enqueue(func, *args, job_id=job_id)


def waiting_timers() -> list[str]:
    """List the job ids waiting on inline timers in this process (for `hotline jobs` and tests)."""
    with _timers_lock:
        return sorted(jid for jid, timer in _timers.items() if timer.is_alive())


def cancel_timers() -> None:
    """Stop every inline timer of this process (tests, shutdown): their calls stay due in SQL."""
    with _timers_lock:
        for timer in _timers.values():
            timer.cancel()
        _timers.clear()
