"""Redshift's patrolled type in AWS: provisioned clusters.

What its declaration (bot/registry/patrol/redshift.py) points at: listing, buttons (pause, and
delete with a final snapshot), tags, creation times for lookups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, owner_tags
from bot.aws.inventory import Scan, items, parents, utc
from bot.aws.operations import (
    Operations,
    Outcome,
    Stop,
    Target,
    already,
    dry,
    gone,
    raise_if_gone,
    refused,
)
from bot.aws.tagging import arn_of, aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import Resource

CLUSTER = "AWS::Redshift::Cluster"
SERVICE = "redshift"
GONE = ("ClusterNotFound",)


# Inventory --------------------------------------------------------------------------------------


def clusters(scan: Scan) -> list[Resource]:
    resources = []
    for cluster in items(scan.client(SERVICE), "describe_clusters", "Clusters", page_size=100):
        identifier = cluster["ClusterIdentifier"]
        tags = tags_of(cluster.get("Tags"))
        nodes = cluster.get("NumberOfNodes") or 1
        resources.append(
            Resource(
                type=CLUSTER,
                id=identifier,
                region=scan.region,
                account=scan.account,
                name=identifier,
                arn=scan.arn(SERVICE, f"cluster:{identifier}"),
                state=cluster.get("ClusterStatus"),
                created_at=utc(cluster.get("ClusterCreateTime")),
                size=cluster.get("NodeType"),
                tags=tags,
                details={
                    **parents(tags),
                    "nodes": nodes,
                    "database": cluster.get("DBName"),
                },
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def _cluster(ops: Operations, target: Target) -> tuple[Any, dict[str, Any], str]:
    client = target.client(SERVICE)
    try:
        found = client.describe_clusters(ClusterIdentifier=target.id)["Clusters"]
    except ClientError as error:
        raise_if_gone(error, target.id, codes=GONE)
        raise
    if not found or found[0].get("ClusterStatus") in ("deleting", "final-snapshot"):
        raise Stop(gone(target.id))
    cluster = found[0]
    ops.check_identity(target, cluster.get("ClusterCreateTime"))
    label = f"the Redshift cluster {target.id}"
    ops.check_tags(label, tags_of(cluster.get("Tags")))
    return client, cluster, label


def pause_cluster(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client, cluster, label = _cluster(ops, target)
    status = cluster.get("ClusterStatus")
    if status in ("paused", "pausing"):
        return already(f"{label[0].upper()}{label[1:]} is already paused: nothing to do.")
    if status != "available":
        return refused(f"{label[0].upper()}{label[1:]} is {status} right now; try again later.")
    where = f"{label} in {target.region}"
    if dry_run:
        return dry(f"paused {where}")
    client.pause_cluster(ClusterIdentifier=target.id)
    return Outcome(
        done=True,
        summary=f"Pausing {where}. Its storage stays (and still costs); it can be resumed.",
    )


def delete_cluster(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client, _, label = _cluster(ops, target)
    where = f"{label} in {target.region}"
    snapshot_id = f"whocreated-final-{target.id}-{ops.clock():%Y%m%d%H%M}"
    if ops.policy.snapshot_before_delete:
        how = f" after a final snapshot {snapshot_id}"
        ask: dict[str, Any] = {"FinalClusterSnapshotIdentifier": snapshot_id}
    else:
        how = " without a final snapshot (snapshots are off)"
        ask = {"SkipFinalClusterSnapshot": True}
    if dry_run:
        return dry(f"deleted {where}{how}")
    client.delete_cluster(ClusterIdentifier=target.id, **ask)
    taken = [snapshot_id] if ops.policy.snapshot_before_delete else []
    return Outcome(done=True, summary=f"Deleting {where}{how}.", snapshots=taken)


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # CreateTags takes one ARN
        arn = resource.arn or arn_of(resource, SERVICE, "cluster:")
        client.create_tags(ResourceName=arn, Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_cluster(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    try:
        found = client_for(SERVICE, region).describe_clusters(ClusterIdentifier=ref.id)["Clusters"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in GONE:
            return Hint(exists=False)
        raise
    if not found:
        return Hint(exists=False)
    cluster = found[0]
    return Hint(
        utc(cluster.get("ClusterCreateTime")), owner_tags(cluster.get("Tags")), region, None, True
    )
