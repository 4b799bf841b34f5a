"""What exists in one account and region: describe calls per resource type → Resources.

Every list call goes through a paginator. A type whose describe calls are denied (or fail) is left
out with a note saying so, and the other types are still collected: a patrol round reports what it
could not see instead of stopping. A service that fails (not a denial: a 5xx after botocore's
retries, an endpoint that does not answer) is not asked for the other types in that account and
region in the same round (RoundFaults).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.aws.faults import RoundFaults
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    EKS_CLUSTER,
    ELASTIC_IP,
    LOAD_BALANCER,
    NAT_GATEWAY,
    PATROLLED_TYPES,
    RDS_INSTANCE,
    Resource,
)

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]

# Instances worth judging: terminated and shutting-down ones are already going away.
LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
LIVE_NAT_STATES = ("pending", "available")
TAG_BATCH = 20  # DescribeTags takes at most 20 load balancers (v2 ARNs or classic names)

# Tags that name a resource's parent: the owner chain follows them.
PARENT_TAGS = {
    "autoscaling_group": "aws:autoscaling:groupName",
    "cloudformation_stack": "aws:cloudformation:stack-name",
    "eks_nodegroup": "eks:nodegroup-name",
    "eks_cluster": "eks:cluster-name",
}

_STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")

# The service whose describe calls list a type (a failing one is not asked for its other types).
SERVICES = {
    EC2_INSTANCE: "ec2",
    EBS_VOLUME: "ec2",
    ELASTIC_IP: "ec2",
    NAT_GATEWAY: "ec2",
    LOAD_BALANCER: "elbv2",
    CLASSIC_LOAD_BALANCER: "elb",
    RDS_INSTANCE: "rds",
    EKS_CLUSTER: "eks",
}

# How a type is named in notes.
LABELS = {
    EC2_INSTANCE: "EC2 instances",
    EBS_VOLUME: "EBS volumes",
    ELASTIC_IP: "Elastic IPs",
    NAT_GATEWAY: "NAT gateways",
    LOAD_BALANCER: "load balancers (ALB/NLB)",
    CLASSIC_LOAD_BALANCER: "classic load balancers",
    RDS_INSTANCE: "RDS instances",
    EKS_CLUSTER: "EKS clusters",
}


@dataclass(frozen=True)
class Collected:
    """One account and region's resources, and what could not be looked at."""

    resources: tuple[Resource, ...]
    # e.g. "EBS volumes not checked in 123456789012/eu-west-1: DescribeVolumes denied"
    notes: tuple[str, ...] = ()
    failed_types: tuple[str, ...] = ()  # types left out entirely


class Inventory:
    """Describe calls per type, with clients from client_for(service, region)."""

    def __init__(self, client_for: ClientFactory) -> None:
        self._client_for = client_for

    def collect(
        self,
        account: str,
        region: str,
        types: Iterable[str] = PATROLLED_TYPES,
        *,
        faults: RoundFaults | None = None,
    ) -> Collected:
        scan = _Scan(self._client_for, account, region)
        place = f"{account}/{region}"
        resources: list[Resource] = []
        notes: list[str] = []
        failed: list[str] = []
        for kind in dict.fromkeys(types):
            collector = _COLLECTORS.get(kind)
            if collector is None:
                notes.append(f"{kind} is not inventoried")
                failed.append(kind)
                continue
            service = SERVICES[kind]
            if faults is not None and faults.failed(service, place) is not None:
                faults.skipped(service, place)
                failed.append(kind)
                continue
            try:
                resources.extend(collector(scan))
            except ClientError as error:
                failed.append(kind)
                notes.append(_note(kind, account, region, error))
                if is_denied(error):
                    logger.warning("%s", notes[-1])
                    continue  # permissions are per operation: the service may answer others
                logger.exception("describing %s in %s/%s failed", kind, account, region)
                if faults is not None:
                    faults.record(service, place, error)
            except BotoCoreError as error:
                failed.append(kind)
                notes.append(
                    f"{LABELS[kind]} not checked in {account}/{region}: {type(error).__name__}"
                )
                logger.exception("describing %s in %s/%s failed", kind, account, region)
                if faults is not None:
                    faults.record(service, place, error)
        return Collected(tuple(resources), tuple([*notes, *scan.notes]), tuple(failed))


def _note(kind: str, account: str, region: str, error: ClientError) -> str:
    operation = getattr(error, "operation_name", None) or "a describe call"
    outcome = "denied" if is_denied(error) else f"failed ({error_code(error)})"
    return f"{LABELS[kind]} not checked in {account}/{region}: {operation} {outcome}"


class _Scan:
    """One collect call: clients, and describe passes several types share (made at most once)."""

    def __init__(self, client_for: ClientFactory, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.partition = partition_of(region)
        self._client_for = client_for
        self._shared: dict[str, list[dict[str, Any]] | Exception] = {}
        self.notes: list[str] = []  # partial failures inside a type that was still collected

    def client(self, service: str) -> Any:
        return self._client_for(service, self.region)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def instances(self) -> list[dict[str, Any]]:
        filters = [{"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)}]
        return self._once(
            "instances",
            lambda: [
                _slim_instance(instance)
                for page in _pages(self.client("ec2"), "describe_instances", Filters=filters)
                for reservation in page.get("Reservations", [])
                for instance in reservation.get("Instances", [])
            ],
        )

    def volumes(self) -> list[dict[str, Any]]:
        return self._once(
            "volumes", lambda: list(_items(self.client("ec2"), "describe_volumes", "Volumes"))
        )

    def _once(
        self, name: str, describe: Callable[[], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        # A failure is remembered too: a denied call is not repeated for the next type.
        if name not in self._shared:
            try:
                self._shared[name] = describe()
            except (ClientError, BotoCoreError) as error:
                self._shared[name] = error
        found = self._shared[name]
        if isinstance(found, Exception):
            raise found
        return found


# What the patrol reads of an instance; the rest of DescribeInstances' answer (block devices,
# metadata options, every interface's addresses…) is dropped page by page, which at 10,000
# instances is most of the round's memory.
_INSTANCE_KEYS = (
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


def partition_of(region: str) -> str:
    prefixes = {
        "cn-": "aws-cn",
        "us-gov-": "aws-us-gov",
        "us-iso-": "aws-iso",
        "us-isob-": "aws-iso-b",
    }
    return next((p for prefix, p in prefixes.items() if region.startswith(prefix)), "aws")


# Page sizes within each API's limits: without one, some describes answer a whole fleet in one
# response, which at 10,000 resources is slow to build and can outlast the client's read timeout.
PAGE_SIZES: dict[str, int] = {
    "describe_instances": 1000,
    "describe_volumes": 500,
    "describe_nat_gateways": 1000,
    "describe_load_balancers": 400,
    "describe_db_instances": 100,
    "list_clusters": 100,
    "list_nodegroups": 100,
    "list_fargate_profiles": 100,
}


def _pages(client: Any, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    size = PAGE_SIZES.get(operation)
    config = {"PaginationConfig": {"PageSize": size}} if size else {}
    yield from client.get_paginator(operation).paginate(**params, **config)


def _items(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    for page in _pages(client, operation, **params):
        yield from page.get(key, [])


def _tags(pairs: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {pair["Key"]: pair.get("Value", "") for pair in pairs or ()}


def _parents(tags: Mapping[str, str]) -> dict[str, str]:
    return {name: tags[tag] for name, tag in PARENT_TAGS.items() if tags.get(tag)}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def stopped_at(reason: str | None) -> datetime | None:
    """'User initiated (2024-01-02 10:00:00 GMT)' → that time; None when it names none."""
    match = _STOPPED_AT.search(reason or "")
    if not match:
        return None
    return datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


# --- collectors, one per type -----------------------------------------------------------------


def _ec2_instances(scan: _Scan) -> list[Resource]:
    instances = scan.instances()
    attached = _attached_volumes(scan)
    return [_ec2_instance(scan, instance, attached) for instance in instances]


def _attached_volumes(scan: _Scan) -> dict[str, list[dict[str, Any]]] | None:
    """Instance id → [{id, gib, type}] from the shared volume pass; None if it was not allowed."""
    try:
        volumes = scan.volumes()
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
    scan: _Scan, instance: Mapping[str, Any], attached: Mapping[str, list[dict[str, Any]]] | None
) -> Resource:
    tags = _tags(instance.get("Tags"))
    state = instance.get("State", {}).get("Name")
    launched = _utc(instance.get("LaunchTime"))
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
        **_parents(tags),
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
        created_at=_utc(primary),
        state_since=since.get(state or ""),
        size=instance.get("InstanceType"),
        tags=tags,
        details=details,
    )


def _ebs_volumes(scan: _Scan) -> list[Resource]:
    resources = []
    for volume in scan.volumes():
        tags = _tags(volume.get("Tags"))
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
                created_at=_utc(volume.get("CreateTime")),
                size=f"{gib} GiB {kind}",
                tags=tags,
                details={
                    **_parents(tags),
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


def _elastic_ips(scan: _Scan) -> list[Resource]:
    # DescribeAddresses has no paginator: one call returns every address in the region.
    resources = []
    for address in scan.client("ec2").describe_addresses().get("Addresses", []):
        allocation = address.get("AllocationId")
        if not allocation:  # EC2-Classic addresses are gone; nothing to release by id
            continue
        tags = _tags(address.get("Tags"))
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
                    **_parents(tags),
                    "public_ip": address.get("PublicIp"),
                    "instance_id": address.get("InstanceId") or None,
                    "network_interface_id": address.get("NetworkInterfaceId") or None,
                    "association_id": address.get("AssociationId") or None,
                },
            )
        )
    return resources


def _nat_gateways(scan: _Scan) -> list[Resource]:
    filters = [{"Name": "state", "Values": list(LIVE_NAT_STATES)}]
    resources = []
    for nat in _items(scan.client("ec2"), "describe_nat_gateways", "NatGateways", Filter=filters):
        if nat.get("State") not in LIVE_NAT_STATES:  # not every endpoint applies the filter
            continue
        tags = _tags(nat.get("Tags"))
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
                created_at=_utc(nat.get("CreateTime")),
                size=nat.get("ConnectivityType", "public"),
                tags=tags,
                details={
                    **_parents(tags),
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


def _load_balancers(scan: _Scan) -> list[Resource]:
    client = scan.client("elbv2")
    described = list(_items(client, "describe_load_balancers", "LoadBalancers"))
    tags: dict[str, dict[str, str]] = {}
    for batch in _batches([lb["LoadBalancerArn"] for lb in described], TAG_BATCH):
        for found in client.describe_tags(ResourceArns=batch).get("TagDescriptions", []):
            tags[found["ResourceArn"]] = _tags(found.get("Tags"))
    resources = []
    for lb in described:
        arn = lb["LoadBalancerArn"]
        own = tags.get(arn, {})
        resources.append(
            Resource(
                type=LOAD_BALANCER,
                id=arn,
                region=scan.region,
                account=scan.account,
                name=lb.get("LoadBalancerName"),
                arn=arn,
                state=lb.get("State", {}).get("Code"),
                created_at=_utc(lb.get("CreatedTime")),
                size=lb.get("Type"),
                tags=own,
                details={
                    **_parents(own),
                    "lb_type": lb.get("Type"),
                    "scheme": lb.get("Scheme"),
                    "dns_name": lb.get("DNSName"),
                    "vpc_id": lb.get("VpcId"),
                },
            )
        )
    return resources


def _classic_load_balancers(scan: _Scan) -> list[Resource]:
    client = scan.client("elb")
    described = list(_items(client, "describe_load_balancers", "LoadBalancerDescriptions"))
    tags: dict[str, dict[str, str]] = {}
    for batch in _batches([lb["LoadBalancerName"] for lb in described], TAG_BATCH):
        for found in client.describe_tags(LoadBalancerNames=batch).get("TagDescriptions", []):
            tags[found["LoadBalancerName"]] = _tags(found.get("Tags"))
    resources = []
    for lb in described:
        name = lb["LoadBalancerName"]
        own = tags.get(name, {})
        resources.append(
            Resource(
                type=CLASSIC_LOAD_BALANCER,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=scan.arn("elasticloadbalancing", f"loadbalancer/{name}"),
                created_at=_utc(lb.get("CreatedTime")),
                size="classic",
                tags=own,
                details={
                    **_parents(own),
                    "lb_type": "classic",
                    "scheme": lb.get("Scheme"),
                    "dns_name": lb.get("DNSName"),
                    "instance_count": len(lb.get("Instances", [])),
                },
            )
        )
    return resources


def _rds_instances(scan: _Scan) -> list[Resource]:
    resources = []
    for db in _items(scan.client("rds"), "describe_db_instances", "DBInstances"):
        tags = _tags(db.get("TagList"))
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
                created_at=_utc(db.get("InstanceCreateTime")),
                size=db.get("DBInstanceClass"),
                tags=tags,
                details={
                    **_parents(tags),
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


def _eks_clusters(scan: _Scan) -> list[Resource]:
    client = scan.client("eks")
    resources = []
    for name in map(str, _items(client, "list_clusters", "clusters")):
        cluster = client.describe_cluster(name=name)["cluster"]
        groups = list(_items(client, "list_nodegroups", "nodegroups", clusterName=name))
        managed = sum(
            client.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
            .get("scalingConfig", {})
            .get("desiredSize", 0)
            for group in groups
        )
        fargate = len(
            list(_items(client, "list_fargate_profiles", "fargateProfileNames", clusterName=name))
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
                created_at=_utc(cluster.get("createdAt")),
                size=cluster.get("version"),
                tags=tags,
                details={
                    **_parents(tags),
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


def _self_managed_nodes(scan: _Scan, cluster: str) -> int:
    """Live instances joined to the cluster outside managed node groups."""
    return sum(
        1
        for instance in scan.instances()
        if f"kubernetes.io/cluster/{cluster}" in (tags := _tags(instance.get("Tags")))
        and "eks:nodegroup-name" not in tags
    )


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


_COLLECTORS: Mapping[str, Callable[[_Scan], list[Resource]]] = {
    EC2_INSTANCE: _ec2_instances,
    EBS_VOLUME: _ebs_volumes,
    ELASTIC_IP: _elastic_ips,
    NAT_GATEWAY: _nat_gateways,
    LOAD_BALANCER: _load_balancers,
    CLASSIC_LOAD_BALANCER: _classic_load_balancers,
    RDS_INSTANCE: _rds_instances,
    EKS_CLUSTER: _eks_clusters,
}
