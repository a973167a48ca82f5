"""Callers first at the disk: a webhook's bookkeeping commits without a flush, a kept message never does.

Each commit during a real emulated call is observed as the database applies it (SQLite's synchronous
level, PostgreSQL's synchronous_commit) and attributed to the webhook that made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g, has_request_context, request
from sqlalchemy import event

from ivr.core.services import services
from ivr.voice.emulator import Phone, Script

DURABLE = {"sqlite": "2", "postgresql": "on"}  # FULL: the commit returns once the WAL is on the disk
LIGHT = {"sqlite": "1", "postgresql": "off"}  # NORMAL / off: a power cut may lose it, never half of it


def sync_level(conn: Any) -> str:
    sql = "PRAGMA synchronous" if conn.dialect.name == "sqlite" else "SHOW synchronous_commit"
    return str(conn.exec_driver_sql(sql).scalar())


@pytest.fixture
def commits(app: Flask) -> Iterator[list[tuple[str, bool, str]]]:
    """Every commit while the test runs: (webhook path, whether it kept a message, its sync level)."""
    engine = services(app).db.engine
    seen: list[tuple[str, bool, str]] = []

    def on_statement(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if has_request_context() and statement.lstrip().upper().startswith("INSERT INTO MESSAGES"):
            g.kept_message = True

    def on_commit(conn: Any) -> None:
        if has_request_context():
            seen.append((request.path, bool(g.get("kept_message")), sync_level(conn)))

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "commit", on_commit)
    event.remove(engine, "before_cursor_execute", on_statement)


def test_a_report_call_flushes_only_what_must_survive(app: Flask, phone: Phone, speech_wav: bytes,
                                                      commits: list[tuple[str, bool, str]]) -> None:
    log = phone.call(Script(["1", "1", "1", "5", "1", "REC", "1"], [speech_wav]))
    assert log.hung_up
    dialect = services(app).db.engine.dialect.name
    kept = [level for path, keeps, level in commits if keeps]
    assert kept == [DURABLE[dialect]], commits  # the caller hears the reference only after this flush
    incoming = [level for path, _, level in commits if path == "/voice/incoming"]
    language = [level for path, keeps, level in commits if path == "/voice/step" and not keeps]
    assert incoming and set(incoming) == {LIGHT[dialect]}, commits
    assert language and set(language) == {LIGHT[dialect]}, commits  # the language the caller chose
    # The end-of-call callback may keep an unconfirmed message: it always flushes.
    assert {level for path, _, level in commits if path == "/voice/status"} == {DURABLE[dialect]}
    # A connection back in the pool flushes again: the next session, whoever opens it, is durable.
    with services(app).db.session() as session:
        assert sync_level(session.connection()) == DURABLE[dialect]
