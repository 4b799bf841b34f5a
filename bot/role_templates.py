"""CloudFormation templates for the bot's IAM role and, through a StackSet, the member accounts'
roles; their policies come from bot/iam_documents.py, so from the permissions table.

- `deploy/cloudformation/bot-role.json`: the role whocreated runs as, trusted by a principal you
  name (a node or task role, an account) and/or EKS Pod Identity; one managed policy per feature,
  the write ones off until you turn them on.
- `deploy/cloudformation/member-role.json`: deployed to every member account by a StackSet; the
  role `[accounts] role_name` names, trusting only the bot's role, with an optional external id.

The action tag's key is fixed when the templates are generated (IAM condition keys cannot be
parameters); its value is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.iam_documents import Scope, policy_document
from bot.permissions import PURPOSE, Feature

TEMPLATE_DIR = Path("deploy/cloudformation")
NO_VALUE = {"Ref": "AWS::NoValue"}


def _flag(description: str, default: bool) -> dict[str, Any]:
    return {
        "Type": "String",
        "AllowedValues": ["true", "false"],
        "Default": "true" if default else "false",
        "Description": description,
    }


def _is_true(parameter: str) -> dict[str, Any]:
    return {"Fn::Equals": [{"Ref": parameter}, "true"]}


def _is_set(parameter: str) -> dict[str, Any]:
    return {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}


def _cfn_scope(scope: Scope) -> Scope:
    return Scope(
        tag_key=scope.tag_key,
        tag_value={"Ref": "ActionTagValue"},
        member_role={"Ref": "MemberRoleName"},
        partition={"Ref": "AWS::Partition"},
    )


def _policy(feature: Feature, scope: Scope, role: str, condition: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": f"whocreated {feature}: {PURPOSE[feature]}"[:1000],
            "PolicyDocument": policy_document(feature, _cfn_scope(scope)),
            "Roles": [{"Ref": role}],
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def _action_parameters(scope: Scope) -> dict[str, Any]:
    return {
        "EnableTags": _flag("Write whocreated:* tags (created-by, keep-until).", True),
        "EnableActions": _flag(
            "Let the buttons stop, terminate, delete and release resources tagged "
            f'{scope.tag_key}=<ActionTagValue> (also set [actions] mode = "enabled").',
            False,
        ),
        "EnableSnapshots": _flag(
            "With actions: snapshot volumes and databases before deleting them.", True
        ),
        "ActionTagValue": {
            "Type": "String",
            "Default": scope.tag_value,
            "MinLength": 1,
            "Description": f"Actions only touch resources tagged {scope.tag_key}=<this value>.",
        },
    }


_ACTION_CONDITIONS = {
    "TagsEnabled": _is_true("EnableTags"),
    "ActionsEnabled": _is_true("EnableActions"),
    "SnapshotsEnabled": {"Fn::And": [{"Condition": "ActionsEnabled"}, _is_true("EnableSnapshots")]},
}


def bot_role(scope: Scope) -> dict[str, Any]:
    role = "WhoCreatedRole"
    pod_identity = {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    principal = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "TrustedPrincipalArn"}},
        "Action": "sts:AssumeRole",
    }
    features: list[tuple[Feature, str | None]] = [
        (Feature.LOOKUPS, None),
        (Feature.CHECK, None),
        (Feature.PATROL, "PatrolEnabled"),
        (Feature.TAGS, "TagsEnabled"),
        (Feature.ACTIONS, "ActionsEnabled"),
        (Feature.SNAPSHOTS, "SnapshotsEnabled"),
        (Feature.ACCOUNTS, "AccountsEnabled"),
        (Feature.ORGANIZATIONS, "OrganizationsEnabled"),
        (Feature.ARCHIVE, "ArchiveEnabled"),
    ]
    resources: dict[str, Any] = {
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Ref": "RoleName"},
                "Description": "whocreated: who created an AWS resource, and idle-resource patrol",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Fn::If": ["HasTrustedPrincipal", principal, NO_VALUE]},
                        {"Fn::If": ["TrustPodIdentity", pod_identity, NO_VALUE]},
                    ],
                },
            },
        }
    }
    for feature, condition in features:
        resources[f"{feature.capitalize()}Policy"] = _policy(feature, scope, role, condition)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "whocreated's IAM role, with one managed policy per feature (generated "
        "from its permissions table by python -m bot.policies).",
        "Parameters": {
            "RoleName": {"Type": "String", "Default": "WhoCreatedBot"},
            "TrustedPrincipalArn": {
                "Type": "String",
                "Default": "",
                "Description": "An IAM principal ARN that may assume the role (the node or task "
                "role whocreated runs as, or an account root); empty for none.",
            },
            "TrustEksPodIdentity": _flag("Let EKS Pod Identity give the role to a pod.", False),
            "EnablePatrol": _flag("Read what patrol rounds need (read-only).", True),
            **_action_parameters(scope),
            "MemberRoleName": {
                "Type": "String",
                "Default": "",
                "Description": "The role to assume in member accounts ([accounts] role_name); "
                "empty: this account only.",
            },
            "EnableOrganizations": _flag("List the organization's accounts.", False),
            "EnableArchive": _flag(
                "Query the organization trail's Athena table ([athena]) for creations older "
                "than 90 days.",
                False,
            ),
        },
        "Rules": {
            "SomeoneMayAssumeTheRole": {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Or": [
                                _is_set("TrustedPrincipalArn"),
                                _is_true("TrustEksPodIdentity"),
                            ]
                        },
                        "AssertDescription": "Set TrustedPrincipalArn or TrustEksPodIdentity.",
                    }
                ]
            }
        },
        "Conditions": {
            "HasTrustedPrincipal": _is_set("TrustedPrincipalArn"),
            "TrustPodIdentity": _is_true("TrustEksPodIdentity"),
            "PatrolEnabled": _is_true("EnablePatrol"),
            **_ACTION_CONDITIONS,
            "AccountsEnabled": _is_set("MemberRoleName"),
            "OrganizationsEnabled": _is_true("EnableOrganizations"),
            "ArchiveEnabled": _is_true("EnableArchive"),
        },
        "Resources": resources,
        "Outputs": {
            "RoleArn": {
                "Description": "The role whocreated runs as; member roles trust it.",
                "Value": {"Fn::GetAtt": [role, "Arn"]},
            }
        },
    }


def member_role(scope: Scope) -> dict[str, Any]:
    role = "WhoCreatedMemberRole"
    features: list[tuple[Feature, str | None]] = [
        (Feature.LOOKUPS, None),
        (Feature.PATROL, None),
        (Feature.TAGS, "TagsEnabled"),
        (Feature.ACTIONS, "ActionsEnabled"),
        (Feature.SNAPSHOTS, "SnapshotsEnabled"),
    ]
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "BotRoleArn"}},
        "Action": "sts:AssumeRole",
        "Condition": {
            "Fn::If": [
                "HasExternalId",
                {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
                NO_VALUE,
            ]
        },
    }
    resources: dict[str, Any] = {
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Ref": "MemberRoleName"},
                "Description": "whocreated's role in this account, assumed by its bot role",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
            },
        }
    }
    for feature, condition in features:
        resources[f"{feature.capitalize()}Policy"] = _policy(feature, scope, role, condition)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "whocreated's role in a member account, for a CloudFormation StackSet "
        "over the organization (generated from its permissions table by python -m "
        "bot.policies).",
        "Parameters": {
            "MemberRoleName": {
                "Type": "String",
                "Default": scope.member_role,
                "Description": "The role name whocreated.toml's [accounts] role_name gives.",
            },
            "BotRoleArn": {
                "Type": "String",
                "AllowedPattern": r"arn:aws[a-z-]*:iam::\d{12}:role/.+",
                "Description": "The bot's role (the RoleArn output of bot-role.json).",
            },
            "ExternalId": {
                "Type": "String",
                "Default": "",
                "Description": "[accounts] external_id, when the policy file sets one.",
            },
            **_action_parameters(scope),
        },
        "Conditions": {"HasExternalId": _is_set("ExternalId"), **_ACTION_CONDITIONS},
        "Resources": resources,
        "Outputs": {
            "RoleArn": {
                "Description": "The role whocreated assumes in this account.",
                "Value": {"Fn::GetAtt": [role, "Arn"]},
            }
        },
    }


TEMPLATES: Mapping[Path, Callable[[Scope], dict[str, Any]]] = {
    TEMPLATE_DIR / "bot-role.json": bot_role,
    TEMPLATE_DIR / "member-role.json": member_role,
}
