"""Pieces of benchmarks/webhooks.py's load phase: the backlog as /health reports it, and RQ workers.

After many callers at a human pace, transcription is behind (callers come first); the benchmark reads
the backlog from the server's /health as an operator would, then times how long it takes to drain.
With --redis it runs the production shape: the web app enqueues on RQ and `hotline worker`
processes on this machine do the jobs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.5


def read_backlog(base_url: str) -> dict[str, Any] | None:
    """Return /health's transcription backlog (None if the server does not say)."""
    try:
        body = requests.get(f"{base_url}/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return None
    backlog = body.get("transcription_backlog")
    return backlog if isinstance(backlog, dict) else None


def wait_drained(base_url: str, limit: float, deadline: float) -> tuple[float | None, dict[str, Any] | None]:
    """Wait until /health says nothing waits to be transcribed; return (seconds waited or None, peak backlog)."""
    start = time.monotonic()
    stop = min(start + limit, deadline)
    peak: dict[str, Any] | None = None
    while time.monotonic() < stop:
        backlog = read_backlog(base_url)
        if backlog is not None:
            if peak is None or backlog["audio_seconds"] > peak["audio_seconds"]:
                peak = backlog
            if backlog["messages"] == 0:
                return round(time.monotonic() - start, 1), peak
        time.sleep(POLL_SECONDS)
    return None, peak


def flush_redis(url: str) -> None:
    """Empty the benchmark's own Redis database (the URL names it; default db 14)."""
    from redis import Redis

    Redis.from_url(url).flushdb()


def children(pid: int) -> list[int]:
    """List the processes pid started, from every thread's children file (a thread may start one)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue  # the thread ended meanwhile
    return found


def descendants(pid: int) -> list[int]:
    """List every process below pid."""
    found: list[int] = []
    for child in children(pid):
        found.append(child)
        try:
            found.extend(descendants(child))
        except OSError:
            pass  # the child ended meanwhile
    return found


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0  # ended between listing and reading
    return int(fields[11]) + int(fields[12])  # utime, stime


@dataclass
class RQWorkers:
    """`hotline worker` processes, each in its own process group, logging to files."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @classmethod
    def start(cls, count: int, env: dict[str, str], log_dir: Path) -> RQWorkers:
        workers = cls()
        hotline = str(Path(sys.executable).parent / "hotline")
        for n in range(count):
            log = log_dir / f"rq-worker-{n}.log"
            with log.open("wb") as out:
                workers.procs.append(subprocess.Popen([hotline, "worker", "--name", f"bench-{os.getpid()}-{n}"],
                                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                                      start_new_session=True))
            workers.logs.append(log)
        return workers

    def cpu_seconds(self) -> float:
        """CPU time of the workers and every process below them (RQ forks a work horse per job)."""
        ticks = 0
        for proc in self.procs:
            try:
                pids = [proc.pid, *descendants(proc.pid)]
            except OSError:
                continue
            ticks += sum(cpu_ticks(pid) for pid in pids)
        return ticks / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.poll() is not None:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                raise RuntimeError(f"a hotline worker exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # a work horse left behind
            except ProcessLookupError:
                pass
