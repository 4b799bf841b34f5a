"""The sandbox's resources beyond EC2 instances, volumes, addresses and NAT gateways: one idle and
one busy (or not idle) of each patrolled type, with their creation events and CloudWatch data.

- SageMaker: alice's endpoint nobody calls (Terraform) and bob's that answers (CLI); carol's
  notebook instance in service since it was made (console) and bob's, stopped.
- OpenSearch: bob's domain nobody searches (CLI), carol's in use.
- ElastiCache: alice's Redis cluster without a command (Terraform), bob's busy Memcached one.
- Redshift: carol's cluster nobody connects to (console).
- EMR: dave's cluster idle since it was made (he has left), alice's that runs jobs.
- DynamoDB: bob's provisioned table nobody reads (console), carol's on-demand one.
- EBS: bob's snapshot of a volume since deleted, and one of his volume that is still there.
- AMIs: alice's image of api-1 nobody launches (Terraform), bob's that a launch template uses.

All in the home region. The sandbox's policy judges snapshots and AMIs after 7 days (not 30): its
fleet is 9 days old.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.sandbox import service_records as made
from bot.sandbox.records import ACCOUNT, CLI, EC2_CONSOLE, TERRAFORM


class _Made(Protocol):
    @property
    def id(self) -> str: ...


class Seeder(Protocol):
    """What seeding these services needs of the fleet's seeder (bot/sandbox/fleet.py)."""

    @property
    def made(self) -> Mapping[str, _Made]: ...

    def client(self, service: str, region: str) -> Any: ...

    def add(self, record: dict[str, Any]) -> None: ...

    def created(self, when: datetime) -> datetime: ...

    def region(self, index: int) -> str: ...

    def identity(self, person: str, tool: str, region: str) -> Any: ...

    def aws_name(self, person: str) -> str: ...

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
        event: str | None = None,
    ) -> None: ...


ENDPOINT = "AWS::SageMaker::Endpoint"
NOTEBOOK = "AWS::SageMaker::NotebookInstance"
DOMAIN = "AWS::OpenSearchService::Domain"
CACHE = "AWS::ElastiCache::CacheCluster"
REDSHIFT = "AWS::Redshift::Cluster"
EMR = "AWS::EMR::Cluster"
TABLE = "AWS::DynamoDB::Table"
SNAPSHOT = "AWS::EC2::Snapshot"
AMI = "AWS::EC2::Image"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
AGENTS = {"Terraform": TERRAFORM, "AWS CLI": CLI, "Console": EC2_CONSOLE}


@dataclass(frozen=True)
class Series:
    """CloudWatch data to seed for one metric of one resource: about `level` every hour
    (exactly `level` when steady), 0 for an idle resource."""

    region: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    level: float
    unit: str = "Count"
    steady: bool = False


@dataclass
class _Maker:
    seeder: Seeder
    series: list[Series] = field(default_factory=list)

    def who(self, person: str, tool: str, region: str) -> Any:
        return self.seeder.identity(person, tool, region)

    def remember(
        self,
        label: str,
        kind: str,
        resource_id: str,
        region: str,
        *,
        person: str,
        tool: str,
        idle: bool,
        event: str,
        reference: str | None = None,
    ) -> None:
        self.seeder.remember(
            label,
            kind,
            resource_id,
            region,
            reference=reference,
            creator=self.seeder.aws_name(person),
            tool=tool,
            owner=person,
            idle=idle,
            event=event,
        )

    def metric(self, region: str, namespace: str, metric: str, level: float, **dims: str) -> None:
        self.series.append(Series(region, namespace, metric, dims, level))

    # SageMaker -------------------------------------------------------------------------------

    def endpoint(self, name: str, person: str, tool: str, *, calls: float) -> None:
        region = self.seeder.region(0)
        sagemaker = self.seeder.client("sagemaker", region)
        sagemaker.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": f"123456789012.dkr.ecr.{region}.amazonaws.com/{name}:1"},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{name}-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{name}-model",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        arn = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")[
            "EndpointArn"
        ]
        when = self.seeder.created(sagemaker.describe_endpoint(EndpointName=name)["CreationTime"])
        self.seeder.add(
            made.create_endpoint(
                name,
                f"{name}-config",
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
            )
        )
        self.remember(
            name,
            ENDPOINT,
            name,
            region,
            person=person,
            tool=tool,
            idle=not calls,
            event="CreateEndpoint",
            reference=arn,
        )
        self.metric(
            region,
            "AWS/SageMaker",
            "Invocations",
            calls,
            EndpointName=name,
            VariantName="AllTraffic",
        )

    def notebook(self, name: str, person: str, tool: str, *, running: bool) -> None:
        region = self.seeder.region(0)
        sagemaker = self.seeder.client("sagemaker", region)
        arn = sagemaker.create_notebook_instance(
            NotebookInstanceName=name,
            InstanceType="ml.t3.medium",
            RoleArn=ROLE,
            VolumeSizeInGB=20,
        )["NotebookInstanceArn"]
        found = sagemaker.describe_notebook_instance(NotebookInstanceName=name)
        when = self.seeder.created(found["CreationTime"])
        self.seeder.add(
            made.create_notebook_instance(
                name,
                "ml.t3.medium",
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
                volume_gib=20,
            )
        )
        if not running:
            sagemaker.stop_notebook_instance(NotebookInstanceName=name)
        self.remember(
            name,
            NOTEBOOK,
            name,
            region,
            person=person,
            tool=tool,
            idle=running,  # in service since it was made, 9 days ago
            event="CreateNotebookInstance",
            reference=arn,
        )

    # OpenSearch, ElastiCache, Redshift, EMR, DynamoDB -----------------------------------------

    def domain(self, name: str, person: str, tool: str, *, searches: float) -> None:
        region = self.seeder.region(0)
        client = self.seeder.client("opensearch", region)
        status = client.create_domain(
            DomainName=name,
            EngineVersion="OpenSearch_2.11",
            ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 2},
            EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 20},
        )["DomainStatus"]
        config = client.describe_domain_config(DomainName=name)["DomainConfig"]
        when = self.seeder.created(config["EngineVersion"]["Status"]["CreationDate"])
        self.seeder.add(
            made.create_domain(
                name,
                "t3.small.search",
                2,
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
            )
        )
        self.remember(
            name,
            DOMAIN,
            name,
            region,
            person=person,
            tool=tool,
            idle=not searches,
            event="CreateDomain",
            reference=status["ARN"],
        )
        dims = {"DomainName": name, "ClientId": ACCOUNT}
        for metric in ("SearchRate", "IndexingRate"):
            self.metric(region, "AWS/ES", metric, searches, **dims)

    def cache(
        self, name: str, person: str, tool: str, *, engine: str, nodes: int, commands: float
    ) -> None:
        region = self.seeder.region(0)
        client = self.seeder.client("elasticache", region)
        cluster = client.create_cache_cluster(
            CacheClusterId=name, Engine=engine, CacheNodeType="cache.t3.micro", NumCacheNodes=nodes
        )["CacheCluster"]
        when = self.seeder.created(cluster["CacheClusterCreateTime"])
        self.seeder.add(
            made.create_cache_cluster(
                name,
                engine,
                "cache.t3.micro",
                nodes,
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
            )
        )
        arn = f"arn:aws:elasticache:{region}:{ACCOUNT}:cluster:{name}"
        self.remember(
            name,
            CACHE,
            name,
            region,
            person=person,
            tool=tool,
            idle=not commands,
            event="CreateCacheCluster",
            reference=arn,
        )
        metrics = ("GetTypeCmds", "SetTypeCmds") if engine == "redis" else ("CmdGet", "CmdSet")
        for node in range(1, nodes + 1):
            for metric in metrics:
                dims = {"CacheClusterId": name, "CacheNodeId": f"{node:04d}"}
                self.metric(region, "AWS/ElastiCache", metric, commands, **dims)

    def warehouse(self, name: str, person: str, tool: str) -> None:
        region = self.seeder.region(0)
        cluster = self.seeder.client("redshift", region).create_cluster(
            ClusterIdentifier=name,
            ClusterType="multi-node",
            NodeType="ra3.xlplus",
            NumberOfNodes=2,
            MasterUsername="admin",
            MasterUserPassword="Sandbox-password-1",
        )["Cluster"]
        when = self.seeder.created(cluster["ClusterCreateTime"])
        self.seeder.add(
            made.create_cluster(
                name,
                "ra3.xlplus",
                2,
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
            )
        )
        self.remember(
            name,
            REDSHIFT,
            name,
            region,
            person=person,
            tool=tool,
            idle=True,
            event="CreateCluster",
            reference=f"arn:aws:redshift:{region}:{ACCOUNT}:cluster:{name}",
        )
        self.metric(region, "AWS/Redshift", "DatabaseConnections", 0.0, ClusterIdentifier=name)

    def emr_cluster(self, name: str, person: str, tool: str, *, working: bool) -> None:
        region = self.seeder.region(0)
        emr = self.seeder.client("emr", region)
        started = emr.run_job_flow(
            Name=name,
            ReleaseLabel="emr-6.15.0",
            Instances={
                "MasterInstanceType": "m5.xlarge",
                "SlaveInstanceType": "m5.xlarge",
                "InstanceCount": 3,
                "KeepJobFlowAliveWhenNoSteps": True,
            },
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
        )
        cluster_id = started["JobFlowId"]
        found = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
        when = self.seeder.created(found["Status"]["Timeline"]["CreationDateTime"])
        self.seeder.add(
            made.run_job_flow(
                cluster_id,
                name,
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
                instance_type="m5.xlarge",
                count=3,
            )
        )
        self.remember(
            name,
            EMR,
            cluster_id,
            region,
            person=person,
            tool=tool,
            idle=not working,
            event="RunJobFlow",
            reference=started["ClusterArn"],
        )
        # IsIdle is 1 while nothing runs; a cluster at work reports 0.
        level = 0.0 if working else 1.0
        self.series.append(
            Series(
                region,
                "AWS/ElasticMapReduce",
                "IsIdle",
                {"JobFlowId": cluster_id},
                level,
                steady=True,
            )
        )

    def table(self, name: str, person: str, tool: str, *, provisioned: bool) -> None:
        region = self.seeder.region(0)
        dynamodb = self.seeder.client("dynamodb", region)
        capacity: dict[str, Any] = (
            {
                "BillingMode": "PROVISIONED",
                "ProvisionedThroughput": {"ReadCapacityUnits": 50, "WriteCapacityUnits": 20},
            }
            if provisioned
            else {"BillingMode": "PAY_PER_REQUEST"}
        )
        table = dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            **capacity,
        )["TableDescription"]
        when = self.seeder.created(table["CreationDateTime"])
        self.seeder.add(
            made.create_table(
                name,
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
                reads=50 if provisioned else None,
                writes=20 if provisioned else None,
            )
        )
        self.remember(
            name,
            TABLE,
            name,
            region,
            person=person,
            tool=tool,
            idle=provisioned,  # an on-demand table costs nothing for its capacity
            event="CreateTable",
            reference=table["TableArn"],
        )
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"):
            self.metric(region, "AWS/DynamoDB", metric, 0.0, TableName=name)

    # EBS snapshots and AMIs ------------------------------------------------------------------

    def snapshot(self, label: str, volume_id: str, person: str, tool: str, *, idle: bool) -> None:
        region = self.seeder.region(0)
        ec2 = self.seeder.client("ec2", region)
        tags = {"Name": label}
        snapshot = ec2.create_snapshot(
            VolumeId=volume_id,
            TagSpecifications=[
                {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": label}]}
            ],
        )
        when = self.seeder.created(snapshot["StartTime"])
        self.seeder.add(
            made.create_snapshot(
                snapshot["SnapshotId"],
                volume_id,
                int(snapshot.get("VolumeSize") or 0),
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
                tags=tags,
            )
        )
        self.remember(
            label,
            SNAPSHOT,
            snapshot["SnapshotId"],
            region,
            person=person,
            tool=tool,
            idle=idle,
            event="CreateSnapshot",
        )

    def image(self, label: str, instance_id: str, person: str, tool: str, *, idle: bool) -> str:
        region = self.seeder.region(0)
        ec2 = self.seeder.client("ec2", region)
        image_id = str(
            ec2.create_image(InstanceId=instance_id, Name=label, NoReboot=True)["ImageId"]
        )
        created = ec2.describe_images(ImageIds=[image_id])["Images"][0]["CreationDate"]
        when = self.seeder.created(datetime.fromisoformat(created.replace("Z", "+00:00")))
        self.seeder.add(
            made.create_image(
                image_id,
                instance_id,
                label,
                when - timedelta(seconds=1),
                self.who(person, tool, region),
                region=region,
                agent=AGENTS[tool],
            )
        )
        self.remember(
            label, AMI, image_id, region, person=person, tool=tool, idle=idle, event="CreateImage"
        )
        return image_id


def make(seeder: Seeder) -> list[Series]:
    """Make the resources (after the people's instances and bob's volume) and their creation
    events; the CloudWatch series to seed once the sandbox's "now" is known."""
    maker = _Maker(seeder)
    maker.endpoint("churn-model", "alice", "Terraform", calls=0.0)
    maker.endpoint("recs", "bob", "AWS CLI", calls=120.0)
    maker.notebook("carol-research", "carol", "Console", running=True)
    maker.notebook("bob-scratchpad", "bob", "AWS CLI", running=False)
    maker.domain("app-logs", "bob", "AWS CLI", searches=0.0)
    maker.domain("site-search", "carol", "Console", searches=35.0)
    maker.cache("sessions", "alice", "Terraform", engine="redis", nodes=1, commands=0.0)
    maker.cache("lookups", "bob", "AWS CLI", engine="memcached", nodes=2, commands=900.0)
    maker.warehouse("analytics", "carol", "Console")
    maker.emr_cluster("nightly-etl", "dave", "AWS CLI", working=False)
    maker.emr_cluster("spark-jobs", "alice", "Terraform", working=True)
    maker.table("orders-archive", "bob", "Console", provisioned=True)
    maker.table("events", "carol", "AWS CLI", provisioned=False)
    region = seeder.region(0)
    ec2 = seeder.client("ec2", region)
    gone = ec2.create_volume(AvailabilityZone=f"{region}a", Size=50, VolumeType="gp3")["VolumeId"]
    maker.snapshot("bob-old-backup", gone, "bob", "Console", idle=True)
    ec2.delete_volume(VolumeId=gone)
    maker.snapshot(
        "bob-old-data-snap", seeder.made["bob-old-data"].id, "bob", "Console", idle=False
    )
    maker.image("api-golden", seeder.made["api-1"].id, "alice", "Terraform", idle=True)
    base = maker.image("web-base", seeder.made["web-old"].id, "bob", "AWS CLI", idle=False)
    ec2.create_launch_template(
        LaunchTemplateName="web-base-lt", LaunchTemplateData={"ImageId": base}
    )
    return maker.series
