"""The sandbox a benchmark's sides share: moto behind the bridge, and the two stand-ins.

It lives in the parent process; sides reach it through the environment `env()` gives them
(AWS_ENDPOINT_URL for moto's services, AWS_ENDPOINT_URL_CLOUDTRAIL and _CLOUDWATCH for the
stand-ins, dummy keys, no profile or config file of this machine). Every server counts the
requests it receives, so `calls()` is what AWS would have seen, whatever the client did.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends

from bot.sandbox import moto_scale
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.sandbox.metrics_api import MetricsServer
from bot.sandbox.moto_bridge import MotoBridge, regions_answer

ACCOUNT = DEFAULT_ACCOUNT_ID
HOME_REGION = "us-east-1"
# The regions every AWS account has enabled without opting in (17); moto lists 38.
ENABLED_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)
# Variables of this machine that must not reach the sandbox or the sides.
_FOREIGN = ("AWS_", "SLACK_", "WHOCREATED_", "DATABASE_URL")


def clean_environment(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith(_FOREIGN)}


class Sandbox:
    """Use as a context manager; one per benchmark, so no benchmark sees another's data."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._images: dict[str, str] = {}

    def __enter__(self) -> Self:
        stack = self._stack
        moto_scale.install()  # describing and launching thousands must not be quadratic
        stack.enter_context(mock_aws())
        self.bridge = stack.enter_context(MotoBridge())
        self.trail = stack.enter_context(CloudTrailServer())
        self.metrics = stack.enter_context(MetricsServer())
        self.bridge.override("ec2", "DescribeRegions", regions_answer(ENABLED_REGIONS))
        self.folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def adopt(self, resource: Any) -> Any:
        """Enter a context manager (another fake server) for the sandbox's lifetime."""
        return self._stack.enter_context(resource)

    # For the sides ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {
            **clean_environment(dict(os.environ)),
            "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
            "AWS_SECRET_ACCESS_KEY": "benchmark",
            "AWS_REGION": HOME_REGION,
            "AWS_DEFAULT_REGION": HOME_REGION,
            "AWS_CONFIG_FILE": str(self.folder / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.folder / "no-aws-credentials"),
            "AWS_ENDPOINT_URL": self.bridge.endpoint_url,
            "AWS_ENDPOINT_URL_CLOUDTRAIL": self.trail.endpoint_url,
            "AWS_ENDPOINT_URL_CLOUDWATCH": self.metrics.endpoint_url,
        }

    def set_latency(self, seconds: float) -> None:
        """Every AWS call takes this long, whichever server answers it."""
        self.bridge.latency = self.trail.latency = self.metrics.latency = seconds

    # Counting ---------------------------------------------------------------------------------

    def reset_counts(self) -> None:
        self.bridge.reset_counts()
        self.trail.reset_counts()
        self.metrics.reset_counts()

    def calls(self) -> dict[str, int]:
        """Requests received per "service:Operation", over every region (throttled too)."""
        total: Counter[str] = Counter()
        for server in (self.bridge, self.trail, self.metrics):
            for per_operation in server.call_counts().values():
                total.update(per_operation)
        return dict(sorted(total.items()))

    def throttled(self) -> int:
        return self.trail.throttled()

    # Seeding ----------------------------------------------------------------------------------

    def ec2(self, region: str) -> Any:
        """An in-process client on moto's state (this process runs inside mock_aws)."""
        return boto3.client("ec2", region_name=region)

    def warm_regions(self, regions: Iterable[str]) -> None:
        """Make moto's EC2 backend of each region now: moto builds one on first use (default VPC,
        images…), 40-60 ms of this process's CPU that would otherwise land inside a measurement,
        where AWS itself would answer in parallel."""
        for region in regions:
            self.ec2(region).describe_instances()

    def image(self, region: str) -> str:
        if region not in self._images:
            self._images[region] = self.ec2(region).describe_images()["Images"][0]["ImageId"]
        return self._images[region]

    def launch(self, region: str, created: Iterable[datetime]) -> list[str]:
        """One moto instance per creation time, backdated to it; returns their ids.

        moto stamps launch and attach times with its own clock; an instance "made 89 days ago"
        needs them set back, as the creation hint reads the primary interface's attach time.
        """
        times = list(created)
        reply = self.ec2(region).run_instances(
            ImageId=self.image(region), MinCount=len(times), MaxCount=len(times)
        )
        ids = [instance["InstanceId"] for instance in reply["Instances"]]
        backend = ec2_backends[ACCOUNT][region]
        for instance_id, when in zip(ids, times, strict=True):
            instance = backend.get_instance(instance_id)
            naive_utc = when.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC
            instance.launch_time = naive_utc
            for interface in instance.nics.values():
                interface.attach_time = naive_utc
        return ids
