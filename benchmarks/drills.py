"""Fault drills: place real calls while workers, Redis and the database are killed and the disk fills up.

Everything runs on 127.0.0.1 with throwaway data: a redis-server of its own (killed by PID, started again
on the same port), `hotline worker` processes (killed with -9 and replaced), a PostgreSQL schema of its
own whose connections are cut with pg_terminate_backend (other users of that server are never touched;
without PostgreSQL the drill runs on SQLite and says the database part was skipped), a small tmpfs as the
recordings store that is filled to the last byte (root only; else skipped), and keep webhooks sent twice
at the same instant. Calls go through the phone emulator, signed as Twilio signs them.

At the end it prints, per call placed: whether a message exists (else lost), whether its recording was
stored and transcribed, duplicates (more than one message for one recording, or an orphan message), and
messages not routed when the run settles (stuck).

    .venv/bin/python benchmarks/drills.py --quick      # 12 calls, 3 worker kills, 2 Redis kills: ~3 min
    .venv/bin/python benchmarks/drills.py              # 40 calls, 10 worker kills, 5 Redis kills
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, fields
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr import create_app  # noqa: E402
from ivr.core.config import SETTINGS, Config  # noqa: E402
from ivr.core.db import database_for, forget_databases  # noqa: E402
from ivr.core.models import Call, Message, Recording, Transcript  # noqa: E402
from ivr.core.runtime import set_config  # noqa: E402
from ivr.voice.emulator import FlaskTransport, Heard, Phone, Script  # noqa: E402
from ivr.voice.media_host import MediaHost  # noqa: E402

AUDIO = ROOT.parent / "shared" / "audio" / "dev"
AUTH_TOKEN = "drill-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "d1" * 16
BASE_URL = "https://hotline.example.org"
REPORT = ["1", "1", "1", "5", "1", "REC", "1"]
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisOfOurOwn:
    """A redis-server on a free port, killed by PID and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None


class KeepReached(Exception):
    """The caller is at "press 1 to keep": the drill sends that key itself, twice at once."""


class StopAtKeep:
    """A caller who reports a problem and stops at "press 1 to keep": the drill then keys 1 twice at once."""

    def __init__(self, audio: bytes) -> None:
        self.keys_left = ["1", "1", "1", "5", "1"]
        self.audio: bytes | None = audio
        self.keep_url = ""

    def keys(self, heard: list[Heard], gather: ET.Element) -> str | None:
        if self.audio is None:
            self.keep_url = gather.get("action", "")
            raise KeepReached
        return self.keys_left.pop(0)

    def record(self, heard: list[Heard]) -> bytes | None:
        audio, self.audio = self.audio, None
        return audio


@dataclass
class Tally:
    placed: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    operator_recovered: int = 0
    disk_full_seen: dict[str, int] = field(default_factory=dict)


class Drill:
    """One run: services up, calls placed under faults, figures counted, everything stopped and removed."""

    def __init__(self, calls: int, worker_kills: int, redis_kills: int, seed: int) -> None:
        self.calls, self.worker_kills, self.redis_kills = calls, worker_kills, redis_kills
        self.random = random.Random(seed)
        self.tmp = Path(tempfile.mkdtemp(prefix="hotline-drill-"))
        self.redis = RedisOfOurOwn()
        self.workers: list[subprocess.Popen[bytes]] = []
        self.tally = Tally()
        self.schema = f"hotline_drill_{uuid.uuid4().hex[:8]}"
        self.app_name = self.schema  # our connections, and only ours, are cut by this name
        self.mounted = False
        self.wavs = [p.read_bytes() for p in sorted(AUDIO.glob("*.wav"))[:8]]

    # -- set-up and tear-down ------------------------------------------------------------------------

    def database_url(self) -> str:
        try:
            admin = create_engine(POSTGRES)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
        except Exception as exc:  # no PostgreSQL: the drill runs on SQLite
            self.tally.skipped.append(f"database restart (PostgreSQL not answering: {type(exc).__name__})")
            self.schema = ""
            return f"sqlite:///{self.tmp / 'hotline.sqlite3'}"
        sep = "&" if "?" in POSTGRES else "?"
        return f"{POSTGRES}{sep}application_name={self.app_name}&options=-csearch_path%3D{self.schema}"

    def __enter__(self) -> Drill:
        self.redis.start()
        url = self.database_url()
        data = self.tmp / "data"
        (data / "recordings").mkdir(parents=True)
        if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs",
                                                 str(data / "recordings")], capture_output=True).returncode == 0:
            self.mounted = True
        else:
            self.tally.skipped.append("full disk (mounting a small tmpfs needs root)")
        self.config = Config(secret_key="drill-secret", pepper="drill-pepper", twilio_auth_token=AUTH_TOKEN,
                             public_base_url=BASE_URL, twilio_account_sid=ACCOUNT_SID, data_dir=data,
                             database_url=url, redis_url=self.redis.url, twilio_media_hosts="127.0.0.1",
                             stuck_after_seconds=20, retry_base_seconds=1.0, job_retries=4, gtts_enabled=False,
                             prompts_queue_missing=False, log_level="WARNING")
        database_for(url).upgrade()
        self.media = MediaHost(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
        self.app = create_app(self.config)
        self.phone = Phone(FlaskTransport(self.app.test_client()), AUTH_TOKEN, BASE_URL, self.media)
        for _ in range(2):
            self.start_worker()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self.redis.kill()
        self.media.stop()
        forget_databases()
        if self.schema:
            admin = create_engine(POSTGRES)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.config.data_dir / "recordings")], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_", "DATABASE_", "REDIS_"))}
        names = {f.name for f in fields(Config)}
        for s in SETTINGS:
            value = getattr(self.config, s.attr) if s.attr in names else None
            if value is not None:
                env[s.env] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        env["HOTLINE_ENV_FILE"] = "/nonexistent"
        return env

    def start_worker(self) -> None:
        exe = Path(sys.executable).parent / "hotline"
        log = (self.tmp / f"worker-{len(self.workers)}.log").open("wb")
        self.workers.append(subprocess.Popen([str(exe), "worker", "--languages", "en", "--sweep-every", "5"],
                                             env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True))

    # -- faults ------------------------------------------------------------------------------------

    def kill_a_worker(self) -> None:
        alive = [p for p in self.workers if p.poll() is None]
        if alive:
            victim = self.random.choice(alive)
            os.kill(victim.pid, signal.SIGKILL)  # the worker alone: nothing of it may outlive it
            victim.wait(timeout=10)
        self.start_worker()
        self.tally.faults.append("worker -9")

    def kill_redis(self) -> None:
        self.redis.kill()
        time.sleep(self.random.uniform(1.0, 3.0))
        self.redis.start()
        self.tally.faults.append("redis -9")

    def restart_database(self) -> None:
        if not self.schema:
            return
        admin = create_engine(POSTGRES)
        with admin.begin() as conn:
            cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                               {"name": self.app_name}).scalar()
        admin.dispose()
        self.tally.faults.append(f"database connections cut ({cut})")

    def chaos(self, stop: threading.Event, every: float) -> None:
        plan = ["worker"] * self.worker_kills + ["redis"] * self.redis_kills + ["db"]
        self.random.shuffle(plan)
        for fault in plan:
            if stop.wait(every):
                return
            {"worker": self.kill_a_worker, "redis": self.kill_redis, "db": self.restart_database}[fault]()

    # -- calls -------------------------------------------------------------------------------------

    def place(self, n: int, duplicate_keep: bool) -> None:
        wav = self.wavs[n % len(self.wavs)]
        phone = Phone(self.phone.transport, AUTH_TOKEN, BASE_URL, self.media, from_number=f"+6797{n:06d}",
                      recording_callback="twice" if n % 3 == 0 else "after")
        try:
            if not duplicate_keep:
                log = phone.call(Script(list(REPORT), [wav]))
                self.tally.placed.append(log.call_sid)
                return
            caller = StopAtKeep(wav)
            sid = f"CA{uuid.uuid4().hex}"
            try:
                phone.call(caller, call_sid=sid)
            except KeepReached:
                pass
            form = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": phone.from_number, "To": phone.to_number,
                    "CallStatus": "in-progress", "Direction": "inbound", "Digits": "1"}
            barrier = threading.Barrier(2)

            def keep() -> None:
                client = self.app.test_client()
                barrier.wait()
                client.post(caller.keep_url.removeprefix(BASE_URL), data=form, headers=phone.sign(caller.keep_url,
                                                                                                  form))
            threads = [threading.Thread(target=keep) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            end = {**form, "CallStatus": "completed", "CallDuration": "60"}
            end.pop("Digits")
            phone.transport.post(f"{BASE_URL}/voice/status", end, phone.sign(f"{BASE_URL}/voice/status", end))
            self.tally.placed.append(sid)
        except Exception as exc:  # a call that failed is reported, the drill goes on
            print(f"call {n} failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def wait_for_disk_full(self, timeout: float) -> dict[str, int]:
        """Return what /health says about messages once a full disk shows there (or after `timeout`)."""
        deadline = time.monotonic() + timeout
        problems: dict[str, int] = {}
        while time.monotonic() < deadline:
            problems = self.app.test_client().get("/health").get_json()["message_problems"]
            if "failed: disk full" in problems:
                break
            time.sleep(0.5)
        return problems

    def fill_disk(self) -> Path:
        filler = self.config.data_dir / "recordings" / ".drill-filler"
        with filler.open("wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        return filler

    def run(self, pace: float) -> None:
        stop = threading.Event()
        chaos = threading.Thread(target=self.chaos, args=(stop, pace * 2), daemon=True)
        chaos.start()
        disk_at = self.calls // 2
        filler: Path | None = None
        for n in range(self.calls):
            if self.mounted and n == disk_at:
                filler = self.fill_disk()
                self.tally.faults.append("disk full")
            if filler is not None and n == disk_at + 2:
                self.tally.disk_full_seen = self.wait_for_disk_full(30)  # /health names it; then space is freed
                filler.unlink()
                filler = None
            self.place(n, duplicate_keep=n % 4 == 1)
            time.sleep(pace)
        chaos.join()
        stop.set()

    # -- figures -----------------------------------------------------------------------------------

    def settle(self, timeout: float) -> None:
        """Wait until every message is routed (or the time is up); retry failed ones as an operator would."""
        from worker.jobs import sweep

        set_config(self.config)
        deadline = time.monotonic() + timeout
        last_operator = time.monotonic()
        while time.monotonic() < deadline:
            if not [m for m in self.unrouted()]:
                return
            if time.monotonic() - last_operator > 30:  # `hotline jobs recover --failed`, as the operator would
                self.tally.operator_recovered += len(sweep(0, include_failed=True).queued)
                last_operator = time.monotonic()
            time.sleep(1)

    def unrouted(self) -> list[int]:
        with database_for(self.config.database_url).session() as s:
            return list(s.scalars(select(Message.id).where(Message.pipeline != "routed")))

    def figures(self) -> dict[str, int]:
        with database_for(self.config.database_url).session() as s:
            per_call = dict(s.execute(select(Call.call_sid, func.count(Message.id)).join(
                Message, Message.call_id == Call.id).group_by(Call.call_sid)).all())
            recordings = s.execute(select(Recording.message_id, Recording.stored_path)).all()
            transcribed = s.scalar(select(func.count()).select_from(Transcript)) or 0
            orphans = s.scalar(select(func.count()).select_from(Message).where(
                ~Message.id.in_(select(Recording.message_id).where(Recording.message_id.is_not(None))))) or 0
        placed = self.tally.placed
        return {"placed": len(placed),
                "stored": sum(1 for m, path in recordings if m is not None and path),
                "transcribed": int(transcribed),
                "lost": sum(1 for sid in placed if per_call.get(sid, 0) == 0),
                "duplicated": sum(max(0, per_call.get(sid, 0) - 1) for sid in placed) + int(orphans),
                "stuck": len(self.unrouted())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="12 calls, 3 worker kills, 2 Redis kills")
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    calls = args.calls or (12 if args.quick else 40)
    kills = (3, 2) if args.quick else (10, 5)
    started = time.monotonic()
    with Drill(calls, *kills, seed=args.seed) as drill:
        drill.run(pace=2.0 if args.quick else 1.5)
        drill.settle(timeout=240 if args.quick else 600)
        figures = drill.figures()
        tally = drill.tally
    print(f"faults: {', '.join(tally.faults)}")
    for skipped in tally.skipped:
        print(f"skipped: {skipped}")
    if "disk full" in tally.faults:
        print(f"/health during the full disk: message_problems {tally.disk_full_seen}")
    if tally.operator_recovered:
        print(f"operator's `hotline jobs recover --failed` re-queued {tally.operator_recovered} job(s)")
    print(" / ".join(f"{k} {v}" for k, v in figures.items()) + f"   ({time.monotonic() - started:.0f} s)")
    raise SystemExit(0 if figures["lost"] == 0 and figures["duplicated"] == 0 and figures["stuck"] == 0 else 1)


if __name__ == "__main__":
    main()
