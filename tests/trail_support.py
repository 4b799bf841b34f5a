"""CloudTrail records shaped like real ones, a fake clock, and boto3 clients for the stand-in.

The record builders copy the structure of real records (see tests/fixtures/cloudtrail and
../shared/cloudtrail): RunInstances lists the created instance under responseElements.instancesSet
and the AMI it used under requestParameters, CreateTags and DescribeInstances only name it.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


class FakeClock:
    """Wall clock, monotonic clock and sleep in one: sleeping moves both clocks, instantly."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now
        self.mono = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def utcnow(self) -> datetime:
        with self._lock:
            return self.now

    def monotonic(self) -> float:
        with self._lock:
            return self.mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        with self._lock:
            self.sleeps.append(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.mono += max(0.0, seconds)
            self.now += timedelta(seconds=max(0.0, seconds))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    name: str,
    when: datetime,
    *,
    region: str = "us-east-1",
    source: str = "ec2.amazonaws.com",
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    read_only: bool = False,
    error: str | None = None,
    user: str = "alice",
) -> dict[str, Any]:
    rec: dict[str, Any] = {
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
        "eventSource": source,
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
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = "failed"
        rec["responseElements"] = None
    return rec


def run_instances(
    instance_id: str,
    when: datetime,
    *,
    image_id: str = "ami-0123456789abcdef0",
    region: str = "us-east-1",
    user: str = "alice",
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


def describe_instances(instance_id: str, when: datetime, region: str = "us-east-1") -> dict:
    return record(
        "DescribeInstances",
        when,
        region=region,
        read_only=True,
        request={"instancesSet": {"items": [{"instanceId": instance_id}]}},
    )


def create_tags(resource_id: str, when: datetime, region: str = "us-east-1") -> dict:
    return record(
        "CreateTags",
        when,
        region=region,
        request={
            "resourcesSet": {"items": [{"resourceId": resource_id}]},
            "tagSet": {"items": [{"key": "team", "value": "data"}]},
        },
        response={"_return": True},
    )


def busy_history(
    resource_id: str, created: datetime, until: datetime, count: int, region: str = "us-east-1"
) -> list[dict[str, Any]]:
    """RunInstances at `created`, then count-1 mentions spread evenly up to `until`."""
    step = (until - created) / count
    mentions = [
        (describe_instances if n % 3 else create_tags)(resource_id, created + step * n, region)
        for n in range(1, count)
    ]
    return [run_instances(resource_id, created, region=region), *mentions]


def trail_client(endpoint_url: str, region: str, attempts: int = 8) -> Any:
    """A CloudTrail client for the stand-in: dummy keys, the real SigV4 region scope."""
    return boto3.client(
        "cloudtrail",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )
