"""What a patrol round works with: a resource found in an account, its owner, and a finding.

Pure values shared by inventory (which makes Resources), the idle rules (which judge them), owner
resolution (which names their creators), the digests and the buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.events import CreationFact

# Some of the patrolled types by CloudFormation name, for the code that treats them specially
# (parents, lookups, the sandbox). Every patrolled type, and what is known of it, is declared in
# bot/registry/patrol/.
EC2_INSTANCE = "AWS::EC2::Instance"
EBS_VOLUME = "AWS::EC2::Volume"
ELASTIC_IP = "AWS::EC2::EIP"
NAT_GATEWAY = "AWS::EC2::NatGateway"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"  # ALB and NLB
CLASSIC_LOAD_BALANCER = "AWS::ElasticLoadBalancing::LoadBalancer"
RDS_INSTANCE = "AWS::RDS::DBInstance"
EKS_CLUSTER = "AWS::EKS::Cluster"


@dataclass(frozen=True)
class Resource:
    """One resource as the describe calls saw it."""

    type: str
    id: str  # i-…, vol-…, eipalloc-…, nat-…, the LB ARN (v2) or name (classic), DB id, cluster
    region: str
    account: str
    name: str | None = None  # the Name tag, or the LB / DB / cluster name
    arn: str | None = None
    state: str | None = None  # running, stopped, available, in-use, associated, active, …
    created_at: datetime | None = None  # the service's creation time, when it reports one
    state_since: datetime | None = None  # e.g. when an instance was stopped
    size: str | None = None  # instance type, "100 GiB gp3", DB class, "application"/"network"
    tags: Mapping[str, str] = field(default_factory=dict)
    # Type-specific facts: volume_gib, volume_type, attached_volumes (list of {id, gib, type}),
    # engine, multi_az, storage_gib, lb_type, node_count, autoscaling_group, cloudformation_stack,
    # eks_nodegroup, eks_cluster, termination_protection, deletion_protection, public_ip, …
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.type, self.id)

    @property
    def label(self) -> str:
        """How people recognise it: `web-1 (i-0abc…)`."""
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class Verdict:
    """Is it idle, and why, in numbers people can check."""

    idle: bool
    reasons: tuple[str, ...] = ()  # "max CPU 0.4 % over 7 days", "12 KB network in 7 days"
    idle_since: datetime | None = None
    series: tuple[float, ...] = ()  # e.g. hourly max CPU, for a sparkline; empty when no metric
    unknown: bool = False  # not enough data to judge (too young, metric missing): never nudged


@dataclass(frozen=True)
class Owner:
    """Who a resource belongs to, and how we know."""

    aws_name: str | None  # the creator's human name (events.Actor.name) or the owner tag value
    source: str  # "tag:Owner", "cache", "cloudtrail", "parent:<type> <id>", "none"
    slack_user: str | None = None
    fact: CreationFact | None = None
    reason: str | None = None  # when unknown: why (for the fallback channel)
    # True when a trusted source named them (DESIGN.md §4, Trust): CloudTrail's creator mapped
    # by trusted rules, a trusted or signed tag. False for a claim (an owner tag): the digest
    # goes to them, but only admins may press its buttons.
    verified: bool = False

    @property
    def known(self) -> bool:
        return self.slack_user is not None


@dataclass(frozen=True)
class Cost:
    monthly_usd: float | None  # None: no price found, never invented
    note: str | None = None  # how it was priced, or why there is no price


@dataclass(frozen=True)
class Finding:
    """An idle resource, its owner and its cost: one line of a digest."""

    resource: Resource
    verdict: Verdict
    owner: Owner
    cost: Cost
    actions: tuple[str, ...]  # decisions.Action values offered as buttons
