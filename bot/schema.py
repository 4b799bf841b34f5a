"""The store's tables (SQLAlchemy Core): the creators cache, nudges, keeps, the audit trail, and
what keeps replicas in step (leases, the digest outbox, decisions recorded around AWS, secrets).

Only definitions: bot.store reads and writes them, bot.migrations brings an existing database up
to date with them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

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
    "acting",  # a decision's AWS call is under way (see the decisions table)
    "kept",
    "stopped",
    "paused",
    "switched",  # a DynamoDB table switched to on-demand capacity
    "terminated",
    "deleted",
    "released",
    "deregistered",
    "reassigned",
    "gone",
    "superseded",  # a duplicate open nudge found when the one-open-nudge key was added
)
# A resource has at most one nudge in these statuses (a unique partial index): two rounds racing,
# or two replicas, cannot both open one.
OPEN_STATUSES = ("open", "acting")

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
    sa.Column("digest_id", sa.String(32), nullable=True),  # the digest that last carried it
)
sa.Index("nudges_by_owner", nudges.c.owner_slack_user, nudges.c.status)
sa.Index("nudges_by_resource", nudges.c.resource_id)
sa.Index("nudges_by_message", nudges.c.channel, nudges.c.message_ts)
sa.Index("nudges_by_digest", nudges.c.digest_id)
_OPEN = nudges.c.status.in_(OPEN_STATUSES)
ONE_OPEN_NUDGE = sa.Index(
    "one_open_nudge_per_resource",
    nudges.c.account,
    nudges.c.region,
    nudges.c.resource_type,
    nudges.c.resource_id,
    unique=True,
    sqlite_where=_OPEN,
    postgresql_where=_OPEN,
)

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

# A named lease, taken by compare-and-set: one patrol round at a time across replicas, and each
# process's liveness ("instance:<id>"). `slot` and `finished_at` say what its holder runs and
# whether that ended; every claim overwrites them (versions before finished_slots read only these).
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("slot", sa.String(100), nullable=True),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
)

# One row for each slot a lease's work ran to its end in: a scheduled round's minute, an on-demand
# round's own name, the weekly summary's week. Apart from the lease's row, which the next claim
# overwrites (an on-demand round's too), so a slot without a row did not finish (cut short by a
# restart or a kill) and may run again, and one with a row never does.
finished_slots = sa.Table(
    "finished_slots",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("slot", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("finished_slots_by_time", finished_slots.c.finished_at)

DIGEST_STATUSES = (
    "pending",
    "sent",
    "superseded",  # a newer round's digest replaced it before it was tried
    "failed",  # given up: it can never be delivered (`failure` says why); its nudges were let go
)

# The outbox: every message the patrol posts is written here `pending` (with its nudges) before
# chat.postMessage, posted with its id in the message's metadata, then marked `sent`. A pending
# one is posted again only after conversations.history shows it never arrived, and given up
# (`failed`) when Slack says it never can be, or after a bounded number of tries.
digests_table = sa.Table(
    "digests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # digest, unowned, escalation, notice…
    sa.Column("target", sa.String(32), nullable=False),  # user id (a DM) or channel id
    sa.Column("owner_slack_user", sa.String(32), nullable=True),  # whose working hours apply
    sa.Column("round_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("channel", sa.String(32), nullable=True),
    sa.Column("message_ts", sa.String(32), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("blocks", sa.Text, nullable=False),
    # Why it was given up, in a word: a Slack error (account_inactive…), undecided, expired, tries.
    sa.Column("failure", sa.String(64), nullable=True),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
)
sa.Index("digests_by_status", digests_table.c.status, digests_table.c.created_at)
sa.Index("digests_by_target", digests_table.c.target, digests_table.c.status)

DECISION_STATES = ("acting", "done", "failed")

# A decision that acts on AWS: written `acting` (with the nudge moved to "acting") before the
# call, `done` or `failed` after. One left `acting` by a process that died is settled at start by
# describing the resource.
decisions_table = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("nudge_id", sa.String(32), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("by", sa.String(32), nullable=True),  # None: auto-stop
    sa.Column("holder", sa.String(200), nullable=False),  # the process doing it
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=True),  # done, already, refused, failed
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("tell_channel", sa.String(32), nullable=True),  # where the clicker saw the button
)
sa.Index("decisions_by_state", decisions_table.c.state)
