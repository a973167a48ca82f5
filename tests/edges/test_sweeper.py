"""The sweeper treats each job on its own: a dead worker's stale job record does not abort the run."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import JobStatus

from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message, Recording, utcnow
from ivr.core.runtime import set_config
from tests.conftest import make_config
from tests.worker.conftest import config_env
from worker.jobs import sweep

pytestmark = [pytest.mark.redis]


def stuck_messages(config: Config, n: int) -> list[str]:
    """Store n messages whose ingest job was lost ten minutes ago; return their ingest job ids."""
    long_ago = utcnow() - timedelta(minutes=10)
    sids = []
    with database_for(config.database_url).session() as s:
        for i in range(n):
            sid = f"RE{i:032x}"
            message = Message(reference=f"1000000{i}", language="en", consent="anonymous", pipeline="received",
                              pipeline_at=long_ago, recording_sid=sid)
            s.add(message)
            s.flush()
            s.add(Recording(recording_sid=sid, call_sid=f"CA{i:032x}", message_id=message.id,
                            url=f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{sid}"))
            sids.append(f"ingest-{sid}")
    return sids


def ghost(conn: redis.Redis, job_id: str) -> None:
    """Leave a job 'started' by a worker killed with -9 whose execution record has since expired."""
    queue = Queue("default", connection=conn)
    job = queue.enqueue_call("worker.jobs.ingest_recording", args=(1,), job_id=job_id)
    queue.remove(job)
    job.set_status(JobStatus.STARTED)
    job.worker_name = "killed-worker"
    job.save()
    conn.zadd(job.execution_registry.key, {"expired-execution": time.time() + 60})


def test_a_dead_workers_job_is_requeued_and_does_not_stop_the_others(tmp_path: Path, sqlite_url: str,
                                                                      redis_url: str) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=redis_url)
    set_config(config)
    jobs = stuck_messages(config, 3)
    conn = redis.Redis.from_url(redis_url)
    ghost(conn, jobs[0])
    conn.set(f"rq:job:{jobs[1]}", "not a job hash")  # a job record broken some other way

    run = sweep()  # today: ValueError "Execution … not found in Redis", nothing after it is queued

    assert run.queued == [jobs[0], jobs[2]]
    assert len(run.problems) == 1 and jobs[1] in run.problems[0]


def test_jobs_recover_reports_what_it_could_not_do_and_exits_0(tmp_path: Path, sqlite_url: str,
                                                               redis_url: str) -> None:
    config = make_config(tmp_path, sqlite_url, redis_url=redis_url)
    jobs = stuck_messages(config, 2)
    conn = redis.Redis.from_url(redis_url)
    conn.set(f"rq:job:{jobs[0]}", "not a job hash")
    hotline = [str(Path(sys.executable).parent / "hotline")]
    done = subprocess.run([*hotline, "jobs", "recover"], env=config_env(config), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"re-enqueued 1 job(s): {jobs[1]}" in done.stdout
    assert f"could not: requeue {jobs[0]}" in done.stderr
    conn.set(f"rq:job:{jobs[1]}", "not a job hash either")
    failed = subprocess.run([*hotline, "jobs", "recover"], env=config_env(config), capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 1 and "nothing could be done" in failed.stderr
