"""Creation-time readers of types a lookup asks about that the patrol does not inventory.

A patrol type's reader is in its declaration; these are the others. A reader only makes a lookup
faster (one LookupEvents window instead of a search): a type without one is still answered.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.aws.creation_hints import Reader
from bot.aws.kinds import lookup_only

READERS: Mapping[str, Reader] = {
    "AWS::AutoScaling::AutoScalingGroup": Reader(
        ("autoscaling:DescribeAutoScalingGroups",), lookup_only.read_auto_scaling_group
    ),
    "AWS::CloudFormation::Stack": Reader(
        ("cloudformation:DescribeStacks",), lookup_only.read_stack
    ),
    "AWS::Lambda::Function": Reader(("lambda:GetFunction",), lookup_only.read_function),
    "AWS::S3::Bucket": Reader(
        ("s3:GetBucketLocation", "s3:ListAllMyBuckets", "s3:GetBucketTagging"),
        lookup_only.read_bucket,
    ),
    "AWS::IAM::Role": Reader(("iam:GetRole",), lookup_only.read_role),
    "AWS::IAM::User": Reader(("iam:GetUser",), lookup_only.read_user),
}
