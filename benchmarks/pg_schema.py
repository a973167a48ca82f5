"""A throwaway PostgreSQL schema for a benchmark run: created, handed out as a URL, always dropped."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from ivr.core.db import forget_databases


def schema_url(base: str, schema: str) -> str:
    """Return the base URL with its search_path set to one schema."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def bench_schema(base: str, prefix: str) -> Iterator[str]:
    """Create a schema of this run's own, yield its URL, and drop it whatever happens."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(base, schema)
    finally:
        forget_databases()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
