"""Bring a store's schema up to date, and prove it can be written, before anything uses it.

`metadata.create_all` makes missing tables (with their indexes) but never changes a table that
exists, so what later versions added to an existing table is added here: each step checks what is
there first and is safe to run again; so is copying what an older version kept in another place
(a finished slot, once kept only in its lease's row). On PostgreSQL the whole preparation holds
an advisory lock, so replicas starting together do not race to create the same table or index.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from bot.schema import (
    ONE_OPEN_NUDGE,
    OPEN_STATUSES,
    digests_table,
    finished_slots,
    leases,
    metadata,
    nudges,
)

logger = logging.getLogger(__name__)

_ADVISORY_LOCK = 0x77686F63  # "whoc": any constant the replicas share
# Columns added to existing tables since their first release (nullable, typed as in bot.schema).
_ADDED_COLUMNS = (
    (nudges, "digest_id"),
    (digests_table, "failure"),
    (digests_table, "failed_at"),
)


def prepare(engine: sa.Engine) -> None:
    """Create or update the schema, then write once: a store that is locked, read-only or corrupt
    fails here, at start, rather than at the first keep or decision."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        metadata.create_all(conn)
        for table, column in _ADDED_COLUMNS:
            _add_column(conn, table, column)
        _one_open_nudge_per_resource(conn)
        _slot_records(conn)
        # A write that changes nothing still takes SQLite's write lock (and PostgreSQL's checks).
        conn.execute(leases.delete().where(leases.c.name == "store-write-check"))


def _add_column(conn: sa.Connection, table: sa.Table, column: str) -> None:
    present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    if column in present:
        return
    # The dialect's own spelling: DATETIME on SQLite, TIMESTAMP WITH TIME ZONE on PostgreSQL.
    sql_type = table.c[column].type.compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column} {sql_type}"))
    logger.info("store: added %s.%s", table.name, column)


def _one_open_nudge_per_resource(conn: sa.Connection) -> None:
    """The unique partial index; an older store may hold duplicates (two replicas each opened a
    nudge for one resource): the newest stays open, the others become `superseded`."""
    present = {index["name"] for index in sa.inspect(conn).get_indexes(nudges.name)}
    if ONE_OPEN_NUDGE.name in present:
        return
    key = (nudges.c.account, nudges.c.region, nudges.c.resource_type, nudges.c.resource_id)
    rows = conn.execute(
        sa.select(nudges.c.id, *key)
        .where(nudges.c.status.in_(OPEN_STATUSES))
        .order_by(*key, nudges.c.last_sent_at.desc(), nudges.c.first_sent_at.desc())
    ).all()
    seen: set[tuple[str, str, str, str]] = set()
    duplicates = []
    for row in rows:
        resource = (row.account, row.region, row.resource_type, row.resource_id)
        if resource in seen:
            duplicates.append(row.id)
        seen.add(resource)
    if duplicates:
        conn.execute(nudges.update().where(nudges.c.id.in_(duplicates)).values(status="superseded"))
        logger.warning(
            "store: %d duplicate open nudges (from replicas racing) marked superseded",
            len(duplicates),
        )
    ONE_OPEN_NUDGE.create(conn)


def _slot_records(conn: sa.Connection) -> None:
    """Slots that ran to their end as older versions recorded them, in the lease's own row (which
    the next claim overwrites), copied to finished_slots: a slot that finished before an upgrade
    is not run again after it. Only rows it does not have yet, so it is safe to run again."""
    recorded = sa.select(finished_slots.c.name).where(
        finished_slots.c.name == leases.c.name, finished_slots.c.slot == leases.c.slot
    )
    rows = conn.execute(
        sa.select(leases.c.name, leases.c.slot, leases.c.holder, leases.c.finished_at)
        .where(leases.c.slot.is_not(None))
        .where(leases.c.finished_at.is_not(None))
        .where(~recorded.exists())
    ).all()
    if rows:
        conn.execute(finished_slots.insert(), [dict(row._mapping) for row in rows])
        logger.info("store: recorded %d finished slots in their own rows", len(rows))
