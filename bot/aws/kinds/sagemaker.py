"""SageMaker's patrolled types in AWS: real-time endpoints and notebook instances.

What their declarations (bot/registry/patrol/sagemaker.py) point at: listing, buttons, tags,
creation times for lookups. SageMaker answers a name it does not know with a ValidationException
("Could not find endpoint …", "RecordNotFound"), which here means the resource is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.creation_hints import ClientFor, Hint, optional, owner_tags
from bot.aws.errors import error_code
from bot.aws.inventory import Scan, items, parents, utc
from bot.aws.operations import (
    Operations,
    Outcome,
    Stop,
    Target,
    already,
    dry,
    gone,
    refused,
)
from bot.aws.tagging import arn_of, aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import Resource

ENDPOINT = "AWS::SageMaker::Endpoint"
NOTEBOOK = "AWS::SageMaker::NotebookInstance"
SERVICE = "sagemaker"


def _missing(error: ClientError) -> bool:
    message = str(error.response.get("Error", {}).get("Message") or "")
    return error_code(error) == "ValidationException" and (
        "Could not find" in message or "RecordNotFound" in message
    )


def _tags(client: Any, arn: str) -> dict[str, str]:
    return tags_of(list(items(client, "list_tags", "Tags", ResourceArn=arn)))


# Inventory --------------------------------------------------------------------------------------


def endpoints(scan: Scan) -> list[Resource]:
    client = scan.client(SERVICE)
    resources = []
    for listed in items(client, "list_endpoints", "Endpoints", page_size=100):
        name = listed["EndpointName"]
        described = client.describe_endpoint(EndpointName=name)
        variants = _variants(client, described, scan)
        tags = _tags(client, listed["EndpointArn"])
        resources.append(
            Resource(
                type=ENDPOINT,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=listed["EndpointArn"],
                state=listed.get("EndpointStatus"),
                created_at=utc(listed.get("CreationTime")),
                size=", ".join(_variant_words(v) for v in variants) or None,
                tags=tags,
                details={
                    **parents(tags),
                    "config": described.get("EndpointConfigName"),
                    "variants": variants,
                },
            )
        )
    return resources


def _variants(client: Any, endpoint: dict[str, Any], scan: Scan) -> list[dict[str, Any]]:
    """Each production variant: its name, instance type, how many run, serverless or not."""
    running = {
        v["VariantName"]: v.get("CurrentInstanceCount")
        for v in endpoint.get("ProductionVariants", [])
    }
    try:
        config = client.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    except ClientError as error:
        if not _missing(error):
            raise
        # The endpoint runs on after its configuration is deleted: its variants' names remain.
        note = f"SageMaker endpoint {endpoint['EndpointName']}: its configuration is gone"
        scan.notes.append(f"{note} in {scan.account}/{scan.region}; its price is not known")
        return [{"name": name, "count": count} for name, count in running.items()]
    return [
        {
            "name": v["VariantName"],
            "instance_type": v.get("InstanceType"),
            "count": running.get(v["VariantName"], v.get("InitialInstanceCount")),
            "serverless": "ServerlessConfig" in v,
        }
        for v in config.get("ProductionVariants", [])
    ]


def _variant_words(variant: dict[str, Any]) -> str:
    if variant.get("serverless"):
        return "serverless"
    if not variant.get("instance_type"):
        return ""
    return f"{variant.get('count') or 0} × {variant['instance_type']}"


def notebooks(scan: Scan) -> list[Resource]:
    client = scan.client(SERVICE)
    resources = []
    for listed in items(client, "list_notebook_instances", "NotebookInstances", page_size=100):
        name = listed["NotebookInstanceName"]
        described = client.describe_notebook_instance(NotebookInstanceName=name)
        tags = _tags(client, listed["NotebookInstanceArn"])
        resources.append(
            Resource(
                type=NOTEBOOK,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=listed["NotebookInstanceArn"],
                state=listed.get("NotebookInstanceStatus"),
                created_at=utc(listed.get("CreationTime")),
                # Changes on every start, stop and update: how long it has run as it is.
                state_since=utc(described.get("LastModifiedTime")),
                size=listed.get("InstanceType"),
                tags=tags,
                details={**parents(tags), "volume_gib": described.get("VolumeSizeInGB")},
            )
        )
    return resources


# Buttons ----------------------------------------------------------------------------------------


def delete_endpoint(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client = target.client(SERVICE)
    try:
        endpoint = client.describe_endpoint(EndpointName=target.id)
    except ClientError as error:
        if _missing(error):
            raise Stop(gone(target.id)) from error
        raise
    if endpoint.get("EndpointStatus") == "Deleting":
        return gone(target.id, "already being deleted")
    ops.check_identity(target, endpoint.get("CreationTime"))
    label = f"the SageMaker endpoint {target.id}"
    ops.check_tags(label, _tags(client, endpoint["EndpointArn"]))
    config = endpoint.get("EndpointConfigName")
    where = f"{label} in {target.region}"
    stays = f" Its endpoint configuration {config} and its model stay, so it can be made again."
    if dry_run:
        return dry(f"deleted {where}; its endpoint configuration {config} would stay")
    client.delete_endpoint(EndpointName=target.id)
    return Outcome(done=True, summary=f"Deleting {where}.{stays}")


def stop_notebook(ops: Operations, target: Target, dry_run: bool) -> Outcome:
    client = target.client(SERVICE)
    try:
        notebook = client.describe_notebook_instance(NotebookInstanceName=target.id)
    except ClientError as error:
        if _missing(error):
            raise Stop(gone(target.id)) from error
        raise
    label = f"the SageMaker notebook instance {target.id}"
    status = notebook.get("NotebookInstanceStatus")
    if status == "Deleting":
        return gone(target.id, "being deleted")
    ops.check_identity(target, notebook.get("CreationTime"))
    if status in ("Stopped", "Stopping"):
        return already(f"{label[0].upper()}{label[1:]} is already stopped: nothing to do.")
    ops.check_tags(label, _tags(client, notebook["NotebookInstanceArn"]))
    if status != "InService":
        return refused(f"{label[0].upper()}{label[1:]} is {status} right now; try again later.")
    where = f"{label} in {target.region}"
    if dry_run:
        return dry(f"stopped {where}")
    client.stop_notebook_instance(NotebookInstanceName=target.id)
    return Outcome(
        done=True,
        summary=f"Stopping {where}. Its ML storage volume stays (and still costs); "
        "it can be started again.",
    )


# Tags -------------------------------------------------------------------------------------------


def _arn(resource: Resource, kind: str) -> str:
    # SageMaker's ARNs carry names in lower case.
    built = Resource(resource.type, resource.id.lower(), resource.region, resource.account)
    return resource.arn or arn_of(built, SERVICE, kind)


def write_endpoint_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # AddTags takes one ARN
        client.add_tags(ResourceArn=_arn(resource, "endpoint/"), Tags=aws_tags(tags))


def write_notebook_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:
        client.add_tags(ResourceArn=_arn(resource, "notebook-instance/"), Tags=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_endpoint(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    client = client_for(SERVICE, region)
    try:
        endpoint = client.describe_endpoint(EndpointName=ref.id)
    except ClientError as error:
        if _missing(error):
            return Hint(exists=False)
        raise
    tags, note = optional(
        lambda: _tags(client, endpoint["EndpointArn"]), "sagemaker:ListTags", "owner tags not read"
    )
    return Hint(utc(endpoint.get("CreationTime")), owner_tags(tags), region, note, True)


def read_notebook(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    client = client_for(SERVICE, region)
    try:
        notebook = client.describe_notebook_instance(NotebookInstanceName=ref.id)
    except ClientError as error:
        if _missing(error):
            return Hint(exists=False)
        raise
    tags, note = optional(
        lambda: _tags(client, notebook["NotebookInstanceArn"]),
        "sagemaker:ListTags",
        "owner tags not read",
    )
    return Hint(utc(notebook.get("CreationTime")), owner_tags(tags), region, note, True)
