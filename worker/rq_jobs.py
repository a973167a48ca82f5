"""Look after RQ's own records of jobs: which are alive, which died with their worker."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.worker import BaseWorker

from ivr.core.config import Config
from ivr.core.queue import RQQueue

ALIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def rq_queue(config: Config) -> Queue:
    return RQQueue(config).queue


def clear_dead_job(config: Config, job_id: str) -> bool:
    """Delete a job record that will never run again, so the same id can be enqueued afresh.

    A job is dead when it finished, failed, was stopped or cancelled, or is 'started' by a worker
    that no longer exists (killed with -9, machine lost). Queued or running jobs are left alone.
    """
    queue = rq_queue(config)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=True)
    if status in ALIVE:
        return False
    if status == JobStatus.STARTED:
        if any(w.name == job.worker_name and worker_alive(w) for w in Worker.all(connection=queue.connection)):
            return False
        try:
            StartedJobRegistry(queue=queue).remove_executions(job)
        except ValueError:
            # "Execution … not found in Redis": the dead worker's execution expired (minutes after it died)
            # while the job still names it. Nothing is left to unregister but that stale index.
            queue.connection.delete(job.execution_registry.key)
    FailedJobRegistry(queue=queue).remove(job, delete_job=False)
    job.delete()
    return True


def worker_alive(worker: BaseWorker, silent_for: float = 120.0) -> bool:
    """Tell whether a registered worker still lives: its process on this host, else a recent heartbeat.

    A worker killed with -9 stays registered until its key expires (minutes); the pid check sees
    through that on this machine, the heartbeat age on others.
    """
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    beat = worker.last_heartbeat
    if beat is None:
        return True
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return (datetime.now(UTC) - beat).total_seconds() < silent_for


def failed_jobs(config: Config) -> list[Job]:
    queue = rq_queue(config)
    registry = FailedJobRegistry(queue=queue)
    jobs = [Job.fetch(jid, connection=queue.connection) for jid in registry.get_job_ids()]
    return [j for j in jobs if j is not None]


def retry_failed(config: Config, job_id: str | None = None) -> list[str]:
    """Put failed jobs back on the queue (one, or all)."""
    queue = rq_queue(config)
    registry = FailedJobRegistry(queue=queue)
    ids = [job_id] if job_id else registry.get_job_ids()
    done = []
    for jid in ids:
        try:
            registry.requeue(jid)
            done.append(jid)
        except (NoSuchJobError, InvalidJobOperation):  # gone meanwhile, or not failed: nothing to retry
            pass
    return done
