"""CloudTrail records with the tests' defaults, a fake clock, and boto3 clients for the stand-in.

The records come from the sandbox's builders (bot/sandbox/records.py), which copy real records:
RunInstances lists the created instance under responseElements.instancesSet and the AMI it used
under requestParameters, CreateTags and DescribeInstances only name it. Here everyone is an IAM
user on the CLI unless a test says otherwise.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from bot.sandbox import records

ACCOUNT = records.ACCOUNT
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


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
    """A management event by IAM user `user` with the CLI; `error`: a call that failed."""
    rec = records.record(
        name,
        when,
        records.iam_user(user),
        region=region,
        agent=records.CLI,
        source=source,
        request=request,
        response=response,
        read_only=read_only,
    )
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
    return records.run_instances(
        instance_id,
        when,
        records.iam_user(user),
        region=region,
        agent=records.CLI,
        image_id=image_id,
        instance_type="t3.micro",
    )


def describe_instances(instance_id: str, when: datetime, region: str = "us-east-1") -> dict:
    return records.describe_instances(
        instance_id, when, records.iam_user("monitoring"), region=region, agent=records.CLI
    )


def create_tags(resource_id: str, when: datetime, region: str = "us-east-1") -> dict:
    return records.create_tags(
        resource_id,
        {"team": "data"},
        when,
        records.iam_user("bob"),
        region=region,
        agent=records.CLI,
    )


def busy_history(
    resource_id: str, created: datetime, until: datetime, count: int, region: str = "us-east-1"
) -> list[dict[str, Any]]:
    """alice's RunInstances at `created`, then count-1 mentions spread evenly up to `until`."""
    return records.busy_history(
        resource_id,
        created,
        until,
        count,
        records.iam_user("alice"),
        region=region,
        image_id="ami-0123456789abcdef0",
    )


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
