"""The moto bridge: another process's boto3 sees the moto state this process seeded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bot.sandbox.moto_bridge import MotoBridge, regions_answer


@pytest.fixture
def bridge(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoBridge]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws(), MotoBridge() as running:
        yield running


def remote(bridge: MotoBridge, service: str, region: str) -> Any:
    """A client as another process makes it: only the endpoint and dummy keys."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=bridge.endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )


def test_seeded_in_process_answered_over_http_per_region(bridge: MotoBridge) -> None:
    seeding = boto3.client("ec2", region_name="eu-west-1")
    image = seeding.describe_images()["Images"][0]["ImageId"]
    launched = seeding.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]

    described = remote(bridge, "ec2", "eu-west-1").describe_instances(
        InstanceIds=[launched["InstanceId"]]
    )
    with pytest.raises(ClientError) as elsewhere:
        remote(bridge, "ec2", "us-east-1").describe_instances(InstanceIds=[launched["InstanceId"]])

    (instance,) = described["Reservations"][0]["Instances"]
    assert instance["InstanceId"] == launched["InstanceId"]
    assert elsewhere.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


def test_counts_requests_per_region_and_operation_in_every_protocol(bridge: MotoBridge) -> None:
    remote(bridge, "sts", "us-east-1").get_caller_identity()  # query
    remote(bridge, "ec2", "eu-west-1").describe_volumes()  # EC2
    remote(bridge, "eks", "eu-west-1").list_clusters()  # REST JSON
    remote(bridge, "elbv2", "eu-west-1").describe_load_balancers()
    remote(bridge, "elbv2", "eu-west-1").describe_load_balancers()

    assert bridge.call_counts() == {
        "us-east-1": {"sts:GetCallerIdentity": 1},
        "eu-west-1": {
            "ec2:DescribeVolumes": 1,
            "eks:ListClusters": 1,
            "elasticloadbalancing:DescribeLoadBalancers": 2,
        },
    }
    bridge.reset_counts()
    assert bridge.call_counts() == {}


def test_an_override_replaces_motos_answer(bridge: MotoBridge) -> None:
    # moto lists China and GovCloud regions as enabled; a sandbox names its own.
    bridge.override("ec2", "DescribeRegions", regions_answer(["us-east-1", "eu-north-1"]))

    regions = remote(bridge, "ec2", "us-east-1").describe_regions()["Regions"]

    assert [(r["RegionName"], r["OptInStatus"]) for r in regions] == [
        ("us-east-1", "opt-in-not-required"),
        ("eu-north-1", "opt-in-not-required"),
    ]
