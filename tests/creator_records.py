"""CloudTrail creation records for owner resolution: volumes, addresses, databases, clusters, and
the parents (Auto Scaling groups, CloudFormation stacks, EKS node groups) with the identities AWS
services act under.

Shapes follow real records (tests/fixtures/cloudtrail, AWS's CloudTrail documentation): an
instance launched by Auto Scaling is a RunInstances by the AWSServiceRoleForAutoScaling role with
invokedBy autoscaling.amazonaws.com and an aws:autoscaling:groupName tag in its request; a resource
made by CloudFormation carries the caller's identity with invokedBy cloudformation.amazonaws.com.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, ELASTIC_IP
from tests.trail_support import ACCOUNT, create_tags, describe_instances, record, run_instances

PEOPLE = ("alice", "bob", "carol")

_serial = itertools.count(0x100)


def hex_id(prefix: str) -> str:
    return f"{prefix}-{next(_serial):017x}"


def service_linked(rec: dict[str, Any], role: str, service: str) -> dict[str, Any]:
    """The record as made by a service through its service-linked role."""
    rec["userIdentity"] = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role.upper()}:{role}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{service.split('.')[0]}",
        "accountId": ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROAEXAMPLE{role.upper()}",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            }
        },
        "invokedBy": service,
    }
    rec["userAgent"] = service
    rec["sourceIPAddress"] = service
    return rec


def with_tags(rec: dict[str, Any], resource_type: str, tags: dict[str, str]) -> dict[str, Any]:
    """Add an EC2-style tagSpecificationSet to the request."""
    request = rec.setdefault("requestParameters", {}) or {}
    rec["requestParameters"] = request
    request["tagSpecificationSet"] = {
        "items": [
            {
                "resourceType": resource_type,
                "tags": [{"key": key, "value": value} for key, value in tags.items()],
            }
        ]
    }
    return rec


def via_cloudformation(rec: dict[str, Any]) -> dict[str, Any]:
    rec["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    rec["userAgent"] = "cloudformation.amazonaws.com"
    return rec


def asg_instance(instance_id: str, when: datetime, group: str, region: str = "us-east-1") -> dict:
    rec = run_instances(instance_id, when, region=region)
    with_tags(rec, "instance", {"aws:autoscaling:groupName": group})
    return service_linked(rec, "AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com")


def create_volume(volume_id: str, when: datetime, user: str, region: str = "us-east-1") -> dict:
    return record(
        "CreateVolume",
        when,
        region=region,
        user=user,
        request={"size": 8, "zone": f"{region}a", "volumeType": "gp3"},
        response={"volumeId": volume_id, "size": "8", "status": "creating"},
    )


def allocate_address(allocation: str, when: datetime, user: str, region: str = "us-east-1") -> dict:
    return record(
        "AllocateAddress",
        when,
        region=region,
        user=user,
        request={"domain": "vpc"},
        response={"allocationId": allocation, "publicIp": "198.51.100.7", "domain": "vpc"},
    )


def create_db(identifier: str, when: datetime, user: str, region: str = "us-east-1") -> dict:
    return record(
        "CreateDBInstance",
        when,
        region=region,
        user=user,
        source="rds.amazonaws.com",
        request={"dBInstanceIdentifier": identifier, "engine": "postgres"},
        response={
            "dBInstanceIdentifier": identifier,
            "dBInstanceArn": f"arn:aws:rds:{region}:{ACCOUNT}:db:{identifier}",
        },
    )


def create_asg(
    name: str, when: datetime, user: str, region: str = "us-east-1", tags: dict | None = None
) -> dict:
    return record(
        "CreateAutoScalingGroup",
        when,
        region=region,
        user=user,
        source="autoscaling.amazonaws.com",
        request={
            "autoScalingGroupName": name,
            "minSize": 1,
            "maxSize": 3,
            "launchTemplate": {"launchTemplateName": f"{name}-lt", "version": "$Latest"},
            "tags": [
                {"key": key, "value": value, "propagateAtLaunch": True}
                for key, value in (tags or {}).items()
            ],
        },
        response=None,
    )


def create_stack(name: str, when: datetime, user: str, region: str = "us-east-1") -> dict:
    return record(
        "CreateStack",
        when,
        region=region,
        user=user,
        source="cloudformation.amazonaws.com",
        request={"stackName": name, "templateURL": "https://example.com/t.yaml"},
        response={"stackId": stack_arn(name, region)},
    )


def stack_arn(name: str, region: str = "us-east-1") -> str:
    stack_id = "0d1e2f30-aaaa-bbbb-cccc-0123456789ab"
    return f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/{stack_id}"


def create_nodegroup(
    cluster: str, name: str, when: datetime, user: str, region: str = "us-east-1"
) -> dict:
    arn = f"arn:aws:eks:{region}:{ACCOUNT}:nodegroup/{cluster}/{name}/{next(_serial):08x}"
    return record(
        "CreateNodegroup",
        when,
        region=region,
        user=user,
        source="eks.amazonaws.com",
        request={"name": cluster, "nodegroupName": name, "scalingConfig": {"minSize": 1}},
        response={
            "nodegroup": {"nodegroupName": name, "nodegroupArn": arn, "clusterName": cluster}
        },
    )


def create_eks_cluster(name: str, when: datetime, user: str, region: str = "us-east-1") -> dict:
    return record(
        "CreateCluster",
        when,
        region=region,
        user=user,
        source="eks.amazonaws.com",
        request={"name": name, "version": "1.29"},
        response={
            "cluster": {"name": name, "arn": f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"}
        },
    )


_FLEET_KINDS = {
    "instance": (EC2_INSTANCE, "i"),
    "volume": (EBS_VOLUME, "vol"),
    "address": (ELASTIC_IP, "eipalloc"),
}


def seed_fleet(
    server: Any, now: datetime, region: str, counts: dict[str, int]
) -> dict[str, tuple[str, str, datetime]]:
    """`counts` of instances, volumes and addresses made over 80 days by PEOPLE in turn, plus
    events that only mention the instances. Returns id → (type, creator, creation time)."""
    builders = {
        "instance": lambda rid, when, user: run_instances(rid, when, region=region, user=user),
        "volume": lambda rid, when, user: create_volume(rid, when, user, region),
        "address": lambda rid, when, user: allocate_address(rid, when, user, region),
    }
    made: dict[str, tuple[str, str, datetime]] = {}
    position = 0
    # Spread over the 80 days, however many there are: none may fall after `now`.
    step = min(timedelta(minutes=41), timedelta(days=79) / max(1, sum(counts.values())))
    for kind, count in counts.items():
        resource_type, prefix = _FLEET_KINDS[kind]
        for _ in range(count):
            user = PEOPLE[position % len(PEOPLE)]
            when = (now - timedelta(days=80) + step * position).replace(microsecond=0)
            resource_id = hex_id(prefix)
            server.add(builders[kind](resource_id, when, user))
            if kind == "instance":  # mentions: not creations, and not in EventName pages
                server.add(describe_instances(resource_id, when + timedelta(hours=1), region))
                server.add(create_tags(resource_id, when + timedelta(hours=2), region))
            made[resource_id] = (resource_type, user, when)
            position += 1
    return made


def create_load_balancer_v2(
    name: str, when: datetime, user: str, region: str = "us-east-1"
) -> dict:
    suffix = f"{next(_serial):016x}"
    arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/app/{name}/{suffix}"
    return record(
        "CreateLoadBalancer",
        when,
        region=region,
        user=user,
        source="elasticloadbalancing.amazonaws.com",
        request={"name": name, "type": "application", "subnets": ["subnet-0123456789abcdef0"]},
        response={"loadBalancers": [{"loadBalancerArn": arn, "loadBalancerName": name}]},
    )


def create_classic_load_balancer(
    name: str, when: datetime, user: str, region: str = "us-east-1"
) -> dict:
    return record(
        "CreateLoadBalancer",
        when,
        region=region,
        user=user,
        source="elasticloadbalancing.amazonaws.com",
        request={
            "loadBalancerName": name,
            "listeners": [{"protocol": "HTTP", "loadBalancerPort": 80, "instancePort": 80}],
        },
        response={"dNSName": f"{name}-1234567890.{region}.elb.amazonaws.com"},
    )
