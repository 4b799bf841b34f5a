"""Elastic Load Balancing's patrol types: v2 load balancers (ALB, NLB) and classic ones."""

from __future__ import annotations

import re

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import elb
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.events import CreationFact
from bot.core.kinds import said
from bot.core.policy import LOOKBACK_DAYS
from bot.core.resources import CLASSIC_LOAD_BALANCER, LOAD_BALANCER, Resource
from bot.registry.patrol.spec import PatrolType

K, D, N = Action.KEEP, Action.DELETE, Action.NOT_MINE

ARN = "arn:{partition}:elasticloadbalancing:*:*:loadbalancer/*"
READS = ("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags")
LEFT = said("; its target groups and instances are left as they are")
_V2 = re.compile(r":loadbalancer/(?:app|net|gwy)/")


def _by_name(resource: Resource) -> str:
    # The id is a long ARN; the name is unique per account and region.
    return resource.name or resource.label


def _only_arn(resource: Resource) -> tuple[str, ...]:
    # The id of a v2 load balancer is its ARN; its name alone could be a classic one's.
    return (resource.arn or resource.id,)


def _classic_creation(fact: CreationFact) -> bool:
    """v1 and v2 share CreateLoadBalancer; a v2 creation answers with its ARN."""
    return not any(_V2.search(created) for created in fact.created)


LOAD_BALANCER_TYPE = PatrolType(
    cfn_type=LOAD_BALANCER,
    short="load_balancer",
    noun="load balancer",
    plural="load balancers (ALB/NLB)",
    rule=idle.load_balancer,
    idle_when=(
        "ALB: ≤ {max_lb_requests} requests, NLB: ≤ {max_nlb_flows} new flows, "
        "over {lookback_days} days"
    ),
    limits=(LOOKBACK_DAYS, idle.MAX_LB_REQUESTS, idle.MAX_NLB_FLOWS),
    metrics=idle.LOAD_BALANCER_METRICS,
    dimension=idle.v2_load_balancer_dimension,
    price=costs.load_balancer,
    caveat=costs.fixed("capacity units (LCU) not included"),
    buttons={None: (K, D, N)},
    words={D: LEFT},
    unique_ids=True,  # its id is its ARN, which ends in a random part
    label=_by_name,
    inventory=Lister("elbv2", elb.load_balancers, READS),
    actions={
        D: Act(
            elb.delete_load_balancer,
            (
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DeleteLoadBalancer",
            ),
        )
    },
    tagging=Writer("elbv2", "elasticloadbalancing:AddTags", elb.write_tags, elb.TAG_BATCH),
    hint=Reader(READS, elb.read_load_balancer),
    iam_resources=(ARN,),
    creation_names=_only_arn,
)

CLASSIC = PatrolType(
    cfn_type=CLASSIC_LOAD_BALANCER,
    short="classic_load_balancer",
    noun="classic load balancer",
    plural="classic load balancers",
    rule=idle.load_balancer,
    idle_when="≤ {max_lb_requests} requests over {lookback_days} days",
    limits=(LOOKBACK_DAYS, idle.MAX_LB_REQUESTS),
    metrics=idle.CLASSIC_LOAD_BALANCER_METRICS,
    price=costs.load_balancer,
    caveat=costs.fixed("data processed not included"),
    buttons={None: (K, D, N)},
    words={D: LEFT},
    inventory=Lister("elb", elb.classic_load_balancers, READS),
    actions={
        D: Act(
            elb.delete_classic_load_balancer,
            (
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DeleteLoadBalancer",
            ),
        )
    },
    tagging=Writer("elb", "elasticloadbalancing:AddTags", elb.write_classic_tags, elb.TAG_BATCH),
    hint=Reader(READS, elb.read_classic_load_balancer),
    iam_resources=(ARN,),
    accepts_creation=_classic_creation,
)

TYPES = (LOAD_BALANCER_TYPE, CLASSIC)
