"""EKS's patrolled type in AWS: clusters, and the nodes that make one busy.

What its declaration (bot/registry/patrol/eks.py) points at: listing, tags, creation times for
lookups. It has no button that changes AWS: deleting a cluster takes its node groups, add-ons and
load balancers with it, too broad for one button.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.aws.creation_hints import ClientFor, Hint, owner_tags
from bot.aws.inventory import Scan, items, parents, utc
from bot.aws.kinds.ec2 import described_instances
from bot.aws.tagging import arn_of, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import EKS_CLUSTER, Resource

# Inventory --------------------------------------------------------------------------------------


def clusters(scan: Scan) -> list[Resource]:
    client = scan.client("eks")
    resources = []
    for name in map(str, items(client, "list_clusters", "clusters", page_size=100)):
        cluster = client.describe_cluster(name=name)["cluster"]
        groups = list(
            items(client, "list_nodegroups", "nodegroups", page_size=100, clusterName=name)
        )
        managed = sum(
            client.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
            .get("scalingConfig", {})
            .get("desiredSize", 0)
            for group in groups
        )
        fargate = len(
            list(
                items(
                    client,
                    "list_fargate_profiles",
                    "fargateProfileNames",
                    page_size=100,
                    clusterName=name,
                )
            )
        )
        self_managed = _self_managed_nodes(scan, name)
        tags = dict(cluster.get("tags") or {})
        resources.append(
            Resource(
                type=EKS_CLUSTER,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=cluster.get("arn") or scan.arn("eks", f"cluster/{name}"),
                state=str(cluster.get("status", "")).lower() or None,
                created_at=utc(cluster.get("createdAt")),
                size=cluster.get("version"),
                tags=tags,
                details={
                    **parents(tags),
                    # Fargate profiles count as nodes: pods may run there at any time.
                    "node_count": managed + fargate + self_managed,
                    "nodegroups": len(groups),
                    "managed_nodes": managed,
                    "fargate_profiles": fargate,
                    "self_managed_nodes": self_managed,
                    "version": cluster.get("version"),
                },
            )
        )
    return resources


def _self_managed_nodes(scan: Scan, cluster: str) -> int:
    """Live instances joined to the cluster outside managed node groups."""
    return sum(
        1
        for instance in described_instances(scan)
        if f"kubernetes.io/cluster/{cluster}" in (tags := tags_of(instance.get("Tags")))
        and "eks:nodegroup-name" not in tags
    )


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # TagResource takes one ARN
        client.tag_resource(resourceArn=arn_of(resource, "eks", "cluster/"), tags=dict(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_cluster(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    cluster = client_for("eks", region).describe_cluster(name=ref.id)["cluster"]
    return Hint(utc(cluster.get("createdAt")), owner_tags(cluster.get("tags")), region, None, True)
