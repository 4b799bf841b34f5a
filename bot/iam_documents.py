"""IAM policy documents from the permissions table, one per feature, least privilege:

- lookups, patrol, organizations and check only read;
- tags may write only `whocreated:*` tag keys;
- actions change only resources carrying the action tag (`Environment=sandbox` unless told);
- snapshots may be taken of any volume or database (taking one destroys nothing, and an
  instance's volumes need not carry its tags), and EC2 snapshots tagged only as they are made;
- accounts may assume only the member role, by name;
- archive starts queries only in workgroups, and reaches S3 and KMS only through Athena.

bot.policies writes them (and the CloudFormation templates of bot.role_templates) into deploy/.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.permissions import (
    IAM,
    Feature,
    is_read,
    write_resources,
)

MANAGED_TAG_KEYS = "whocreated:*"  # the only tag keys the bot writes

# The resources each change may touch (IAM resource ARNs, {partition} filled in): writes never
# get Resource "*". Each patrol type's declaration says its own; a write action missing here
# fails the policies' tests.
WRITE_RESOURCES: Mapping[str, tuple[str, ...]] = {
    **write_resources(),
    "sts:AssumeRole": ("arn:{partition}:iam::*:role/{member_role}",),
    "athena:StartQueryExecution": ("arn:{partition}:athena:*:*:workgroup/*",),
    "athena:StopQueryExecution": ("arn:{partition}:athena:*:*:workgroup/*",),
    "s3:PutObject": ("arn:{partition}:s3:::*/*",),
    "s3:AbortMultipartUpload": ("arn:{partition}:s3:::*/*",),
    "kms:Decrypt": ("arn:{partition}:kms:*:*:key/*",),
    "kms:GenerateDataKey": ("arn:{partition}:kms:*:*:key/*",),
}


@dataclass(frozen=True)
class Scope:
    """What the generated policies are limited to. Values may be CloudFormation expressions
    (e.g. {"Ref": "ActionTagValue"}), so one generator serves the JSON files and the templates."""

    tag_key: str = "Environment"
    tag_value: Any = "sandbox"
    member_role: Any = "WhoCreatedMember"
    partition: Any = "aws"

    def arn(self, pattern: str) -> Any:
        """`pattern` with {partition} and {member_role} filled in, as text or as Fn::Sub."""
        if isinstance(self.partition, str) and isinstance(self.member_role, str):
            return pattern.format(partition=self.partition, member_role=self.member_role)
        return {
            "Fn::Sub": pattern.format(
                partition="${AWS::Partition}", member_role="${MemberRoleName}"
            )
        }


def _statement(
    sid: str, actions: Sequence[str], resource: Any = "*", condition: Any = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _resources(scope: Scope, actions: Sequence[str]) -> list[Any]:
    patterns = dict.fromkeys(pattern for action in actions for pattern in WRITE_RESOURCES[action])
    return [scope.arn(pattern) for pattern in patterns]


def _reads(feature: Feature) -> list[str]:
    return [action for action in IAM[feature] if is_read(action)]


def _writes(feature: Feature) -> list[str]:
    return [action for action in IAM[feature] if not is_read(action)]


def _read_only(sid: str) -> Callable[[Feature, Scope], list[dict[str, Any]]]:
    def statements(feature: Feature, scope: Scope) -> list[dict[str, Any]]:
        assert not _writes(feature), f"{feature} is meant to be read-only"
        return [_statement(sid, IAM[feature])]

    return statements


def _tags(feature: Feature, scope: Scope) -> list[dict[str, Any]]:
    only_ours = {
        "ForAllValues:StringLike": {"aws:TagKeys": [MANAGED_TAG_KEYS]},
        "Null": {"aws:TagKeys": "false"},
    }
    actions = IAM[feature]
    return [
        _statement(
            "WhoCreatedTags", actions, resource=_resources(scope, actions), condition=only_ours
        )
    ]


def _actions(feature: Feature, scope: Scope) -> list[dict[str, Any]]:
    tagged = {"StringEquals": {f"aws:ResourceTag/{scope.tag_key}": scope.tag_value}}
    writes = _writes(feature)
    return [
        _statement("WhoCreatedActionReads", _reads(feature)),
        _statement(
            "WhoCreatedActionsOnTaggedResources",
            writes,
            resource=_resources(scope, writes),
            condition=tagged,
        ),
    ]


def _snapshots(feature: Feature, scope: Scope) -> list[dict[str, Any]]:
    tag_on_create = ["ec2:CreateTags"]
    taking = [action for action in _writes(feature) if action not in tag_on_create]
    return [
        _statement("WhoCreatedSnapshotReads", _reads(feature)),
        _statement("WhoCreatedSnapshots", taking, resource=_resources(scope, taking)),
        _statement(
            "WhoCreatedSnapshotTagsOnCreate",
            tag_on_create,
            resource=scope.arn("arn:{partition}:ec2:*::snapshot/*"),
            condition={"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}},
        ),
    ]


def _accounts(feature: Feature, scope: Scope) -> list[dict[str, Any]]:
    return [
        _statement(
            "WhoCreatedEnterMemberAccounts",
            IAM[feature],
            resource=_resources(scope, IAM[feature])[0],
        )
    ]


def _archive(feature: Feature, scope: Scope) -> list[dict[str, Any]]:
    from bot.permissions import ARCHIVE_DATA

    through_athena = {"ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}}
    data_reads = [a for a in ARCHIVE_DATA if is_read(a)]
    data_writes = [a for a in ARCHIVE_DATA if not is_read(a)]
    queries = [a for a in _writes(feature) if a not in ARCHIVE_DATA]
    return [
        _statement(
            "WhoCreatedArchiveReads",
            [a for a in _reads(feature) if a not in ARCHIVE_DATA],
        ),
        _statement("WhoCreatedArchiveQueries", queries, resource=_resources(scope, queries)),
        _statement("WhoCreatedArchiveDataThroughAthena", data_reads, condition=through_athena),
        _statement(
            "WhoCreatedArchiveResultsAndKeysThroughAthena",
            data_writes,
            resource=_resources(scope, data_writes),
            condition=through_athena,
        ),
    ]


_STATEMENTS: Mapping[Feature, Callable[[Feature, Scope], list[dict[str, Any]]]] = {
    Feature.LOOKUPS: _read_only("WhoCreatedLookups"),
    Feature.PATROL: _read_only("WhoCreatedPatrol"),
    Feature.TAGS: _tags,
    Feature.ACTIONS: _actions,
    Feature.SNAPSHOTS: _snapshots,
    Feature.ACCOUNTS: _accounts,
    Feature.ORGANIZATIONS: _read_only("WhoCreatedOrganizations"),
    Feature.ARCHIVE: _archive,
    Feature.CHECK: _read_only("WhoCreatedCheck"),
}


def policy_document(feature: Feature, scope: Scope | None = None) -> dict[str, Any]:
    """The IAM policy that grants `feature` and nothing more."""
    return {
        "Version": "2012-10-17",
        "Statement": _STATEMENTS[feature](feature, scope or Scope()),
    }


def to_json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# README blocks ---------------------------------------------------------------------------------
