"""ElastiCache's patrolled type in AWS: cache clusters (Redis OSS, Valkey and Memcached nodes).

What its declaration (bot/registry/patrol/elasticache.py) points at: listing, buttons, tags,
creation times for lookups. A cluster that belongs to a replication group is deleted with its
group, not on its own; Memcached keeps no snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, optional, owner_tags
from bot.aws.inventory import Scan, items, parents, utc
from bot.aws.operations import (
    Operations,
    Outcome,
    Stop,
    Target,
    dry,
    gone,
    raise_if_gone,
    refused,
)
from bot.aws.tagging import arn_of, aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import Resource

CLUSTER = "AWS::ElastiCache::CacheCluster"
SERVICE = "elasticache"
GONE = ("CacheClusterNotFound",)
# Engines whose data a snapshot keeps (Valkey speaks Redis OSS's protocol and metrics).
SNAPSHOT_ENGINES = frozenset({"redis", "valkey"})


def family(engine: str | None) -> str | None:
    """The metric family an engine reports: redis (Redis OSS, Valkey) or memcached."""
    return "redis" if engine in SNAPSHOT_ENGINES else engine


def _arn(cluster: dict[str, Any], target: Target) -> str:
    if cluster.get("ARN"):
        return str(cluster["ARN"])
    resource = Resource(CLUSTER, cluster["CacheClusterId"], target.region, target.account)
    return arn_of(resource, SERVICE, "cluster:")


# Inventory --------------------------------------------------------------------------------------


def clusters(scan: Scan) -> list[Resource]:
    client = scan.client(SERVICE)
    resources = []
    found = items(
        client, "describe_cache_clusters", "CacheClusters", page_size=100, ShowCacheNodeInfo=True
    )
    for cluster in found:
        identifier = cluster["CacheClusterId"]
        arn = cluster.get("ARN") or scan.arn(SERVICE, f"cluster:{identifier}")
        tags = tags_of(client.list_tags_for_resource(ResourceName=arn).get("TagList"))
        engine = cluster.get("Engine")
        nodes = cluster.get("NumCacheNodes") or len(cluster.get("CacheNodes", []))
        resources.append(
            Resource(
                type=CLUSTER,
                id=identifier,
                region=scan.region,
                account=scan.account,
                name=identifier,
                arn=arn,
                state=cluster.get("CacheClusterStatus"),
                created_at=utc(cluster.get("CacheClusterCreateTime")),
                size=cluster.get("CacheNodeType"),
                tags=tags,
                details={
                    **parents(tags),
                    "engine": engine,
                    "engine_version": cluster.get("EngineVersion"),
                    "family": family(engine),
                    "nodes": nodes,
                    "node_ids": [n["CacheNodeId"] for n in cluster.get("CacheNodes", [])],
                    "replication_group": cluster.get("ReplicationGroupId"),
                },
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def delete_cluster(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client = target.client(SERVICE)
    try:
        found = client.describe_cache_clusters(CacheClusterId=target.id)["CacheClusters"]
    except ClientError as error:
        raise_if_gone(error, target.id, codes=GONE)
        raise
    if not found or found[0].get("CacheClusterStatus") == "deleting":
        raise Stop(gone(target.id))
    cluster = found[0]
    ops.check_identity(target, cluster.get("CacheClusterCreateTime"))
    label = f"the ElastiCache cluster {target.id}"
    if cluster.get("ReplicationGroupId"):
        return refused(
            f"{label[0].upper()}{label[1:]} belongs to the replication group "
            f"{cluster['ReplicationGroupId']}: that is deleted as a group, not from here."
        )
    arn = _arn(cluster, target)
    ops.check_tags(label, tags_of(client.list_tags_for_resource(ResourceName=arn).get("TagList")))
    if cluster.get("CacheClusterStatus") != "available":
        status = cluster.get("CacheClusterStatus")
        return refused(f"{label[0].upper()}{label[1:]} is {status} right now; try again later.")
    where = f"{label} in {target.region}"
    snapshot_id = f"whocreated-final-{target.id}-{ops.clock():%Y%m%d%H%M}"
    snapshot = ops.policy.snapshot_before_delete and cluster.get("Engine") in SNAPSHOT_ENGINES
    ask: dict[str, Any] = {"FinalSnapshotIdentifier": snapshot_id} if snapshot else {}
    if snapshot:
        how = f" after a final snapshot {snapshot_id}"
    elif cluster.get("Engine") in SNAPSHOT_ENGINES:
        how = " without a final snapshot (snapshots are off)"
    else:
        how = f" ({cluster.get('Engine')} keeps no snapshot: its data goes with it)"
    if dry_run:
        return dry(f"deleted {where}{how}")
    client.delete_cache_cluster(CacheClusterId=target.id, **ask)
    return Outcome(
        done=True, summary=f"Deleting {where}{how}.", snapshots=[snapshot_id] if snapshot else []
    )


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # AddTagsToResource takes one ARN
        arn = resource.arn or arn_of(resource, SERVICE, "cluster:")
        client.add_tags_to_resource(ResourceName=arn, Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_cluster(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    client = client_for(SERVICE, region)
    try:
        found = client.describe_cache_clusters(CacheClusterId=ref.id)["CacheClusters"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in GONE:
            return Hint(exists=False)
        raise
    if not found:
        return Hint(exists=False)
    cluster = found[0]
    arn = cluster.get("ARN") or ref.arn
    tags, note = (
        optional(
            lambda: client.list_tags_for_resource(ResourceName=arn).get("TagList"),
            "elasticache:ListTagsForResource",
            "owner tags not read",
        )
        if arn
        else (None, None)
    )
    return Hint(utc(cluster.get("CacheClusterCreateTime")), owner_tags(tags), region, note, True)
