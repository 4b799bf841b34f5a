"""EC2's patrolled types in AWS: instances, EBS volumes and snapshots, AMIs, Elastic IPs and NAT
gateways.

What their declarations (bot/registry/patrol/ec2.py) point at: how each is listed, what its
buttons do, how its tags are written, and how a lookup reads its creation time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import (
    ClientFor,
    Hint,
    ec2_single,
    id_filter,
    owner_tags,
    parent_tags,
)
from bot.aws.creation_hints import utc as hint_time
from bot.aws.errors import error_code, is_denied
from bot.aws.inventory import Scan, items, pages, parents, stopped_at, utc
from bot.aws.operations import (
    SNAPSHOT_OF_TAG,
    Operations,
    Outcome,
    Stop,
    Target,
    already,
    dry,
    gone,
    label_of,
    listed,
    pairs,
    raise_if_gone,
    refused,
)
from bot.aws.tagging import aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, ELASTIC_IP, NAT_GATEWAY, Resource

EBS_SNAPSHOT = "AWS::EC2::Snapshot"
AMI = "AWS::EC2::Image"

logger = logging.getLogger(__name__)

# Instances worth judging: terminated and shutting-down ones are already going away.
LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
LIVE_NAT_STATES = ("pending", "available")

# What the patrol reads of an instance; the rest of DescribeInstances' answer (block devices,
# metadata options, every interface's addresses…) is dropped page by page, which at 10,000
# instances is most of the round's memory.
_INSTANCE_KEYS = (
    "ImageId",
    "InstanceId",
    "InstanceLifecycle",
    "InstanceType",
    "LaunchTime",
    "Placement",
    "Platform",
    "PlatformDetails",
    "PublicIpAddress",
    "State",
    "StateTransitionReason",
    "Tags",
)


def _slim_instance(instance: Mapping[str, Any]) -> dict[str, Any]:
    kept = {key: instance[key] for key in _INSTANCE_KEYS if key in instance}
    kept["NetworkInterfaces"] = [
        {"Attachment": eni.get("Attachment", {})} for eni in instance.get("NetworkInterfaces", [])
    ]
    return kept


# Describe passes several types share, made once per account and region --------------------------


def described_instances(scan: Scan) -> list[dict[str, Any]]:
    """Live instances (slimmed), read once per collect call: EKS counts its nodes from them."""
    filters = [{"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)}]
    return scan.once(
        "instances",
        lambda: [
            _slim_instance(instance)
            for page in pages(
                scan.client("ec2"), "describe_instances", page_size=1000, Filters=filters
            )
            for reservation in page.get("Reservations", [])
            for instance in reservation.get("Instances", [])
        ],
    )


def described_volumes(scan: Scan) -> list[dict[str, Any]]:
    return scan.once(
        "volumes",
        lambda: list(items(scan.client("ec2"), "describe_volumes", "Volumes", page_size=500)),
    )


def described_images(scan: Scan) -> list[dict[str, Any]]:
    """The account's own AMIs, read once per collect call (snapshots and AMIs both read them)."""
    return scan.once(
        "images",
        lambda: list(
            items(scan.client("ec2"), "describe_images", "Images", page_size=1000, Owners=["self"])
        ),
    )


def described_template_images(scan: Scan) -> dict[str, list[str]]:
    """AMI id → the launch templates whose default or latest version launches it."""
    ec2 = scan.client("ec2")
    used: dict[str, list[str]] = {}
    for template in items(ec2, "describe_launch_templates", "LaunchTemplates", page_size=200):
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=["$Default", "$Latest"]
        ).get("LaunchTemplateVersions", [])
        for version in versions:
            image = version.get("LaunchTemplateData", {}).get("ImageId")
            name = template.get("LaunchTemplateName") or template["LaunchTemplateId"]
            if image and name not in used.get(image, []):
                used.setdefault(image, []).append(name)
    return used


def _snapshots_of(image: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": m["Ebs"]["SnapshotId"], "gib": m["Ebs"].get("VolumeSize")}
        for m in image.get("BlockDeviceMappings", [])
        if m.get("Ebs", {}).get("SnapshotId")
    ]


def _known(scan: Scan, what: str, read: Any) -> Any:
    """A shared pass another type's rule depends on, or None (with a note) when it failed."""
    try:
        return read(scan)
    except ClientError as error:
        outcome = "denied" if is_denied(error) else f"failed ({error_code(error)})"
        note = f"{what} not known in {scan.account}/{scan.region}: {outcome}"
        if note not in scan.notes:
            scan.notes.append(note)
            logger.warning("%s", note)
        return None


# Inventory --------------------------------------------------------------------------------------


def instances(scan: Scan) -> list[Resource]:
    found = described_instances(scan)
    attached = _attached_volumes(scan)
    return [_ec2_instance(scan, instance, attached) for instance in found]


def _attached_volumes(scan: Scan) -> dict[str, list[dict[str, Any]]] | None:
    """Instance id → [{id, gib, type}] from the shared volume pass; None if it was not allowed."""
    try:
        volumes = described_volumes(scan)
    except ClientError as error:
        # Instances are still judged; only what their volumes cost is unknown.
        outcome = "denied" if is_denied(error) else f"failed ({error_code(error)})"
        note = f"volumes of EC2 instances not known in {scan.account}/{scan.region}: "
        note += f"DescribeVolumes {outcome}"
        if note not in scan.notes:
            scan.notes.append(note)
            logger.warning("%s", note)
        return None
    attached: dict[str, list[dict[str, Any]]] = {}
    for volume in volumes:
        for attachment in volume.get("Attachments", []):
            attached.setdefault(attachment.get("InstanceId", ""), []).append(
                {
                    "id": volume["VolumeId"],
                    "gib": volume.get("Size"),
                    "type": volume.get("VolumeType"),
                }
            )
    return attached


def _ec2_instance(
    scan: Scan, instance: Mapping[str, Any], attached: Mapping[str, list[dict[str, Any]]] | None
) -> Resource:
    tags = tags_of(instance.get("Tags"))
    state = instance.get("State", {}).get("Name")
    launched = utc(instance.get("LaunchTime"))
    # LaunchTime moves on every start; the primary network interface's attach time does not.
    primary = next(
        (
            eni.get("Attachment", {}).get("AttachTime")
            for eni in instance.get("NetworkInterfaces", [])
            if eni.get("Attachment", {}).get("DeviceIndex") == 0
        ),
        None,
    )
    since = {"running": launched, "stopped": stopped_at(instance.get("StateTransitionReason"))}
    details: dict[str, Any] = {
        **parents(tags),
        # [{id, gib, type}], or None when DescribeVolumes was not allowed
        "attached_volumes": None if attached is None else attached.get(instance["InstanceId"], []),
        "platform": instance.get("PlatformDetails") or instance.get("Platform") or "Linux/UNIX",
        "tenancy": instance.get("Placement", {}).get("Tenancy", "default"),
        "lifecycle": instance.get("InstanceLifecycle") or "on-demand",
        "launched_at": launched,
    }
    if instance.get("PublicIpAddress"):
        details["public_ip"] = instance["PublicIpAddress"]
    return Resource(
        type=EC2_INSTANCE,
        id=instance["InstanceId"],
        region=scan.region,
        account=scan.account,
        name=tags.get("Name"),
        arn=scan.arn("ec2", f"instance/{instance['InstanceId']}"),
        state=state,
        created_at=utc(primary),
        state_since=since.get(state or ""),
        size=instance.get("InstanceType"),
        tags=tags,
        details=details,
    )


def volumes(scan: Scan) -> list[Resource]:
    resources = []
    for volume in described_volumes(scan):
        tags = tags_of(volume.get("Tags"))
        gib, kind = volume.get("Size"), volume.get("VolumeType")
        resources.append(
            Resource(
                type=EBS_VOLUME,
                id=volume["VolumeId"],
                region=scan.region,
                account=scan.account,
                name=tags.get("Name"),
                arn=scan.arn("ec2", f"volume/{volume['VolumeId']}"),
                state=volume.get("State"),
                created_at=utc(volume.get("CreateTime")),
                size=f"{gib} GiB {kind}",
                tags=tags,
                details={
                    **parents(tags),
                    "volume_gib": gib,
                    "volume_type": kind,
                    "iops": volume.get("Iops"),
                    "throughput": volume.get("Throughput"),
                    "attached_to": [a.get("InstanceId") for a in volume.get("Attachments", [])],
                    "snapshot_id": volume.get("SnapshotId") or None,
                    "availability_zone": volume.get("AvailabilityZone"),
                },
            )
        )
    return resources


def addresses(scan: Scan) -> list[Resource]:
    # DescribeAddresses has no paginator: one call returns every address in the region.
    resources = []
    for address in scan.client("ec2").describe_addresses().get("Addresses", []):
        allocation = address.get("AllocationId")
        if not allocation:  # EC2-Classic addresses are gone; nothing to release by id
            continue
        tags = tags_of(address.get("Tags"))
        associated = bool(address.get("AssociationId") or address.get("InstanceId"))
        resources.append(
            Resource(
                type=ELASTIC_IP,
                id=allocation,
                region=scan.region,
                account=scan.account,
                name=tags.get("Name"),
                arn=scan.arn("ec2", f"elastic-ip/{allocation}"),
                state="associated" if associated else "unassociated",
                size=address.get("PublicIp"),
                tags=tags,
                details={
                    **parents(tags),
                    "public_ip": address.get("PublicIp"),
                    "instance_id": address.get("InstanceId") or None,
                    "network_interface_id": address.get("NetworkInterfaceId") or None,
                    "association_id": address.get("AssociationId") or None,
                },
            )
        )
    return resources


def nat_gateways(scan: Scan) -> list[Resource]:
    filters = [{"Name": "state", "Values": list(LIVE_NAT_STATES)}]
    resources = []
    found = items(
        scan.client("ec2"), "describe_nat_gateways", "NatGateways", page_size=1000, Filter=filters
    )
    for nat in found:
        if nat.get("State") not in LIVE_NAT_STATES:  # not every endpoint applies the filter
            continue
        tags = tags_of(nat.get("Tags"))
        addresses = nat.get("NatGatewayAddresses", [])
        resources.append(
            Resource(
                type=NAT_GATEWAY,
                id=nat["NatGatewayId"],
                region=scan.region,
                account=scan.account,
                name=tags.get("Name"),
                arn=scan.arn("ec2", f"natgateway/{nat['NatGatewayId']}"),
                state=nat.get("State"),
                created_at=utc(nat.get("CreateTime")),
                size=nat.get("ConnectivityType", "public"),
                tags=tags,
                details={
                    **parents(tags),
                    "vpc_id": nat.get("VpcId"),
                    "subnet_id": nat.get("SubnetId"),
                    "connectivity": nat.get("ConnectivityType", "public"),
                    "public_ips": [a["PublicIp"] for a in addresses if a.get("PublicIp")],
                    "allocation_ids": [
                        a["AllocationId"] for a in addresses if a.get("AllocationId")
                    ],
                },
            )
        )
    return resources


def snapshots(scan: Scan) -> list[Resource]:
    """The account's own EBS snapshots, with whether their volume is gone and which AMIs use
    them (None where that could not be read: the rule then judges nothing)."""
    volumes = _known(scan, "volumes of snapshots", described_volumes)
    own_images = _known(scan, "AMIs using snapshots", described_images)
    existing = None if volumes is None else {v["VolumeId"] for v in volumes}
    used: dict[str, list[str]] = {}
    for image in own_images or ():
        for snapshot in _snapshots_of(image):
            used.setdefault(snapshot["id"], []).append(image["ImageId"])
    found = items(
        scan.client("ec2"), "describe_snapshots", "Snapshots", page_size=1000, OwnerIds=["self"]
    )
    resources = []
    for snapshot in found:
        if snapshot.get("OwnerId") not in (None, scan.account):
            continue  # only the account's own: another owner's is not ours to judge
        tags = tags_of(snapshot.get("Tags"))
        volume = snapshot.get("VolumeId")
        resources.append(
            Resource(
                type=EBS_SNAPSHOT,
                id=snapshot["SnapshotId"],
                region=scan.region,
                account=scan.account,
                name=tags.get("Name"),
                arn=f"arn:{scan.partition}:ec2:{scan.region}::snapshot/{snapshot['SnapshotId']}",
                state=snapshot.get("State"),
                created_at=utc(snapshot.get("StartTime")),
                size=f"{snapshot.get('VolumeSize')} GiB",
                tags=tags,
                details={
                    **parents(tags),
                    "volume_id": volume,
                    "volume_gib": snapshot.get("VolumeSize"),
                    "volume_gone": None if existing is None else volume not in existing,
                    "used_by_images": None
                    if own_images is None
                    else used.get(snapshot["SnapshotId"], []),
                    "storage_tier": snapshot.get("StorageTier"),
                    "description": snapshot.get("Description"),
                },
            )
        )
    return resources


def images(scan: Scan) -> list[Resource]:
    """The account's own AMIs, with the instances and launch templates that use them."""
    live = _known(scan, "instances using AMIs", described_instances)
    templates = _known(scan, "launch templates using AMIs", described_template_images)
    by_image: dict[str, list[str]] = {}
    for instance in live or ():
        by_image.setdefault(instance.get("ImageId", ""), []).append(instance["InstanceId"])
    resources = []
    for image in described_images(scan):
        tags = tags_of(image.get("Tags"))
        image_id = image["ImageId"]
        resources.append(
            Resource(
                type=AMI,
                id=image_id,
                region=scan.region,
                account=scan.account,
                name=image.get("Name") or tags.get("Name"),
                arn=f"arn:{scan.partition}:ec2:{scan.region}::image/{image_id}",
                state=image.get("State"),
                created_at=hint_time(image.get("CreationDate")),
                size=image.get("Architecture"),
                tags=tags,
                details={
                    **parents(tags),
                    "snapshots": _snapshots_of(image),
                    "used_by_instances": None if live is None else by_image.get(image_id, []),
                    "used_by_templates": None if templates is None else templates.get(image_id, []),
                    "last_launched_at": hint_time(image.get("LastLaunchedTime")),
                },
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def _instance(ops: Operations, target: Target) -> tuple[Any, dict[str, Any], str]:
    ec2 = target.client("ec2")
    try:
        reservations = ec2.describe_instances(InstanceIds=[target.id])["Reservations"]
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    instances = [i for r in reservations for i in r.get("Instances", [])]
    if not instances:
        raise Stop(gone(target.id))
    instance = instances[0]
    label = label_of(target.id, tags_of(instance.get("Tags")))
    state = instance.get("State", {}).get("Name")
    if state in ("terminated", "shutting-down"):
        raise Stop(already(f"{label} is already terminated: nothing to do.", gone=True))
    return ec2, instance, label


def stop_instance(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2, instance, label = _instance(ops, target)
    if instance.get("State", {}).get("Name") in ("stopped", "stopping"):
        return already(f"{label} is already stopped: nothing to do.")
    ops.check_tags(label, tags_of(instance.get("Tags")))
    where = f"{label} in {target.region}"
    if dry_run:
        return dry(f"stopped {where}")
    ec2.stop_instances(InstanceIds=[target.id])
    return Outcome(
        done=True,
        summary=f"Stopped {where}. Its volumes stay (and still cost); it can be started again.",
    )


def terminate_instance(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2, instance, label = _instance(ops, target)
    ops.check_tags(label, tags_of(instance.get("Tags")))
    protected = ec2.describe_instance_attribute(
        InstanceId=target.id, Attribute="disableApiTermination"
    )
    if protected.get("DisableApiTermination", {}).get("Value"):
        return refused(f"{label} has termination protection on, so I leave it alone.")
    # Volumes that termination deletes are snapshotted; the others outlive the instance.
    volumes = [m["Ebs"] for m in instance.get("BlockDeviceMappings", []) if m.get("Ebs")]
    doomed = [v["VolumeId"] for v in volumes if v.get("DeleteOnTermination")]
    kept = [v["VolumeId"] for v in volumes if not v.get("DeleteOnTermination")]
    snapshot = ops.policy.snapshot_before_delete and bool(doomed)
    where = f"{label} in {target.region}"
    after = f" after snapshotting {listed(doomed)}" if snapshot else ""
    if doomed and not snapshot:
        after = f", deleting {listed(doomed)} without snapshots (snapshots are off)"
    stays = f" {listed(kept)} {'is' if len(kept) == 1 else 'are'} kept." if kept else ""
    if dry_run:
        return dry(f"terminated {where}{after}.{stays}".rstrip("."))
    snapshots = (
        take_snapshots(ops, ec2, target, doomed, f"before terminating {target.id}")
        if snapshot
        else []
    )
    ec2.terminate_instances(InstanceIds=[target.id])
    taken = f" after snapshotting {pairs(doomed, snapshots)}" if snapshots else after
    return Outcome(done=True, summary=f"Terminated {where}{taken}.{stays}", snapshots=snapshots)


def delete_volume(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2 = target.client("ec2")
    try:
        volumes = ec2.describe_volumes(VolumeIds=[target.id])["Volumes"]
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    if not volumes or volumes[0].get("State") in ("deleting", "deleted"):
        return gone(target.id)
    volume = volumes[0]
    label = label_of(target.id, tags_of(volume.get("Tags")))
    attached = [a.get("InstanceId") for a in volume.get("Attachments", [])]
    if volume.get("State") == "in-use" or attached:
        return refused(
            f"{label} is attached to {listed([a for a in attached if a]) or 'an instance'} "
            "now, so it is in use: I leave it alone."
        )
    ops.check_tags(label, tags_of(volume.get("Tags")))
    size = f" ({volume.get('Size')} GiB {volume.get('VolumeType', '')})".replace(" )", ")")
    where = f"{label}{size} in {target.region}"
    snapshot = ops.policy.snapshot_before_delete
    how = " after taking a snapshot of it" if snapshot else " without a snapshot (off)"
    if dry_run:
        return dry(f"deleted {where}{how}")
    snapshots = (
        take_snapshots(ops, ec2, target, [target.id], "before deleting it") if snapshot else []
    )
    ec2.delete_volume(VolumeId=target.id)
    if snapshots:
        how = f" after taking snapshot {snapshots[0]} (kept: delete it when no longer needed)"
    return Outcome(done=True, summary=f"Deleted {where}{how}.", snapshots=snapshots)


def take_snapshots(
    ops: Operations, ec2: Any, target: Target, volume_ids: Sequence[str], why: str
) -> list[str]:
    """Snapshot each volume and wait until each has started (pending or completed)."""
    taken: list[str] = []
    for volume_id in volume_ids:
        answer = ec2.create_snapshot(
            VolumeId=volume_id,
            Description=f"whocreated: {volume_id} {why}"[:255],
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [
                        {"Key": SNAPSHOT_OF_TAG, "Value": volume_id},
                        {"Key": "Name", "Value": f"whocreated {why}"[:255]},
                    ],
                }
            ],
        )
        taken.append(answer["SnapshotId"])
    _wait_started(ops, ec2, target, taken)
    return taken


def _wait_started(ops: Operations, ec2: Any, target: Target, snapshot_ids: list[str]) -> None:
    deadline = time.monotonic() + ops.snapshot_timeout
    while True:
        found = ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
        states = {s["SnapshotId"]: s.get("State") for s in found}
        failed = [sid for sid, state in states.items() if state == "error"]
        if failed:
            raise Stop(
                Outcome(
                    done=False,
                    snapshots=snapshot_ids,
                    summary=f"The snapshot {listed(failed)} of {target.id} failed, so I did "
                    "not delete anything.",
                )
            )
        if len(states) == len(snapshot_ids) and all(
            state in ("pending", "completed") for state in states.values()
        ):
            return
        if time.monotonic() >= deadline:
            raise Stop(
                Outcome(
                    done=False,
                    snapshots=snapshot_ids,
                    summary=f"The snapshot {listed(snapshot_ids)} of {target.id} did not "
                    "start in time, so I did not delete anything.",
                )
            )
        ops.sleep(ops.poll_interval)


def release_address(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2 = target.client("ec2")
    by_id = target.id.startswith("eipalloc-")
    ask = {"AllocationIds": [target.id]} if by_id else {"PublicIps": [target.id]}
    try:
        addresses = ec2.describe_addresses(**ask)["Addresses"]
    except ClientError as error:
        raise_if_gone(error, target.id, "already released")
        raise
    if not addresses:
        return gone(target.id, "already released")
    address = addresses[0]
    ip = address.get("PublicIp")
    label = label_of(
        f"{ip} ({target.id})" if ip and by_id else target.id, tags_of(address.get("Tags"))
    )
    user = address.get("InstanceId") or address.get("NetworkInterfaceId")
    if address.get("AssociationId") or user:
        return refused(f"{label} is now associated with {user or 'something'}: I leave it.")
    ops.check_tags(label, tags_of(address.get("Tags")))
    where = f"the Elastic IP {label} in {target.region}"
    if dry_run:
        return dry(f"released {where}")
    if by_id:
        ec2.release_address(AllocationId=target.id)
    else:
        ec2.release_address(PublicIp=target.id)
    return Outcome(done=True, summary=f"Released {where}.")


def delete_nat_gateway(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2 = target.client("ec2")
    try:
        found = ec2.describe_nat_gateways(NatGatewayIds=[target.id])["NatGateways"]
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    if not found or found[0].get("State") in ("deleting", "deleted"):
        return gone(target.id)
    nat = found[0]
    label = label_of(target.id, tags_of(nat.get("Tags")))
    ops.check_tags(label, tags_of(nat.get("Tags")))
    where = f"the NAT gateway {label} in {target.region}"
    eips = [a["AllocationId"] for a in nat.get("NatGatewayAddresses", []) if a.get("AllocationId")]
    note = (
        f" Its Elastic IP {listed(eips)} stays allocated (and costs): release it too if unused."
        if eips
        else ""
    )
    if dry_run:
        return dry(f"deleted {where}")
    ec2.delete_nat_gateway(NatGatewayId=target.id)
    return Outcome(done=True, summary=f"Deleting {where} (AWS takes a few minutes).{note}")


def delete_snapshot(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2 = target.client("ec2")
    try:
        found = ec2.describe_snapshots(SnapshotIds=[target.id])["Snapshots"]
    except ClientError as error:
        raise_if_gone(error, target.id, codes=("InvalidSnapshot.NotFound",))
        raise
    if not found:
        return gone(target.id)
    snapshot = found[0]
    label = label_of(target.id, tags_of(snapshot.get("Tags")))
    ops.check_tags(label, tags_of(snapshot.get("Tags")))
    users = [
        image["ImageId"]
        for image in items(ec2, "describe_images", "Images", page_size=1000, Owners=["self"])
        if any(s["id"] == target.id for s in _snapshots_of(image))
    ]
    if users:
        return refused(
            f"{label} is used by the AMI {listed(users)}: deregister that first, or keep it."
        )
    where = f"the EBS snapshot {label} ({snapshot.get('VolumeSize')} GiB) in {target.region}"
    if dry_run:
        return dry(f"deleted {where}")
    ec2.delete_snapshot(SnapshotId=target.id)
    return Outcome(done=True, summary=f"Deleted {where}.")


def deregister_image(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    ec2 = target.client("ec2")
    try:
        found = ec2.describe_images(ImageIds=[target.id])["Images"]
    except ClientError as error:
        raise_if_gone(error, target.id, codes=("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"))
        raise
    if not found or found[0].get("State") == "deregistered":
        return gone(target.id)
    image = found[0]
    name = image.get("Name")
    label = f"{name} ({target.id})" if name else target.id
    ops.check_tags(label, tags_of(image.get("Tags")))
    filters = [
        {"Name": "image-id", "Values": [target.id]},
        {"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)},
    ]
    running = [
        instance["InstanceId"]
        for page in pages(ec2, "describe_instances", Filters=filters)
        for reservation in page.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    ]
    if running:
        return refused(f"{label} is what {listed(running)} run from now: I leave it.")
    templates = _templates_using(ec2, target.id)
    if templates:
        return refused(f"{label} is in the launch template {listed(templates)}: I leave it.")
    kept = [s["id"] for s in _snapshots_of(image)]
    where = f"the AMI {label} in {target.region}"
    one = len(kept) == 1
    stays = (
        f" Its snapshot{'' if one else 's'} {listed(kept)} "
        f"{'stays (and still costs)' if one else 'stay (and still cost)'}: delete "
        f"{'it' if one else 'them'} when no longer needed."
        if kept
        else ""
    )
    if dry_run:
        return dry(f"deregistered {where}.{stays}".rstrip("."))
    ec2.deregister_image(ImageId=target.id)
    return Outcome(done=True, summary=f"Deregistered {where}.{stays}")


def _templates_using(ec2: Any, image_id: str) -> list[str]:
    found = []
    for template in items(ec2, "describe_launch_templates", "LaunchTemplates", page_size=200):
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=["$Default", "$Latest"]
        ).get("LaunchTemplateVersions", [])
        if any(v.get("LaunchTemplateData", {}).get("ImageId") == image_id for v in versions):
            found.append(template.get("LaunchTemplateName") or template["LaunchTemplateId"])
    return found


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    """CreateTags on up to 1,000 ids at once (instances, volumes, addresses, NAT gateways)."""
    client.create_tags(Resources=[r.id for r in resources], Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_instance(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    # A filter, not InstanceIds: a missing instance is an empty answer, not an error to parse,
    # which matters when every region is asked at once.
    reservations = client_for("ec2", region).describe_instances(
        Filters=id_filter("instance-id", ref)
    )
    instances = [i for r in reservations.get("Reservations", []) for i in r.get("Instances", [])]
    if not instances:
        return Hint(exists=False)
    instance = instances[0]
    # LaunchTime moves on every stop/start; the primary interface was attached at launch.
    attached = [
        eni["Attachment"]["AttachTime"]
        for eni in instance.get("NetworkInterfaces", [])
        if eni.get("Attachment", {}).get("DeviceIndex") == 0 and eni["Attachment"].get("AttachTime")
    ]
    created = attached[0] if attached else instance.get("LaunchTime")
    tags = instance.get("Tags")
    return Hint(utc(created), owner_tags(tags), region, None, True, parent_tags(tags))


read_volume = ec2_single("describe_volumes", "volume-id", "Volumes", "CreateTime")
read_snapshot = ec2_single("describe_snapshots", "snapshot-id", "Snapshots", "StartTime")
read_image = ec2_single("describe_images", "image-id", "Images", "CreationDate")
read_nat_gateway = ec2_single(
    "describe_nat_gateways", "nat-gateway-id", "NatGateways", "CreateTime"
)
