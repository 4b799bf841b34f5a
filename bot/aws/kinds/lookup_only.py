"""Creation times of types a lookup asks about but the patrol does not inventory: Auto Scaling
groups, CloudFormation stacks, Lambda functions, S3 buckets, IAM roles and users.

The registry's lookup readers (bot/registry/patrol/lookup_readers.py) point at these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, optional, owner_tags, parent_tags, utc
from bot.aws.errors import error_code
from bot.core.refs import ResourceRef


def read_auto_scaling_group(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    groups = client_for("autoscaling", region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[ref.id]
    )["AutoScalingGroups"]
    if not groups:
        return Hint(exists=False)
    group, tags = groups[0], groups[0].get("Tags")
    return Hint(
        utc(group.get("CreatedTime")), owner_tags(tags), region, None, True, parent_tags(tags)
    )


def read_stack(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    try:
        stacks = client_for("cloudformation", region).describe_stacks(StackName=ref.arn or ref.id)[
            "Stacks"
        ]
    except ClientError as error:
        # CloudFormation says a stack is missing with a ValidationError: "… does not exist".
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            return Hint(exists=False)
        raise
    if not stacks or stacks[0].get("StackStatus") == "DELETE_COMPLETE":
        return Hint(exists=False)  # an ARN still describes a deleted stack
    stack = stacks[0]
    return Hint(utc(stack.get("CreationTime")), owner_tags(stack.get("Tags")), region, None, True)


def read_function(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    # LastModified changes with every code or configuration update: not a creation time.
    function = client_for("lambda", region).get_function(FunctionName=ref.arn or ref.id)
    return Hint(None, owner_tags(function.get("Tags")), region, None, True)


def read_bucket(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    s3 = client_for("s3", region)
    location = s3.get_bucket_location(Bucket=ref.id).get("LocationConstraint")
    # Legacy answers: no constraint means us-east-1, "EU" means eu-west-1.
    bucket_region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    # ListBuckets' CreationDate is the date of the last (re)creation: a fine hint, not a fact.
    created, listing_note = optional(
        lambda: _bucket_creation_date(s3, ref.id),
        "s3:ListAllMyBuckets",
        "searched without a creation-time hint",
    )
    regional = client_for("s3", bucket_region) if bucket_region != region else s3
    tagging, tagging_note = optional(
        lambda: regional.get_bucket_tagging(Bucket=ref.id),
        "s3:GetBucketTagging",
        "owner tags not read",
        absent=("NoSuchTagSet",),
    )
    note = "; ".join(n for n in (listing_note, tagging_note) if n) or None
    tags = (tagging or {}).get("TagSet", [])
    return Hint(utc(created), owner_tags(tags), bucket_region, note, True)


def _bucket_creation_date(s3: Any, name: str) -> datetime | None:
    for page in s3.get_paginator("list_buckets").paginate(Prefix=name):
        for bucket in page.get("Buckets", []):
            if bucket.get("Name") == name:
                return bucket.get("CreationDate")
    return None


def read_role(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    role = client_for("iam", region).get_role(RoleName=ref.id)["Role"]
    return Hint(utc(role.get("CreateDate")), owner_tags(role.get("Tags")), region, None, True)


def read_user(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    user = client_for("iam", region).get_user(UserName=ref.id)["User"]
    return Hint(utc(user.get("CreateDate")), owner_tags(user.get("Tags")), region, None, True)
