"""DynamoDB's patrolled type in AWS: tables (the patrol judges those in provisioned mode).

What its declaration (bot/registry/patrol/dynamodb.py) points at: listing, the button that
switches a table to on-demand capacity, tags, creation times for lookups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, optional, owner_tags
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
from bot.core.resources import Resource

TABLE = "AWS::DynamoDB::Table"
SERVICE = "dynamodb"
ON_DEMAND = "PAY_PER_REQUEST"


def billing_mode(table: Mapping[str, Any]) -> str:
    # A table made before billing modes existed, and never changed, has no summary: provisioned.
    return str(table.get("BillingModeSummary", {}).get("BillingMode") or "PROVISIONED")


def _capacity(table: Mapping[str, Any], key: str) -> int:
    """Units provisioned for the table and its global secondary indexes together."""
    own = int(table.get("ProvisionedThroughput", {}).get(key) or 0)
    indexes = sum(
        int(index.get("ProvisionedThroughput", {}).get(key) or 0)
        for index in table.get("GlobalSecondaryIndexes", [])
    )
    return own + indexes


def _tags(client: Any, arn: str) -> dict[str, str]:
    return tags_of(list(items(client, "list_tags_of_resource", "Tags", ResourceArn=arn)))


# Inventory --------------------------------------------------------------------------------------


def tables(scan: Scan) -> list[Resource]:
    client = scan.client(SERVICE)
    resources = []
    for name in items(client, "list_tables", "TableNames", page_size=100):
        table = client.describe_table(TableName=name)["Table"]
        arn = table.get("TableArn") or scan.arn(SERVICE, f"table/{name}")
        tags = _tags(client, arn)
        mode = billing_mode(table)
        reads, writes = (
            _capacity(table, "ReadCapacityUnits"),
            _capacity(table, "WriteCapacityUnits"),
        )
        resources.append(
            Resource(
                type=TABLE,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=arn,
                state=table.get("TableStatus"),
                created_at=utc(table.get("CreationDateTime")),
                size=f"{reads} RCU, {writes} WCU" if mode == "PROVISIONED" else "on-demand",
                tags=tags,
                details={
                    **parents(tags),
                    "billing_mode": mode,
                    "read_capacity": reads,
                    "write_capacity": writes,
                    "table_class": table.get("TableClassSummary", {}).get("TableClass"),
                    "size_bytes": table.get("TableSizeBytes"),
                    "items": table.get("ItemCount"),
                },
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def switch_to_on_demand(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client = target.client(SERVICE)
    try:
        table = client.describe_table(TableName=target.id)["Table"]
    except ClientError as error:
        raise_if_gone(error, target.id)
        raise
    if table.get("TableStatus") == "DELETING":
        raise Stop(gone(target.id))
    ops.check_identity(target, table.get("CreationDateTime"))
    label = f"the DynamoDB table {target.id}"
    ops.check_tags(label, _tags(client, table["TableArn"]))
    if billing_mode(table) == ON_DEMAND:
        return already(f"{label[0].upper()}{label[1:]} is already on-demand: nothing to do.")
    if table.get("TableStatus") != "ACTIVE":
        status = table.get("TableStatus")
        return refused(f"{label[0].upper()}{label[1:]} is {status} right now; try again later.")
    where = f"{label} in {target.region}"
    if dry_run:
        return dry(f"switched {where} to on-demand capacity")
    client.update_table(TableName=target.id, BillingMode=ON_DEMAND)
    return Outcome(
        done=True,
        summary=f"Switched {where} to on-demand capacity: it is billed per request from now "
        "on. Its items, indexes and settings stay.",
    )


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # TagResource takes one ARN
        arn = resource.arn or arn_of(resource, SERVICE, "table/")
        client.tag_resource(ResourceArn=arn, Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_table(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    client = client_for(SERVICE, region)
    table = client.describe_table(TableName=ref.id)["Table"]
    tags, note = optional(
        lambda: _tags(client, table["TableArn"]),
        "dynamodb:ListTagsOfResource",
        "owner tags not read",
    )
    return Hint(utc(table.get("CreationDateTime")), owner_tags(tags), region, note, True)
