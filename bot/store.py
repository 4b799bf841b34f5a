"""Durable state in SQLAlchemy Core tables: the creators cache (and later nudges, keeps, audit).

SQLite by default, PostgreSQL for several replicas. A store that cannot be opened for writing is a
warning and an in-memory store, never a crash: lookups still answer, they just are not remembered.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bot.core.events import Actor, CreationFact

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

# Names are reused after deletion, so a fact is keyed by where it lives, what it is, and when it
# was created: a bucket deleted and made again by someone else is a second row, not an overwrite.
creation_facts = sa.Table(
    "creation_facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partition", sa.String(32), nullable=False),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("resource_type", sa.String(128), nullable=False),
    sa.Column("resource_id", sa.String(2048), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fact", sa.Text, nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint(
        "partition", "account", "region", "resource_type", "resource_id", "created_at"
    ),
)
sa.Index("creation_facts_by_id", creation_facts.c.resource_id)


def default_database_url(environ: dict[str, str] | None = None) -> str:
    """SQLite in the XDG state folder: `$XDG_STATE_HOME/whocreated/`, else ~/.local/state/."""
    env = os.environ if environ is None else environ
    base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return f"sqlite:///{base / 'whocreated' / 'whocreated.sqlite3'}"


class Store:
    def __init__(self, engine: sa.Engine, *, warning: str | None = None) -> None:
        self.engine = engine
        self.warning = warning  # set when the configured store could not be used

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        url = url or default_database_url()
        try:
            engine = _engine(url)
            metadata.create_all(engine)
            return cls(engine)
        except (SQLAlchemyError, OSError) as error:
            message = (
                f"the store at {_redacted(url)} cannot be used ({type(error).__name__}); "
                "answers will not be remembered after this process ends"
            )
            logger.warning(message)
            return cls.in_memory(warning=message)

    @classmethod
    def in_memory(cls, *, warning: str | None = None) -> Store:
        engine = _engine("sqlite://")
        metadata.create_all(engine)
        return cls(engine, warning=warning)

    def put_fact(
        self, *, partition: str, account: str, region: str, resource_type: str, fact: CreationFact
    ) -> None:
        row = {
            "partition": partition,
            "account": account,
            "region": region,
            "resource_type": resource_type,
            "resource_id": fact.resource_id,
            "created_at": fact.event_time,
            "fact": json.dumps(fact_to_dict(fact)),
            "stored_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(creation_facts.insert().values(**row))
        except IntegrityError:
            pass  # the same fact was stored by another replica or an earlier lookup
        except SQLAlchemyError:
            logger.exception("could not cache the creation of %s", fact.resource_id)

    def find_facts(
        self,
        resource_ids: Sequence[str],
        *,
        partition: str = "aws",
        account: str | None = None,
        region: str | None = None,
    ) -> list[CreationFact]:
        """Cached facts for any of these ids, newest creation first."""
        table = creation_facts
        query = (
            sa.select(table.c.fact)
            .where(table.c.resource_id.in_(list(resource_ids)))
            .where(table.c.partition == partition)
            .order_by(table.c.created_at.desc())
        )
        if account:
            query = query.where(table.c.account == account)
        if region:
            query = query.where(table.c.region == region)
        try:
            with self.engine.connect() as conn:
                return [fact_from_dict(json.loads(row.fact)) for row in conn.execute(query)]
        except SQLAlchemyError:
            logger.exception("could not read the creators cache")
            return []


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            return sa.create_engine(url, connect_args={"check_same_thread": False})
        return sa.create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    return sa.create_engine(url, pool_pre_ping=True)


def _redacted(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured DATABASE_URL"


def fact_to_dict(fact: CreationFact) -> dict[str, Any]:
    data = asdict(fact)
    data["event_time"] = fact.event_time.isoformat()
    data["record"] = dict(fact.record)
    return data


def fact_from_dict(data: dict[str, Any]) -> CreationFact:
    return CreationFact(
        **{
            **data,
            "actor": Actor(**data["actor"]),
            "created": tuple(data["created"]),
            "related": tuple(data["related"]),
            "event_time": datetime.fromisoformat(data["event_time"]),
        }
    )
