"""EMR's patrol type: clusters that are up. Terminate ends the cluster (never one with
termination protection on); its price is EMR's own charge, the instances bill as EC2."""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import emr
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.kinds import said
from bot.core.policy import LOOKBACK_DAYS
from bot.registry.patrol.spec import PatrolType

K, T, N = Action.KEEP, Action.TERMINATE, Action.NOT_MINE
DESCRIBE = "elasticmapreduce:DescribeCluster"

CLUSTER = PatrolType(
    cfn_type=emr.CLUSTER,
    short="emr_cluster",
    noun="EMR cluster",
    plural="EMR clusters",
    rule=idle.emr_cluster,
    idle_when=(
        "IsIdle all along: ≤ {max_busy_hours} hours with work running over {lookback_days} days"
    ),
    limits=(LOOKBACK_DAYS, idle.MAX_BUSY_HOURS),
    metrics=idle.EMR_METRICS,
    price=costs.emr_cluster,
    caveat=costs.fixed("EMR's charge only: its instances bill as EC2 instances"),
    buttons={None: (K, T, N)},
    words={T: said("; its instances go with it, and so does what is only on their disks (HDFS)")},
    unique_ids=True,  # j-… ids are never reused
    inventory=Lister(
        "emr",
        emr.clusters,
        (
            "elasticmapreduce:ListClusters",
            DESCRIBE,
            "elasticmapreduce:ListInstanceGroups",
            "elasticmapreduce:ListInstances",  # clusters of instance fleets
        ),
    ),
    actions={T: Act(emr.terminate_cluster, (DESCRIBE, "elasticmapreduce:TerminateJobFlows"))},
    tagging=Writer("emr", "elasticmapreduce:AddTags", emr.write_tags, 1),
    hint=Reader((DESCRIBE,), emr.read_cluster),
    iam_resources=("arn:{partition}:elasticmapreduce:*:*:cluster/*",),
)

TYPES = (CLUSTER,)
