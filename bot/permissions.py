"""Every AWS permission and Slack scope whocreated uses, by feature: the one table.

`whocreated check` probes what the configured features need from it, the IAM policies and
CloudFormation templates in `deploy/` are generated from it (`python -m bot.policies`), the
README's policy and scope list are tested equal to it, and so is `manifest.yml`.

Shapes, kept plain on purpose:
- IAM[feature]: the IAM actions a feature uses (reads and writes);
- per resource type: LOOKUP_HINTS (asking a service about one resource), INVENTORY (a patrol
  round's describes), TAGGING (writing whocreated:* tags), and per (type, button) ACTIONS and
  SNAPSHOTS (taken first when the policy keeps snapshots on), each made from the type
  registry's declarations (bot/registry/patrol/), so a new type brings its own;
- SLACK_SCOPES[feature]: the bot scopes a feature uses; SLACK_APP_SCOPES for Socket Mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from bot.core.decisions import Action
from bot.core.iam_names import is_read, needed_words
from bot.registry.patrol import PATROL, READERS


class Feature(StrEnum):
    LOOKUPS = "lookups"  # /whocreated and `whocreated lookup`
    PATROL = "patrol"  # patrol rounds (`serve`'s schedule, `scan`): read-only
    TAGS = "tags"  # whocreated:* tags: created-by from rounds, keep-until from Keep
    ACTIONS = "actions"  # the Stop / Terminate / Delete / Release buttons, once enabled
    SNAPSHOTS = "snapshots"  # snapshots before deleting, when the policy keeps them on
    ACCOUNTS = "accounts"  # other accounts through the policy's role
    ORGANIZATIONS = "organizations"  # the organization's accounts, listed
    ARCHIVE = "archive"  # the organization trail in Athena, beyond CloudTrail's 90 days
    CHECK = "check"  # `whocreated check` itself


PURPOSE: Mapping[Feature, str] = {
    Feature.LOOKUPS: "answering /whocreated and `whocreated lookup`",
    Feature.PATROL: "patrol rounds: inventory, metrics, prices, owners",
    Feature.TAGS: "writing whocreated:* tags (created-by, keep-until)",
    Feature.ACTIONS: "the Stop, Terminate, Delete and Release buttons",
    Feature.SNAPSHOTS: "snapshots before a volume or database is deleted",
    Feature.ACCOUNTS: "entering other accounts through [accounts] role_name",
    Feature.ORGANIZATIONS: "listing the organization's accounts",
    Feature.ARCHIVE: "creations older than 90 days, from the organization trail in Athena",
    Feature.CHECK: "`whocreated check` itself",
}

# The per-type parts come from the type registry's declarations (bot/registry/patrol/).

# Asking a service when one resource was created and how it is tagged (a lookup's hint).
LOOKUP_HINTS: Mapping[str, tuple[str, ...]] = {
    resource_type: reader.permissions for resource_type, reader in READERS.items()
}

# A patrol round's describe calls per resource type.
INVENTORY: Mapping[str, tuple[str, ...]] = {
    kind.cfn_type: kind.inventory.permissions for kind in PATROL.declared
}

# Writing whocreated:* tags on a resource (created-by after a round, keep-until after Keep).
TAGGING: Mapping[str, tuple[str, ...]] = {
    kind.cfn_type: (kind.tagging.permission,)
    for kind in PATROL.declared
    if kind.tagging is not None
}

# What each button does in AWS: the live state is read first, then the change is made.
ACTIONS: Mapping[tuple[str, Action], tuple[str, ...]] = {
    (kind.cfn_type, action): act.permissions
    for kind in PATROL.declared
    for action, act in kind.actions.items()
}

# Taken before the action when [actions] snapshot_before_delete is on (the default). EC2
# snapshots are tagged as they are made, which IAM counts as ec2:CreateTags on the snapshot.
SNAPSHOTS: Mapping[tuple[str, Action], tuple[str, ...]] = {
    (kind.cfn_type, action): act.snapshots
    for kind in PATROL.declared
    for action, act in kind.actions.items()
    if act.snapshots
}


# The trail archive: queries in the workgroup, the table's definition in the Glue catalog, and
# what Athena reads and writes in S3 (and KMS) with the caller's credentials: the trail's log
# objects, and the query results. The generated policy lets S3 and KMS be used only through
# Athena (aws:CalledVia).
ARCHIVE_QUERIES: tuple[str, ...] = (
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StopQueryExecution",
    "athena:GetWorkGroup",
)
ARCHIVE_CATALOG: tuple[str, ...] = ("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions")
ARCHIVE_DATA: tuple[str, ...] = (
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "kms:Decrypt",
    "kms:GenerateDataKey",
)


def _union(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(action for group in groups for action in group))


IAM: Mapping[Feature, tuple[str, ...]] = {
    Feature.LOOKUPS: _union(
        ("cloudtrail:LookupEvents", "sts:GetCallerIdentity", "ec2:DescribeRegions"),
        *LOOKUP_HINTS.values(),
    ),
    Feature.PATROL: _union(
        ("sts:GetCallerIdentity", "ec2:DescribeRegions"),
        *INVENTORY.values(),
        ("cloudwatch:GetMetricData", "pricing:GetProducts", "cloudtrail:LookupEvents"),
    ),
    Feature.TAGS: _union(*TAGGING.values()),
    Feature.ACTIONS: _union(*ACTIONS.values()),
    Feature.SNAPSHOTS: _union(*SNAPSHOTS.values()),
    Feature.ACCOUNTS: ("sts:AssumeRole",),
    Feature.ORGANIZATIONS: (
        "organizations:DescribeOrganization",
        "organizations:ListAccounts",
        "organizations:ListAccountsForParent",
        "organizations:ListOrganizationalUnitsForParent",
    ),
    Feature.ARCHIVE: (*ARCHIVE_QUERIES, *ARCHIVE_CATALOG, *ARCHIVE_DATA),
    Feature.CHECK: ("iam:SimulatePrincipalPolicy", "iam:GetRole"),
}

# Without these a feature does nothing at all; any other missing permission costs a part of it
# (a resource type left out of rounds, a lookup without its shortcut), said where it happens.
REQUIRED: frozenset[str] = frozenset({"cloudtrail:LookupEvents", "cloudwatch:GetMetricData"})

# Bot token scopes per feature (manifest.yml's oauth_config.scopes.bot is tested equal to their
# union), and what each scope is for.
SLACK_SCOPES: Mapping[Feature, tuple[str, ...]] = {
    Feature.LOOKUPS: ("commands", "users:read", "users:read.email"),
    Feature.PATROL: (
        "chat:write",
        "users:read",
        "users:read.email",
        "usergroups:read",
        "im:history",
        "channels:history",
        "groups:history",
    ),
    Feature.CHECK: ("channels:read", "groups:read"),
}

SCOPE_PURPOSE: Mapping[str, str] = {
    "commands": "the /whocreated command",
    "users:read": "mention the creator, and each owner's time zone for working hours",
    "users:read.email": "find the creator by the email of an SSO session or the domain rule",
    "chat:write": "digests, receipts, and the fallback, audit and summary channel posts",
    "usergroups:read": "admins given as a user group in whocreated.toml",
    "im:history": "re-read a digest after a restart before marking a decision in it",
    "channels:history": "the same in the fallback channel (public)",
    "groups:history": "the same in the fallback channel (private)",
    "channels:read": "`check`: is the bot a member of each configured channel (public)",
    "groups:read": "`check`: the same for private channels",
    "connections:write": "Socket Mode (the app-level token)",
}

# App-level token scopes, for Socket Mode.
SLACK_APP_SCOPES: tuple[str, ...] = ("connections:write",)

SLACK_BOT_SCOPES: tuple[str, ...] = _union(*SLACK_SCOPES.values())


def iam_for(features: Iterable[Feature]) -> dict[str, tuple[Feature, ...]]:
    """IAM action → the features that need it, in table order."""
    needed: dict[str, tuple[Feature, ...]] = {}
    for feature in features:
        for action in IAM[feature]:
            needed[action] = (*needed.get(action, ()), feature)
    return needed


def action_words(resource_type: str, action: Action, failed_operation: str | None) -> str:
    """The permission a button needs, for "my role needs …": the one whose call failed when
    the table has it, else every change the button makes."""
    both = (*ACTIONS.get((resource_type, action), ()), *SNAPSHOTS.get((resource_type, action), ()))
    return needed_words(both, failed_operation)


def write_resources() -> dict[str, tuple[str, ...]]:
    """IAM write action → the resource ARNs it may touch ({partition} left to fill in), from
    each type's declaration: its own ARNs for its buttons and tags, and for snapshots what
    they are taken of and make."""
    found: dict[str, dict[str, None]] = {}
    for kind in PATROL.declared:
        writes = [p for act in kind.actions.values() for p in act.permissions if not is_read(p)]
        if kind.tagging is not None:
            writes.append(kind.tagging.permission)
        for action in writes:
            found.setdefault(action, {}).update(dict.fromkeys(kind.iam_resources))
        for act in kind.actions.values():
            for action in act.snapshots:
                if not is_read(action) and action != "ec2:CreateTags":  # tagged on creation
                    found.setdefault(action, {}).update(dict.fromkeys(act.snapshot_resources))
    return {action: tuple(arns) for action, arns in found.items()}
