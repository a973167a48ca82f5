"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ivr.core.db import alembic_config, database_for
from ivr.core.models import Base


def test_migrations_match_models(database_url: str) -> None:
    db = database_for(database_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(sqlite_url: str) -> None:
    db = database_for(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), "base")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name='messages'").fetchall() == []
    db.upgrade()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name='transcripts'").fetchall()
