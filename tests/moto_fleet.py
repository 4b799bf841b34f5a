"""A small sandbox fleet in moto for the button and operation tests: one maker per resource type.

Use inside `mock_aws()`; `Fleet.client_for(service, region)` is the factory Operations takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "eu-west-1"
AMI = "ami-12c6146b"  # one of moto's built-in images


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass
class Fleet:
    region: str = REGION
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client_for(self, service: str, region: str) -> Any:
        if (service, region) not in self.clients:
            self.clients[(service, region)] = boto3.client(service, region_name=region)
        return self.clients[(service, region)]

    @property
    def ec2(self) -> Any:
        return self.client_for("ec2", self.region)

    # Makers -----------------------------------------------------------------------------------

    def instance(
        self,
        name: str = "web-1",
        *,
        tags: dict[str, str] | None = None,
        volumes: int = 1,
        delete_on_termination: bool = True,
        protected: bool = False,
    ) -> str:
        mappings = [
            {
                "DeviceName": f"/dev/sd{chr(ord('f') + n)}",
                "Ebs": {"VolumeSize": 8, "DeleteOnTermination": delete_on_termination},
            }
            for n in range(volumes)
        ]
        instance = self.ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            BlockDeviceMappings=mappings,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": tag_list({"Name": name, **(tags or {})})}
            ],
        )["Instances"][0]
        if protected:  # moto ignores DisableApiTermination in RunInstances
            self.ec2.modify_instance_attribute(
                InstanceId=instance["InstanceId"], DisableApiTermination={"Value": True}
            )
        return str(instance["InstanceId"])

    def instance_state(self, instance_id: str) -> str:
        reservations = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        return str(reservations[0]["Instances"][0]["State"]["Name"])

    def instance_volumes(self, instance_id: str) -> list[str]:
        reservations = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        mappings = reservations[0]["Instances"][0].get("BlockDeviceMappings", [])
        return [m["Ebs"]["VolumeId"] for m in mappings if "Ebs" in m]

    def volume(self, *, tags: dict[str, str] | None = None, size: int = 100) -> str:
        spec = [{"ResourceType": "volume", "Tags": tag_list(tags)}] if tags else []
        volume = self.ec2.create_volume(
            AvailabilityZone=f"{self.region}a",
            Size=size,
            VolumeType="gp3",
            TagSpecifications=spec,
        )
        return str(volume["VolumeId"])

    def volume_exists(self, volume_id: str) -> bool:
        return any(v["VolumeId"] == volume_id for v in self.ec2.describe_volumes()["Volumes"])

    def snapshots_of(self, volume_id: str) -> list[dict[str, Any]]:
        found = self.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        return [s for s in found if s.get("VolumeId") == volume_id]

    def tags_of(self, resource_id: str) -> dict[str, str]:
        found = self.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
        return {t["Key"]: t["Value"] for t in found["Tags"]}

    def address(self, *, tags: dict[str, str] | None = None) -> tuple[str, str]:
        spec = [{"ResourceType": "elastic-ip", "Tags": tag_list(tags)}] if tags else []
        address = self.ec2.allocate_address(Domain="vpc", TagSpecifications=spec)
        return str(address["AllocationId"]), str(address["PublicIp"])

    def address_exists(self, allocation_id: str) -> bool:
        return any(
            a.get("AllocationId") == allocation_id
            for a in self.ec2.describe_addresses()["Addresses"]
        )

    def subnets(self) -> list[str]:
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        return [
            self.ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{self.region}{zone}"
            )["Subnet"]["SubnetId"]
            for n, zone in ((1, "a"), (2, "b"))
        ]

    def nat(self) -> str:
        allocation, _ = self.address()
        subnet = self.subnets()[0]
        nat = self.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)
        return str(nat["NatGateway"]["NatGatewayId"])

    def nat_state(self, nat_id: str) -> str:
        found = self.ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
        return str(found[0]["State"])

    def load_balancer(self, name: str = "shop", *, protected: bool = False) -> str:
        elb = self.client_for("elbv2", self.region)
        arn = elb.create_load_balancer(Name=name, Subnets=self.subnets())["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        if protected:
            elb.modify_load_balancer_attributes(
                LoadBalancerArn=arn,
                Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}],
            )
        return str(arn)

    def load_balancer_exists(self, arn: str) -> bool:
        found = self.client_for("elbv2", self.region).describe_load_balancers()["LoadBalancers"]
        return any(lb["LoadBalancerArn"] == arn for lb in found)

    def classic_load_balancer(self, name: str = "old-shop") -> str:
        self.client_for("elb", self.region).create_load_balancer(
            LoadBalancerName=name,
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
            AvailabilityZones=[f"{self.region}a"],
        )
        return name

    def classic_exists(self, name: str) -> bool:
        found = self.client_for("elb", self.region).describe_load_balancers()
        return any(lb["LoadBalancerName"] == name for lb in found["LoadBalancerDescriptions"])

    def database(
        self, name: str = "orders", *, protected: bool = False, tags: dict[str, str] | None = None
    ) -> str:
        self.client_for("rds", self.region).create_db_instance(
            DBInstanceIdentifier=name,
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            MasterUsername="admin1",
            MasterUserPassword="password-1",
            AllocatedStorage=20,
            DeletionProtection=protected,
            Tags=tag_list(tags or {}),
        )
        return name

    def database_status(self, name: str) -> str | None:
        found = self.client_for("rds", self.region).describe_db_instances()["DBInstances"]
        for db in found:
            if db["DBInstanceIdentifier"] == name:
                return str(db["DBInstanceStatus"])
        return None

    def db_snapshots(self) -> list[str]:
        rds = self.client_for("rds", self.region)
        found = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
        return [s["DBSnapshotIdentifier"] for s in found]

    def db_tags(self, name: str) -> dict[str, str]:
        rds = self.client_for("rds", self.region)
        arn = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0][
            "DBInstanceArn"
        ]
        return {
            t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]
        }

    # SageMaker, OpenSearch, ElastiCache, Redshift, EMR, DynamoDB, EBS snapshots and AMIs --------

    def endpoint(self, name: str = "scoring", *, tags: dict[str, str] | None = None) -> str:
        """A real-time endpoint on one ml.m5.large, its model and endpoint configuration."""
        sagemaker = self.client_for("sagemaker", self.region)
        sagemaker.create_model(
            ModelName=f"{name}-model",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:1"},
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
        sagemaker.create_endpoint(
            EndpointName=name, EndpointConfigName=f"{name}-config", Tags=tag_list(tags or {})
        )
        return name

    def notebook(self, name: str = "research", *, tags: dict[str, str] | None = None) -> str:
        self.client_for("sagemaker", self.region).create_notebook_instance(
            NotebookInstanceName=name,
            InstanceType="ml.t3.medium",
            RoleArn="arn:aws:iam::123456789012:role/sagemaker",
            VolumeSizeInGB=20,
            Tags=tag_list(tags or {}),
        )
        return name

    def domain(self, name: str = "logs", *, tags: dict[str, str] | None = None) -> str:
        self.client_for("opensearch", self.region).create_domain(
            DomainName=name,
            EngineVersion="OpenSearch_2.11",
            ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 2},
            EBSOptions={"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 20},
            TagList=tag_list(tags or {}),
        )
        return name

    def cache(
        self, name: str = "sessions", *, engine: str = "redis", tags: dict[str, str] | None = None
    ) -> str:
        self.client_for("elasticache", self.region).create_cache_cluster(
            CacheClusterId=name,
            Engine=engine,
            CacheNodeType="cache.t3.micro",
            NumCacheNodes=1,
            Tags=tag_list(tags or {}),
        )
        return name

    def warehouse(self, name: str = "warehouse", *, tags: dict[str, str] | None = None) -> str:
        self.client_for("redshift", self.region).create_cluster(
            ClusterIdentifier=name,
            ClusterType="multi-node",
            NodeType="ra3.xlplus",
            NumberOfNodes=2,
            MasterUsername="admin",
            MasterUserPassword="Password-1",
            Tags=tag_list(tags or {}),
        )
        return name

    def emr_cluster(
        self, name: str = "etl", *, protected: bool = False, tags: dict[str, str] | None = None
    ) -> str:
        emr = self.client_for("emr", self.region)
        cluster = emr.run_job_flow(
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
            Tags=tag_list(tags or {}),
        )
        if protected:
            emr.set_termination_protection(
                JobFlowIds=[cluster["JobFlowId"]], TerminationProtected=True
            )
        return str(cluster["JobFlowId"])

    def emr_state(self, cluster_id: str) -> str:
        emr = self.client_for("emr", self.region)
        return str(emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"])

    def table(self, name: str = "orders", *, tags: dict[str, str] | None = None) -> str:
        self.client_for("dynamodb", self.region).create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 20},
            Tags=tag_list(tags or {}),
        )
        return name

    def orphan_snapshot(self, *, tags: dict[str, str] | None = None) -> str:
        """A snapshot whose volume has since been deleted."""
        volume = self.volume(size=40)
        spec = [{"ResourceType": "snapshot", "Tags": tag_list(tags)}] if tags else []
        snapshot = self.ec2.create_snapshot(VolumeId=volume, TagSpecifications=spec)
        self.ec2.delete_volume(VolumeId=volume)
        return str(snapshot["SnapshotId"])

    def snapshot_exists(self, snapshot_id: str) -> bool:
        found = self.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        return any(s["SnapshotId"] == snapshot_id for s in found)

    def image(self, name: str = "golden", *, tags: dict[str, str] | None = None) -> str:
        """An AMI made from an instance that is then terminated, so nothing runs from it; a
        launch template of another image is there too, as in most accounts."""
        instance = self.instance(f"{name}-builder")
        spec = [{"ResourceType": "image", "Tags": tag_list(tags)}] if tags else []
        image = self.ec2.create_image(InstanceId=instance, Name=name, TagSpecifications=spec)
        self.ec2.terminate_instances(InstanceIds=[instance])
        self.ec2.create_launch_template(
            LaunchTemplateName=f"{name}-other-lt", LaunchTemplateData={"ImageId": AMI}
        )
        return str(image["ImageId"])

    def image_state(self, image_id: str) -> str | None:
        found = self.ec2.describe_images(Owners=["self"])["Images"]
        return next((str(i.get("State")) for i in found if i["ImageId"] == image_id), None)

    def created_at(self, resource_type: str, resource_id: str) -> Any:
        """The creation time AWS reports for a resource named by a reusable name, as the
        inventory records it on a nudge (what press-time identity checks compare)."""
        region = self.region
        readers = {
            "AWS::RDS::DBInstance": lambda: self.client_for("rds", region).describe_db_instances(
                DBInstanceIdentifier=resource_id
            )["DBInstances"][0]["InstanceCreateTime"],
            "AWS::ElasticLoadBalancing::LoadBalancer": lambda: self.client_for(
                "elb", region
            ).describe_load_balancers(LoadBalancerNames=[resource_id])["LoadBalancerDescriptions"][
                0
            ]["CreatedTime"],
            "AWS::SageMaker::Endpoint": lambda: self.client_for(
                "sagemaker", region
            ).describe_endpoint(EndpointName=resource_id)["CreationTime"],
            "AWS::SageMaker::NotebookInstance": lambda: self.client_for(
                "sagemaker", region
            ).describe_notebook_instance(NotebookInstanceName=resource_id)["CreationTime"],
            "AWS::OpenSearchService::Domain": lambda: self.client_for(
                "opensearch", region
            ).describe_domain_config(DomainName=resource_id)["DomainConfig"]["EngineVersion"][
                "Status"
            ]["CreationDate"],
            "AWS::ElastiCache::CacheCluster": lambda: self.client_for(
                "elasticache", region
            ).describe_cache_clusters(CacheClusterId=resource_id)["CacheClusters"][0][
                "CacheClusterCreateTime"
            ],
            "AWS::Redshift::Cluster": lambda: self.client_for("redshift", region).describe_clusters(
                ClusterIdentifier=resource_id
            )["Clusters"][0]["ClusterCreateTime"],
            "AWS::DynamoDB::Table": lambda: self.client_for("dynamodb", region).describe_table(
                TableName=resource_id
            )["Table"]["CreationDateTime"],
        }
        if resource_type not in readers:
            raise ValueError(f"no creation time reader for {resource_type}")
        return readers[resource_type]()
