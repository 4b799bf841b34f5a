"""CloudTrail creation records of the sandbox's SageMaker, OpenSearch, ElastiCache, Redshift, EMR,
DynamoDB, EBS snapshot and AMI resources, shaped as those services log them.

The shapes follow AWS's CloudTrail documentation and real records: JSON services log their
request and response members in camelCase (SageMaker's `endpointArn`, DynamoDB's
`tableDescription`), OpenSearch's domain status names its ARN `aRN` and ElastiCache's cluster
its ARN `aRN` too, Redshift hides the master password, EC2 logs `snapshotId` and `imageId` in its
response. Nothing here decides anything: the product reads them with its own rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.sandbox.records import ACCOUNT, Identity, record

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in (tags or {}).items()]


def create_endpoint(
    name: str, config: str, when: datetime, who: Identity, *, region: str, agent: str
) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:endpoint/{name.lower()}"
    return record(
        "CreateEndpoint",
        when,
        who,
        region=region,
        agent=agent,
        source="sagemaker.amazonaws.com",
        request={"endpointName": name, "endpointConfigName": config},
        response={"endpointArn": arn},
    )


def create_notebook_instance(
    name: str,
    instance_type: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    volume_gib: int,
) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:notebook-instance/{name.lower()}"
    return record(
        "CreateNotebookInstance",
        when,
        who,
        region=region,
        agent=agent,
        source="sagemaker.amazonaws.com",
        request={
            "notebookInstanceName": name,
            "instanceType": instance_type,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole",
            "volumeSizeInGB": volume_gib,
        },
        response={"notebookInstanceArn": arn},
    )


def create_domain(
    name: str,
    instance_type: str,
    count: int,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
) -> dict[str, Any]:
    cluster = {"instanceType": instance_type, "instanceCount": count}
    return record(
        "CreateDomain",
        when,
        who,
        region=region,
        agent=agent,
        source="es.amazonaws.com",
        request={"domainName": name, "engineVersion": "OpenSearch_2.11", "clusterConfig": cluster},
        response={
            "domainStatus": {
                "domainId": f"{ACCOUNT}/{name}",
                "domainName": name,
                "aRN": f"arn:aws:es:{region}:{ACCOUNT}:domain/{name}",
                "created": True,
                "deleted": False,
                "processing": True,
                "engineVersion": "OpenSearch_2.11",
                "clusterConfig": cluster,
            }
        },
    )


def create_cache_cluster(
    identifier: str,
    engine: str,
    node_type: str,
    nodes: int,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
) -> dict[str, Any]:
    return record(
        "CreateCacheCluster",
        when,
        who,
        region=region,
        agent=agent,
        source="elasticache.amazonaws.com",
        request={
            "cacheClusterId": identifier,
            "engine": engine,
            "cacheNodeType": node_type,
            "numCacheNodes": nodes,
        },
        response={
            "cacheClusterId": identifier.lower(),
            "aRN": f"arn:aws:elasticache:{region}:{ACCOUNT}:cluster:{identifier.lower()}",
            "cacheNodeType": node_type,
            "engine": engine,
            "cacheClusterStatus": "creating",
            "numCacheNodes": nodes,
        },
    )


def create_cluster(
    identifier: str,
    node_type: str,
    nodes: int,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
) -> dict[str, Any]:
    """Redshift's CreateCluster."""
    return record(
        "CreateCluster",
        when,
        who,
        region=region,
        agent=agent,
        source="redshift.amazonaws.com",
        request={
            "clusterIdentifier": identifier,
            "nodeType": node_type,
            "numberOfNodes": nodes,
            "masterUsername": "admin",
            "masterUserPassword": HIDDEN,
        },
        response={
            "clusterIdentifier": identifier.lower(),
            "nodeType": node_type,
            "clusterStatus": "creating",
            "numberOfNodes": nodes,
            "masterUsername": "admin",
        },
    )


def run_job_flow(
    cluster_id: str,
    name: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    instance_type: str,
    count: int,
) -> dict[str, Any]:
    return record(
        "RunJobFlow",
        when,
        who,
        region=region,
        agent=agent,
        source="elasticmapreduce.amazonaws.com",
        request={
            "name": name,
            "releaseLabel": "emr-6.15.0",
            "instances": {
                "masterInstanceType": instance_type,
                "slaveInstanceType": instance_type,
                "instanceCount": count,
                "keepJobFlowAliveWhenNoSteps": True,
            },
            "jobFlowRole": "EMR_EC2_DefaultRole",
            "serviceRole": "EMR_DefaultRole",
        },
        response={
            "jobFlowId": cluster_id,
            "clusterArn": f"arn:aws:elasticmapreduce:{region}:{ACCOUNT}:cluster/{cluster_id}",
        },
    )


def create_table(
    name: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    reads: int | None,
    writes: int | None,
) -> dict[str, Any]:
    provisioned = reads is not None
    request: dict[str, Any] = {
        "tableName": name,
        "attributeDefinitions": [{"attributeName": "id", "attributeType": "S"}],
        "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        "billingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
    }
    if provisioned:
        request["provisionedThroughput"] = {
            "readCapacityUnits": reads,
            "writeCapacityUnits": writes,
        }
    return record(
        "CreateTable",
        when,
        who,
        region=region,
        agent=agent,
        source="dynamodb.amazonaws.com",
        request=request,
        response={
            "tableDescription": {
                "tableName": name,
                "tableArn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}",
                "tableId": str(uuid.uuid4()),
                "tableStatus": "CREATING",
                "creationDateTime": f"{when:%b %d, %Y, %I:%M:%S %p}",
            }
        },
    )


def create_snapshot(
    snapshot_id: str,
    volume_id: str,
    size: int,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"volumeId": volume_id}
    if tags:
        request["tagSpecificationSet"] = {
            "items": [{"resourceType": "snapshot", "tags": _tags(tags)}]
        }
    return record(
        "CreateSnapshot",
        when,
        who,
        region=region,
        agent=agent,
        request=request,
        response={
            "requestId": str(uuid.uuid4()),
            "snapshotId": snapshot_id,
            "volumeId": volume_id,
            "status": "pending",
            "startTime": int(when.timestamp() * 1000),
            "progress": "",
            "ownerId": ACCOUNT,
            "volumeSize": size,
            "encrypted": False,
        },
    )


def create_image(
    image_id: str,
    instance_id: str,
    name: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
) -> dict[str, Any]:
    return record(
        "CreateImage",
        when,
        who,
        region=region,
        agent=agent,
        request={"instanceId": instance_id, "name": name, "noReboot": True},
        response={"requestId": str(uuid.uuid4()), "imageId": image_id},
    )
