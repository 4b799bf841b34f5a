"""Elastic Load Balancing's patrolled types in AWS: v2 load balancers (ALB, NLB) and classic ones.

What their declarations (bot/registry/patrol/elb.py) point at: listing, buttons, tags, creation
times for lookups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, optional, owner_tags
from bot.aws.inventory import Scan, batches, items, parents, utc
from bot.aws.operations import (
    Operations,
    Outcome,
    Target,
    dry,
    first_tags,
    gone,
    raise_if_gone,
    refused,
)
from bot.aws.tagging import aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import CLASSIC_LOAD_BALANCER, LOAD_BALANCER, Resource

TAG_BATCH = 20  # DescribeTags and AddTags take at most 20 load balancers (v2 ARNs or names)


# Inventory --------------------------------------------------------------------------------------


def load_balancers(scan: Scan) -> list[Resource]:
    client = scan.client("elbv2")
    described = list(items(client, "describe_load_balancers", "LoadBalancers", page_size=400))
    tags: dict[str, dict[str, str]] = {}
    for batch in batches([lb["LoadBalancerArn"] for lb in described], TAG_BATCH):
        for found in client.describe_tags(ResourceArns=batch).get("TagDescriptions", []):
            tags[found["ResourceArn"]] = tags_of(found.get("Tags"))
    resources = []
    for lb in described:
        arn = lb["LoadBalancerArn"]
        own = tags.get(arn, {})
        resources.append(
            Resource(
                type=LOAD_BALANCER,
                id=arn,
                region=scan.region,
                account=scan.account,
                name=lb.get("LoadBalancerName"),
                arn=arn,
                state=lb.get("State", {}).get("Code"),
                created_at=utc(lb.get("CreatedTime")),
                size=lb.get("Type"),
                tags=own,
                details={
                    **parents(own),
                    "lb_type": lb.get("Type"),
                    "scheme": lb.get("Scheme"),
                    "dns_name": lb.get("DNSName"),
                    "vpc_id": lb.get("VpcId"),
                },
            )
        )
    return resources


def classic_load_balancers(scan: Scan) -> list[Resource]:
    client = scan.client("elb")
    described = list(
        items(client, "describe_load_balancers", "LoadBalancerDescriptions", page_size=400)
    )
    tags: dict[str, dict[str, str]] = {}
    for batch in batches([lb["LoadBalancerName"] for lb in described], TAG_BATCH):
        for found in client.describe_tags(LoadBalancerNames=batch).get("TagDescriptions", []):
            tags[found["LoadBalancerName"]] = tags_of(found.get("Tags"))
    resources = []
    for lb in described:
        name = lb["LoadBalancerName"]
        own = tags.get(name, {})
        resources.append(
            Resource(
                type=CLASSIC_LOAD_BALANCER,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=scan.arn("elasticloadbalancing", f"loadbalancer/{name}"),
                created_at=utc(lb.get("CreatedTime")),
                size="classic",
                tags=own,
                details={
                    **parents(own),
                    "lb_type": "classic",
                    "scheme": lb.get("Scheme"),
                    "dns_name": lb.get("DNSName"),
                    "instance_count": len(lb.get("Instances", [])),
                },
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def delete_load_balancer(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    elb = target.client("elbv2")
    is_arn = target.id.startswith("arn:")
    ask = {"LoadBalancerArns": [target.id]} if is_arn else {"Names": [target.id]}
    try:
        found = elb.describe_load_balancers(**ask)["LoadBalancers"]
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    if not found:
        return gone(target.id)
    arn, name = found[0]["LoadBalancerArn"], found[0].get("LoadBalancerName") or target.id
    if not is_arn:  # found by name, which a newer load balancer may have taken
        ops.check_identity(target, found[0].get("CreatedTime"))
    attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    if any(
        a["Key"] == "deletion_protection.enabled" and str(a.get("Value")).lower() == "true"
        for a in attributes
    ):
        return refused(f"The load balancer {name} has deletion protection on: I leave it.")
    descriptions = elb.describe_tags(ResourceArns=[arn]).get("TagDescriptions", [])
    ops.check_tags(f"The load balancer {name}", tags_of(first_tags(descriptions)))
    where = f"the load balancer {name} in {target.region}"
    if dry_run:
        return dry(f"deleted {where}")
    elb.delete_load_balancer(LoadBalancerArn=arn)
    return Outcome(done=True, summary=f"Deleted {where}. Its target groups and instances are left.")


def delete_classic_load_balancer(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    elb = target.client("elb")
    try:
        found = elb.describe_load_balancers(LoadBalancerNames=[target.id])
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    if not found.get("LoadBalancerDescriptions"):
        return gone(target.id)
    ops.check_identity(target, found["LoadBalancerDescriptions"][0].get("CreatedTime"))
    descriptions = elb.describe_tags(LoadBalancerNames=[target.id]).get("TagDescriptions", [])
    ops.check_tags(f"The load balancer {target.id}", tags_of(first_tags(descriptions)))
    where = f"the classic load balancer {target.id} in {target.region}"
    if dry_run:
        return dry(f"deleted {where}")
    elb.delete_load_balancer(LoadBalancerName=target.id)
    return Outcome(done=True, summary=f"Deleted {where}. Its instances are left.")


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    client.add_tags(ResourceArns=[r.arn or r.id for r in resources], Tags=aws_tags(tags))


def write_classic_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    client.add_tags(LoadBalancerNames=[r.id for r in resources], Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_load_balancer(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    if ref.arn and "/app/" not in ref.arn and "/net/" not in ref.arn and "/gwy/" not in ref.arn:
        return read_classic_load_balancer(client_for, region, ref)
    elbv2 = client_for("elbv2", region)
    query = {"LoadBalancerArns": [ref.arn]} if ref.arn else {"Names": [ref.id]}
    balancers = elbv2.describe_load_balancers(**query).get("LoadBalancers", [])
    if not balancers:
        return Hint(exists=False)
    balancer = balancers[0]
    described, note = optional(
        lambda: elbv2.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]]),
        "elasticloadbalancing:DescribeTags",
        "owner tags not read",
    )
    tags = [
        t for item in (described or {}).get("TagDescriptions", []) for t in item.get("Tags", [])
    ]
    return Hint(utc(balancer.get("CreatedTime")), owner_tags(tags), region, note, True)


def read_classic_load_balancer(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    elb = client_for("elb", region)
    found = elb.describe_load_balancers(LoadBalancerNames=[ref.id])
    balancers = found.get("LoadBalancerDescriptions", [])
    if not balancers:
        return Hint(exists=False)
    described, note = optional(
        lambda: elb.describe_tags(LoadBalancerNames=[ref.id]),
        "elasticloadbalancing:DescribeTags",
        "owner tags not read",
    )
    tags = [
        t for item in (described or {}).get("TagDescriptions", []) for t in item.get("Tags", [])
    ]
    return Hint(utc(balancers[0].get("CreatedTime")), owner_tags(tags), region, note, True)
