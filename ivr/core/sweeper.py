"""Bring stuck work through on a one-machine install: the inline queue's periodic sweeper.

With Redis, every `hotline worker` runs the sweeper. Without it there is no worker process, so the
web process does: every HOTLINE_INLINE_SWEEP_SECONDS it puts the sweeper job (worker.jobs.recover,
named as a string: ivr never imports worker code) on its own inline queue. A message left half-done
when the web process was killed is thus finished after a restart without anyone typing
`hotline jobs recover`. The job id is fixed, so a slow round is never queued twice.
"""

from __future__ import annotations

import logging
import threading

from ivr.core.config import Config
from ivr.core.queue import make_queue

log = logging.getLogger(__name__)
SWEEP_JOB = "worker.jobs.recover"
SWEEP_JOB_ID = "inline-sweep"


def start_sweeper(config: Config, every: float) -> threading.Event:
    """Queue the sweeper job every `every` seconds on this process's inline queue; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            make_queue(config).enqueue(SWEEP_JOB, job_id=SWEEP_JOB_ID)

    threading.Thread(target=loop, name="inline-sweeper", daemon=True).start()
    log.info("inline sweeper every %.0f s", every)
    return stop
