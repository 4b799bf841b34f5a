"""The patrol side of the type registry: every patrol type, declared once (DESIGN.md §1).

`PATROL` holds the declarations (bot/registry/patrol/<service>.py) in the order a round
inventories them. Everything else reads them from here: the inventory, metrics, idle rules,
prices, buttons and their words, AWS handlers, tag writers, creation-time readers, the policy
file's `[idle.<type>]` keys and the permissions table. A new patrol type is one declaration in
one of those modules (and its functions in bot/aws/kinds/), listed in `_DECLARED` below.

The functions here are the registry's answers by CloudFormation type, for callers that hold a
type and not its declaration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.aws.creation_hints import Hints, Reader
from bot.core import costs
from bot.core.actions import Action
from bot.core.created_by import ResourceKey, Subject, subject
from bot.core.idle import MetricSpec, Observations
from bot.core.policy import Thresholds
from bot.core.resources import Cost, Resource, Verdict
from bot.registry.patrol import (
    dynamodb,
    ec2,
    eks,
    elasticache,
    elb,
    emr,
    lookup_readers,
    opensearch,
    rds,
    redshift,
    sagemaker,
)
from bot.registry.patrol.spec import PatrolType, PatrolTypes

_DECLARED: tuple[PatrolType, ...] = (
    *ec2.TYPES,
    *elb.TYPES,
    *rds.TYPES,
    *eks.TYPES,
    *sagemaker.TYPES,
    *opensearch.TYPES,
    *elasticache.TYPES,
    *redshift.TYPES,
    *emr.TYPES,
    *dynamodb.TYPES,
)

PATROL = PatrolTypes(_DECLARED)
PATROLLED_TYPES: tuple[str, ...] = PATROL.types

# Every creation-time reader: the patrol types' own, then the lookup-only ones.
READERS: Mapping[str, Reader] = {
    **{t.cfn_type: t.hint for t in PATROL.declared if t.hint is not None},
    **lookup_readers.READERS,
}
HINTS = Hints(READERS)

# The metrics each type's rule reads (a v2 load balancer's depend on its kind: metrics_for).
METRICS: Mapping[str, tuple[MetricSpec, ...]] = {
    t.cfn_type: t.metrics for t in PATROL.declared if t.metrics
}

__all__ = [
    "HINTS",
    "METRICS",
    "PATROL",
    "PATROLLED_TYPES",
    "READERS",
    "PatrolType",
    "PatrolTypes",
    "actions_for",
    "components",
    "dimension_value",
    "evaluate",
    "metrics_for",
    "monthly_cost",
    "tag_subject",
]


def evaluate(
    resource: Resource, observations: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    """Judge one resource by its type's rule (unknown for a type without one)."""
    return PATROL.evaluate(resource, observations, thresholds, now)


def metrics_for(resource: Resource) -> tuple[MetricSpec, ...]:
    return PATROL.metrics_for(resource)


def dimension_value(resource: Resource) -> str | None:
    return PATROL.dimension_value(resource)


def actions_for(resource_type: str, state: str | None = None) -> tuple[Action, ...]:
    """The buttons a resource of this type, in this state, gets (Keep and Not mine at least)."""
    return PATROL.buttons(Resource(resource_type, "", "", "", state=state))


def components(resource: Resource) -> Sequence[costs.Component] | costs.Unpriced:
    """The prices a resource needs, as Pricing API queries, and how many units a month."""
    return PATROL.parts(resource)


def monthly_cost(resource: Resource, quotes: Mapping[costs.PriceQuery, costs.Quote]) -> Cost:
    return costs.monthly_cost(resource, components(resource), quotes, PATROL.caveat(resource))


def tag_subject(key: ResourceKey, created_at: datetime | None) -> Subject:
    """What a whocreated tag's signature binds for this resource (its type says whether its
    id is unique or a reusable name)."""
    return subject(key, created_at, unique_id=PATROL.unique_ids(key[2]))
