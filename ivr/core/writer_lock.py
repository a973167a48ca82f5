"""One writer at a time on a SQLite file, queued in the kernel instead of in SQLite's busy handler.

SQLite lets one connection write at a time; the others poll for its lock, sleeping up to 100 ms
between tries, so under a burst of webhooks from two gunicorn processes a write could wait most of
a second while the file stood idle between the sleeps (measured: p99 850 ms at 10 concurrent
calls, benchmarks/webhooks.py). Each connection here takes an exclusive flock(2) on
`<database>.writer` before the first statement that writes and drops it after the commit or
rollback: a waiting writer sleeps in the kernel and wakes the moment the lock is free.

A thread that already holds the lock through one connection and writes through a second does not
wait for itself: that second connection falls back on SQLite's own busy timeout, as before.

Within a process, writers first queue on a threading lock of that database file, so at most one
thread per process waits on the flock: when a hundred callers' webhooks write at once, each release
wakes one waiting thread instead of every thread of both processes, and they run in turn.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from typing import Any

# Statements that start (or join) a write transaction; SELECT and PRAGMA reads never wait.
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "BEGIN", "CREATE", "DROP", "ALTER")

_holding: dict[int, int] = {}  # thread id -> how many of its connections hold a writer lock
_holding_lock = threading.Lock()
_turns: dict[str, threading.Lock] = {}  # lock file -> this process's queue for it
_lockers: weakref.WeakSet[Any] = weakref.WeakSet()  # connections of this process holding a lock now


def _turn(path: str) -> threading.Lock:
    with _holding_lock:
        return _turns.setdefault(path, threading.Lock())


def _after_fork() -> None:
    """A forked child (RQ's work horse) starts with fresh locks: a parent's thread may have held one.

    The child's copy of a held lock's descriptor is closed too: while it stayed open, the parent's
    release would not free the flock, and the child would wait for itself forever.
    """
    global _holding_lock
    _holding_lock = threading.Lock()
    _holding.clear()
    _turns.clear()
    for conn in list(_lockers):
        fd, conn._lock_fd, conn._turn = conn._lock_fd, None, None
        if fd is not None:
            os.close(fd)
    _lockers.clear()


os.register_at_fork(after_in_child=_after_fork)


def lock_path(database_path: str) -> str:
    """Return the lock file beside a SQLite database file."""
    return database_path + ".writer"


def connection_class(database_path: str) -> type[sqlite3.Connection]:
    """Return a sqlite3.Connection class whose writers share a lock file beside `database_path`."""
    if not database_path or database_path == ":memory:" or database_path.startswith("file:"):
        return sqlite3.Connection  # a memory database has one connection: nothing to queue
    path = lock_path(database_path)

    class LockedConnection(sqlite3.Connection):
        _lock_fd: int | None = None
        _lock_thread = 0
        _turn: threading.Lock | None = None

        def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
            return super().cursor(LockedCursor)

        # sqlite3's shortcuts run their statement in C, past LockedCursor: send them through a cursor.
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            return self.cursor().execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
            return self.cursor().executemany(sql, *args)

        def executescript(self, script: str) -> sqlite3.Cursor:
            return self.cursor().executescript(script)

        def take_lock(self, sql: str) -> None:
            """Wait for the writer lock before a statement that writes, unless this connection has it."""
            if self._lock_fd is not None or not sql.lstrip()[:9].upper().startswith(WRITES):
                return
            me = threading.get_ident()
            with _holding_lock:
                if _holding.get(me):
                    return  # this thread writes through another connection already: never wait for ourselves
            turn = _turn(path)
            turn.acquire()  # this process's writers one at a time; released in drop_lock
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
                except BaseException:
                    os.close(fd)
                    raise
            except BaseException:
                turn.release()
                raise
            self._lock_fd, self._lock_thread, self._turn = fd, me, turn
            with _holding_lock:
                _holding[me] = _holding.get(me, 0) + 1
                _lockers.add(self)

        def drop_lock(self, *, force: bool = False) -> None:
            """Let the next writer in once this connection's transaction has ended."""
            if self._lock_fd is None or (not force and self.in_transaction):
                return
            fd, turn, self._lock_fd, self._turn = self._lock_fd, self._turn, None, None
            with _holding_lock:  # the thread that took it: a pool may close the connection from another
                left = _holding.get(self._lock_thread, 1) - 1
                if left > 0:
                    _holding[self._lock_thread] = left
                else:
                    _holding.pop(self._lock_thread, None)
                _lockers.discard(self)
            try:
                os.close(fd)  # closing the only descriptor of the open file releases its flock
            finally:
                if turn is not None and turn.locked():
                    turn.release()  # a plain Lock: the pool may close the connection from another thread

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.drop_lock()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.drop_lock()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.drop_lock(force=True)

    class LockedCursor(sqlite3.Cursor):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            self.connection.take_lock(sql)  # type: ignore[attr-defined]
            try:
                return super().execute(sql, *args)
            finally:
                self.connection.drop_lock()  # type: ignore[attr-defined]  # only if it committed itself

        def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            self.connection.take_lock(sql)  # type: ignore[attr-defined]
            try:
                return super().executemany(sql, *args)
            finally:
                self.connection.drop_lock()  # type: ignore[attr-defined]

        def executescript(self, script: str) -> sqlite3.Cursor:
            self.connection.take_lock("BEGIN")  # type: ignore[attr-defined]
            try:
                return super().executescript(script)
            finally:
                self.connection.drop_lock()  # type: ignore[attr-defined]

    return LockedConnection
