"""Durable state in SQLAlchemy Core tables: the creators cache, nudges, keeps and the audit trail.

SQLite by default, PostgreSQL for several replicas. A store that cannot be opened for writing is a
warning and an in-memory store, never a crash: lookups still answer, they just are not remembered.

The creators cache swallows write errors (it is only a cache). Nudges, keeps and audit rows do not:
a keep or a decision must never be lost quietly, so their methods raise SQLAlchemyError and the
caller tells the person who clicked.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bot.core import events
from bot.core.decisions import actions_for
from bot.core.events import Actor, CreationFact
from bot.core.resources import Cost, Finding, Owner, Resource, Verdict

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


@dataclass(frozen=True)
class FactPlace:
    """A creation to cache, and where its resource lives."""

    partition: str
    account: str
    region: str
    resource_type: str
    fact: CreationFact


FACT_BATCH = 500  # creations a transaction: few round trips, a bounded batch in memory


def _fact_key(place: FactPlace) -> tuple[str, ...]:
    fact = place.fact
    return (
        place.partition,
        place.account,
        place.region,
        place.resource_type,
        fact.resource_id,
        fact.event_time.isoformat(),
    )


def _fact_row(place: FactPlace, now: datetime) -> dict[str, Any]:
    return {
        "partition": place.partition,
        "account": place.account,
        "region": place.region,
        "resource_type": place.resource_type,
        "resource_id": place.fact.resource_id,
        "created_at": place.fact.event_time,
        "fact": json.dumps(fact_to_dict(place.fact)),
        "stored_at": now,
    }


def _insert_new(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING where the dialect has it (SQLite and PostgreSQL)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(creation_facts).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(creation_facts).on_conflict_do_nothing()
    return creation_facts.insert()


# A resource is keyed by where it lives and what it is: (account, region, type, id), as
# Resource.key. Ids are long (LB ARNs), so the columns are wide.
def _resource_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("account", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("resource_type", sa.String(128), nullable=False),
        sa.Column("resource_id", sa.String(2048), nullable=False),
    ]


NUDGE_STATUSES = (
    "open",
    "kept",
    "stopped",
    "terminated",
    "deleted",
    "released",
    "reassigned",
    "gone",
)

# One row per resource per digest it was put in. The id is the button value: short, random, and
# meaningless on its own, so a forged payload can only name a nudge, never a resource.
nudges = sa.Table(
    "nudges",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    *_resource_columns(),
    sa.Column("resource_label", sa.String(512), nullable=False),
    sa.Column("owner_slack_user", sa.String(32), nullable=True),  # None: the fallback channel
    sa.Column("channel", sa.String(32), nullable=True),
    sa.Column("message_ts", sa.String(32), nullable=True),
    sa.Column("round_id", sa.String(64), nullable=True),
    sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("times_sent", sa.Integer, nullable=False, default=1),
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    sa.Column("monthly_cost", sa.Float, nullable=True),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
    sa.Column("decided_by", sa.String(32), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
)
sa.Index("nudges_by_owner", nudges.c.owner_slack_user, nudges.c.status)
sa.Index("nudges_by_resource", nudges.c.resource_id)
sa.Index("nudges_by_message", nudges.c.channel, nudges.c.message_ts)

# Append-only: a new keep is a new row, so the history of who kept what, and why, stays.
keeps = sa.Table(
    "keeps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *_resource_columns(),
    sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("by", sa.String(32), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("nudge_id", sa.String(32), nullable=True),
)
sa.Index("keeps_by_resource", keeps.c.resource_id, keeps.c.until)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("slack_user", sa.String(32), nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    *_resource_columns(),
    sa.Column("nudge_id", sa.String(32), nullable=True),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),  # done, already, refused, failed, dry-run
    sa.Column("detail", sa.Text, nullable=False, default=""),
)
sa.Index("audit_by_time", audit.c.at)

# Secrets the bot makes for itself, once, shared by every replica (e.g. the tag signing key).
secrets_table = sa.Table(
    "secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

ResourceKey = tuple[str, str, str, str]  # (account, region, type, id), as Resource.key


@dataclass(frozen=True)
class Nudge:
    id: str
    account: str
    region: str
    resource_type: str
    resource_id: str
    resource_label: str
    owner_slack_user: str | None
    channel: str | None
    message_ts: str | None
    round_id: str | None
    first_sent_at: datetime
    last_sent_at: datetime
    times_sent: int
    status: str
    monthly_cost: float | None
    details: Mapping[str, Any] = field(default_factory=dict)
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def key(self) -> ResourceKey:
        return (self.account, self.region, self.resource_type, self.resource_id)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def owner_verified(self) -> bool:
        """Whether its owner may press its buttons (DESIGN.md §4, Trust). Nudges written before
        this was recorded: a creator from CloudTrail (or a parent's) is, a tag's word is not."""
        recorded = self.details.get("owner_verified")
        if recorded is not None:
            return bool(recorded)
        source = str(self.details.get("owner_source") or "")
        return source in ("cache", "cloudtrail") or source.startswith("parent:")

    def resource(self) -> Resource:
        """The resource as it was when nudged (details["resource"], written by create_nudge)."""
        saved = dict(self.details.get("resource") or {})
        return Resource(
            type=self.resource_type,
            id=self.resource_id,
            region=self.region,
            account=self.account,
            name=saved.get("name"),
            arn=saved.get("arn"),
            state=saved.get("state"),
            created_at=_parse_time(saved.get("created_at")),
            state_since=_parse_time(saved.get("state_since")),
            size=saved.get("size"),
            tags=dict(saved.get("tags") or {}),
            details=dict(saved.get("details") or {}),
        )

    def finding(self) -> Finding:
        """The nudge as a Finding, for the same rows and buttons as the digest (App Home, a
        reassigned nudge). Reads what the notifier stores in details: reasons, owner_name,
        owner_source, actions, and when present idle_since, series and cost_note."""
        resource = self.resource()
        details = self.details
        actions = tuple(details.get("actions") or actions_for(resource.type, resource.state))
        return Finding(
            resource=resource,
            verdict=Verdict(
                idle=True,
                reasons=tuple(str(r) for r in details.get("reasons") or ()),
                idle_since=_parse_time(details.get("idle_since")),
                series=tuple(float(v) for v in details.get("series") or ()),
            ),
            owner=Owner(
                aws_name=details.get("owner_name"),
                source=str(details.get("owner_source") or "none"),
                slack_user=self.owner_slack_user,
                verified=self.owner_verified,
            ),
            cost=Cost(self.monthly_cost, details.get("cost_note")),
            actions=tuple(str(action) for action in actions),
        )


@dataclass(frozen=True)
class Keep:
    account: str
    region: str
    resource_type: str
    resource_id: str
    until: datetime
    reason: str | None
    by: str | None
    at: datetime
    nudge_id: str | None = None

    @property
    def key(self) -> ResourceKey:
        return (self.account, self.region, self.resource_type, self.resource_id)


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    slack_user: str | None
    action: str
    account: str
    region: str
    resource_type: str
    resource_id: str
    nudge_id: str | None
    dry_run: bool
    outcome: str
    detail: str

    @property
    def key(self) -> ResourceKey:
        return (self.account, self.region, self.resource_type, self.resource_id)


# Fields update_nudge may change; the resource columns and the id never change.
_NUDGE_UPDATABLE = frozenset(
    {
        "owner_slack_user",
        "channel",
        "message_ts",
        "round_id",
        "last_sent_at",
        "times_sent",
        "status",
        "monthly_cost",
        "details",
        "decided_by",
        "decided_at",
    }
)


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
        self.put_facts([FactPlace(partition, account, region, resource_type, fact)])

    def put_facts(self, facts: Sequence[FactPlace]) -> None:
        """Cache these creations, FACT_BATCH to a transaction; a creation already cached (by an
        earlier lookup, or another replica at the same moment) is skipped, not an error."""
        # One order for every writer, so two replicas' overlapping batches cannot deadlock.
        ordered = sorted(facts, key=_fact_key)
        now = datetime.now(UTC)
        for start in range(0, len(ordered), FACT_BATCH):
            # Rows are made a batch at a time: each holds its event's JSON, a few KB.
            self._insert_facts(
                [_fact_row(place, now) for place in ordered[start : start + FACT_BATCH]]
            )

    def _insert_facts(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(_insert_new(self.engine.dialect.name), rows)
            return
        except IntegrityError:
            pass  # a dialect without ON CONFLICT met a cached row
        except SQLAlchemyError:
            logger.warning("caching %d creations at once failed; one by one", len(rows))
        # One by one: a bad or cached row costs itself, not the whole round's batch.
        for row in rows:
            try:
                with self.engine.begin() as conn:
                    conn.execute(creation_facts.insert(), [row])
            except IntegrityError:
                pass
            except SQLAlchemyError:
                logger.exception("could not cache the creation of %s", row["resource_id"])

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

    # Nudges ------------------------------------------------------------------------------------

    def create_nudge(
        self,
        resource: Resource,
        *,
        owner_slack_user: str | None,
        sent_at: datetime,
        channel: str | None = None,
        message_ts: str | None = None,
        round_id: str | None = None,
        monthly_cost: float | None = None,
        details: Mapping[str, Any] | None = None,
        nudge_id: str | None = None,
    ) -> Nudge:
        """A new open nudge about `resource`. The resource itself is kept in details["resource"],
        so a button can name and act on it without trusting anything in the payload."""
        row = {
            "id": nudge_id or new_nudge_id(),
            "account": resource.account,
            "region": resource.region,
            "resource_type": resource.type,
            "resource_id": resource.id,
            "resource_label": resource.label[:512],
            "owner_slack_user": owner_slack_user,
            "channel": channel,
            "message_ts": message_ts,
            "round_id": round_id,
            "first_sent_at": _utc(sent_at),
            "last_sent_at": _utc(sent_at),
            "times_sent": 1,
            "status": "open",
            "monthly_cost": monthly_cost,
            "details": json.dumps(
                {**(details or {}), "resource": resource_to_dict(resource)}, default=str
            ),
        }
        with self.engine.begin() as conn:
            conn.execute(nudges.insert().values(**row))
        nudge = self.get_nudge(row["id"])
        assert nudge is not None
        return nudge

    def get_nudge(self, nudge_id: str) -> Nudge | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(nudges).where(nudges.c.id == nudge_id)).first()
        return _nudge(row) if row is not None else None

    def update_nudge(self, nudge_id: str, **changes: Any) -> Nudge | None:
        """Change some fields (channel, message_ts, status, details, …); None when unknown."""
        unknown = set(changes) - _NUDGE_UPDATABLE
        if unknown:
            raise ValueError(f"update_nudge cannot change {', '.join(sorted(unknown))}")
        if "status" in changes and changes["status"] not in NUDGE_STATUSES:
            raise ValueError(f"unknown nudge status {changes['status']!r}")
        if "details" in changes:
            changes["details"] = json.dumps(dict(changes["details"]), default=str)
        for name in ("last_sent_at", "decided_at"):
            if name in changes:
                changes[name] = _utc(changes[name])
        if changes:
            with self.engine.begin() as conn:
                conn.execute(nudges.update().where(nudges.c.id == nudge_id).values(**changes))
        return self.get_nudge(nudge_id)

    def set_message(self, nudge_ids: Iterable[str], channel: str, message_ts: str) -> None:
        """Where the digest holding these nudges was posted (for chat.update later)."""
        ids = list(nudge_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                nudges.update()
                .where(nudges.c.id.in_(ids))
                .values(channel=channel, message_ts=message_ts)
            )

    def mark_sent(self, nudge_id: str, at: datetime, *, round_id: str | None = None) -> None:
        """The nudge went out again (a re-nudge): one more time sent, as of `at`."""
        values: dict[str, Any] = {"last_sent_at": _utc(at), "times_sent": nudges.c.times_sent + 1}
        if round_id is not None:
            values["round_id"] = round_id
        with self.engine.begin() as conn:
            conn.execute(nudges.update().where(nudges.c.id == nudge_id).values(**values))

    def decide(
        self,
        nudge_id: str,
        status: str,
        *,
        by: str | None,
        at: datetime,
        expected: Sequence[str] = ("open",),
    ) -> bool:
        """Move a nudge from an expected status to `status`, atomically: True for the one caller
        that did it. Two clicks (or two replicas) racing on one nudge: only one wins."""
        if status not in NUDGE_STATUSES:
            raise ValueError(f"unknown nudge status {status!r}")
        with self.engine.begin() as conn:
            result = conn.execute(
                nudges.update()
                .where(nudges.c.id == nudge_id)
                .where(nudges.c.status.in_(list(expected)))
                .values(status=status, decided_by=by, decided_at=_utc(at))
            )
        return result.rowcount == 1

    def reopen(self, nudge_id: str, *, from_status: str) -> bool:
        """Undo a `decide` whose action did not happen (refused, failed): open again."""
        with self.engine.begin() as conn:
            result = conn.execute(
                nudges.update()
                .where(nudges.c.id == nudge_id)
                .where(nudges.c.status == from_status)
                .values(status="open", decided_by=None, decided_at=None)
            )
        return result.rowcount == 1

    def open_nudges_for(self, owner_slack_user: str) -> list[Nudge]:
        """A person's open nudges, the most expensive first (unpriced last)."""
        query = (
            sa.select(nudges)
            .where(nudges.c.owner_slack_user == owner_slack_user)
            .where(nudges.c.status == "open")
            .order_by(
                nudges.c.monthly_cost.is_(None),
                nudges.c.monthly_cost.desc(),
                nudges.c.last_sent_at.desc(),
            )
        )
        with self.engine.connect() as conn:
            return [_nudge(row) for row in conn.execute(query)]

    def open_nudges(self) -> list[Nudge]:
        query = sa.select(nudges).where(nudges.c.status == "open").order_by(nudges.c.first_sent_at)
        with self.engine.connect() as conn:
            return [_nudge(row) for row in conn.execute(query)]

    def nudges_in_message(self, channel: str, message_ts: str) -> list[Nudge]:
        query = (
            sa.select(nudges)
            .where(nudges.c.channel == channel)
            .where(nudges.c.message_ts == message_ts)
        )
        with self.engine.connect() as conn:
            return [_nudge(row) for row in conn.execute(query)]

    def last_nudge_for(self, key: ResourceKey) -> Nudge | None:
        """The most recently sent nudge about this resource, whatever its status."""
        query = (
            _where_key(sa.select(nudges), nudges, key)
            .order_by(nudges.c.last_sent_at.desc(), nudges.c.first_sent_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _nudge(row) if row is not None else None

    # Keeps -------------------------------------------------------------------------------------

    def put_keep(
        self,
        key: ResourceKey,
        *,
        until: datetime,
        reason: str | None,
        by: str | None,
        at: datetime,
        nudge_id: str | None = None,
    ) -> Keep:
        account, region, resource_type, resource_id = key
        keep = Keep(
            account, region, resource_type, resource_id, _utc(until), reason, by, _utc(at), nudge_id
        )
        with self.engine.begin() as conn:
            conn.execute(keeps.insert().values(**asdict(keep)))
        return keep

    def active_keep(self, key: ResourceKey, now: datetime) -> Keep | None:
        """The keep in force at `now` that lasts longest, or None."""
        query = (
            _where_key(sa.select(keeps), keeps, key)
            .where(keeps.c.until > _utc(now))
            .order_by(keeps.c.until.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _keep(row) if row is not None else None

    def active_keeps(self, now: datetime) -> dict[ResourceKey, Keep]:
        """Every keep in force at `now`, by resource key (what a patrol round skips)."""
        query = sa.select(keeps).where(keeps.c.until > _utc(now)).order_by(keeps.c.until)
        with self.engine.connect() as conn:
            found = [_keep(row) for row in conn.execute(query)]
        return {keep.key: keep for keep in found}  # the longest wins: sorted by until

    # Secrets -----------------------------------------------------------------------------------

    def secret(self, name: str, make: Callable[[], str]) -> str:
        """The secret called `name`, made with `make()` the first time; two replicas asking at
        once both get the one that was stored first."""
        query = sa.select(secrets_table.c.value).where(secrets_table.c.name == name)
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        if found is not None:
            return str(found)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    secrets_table.insert().values(
                        name=name, value=make(), created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # another replica stored it first: use theirs
        with self.engine.connect() as conn:
            return str(conn.execute(query).scalar_one())

    # Audit -------------------------------------------------------------------------------------

    def add_audit(
        self,
        *,
        at: datetime,
        slack_user: str | None,
        action: str,
        key: ResourceKey,
        dry_run: bool,
        outcome: str,
        detail: str = "",
        nudge_id: str | None = None,
    ) -> AuditRow:
        account, region, resource_type, resource_id = key
        row = AuditRow(
            at=_utc(at),
            slack_user=slack_user,
            action=action,
            account=account,
            region=region,
            resource_type=resource_type,
            resource_id=resource_id,
            nudge_id=nudge_id,
            dry_run=dry_run,
            outcome=outcome,
            detail=detail,
        )
        with self.engine.begin() as conn:
            conn.execute(audit.insert().values(**asdict(row)))
        return row

    def audit_since(self, since: datetime) -> list[AuditRow]:
        """Audit rows at or after `since`, oldest first."""
        query = sa.select(audit).where(audit.c.at >= _utc(since)).order_by(audit.c.at, audit.c.id)
        with self.engine.connect() as conn:
            return [_audit(row) for row in conn.execute(query)]


def new_nudge_id() -> str:
    """12 URL-safe characters (72 random bits): unguessable, and short enough for a button."""
    return secrets.token_urlsafe(9)


def resource_to_dict(resource: Resource) -> dict[str, Any]:
    return {
        "name": resource.name,
        "arn": resource.arn,
        "state": resource.state,
        "created_at": resource.created_at.isoformat() if resource.created_at else None,
        "state_since": resource.state_since.isoformat() if resource.state_since else None,
        "size": resource.size,
        "tags": dict(resource.tags),
        "details": json.loads(json.dumps(dict(resource.details), default=str)),
    }


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: None) -> None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored as UTC, so say so."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return _utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _where_key(query: Any, table: sa.Table, key: ResourceKey) -> Any:
    account, region, resource_type, resource_id = key
    return (
        query.where(table.c.resource_id == resource_id)
        .where(table.c.account == account)
        .where(table.c.region == region)
        .where(table.c.resource_type == resource_type)
    )


def _nudge(row: Any) -> Nudge:
    data = dict(row._mapping)
    data["details"] = json.loads(data.get("details") or "{}")
    for name in ("first_sent_at", "last_sent_at", "decided_at"):
        data[name] = _utc(data[name])
    return Nudge(**data)


def _keep(row: Any) -> Keep:
    data = dict(row._mapping)
    data.pop("id", None)
    data["until"] = _utc(data["until"])
    data["at"] = _utc(data["at"])
    return Keep(**data)


def _audit(row: Any) -> AuditRow:
    data = dict(row._mapping)
    data.pop("id", None)
    data["at"] = _utc(data["at"])
    data["dry_run"] = bool(data["dry_run"])
    return AuditRow(**data)


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
    actor = dict(data["actor"])
    if "issuer_arn" not in actor and data.get("record"):
        # Cached before the issuer was kept: the record still says it.
        actor["issuer_arn"] = events.issuer_arn(data["record"])
    return CreationFact(
        **{
            **data,
            "actor": Actor(**actor),
            "created": tuple(data["created"]),
            "related": tuple(data["related"]),
            "event_time": datetime.fromisoformat(data["event_time"]),
        }
    )
