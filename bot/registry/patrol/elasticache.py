"""ElastiCache's patrol type: cache clusters, deleted with a final snapshot where the engine keeps
one (Redis OSS, Valkey; not Memcached). A cluster in a replication group goes with its group."""

from __future__ import annotations

from datetime import datetime

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import elasticache
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.decisions import final_snapshot_words
from bot.core.policy import LOOKBACK_DAYS, Actions
from bot.core.resources import Resource
from bot.registry.patrol.spec import PatrolType

K, D, N = Action.KEEP, Action.DELETE, Action.NOT_MINE
ARN = "arn:{partition}:elasticache:*:*:cluster:*"
READS = ("elasticache:DescribeCacheClusters", "elasticache:ListTagsForResource")


def _delete_words(resource: Resource, actions: Actions, until: datetime | None) -> str:
    if resource.details.get("replication_group"):
        return f"; it belongs to the replication group {resource.details['replication_group']}"
    if resource.details.get("family") != "redis":
        engine = resource.details.get("engine") or "its engine"
        return f" ({engine} keeps no snapshot: its data goes with it)"
    return final_snapshot_words(resource, actions, until)


CLUSTER = PatrolType(
    cfn_type=elasticache.CLUSTER,
    short="elasticache_cluster",
    noun="ElastiCache cluster",
    plural="ElastiCache clusters",
    rule=idle.elasticache_cluster,
    idle_when="≤ {max_commands} get or set commands over {lookback_days} days",
    limits=(LOOKBACK_DAYS, idle.MAX_CACHE_COMMANDS),
    metrics=idle.ELASTICACHE_METRICS,
    series=idle.per_cache_node,
    price=costs.elasticache_cluster,
    buttons={None: (K, D, N)},
    words={D: _delete_words},
    inventory=Lister("elasticache", elasticache.clusters, READS),
    actions={
        D: Act(
            elasticache.delete_cluster,
            (*READS, "elasticache:DeleteCacheCluster"),
            snapshots=("elasticache:CreateSnapshot",),
            snapshot_resources=(ARN, "arn:{partition}:elasticache:*:*:snapshot:*"),
        )
    },
    tagging=Writer("elasticache", "elasticache:AddTagsToResource", elasticache.write_tags, 1),
    hint=Reader(READS, elasticache.read_cluster),
    iam_resources=(ARN,),
)

TYPES = (CLUSTER,)
