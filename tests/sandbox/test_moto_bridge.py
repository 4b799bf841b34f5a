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


def launch(ec2: Any, image: str, count: int, team: str) -> list[str]:
    found = ec2.run_instances(
        ImageId=image,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": team}]}],
    )["Instances"]
    return [instance["InstanceId"] for instance in found]


def test_describe_instances_pages_by_instance_as_ec2_does(bridge: MotoBridge) -> None:
    # moto counts MaxResults in reservations: these 130 instances would be one page of 3.
    seeding = boto3.client("ec2", region_name="us-east-1")
    image = seeding.describe_images()["Images"][0]["ImageId"]
    made = launch(seeding, image, 60, "a") + launch(seeding, image, 7, "b")
    made += launch(seeding, image, 63, "a")
    ec2 = remote(bridge, "ec2", "us-east-1")

    pages = list(
        ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 50})
    )
    tagged = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag:team", "Values": ["a"]}], PaginationConfig={"PageSize": 100}
    )

    sizes = [sum(len(r["Instances"]) for r in page["Reservations"]) for page in pages]
    seen = [i["InstanceId"] for page in pages for r in page["Reservations"] for i in r["Instances"]]
    assert sizes == [50, 50, 30]
    assert seen == made  # each once, in order
    # The second page holds the end of the first reservation, all of the second, and the third's
    # start, each under its own reservation id.
    assert [len(r["Instances"]) for r in pages[1]["Reservations"]] == [10, 7, 33]
    assert len({r["ReservationId"] for page in pages for r in page["Reservations"]}) == 3
    a_team = [
        i["InstanceId"] for page in tagged for r in page["Reservations"] for i in r["Instances"]
    ]
    assert a_team == made[:60] + made[67:]
    assert bridge.call_counts()["us-east-1"]["ec2:DescribeInstances"] == 3 + 2


def test_describe_instances_refuses_a_bad_page_size_or_token(bridge: MotoBridge) -> None:
    ec2 = remote(bridge, "ec2", "us-east-1")

    with pytest.raises(ClientError) as too_small:
        ec2.describe_instances(MaxResults=2)
    with pytest.raises(ClientError) as forged:
        ec2.describe_instances(MaxResults=5, NextToken="not-ours")
    with pytest.raises(ClientError) as markup:
        ec2.describe_instances(MaxResults=5, NextToken="<a&b>-5")

    for refused in (too_small, forged, markup):
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "maxResults" in str(too_small.value)
    assert "not-ours" in str(forged.value)
    assert "<a&b>-5" in str(markup.value)


def test_a_token_serves_its_own_region_and_its_pages_can_be_asked_again(
    bridge: MotoBridge,
) -> None:
    seeding = boto3.client("ec2", region_name="us-east-1")
    image = seeding.describe_images()["Images"][0]["ImageId"]
    made = launch(seeding, image, 12, "a")
    ec2, elsewhere = remote(bridge, "ec2", "us-east-1"), remote(bridge, "ec2", "eu-west-1")

    first = ec2.describe_instances(MaxResults=10)
    token = first["NextToken"]
    last = ec2.describe_instances(MaxResults=10, NextToken=token)
    again = ec2.describe_instances(MaxResults=10, NextToken=token)  # a retried last page
    default_size = ec2.describe_instances(NextToken=token)  # no MaxResults: up to 1,000
    with pytest.raises(ClientError) as other_region:
        elsewhere.describe_instances(MaxResults=10, NextToken=token)

    def ids(page: dict[str, Any]) -> list[str]:
        return [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]

    assert ids(first) + ids(last) == made and "NextToken" not in last
    assert ids(again) == ids(last) == ids(default_size) == made[10:]
    assert other_region.value.response["Error"]["Code"] == "InvalidParameterValue"
