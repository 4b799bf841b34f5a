"""Enabled regions from EC2, the configured ones when that fails, and a note that says so."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bot.aws.regions import enabled_regions

ENABLED_FILTER = {
    "AllRegions": False,
    "Filters": [{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}],
}


@pytest.fixture
def ec2() -> Iterator[object]:
    client = boto3.client(
        "ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    yield client


def test_enabled_regions_from_ec2_with_the_configured_ones_first() -> None:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        regions, note = enabled_regions(ec2, ["eu-west-1"])

    assert note is None
    assert regions[0] == "eu-west-1"
    assert {"us-east-1", "ap-southeast-2"} <= set(regions)
    assert "ap-east-1" not in regions  # an opt-in region this account has not opted in to
    assert len(regions) == len(set(regions))


def test_only_enabled_regions_are_kept_even_if_the_filter_was_ignored(ec2: object) -> None:
    stub = Stubber(ec2)
    stub.add_response(
        "describe_regions",
        {
            "Regions": [
                {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                {"RegionName": "af-south-1", "OptInStatus": "opted-in"},
                {"RegionName": "me-south-1", "OptInStatus": "not-opted-in"},
            ]
        },
        ENABLED_FILTER,
    )
    with stub:
        regions, note = enabled_regions(ec2, ["us-east-1"])
    assert regions == ("us-east-1", "af-south-1") and note is None


def test_denied_falls_back_to_the_configured_regions_and_names_the_permission(ec2: object) -> None:
    stub = Stubber(ec2)
    stub.add_client_error("describe_regions", "UnauthorizedOperation", http_status_code=403)
    with stub:
        regions, note = enabled_regions(ec2, ["us-east-1"])
    assert regions == ("us-east-1",)
    assert note == "could not list regions (ec2:DescribeRegions denied); searched us-east-1 only"


def test_other_failures_fall_back_too(ec2: object) -> None:
    stub = Stubber(ec2)
    stub.add_client_error("describe_regions", "InternalError", http_status_code=500)
    with stub:
        regions, note = enabled_regions(ec2, ["us-east-1", "eu-west-1"])
    assert regions == ("us-east-1", "eu-west-1")
    assert note is not None and "InternalError" in note and "us-east-1, eu-west-1 only" in note
