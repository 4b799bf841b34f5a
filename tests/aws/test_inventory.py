"""Inventory against moto: every patrolled type becomes Resources; a denied type is a note."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bot.aws.inventory import Inventory, partition_of, stopped_at
from bot.core import resources as rt
from bot.core.resources import Resource
from bot.registry.patrol import PATROL

REGION = "eu-west-1"
ACCOUNT = "123456789012"
AMI = "ami-12c6146b"  # one of moto's built-in images
ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks"


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


class Clients:
    """client_for(service, region) over moto, counting operations; some can be replaced."""

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Any] = {}
        self.calls: Counter[str] = Counter()
        self.replaced: dict[str, Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        if service in self.replaced:
            return self.replaced[service]
        if (service, region) not in self.clients:
            client = boto3.client(service, region_name=region)
            client.meta.events.register(
                "before-call", lambda model, **_: self.calls.update([model.name])
            )
            self.clients[(service, region)] = client
        return self.clients[(service, region)]


@pytest.fixture
def aws() -> Iterator[Clients]:
    with mock_aws():
        yield Clients()


def _by_id(resources: tuple[Resource, ...], kind: str) -> dict[str, Resource]:
    return {resource.id: resource for resource in resources if resource.type == kind}


def _subnets(aws: Clients) -> list[str]:
    return [subnet["SubnetId"] for subnet in aws("ec2", REGION).describe_subnets()["Subnets"]][:2]


def _instance(aws: Clients, tags: dict[str, str], gib: int = 20) -> str:
    return aws("ec2", REGION).run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        BlockDeviceMappings=[
            {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": gib, "VolumeType": "gp3"}}
        ],
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(tags)}],
    )["Instances"][0]["InstanceId"]


# --- EC2 and EBS ------------------------------------------------------------------------------


def test_instances_carry_parents_volumes_creation_and_stop_time(aws: Clients) -> None:
    ec2 = aws("ec2", REGION)
    web = _instance(
        aws,
        {
            "Name": "web-1",
            "aws:autoscaling:groupName": "web-asg",
            "aws:cloudformation:stack-name": "web-stack",
        },
    )
    node = _instance(aws, {"eks:nodegroup-name": "ng-1", "eks:cluster-name": "sandbox"}, gib=50)
    stopped = _instance(aws, {"Name": "old"})
    gone = _instance(aws, {"Name": "gone"})
    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[gone])

    collected = Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION, [rt.EC2_INSTANCE])
    calls = dict(aws.calls)

    assert collected.notes == ()
    instances = _by_id(collected.resources, rt.EC2_INSTANCE)
    assert set(instances) == {web, node, stopped}  # terminated ones are not inventoried
    first = instances[web]
    assert first.name == "web-1"
    assert first.state == "running"
    assert first.size == "t3.micro"
    assert first.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{web}"
    assert first.details["autoscaling_group"] == "web-asg"
    assert first.details["cloudformation_stack"] == "web-stack"
    assert "eks_nodegroup" not in first.details
    assert [(v["gib"], v["type"]) for v in first.details["attached_volumes"]] == [(20, "gp3")]
    assert first.details["lifecycle"] == "on-demand"
    assert first.details["tenancy"] == "default"
    # created_at is the primary network interface's attach time, in UTC.
    described = ec2.describe_instances(InstanceIds=[web])["Reservations"][0]["Instances"][0]
    assert first.created_at == described["NetworkInterfaces"][0]["Attachment"]["AttachTime"]
    assert first.created_at.tzinfo == UTC
    assert first.state_since == described["LaunchTime"]  # running since its (last) launch
    assert instances[node].details["eks_nodegroup"] == "ng-1"
    assert instances[node].details["eks_cluster"] == "sandbox"
    old = instances[stopped]
    assert old.state == "stopped"
    assert old.state_since is not None
    assert abs(datetime.now(UTC) - old.state_since) < timedelta(minutes=5)
    # One DescribeInstances and one DescribeVolumes pass, whatever the fleet size.
    assert calls["DescribeInstances"] == 1
    assert calls["DescribeVolumes"] == 1


def test_volumes_attached_or_not(aws: Clients) -> None:
    ec2 = aws("ec2", REGION)
    instance = _instance(aws, {"Name": "web"})
    loose = ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=100,
        VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": _tags({"Name": "data"})}],
    )["VolumeId"]

    collected = Inventory(aws, PATROL.by_type).collect(
        ACCOUNT, REGION, [rt.EBS_VOLUME, rt.EC2_INSTANCE]
    )

    volumes = _by_id(collected.resources, rt.EBS_VOLUME)
    assert volumes[loose].state == "available"
    assert volumes[loose].size == "100 GiB gp3"
    assert volumes[loose].name == "data"
    assert volumes[loose].details["volume_gib"] == 100
    assert volumes[loose].details["attached_to"] == []
    assert volumes[loose].created_at is not None
    (root,) = [v for v in volumes.values() if v.id != loose]
    assert root.state == "in-use"
    assert root.details["attached_to"] == [instance]
    assert aws.calls["DescribeVolumes"] == 1  # shared by both types


# --- addresses, NAT, load balancers -----------------------------------------------------------


def test_elastic_ips_associated_or_not(aws: Clients) -> None:
    ec2 = aws("ec2", REGION)
    instance = _instance(aws, {"Name": "web"})
    free = ec2.allocate_address(Domain="vpc")["AllocationId"]
    used = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=used, InstanceId=instance)

    addresses = _by_id(
        Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION, [rt.ELASTIC_IP]).resources,
        rt.ELASTIC_IP,
    )

    assert addresses[free].state == "unassociated"
    assert addresses[free].details["public_ip"]
    assert addresses[used].state == "associated"
    assert addresses[used].details["instance_id"] == instance


def test_nat_gateways_not_deleted(aws: Clients) -> None:
    ec2 = aws("ec2", REGION)
    subnet = _subnets(aws)[0]
    kept = ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"],
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tags({"Name": "egress"})}],
    )["NatGateway"]["NatGatewayId"]
    deleted = ec2.create_nat_gateway(
        SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"]
    )["NatGateway"]["NatGatewayId"]
    ec2.delete_nat_gateway(NatGatewayId=deleted)

    nats = _by_id(
        Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION, [rt.NAT_GATEWAY]).resources,
        rt.NAT_GATEWAY,
    )

    assert set(nats) == {kept}
    assert nats[kept].name == "egress"
    assert nats[kept].state == "available"
    assert nats[kept].created_at is not None
    assert nats[kept].details["public_ips"]


def test_load_balancers_with_tags_in_batches_of_twenty(aws: Clients) -> None:
    elb = aws("elbv2", REGION)
    subnets = _subnets(aws)
    arns = [
        elb.create_load_balancer(
            Name=f"alb-{n}", Subnets=subnets, Tags=[{"Key": "team", "Value": f"t{n}"}]
        )["LoadBalancers"][0]["LoadBalancerArn"]
        for n in range(23)
    ]
    nlb = elb.create_load_balancer(Name="tcp", Subnets=subnets, Type="network")
    nlb_arn = nlb["LoadBalancers"][0]["LoadBalancerArn"]

    lbs = _by_id(
        Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION, [rt.LOAD_BALANCER]).resources,
        rt.LOAD_BALANCER,
    )

    assert len(lbs) == 24
    assert aws.calls["DescribeTags"] == 2  # 24 ARNs → 20 + 4
    assert lbs[arns[5]].tags == {"team": "t5"}
    assert lbs[arns[5]].name == "alb-5"
    assert lbs[arns[5]].arn == arns[5]
    assert lbs[arns[5]].details["lb_type"] == "application"
    assert lbs[arns[5]].created_at is not None
    assert lbs[nlb_arn].details["lb_type"] == "network"
    assert lbs[nlb_arn].tags == {}


def test_classic_load_balancers(aws: Clients) -> None:
    aws("elb", REGION).create_load_balancer(
        LoadBalancerName="old-web",
        Listeners=[{"Protocol": "http", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{"Key": "owner", "Value": "alice"}],
    )

    (lb,) = (
        Inventory(aws, PATROL.by_type)
        .collect(ACCOUNT, REGION, [rt.CLASSIC_LOAD_BALANCER])
        .resources
    )

    assert (lb.type, lb.id, lb.name) == (rt.CLASSIC_LOAD_BALANCER, "old-web", "old-web")
    assert lb.tags == {"owner": "alice"}
    assert lb.details["lb_type"] == "classic"
    assert lb.arn == f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/old-web"
    assert lb.created_at is not None


# --- RDS and EKS ------------------------------------------------------------------------------


def test_rds_instances_with_their_tags(aws: Clients) -> None:
    aws("rds", REGION).create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="admin1",
        MasterUserPassword="password123",
        Tags=[
            {"Key": "owner", "Value": "bob"},
            {"Key": "aws:cloudformation:stack-name", "Value": "db"},
        ],
    )

    (db,) = Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION, [rt.RDS_INSTANCE]).resources

    assert (db.id, db.state, db.size) == ("orders", "available", "db.t3.micro")
    assert db.tags["owner"] == "bob"
    assert db.details["cloudformation_stack"] == "db"
    assert db.details["engine"] == "postgres"
    assert db.details["storage_gib"] == 20
    assert db.details["multi_az"] is False
    assert db.arn == f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"
    assert db.created_at is not None


def test_eks_clusters_count_managed_fargate_and_self_managed_nodes(aws: Clients) -> None:
    eks = aws("eks", REGION)
    subnets = _subnets(aws)
    for name in ("empty", "managed", "fargate", "self-managed"):
        eks.create_cluster(
            name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets}, tags={"team": name}
        )
    for group, size in (("ng-1", 2), ("ng-2", 1)):
        eks.create_nodegroup(
            clusterName="managed",
            nodegroupName=group,
            subnets=subnets,
            nodeRole=ROLE,
            scalingConfig={"minSize": 0, "maxSize": 3, "desiredSize": size},
        )
    eks.create_nodegroup(
        clusterName="empty",
        nodegroupName="scaled-to-zero",
        subnets=subnets,
        nodeRole=ROLE,
        scalingConfig={"minSize": 0, "maxSize": 3, "desiredSize": 0},
    )
    eks.create_fargate_profile(
        fargateProfileName="default",
        clusterName="fargate",
        podExecutionRoleArn=ROLE,
        selectors=[{"namespace": "default"}],
    )
    _instance(aws, {"kubernetes.io/cluster/self-managed": "owned"})
    _instance(aws, {"kubernetes.io/cluster/managed": "owned", "eks:nodegroup-name": "ng-1"})

    clusters = _by_id(
        Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION, [rt.EKS_CLUSTER]).resources,
        rt.EKS_CLUSTER,
    )

    assert {name: c.details["node_count"] for name, c in clusters.items()} == {
        "empty": 0,
        "managed": 3,  # desired sizes; its managed instance is not counted twice
        "fargate": 1,
        "self-managed": 1,
    }
    assert clusters["empty"].details["nodegroups"] == 1
    assert clusters["empty"].state == "active"
    assert clusters["empty"].tags == {"team": "empty"}
    assert clusters["empty"].created_at is not None


# --- failures ---------------------------------------------------------------------------------


def test_a_denied_type_is_noted_and_the_others_are_still_collected(aws: Clients) -> None:
    _instance(aws, {"Name": "web"})
    denied = boto3.client("elbv2", region_name=REGION)
    stubber = Stubber(denied)
    stubber.add_client_error(
        "describe_load_balancers", "AccessDenied", "not authorized", http_status_code=403
    )
    stubber.activate()
    aws.replaced["elbv2"] = denied

    collected = Inventory(aws, PATROL.by_type).collect(ACCOUNT, REGION)

    assert collected.failed_types == (rt.LOAD_BALANCER,)
    assert collected.notes == (
        f"load balancers (ALB/NLB) not checked in {ACCOUNT}/{REGION}: DescribeLoadBalancers denied",
    )
    kinds = {resource.type for resource in collected.resources}
    assert rt.EC2_INSTANCE in kinds and rt.EBS_VOLUME in kinds


def test_denied_volumes_leave_instances_judged_and_their_volumes_unknown(aws: Clients) -> None:
    instance = _instance(aws, {"Name": "web"})
    ec2 = aws("ec2", REGION)

    def deny_volumes(model: Any, **_: Any) -> None:
        if model.name == "DescribeVolumes":
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeVolumes"
            )

    ec2.meta.events.register("before-call", deny_volumes)

    collected = Inventory(aws, PATROL.by_type).collect(
        ACCOUNT, REGION, [rt.EC2_INSTANCE, rt.EBS_VOLUME]
    )

    assert collected.failed_types == (rt.EBS_VOLUME,)
    (resource,) = collected.resources
    assert resource.id == instance
    assert resource.details["attached_volumes"] is None
    assert set(collected.notes) == {
        f"volumes of EC2 instances not known in {ACCOUNT}/{REGION}: DescribeVolumes denied",
        f"EBS volumes not checked in {ACCOUNT}/{REGION}: DescribeVolumes denied",
    }
    assert aws.calls["DescribeVolumes"] == 1  # the denied pass is not repeated


def test_an_unknown_type_is_a_note() -> None:
    collected = Inventory(lambda service, region: None, PATROL.by_type).collect(
        ACCOUNT, REGION, ["AWS::S3::Bucket"]
    )
    assert collected.resources == ()
    assert collected.failed_types == ("AWS::S3::Bucket",)


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("User initiated (2024-01-02 10:00:00 GMT)", datetime(2024, 1, 2, 10, tzinfo=UTC)),
        (
            "User initiated (2026-11-27 17:19:51 UTC)",
            datetime(2026, 11, 27, 17, 19, 51, tzinfo=UTC),
        ),
        (
            "Server.ScheduledStop (2023-05-06 07:08:09 GMT)",
            datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC),
        ),
        ("", None),
        (None, None),
        ("Client.UserInitiatedShutdown", None),
    ],
)
def test_stop_time_from_the_state_transition_reason(
    reason: str | None, expected: datetime | None
) -> None:
    assert stopped_at(reason) == expected


def test_partitions() -> None:
    assert partition_of("eu-west-1") == "aws"
    assert partition_of("cn-north-1") == "aws-cn"
    assert partition_of("us-gov-west-1") == "aws-us-gov"
