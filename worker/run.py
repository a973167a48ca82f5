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

from rq import SimpleWorker

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


def run_worker(config: Config, languages: list[str], *, burst: bool = False, sweep_every: float = 60.0,
               name: str | None = None) -> bool:
    """Start a worker on the default queue; return when told to stop (or when empty, with burst)."""
    from worker.rq_jobs import rq_queue

    runtime.set_config(config)
    started = time.perf_counter()
    for line in preload(config, languages):
        log.info("speech model ready: %s", line)
    log.info("models loaded in %.1f s", time.perf_counter() - started)
    queue = rq_queue(config)
    stop = threading.Event()
    sweeper = None
    if sweep_every > 0 and not burst:
        sweeper = threading.Thread(target=sweep_forever, args=(config, sweep_every, stop), daemon=True)
        sweeper.start()
    try:
        worker = SimpleWorker([queue], connection=queue.connection, name=name)
        return bool(worker.work(burst=burst, with_scheduler=True, logging_level=config.log_level.upper()))
    finally:
        stop.set()
