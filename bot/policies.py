"""IAM policy documents from the permissions table, one per feature, least privilege:

- lookups, patrol, organizations and check only read;
- tags may write only `whocreated:*` tag keys;
- actions change only resources carrying the action tag (`Environment=sandbox` unless told);
- snapshots may be taken of any volume or database (taking one destroys nothing, and an
  instance's volumes need not carry its tags), and EC2 snapshots tagged only as they are made;
- accounts may assume only the member role, by name;
- archive starts queries only in workgroups, and reaches S3 and KMS only through Athena.

`python -m bot.policies --policy actions --tag-value dev` prints one; `python -m bot.policies
--write .` regenerates every generated file in `deploy/` and the README's generated blocks (a
test fails when they differ from what the table gives).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.permissions import (
    IAM,
    PURPOSE,
    SCOPE_PURPOSE,
    SLACK_APP_SCOPES,
    SLACK_BOT_SCOPES,
    SLACK_SCOPES,
    Feature,
    is_read,
    write_resources,
)
from bot.registry.patrol.docs import idle_table

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

IAM_DIR = Path("deploy/iam")


def iam_table() -> str:
    rows = ["| feature | what for | IAM actions | policy |", "|---|---|---|---|"]
    for feature in Feature:
        actions = ", ".join(f"`{action}`" for action in IAM[feature])
        rows.append(
            f"| {feature} | {PURPOSE[feature]} | {actions} | "
            f"[`{IAM_DIR / f'{feature}.json'}`]({IAM_DIR / f'{feature}.json'}) |"
        )
    return "\n".join(rows)


def scope_table() -> str:
    rows = ["| scope | what for | features |", "|---|---|---|"]
    for scope in SLACK_BOT_SCOPES:
        features = ", ".join(f for f, scopes in SLACK_SCOPES.items() if scope in scopes)
        rows.append(f"| `{scope}` | {SCOPE_PURPOSE[scope]} | {features} |")
    for scope in SLACK_APP_SCOPES:
        rows.append(f"| `{scope}` (app-level token) | {SCOPE_PURPOSE[scope]} | Socket Mode |")
    return "\n".join(rows)


README_BLOCKS: Mapping[str, Callable[[], str]] = {
    "iam-lookups-policy": lambda: "```json\n" + to_json(policy_document(Feature.LOOKUPS)) + "```",
    "iam-table": iam_table,
    "slack-scopes": scope_table,
    "idle-rules": idle_table,
}


def _marker(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {name} \(python -m bot\.policies --write \.\) -->\n)(.*?)"
        rf"(<!-- end: {name} -->)",
        flags=re.DOTALL,
    )


def _filled(block: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match[1] + block + match[3]


def readme_with_blocks(text: str) -> str:
    """README text with each generated block rewritten; ValueError when a marker is missing."""
    for name, render in README_BLOCKS.items():
        pattern = _marker(name)
        if not pattern.search(text):
            raise ValueError(f"README.md has no generated block {name!r}")
        text = pattern.sub(_filled(render() + "\n"), text)
    return text


# Files -----------------------------------------------------------------------------------------


def generated_files(scope: Scope | None = None) -> dict[Path, str]:
    """Every file `--write` makes under the repository root, path → text."""
    from bot.role_templates import TEMPLATES

    scope = scope or Scope()
    files = {
        IAM_DIR / f"{feature}.json": to_json(policy_document(feature, scope)) for feature in Feature
    }
    for path, template in TEMPLATES.items():
        files[path] = to_json(template(scope))
    return files


def write(root: Path, scope: Scope | None = None) -> list[Path]:
    written = []
    for relative, text in generated_files(scope).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    readme = root / "README.md"
    text = readme.read_text()
    updated = readme_with_blocks(text)
    if updated != text:
        readme.write_text(updated)
        written.append(readme)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.policies",
        description="IAM policies for whocreated, from its permissions table.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--policy", choices=[str(f) for f in Feature], help="print this policy")
    what.add_argument(
        "--write", metavar="ROOT", type=Path, help="regenerate deploy/ and the README's blocks"
    )
    parser.add_argument("--tag-key", default=Scope.tag_key, help="the action tag's key")
    parser.add_argument("--tag-value", default=Scope.tag_value, help="the action tag's value")
    parser.add_argument(
        "--member-role", default=Scope.member_role, help="the role assumed in other accounts"
    )
    args = parser.parse_args(argv)
    scope = Scope(tag_key=args.tag_key, tag_value=args.tag_value, member_role=args.member_role)
    if args.policy:
        sys.stdout.write(to_json(policy_document(Feature(args.policy), scope)))
        return 0
    for path in write(args.write, scope):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
