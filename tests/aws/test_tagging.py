"""Tagger against moto: each patrolled type is tagged through its own service's call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bot.aws.tagging import Tagger
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    EKS_CLUSTER,
    ELASTIC_IP,
    LOAD_BALANCER,
    NAT_GATEWAY,
    RDS_INSTANCE,
    Resource,
)
from bot.registry.patrol import PATROL

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
AMI = "ami-12c6146b"
TAG = {"whocreated:created-by": "alice 2024-03-01T12:00:00Z RunInstances"}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def client_for(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)


def resource(resource_type: str, resource_id: str, arn: str | None = None) -> Resource:
    return Resource(type=resource_type, id=resource_id, region=REGION, account=ACCOUNT, arn=arn)


def ec2_tags(resource_id: str) -> dict[str, str]:
    found = client_for("ec2", REGION).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource_id]}]
    )["Tags"]
    return {tag["Key"]: tag["Value"] for tag in found}


def subnets() -> list[str]:
    ec2 = client_for("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]


def test_ec2_family_through_create_tags(aws: None) -> None:
    ec2 = client_for("ec2", REGION)
    instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    volume = ec2.create_volume(Size=8, AvailabilityZone=f"{REGION}a")["VolumeId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets()[0], AllocationId=allocation)["NatGateway"][
        "NatGatewayId"
    ]
    tagger = Tagger(client_for, PATROL.by_type)

    for resource_type, resource_id in (
        (EC2_INSTANCE, instance),
        (EBS_VOLUME, volume),
        (ELASTIC_IP, allocation),
        (NAT_GATEWAY, nat),
    ):
        assert tagger.tag(resource(resource_type, resource_id), TAG)
        assert ec2_tags(resource_id) == TAG, resource_type


def test_rds_by_arn_built_from_where_it_lives(aws: None) -> None:
    rds = client_for("rds", REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="secret-password",
        AllocatedStorage=20,
    )

    assert Tagger(client_for, PATROL.by_type).tag(resource(RDS_INSTANCE, "orders"), TAG)

    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"
    tags = rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == TAG


def test_load_balancers_v2_and_classic(aws: None) -> None:
    elbv2 = client_for("elbv2", REGION)
    arn = elbv2.create_load_balancer(Name="web", Subnets=subnets())["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    elb = client_for("elb", REGION)
    elb.create_load_balancer(
        LoadBalancerName="legacy",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{REGION}a"],
    )
    tagger = Tagger(client_for, PATROL.by_type)

    assert tagger.tag(resource(LOAD_BALANCER, arn, arn), TAG)
    assert tagger.tag(resource(CLASSIC_LOAD_BALANCER, "legacy"), TAG)

    v2 = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    classic = elb.describe_tags(LoadBalancerNames=["legacy"])["TagDescriptions"][0]["Tags"]
    assert {t["Key"]: t["Value"] for t in v2} == TAG
    assert {t["Key"]: t["Value"] for t in classic} == TAG


def test_eks_cluster_by_arn(aws: None) -> None:
    eks = client_for("eks", REGION)
    eks.create_cluster(
        name="dev",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": subnets()},
    )

    assert Tagger(client_for, PATROL.by_type).tag(resource(EKS_CLUSTER, "dev"), TAG)

    assert eks.describe_cluster(name="dev")["cluster"]["tags"] == TAG


def test_values_are_clipped_and_cleaned_for_the_strictest_service(aws: None) -> None:
    ec2 = client_for("ec2", REGION)
    volume = ec2.create_volume(Size=8, AvailabilityZone=f"{REGION}a")["VolumeId"]

    assert Tagger(client_for, PATROL.by_type).tag(
        resource(EBS_VOLUME, volume), {"note": "<o'brien> " + "x" * 400}
    )

    value = ec2_tags(volume)["note"]
    assert len(value) == 256 and value.startswith("_o_brien_ x")


# Denied and unknown: False, never raises -----------------------------------------------------


class DeniedEc2:
    def __init__(self) -> None:
        self.calls = 0

    def create_tags(self, **_: Any) -> Any:
        self.calls += 1
        raise ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "CreateTags"
        )


class BrokenEc2:
    def create_tags(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "CreateTags")


def test_denied_is_false_and_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    denied = DeniedEc2()
    tagger = Tagger(lambda service, region: denied, PATROL.by_type)

    with caplog.at_level(logging.WARNING, logger="bot.aws.tagging"):
        first = tagger.tag(resource(EC2_INSTANCE, "i-0123456789abcdef0"), TAG)
        second = tagger.tag(resource(EBS_VOLUME, "vol-0123456789abcdef0"), TAG)

    assert (first, second) == (False, False) and denied.calls == 2
    warnings = [r for r in caplog.records if "ec2:CreateTags denied" in r.getMessage()]
    assert len(warnings) == 1


def test_other_failures_are_false_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    tagger = Tagger(lambda service, region: BrokenEc2(), PATROL.by_type)
    with caplog.at_level(logging.ERROR, logger="bot.aws.tagging"):
        assert not tagger.tag(resource(EC2_INSTANCE, "i-0123456789abcdef0"), TAG)
    assert any("InternalError" in r.getMessage() for r in caplog.records)


def test_a_type_without_a_tag_call_is_false() -> None:
    def no_client(service: str, region: str) -> Any:
        raise AssertionError("no client should be made")

    assert not Tagger(no_client, PATROL.by_type).tag(resource("AWS::SQS::Queue", "jobs"), TAG)


def test_another_account_is_tagged_only_through_its_own_clients(aws: None) -> None:
    other = Resource(
        type=EC2_INSTANCE, id="i-0123456789abcdef0", region=REGION, account="210987654321"
    )
    denied = DeniedEc2()

    alone = Tagger(client_for, PATROL.by_type, account_id=lambda: ACCOUNT)
    assert not alone.tag(other, TAG)

    routed = Tagger(
        client_for,
        PATROL.by_type,
        account_id=lambda: ACCOUNT,
        clients_for_account=lambda account: lambda s, r: denied,
    )
    assert not routed.tag(other, TAG) and denied.calls == 1  # reached the other account's client


class RecordingEc2:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[dict[str, str]]]] = []

    def create_tags(self, *, Resources: list[str], Tags: list[dict[str, str]]) -> None:
        self.calls.append((list(Resources), list(Tags)))


def test_tags_are_written_one_call_per_region_and_value(aws: None) -> None:
    ec2 = client_for("ec2", REGION)
    calls: list[str] = []
    ec2.meta.events.register("before-call.ec2.CreateTags", lambda **_: calls.append("CreateTags"))
    made = ec2.run_instances(ImageId=AMI, MinCount=20, MaxCount=20)["Instances"]
    volumes = [
        ec2.create_volume(Size=8, AvailabilityZone=f"{REGION}a")["VolumeId"] for _ in range(10)
    ]
    resources = [resource(EC2_INSTANCE, i["InstanceId"]) for i in made] + [
        resource(EBS_VOLUME, volume) for volume in volumes
    ]
    creators = ["alice", "bob", "carol"]
    items = [
        (res, {"whocreated:created-by": f"{creators[n % 3]} 2024-03-01T12:00:00Z RunInstances"})
        for n, res in enumerate(resources)
    ]

    assert Tagger(lambda service, region: ec2, PATROL.by_type).tag_all(items) == (30, 0)

    assert calls == ["CreateTags"] * 3  # 30 resources of 3 creators: 3 calls, not 30
    for res, tags in items:
        assert ec2_tags(res.id) == tags


def test_a_thousand_ids_a_call_at_most() -> None:
    ec2 = RecordingEc2()
    items = [(resource(EC2_INSTANCE, f"i-{n:017x}"), TAG) for n in range(2_001)]
    assert Tagger(lambda service, region: ec2, PATROL.by_type).tag_all(items) == (2_001, 0)
    assert [len(ids) for ids, _ in ec2.calls] == [1_000, 1_000, 1]
