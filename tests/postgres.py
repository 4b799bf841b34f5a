"""A PostgreSQL schema of a test's own, so tests running side by side (pytest -n) on the one test
database never see each other's rows: `own_schema(url)` yields a URL whose connections use a new
schema, dropped afterwards. The database's owner may create schemas; no other right is needed."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store import Store

POSTGRES_URL = os.environ.get("WHOCREATED_TEST_POSTGRES_URL")


@contextlib.contextmanager
def own_schema(url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        own = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={name}"})
        yield own.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        engine.dispose()


@contextlib.contextmanager
def postgres_or_skip() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("WHOCREATED_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL)")
    with own_schema(POSTGRES_URL) as url:
        yield url


@contextlib.contextmanager
def store_on(kind: str, sqlite_file: Path) -> Iterator[Store]:
    """A store on disk, "sqlite" or "postgresql" (a schema of its own, skipped without a server):
    each thread reaches it on a connection of its own, unlike the in-memory one."""
    if kind == "sqlite":
        yield Store.open(f"sqlite:///{sqlite_file}")
        return
    with postgres_or_skip() as url:
        opened = Store.open(url)
        assert opened.warning is None
        yield opened
        opened.engine.dispose()
