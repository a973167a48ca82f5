"""Enqueue background jobs by dotted name: on RQ when REDIS_URL is set, else on an inline thread.

The web app never imports worker code (it names jobs as strings), and both queues run the same job
functions with the same retries, so the default one-machine setup behaves like production.
"""

from __future__ import annotations

import importlib
import logging
import queue as stdlib_queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ivr.core.config import Config
from ivr.core.live_calls import DEFER_SECONDS, live_calls

log = logging.getLogger(__name__)


def backoff(config: Config) -> list[float]:
    """Return the waits between attempts: base, 3 x base, 9 x base ... each capped at 10 minutes."""
    return [min(config.retry_base_seconds * 3**i, 600.0) for i in range(config.job_retries)]


def resolve(name: str) -> Callable[..., Any]:
    """Import a job function from its dotted name."""
    module, _, attr = name.rpartition(".")
    func = getattr(importlib.import_module(module), attr)
    if not callable(func):
        raise TypeError(f"{name} is not callable")
    return func


class JobQueue(Protocol):
    def enqueue(self, func: str, *args: Any, job_id: str) -> bool:
        """Queue a job; return False when it was already queued or could not be queued now."""
        ...


@dataclass
class FailedJob:
    job_id: str
    func: str
    args: tuple[Any, ...]
    error: str
    failed_at: float = field(default_factory=time.time)


class InlineQueue:
    """Run jobs on one background thread of this process, retrying with the same backoff as RQ.

    Each job waits for a gap between the webhooks of live calls first (ivr/core/live_calls.py), at most
    `defer` seconds after it was queued. A failed job waits for its retry on a timer, off the thread: one
    unfetchable recording must not hold every other job of the process behind its backoff.
    """

    def __init__(self, config: Config, delays: list[float] | None = None, defer: float = DEFER_SECONDS) -> None:
        self.config = config
        self.defer = defer
        self.delays: list[float] = list(delays) if delays is not None else backoff(config)
        self._jobs: stdlib_queue.Queue[tuple[str, str, tuple[Any, ...], float, int]] = stdlib_queue.Queue()
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.failed: list[FailedJob] = []
        self.done = 0

    def enqueue(self, func: str, *args: Any, job_id: str) -> bool:
        with self._lock:
            if job_id in self._pending:
                return False
            self._pending.add(job_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inline-queue", daemon=True)
                self._thread.start()
        self._jobs.put((job_id, func, args, time.monotonic(), 0))
        return True

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until every queued job has finished (tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        from ivr.core import runtime

        runtime.set_config(self.config)
        while True:
            job_id, func, args, queued_at, attempt = self._jobs.get()
            retrying = False
            try:
                with live_calls.background(until=queued_at + self.defer):  # callers first
                    live_calls.pause()
                    retrying = self._attempt(job_id, func, args, attempt)
            finally:
                if not retrying:
                    with self._lock:
                        self._pending.discard(job_id)
                self._jobs.task_done()

    def _attempt(self, job_id: str, func: str, args: tuple[Any, ...], attempt: int) -> bool:
        """Run a job once; on failure schedule its retry on a timer and say so (True), or record it failed."""
        try:
            resolve(func)(*args)
            self.done += 1
            return False
        except Exception as exc:  # a failed job must not kill the thread; it is retried, then recorded
            log.warning("job %s attempt %d failed: %s", job_id, attempt + 1, type(exc).__name__)
            if attempt < len(self.delays):
                timer = threading.Timer(self.delays[attempt], self._retry, args=(job_id, func, args, attempt + 1))
                timer.daemon = True  # a stopping process does not wait for it: SQL keeps the work for the sweeper
                timer.start()
                return True
            log.exception("job %s failed for good", job_id)
            self.failed.append(FailedJob(job_id, func, args, f"{type(exc).__name__}: {exc}"))
            return False

    def _retry(self, job_id: str, func: str, args: tuple[Any, ...], attempt: int) -> None:
        self._jobs.put((job_id, func, args, time.monotonic(), attempt))


class RQQueue:
    """Put jobs on RQ; a job id already known to Redis is not enqueued twice."""

    def __init__(self, config: Config, name: str = "default") -> None:
        from redis import Redis
        from rq import Queue

        self.config = config
        self.redis = Redis.from_url(config.redis_url, socket_connect_timeout=1, socket_timeout=2)
        self.queue = Queue(name, connection=self.redis)

    def enqueue(self, func: str, *args: Any, job_id: str) -> bool:
        from redis.exceptions import RedisError
        from rq import Retry
        from rq.exceptions import DuplicateJobError

        # RQ counts whole seconds; a sub-second base (tests) still waits at least one.
        waits = [max(1, round(w)) for w in backoff(self.config)]
        retry = Retry(max=self.config.job_retries, interval=waits) if self.config.job_retries else None
        try:
            self.queue.enqueue_call(func, args=args, job_id=job_id, retry=retry, unique=True,
                                    result_ttl=86400, failure_ttl=30 * 86400)
        except DuplicateJobError:
            return False
        except RedisError as exc:
            # The work is recorded in SQL first, so the sweeper (hotline jobs recover) enqueues it later.
            log.warning("could not enqueue %s (Redis unavailable: %s); the sweeper will retry", job_id,
                        type(exc).__name__)
            return False
        return True


_shared: dict[Config, JobQueue] = {}
_shared_lock = threading.Lock()


def make_queue(config: Config) -> JobQueue:
    """Return this process's queue for a config: one inline thread (or one Redis client) shared by all."""
    with _shared_lock:
        queue = _shared.get(config)
        if queue is None:
            queue = _shared[config] = RQQueue(config) if config.redis_url else InlineQueue(config)
        return queue
