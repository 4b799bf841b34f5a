"""EC2's patrol types: instances, EBS volumes and snapshots, AMIs, Elastic IPs, NAT gateways.

Snapshots and AMIs: deleting a snapshot loses its data, so only one whose volume is gone and that
no AMI uses is offered for deletion; deregistering an AMI keeps its snapshots (the button says so),
and neither is touched while an instance or launch template uses it.
"""

from __future__ import annotations

from datetime import datetime

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import ec2
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.decisions import delete_volume_words, terminate_instance_words
from bot.core.kinds import said
from bot.core.parents import (
    AUTOSCALING_GROUP,
    CLOUDFORMATION_STACK,
    EKS_CLUSTER,
    EKS_NODEGROUP,
)
from bot.core.policy import LOOKBACK_DAYS, Actions
from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, ELASTIC_IP, NAT_GATEWAY, Resource
from bot.registry.patrol.spec import PatrolType

K, S, T, D, R, DR, N = (
    Action.KEEP,
    Action.STOP,
    Action.TERMINATE,
    Action.DELETE,
    Action.RELEASE,
    Action.DEREGISTER,
    Action.NOT_MINE,
)

INSTANCE_ARN = "arn:{partition}:ec2:*:*:instance/*"
VOLUME_ARN = "arn:{partition}:ec2:*:*:volume/*"
SNAPSHOT_ARN = "arn:{partition}:ec2:*::snapshot/*"
# EC2 snapshots are tagged as they are made, which IAM counts as ec2:CreateTags on the snapshot.
EBS_SNAPSHOTS = ("ec2:CreateSnapshot", "ec2:DescribeSnapshots", "ec2:CreateTags")

# CreateTags takes up to 1,000 ids of any EC2 type in one call.
TAGS = Writer("ec2", "ec2:CreateTags", ec2.write_tags, 1000)

# An instance is what Auto Scaling groups, stacks and EKS node groups launch; its volumes with it.
EVERY_PARENT = (EKS_NODEGROUP, EKS_CLUSTER, CLOUDFORMATION_STACK, AUTOSCALING_GROUP)


def _address_label(resource: Resource) -> str:
    address = resource.details.get("public_ip")
    return f"{address} ({resource.id})" if address else resource.label


INSTANCE = PatrolType(
    cfn_type=EC2_INSTANCE,
    short="ec2_instance",
    noun="EC2 instance",
    plural="EC2 instances",
    rule=idle.ec2_instance,
    idle_when=(
        "running: max CPU ≤ {max_cpu_percent} % and ≤ {max_network_bytes} network over "
        "{lookback_days} days; stopped: for more than {stopped_days} days (its volumes still cost)"
    ),
    limits=(LOOKBACK_DAYS, idle.MAX_CPU_PERCENT, idle.MAX_NETWORK_BYTES, idle.STOPPED_DAYS),
    metrics=idle.EC2_METRICS,
    price=costs.ec2_instance,
    buttons={"running": (K, S, T, N), "stopped": (K, T, N), None: (K, T, N)},
    words={
        S: said("; its volumes stay (and still cost) and it can be started again"),
        T: terminate_instance_words,
    },
    unique_ids=True,
    activity="CPU",
    inventory=Lister("ec2", ec2.instances, ("ec2:DescribeInstances", "ec2:DescribeVolumes")),
    actions={
        S: Act(ec2.stop_instance, ("ec2:DescribeInstances", "ec2:StopInstances")),
        T: Act(
            ec2.terminate_instance,
            (
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceAttribute",
                "ec2:TerminateInstances",
            ),
            snapshots=EBS_SNAPSHOTS,
            snapshot_resources=(VOLUME_ARN, SNAPSHOT_ARN),
        ),
    },
    tagging=TAGS,
    hint=Reader(("ec2:DescribeInstances",), ec2.read_instance),
    iam_resources=(INSTANCE_ARN,),
    parents=EVERY_PARENT,
)

VOLUME = PatrolType(
    cfn_type=EBS_VOLUME,
    short="ebs_volume",
    noun="EBS volume",
    plural="EBS volumes",
    rule=idle.ebs_volume,
    idle_when="unattached, older than {unattached_days} days",
    limits=(idle.UNATTACHED_DAYS,),
    price=costs.ebs_volume,
    caveat=costs.provisioned_extras,
    buttons={None: (K, D, N)},
    words={D: delete_volume_words},
    unique_ids=True,
    inventory=Lister("ec2", ec2.volumes, ("ec2:DescribeVolumes",)),
    actions={
        D: Act(
            ec2.delete_volume,
            ("ec2:DescribeVolumes", "ec2:DeleteVolume"),
            snapshots=EBS_SNAPSHOTS,
            snapshot_resources=(VOLUME_ARN, SNAPSHOT_ARN),
        ),
    },
    tagging=TAGS,
    hint=Reader(("ec2:DescribeVolumes",), ec2.read_volume),
    iam_resources=(VOLUME_ARN,),
    parents=EVERY_PARENT,
)

ADDRESS = PatrolType(
    cfn_type=ELASTIC_IP,
    short="elastic_ip",
    noun="Elastic IP",
    plural="Elastic IPs",
    rule=idle.elastic_ip,
    idle_when="not associated",
    price=costs.elastic_ip,
    buttons={None: (K, R, N)},
    words={R: said("; the address cannot be got back")},
    unique_ids=True,
    label=_address_label,
    inventory=Lister("ec2", ec2.addresses, ("ec2:DescribeAddresses",)),
    actions={R: Act(ec2.release_address, ("ec2:DescribeAddresses", "ec2:ReleaseAddress"))},
    tagging=TAGS,
    iam_resources=("arn:{partition}:ec2:*:*:elastic-ip/*",),
)

NAT = PatrolType(
    cfn_type=NAT_GATEWAY,
    short="nat_gateway",
    noun="NAT gateway",
    plural="NAT gateways",
    rule=idle.nat_gateway,
    idle_when="≤ {max_nat_bytes} of traffic over {lookback_days} days",
    limits=(LOOKBACK_DAYS, idle.MAX_NAT_BYTES),
    metrics=idle.NAT_METRICS,
    price=costs.nat_gateway,
    caveat=costs.fixed("data processed not included"),
    buttons={None: (K, D, N)},
    words={D: said("; private subnets routed through it lose internet access")},
    unique_ids=True,
    inventory=Lister("ec2", ec2.nat_gateways, ("ec2:DescribeNatGateways",)),
    actions={D: Act(ec2.delete_nat_gateway, ("ec2:DescribeNatGateways", "ec2:DeleteNatGateway"))},
    tagging=TAGS,
    hint=Reader(("ec2:DescribeNatGateways",), ec2.read_nat_gateway),
    iam_resources=("arn:{partition}:ec2:*:*:natgateway/*",),
)


def _snapshots_stay(resource: Resource, actions: Actions, _until: datetime | None) -> str:
    count = len(resource.details.get("snapshots") or ())
    if not count:
        return ""
    if count == 1:
        return "; its snapshot stays (and still costs): delete it when no longer needed"
    return f"; its {count} snapshots stay (and still cost): delete them when no longer needed"


SNAPSHOT = PatrolType(
    cfn_type=ec2.EBS_SNAPSHOT,
    short="ebs_snapshot",
    noun="EBS snapshot",
    plural="EBS snapshots",
    rule=idle.ebs_snapshot,
    idle_when="its volume is gone and no AMI uses it, older than {older_than_days} days",
    limits=(idle.SNAPSHOT_AGE_DAYS,),
    price=costs.ebs_snapshot,
    caveat=costs.fixed(costs.SNAPSHOT_BOUND),
    buttons={None: (K, D, N)},
    words={D: said("; its data is gone for good, as its volume is gone too")},
    unique_ids=True,
    inventory=Lister(
        "ec2", ec2.snapshots, ("ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeImages")
    ),
    actions={
        D: Act(
            ec2.delete_snapshot,
            ("ec2:DescribeSnapshots", "ec2:DescribeImages", "ec2:DeleteSnapshot"),
        )
    },
    tagging=TAGS,
    hint=Reader(("ec2:DescribeSnapshots",), ec2.read_snapshot),
    iam_resources=(SNAPSHOT_ARN,),
)

IMAGE_READS = (
    "ec2:DescribeImages",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeLaunchTemplateVersions",
)

IMAGE = PatrolType(
    cfn_type=ec2.AMI,
    short="ami",
    noun="AMI",
    plural="AMIs",
    rule=idle.ami,
    idle_when="no instance or launch template uses it, and none launched from it for "
    "{unused_days} days",
    limits=(idle.UNUSED_DAYS,),
    price=costs.ami,
    caveat=costs.fixed(costs.SNAPSHOT_BOUND),
    buttons={None: (K, DR, N)},
    words={DR: _snapshots_stay},
    unique_ids=True,
    inventory=Lister("ec2", ec2.images, IMAGE_READS),
    actions={DR: Act(ec2.deregister_image, (*IMAGE_READS, "ec2:DeregisterImage"))},
    tagging=TAGS,
    hint=Reader(("ec2:DescribeImages",), ec2.read_image),
    iam_resources=("arn:{partition}:ec2:*::image/*",),
)

TYPES = (INSTANCE, VOLUME, ADDRESS, NAT, SNAPSHOT, IMAGE)
