"""Redshift's patrol type: provisioned clusters. Pause stops the compute bill and keeps every
table (it is resumed in minutes); Delete takes a final snapshot unless the policy turns that off."""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import redshift
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.decisions import final_snapshot_words
from bot.core.kinds import said
from bot.core.policy import LOOKBACK_DAYS
from bot.registry.patrol.spec import PatrolType

K, P, D, N = Action.KEEP, Action.PAUSE, Action.DELETE, Action.NOT_MINE
ARN = "arn:{partition}:redshift:*:*:cluster:*"
READ = ("redshift:DescribeClusters",)

CLUSTER = PatrolType(
    cfn_type=redshift.CLUSTER,
    short="redshift_cluster",
    noun="Redshift cluster",
    plural="Redshift clusters",
    rule=idle.redshift_cluster,
    idle_when="≤ {max_db_connections} connections over {lookback_days} days",
    limits=(LOOKBACK_DAYS, idle.MAX_DB_CONNECTIONS),
    metrics=idle.REDSHIFT_METRICS,
    price=costs.redshift_cluster,
    caveat=costs.redshift_storage,
    buttons={"available": (K, P, D, N), None: (K, D, N)},
    words={
        P: said("; its storage stays (and still costs) and it can be resumed"),
        D: final_snapshot_words,
    },
    inventory=Lister("redshift", redshift.clusters, READ),
    actions={
        P: Act(redshift.pause_cluster, (*READ, "redshift:PauseCluster")),
        D: Act(
            redshift.delete_cluster,
            (*READ, "redshift:DeleteCluster"),
            snapshots=("redshift:CreateClusterSnapshot",),
            snapshot_resources=(ARN, "arn:{partition}:redshift:*:*:snapshot:*/*"),
        ),
    },
    tagging=Writer("redshift", "redshift:CreateTags", redshift.write_tags, 1),
    hint=Reader(READ, redshift.read_cluster),
    iam_resources=(ARN,),
)

TYPES = (CLUSTER,)
