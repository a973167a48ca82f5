"""`hotline worker`: one process that loads the speech models once, then works jobs from Redis.

Why a SimpleWorker (jobs run in this process) rather than RQ's default fork per job: the models are
hundreds of megabytes and take seconds to load. Loaded once here, every job shares them; a forked
child would inherit them too, but would also inherit open database connections and pay a fork per
job. A crash of this process loses nothing: the job goes back through RQ's abandoned-job handling
or the SQL sweeper, and a transcript is written at most once.
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler

from ivr.core import runtime
from ivr.core.config import Config

log = logging.getLogger(__name__)


def preload(config: Config, languages: list[str]) -> list[str]:
    """Load each language's engine now, so the first job does not pay for it."""
    from speech.registry import engine_for

    loaded = []
    for lang in languages:
        engine = engine_for(lang, config.vosk_models_dir)
        if engine is not None:
            loaded.append(f"{lang}: {engine.name} ({engine.model})")
    return loaded


def sweep_forever(config: Config, every: float, stop: threading.Event) -> None:
    """Re-enqueue stuck messages every `every` seconds (the periodic part of `hotline jobs recover`)."""
    from worker.jobs import recover

    while not stop.wait(every):
        try:
            queued = recover()
            if queued:
                log.info("sweeper re-enqueued %d job(s)", len(queued))
        except Exception:  # the sweeper must outlive a Redis or database hiccup
            log.exception("sweeper run failed")


REDIS_DOWN_MAX_WAIT = 30.0
"""Longest pause between two looks at a Redis that does not answer."""


def wait_for_redis(conn: Redis, stop: threading.Event | None = None) -> None:
    """Return once Redis answers a PING, looking again with backoff; say so in the log, once each way."""
    kwargs = conn.connection_pool.connection_kwargs
    where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"  # never the password
    delay, waited = 0.25, False
    while stop is None or not stop.is_set():
        try:
            conn.ping()
        except RedisError as exc:
            if not waited:
                log.warning("waiting for Redis at %s (%s): jobs start once it answers", where, type(exc).__name__)
                waited = True
            time.sleep(delay)
            delay = min(delay * 2, REDIS_DOWN_MAX_WAIT)
            continue
        if waited:
            log.info("Redis at %s answers again", where)
        return


def schedule_forever(queue: Queue, stop: threading.Event, interval: int = 1) -> None:
    """Move due scheduled jobs (delayed calls) onto the queue, on a thread of this worker.

    RQ's own scheduler runs in a forked child: killed with -9, the worker cannot stop it, and the orphan
    keeps the scheduler lock; when Redis goes away it dies and is not started again for ten minutes. A
    thread dies with its worker, and this loop outlives a Redis outage. The lock still lets one worker
    of many schedule; another takes over within a minute of its death (the lock's time to live).
    """
    # Whole seconds: RQ passes interval + 60 to EXPIRE, which takes an integer.
    scheduler = RQScheduler([queue], connection=queue.connection, interval=interval)
    beats = 0
    while True:  # a beat at once, then every interval: a burst worker schedules what is due before it works
        try:
            if not scheduler.acquired_locks and beats % 15 == 0:
                scheduler.acquire_locks()
            if scheduler.acquired_locks:
                scheduler.heartbeat()
                scheduler.enqueue_scheduled_jobs()
        except RedisError as exc:  # Redis away: the next beat tries again
            log.debug("scheduler beat failed (%s)", exc)
        beats += 1
        if stop.wait(interval):
            break
    try:
        scheduler.release_locks()
    except RedisError:
        pass


def run_worker(config: Config, languages: list[str], *, burst: bool = False, sweep_every: float = 60.0,
               name: str | None = None) -> bool:
    """Start a worker on the default queue; return when told to stop (or when empty, with burst).

    Redis going away does not end the worker: it waits for Redis (with backoff), works again, and sweeps
    at once so a step queued while Redis was away (a transcript's routing) does not wait for the next sweep.
    """
    from worker.rq_jobs import rq_queue

    runtime.set_config(config)
    queue = rq_queue(config)
    wait_for_redis(queue.connection)
    started = time.perf_counter()
    for line in preload(config, languages):
        log.info("speech model ready: %s", line)
    log.info("models loaded in %.1f s", time.perf_counter() - started)
    stop = threading.Event()
    sweeper = None
    if sweep_every > 0 and not burst:
        sweeper = threading.Thread(target=sweep_forever, args=(config, sweep_every, stop), daemon=True)
        sweeper.start()
    threading.Thread(target=schedule_forever, args=(queue, stop), name="scheduler", daemon=True).start()
    try:
        while True:
            try:
                worker = SimpleWorker([queue], connection=queue.connection, name=name)
                return bool(worker.work(burst=burst, with_scheduler=False, logging_level=config.log_level.upper()))
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("Redis went away (%s); reconnecting", type(exc).__name__)
                wait_for_redis(queue.connection)
                _sweep_now()
                name = None  # the old name may still be registered until its key expires
    finally:
        stop.set()


def _sweep_now() -> None:
    from worker.jobs import recover

    try:
        queued = recover(older_than_seconds=0)
        if queued:
            log.info("after reconnecting, re-enqueued %d job(s)", len(queued))
    except Exception:  # the periodic sweeper tries again
        log.exception("sweep after reconnecting failed")
