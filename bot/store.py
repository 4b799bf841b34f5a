"""Durable state in SQLAlchemy Core tables: the creators cache, nudges, keeps, the audit trail, and
what keeps work from being lost or doubled: leases, the digest outbox and decisions in progress.

SQLite by default, PostgreSQL for several replicas. `Store.open` refuses a store it cannot write
(StoreUnavailable says which and why); only `Store.open_or_memory`, for terminal lookups, falls
back to memory, saying so once.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bot.core import events
from bot.core.events import Actor, CreationFact
from bot.core.resources import Cost, Finding, Owner, Resource, Verdict
from bot.registry.patrol import PATROL
from bot.schema import (
    NUDGE_STATUSES,
    OPEN_STATUSES,
    audit,
    creation_facts,
    decisions_table,
    digests_table,
    finished_slots,
    keeps,
    leases,
    nudges,
    secrets_table,
)

logger = logging.getLogger(__name__)

ResourceKey = tuple[str, str, str, str]  # (account, region, type, id), as Resource.key


@dataclass(frozen=True)
class FactPlace:
    """A creation to cache, and where its resource lives."""

    partition: str
    account: str
    region: str
    resource_type: str
    fact: CreationFact


FACT_BATCH = 500  # creations a transaction: few round trips, a bounded batch in memory
# How long a finished slot's record is kept: far longer than a round can be late (the scheduler's
# misfire grace) or a week's summary can be asked for again.
SLOT_RECORDS_KEPT = timedelta(days=30)


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


def _insert_new(dialect: str, table: sa.Table = creation_facts) -> Any:
    """INSERT … ON CONFLICT DO NOTHING where the dialect has it (SQLite and PostgreSQL)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).on_conflict_do_nothing()
    return table.insert()


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
    digest_id: str | None = None

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

    @property
    def passed_on(self) -> bool:
        """Handed to its owner with *Not mine*: the store's owner wins over the round's."""
        return bool(self.details.get("reassigned_from"))

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
        actions = tuple(details.get("actions") or PATROL.buttons(resource))
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
        "digest_id",
    }
)


@dataclass(frozen=True)
class LeaseRow:
    name: str
    holder: str
    slot: str | None
    acquired_at: datetime
    expires_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Digest:
    """One outbox message: what to post where, and whether it went out."""

    id: str
    kind: str
    target: str
    owner_slack_user: str | None
    round_id: str | None
    status: str
    created_at: datetime
    attempts: int
    attempted_at: datetime | None
    last_error: str | None
    channel: str | None
    message_ts: str | None
    sent_at: datetime | None
    text: str
    blocks: list[dict[str, Any]]
    failure: str | None = None  # given up (status failed): why, in a word
    failed_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    id: int
    nudge_id: str
    action: str
    by: str | None
    holder: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    detail: str | None
    tell_channel: str | None


class CarriedElsewhere(Exception):
    """A nudge a digest was to carry changed since it was planned (another round carried or sent
    it): nothing of that digest was written."""


class StoreUnavailable(Exception):
    """The store cannot be used; the message names it (no password) and says why, in one line."""


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
        """The store at `url` (default: SQLite in the state folder), its schema up to date and
        written once; StoreUnavailable when it cannot be used, never a quiet substitute."""
        from bot.migrations import prepare

        url = url or default_database_url()
        try:
            engine = _engine(url)
            prepare(engine)
        except (SQLAlchemyError, OSError, ImportError) as error:  # ImportError: no driver
            raise StoreUnavailable(
                f"the store at {_redacted(url)} cannot be used: {why_unusable(error)}"
            ) from error
        return cls(engine)

    @classmethod
    def open_or_memory(cls, url: str | None = None) -> Store:
        """For terminal lookups only: an unusable store is one warning and an in-memory store
        (answers still come, they are not remembered)."""
        try:
            return cls.open(url)
        except StoreUnavailable as error:
            message = f"{error}; answers will not be remembered after this process ends"
            logger.warning(message)
            return cls.in_memory(warning=message)

    @classmethod
    def in_memory(cls, *, warning: str | None = None) -> Store:
        from bot.migrations import prepare

        engine = _engine("sqlite://")
        prepare(engine)
        return cls(engine, warning=warning)

    def ping(self) -> str | None:
        """None when the store answers; else why not, in a few words (for health checks)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.literal(1)))
        except (SQLAlchemyError, OSError) as error:
            return why_unusable(error)
        return None

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
        so a button can name and act on it without trusting anything in the payload.
        IntegrityError when the resource already has an open nudge."""
        row = nudge_row(
            resource,
            owner_slack_user=owner_slack_user,
            sent_at=sent_at,
            channel=channel,
            message_ts=message_ts,
            round_id=round_id,
            monthly_cost=monthly_cost,
            details=details,
            nudge_id=nudge_id,
        )
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
        """Undo a `decide` whose action did not happen (refused, failed): open again. When the
        resource was given a newer open nudge meanwhile, this one is superseded instead."""
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    nudges.update()
                    .where(nudges.c.id == nudge_id)
                    .where(nudges.c.status == from_status)
                    .values(status="open", decided_by=None, decided_at=None)
                )
            return result.rowcount == 1
        except IntegrityError:
            logger.warning("nudge %s not reopened: its resource has a newer open nudge", nudge_id)
            self.decide(
                nudge_id, "superseded", by=None, at=datetime.now(UTC), expected=(from_status,)
            )
            return False

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
        query = (
            sa.select(nudges)
            .where(nudges.c.status.in_(OPEN_STATUSES))
            .order_by(nudges.c.first_sent_at)
        )
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
        """The resource's open nudge (there is at most one), else the most recently sent."""
        open_first = sa.case((nudges.c.status.in_(OPEN_STATUSES), 0), else_=1)
        query = (
            _where_key(sa.select(nudges), nudges, key)
            .order_by(open_first, nudges.c.last_sent_at.desc(), nudges.c.first_sent_at.desc())
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
        keep = _new_keep(key, until=until, reason=reason, by=by, at=at, nudge_id=nudge_id)
        with self.engine.begin() as conn:
            conn.execute(keeps.insert().values(**asdict(keep)))
        return keep

    def keep_nudge(
        self,
        nudge_id: str,
        key: ResourceKey,
        *,
        until: datetime,
        reason: str | None,
        by: str | None,
        at: datetime,
    ) -> Keep | None:
        """The nudge `kept` and the keep written in one transaction (a crash between the two
        would leave a kept nudge with no keep, and the next round would ask again). None when
        the nudge was no longer open: nothing written."""
        keep = _new_keep(key, until=until, reason=reason, by=by, at=at, nudge_id=nudge_id)
        with self.engine.begin() as conn:
            decided = conn.execute(
                nudges.update()
                .where(nudges.c.id == nudge_id)
                .where(nudges.c.status == "open")
                .values(status="kept", decided_by=by, decided_at=_utc(at))
            )
            if decided.rowcount != 1:
                return None
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

    # Leases ------------------------------------------------------------------------------------

    def claim_lease(
        self, name: str, holder: str, *, now: datetime, ttl: timedelta, slot: str | None = None
    ) -> bool:
        """Take the lease by compare-and-set: free (never taken, released or expired) or already
        ours, and not for a slot that already ran to its end. True for the one caller that got it.

        Whether the slot ran is read after the lease is taken, in the same transaction: whoever
        finished it recorded that when letting the lease go, so it is committed by then."""
        now = _utc(now)
        values = {
            "holder": holder,
            "slot": slot,
            "acquired_at": now,
            "expires_at": now + ttl,
            "finished_at": None,
        }
        # What a version before finished_slots recorded: the slot in the lease's own row.
        ran_by_older = sa.and_(
            leases.c.slot.is_not(None),  # NULL-safe: a slot-less claim's end blocks no slot
            leases.c.slot == slot,
            leases.c.finished_at.is_not(None),
        )
        take = (
            leases.update()
            .where(leases.c.name == name)
            .where(sa.or_(leases.c.expires_at <= now, leases.c.holder == holder))
            .where(sa.not_(ran_by_older) if slot is not None else sa.true())
            .values(**values)
        )
        with self.engine.connect() as conn:
            with conn.begin() as claim:
                if conn.execute(take).rowcount == 1:
                    return _keep_unless_ran(conn, claim, name, slot)
            try:
                with conn.begin() as claim:
                    conn.execute(leases.insert().values(name=name, **values))
                    return _keep_unless_ran(conn, claim, name, slot)
            except IntegrityError:
                return False  # someone holds it

    def renew_lease(self, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
        """Extend our lease; False when it is no longer ours (it expired and was taken). One
        that expired while nobody took it (a pause, a database outage longer than its ttl) is
        still ours: renewing it is no worse than claiming it again."""
        now = _utc(now)
        with self.engine.begin() as conn:
            result = conn.execute(
                leases.update()
                .where(leases.c.name == name)
                .where(leases.c.holder == holder)
                .values(expires_at=now + ttl)
            )
        return result.rowcount == 1

    def release_lease(self, name: str, holder: str, *, now: datetime, finished: bool) -> None:
        """Let it go now; `finished` records its slot as run to its end (its own row in
        finished_slots), so it does not run again. Nothing is recorded when the lease is no
        longer ours: its new holder runs the slot. Records older than SLOT_RECORDS_KEPT go."""
        now = _utc(now)
        with self.engine.begin() as conn:
            released = conn.execute(
                leases.update()
                .where(leases.c.name == name)
                .where(leases.c.holder == holder)
                .values(expires_at=now, finished_at=now if finished else None)
            )
            if not finished or released.rowcount != 1:
                return
            slot = conn.execute(sa.select(leases.c.slot).where(leases.c.name == name)).scalar()
            if slot is None:
                return
            conn.execute(
                _insert_new(conn.dialect.name, finished_slots).values(
                    name=name, slot=slot, holder=holder, finished_at=now
                )
            )
            conn.execute(
                finished_slots.delete().where(
                    finished_slots.c.finished_at < now - SLOT_RECORDS_KEPT
                )
            )

    def slot_finished(self, name: str, slot: str) -> bool:
        """Whether `slot` of the lease `name` ran to its end (recorded by this version, or, in
        the lease's own row, by an older one still running beside it)."""
        older = (
            sa.select(leases.c.name)
            .where(leases.c.name == name)
            .where(leases.c.slot == slot)
            .where(leases.c.finished_at.is_not(None))
        )
        with self.engine.connect() as conn:
            return _slot_recorded(conn, name, slot) or conn.execute(older).first() is not None

    def get_lease(self, name: str) -> LeaseRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        for column in ("acquired_at", "expires_at", "finished_at"):
            data[column] = _utc(data[column])
        return LeaseRow(**data)

    def live_leases(self, prefix: str, now: datetime) -> set[str]:
        """Names of unexpired leases starting with `prefix`."""
        query = (
            sa.select(leases.c.name)
            .where(leases.c.name.startswith(prefix))
            .where(leases.c.expires_at > _utc(now))
        )
        with self.engine.connect() as conn:
            return {row.name for row in conn.execute(query)}

    # The digest outbox ---------------------------------------------------------------------------

    def queue_digest(
        self,
        *,
        kind: str,
        target: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]],
        now: datetime,
        owner_slack_user: str | None = None,
        round_id: str | None = None,
        new_nudges: Sequence[Mapping[str, Any]] = (),
        carried: Sequence[Nudge] = (),
        digest_id: str | None = None,
    ) -> str:
        """Write a digest `pending`, with the new nudges it brings (rows from `nudge_row`) and
        the open ones it carries again, in one transaction. Nothing is written when one of the
        new nudges' resources already has an open nudge (IntegrityError), or when a carried one
        is no longer as it was read (CarriedElsewhere: its digest or last sending changed, so
        another round carried it at the same moment)."""
        digest_id = digest_id or new_nudge_id()
        with self.engine.begin() as conn:
            conn.execute(
                digests_table.insert().values(
                    id=digest_id,
                    kind=kind,
                    target=target,
                    owner_slack_user=owner_slack_user,
                    round_id=round_id,
                    status="pending",
                    created_at=_utc(now),
                    attempts=0,
                    text=text,
                    blocks=json.dumps(list(blocks), default=str),
                )
            )
            if new_nudges:
                rows = [{**row, "digest_id": digest_id, "times_sent": 0} for row in new_nudges]
                conn.execute(nudges.insert(), rows)
            for nudge in carried:
                seen_digest = (
                    nudges.c.digest_id.is_(None)
                    if nudge.digest_id is None
                    else nudges.c.digest_id == nudge.digest_id
                )
                moved = conn.execute(
                    nudges.update()
                    .where(nudges.c.id == nudge.id)
                    .where(seen_digest)
                    .where(nudges.c.last_sent_at == _utc(nudge.last_sent_at))
                    .values(digest_id=digest_id, round_id=round_id)
                )
                if moved.rowcount != 1:
                    raise CarriedElsewhere(nudge.id)  # leaving the block rolls it all back
        return digest_id

    def supersede_unsent(
        self, target: str, kind: str = "digest", *, newer_round: str | None = None
    ) -> list[str]:
        """Digests to `target` still waiting and never tried (an owner outside working hours):
        a newer round's digest replaces them; their nudges are free to be carried again. Those
        of `newer_round` itself are left: another process may be delivering that round's."""
        query = (
            sa.select(digests_table.c.id)
            .where(digests_table.c.target == target)
            .where(digests_table.c.kind == kind)
            .where(digests_table.c.status == "pending")
            .where(digests_table.c.attempts == 0)
        )
        if newer_round is not None:
            query = query.where(
                sa.or_(digests_table.c.round_id.is_(None), digests_table.c.round_id != newer_round)
            )
        with self.engine.begin() as conn:
            ids = [row.id for row in conn.execute(query)]
            if not ids:
                return []
            done = conn.execute(
                digests_table.update()
                .where(digests_table.c.id.in_(ids))
                .where(digests_table.c.status == "pending")
                .where(digests_table.c.attempts == 0)
                .values(status="superseded")
            )
            if done.rowcount != len(ids):
                raise sa.exc.InvalidRequestError("a digest was claimed while being superseded")
            conn.execute(nudges.update().where(nudges.c.digest_id.in_(ids)).values(digest_id=None))
        return ids

    def claim_digest(self, digest_id: str, *, attempts: int, now: datetime) -> bool:
        """Compare-and-set before a post: only the caller that saw `attempts` may post it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                digests_table.update()
                .where(digests_table.c.id == digest_id)
                .where(digests_table.c.status == "pending")
                .where(digests_table.c.attempts == attempts)
                .values(attempts=attempts + 1, attempted_at=_utc(now))
            )
        return result.rowcount == 1

    def digest_failed(self, digest_id: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                digests_table.update()
                .where(digests_table.c.id == digest_id)
                .values(last_error=error[:2000])
            )

    def give_up_digest(
        self, digest_id: str, *, failure: str, error: str, now: datetime
    ) -> int | None:
        """A pending digest that will never be delivered becomes `failed`, with why (`failure`,
        a word; `error`, the words) and its nudges are let go: they are no longer on their way,
        so the next round plans them again. How many were let go, for the one caller that did
        it; None for the others (it was not pending any more)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                digests_table.update()
                .where(digests_table.c.id == digest_id)
                .where(digests_table.c.status == "pending")
                .values(
                    status="failed",
                    failure=failure[:64],
                    failed_at=_utc(now),
                    last_error=error[:2000],
                )
            )
            if result.rowcount != 1:
                return None
            let_go = conn.execute(
                nudges.update().where(nudges.c.digest_id == digest_id).values(digest_id=None)
            )
        return let_go.rowcount

    def failed_since_sent(self, target: str) -> Digest | None:
        """The last digest to `target` that was given up, when none reached it since."""
        with self.engine.connect() as conn:
            sent = conn.execute(
                sa.select(sa.func.max(digests_table.c.sent_at))
                .where(digests_table.c.target == target)
                .where(digests_table.c.status == "sent")
            ).scalar()
            query = (
                sa.select(digests_table)
                .where(digests_table.c.target == target)
                .where(digests_table.c.status == "failed")
                .order_by(digests_table.c.failed_at.desc())
                .limit(1)
            )
            if sent is not None:
                query = query.where(digests_table.c.failed_at > _utc(sent))
            row = conn.execute(query).first()
        return _digest(row) if row is not None else None

    def digest_sent(self, digest_id: str, *, channel: str, ts: str, now: datetime) -> bool:
        """Mark it sent where it landed, and its nudges with it (one more time sent each). False
        when it was already marked (a reconcile and the original post both saw it)."""
        now = _utc(now)
        with self.engine.begin() as conn:
            result = conn.execute(
                digests_table.update()
                .where(digests_table.c.id == digest_id)
                .where(digests_table.c.status == "pending")
                .values(status="sent", channel=channel, message_ts=ts, sent_at=now)
            )
            if result.rowcount != 1:
                return False
            conn.execute(
                nudges.update()
                .where(nudges.c.digest_id == digest_id)
                .values(
                    channel=channel,
                    message_ts=ts,
                    last_sent_at=now,
                    times_sent=nudges.c.times_sent + 1,
                )
            )
        return True

    def get_digest(self, digest_id: str) -> Digest | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(digests_table).where(digests_table.c.id == digest_id)
            ).first()
        return _digest(row) if row is not None else None

    def pending_digests(self) -> list[Digest]:
        query = (
            sa.select(digests_table)
            .where(digests_table.c.status == "pending")
            .order_by(digests_table.c.created_at)
        )
        with self.engine.connect() as conn:
            return [_digest(row) for row in conn.execute(query)]

    def digest_channel(self, target: str) -> str | None:
        """Where the last digest sent to `target` landed (a user's DM channel id)."""
        query = (
            sa.select(digests_table.c.channel)
            .where(digests_table.c.target == target)
            .where(digests_table.c.channel.is_not(None))
            .order_by(digests_table.c.sent_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def nudges_in_digest(self, digest_id: str) -> list[Nudge]:
        query = sa.select(nudges).where(nudges.c.digest_id == digest_id)
        with self.engine.connect() as conn:
            return [_nudge(row) for row in conn.execute(query)]

    # Decisions -----------------------------------------------------------------------------------

    def begin_decision(
        self,
        nudge_id: str,
        action: str,
        *,
        by: str | None,
        holder: str,
        now: datetime,
        tell_channel: str | None = None,
    ) -> Decision | None:
        """Claim an open nudge for an action: the nudge becomes `acting` and a decision row says
        who does what, in one transaction. None when the nudge is not open (decided already)."""
        now = _utc(now)
        with self.engine.begin() as conn:
            claimed = conn.execute(
                nudges.update()
                .where(nudges.c.id == nudge_id)
                .where(nudges.c.status == "open")
                .values(status="acting", decided_by=by, decided_at=now)
            )
            if claimed.rowcount != 1:
                return None
            inserted = conn.execute(
                decisions_table.insert().values(
                    nudge_id=nudge_id,
                    action=action,
                    by=by,
                    holder=holder,
                    state="acting",
                    started_at=now,
                    tell_channel=tell_channel,
                )
            )
            key = inserted.inserted_primary_key
            assert key is not None
        found = self.get_decision(int(key[0]))
        assert found is not None
        return found

    def finish_decision(
        self,
        decision: Decision,
        *,
        nudge_status: str | None,
        outcome: str,
        detail: str,
        now: datetime,
        audit_row: Mapping[str, Any] | None = None,
        settling: bool = False,
    ) -> bool:
        """Settle an `acting` decision: `done` when the nudge moves on to `nudge_status`, else
        `failed` and the nudge is open again; its audit row in the same transaction.

        `settling` (a start settling what another process left): only while the row is still
        `acting`, so two settlers write one outcome; False when it was not. The process that
        made the call always writes its outcome, the truth, even over a settler's guess made
        while it was paused."""
        if nudge_status is not None and nudge_status not in NUDGE_STATUSES:
            raise ValueError(f"unknown nudge status {nudge_status!r}")
        now = _utc(now)
        state = "failed" if nudge_status is None else "done"
        nudge_values: dict[str, Any] = (
            {"status": "open", "decided_by": None, "decided_at": None}
            if nudge_status is None
            else {"status": nudge_status}
        )
        values = {"state": state, "finished_at": now, "outcome": outcome, "detail": detail[:4000]}
        with self.engine.begin() as conn:
            claimed = conn.execute(
                decisions_table.update()
                .where(decisions_table.c.id == decision.id)
                .where(decisions_table.c.state == "acting")
                .values(**values)
            )
            if claimed.rowcount != 1:
                if settling:
                    return False
                conn.execute(
                    decisions_table.update()
                    .where(decisions_table.c.id == decision.id)
                    .values(**values)
                )
            # A settler may have opened the nudge again: the outcome of the real call wins.
            settled_elsewhere = claimed.rowcount != 1
            conn.execute(
                nudges.update()
                .where(nudges.c.id == decision.nudge_id)
                .where(
                    nudges.c.status.in_(("acting", "open"))
                    if settled_elsewhere
                    else nudges.c.status == "acting"
                )
                .values(**nudge_values)
            )
            if audit_row is not None:
                conn.execute(audit.insert().values(**{**audit_row, "at": _utc(audit_row["at"])}))
        return True

    def get_decision(self, decision_id: int) -> Decision | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(decisions_table).where(decisions_table.c.id == decision_id)
            ).first()
        return _decision(row) if row is not None else None

    def acting_decisions(self) -> list[Decision]:
        query = (
            sa.select(decisions_table)
            .where(decisions_table.c.state == "acting")
            .order_by(decisions_table.c.started_at)
        )
        with self.engine.connect() as conn:
            return [_decision(row) for row in conn.execute(query)]

    def decisions_for(self, nudge_id: str) -> list[Decision]:
        query = (
            sa.select(decisions_table)
            .where(decisions_table.c.nudge_id == nudge_id)
            .order_by(decisions_table.c.id)
        )
        with self.engine.connect() as conn:
            return [_decision(row) for row in conn.execute(query)]


def _new_keep(
    key: ResourceKey,
    *,
    until: datetime,
    reason: str | None,
    by: str | None,
    at: datetime,
    nudge_id: str | None,
) -> Keep:
    account, region, resource_type, resource_id = key
    return Keep(
        account, region, resource_type, resource_id, _utc(until), reason, by, _utc(at), nudge_id
    )


def new_nudge_id() -> str:
    """12 URL-safe characters (72 random bits): unguessable, and short enough for a button."""
    return secrets.token_urlsafe(9)


def nudge_row(
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
) -> dict[str, Any]:
    """The row of a new open nudge (create_nudge, or a digest's new nudges in queue_digest)."""
    return {
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


def _slot_recorded(conn: sa.Connection, name: str, slot: str) -> bool:
    query = (
        sa.select(finished_slots.c.name)
        .where(finished_slots.c.name == name)
        .where(finished_slots.c.slot == slot)
    )
    return conn.execute(query).first() is not None


def _keep_unless_ran(
    conn: sa.Connection, claim: sa.RootTransaction, name: str, slot: str | None
) -> bool:
    """The lease was just taken in `claim`: kept, or given back when its slot already ran."""
    if slot is None or not _slot_recorded(conn, name, slot):
        return True
    claim.rollback()
    return False


def _nudge(row: Any) -> Nudge:
    data = dict(row._mapping)
    data["details"] = json.loads(data.get("details") or "{}")
    for name in ("first_sent_at", "last_sent_at", "decided_at"):
        data[name] = _utc(data[name])
    return Nudge(**data)


def _digest(row: Any) -> Digest:
    data = dict(row._mapping)
    data["blocks"] = json.loads(data.get("blocks") or "[]")
    for name in ("created_at", "attempted_at", "sent_at", "failed_at"):
        data[name] = _utc(data[name])
    return Digest(**data)


def _decision(row: Any) -> Decision:
    data = dict(row._mapping)
    for name in ("started_at", "finished_at"):
        data[name] = _utc(data[name])
    return Decision(**data)


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
            return sa.create_engine(
                url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
            )
        return sa.create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    return sa.create_engine(url, pool_pre_ping=True)


# How long SQLite waits for another process's write lock before "database is locked".
SQLITE_BUSY_SECONDS = 5.0

# Words for what made a store unusable, first match on the error's text (lower case).
_UNUSABLE: tuple[tuple[str, str], ...] = (
    ("database is locked", "locked by another process"),
    ("file is not a database", "corrupt (not a SQLite database)"),
    ("malformed", "corrupt (the database file is damaged)"),
    ("readonly database", "not writable (read-only)"),
    ("unable to open database file", "not writable (its folder or file cannot be opened)"),
    ("password authentication failed", "refused (wrong user or password)"),
    ("does not exist", "missing (the database does not exist)"),
    ("permission denied", "not writable (permission denied)"),
    ("connection refused", "unreachable (connection refused)"),
    ("could not translate host name", "unreachable (unknown host)"),
    ("timeout", "unreachable (timed out)"),
    ("timed out", "unreachable (timed out)"),
)


def why_unusable(error: BaseException) -> str:
    """A store error in a few words: unreachable, locked, corrupt, not writable…"""
    if isinstance(error, ImportError):
        return f"its driver is not installed ({error.name or error})"
    if isinstance(error, OSError) and not isinstance(error, SQLAlchemyError):
        return f"not writable ({error.strerror or type(error).__name__})"
    text = str(getattr(error, "orig", None) or error).lower()
    for needle, words in _UNUSABLE:
        if needle in text:
            return words
    if isinstance(error, sa.exc.OperationalError):
        first = text.strip().splitlines()[0][:120] if text.strip() else type(error).__name__
        return f"unreachable ({first})"
    return type(error).__name__


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
