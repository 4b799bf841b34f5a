"""RDS's patrolled type in AWS: DB instances (Aurora members are done on their cluster).

What its declaration (bot/registry/patrol/rds.py) points at: listing, buttons, tags, creation
times for lookups.
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
from bot.core.resources import RDS_INSTANCE, Resource

# Inventory --------------------------------------------------------------------------------------


def instances(scan: Scan) -> list[Resource]:
    resources = []
    for db in items(scan.client("rds"), "describe_db_instances", "DBInstances", page_size=100):
        tags = tags_of(db.get("TagList"))
        identifier = db["DBInstanceIdentifier"]
        resources.append(
            Resource(
                type=RDS_INSTANCE,
                id=identifier,
                region=scan.region,
                account=scan.account,
                name=identifier,
                arn=db.get("DBInstanceArn") or scan.arn("rds", f"db:{identifier}"),
                state=db.get("DBInstanceStatus"),
                created_at=utc(db.get("InstanceCreateTime")),
                size=db.get("DBInstanceClass"),
                tags=tags,
                details={
                    **parents(tags),
                    "engine": db.get("Engine"),
                    "engine_version": db.get("EngineVersion"),
                    "multi_az": bool(db.get("MultiAZ")),
                    "storage_gib": db.get("AllocatedStorage"),
                    "storage_type": db.get("StorageType"),
                    "iops": db.get("Iops"),
                    "license_model": db.get("LicenseModel"),
                    "deletion_protection": bool(db.get("DeletionProtection")),
                    "db_cluster": db.get("DBClusterIdentifier"),
                },
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def _db(ops: Operations, target: Target) -> tuple[Any, dict[str, Any], str]:
    rds = target.client("rds")
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=target.id)["DBInstances"]
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    if not found or found[0].get("DBInstanceStatus") == "deleting":
        raise Stop(gone(target.id))
    db = found[0]
    ops.check_identity(target, db.get("InstanceCreateTime"))
    label = f"the database {target.id}"
    if db.get("DBClusterIdentifier"):
        raise Stop(
            refused(
                f"{label.capitalize()} belongs to the Aurora cluster "
                f"{db['DBClusterIdentifier']}: that is done on the cluster, not from here."
            )
        )
    ops.check_tags(label.capitalize(), tags_of(db.get("TagList")))
    return rds, db, label


def stop_instance(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    rds, db, label = _db(ops, target)
    status = db.get("DBInstanceStatus")
    if status in ("stopped", "stopping"):
        return already(f"{label.capitalize()} is already stopped: nothing to do.")
    if status != "available":
        return refused(f"{label.capitalize()} is {status} right now; try again later.")
    where = f"{label} in {target.region}"
    if dry_run:
        return dry(f"stopped {where}")
    rds.stop_db_instance(DBInstanceIdentifier=target.id)
    return Outcome(
        done=True,
        summary=f"Stopped {where}. AWS starts it again by itself after 7 days.",
    )


def delete_instance(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    rds, db, label = _db(ops, target)
    if db.get("DeletionProtection"):
        return refused(f"{label.capitalize()} has deletion protection on: I leave it alone.")
    where = f"{label} in {target.region}"
    snapshot_id = f"whocreated-final-{target.id}-{ops.clock():%Y%m%d%H%M}"
    if ops.policy.snapshot_before_delete:
        how = f" after a final snapshot {snapshot_id}"
        ask: dict[str, Any] = {"FinalDBSnapshotIdentifier": snapshot_id}
    else:
        how = " without a final snapshot (snapshots are off)"
        ask = {"SkipFinalSnapshot": True}
    if dry_run:
        return dry(f"deleted {where}{how}")
    rds.delete_db_instance(DBInstanceIdentifier=target.id, **ask)
    taken = [snapshot_id] if ops.policy.snapshot_before_delete else []
    return Outcome(done=True, summary=f"Deleting {where}{how}.", snapshots=taken)


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # AddTagsToResource takes one ARN
        client.add_tags_to_resource(
            ResourceName=arn_of(resource, "rds", "db:"), Tags=aws_tags(tags)
        )


# Creation times for lookups -----------------------------------------------------------------------


def read_instance(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    found = client_for("rds", region).describe_db_instances(DBInstanceIdentifier=ref.id)
    instances = found.get("DBInstances", [])
    if not instances:
        return Hint(exists=False)
    db = instances[0]
    return Hint(
        utc(db.get("InstanceCreateTime")), owner_tags(db.get("TagList")), region, None, True
    )
