"""The sandbox's fleet: who made what, with which tool, and how busy it is, made in moto with the
CloudTrail history and the CloudWatch data that match it.

alice (an IAM user) works with Terraform, bob (an IAM user) with the console and the CLI, carol
through IAM Identity Center (her session is named after her email), and dave, an IAM user who
has left, is on nobody's Slack. Besides their own instances: a CloudFormation stack carol made in
the console, whose instance CloudFormation launched with her credentials and tagged with the stack;
an Auto Scaling group bob made with the CLI, whose instances Auto Scaling's service-linked role
launched; bob's unattached volume, alice's unassociated Elastic IP, carol's NAT gateway without
traffic, carol's bucket, and the image every instance came from, which CloudTrail only mentions.
One idle and one busy resource of every other patrolled type (SageMaker, OpenSearch, ElastiCache,
Redshift, EMR, DynamoDB, EBS snapshots, AMIs) come from bot/sandbox/service_fleet.py. Each
creation event carries the time moto gave the resource, where the product's hints look.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, ELASTIC_IP, NAT_GATEWAY
from bot.sandbox import records, service_fleet
from bot.sandbox.records import CLI, EC2_CONSOLE, S3_CONSOLE, TERRAFORM, Identity

ACCOUNT = records.ACCOUNT
BUCKET = "AWS::S3::Bucket"
IMAGE = "AWS::EC2::Image"
AUTOSCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
CLOUDFORMATION_STACK = "AWS::CloudFormation::Stack"
DAYS_AGO = 9  # the fleet was made this long before the sandbox's "now"
METRIC_DAYS = 8  # hourly CloudWatch data this far back from "now": a 7-day look-back is full


@dataclass(frozen=True)
class Person:
    key: str  # "alice"
    aws_name: str  # how CloudTrail names them: "alice", "carol@example.com"
    how: str  # "IAM user", "IAM Identity Center (SSO)"
    real_name: str
    email: str
    slack_user: str | None  # None: not on Slack (has left)
    tz: str = "Europe/London"

    @property
    def mapping_key(self) -> str:
        """Their `[directory.users]` key: an IAM user by name, an SSO session as `sso:`."""
        return f"sso:{self.aws_name}" if "SSO" in self.how else self.aws_name


PEOPLE: tuple[Person, ...] = (
    Person(
        key="alice",
        aws_name="alice",
        how="IAM user",
        real_name="Alice Adams",
        email="alice@example.com",
        slack_user="U0ALICE001",
        tz="Europe/Amsterdam",
    ),
    Person(
        key="bob",
        aws_name="bob",
        how="IAM user",
        real_name="Bob Brown",
        email="bob@example.com",
        slack_user="U0BOB00001",
    ),
    Person(
        key="carol",
        aws_name="carol@example.com",  # her IAM Identity Center session's name
        how="IAM Identity Center (SSO)",
        real_name="Carol Chen",
        email="carol@example.com",
        slack_user="U0CAROL001",
        tz="Europe/Lisbon",
    ),
    Person(
        key="dave",
        aws_name="dave",
        how="IAM user",
        real_name="Dave Dunn",
        email="dave@example.com",
        slack_user=None,  # has left: on nobody's Slack
    ),
)


@dataclass(frozen=True)
class Seeded:
    """One resource the sandbox made, and what the product should say about it."""

    label: str  # its Name tag, or the name it is known by
    type: str
    id: str
    region: str
    reference: str  # what to give /whocreated: an id, an ARN or s3://bucket
    creator: str | None  # the lookup's creator name: who CloudTrail says called the create API
    tool: str | None  # the lookup's tool: Terraform, Console, AWS CLI, CloudFormation, AWS service
    owner: str | None  # the person (key) a patrol names: the creator, or the parent's creator
    idle: bool | None  # the patrol's verdict; None: not patrolled (buckets, groups, stacks, AMIs)
    via: str | None = None  # "Auto Scaling group web-asg", "CloudFormation stack shop-demo"
    found: bool = True  # False: CloudTrail only mentions it (an AMI)
    event: str | None = None  # the creation event's name


BY_KEY: Mapping[str, Person] = {person.key: person for person in PEOPLE}


_TOOLS: Mapping[str, tuple[str, bool]] = {
    # tool → (user agent, through the console)
    "Terraform": (TERRAFORM, False),
    "AWS CLI": (CLI, False),
    "Console": (EC2_CONSOLE, True),
}


@dataclass(frozen=True)
class _Instance:
    label: str
    region_index: int  # 0: the home region, 1: the other
    person: str
    tool: str
    size: str
    cpu: float | None  # None: stopped
    busy: bool = False


# The people's own instances (Auto Scaling and CloudFormation ones are made below).
_INSTANCES = (
    _Instance("web-old", 0, "alice", "Terraform", "t3.medium", 0.4),
    _Instance("api-1", 0, "alice", "Terraform", "m5.large", 63.0, busy=True),
    _Instance("bob-scratch", 0, "bob", "Console", "t3.large", None),
    _Instance("carol-ci", 1, "carol", "AWS CLI", "t3.small", 41.0, busy=True),
    _Instance("gpu-test", 1, "dave", "AWS CLI", "g4dn.xlarge", 0.8),
)


class FleetSeeder:
    """Makes the fleet in moto (through `session`), its CloudTrail history (into `trail`) and,
    once the sandbox's "now" is known, its CloudWatch data (moto's, or `metrics_server`)."""

    def __init__(
        self,
        session: boto3.Session,
        trail: Any,  # bot.sandbox.cloudtrail_api.CloudTrailServer
        *,
        regions: Sequence[str],
        extra_instances: int = 0,
        metrics_server: Any = None,  # bot.sandbox.metrics_api.MetricsServer
        rng: random.Random | None = None,
    ) -> None:
        self.session = session
        self.trail = trail
        self.regions = tuple(regions)
        self.extra_instances = extra_instances
        self.metrics_server = metrics_server
        self.random = rng or random.Random(7)
        self.made: dict[str, Seeded] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._images: dict[str, str] = {}
        self.cpu: dict[str, tuple[str, float]] = {}  # instance id → (region, CPU %) to seed
        # (region, DescribeStacks entry): moto's CloudFormation needs extras, the clients answer
        self.stacks: list[tuple[str, dict[str, Any]]] = []
        self.first = datetime.max.replace(tzinfo=UTC)  # the oldest creation moto recorded
        self.series: list[service_fleet.Series] = []  # CloudWatch data of the other types

    def client(self, service: str, region: str) -> Any:
        if (service, region) not in self._clients:
            # Any service by name: the typed overloads only know each one by its literal.
            session: Any = self.session
            self._clients[(service, region)] = session.client(service, region_name=region)
        return self._clients[(service, region)]

    def region(self, index: int) -> str:
        return self.regions[min(index, len(self.regions) - 1)]

    @staticmethod
    def aws_name(person: str) -> str:
        """The name CloudTrail records for one of the sandbox's people."""
        return BY_KEY[person].aws_name

    def identity(self, person: str, tool: str, region: str) -> Identity:
        console = _TOOLS[tool][1]
        if person == "carol":
            return records.sso_session(
                BY_KEY[person].aws_name, "PowerUserAccess", region=self.regions[0], console=console
            )
        return records.iam_user(person, console=console)

    def add(self, record: dict[str, Any]) -> None:
        self.trail.add(record)

    # The plan --------------------------------------------------------------------------------

    def make(self) -> dict[str, Seeded]:
        """Make every resource and its CloudTrail history; label → what was made."""
        for spec in _INSTANCES:
            self.person_instance(spec)
        self.auto_scaling_group()
        self.cloudformation_stack()
        self.volume()
        self.addresses_and_nat()
        self.bucket()
        self.image()
        self.series = service_fleet.make(self)
        self.fleet(self.extra_instances)
        return self.made

    def created(self, when: datetime) -> datetime:
        when = when.astimezone(UTC).replace(microsecond=0)
        self.first = min(self.first, when)
        return when

    def image_id(self, region: str) -> str:
        """A Linux image moto knows in that region (every instance is launched from it)."""
        if region not in self._images:
            images = self.client("ec2", region).describe_images(
                Owners=["amazon"],
                Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]}],
            )["Images"]
            named = sorted(images, key=lambda image: image["ImageId"])
            self._images[region] = named[0]["ImageId"]
        return self._images[region]

    # Instances -------------------------------------------------------------------------------

    def launch(
        self, region: str, size: str, tags: Mapping[str, str], count: int = 1
    ) -> list[dict[str, Any]]:
        found = self.client("ec2", region).run_instances(
            ImageId=self.image_id(region),
            MinCount=count,
            MaxCount=count,
            InstanceType=size,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                }
            ],
        )["Instances"]
        return list(found)

    def person_instance(self, spec: _Instance) -> None:
        region = self.region(spec.region_index)
        [instance] = self.launch(region, spec.size, {"Name": spec.label})
        when = self.created(_attach_time(instance))
        agent = _TOOLS[spec.tool][0]
        who = self.identity(spec.person, spec.tool, region)
        self.add(
            records.run_instances(
                instance["InstanceId"],
                when - timedelta(seconds=2),
                who,
                region=region,
                agent=agent,
                image_id=instance["ImageId"],
                instance_type=spec.size,
                subnet_id=instance.get("SubnetId"),
                tags={"Name": spec.label},
            )
        )
        self.mentions(instance["InstanceId"], when, who, region, agent, busy=spec.busy)
        if spec.cpu is None:
            self.client("ec2", region).stop_instances(InstanceIds=[instance["InstanceId"]])
            self.add(
                records.stop_instances(
                    instance["InstanceId"],
                    when + timedelta(minutes=20),
                    who,
                    region=region,
                    agent=agent,
                )
            )
        self.remember(
            spec.label,
            EC2_INSTANCE,
            instance["InstanceId"],
            region,
            creator=BY_KEY[spec.person].aws_name,
            tool=spec.tool,
            owner=spec.person,
            idle=not spec.busy,
            event="RunInstances",
            cpu=spec.cpu,
        )

    def mentions(
        self,
        instance_id: str,
        when: datetime,
        who: Identity,
        region: str,
        agent: str,
        *,
        busy: bool,
    ) -> None:
        """Events that name the instance without creating it: tags, and reads (many if busy)."""
        self.add(
            records.create_tags(
                instance_id,
                {"team": "platform"},
                when + timedelta(minutes=5),
                who,
                region=region,
                agent=agent,
            )
        )
        reads = 120 if busy else 6
        for n in range(reads):
            self.add(
                records.describe_instances(
                    instance_id,
                    when + timedelta(hours=1 + n * (24 * DAYS_AGO - 2) / reads),
                    who,
                    region=region,
                    agent=agent,
                )
            )

    def auto_scaling_group(self) -> None:
        """bob made a group with the CLI; Auto Scaling's service-linked role launched its two
        instances. The patrol names bob through the group; a lookup says Auto Scaling."""
        region, group, size = self.region(0), "web-asg", 2
        ec2 = self.client("ec2", region)
        ec2.create_launch_template(
            LaunchTemplateName=f"{group}-lt",
            LaunchTemplateData={"ImageId": self.image_id(region), "InstanceType": "t3.small"},
        )
        before = {i["InstanceId"] for i in _instances(ec2)}
        asg = self.client("autoscaling", region)
        made_at = datetime.now(UTC)
        asg.create_auto_scaling_group(
            AutoScalingGroupName=group,
            LaunchTemplate={"LaunchTemplateName": f"{group}-lt"},
            MinSize=size,
            MaxSize=size,
            DesiredCapacity=size,
            AvailabilityZones=[f"{region}a"],
            Tags=[{"Key": "Name", "Value": group, "PropagateAtLaunch": True}],
        )
        arn = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"][
            0
        ]["AutoScalingGroupARN"]
        bob = self.identity("bob", "AWS CLI", region)
        self.add(
            records.create_auto_scaling_group(
                group,
                self.created(made_at) - timedelta(seconds=5),
                bob,
                region=region,
                agent=CLI,
                launch_template=f"{group}-lt",
                size=size,
            )
        )
        self.remember(
            group,
            AUTOSCALING_GROUP,
            group,
            region,
            reference=arn,
            creator="bob",
            tool="AWS CLI",
            owner="bob",
            idle=None,
            event="CreateAutoScalingGroup",
        )
        launched = [i for i in _instances(ec2) if i["InstanceId"] not in before]
        for number, instance in enumerate(sorted(launched, key=lambda i: i["InstanceId"]), 1):
            when = self.created(_attach_time(instance))
            self.add(
                records.run_instances(
                    instance["InstanceId"],
                    when - timedelta(seconds=1),
                    records.AUTOSCALING,
                    region=region,
                    agent="autoscaling.amazonaws.com",
                    image_id=instance["ImageId"],
                    instance_type=instance["InstanceType"],
                    subnet_id=instance.get("SubnetId"),
                    tags={"aws:autoscaling:groupName": group, "Name": group},
                )
            )
            self.remember(
                f"{group}-{number}",
                EC2_INSTANCE,
                instance["InstanceId"],
                region,
                creator="autoscaling.amazonaws.com",
                tool="AWS service",
                owner="bob",
                idle=True,
                via=f"Auto Scaling group {group}",
                event="RunInstances",
                cpu=1.1,
            )

    def cloudformation_stack(self) -> None:
        """carol made a stack in the console; CloudFormation launched its instance with her
        credentials (invokedBy cloudformation.amazonaws.com) and tagged it with the stack."""
        region, stack, label = self.region(1), "shop-demo", "shop-web"
        stack_id = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{stack}/{_uuid(self.random)}"
        made_at = datetime.now(UTC)
        tags = {
            "Name": label,
            "aws:cloudformation:stack-name": stack,
            "aws:cloudformation:stack-id": stack_id,
            "aws:cloudformation:logical-id": "WebServer",
        }
        [instance] = self.launch(region, "t3.micro", tags)
        carol = self.identity("carol", "Console", region)
        stack_made = self.created(made_at) - timedelta(seconds=30)
        self.add(
            records.create_stack(
                stack, stack_id, stack_made, carol, region=region, agent=EC2_CONSOLE
            )
        )
        self.stacks.append(
            (
                region,
                {
                    "StackName": stack,
                    "StackId": stack_id,
                    "CreationTime": stack_made,
                    "StackStatus": "CREATE_COMPLETE",
                    "Tags": [],
                },
            )
        )
        self.remember(
            stack,
            CLOUDFORMATION_STACK,
            stack,
            region,
            reference=stack_id,
            creator="carol@example.com",
            tool="Console",
            owner="carol",
            idle=None,
            event="CreateStack",
        )
        when = self.created(_attach_time(instance))
        self.add(
            records.run_instances(
                instance["InstanceId"],
                when - timedelta(seconds=1),
                carol,
                region=region,
                agent=records.CLOUDFORMATION,
                image_id=instance["ImageId"],
                instance_type="t3.micro",
                subnet_id=instance.get("SubnetId"),
                tags=tags,
                invoked_by=records.CLOUDFORMATION,
            )
        )
        self.remember(
            label,
            EC2_INSTANCE,
            instance["InstanceId"],
            region,
            creator="carol@example.com",
            tool="CloudFormation",
            owner="carol",
            idle=True,
            via=f"CloudFormation stack {stack}",
            event="RunInstances",
            cpu=0.3,
        )

    # Storage, addresses, NAT, a bucket, an image ------------------------------------------------

    def volume(self) -> None:
        region, label = self.region(0), "bob-old-data"
        bob = self.identity("bob", "Console", region)
        volume = self.made_volume(region, bob, EC2_CONSOLE, size=100, tags={"Name": label})
        self.remember(
            label,
            EBS_VOLUME,
            volume["VolumeId"],
            region,
            creator="bob",
            tool="Console",
            owner="bob",
            idle=True,
            event="CreateVolume",
        )

    def addresses_and_nat(self) -> None:
        """alice's forgotten Elastic IP (Terraform); carol's NAT gateway without traffic (CLI),
        whose own address is associated and so not idle."""
        home, other = self.region(0), self.region(1)
        alice = self.identity("alice", "Terraform", home)
        made_at = datetime.now(UTC)
        address = self.client("ec2", home).allocate_address(
            Domain="vpc",
            TagSpecifications=[
                {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "alice-eip"}]}
            ],
        )
        self.add(
            records.allocate_address(
                address["AllocationId"],
                address["PublicIp"],
                self.created(made_at),
                alice,
                region=home,
                agent=TERRAFORM,
                tags={"Name": "alice-eip"},
            )
        )
        self.remember(
            "alice-eip",
            ELASTIC_IP,
            address["AllocationId"],
            home,
            creator="alice",
            tool="Terraform",
            owner="alice",
            idle=True,
            event="AllocateAddress",
        )

        ec2 = self.client("ec2", other)
        carol = self.identity("carol", "AWS CLI", other)
        subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
            "Subnets"
        ][0]
        made_at = datetime.now(UTC)
        nat_address = ec2.allocate_address(Domain="vpc")
        self.add(
            records.allocate_address(
                nat_address["AllocationId"],
                nat_address["PublicIp"],
                self.created(made_at),
                carol,
                region=other,
                agent=CLI,
            )
        )
        self.remember(
            "etl-nat-ip",
            ELASTIC_IP,
            nat_address["AllocationId"],
            other,
            creator="carol@example.com",
            tool="AWS CLI",
            owner="carol",
            idle=False,
            event="AllocateAddress",
        )
        nat = self.made_nat_gateway(
            other, carol, CLI, subnet, nat_address["AllocationId"], tags={"Name": "etl-nat"}
        )
        self.remember(
            "etl-nat",
            NAT_GATEWAY,
            nat["NatGatewayId"],
            other,
            creator="carol@example.com",
            tool="AWS CLI",
            owner="carol",
            idle=True,
            event="CreateNatGateway",
        )

    def made_volume(
        self,
        region: str,
        who: Identity,
        agent: str,
        *,
        size: int,
        tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A gp3 volume in the region's first zone, and its CreateVolume event."""
        zone = f"{region}a"
        volume = self.client("ec2", region).create_volume(
            AvailabilityZone=zone, Size=size, VolumeType="gp3", **_tag_specs("volume", tags)
        )
        when = self.created(volume["CreateTime"])
        self.add(
            records.create_volume(
                volume["VolumeId"],
                when - timedelta(seconds=1),
                who,
                region=region,
                agent=agent,
                size=size,
                volume_type="gp3",
                zone=zone,
                tags=tags,
            )
        )
        return volume

    def made_nat_gateway(
        self,
        region: str,
        who: Identity,
        agent: str,
        subnet: Mapping[str, Any],
        allocation_id: str,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A public NAT gateway in `subnet` on that address, and its CreateNatGateway event."""
        nat = self.client("ec2", region).create_nat_gateway(
            SubnetId=subnet["SubnetId"],
            AllocationId=allocation_id,
            **_tag_specs("natgateway", tags),
        )["NatGateway"]
        when = self.created(nat["CreateTime"])
        self.add(
            records.create_nat_gateway(
                nat["NatGatewayId"],
                when - timedelta(seconds=1),
                who,
                region=region,
                agent=agent,
                subnet_id=subnet["SubnetId"],
                vpc_id=subnet["VpcId"],
                allocation_id=allocation_id,
            )
        )
        return nat

    def bucket(self) -> None:
        """carol's bucket, made in the S3 console in the second region (not patrolled)."""
        region, name = self.region(1), "carol-reports"
        s3 = self.client("s3", region)
        made_at = datetime.now(UTC)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        carol = self.identity("carol", "Console", region)
        self.add(
            records.create_bucket(
                name, self.created(made_at), carol, region=region, agent=S3_CONSOLE
            )
        )
        self.remember(
            name,
            BUCKET,
            name,
            region,
            reference=f"s3://{name}",
            creator="carol@example.com",
            tool="Console",
            owner="carol",
            idle=None,
            event="CreateBucket",
        )

    def image(self) -> None:
        """The image every instance was launched from: CloudTrail only mentions it."""
        region = self.region(0)
        image = self.image_id(region)
        self.remember(
            "base-image",
            IMAGE,
            image,
            region,
            reference=image,
            creator=None,
            tool=None,
            owner=None,
            idle=None,
            found=False,
        )

    # Scale -------------------------------------------------------------------------------------

    def fleet(self, count: int) -> None:
        """`count` more instances in the home region (tagged team=fleet, launched 500 a call), made
        by the people in turn with Terraform, the CLI and the console, every other one idle."""
        region = self.region(0)
        people = ("alice", "bob", "carol", "dave")
        tools = ("Terraform", "AWS CLI", "Console")
        identities = {
            (person, tool): self.identity(person, tool, region)
            for person in people
            for tool in tools
        }
        made = 0
        while made < count:
            batch = min(500, count - made)
            launched = self.launch(region, "t3.micro", {"team": "fleet"}, batch)
            for offset, instance in enumerate(launched):
                number = made + offset
                person, tool = people[number % len(people)], tools[number % len(tools)]
                label = f"fleet-{number + 1:05d}"
                when = self.created(_attach_time(instance))
                self.add(
                    records.run_instances(
                        instance["InstanceId"],
                        when - timedelta(seconds=1),
                        identities[(person, tool)],
                        region=region,
                        agent=_TOOLS[tool][0],
                        image_id=instance["ImageId"],
                        instance_type="t3.micro",
                        tags={"team": "fleet"},
                    )
                )
                busy = number % 2 == 1
                self.remember(
                    label,
                    EC2_INSTANCE,
                    instance["InstanceId"],
                    region,
                    creator=BY_KEY[person].aws_name,
                    tool=tool,
                    owner=person,
                    idle=not busy,
                    event="RunInstances",
                    cpu=60.0 if busy else 0.5,
                )
            made += batch

    # Records of what was made -------------------------------------------------------------------

    def remember(
        self,
        label: str,
        kind: str,
        resource_id: str,
        region: str,
        *,
        creator: str | None,
        tool: str | None,
        owner: str | None,
        idle: bool | None,
        reference: str | None = None,
        via: str | None = None,
        event: str | None = None,
        found: bool = True,
        cpu: float | None = None,
    ) -> None:
        self.made[label] = Seeded(
            label=label,
            type=kind,
            id=resource_id,
            region=region,
            reference=reference or resource_id,
            creator=creator,
            tool=tool,
            owner=owner,
            idle=idle,
            via=via,
            found=found,
            event=event,
        )
        if cpu is not None:
            self.cpu[resource_id] = (region, cpu)

    # CloudWatch --------------------------------------------------------------------------------

    def metrics(self, now: datetime) -> None:
        """Hourly data up to `now`: CPU and network per running instance (low for idle ones, a
        daily wave for busy ones), no traffic through the NAT gateway."""
        hours = [now - timedelta(hours=h) for h in range(METRIC_DAYS * 24, 0, -1)]
        sink = _MetricSink(self)
        for instance_id, (region, cpu) in self.cpu.items():
            busy = cpu > 10
            wave = [
                cpu
                + (20 * math.sin(2 * math.pi * (t.hour / 24)) if busy else 0)
                + self.random.uniform(-0.2, 0.2) * (5 if busy else cpu)
                for t in hours
            ]
            network = 60e6 if busy else 1500.0
            dims = {"InstanceId": instance_id}
            sink.put(region, "AWS/EC2", "CPUUtilization", dims, hours, wave, "Percent")
            for metric in ("NetworkIn", "NetworkOut"):
                values = [network * self.random.uniform(0.5, 1.5) for _ in hours]
                sink.put(region, "AWS/EC2", metric, dims, hours, values, "Bytes")
        for seeded in self.made.values():
            if seeded.type == NAT_GATEWAY:
                dims = {"NatGatewayId": seeded.id}
                for metric in ("BytesOutToDestination", "BytesInFromSource"):
                    zeros = [0.0] * len(hours)
                    sink.put(seeded.region, "AWS/NATGateway", metric, dims, hours, zeros, "Bytes")
        for series in self.series:
            values = [
                series.level
                if series.steady or not series.level
                else series.level * self.random.uniform(0.5, 1.5)
                for _ in hours
            ]
            sink.put(
                series.region,
                series.namespace,
                series.metric,
                series.dimensions,
                hours,
                values,
                series.unit,
            )
        sink.flush()


class _MetricSink:
    """Datapoints to moto's CloudWatch (put_metric_data, 1,000 a call) or the indexed stand-in."""

    BATCH = 1000

    def __init__(self, seeder: FleetSeeder) -> None:
        self.seeder = seeder
        self.server = seeder.metrics_server
        self.pending: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def put(
        self,
        region: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        times: Sequence[datetime],
        values: Sequence[float],
        unit: str,
    ) -> None:
        if self.server is not None:
            self.server.put(
                namespace, metric, dict(dimensions), times, values, region=region, unit=unit
            )
            return
        points = self.pending.setdefault((region, namespace), [])
        listed = [{"Name": name, "Value": value} for name, value in dimensions.items()]
        points.extend(
            {
                "MetricName": metric,
                "Dimensions": listed,
                "Timestamp": when,
                "Value": value,
                "Unit": unit,
            }
            for when, value in zip(times, values, strict=True)
        )
        if len(points) >= self.BATCH:
            self._send(region, namespace)

    def _send(self, region: str, namespace: str) -> None:
        points = self.pending.pop((region, namespace), [])
        cloudwatch = self.seeder.client("cloudwatch", region)
        for start in range(0, len(points), self.BATCH):
            cloudwatch.put_metric_data(
                Namespace=namespace, MetricData=points[start : start + self.BATCH]
            )

    def flush(self) -> None:
        for region, namespace in list(self.pending):
            self._send(region, namespace)


# ---------------------------------------------------------------------------------------------
# Helpers


def _tag_specs(resource_type: str, tags: Mapping[str, str] | None) -> dict[str, Any]:
    """TagSpecifications for a create call, or nothing when there are no tags."""
    if not tags:
        return {}
    listed = [{"Key": key, "Value": value} for key, value in tags.items()]
    return {"TagSpecifications": [{"ResourceType": resource_type, "Tags": listed}]}


def _attach_time(instance: Mapping[str, Any]) -> datetime:
    """The primary network interface's attach time: what the product takes as the creation."""
    for eni in instance.get("NetworkInterfaces", []):
        attachment = eni.get("Attachment", {})
        if attachment.get("DeviceIndex") == 0 and attachment.get("AttachTime"):
            return attachment["AttachTime"]
    return instance["LaunchTime"]


def _instances(ec2: Any) -> Iterator[dict[str, Any]]:
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page.get("Reservations", []):
            yield from reservation.get("Instances", [])


def _uuid(generator: random.Random) -> str:
    digits = f"{generator.getrandbits(128):032x}"
    return "-".join(digits[a:b] for a, b in itertools.pairwise((0, 8, 12, 16, 20, 32)))
