"""Every AWS permission and Slack scope whocreated uses, by feature: the one table.

`whocreated check` probes what the configured features need from it, the IAM policies and
CloudFormation templates in `deploy/` are generated from it (`python -m bot.policies`), the
README's policy and scope list are tested equal to it, and so is `manifest.yml`.

Shapes, kept plain on purpose:
- IAM[feature]: the IAM actions a feature uses (reads and writes);
- per resource type: LOOKUP_HINTS (asking a service about one resource), INVENTORY (a patrol
  round's describes), TAGGING (writing whocreated:* tags), and per (type, button) ACTIONS and
  SNAPSHOTS (taken first when the policy keeps snapshots on);
- SLACK_SCOPES[feature]: the bot scopes a feature uses; SLACK_APP_SCOPES for Socket Mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from bot.core.decisions import Action
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    EKS_CLUSTER,
    ELASTIC_IP,
    LOAD_BALANCER,
    NAT_GATEWAY,
    RDS_INSTANCE,
)


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

# Asking a service when one resource was created and how it is tagged (a lookup's hint).
LOOKUP_HINTS: Mapping[str, tuple[str, ...]] = {
    EC2_INSTANCE: ("ec2:DescribeInstances",),
    EBS_VOLUME: ("ec2:DescribeVolumes",),
    "AWS::EC2::Snapshot": ("ec2:DescribeSnapshots",),
    "AWS::EC2::Image": ("ec2:DescribeImages",),
    NAT_GATEWAY: ("ec2:DescribeNatGateways",),
    RDS_INSTANCE: ("rds:DescribeDBInstances",),
    LOAD_BALANCER: (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
    ),
    CLASSIC_LOAD_BALANCER: (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
    ),
    EKS_CLUSTER: ("eks:DescribeCluster",),
    "AWS::AutoScaling::AutoScalingGroup": ("autoscaling:DescribeAutoScalingGroups",),
    "AWS::CloudFormation::Stack": ("cloudformation:DescribeStacks",),
    "AWS::Lambda::Function": ("lambda:GetFunction",),
    "AWS::S3::Bucket": ("s3:GetBucketLocation", "s3:ListAllMyBuckets", "s3:GetBucketTagging"),
    "AWS::IAM::Role": ("iam:GetRole",),
    "AWS::IAM::User": ("iam:GetUser",),
}

# A patrol round's describe calls per resource type.
INVENTORY: Mapping[str, tuple[str, ...]] = {
    EC2_INSTANCE: ("ec2:DescribeInstances",),
    EBS_VOLUME: ("ec2:DescribeVolumes",),
    ELASTIC_IP: ("ec2:DescribeAddresses",),
    NAT_GATEWAY: ("ec2:DescribeNatGateways",),
    LOAD_BALANCER: (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
    ),
    CLASSIC_LOAD_BALANCER: (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
    ),
    RDS_INSTANCE: ("rds:DescribeDBInstances",),
    EKS_CLUSTER: (
        "eks:ListClusters",
        "eks:DescribeCluster",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
        "eks:ListFargateProfiles",
        "ec2:DescribeInstances",  # self-managed nodes
    ),
}

# Writing whocreated:* tags on a resource (created-by after a round, keep-until after Keep).
TAGGING: Mapping[str, tuple[str, ...]] = {
    EC2_INSTANCE: ("ec2:CreateTags",),
    EBS_VOLUME: ("ec2:CreateTags",),
    ELASTIC_IP: ("ec2:CreateTags",),
    NAT_GATEWAY: ("ec2:CreateTags",),
    LOAD_BALANCER: ("elasticloadbalancing:AddTags",),
    CLASSIC_LOAD_BALANCER: ("elasticloadbalancing:AddTags",),
    RDS_INSTANCE: ("rds:AddTagsToResource",),
    EKS_CLUSTER: ("eks:TagResource",),
}

# What each button does in AWS: the live state is read first, then the change is made.
ACTIONS: Mapping[tuple[str, Action], tuple[str, ...]] = {
    (EC2_INSTANCE, Action.STOP): ("ec2:DescribeInstances", "ec2:StopInstances"),
    (EC2_INSTANCE, Action.TERMINATE): (
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceAttribute",
        "ec2:TerminateInstances",
    ),
    (EBS_VOLUME, Action.DELETE): ("ec2:DescribeVolumes", "ec2:DeleteVolume"),
    (ELASTIC_IP, Action.RELEASE): ("ec2:DescribeAddresses", "ec2:ReleaseAddress"),
    (NAT_GATEWAY, Action.DELETE): ("ec2:DescribeNatGateways", "ec2:DeleteNatGateway"),
    (LOAD_BALANCER, Action.DELETE): (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DeleteLoadBalancer",
    ),
    (CLASSIC_LOAD_BALANCER, Action.DELETE): (
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DeleteLoadBalancer",
    ),
    (RDS_INSTANCE, Action.STOP): ("rds:DescribeDBInstances", "rds:StopDBInstance"),
    (RDS_INSTANCE, Action.DELETE): ("rds:DescribeDBInstances", "rds:DeleteDBInstance"),
}

# Taken before the action when [actions] snapshot_before_delete is on (the default). EC2
# snapshots are tagged as they are made, which IAM counts as ec2:CreateTags on the snapshot.
SNAPSHOTS: Mapping[tuple[str, Action], tuple[str, ...]] = {
    (EC2_INSTANCE, Action.TERMINATE): (
        "ec2:CreateSnapshot",
        "ec2:DescribeSnapshots",
        "ec2:CreateTags",
    ),
    (EBS_VOLUME, Action.DELETE): ("ec2:CreateSnapshot", "ec2:DescribeSnapshots", "ec2:CreateTags"),
    (RDS_INSTANCE, Action.DELETE): ("rds:CreateDBSnapshot",),
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

_READ_VERBS = ("Describe", "List", "Get", "Lookup", "Simulate")


def is_read(action: str) -> bool:
    """Reads change nothing: Describe*, List*, Get*, LookupEvents, SimulatePrincipalPolicy."""
    return action.split(":", 1)[1].startswith(_READ_VERBS)


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
    if failed_operation:
        named = [name for name in both if name.split(":", 1)[1] == failed_operation]
        if named:
            return named[0]
    changes = list(dict.fromkeys(name for name in both if not is_read(name)))
    if not changes:
        return "the permission for it"
    return ", ".join(changes[:-1]) + " and " + changes[-1] if len(changes) > 1 else changes[0]
