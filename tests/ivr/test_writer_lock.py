"""SQLite writers queue on a lock file beside the database, held from the first write to the commit."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from ivr.core.db import database_for
from ivr.core.models import Caller
from ivr.core.writer_lock import connection_class, lock_path

ROOT = Path(__file__).resolve().parents[2]


def lock_is_free(database: Path) -> bool:
    """Try the writer lock from a descriptor of our own, without waiting."""
    fd = os.open(lock_path(str(database)), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also releases it when we got it
    return True


def test_a_write_holds_the_lock_until_commit_and_a_read_never_takes_it(sqlite_url: str) -> None:
    database = Path(sqlite_url.split("///", 1)[1])
    db = database_for(sqlite_url)
    with db.session() as session:
        session.scalar(select(Caller.id))
        assert lock_is_free(database)  # reading waits for nobody and blocks nobody
        session.add(Caller(number_hash="a" * 64))
        session.flush()
        assert not lock_is_free(database)
    assert lock_is_free(database)
    with pytest.raises(RuntimeError), db.session() as session:
        session.add(Caller(number_hash="b" * 64))
        session.flush()
        assert not lock_is_free(database)
        raise RuntimeError("roll back")
    assert lock_is_free(database)
    with db.session() as session:
        assert [c.number_hash for c in session.scalars(select(Caller))] == ["a" * 64]


def test_writers_in_two_processes_and_many_threads_lose_nothing(sqlite_url: str, tmp_path: Path) -> None:
    db = database_for(sqlite_url)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    script = tmp_path / "bump.py"
    script.write_text(
        "import sys, threading\n"
        "from sqlalchemy import text\n"
        "from ivr.core.db import database_for\n"
        "db = database_for(sys.argv[1])\n"
        "def bump():\n"
        "    for _ in range(40):\n"
        "        with db.session() as s:\n"  # two writes per transaction, each process and thread at once
        "            s.execute(text('UPDATE counter SET n = n + 1'))\n"
        "            s.execute(text('UPDATE counter SET n = n + 1'))\n"
        "threads = [threading.Thread(target=bump) for _ in range(4)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
    )
    procs = [subprocess.Popen([sys.executable, str(script), sqlite_url], cwd=ROOT, stderr=subprocess.PIPE)
             for _ in range(2)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 2 * 4 * 40 * 2


def test_a_second_connection_of_the_same_thread_does_not_wait_for_the_first(tmp_path: Path) -> None:
    """It falls back on SQLite's busy timeout (an error), instead of waiting for itself for ever."""
    path = str(tmp_path / "one.sqlite3")
    factory = connection_class(path)
    first = sqlite3.connect(path, timeout=0.2, factory=factory)
    second = sqlite3.connect(path, timeout=0.2, factory=factory)
    first.execute("CREATE TABLE t (x INTEGER)")
    first.commit()
    first.execute("INSERT INTO t VALUES (1)")  # first holds the writer lock and SQLite's
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.commit()
    second.rollback()
    second.execute("INSERT INTO t VALUES (3)")
    second.commit()
    assert [r[0] for r in first.execute("SELECT x FROM t ORDER BY x")] == [1, 3]
    first.close()
    second.close()


def test_a_waiting_writer_of_another_thread_goes_on_once_the_first_commits(tmp_path: Path) -> None:
    path = str(tmp_path / "two.sqlite3")
    factory = connection_class(path)
    first = sqlite3.connect(path, factory=factory, check_same_thread=False)
    first.execute("CREATE TABLE t (x INTEGER)")
    first.commit()
    first.execute("INSERT INTO t VALUES (1)")
    started, finished = threading.Event(), threading.Event()

    def write() -> None:
        conn = sqlite3.connect(path, factory=factory)
        started.set()
        conn.execute("INSERT INTO t VALUES (2)")
        conn.commit()
        conn.close()
        finished.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert started.wait(5)
    assert not finished.wait(0.3)  # queued behind the open write transaction
    first.commit()
    assert finished.wait(10)
    thread.join()
    assert sorted(r[0] for r in first.execute("SELECT x FROM t")) == [1, 2]
    first.close()


def _write_in_forked_child(database: str, out: Any) -> None:
    conn = sqlite3.connect(database, factory=connection_class(database), isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('from the child')")
    conn.close()
    out.send("written")


def test_a_child_forked_while_a_thread_holds_the_lock_writes_once_that_thread_lets_go(tmp_path: Path) -> None:
    """A fork copies the holder's descriptor: the child closes its copy, or the parent's release frees nothing."""
    database = str(tmp_path / "forked.sqlite3")
    holder = sqlite3.connect(database, factory=connection_class(database), check_same_thread=False)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        holder.take_lock("INSERT")  # type: ignore[attr-defined]  # what a first write does
        holding.set()
        release.wait(30)
        holder.commit()  # ends the (empty) transaction and lets the next writer in

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_write_in_forked_child, args=(database, send))
        child.start()
        assert not receive.poll(1.0)  # the child waits its turn...
        release.set()
        assert receive.poll(20), "the child never wrote: its copy of the parent's descriptor kept the lock"
        assert receive.recv() == "written"
        child.join(10)
        assert child.exitcode == 0
    finally:
        release.set()
        thread.join(10)
        holder.close()
    assert lock_is_free(Path(database))
