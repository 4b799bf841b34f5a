"""RDS's patrol type: DB instances."""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import rds
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.decisions import final_snapshot_words
from bot.core.kinds import said
from bot.core.policy import LOOKBACK_DAYS
from bot.core.resources import RDS_INSTANCE
from bot.registry.patrol.spec import PatrolType

K, S, D, N = Action.KEEP, Action.STOP, Action.DELETE, Action.NOT_MINE

ARN = "arn:{partition}:rds:*:*:db:*"
READ = ("rds:DescribeDBInstances",)

INSTANCE = PatrolType(
    cfn_type=RDS_INSTANCE,
    short="rds_instance",
    noun="database",
    plural="RDS instances",
    rule=idle.rds_instance,
    idle_when="≤ {max_db_connections} connections over {lookback_days} days",
    limits=(LOOKBACK_DAYS, idle.MAX_DB_CONNECTIONS),
    metrics=idle.RDS_METRICS,
    price=costs.rds_instance,
    caveat=costs.aurora_storage,
    buttons={"available": (K, S, D, N), None: (K, D, N)},
    words={S: said("; AWS starts it again by itself after 7 days"), D: final_snapshot_words},
    inventory=Lister("rds", rds.instances, READ),
    actions={
        S: Act(rds.stop_instance, (*READ, "rds:StopDBInstance")),
        D: Act(
            rds.delete_instance,
            (*READ, "rds:DeleteDBInstance"),
            snapshots=("rds:CreateDBSnapshot",),
            snapshot_resources=(ARN, "arn:{partition}:rds:*:*:snapshot:*"),
        ),
    },
    tagging=Writer("rds", "rds:AddTagsToResource", rds.write_tags, 1),
    hint=Reader(READ, rds.read_instance),
    iam_resources=(ARN,),
)

TYPES = (INSTANCE,)
