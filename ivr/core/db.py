"""Connect to the database and run migrations.

One Database per URL per process, so the web app, the inline queue thread and job functions share a
connection pool instead of opening their own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from ivr.core import writer_lock
from ivr.core.live_calls import live_calls

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_open_sessions = threading.local()  # .depth: sessions this thread has open through Database.session


class Database:
    """An engine and a session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                if url.startswith("sqlite:///") and "?" not in path:
                    _owner_only(Path(path))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30,
                                      "factory": writer_lock.connection_class(path)}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "checkin", _durable_again)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success and rolls back on any error.

        On a background thread of the inline queue, an outermost session first waits for a gap
        between live calls' webhooks (ivr/core/live_calls.py); one opened inside another never waits.
        """
        depth = getattr(_open_sessions, "depth", 0)
        if depth == 0:
            live_calls.pause()
        _open_sessions.depth = depth + 1
        try:
            with self.sessionmaker() as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            _open_sessions.depth = depth

    def light_writes(self, session: Session) -> None:
        """Let this session's next commit return without waiting for the disk: for bookkeeping only.

        Call it before the transaction's first write. Such a commit may be lost in a power cut (never
        half-applied), and the next durable commit makes it durable too: SQLite's WAL is synced whole
        (synchronous=NORMAL for this transaction, FULL again when the connection goes back to the pool);
        PostgreSQL flushes its WAL in order (synchronous_commit off for this transaction only). Every other
        commit waits for the disk, above all the one that keeps a caller's message before they hear its
        reference. With many callers, this saves a disk flush per bookkeeping write, during which every
        other writer of a SQLite file waits.
        """
        dbapi = session.connection().connection.dbapi_connection
        if self.url.startswith("sqlite"):
            if dbapi is not None and not dbapi.in_transaction:  # the level cannot change inside a transaction
                dbapi.execute("PRAGMA synchronous=NORMAL")
                _light_connections.add(id(dbapi))
        elif self.url.startswith("postgresql"):
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to the given Alembic revision."""
        command.upgrade(alembic_config(self.url), revision)

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_insert(dialect: str) -> Callable[..., Any]:
    """Return the INSERT construct of a dialect that knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def _owner_only(path: Path) -> None:
    """Create the SQLite file (and tighten its WAL and shared-memory files) readable by its owner alone.

    It holds callers' encrypted numbers, transcripts and officials' password hashes; SQLite gives the WAL
    the main file's mode, so creating the main file 0600 first keeps the WAL private too.
    """
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(0o600)
        except FileNotFoundError:
            continue


_light_connections: set[int] = set()  # SQLite connections whose next commit skips the sync (light_writes)


def _durable_again(dbapi_conn: Any, _record: Any) -> None:
    """Back in the pool, a connection of light_writes syncs every commit again."""
    if id(dbapi_conn) in _light_connections:
        _light_connections.discard(id(dbapi_conn))
        dbapi_conn.execute("PRAGMA synchronous=FULL")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the inline worker thread write while web requests read; foreign keys are off by default.
    # FULL: a commit is on the disk when it returns (in WAL mode SQLite's default may be NORMAL).
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def alembic_config(url: str) -> AlembicConfig:
    """Point Alembic at our migrations and the given database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_lock = threading.Lock()
_databases: dict[str, Database] = {}


def database_for(url: str) -> Database:
    """Return this process's shared Database for a URL."""
    with _lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = Database(url)
        return db


def forget_databases() -> None:
    """Close every shared engine (tests, and after a fork in a worker)."""
    with _lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()
