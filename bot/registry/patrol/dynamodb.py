"""DynamoDB's patrol type: tables in provisioned mode that consume nothing.

The button switches the table to on-demand capacity: an idle table then costs nothing for its
capacity, every item, index, stream and setting stays, and it can be switched back. Deleting a
table (even after a backup, which restores into a new table) is too drastic for one button.
"""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import dynamodb
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.kinds import said
from bot.core.policy import LOOKBACK_DAYS
from bot.registry.patrol.spec import PatrolType

K, OD, N = Action.KEEP, Action.ON_DEMAND, Action.NOT_MINE
READS = ("dynamodb:DescribeTable", "dynamodb:ListTagsOfResource")

TABLE = PatrolType(
    cfn_type=dynamodb.TABLE,
    short="dynamodb_table",
    noun="DynamoDB table",
    plural="DynamoDB tables",
    rule=idle.dynamodb_table,
    idle_when=(
        "provisioned, ≤ {max_consumed_capacity} read and write capacity units consumed over "
        "{lookback_days} days"
    ),
    limits=(LOOKBACK_DAYS, idle.MAX_CONSUMED_CAPACITY),
    metrics=idle.DYNAMODB_METRICS,
    price=costs.dynamodb_table,
    caveat=costs.dynamodb_storage,
    buttons={None: (K, OD, N)},
    words={
        OD: said(
            " to on-demand capacity: billed per request from then on, nothing while idle; "
            "its items, indexes and settings stay and it can be switched back"
        )
    },
    inventory=Lister("dynamodb", dynamodb.tables, ("dynamodb:ListTables", *READS)),
    actions={OD: Act(dynamodb.switch_to_on_demand, (*READS, "dynamodb:UpdateTable"))},
    tagging=Writer("dynamodb", "dynamodb:TagResource", dynamodb.write_tags, 1),
    hint=Reader(READS, dynamodb.read_table),
    iam_resources=("arn:{partition}:dynamodb:*:*:table/*",),
)

TYPES = (TABLE,)
