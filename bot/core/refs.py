"""Turn what a user typed (an id, an ARN, a bare name) into a ResourceRef.

Pure: no AWS calls. Tables, not if/else chains: id prefix → resource type, ARN resource kind → type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REFERENCE_LENGTH = 2000


class InvalidReference(ValueError):
    """The text cannot name an AWS resource; the message says why, in plain words."""


# EC2-family ids: prefix → (CloudFormation type, service). Longest prefixes first when matching.
ID_PREFIXES: dict[str, str] = {
    "i": "AWS::EC2::Instance",
    "vol": "AWS::EC2::Volume",
    "snap": "AWS::EC2::Snapshot",
    "ami": "AWS::EC2::Image",
    "sg": "AWS::EC2::SecurityGroup",
    "eni": "AWS::EC2::NetworkInterface",
    "eipalloc": "AWS::EC2::EIP",
    "nat": "AWS::EC2::NatGateway",
    "vpc": "AWS::EC2::VPC",
    "subnet": "AWS::EC2::Subnet",
    "igw": "AWS::EC2::InternetGateway",
    "rtb": "AWS::EC2::RouteTable",
    "lt": "AWS::EC2::LaunchTemplate",
    "acl": "AWS::EC2::NetworkAcl",
    "eigw": "AWS::EC2::EgressOnlyInternetGateway",
    "vpce": "AWS::EC2::VPCEndpoint",
    "pcx": "AWS::EC2::VPCPeeringConnection",
    "tgw": "AWS::EC2::TransitGateway",
    "tgw-attach": "AWS::EC2::TransitGatewayAttachment",
    "key": "AWS::EC2::KeyPair",
    "fs": "AWS::EFS::FileSystem",
    "dopt": "AWS::EC2::DHCPOptions",
    "vgw": "AWS::EC2::VPNGateway",
    "cgw": "AWS::EC2::CustomerGateway",
    "vpn": "AWS::EC2::VPNConnection",
    "r": "AWS::EC2::Reservation",
}
_ID = re.compile(r"^(?P<prefix>[a-z]+(?:-attach)?)-(?P<hex>[0-9a-f]+)$")
_HEX_LENGTHS = (8, 17)

# ARN (service, resource kind) → CloudFormation type; kind "" for ARNs without one (S3 buckets).
ARN_TYPES: dict[tuple[str, str], str] = {
    ("ec2", "instance"): "AWS::EC2::Instance",
    ("ec2", "volume"): "AWS::EC2::Volume",
    ("ec2", "snapshot"): "AWS::EC2::Snapshot",
    ("ec2", "image"): "AWS::EC2::Image",
    ("ec2", "security-group"): "AWS::EC2::SecurityGroup",
    ("ec2", "network-interface"): "AWS::EC2::NetworkInterface",
    ("ec2", "elastic-ip"): "AWS::EC2::EIP",
    ("ec2", "natgateway"): "AWS::EC2::NatGateway",
    ("ec2", "vpc"): "AWS::EC2::VPC",
    ("ec2", "subnet"): "AWS::EC2::Subnet",
    ("ec2", "internet-gateway"): "AWS::EC2::InternetGateway",
    ("ec2", "route-table"): "AWS::EC2::RouteTable",
    ("ec2", "launch-template"): "AWS::EC2::LaunchTemplate",
    ("ec2", "key-pair"): "AWS::EC2::KeyPair",
    ("elasticloadbalancing", "loadbalancer"): "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ("elasticloadbalancing", "targetgroup"): "AWS::ElasticLoadBalancingV2::TargetGroup",
    ("rds", "db"): "AWS::RDS::DBInstance",
    ("rds", "cluster"): "AWS::RDS::DBCluster",
    ("rds", "snapshot"): "AWS::RDS::DBSnapshot",
    ("rds", "subgrp"): "AWS::RDS::DBSubnetGroup",
    ("lambda", "function"): "AWS::Lambda::Function",
    ("s3", ""): "AWS::S3::Bucket",
    ("eks", "cluster"): "AWS::EKS::Cluster",
    ("eks", "nodegroup"): "AWS::EKS::Nodegroup",
    ("ecs", "cluster"): "AWS::ECS::Cluster",
    ("ecs", "service"): "AWS::ECS::Service",
    ("ecs", "task-definition"): "AWS::ECS::TaskDefinition",
    ("dynamodb", "table"): "AWS::DynamoDB::Table",
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "policy"): "AWS::IAM::ManagedPolicy",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("iam", "group"): "AWS::IAM::Group",
    ("sqs", ""): "AWS::SQS::Queue",
    ("sns", ""): "AWS::SNS::Topic",
    ("elasticache", "cluster"): "AWS::ElastiCache::CacheCluster",
    ("elasticache", "replicationgroup"): "AWS::ElastiCache::ReplicationGroup",
    ("cloudformation", "stack"): "AWS::CloudFormation::Stack",
    ("autoscaling", "autoScalingGroup"): "AWS::AutoScaling::AutoScalingGroup",
    ("secretsmanager", "secret"): "AWS::SecretsManager::Secret",
    ("kms", "key"): "AWS::KMS::Key",
    ("logs", "log-group"): "AWS::Logs::LogGroup",
}

# Services whose resources live in one home region per partition (ARNs carry no region).
GLOBAL_SERVICE_HOME: dict[str, dict[str, str]] = {
    "iam": {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"},
    "cloudfront": {"aws": "us-east-1"},
    "route53": {"aws": "us-east-1"},
    "organizations": {"aws": "us-east-1"},
}

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>\d{12}|aws|):(?P<resource>.+)$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ResourceRef:
    """A resource as the user named it, with what the text alone tells about it."""

    given: str
    id: str
    type: str | None = None
    service: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str = "aws"
    arn: str | None = None

    @property
    def search_names(self) -> tuple[str, ...]:
        """Values to try as CloudTrail's ResourceName: the ARN first, then the id or name."""
        names = [self.arn] if self.arn else []
        if self.id and self.id not in names:
            names.append(self.id)
        return tuple(names)

    @property
    def has_unique_id(self) -> bool:
        """True for ids AWS never reuses (i-…, vol-…); names and name ARNs can be reused."""
        return bool(_ID.match(self.id)) and (self.type or "").startswith("AWS::EC2")

    @property
    def home_region(self) -> str | None:
        """The region to search: the ARN's, else a global service's home region."""
        if self.region:
            return self.region
        if self.service in GLOBAL_SERVICE_HOME:
            return GLOBAL_SERVICE_HOME[self.service].get(self.partition)
        return None


def parse(text: str) -> ResourceRef:
    """Parse an id, ARN, `s3://bucket` or bare name; raise InvalidReference with a clear message."""
    given = text
    text = text.strip()
    if not text:
        raise InvalidReference("no resource given: try an id like i-0abc123…, an ARN, or a name")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise InvalidReference(
            f"resource reference is {len(text):,} characters long; "
            f"AWS ids and ARNs are at most {MAX_REFERENCE_LENGTH:,}"
        )
    if _CONTROL.search(text):
        raise InvalidReference("resource reference contains control characters")
    if any(ch.isspace() for ch in text):
        raise InvalidReference(
            f"resource reference {text[:80]!r} contains whitespace; give one id, ARN or name"
        )
    if text.startswith("arn:"):
        return _parse_arn(given, text)
    if text.startswith("s3://"):
        bucket = text.removeprefix("s3://").split("/", 1)[0]
        if not bucket:
            raise InvalidReference("s3:// needs a bucket name, e.g. s3://my-bucket")
        return ResourceRef(given=given, id=bucket, type="AWS::S3::Bucket", service="s3")
    return _parse_id_or_name(given, text)


def _parse_id_or_name(given: str, text: str) -> ResourceRef:
    match = _ID.match(text.lower())
    if match and match["prefix"] in ID_PREFIXES:
        if len(match["hex"]) not in _HEX_LENGTHS:
            kind = ID_PREFIXES[match["prefix"]].rsplit("::", 1)[-1]
            raise InvalidReference(
                f"{text!r} looks like an {kind} id, but those have 8 or 17 hex digits "
                f"after '{match['prefix']}-' (this one has {len(match['hex'])})"
            )
        return ResourceRef(
            given=given, id=text.lower(), type=ID_PREFIXES[match["prefix"]], service="ec2"
        )
    if not re.fullmatch(r"[A-Za-z0-9._:/+=,@-]+", text):
        raise InvalidReference(
            f"{text[:80]!r} is not an AWS id, ARN or resource name "
            "(names use letters, digits and . _ - / : + = , @)"
        )
    return ResourceRef(given=given, id=text)


def _parse_arn(given: str, text: str) -> ResourceRef:
    match = _ARN.match(text)
    if not match:
        raise InvalidReference(
            f"{text[:80]!r} is not a valid ARN: "
            "expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
        )
    service, resource = match["service"], match["resource"]
    kind, resource_id = _split_arn_resource(service, resource)
    rtype = ARN_TYPES.get((service, kind))
    # EC2 and EBS resources are searched by their id; everything else by ARN and by name.
    if service == "ec2" and _ID.match(resource_id):
        resource_id = resource_id.lower()
    return ResourceRef(
        given=given,
        id=resource_id,
        type=rtype,
        service=service,
        region=match["region"] or None,
        account=match["account"] if match["account"].isdigit() else None,
        partition=match["partition"],
        arn=text,
    )


def _split_arn_resource(service: str, resource: str) -> tuple[str, str]:
    """Split an ARN's resource part into (kind, id) the way each service writes it."""
    if service in ("s3", "sqs", "sns"):
        return "", resource.split("/", 1)[0] if service == "s3" else resource
    if service == "elasticloadbalancing":
        # loadbalancer/app/NAME/HASH, loadbalancer/NAME (classic), targetgroup/NAME/HASH
        parts = resource.split("/")
        if parts[0] == "loadbalancer" and len(parts) >= 4:
            return "loadbalancer", parts[2]
        return parts[0], parts[1] if len(parts) > 1 else parts[0]
    if service == "autoscaling":
        # autoScalingGroup:UUID:autoScalingGroupName/NAME
        kind = resource.split(":", 1)[0]
        return kind, resource.rsplit("autoScalingGroupName/", 1)[-1]
    if service == "eks" and resource.startswith("nodegroup/"):
        parts = resource.split("/")
        return "nodegroup", parts[2] if len(parts) > 2 else parts[-1]
    if service == "cloudformation" and resource.startswith("stack/"):
        parts = resource.split("/")
        return "stack", parts[1] if len(parts) > 1 else resource
    for sep in ("/", ":"):
        if sep in resource:
            kind, rest = resource.split(sep, 1)
            if service == "iam":
                # IAM paths: role/service-role/NAME → NAME
                rest = rest.rsplit("/", 1)[-1]
            elif service == "lambda":
                rest = rest.split(":", 1)[0]  # drop a version or alias qualifier
            return kind, rest
    return "", resource


def home_region_for_service(service: str, partition: str = "aws") -> str | None:
    return GLOBAL_SERVICE_HOME.get(service, {}).get(partition)
