"""Creation-time hints and owner tags from the services (moto), and what failures cost."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bot.aws.creation_hints import Hint, owner_tags
from bot.core.refs import parse
from bot.registry.patrol import HINTS

REGION = "us-east-1"
AMI = "ami-12c6146b"  # one of moto's built-in images


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        clients: dict[tuple[str, str], Any] = {}

        def client_for(service: str, region: str) -> Any:
            if (service, region) not in clients:
                clients[(service, region)] = boto3.client(service, region_name=region)
            return clients[(service, region)]

        yield client_for


def recent(when: datetime | None) -> bool:
    return (
        when is not None
        and when.tzinfo == UTC
        and abs(datetime.now(UTC) - when) < timedelta(minutes=5)
    )


def test_ec2_instance_primary_interface_attach_time_and_owner_tags(aws: Any) -> None:
    ec2 = aws("ec2", REGION)
    instance = ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "OWNER", "Value": "alice@example.com"},
                    {"Key": "created-by", "Value": "terraform"},
                    {"Key": "Name", "Value": "web"},
                ],
            }
        ],
    )["Instances"][0]
    attach = instance["NetworkInterfaces"][0]["Attachment"]["AttachTime"]

    hint = HINTS.ask(parse(instance["InstanceId"]), aws, REGION)

    assert hint.exists is True and hint.region == REGION and hint.note is None
    assert hint.created_at == attach.astimezone(UTC)
    assert hint.owner_tags == {"OWNER": "alice@example.com", "created-by": "terraform"}


def test_ec2_instance_without_an_attached_interface_falls_back_to_launch_time() -> None:
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    launched = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    stub = Stubber(ec2)
    stub.add_response(
        "describe_instances",
        {"Reservations": [{"Instances": [{"InstanceId": "i-0abc", "LaunchTime": launched}]}]},
    )
    with stub:
        hint = HINTS.ask(parse("i-0123456789abcdef0"), lambda s, r: ec2, REGION)
    assert hint.created_at == launched and hint.exists is True


def test_missing_instance_is_reported_as_not_existing(aws: Any) -> None:
    hint = HINTS.ask(parse("i-0123456789abcdef0"), aws, REGION)
    assert hint == Hint(exists=False)


def test_ebs_volume_snapshot_image_and_nat_gateway(aws: Any) -> None:
    ec2 = aws("ec2", REGION)
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=8,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Owner", "Value": "bob"}]}],
    )
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
    instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]
    image = ec2.create_image(InstanceId=instance["InstanceId"], Name="golden")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]

    hints = {
        name: HINTS.ask(parse(resource_id), aws, REGION)
        for name, resource_id in [
            ("volume", volume["VolumeId"]),
            ("snapshot", snapshot["SnapshotId"]),
            ("image", image["ImageId"]),
            ("nat", nat["NatGatewayId"]),
        ]
    }

    assert hints["volume"].created_at == volume["CreateTime"].astimezone(UTC)
    assert hints["volume"].owner_tags == {"Owner": "bob"}
    assert hints["snapshot"].created_at == snapshot["StartTime"].astimezone(UTC)
    assert recent(hints["image"].created_at)  # CreationDate is an ISO string
    assert hints["nat"].created_at == nat["CreateTime"].astimezone(UTC)
    assert all(hint.exists for hint in hints.values())


def test_rds_instance_create_time(aws: Any) -> None:
    aws("rds", REGION).create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        Tags=[{"Key": "CreatedBy", "Value": "carol"}],
    )
    hint = HINTS.ask(parse(f"arn:aws:rds:{REGION}:123456789012:db:orders"), aws, REGION)
    assert recent(hint.created_at) and hint.owner_tags == {"CreatedBy": "carol"}


def test_load_balancer_created_time_and_tags(aws: Any) -> None:
    ec2 = aws("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for n, zone in enumerate(["us-east-1a", "us-east-1b"])
    ]
    balancer = aws("elbv2", REGION).create_load_balancer(
        Name="web", Subnets=subnets, Tags=[{"Key": "Creator", "Value": "dave"}]
    )["LoadBalancers"][0]

    hint = HINTS.ask(parse(balancer["LoadBalancerArn"]), aws, REGION)

    assert hint.created_at == balancer["CreatedTime"].astimezone(UTC)
    assert hint.owner_tags == {"Creator": "dave"}


def test_eks_cluster_created_at(aws: Any) -> None:
    cluster = aws("eks", REGION).create_cluster(
        name="dev",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={},
        tags={"whocreated:created-by": "erin"},
    )["cluster"]
    hint = HINTS.ask(parse(cluster["arn"]), aws, REGION)
    assert hint.created_at == cluster["createdAt"].astimezone(UTC)
    assert hint.owner_tags == {"whocreated:created-by": "erin"}


def test_lambda_last_modified_is_not_a_creation_time(aws: Any) -> None:
    role = aws("iam", REGION).create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    function = aws("lambda", REGION).create_function(
        FunctionName="resize",
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
        Tags={"owner": "frank"},
    )
    hint = HINTS.ask(parse(function["FunctionArn"]), aws, REGION)
    assert hint.created_at is None and hint.exists is True
    assert hint.owner_tags == {"owner": "frank"}


def test_s3_bucket_region_creation_date_and_tags(aws: Any) -> None:
    s3 = aws("s3", REGION)
    s3.create_bucket(
        Bucket="logs-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_bucket_tagging(
        Bucket="logs-eu", Tagging={"TagSet": [{"Key": "AutoTag_Creator", "Value": "grace"}]}
    )
    s3.create_bucket(Bucket="logs-us")

    europe = HINTS.ask(parse("arn:aws:s3:::logs-eu"), aws, REGION)
    america = HINTS.ask(parse("s3://logs-us"), aws, REGION)

    assert europe.region == "eu-west-1" and recent(europe.created_at)
    assert europe.owner_tags == {"AutoTag_Creator": "grace"}
    assert america.region == "us-east-1" and america.owner_tags == {} and america.note is None


def test_s3_legacy_eu_location_means_eu_west_1() -> None:
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(s3)
    stub.add_response("get_bucket_location", {"LocationConstraint": "EU"}, {"Bucket": "old"})
    stub.add_response(
        "list_buckets",
        {"Buckets": [{"Name": "old", "CreationDate": datetime(2020, 1, 1, tzinfo=UTC)}]},
    )
    stub.add_client_error("get_bucket_tagging", "NoSuchTagSet", http_status_code=404)
    with stub:
        hint = HINTS.ask(parse("s3://old"), lambda service, region: s3, REGION)
    assert hint.region == "eu-west-1" and hint.created_at == datetime(2020, 1, 1, tzinfo=UTC)
    assert hint.note is None


def test_iam_role_and_user_create_date(aws: Any) -> None:
    iam = aws("iam", REGION)
    role = iam.create_role(
        RoleName="deployer",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": "Owner", "Value": "heidi"}],
    )["Role"]
    user = iam.create_user(UserName="ivan")["User"]

    role_hint = HINTS.ask(parse(role["Arn"]), aws, REGION)
    user_hint = HINTS.ask(parse(user["Arn"]), aws, REGION)

    assert role_hint.created_at == role["CreateDate"].astimezone(UTC)
    assert role_hint.owner_tags == {"Owner": "heidi"}
    assert user_hint.created_at == user["CreateDate"].astimezone(UTC)


def test_denied_describe_costs_only_the_shortcut_and_names_the_permission() -> None:
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ec2)
    stub.add_client_error("describe_instances", "UnauthorizedOperation", http_status_code=403)
    with stub:
        hint = HINTS.ask(parse("i-0123456789abcdef0"), lambda s, r: ec2, REGION)
    assert hint.created_at is None and hint.exists is None
    assert hint.note == "ec2:DescribeInstances denied: searched without a creation-time hint"


def test_failed_describe_is_logged_and_noted(caplog: pytest.LogCaptureFixture) -> None:
    rds = boto3.client("rds", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(rds)
    stub.add_client_error("describe_db_instances", "InternalFailure", http_status_code=500)
    with stub:
        hint = HINTS.ask(parse("arn:aws:rds:us-east-1:123456789012:db:x"), lambda s, r: rds, REGION)
    assert hint.note is not None and hint.note.startswith("rds:DescribeDBInstances failed")
    assert "rds:DescribeDBInstances" in caplog.text


def test_denied_tagging_keeps_the_creation_time() -> None:
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(s3)
    stub.add_response("get_bucket_location", {}, {"Bucket": "b"})  # no constraint
    stub.add_response(
        "list_buckets",
        {"Buckets": [{"Name": "b", "CreationDate": datetime(2024, 1, 1, tzinfo=UTC)}]},
    )
    stub.add_client_error("get_bucket_tagging", "AccessDenied", http_status_code=403)
    with stub:
        hint = HINTS.ask(parse("s3://b"), lambda service, region: s3, REGION)
    assert hint.created_at == datetime(2024, 1, 1, tzinfo=UTC) and hint.region == "us-east-1"
    assert hint.note == "s3:GetBucketTagging denied: owner tags not read"


def test_types_without_a_describe_get_an_empty_hint(aws: Any) -> None:
    assert HINTS.ask(parse("sg-0123456789abcdef0"), aws, REGION) == Hint()
    assert HINTS.ask(parse("some-name"), aws, REGION) == Hint()


def test_owner_tags_match_case_insensitively_on_a_list_or_a_dict() -> None:
    assert owner_tags([{"Key": "owner", "Value": "a"}, {"Key": "env", "Value": "dev"}]) == {
        "owner": "a"
    }
    assert owner_tags({"CREATEDBY": "b", "creator": "", "aws:createdBy": "IAMUser:x:c"}) == {
        "CREATEDBY": "b",
        "aws:createdBy": "IAMUser:x:c",
    }
    assert owner_tags(None) == {}


def _named(kind: str, name: str) -> Any:
    from bot.core.refs import ResourceRef

    return ResourceRef(given=name, id=name, type=kind, region=REGION)


def test_auto_scaling_group_created_time_and_tags(aws: Any) -> None:
    ec2 = aws("ec2", REGION)
    ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"}
    )
    aws("autoscaling", REGION).create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{"Key": "owner", "Value": "bob@example.com", "PropagateAtLaunch": True}],
    )

    hint = HINTS.ask(_named("AWS::AutoScaling::AutoScalingGroup", "web-asg"), aws, REGION)
    missing = HINTS.ask(_named("AWS::AutoScaling::AutoScalingGroup", "gone"), aws, REGION)

    assert hint.exists is True and recent(hint.created_at)
    assert hint.owner_tags == {"owner": "bob@example.com"}
    assert missing.exists is False


def test_cloudformation_stack_creation_time_and_a_missing_stack() -> None:
    # moto's CloudFormation needs its server extras; CloudFormation's answers, as documented.
    client = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    created = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "shop",
                    "CreationTime": created,
                    "StackStatus": "CREATE_COMPLETE",
                    "Tags": [{"Key": "owner", "Value": "carol@example.com"}],
                }
            ]
        },
        {"StackName": "shop"},
    )
    stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id gone does not exist", 400
    )
    deleted_arn = "arn:aws:cloudformation:us-east-1:123456789012:stack/old/5f0e"
    stubber.add_response(  # by ARN, CloudFormation still describes a deleted stack
        "describe_stacks",
        {
            "Stacks": [
                {"StackName": "old", "CreationTime": created, "StackStatus": "DELETE_COMPLETE"}
            ]
        },
        {"StackName": deleted_arn},
    )
    with stubber:
        hint = HINTS.ask(_named("AWS::CloudFormation::Stack", "shop"), lambda *_: client, REGION)
        missing = HINTS.ask(_named("AWS::CloudFormation::Stack", "gone"), lambda *_: client, REGION)
        deleted_ref = dataclasses.replace(
            _named("AWS::CloudFormation::Stack", "old"), arn=deleted_arn
        )
        deleted = HINTS.ask(deleted_ref, lambda *_: client, REGION)

    assert hint == Hint(created, {"owner": "carol@example.com"}, REGION, None, True)
    assert missing.exists is False and missing.note is None
    assert deleted.exists is False


def test_an_auto_scaling_instance_names_its_group_in_the_hint(aws: Any) -> None:
    aws("ec2", REGION).create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"}
    )
    autoscaling = aws("autoscaling", REGION)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=1,
        MaxSize=1,
        DesiredCapacity=1,
        AvailabilityZones=[f"{REGION}a"],
    )
    [group] = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    instance_id = group["Instances"][0]["InstanceId"]

    hint = HINTS.ask(parse(instance_id), aws, REGION)

    assert hint.exists is True
    assert hint.parent_tags == {"aws:autoscaling:groupName": "web-asg"}
    assert "aws:autoscaling:groupName" not in hint.owner_tags
