"""Ask the service itself when a resource was created, and which owner-like tags it carries.

A creation time narrows CloudTrail to one LookupEvents call in a short window; it is only a hint
(the finder searches without it when the window holds no creation). A denied or failed describe
only costs that shortcut: the Hint says which permission would have helped, and nothing raises.

One table maps a resource type to the function that asks for it; types without an entry get an
empty Hint. Each function takes (client_for, region, ref) and returns a Hint, or raises the
botocore error, which `creation_hint` turns into a note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.core.parents import PARENT_TAG_KEYS
from bot.core.refs import ResourceRef

logger = logging.getLogger(__name__)

ClientFor = Callable[[str, str], Any]

# Tag keys that name a person or tool responsible for the resource (compared case-insensitively).
OWNER_TAG_KEYS = (
    "owner",
    "owner_email",
    "owner-email",
    "owneremail",
    "createdby",
    "created-by",
    "created_by",
    "creator",
    "autotag_creator",
    "aws:createdby",
    "whocreated:created-by",
)
_OWNER_KEYS = frozenset(OWNER_TAG_KEYS)

NOT_FOUND_CODES = frozenset(
    {
        "InvalidInstanceID.NotFound",
        "InvalidInstanceID.Malformed",
        "InvalidVolume.NotFound",
        "InvalidSnapshot.NotFound",
        "InvalidAMIID.NotFound",
        "InvalidAMIID.Unavailable",
        "NatGatewayNotFound",
        "InvalidNatGatewayID.NotFound",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "LoadBalancerNotFound",
        "LoadBalancerNotFoundException",
        "AccessPointNotFound",
        "ResourceNotFoundException",
        "NoSuchBucket",
        "NoSuchEntity",
        "NotFound",
        "404",
    }
)


@dataclass(frozen=True)
class Hint:
    """What the service says about a resource: when it was created, owner tags, where it lives.

    `exists` is None when the service was not asked (or could not answer), False when it said the
    resource is not there (in that region), True when it described it.
    """

    created_at: datetime | None = None
    owner_tags: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None
    note: str | None = None
    exists: bool | None = None
    parent_tags: Mapping[str, str] = field(default_factory=dict)  # tags naming a parent


@dataclass(frozen=True)
class _Asker:
    """How to ask about one resource type: the permission it needs and the function."""

    permission: str
    ask: Callable[[ClientFor, str, ResourceRef], Hint]


def creation_hint(ref: ResourceRef, client_for: ClientFor, region: str) -> Hint:
    """The service's creation time and owner tags for `ref` in `region`; never raises."""
    asker = ASKERS.get(ref.type or "")
    if asker is None:
        return Hint()
    try:
        return asker.ask(client_for, region, ref)
    except ClientError as error:
        code = error_code(error)
        if code in NOT_FOUND_CODES:
            return Hint(exists=False)
        if is_denied(error):
            note = f"{asker.permission} denied: searched without a creation-time hint"
            return Hint(note=note)
        logger.exception("%s for %s in %s failed", asker.permission, ref.id, region)
        return Hint(
            note=f"{asker.permission} failed ({code}): searched without a creation-time hint"
        )
    except BotoCoreError as error:
        logger.exception("%s for %s in %s failed", asker.permission, ref.id, region)
        name = type(error).__name__
        return Hint(
            note=f"{asker.permission} failed ({name}): searched without a creation-time hint"
        )


def owner_tags(tags: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict[str, str]:
    """Owner-like tags from an AWS tag list ([{Key, Value}]) or a tag dict ({key: value})."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        pairs = [(str(key), value) for key, value in tags.items()]
    else:
        pairs = [(str(tag.get("Key", "")), tag.get("Value")) for tag in tags]
    return {
        key: str(value)
        for key, value in pairs
        if key.lower() in _OWNER_KEYS and value not in (None, "")
    }


def parent_tags(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """Tags that name a parent (aws:autoscaling:groupName, aws:cloudformation:stack-name…) from
    an AWS tag list."""
    return {
        str(tag.get("Key")): str(tag.get("Value"))
        for tag in tags or []
        if tag.get("Key") in PARENT_TAG_KEYS and tag.get("Value")
    }


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _optional(
    call: Callable[[], Any], permission: str, cost: str, *, absent: tuple[str, ...] = ()
) -> tuple[Any, str | None]:
    """A secondary call whose failure costs only part of the hint: (result or None, note)."""
    try:
        return call(), None
    except ClientError as error:
        code = error_code(error)
        if code in absent:
            return None, None
        if is_denied(error):
            return None, f"{permission} denied: {cost}"
        logger.exception("%s failed", permission)
        return None, f"{permission} failed ({code}): {cost}"
    except BotoCoreError as error:
        logger.exception("%s failed", permission)
        return None, f"{permission} failed ({type(error).__name__}): {cost}"


# One function per resource type ----------------------------------------------------------------


def _ec2_instance(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    # A filter, not InstanceIds: a missing instance is an empty answer, not an error to parse,
    # which matters when every region is asked at once.
    reservations = client_for("ec2", region).describe_instances(
        Filters=_id_filter("instance-id", ref)
    )
    instances = [i for r in reservations.get("Reservations", []) for i in r.get("Instances", [])]
    if not instances:
        return Hint(exists=False)
    instance = instances[0]
    # LaunchTime moves on every stop/start; the primary interface was attached at launch.
    attached = [
        eni["Attachment"]["AttachTime"]
        for eni in instance.get("NetworkInterfaces", [])
        if eni.get("Attachment", {}).get("DeviceIndex") == 0 and eni["Attachment"].get("AttachTime")
    ]
    created = attached[0] if attached else instance.get("LaunchTime")
    tags = instance.get("Tags")
    return Hint(_utc(created), owner_tags(tags), region, None, True, parent_tags(tags))


def _id_filter(name: str, ref: ResourceRef) -> list[dict[str, Any]]:
    return [{"Name": name, "Values": [ref.id]}]


def _ec2_single(
    method: str, filter_name: str, result_key: str, time_key: str
) -> Callable[[ClientFor, str, ResourceRef], Hint]:
    """Describe calls shaped alike: Describe*(Filters=[id]) → [{time_key, Tags}]."""

    def ask(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
        describe = getattr(client_for("ec2", region), method)
        items = describe(Filters=_id_filter(filter_name, ref))[result_key]
        if not items:
            return Hint(exists=False)
        item = items[0]
        return Hint(_utc(item.get(time_key)), owner_tags(item.get("Tags")), region, None, True)

    return ask


def _rds_instance(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    found = client_for("rds", region).describe_db_instances(DBInstanceIdentifier=ref.id)
    instances = found.get("DBInstances", [])
    if not instances:
        return Hint(exists=False)
    db = instances[0]
    return Hint(
        _utc(db.get("InstanceCreateTime")), owner_tags(db.get("TagList")), region, None, True
    )


def _load_balancer(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    if ref.arn and "/app/" not in ref.arn and "/net/" not in ref.arn and "/gwy/" not in ref.arn:
        return _classic_load_balancer(client_for, region, ref)
    elbv2 = client_for("elbv2", region)
    query = {"LoadBalancerArns": [ref.arn]} if ref.arn else {"Names": [ref.id]}
    balancers = elbv2.describe_load_balancers(**query).get("LoadBalancers", [])
    if not balancers:
        return Hint(exists=False)
    balancer = balancers[0]
    described, note = _optional(
        lambda: elbv2.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]]),
        "elasticloadbalancing:DescribeTags",
        "owner tags not read",
    )
    tags = [
        t for item in (described or {}).get("TagDescriptions", []) for t in item.get("Tags", [])
    ]
    return Hint(_utc(balancer.get("CreatedTime")), owner_tags(tags), region, note, True)


def _classic_load_balancer(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    elb = client_for("elb", region)
    found = elb.describe_load_balancers(LoadBalancerNames=[ref.id])
    balancers = found.get("LoadBalancerDescriptions", [])
    if not balancers:
        return Hint(exists=False)
    described, note = _optional(
        lambda: elb.describe_tags(LoadBalancerNames=[ref.id]),
        "elasticloadbalancing:DescribeTags",
        "owner tags not read",
    )
    tags = [
        t for item in (described or {}).get("TagDescriptions", []) for t in item.get("Tags", [])
    ]
    return Hint(_utc(balancers[0].get("CreatedTime")), owner_tags(tags), region, note, True)


def _eks_cluster(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    cluster = client_for("eks", region).describe_cluster(name=ref.id)["cluster"]
    return Hint(_utc(cluster.get("createdAt")), owner_tags(cluster.get("tags")), region, None, True)


def _autoscaling_group(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    groups = client_for("autoscaling", region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[ref.id]
    )["AutoScalingGroups"]
    if not groups:
        return Hint(exists=False)
    group, tags = groups[0], groups[0].get("Tags")
    return Hint(
        _utc(group.get("CreatedTime")), owner_tags(tags), region, None, True, parent_tags(tags)
    )


def _cloudformation_stack(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
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
    return Hint(_utc(stack.get("CreationTime")), owner_tags(stack.get("Tags")), region, None, True)


def _lambda_function(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    # LastModified changes with every code or configuration update: not a creation time.
    function = client_for("lambda", region).get_function(FunctionName=ref.arn or ref.id)
    return Hint(None, owner_tags(function.get("Tags")), region, None, True)


def _s3_bucket(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    s3 = client_for("s3", region)
    location = s3.get_bucket_location(Bucket=ref.id).get("LocationConstraint")
    # Legacy answers: no constraint means us-east-1, "EU" means eu-west-1.
    bucket_region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
    # ListBuckets' CreationDate is the date of the last (re)creation: a fine hint, not a fact.
    created, listing_note = _optional(
        lambda: _bucket_creation_date(s3, ref.id),
        "s3:ListAllMyBuckets",
        "searched without a creation-time hint",
    )
    regional = client_for("s3", bucket_region) if bucket_region != region else s3
    tagging, tagging_note = _optional(
        lambda: regional.get_bucket_tagging(Bucket=ref.id),
        "s3:GetBucketTagging",
        "owner tags not read",
        absent=("NoSuchTagSet",),
    )
    note = "; ".join(n for n in (listing_note, tagging_note) if n) or None
    tags = (tagging or {}).get("TagSet", [])
    return Hint(_utc(created), owner_tags(tags), bucket_region, note, True)


def _bucket_creation_date(s3: Any, name: str) -> datetime | None:
    for page in s3.get_paginator("list_buckets").paginate(Prefix=name):
        for bucket in page.get("Buckets", []):
            if bucket.get("Name") == name:
                return bucket.get("CreationDate")
    return None


def _iam_role(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    role = client_for("iam", region).get_role(RoleName=ref.id)["Role"]
    return Hint(_utc(role.get("CreateDate")), owner_tags(role.get("Tags")), region, None, True)


def _iam_user(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    user = client_for("iam", region).get_user(UserName=ref.id)["User"]
    return Hint(_utc(user.get("CreateDate")), owner_tags(user.get("Tags")), region, None, True)


ASKERS: dict[str, _Asker] = {
    "AWS::EC2::Instance": _Asker("ec2:DescribeInstances", _ec2_instance),
    "AWS::EC2::Volume": _Asker(
        "ec2:DescribeVolumes", _ec2_single("describe_volumes", "volume-id", "Volumes", "CreateTime")
    ),
    "AWS::EC2::Snapshot": _Asker(
        "ec2:DescribeSnapshots",
        _ec2_single("describe_snapshots", "snapshot-id", "Snapshots", "StartTime"),
    ),
    "AWS::EC2::Image": _Asker(
        "ec2:DescribeImages", _ec2_single("describe_images", "image-id", "Images", "CreationDate")
    ),
    "AWS::EC2::NatGateway": _Asker(
        "ec2:DescribeNatGateways",
        _ec2_single("describe_nat_gateways", "nat-gateway-id", "NatGateways", "CreateTime"),
    ),
    "AWS::RDS::DBInstance": _Asker("rds:DescribeDBInstances", _rds_instance),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _Asker(
        "elasticloadbalancing:DescribeLoadBalancers", _load_balancer
    ),
    "AWS::ElasticLoadBalancing::LoadBalancer": _Asker(
        "elasticloadbalancing:DescribeLoadBalancers", _classic_load_balancer
    ),
    "AWS::EKS::Cluster": _Asker("eks:DescribeCluster", _eks_cluster),
    "AWS::AutoScaling::AutoScalingGroup": _Asker(
        "autoscaling:DescribeAutoScalingGroups", _autoscaling_group
    ),
    "AWS::CloudFormation::Stack": _Asker("cloudformation:DescribeStacks", _cloudformation_stack),
    "AWS::Lambda::Function": _Asker("lambda:GetFunction", _lambda_function),
    "AWS::S3::Bucket": _Asker("s3:GetBucketLocation", _s3_bucket),
    "AWS::IAM::Role": _Asker("iam:GetRole", _iam_role),
    "AWS::IAM::User": _Asker("iam:GetUser", _iam_user),
}
