"""EMR's patrolled type in AWS: clusters that are up (starting, running or waiting).

What its declaration (bot/registry/patrol/emr.py) points at: listing, the Terminate button
(never through termination protection), tags, creation times for lookups. EMR answers an id it
does not know with InvalidRequestException ("… is not valid").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, owner_tags
from bot.aws.errors import error_code
from bot.aws.inventory import Scan, items, parents, utc
from bot.aws.operations import (
    Operations,
    Outcome,
    Stop,
    Target,
    dry,
    gone,
    refused,
)
from bot.aws.tagging import aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import Resource

CLUSTER = "AWS::EMR::Cluster"
SERVICE = "emr"
UP = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING")
ENDED = ("TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS")


def _missing(error: ClientError) -> bool:
    message = str(error.response.get("Error", {}).get("Message") or "")
    return error_code(error) == "InvalidRequestException" and "is not valid" in message


# Inventory --------------------------------------------------------------------------------------


def clusters(scan: Scan) -> list[Resource]:
    client = scan.client(SERVICE)
    resources = []
    for listed in items(client, "list_clusters", "Clusters", ClusterStates=list(UP)):
        identifier = listed["Id"]
        cluster = client.describe_cluster(ClusterId=identifier)["Cluster"]
        running = _running(client, identifier, cluster.get("InstanceCollectionType"))
        tags = tags_of(cluster.get("Tags"))
        status = cluster.get("Status", {})
        resources.append(
            Resource(
                type=CLUSTER,
                id=identifier,
                region=scan.region,
                account=scan.account,
                name=cluster.get("Name"),
                arn=cluster.get("ClusterArn")
                or scan.arn("elasticmapreduce", f"cluster/{identifier}"),
                state=status.get("State"),
                created_at=utc(status.get("Timeline", {}).get("CreationDateTime")),
                size=cluster.get("ReleaseLabel"),
                tags=tags,
                details={
                    **parents(tags),
                    "running_instances": dict(running),
                    "node_count": sum(running.values()),
                    "termination_protection": bool(cluster.get("TerminationProtected")),
                },
            )
        )
    return resources


def _running(client: Any, identifier: str, collection: str | None) -> Counter[str]:
    """Instance type → how many run: counted by instance group, or (an instance fleet mixes
    types) instance by instance."""
    if collection == "INSTANCE_FLEET":
        return Counter(
            str(instance.get("InstanceType"))
            for instance in items(
                client,
                "list_instances",
                "Instances",
                ClusterId=identifier,
                InstanceStates=["RUNNING"],
            )
        )
    running: Counter[str] = Counter()
    for group in items(client, "list_instance_groups", "InstanceGroups", ClusterId=identifier):
        running[str(group.get("InstanceType"))] += int(group.get("RunningInstanceCount") or 0)
    return +running  # groups with none running are left out


# Buttons ----------------------------------------------------------------------------------------


def terminate_cluster(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client = target.client(SERVICE)
    try:
        cluster = client.describe_cluster(ClusterId=target.id)["Cluster"]
    except ClientError as error:
        if _missing(error):
            raise Stop(gone(target.id)) from error
        raise
    state = cluster.get("Status", {}).get("State")
    name = cluster.get("Name")
    label = f"the EMR cluster {name} ({target.id})" if name else f"the EMR cluster {target.id}"
    if state in ENDED:
        return gone(target.id, "already terminated")
    ops.check_tags(label, tags_of(cluster.get("Tags")))
    if cluster.get("TerminationProtected"):
        return refused(f"{label[0].upper()}{label[1:]} has termination protection on: I leave it.")
    where = f"{label} in {target.region}"
    if dry_run:
        return dry(f"terminated {where}")
    client.terminate_job_flows(JobFlowIds=[target.id])
    return Outcome(
        done=True,
        summary=f"Terminating {where}. Its instances go with it, and so does what is only on "
        "their disks (HDFS).",
    )


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # AddTags takes one cluster id
        client.add_tags(ResourceId=resource.id, Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_cluster(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    try:
        cluster = client_for(SERVICE, region).describe_cluster(ClusterId=ref.id)["Cluster"]
    except ClientError as error:
        if _missing(error):
            return Hint(exists=False)
        raise
    created = cluster.get("Status", {}).get("Timeline", {}).get("CreationDateTime")
    return Hint(utc(created), owner_tags(cluster.get("Tags")), region, None, True)
