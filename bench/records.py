"""CloudTrail records shaped like real ones (copied from the tests' builders, which bench must not
import): RunInstances lists the instance under responseElements.instancesSet and the AMI under
requestParameters; DescribeInstances and CreateTags only name it."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "123456789012"  # moto's default account, which the sandbox uses

_ids = itertools.count(1)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    name: str,
    when: datetime,
    *,
    region: str,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    read_only: bool = False,
    user: str = "alice",
) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE" + user.upper(),
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLE" + user.upper(),
            "userName": user,
        },
        "eventTime": iso(when),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }


def run_instances(
    instance_id: str, when: datetime, *, image_id: str, region: str, user: str = "alice"
) -> dict[str, Any]:
    return record(
        "RunInstances",
        when,
        region=region,
        user=user,
        request={
            "instancesSet": {"items": [{"imageId": image_id, "minCount": 1, "maxCount": 1}]},
            "instanceType": "t3.micro",
        },
        response={
            "reservationId": f"r-{next(_ids):017x}",
            "ownerId": ACCOUNT,
            "instancesSet": {
                "items": [
                    {
                        "instanceId": instance_id,
                        "imageId": image_id,
                        "instanceState": {"code": 0, "name": "pending"},
                        "instanceType": "t3.micro",
                    }
                ]
            },
        },
    )


def describe_instances(instance_id: str, when: datetime, region: str) -> dict[str, Any]:
    return record(
        "DescribeInstances",
        when,
        region=region,
        read_only=True,
        user="monitoring",
        request={"instancesSet": {"items": [{"instanceId": instance_id}]}},
    )


def create_tags(resource_id: str, when: datetime, region: str) -> dict[str, Any]:
    return record(
        "CreateTags",
        when,
        region=region,
        user="bob",
        request={
            "resourcesSet": {"items": [{"resourceId": resource_id}]},
            "tagSet": {"items": [{"key": "team", "value": "data"}]},
        },
        response={"_return": True},
    )


def busy_history(
    instance_id: str,
    created: datetime,
    until: datetime,
    count: int,
    *,
    image_id: str,
    region: str,
    creator: str = "alice",
) -> list[dict[str, Any]]:
    """RunInstances at `created` by `creator`, then count-1 mentions spread evenly up to `until`."""
    step = (until - created) / count
    mentions = [
        (describe_instances if n % 3 else create_tags)(instance_id, created + step * n, region)
        for n in range(1, count)
    ]
    made = run_instances(instance_id, created, image_id=image_id, region=region, user=creator)
    return [made, *mentions]
