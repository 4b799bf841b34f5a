"""Inventory of the types beyond EC2, ELB, RDS and EKS, against moto: each becomes Resources with
what its rule, price and buttons read; snapshots and AMIs know what still uses them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from bot.aws.inventory import Inventory
from bot.core.resources import Resource
from bot.registry.patrol import PATROL
from tests.moto_fleet import AMI, REGION, Fleet

ACCOUNT = "123456789012"


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    with mock_aws():
        yield Fleet()


def collect(fleet: Fleet, kind: str) -> dict[str, Resource]:
    collected = Inventory(fleet.client_for, PATROL.by_type).collect(ACCOUNT, REGION, [kind])
    assert collected.failed_types == (), collected.notes
    return {resource.id: resource for resource in collected.resources}


def test_sagemaker_endpoints_with_their_variants(fleet: Fleet) -> None:
    fleet.endpoint("scoring", tags={"team": "ml", "aws:cloudformation:stack-name": "ml-stack"})
    endpoint = collect(fleet, "AWS::SageMaker::Endpoint")["scoring"]
    assert endpoint.state == "InService"
    assert endpoint.arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/scoring"
    assert endpoint.created_at is not None and endpoint.created_at.tzinfo is not None
    assert endpoint.size == "1 × ml.m5.large"
    assert endpoint.tags["team"] == "ml"
    assert endpoint.details["cloudformation_stack"] == "ml-stack"
    assert endpoint.details["config"] == "scoring-config"
    assert endpoint.details["variants"] == [
        {"name": "AllTraffic", "instance_type": "ml.m5.large", "count": 1, "serverless": False}
    ]


def test_an_endpoint_whose_configuration_is_gone_is_listed_without_a_price(fleet: Fleet) -> None:
    fleet.endpoint("orphan")
    fleet.client_for("sagemaker", REGION).delete_endpoint_config(EndpointConfigName="orphan-config")
    collected = Inventory(fleet.client_for, PATROL.by_type).collect(
        ACCOUNT, REGION, ["AWS::SageMaker::Endpoint"]
    )
    [endpoint] = collected.resources
    assert endpoint.details["variants"] == [{"name": "AllTraffic", "count": 1}]
    assert any("its configuration is gone" in note for note in collected.notes)


def test_notebook_instances_with_their_time_in_service(fleet: Fleet) -> None:
    fleet.notebook("research", tags={"Owner": "carol"})
    notebook = collect(fleet, "AWS::SageMaker::NotebookInstance")["research"]
    assert notebook.state == "InService" and notebook.size == "ml.t3.medium"
    assert notebook.state_since is not None and notebook.details["volume_gib"] == 20
    assert notebook.tags == {"Owner": "carol"}


def test_opensearch_domains_with_nodes_storage_and_creation_time(fleet: Fleet) -> None:
    fleet.domain("logs", tags={"Name": "logs"})
    domain = collect(fleet, "AWS::OpenSearchService::Domain")["logs"]
    assert domain.state == "active"
    assert domain.size == "2 × t3.small.search"
    assert domain.created_at is not None
    assert domain.details["volume_type"] == "gp3" and domain.details["volume_gib"] == 20
    assert domain.tags == {"Name": "logs"}


def test_elasticache_clusters_with_engine_family_and_nodes(fleet: Fleet) -> None:
    fleet.cache("sessions", tags={"team": "web"})
    fleet.cache("lookups", engine="memcached")
    caches = collect(fleet, "AWS::ElastiCache::CacheCluster")
    assert caches["sessions"].details["family"] == "redis"
    assert caches["sessions"].details["replication_group"] is None
    assert caches["sessions"].tags == {"team": "web"}
    assert caches["lookups"].details["family"] == "memcached"
    assert caches["lookups"].size == "cache.t3.micro" and caches["lookups"].created_at


def test_redshift_clusters_with_nodes_and_tags(fleet: Fleet) -> None:
    fleet.warehouse("warehouse", tags={"Name": "dw"})
    cluster = collect(fleet, "AWS::Redshift::Cluster")["warehouse"]
    assert cluster.state == "available" and cluster.size == "ra3.xlplus"
    assert cluster.details["nodes"] == 2
    assert cluster.arn == f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:warehouse"
    assert cluster.tags == {"Name": "dw"}


def test_emr_clusters_that_are_up_with_their_running_instances(fleet: Fleet) -> None:
    up = fleet.emr_cluster("etl", protected=True)
    done = fleet.emr_cluster("old")
    fleet.client_for("emr", REGION).terminate_job_flows(JobFlowIds=[done])
    clusters = collect(fleet, "AWS::EMR::Cluster")
    assert set(clusters) == {up}
    cluster = clusters[up]
    assert cluster.name == "etl" and cluster.state == "WAITING"
    assert cluster.details["running_instances"] == {"m5.xlarge": 3}
    assert cluster.details["termination_protection"] is True


def test_dynamodb_tables_with_billing_mode_and_capacity(fleet: Fleet) -> None:
    fleet.table("orders", tags={"team": "shop"})
    dynamodb = fleet.client_for("dynamodb", REGION)
    dynamodb.create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    tables = collect(fleet, "AWS::DynamoDB::Table")
    orders = tables["orders"]
    assert orders.details["billing_mode"] == "PROVISIONED"
    assert (orders.details["read_capacity"], orders.details["write_capacity"]) == (50, 20)
    assert orders.size == "50 RCU, 20 WCU" and orders.tags == {"team": "shop"}
    assert tables["events"].details["billing_mode"] == "PAY_PER_REQUEST"


def test_snapshots_know_their_volume_is_gone_and_which_amis_use_them(fleet: Fleet) -> None:
    orphan = fleet.orphan_snapshot(tags={"Name": "old-backup"})
    live_volume = fleet.volume(size=10)
    kept = fleet.ec2.create_snapshot(VolumeId=live_volume)["SnapshotId"]
    image = fleet.image("golden")
    snapshots = collect(fleet, "AWS::EC2::Snapshot")
    # Only the account's own: moto's public images' snapshots are another owner's.
    assert all(r.account == ACCOUNT for r in snapshots.values())
    assert snapshots[orphan].details["volume_gone"] is True
    assert snapshots[orphan].details["used_by_images"] == []
    assert snapshots[orphan].name == "old-backup" and snapshots[orphan].state == "completed"
    assert snapshots[kept].details["volume_gone"] is False
    [image_snapshot] = [s for s in snapshots.values() if s.details["used_by_images"] == [image]]
    assert image_snapshot.details["volume_gib"]


def test_amis_know_the_instances_and_templates_using_them(fleet: Fleet) -> None:
    unused = fleet.image("golden")
    templated = fleet.image("base")
    fleet.ec2.create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": templated}
    )
    running = fleet.image("current")
    fleet.ec2.run_instances(ImageId=running, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    images = collect(fleet, "AWS::EC2::Image")
    assert AMI not in images  # moto's public image is not the account's own
    assert images[unused].details["used_by_instances"] == []
    assert images[unused].details["used_by_templates"] == []
    assert images[unused].name == "golden" and images[unused].created_at is not None
    assert images[unused].details["snapshots"]
    assert images[templated].details["used_by_templates"] == ["web-lt"]
    assert len(images[running].details["used_by_instances"]) == 1


def test_a_denied_service_leaves_its_type_out_with_a_note(fleet: Fleet) -> None:
    from botocore.exceptions import ClientError

    class Denied:
        def __getattr__(self, name: str) -> Any:
            def call(*args: Any, **kwargs: Any) -> Any:
                error = {"Error": {"Code": "AccessDeniedException", "Message": "no"}}
                raise ClientError(error, "ListEndpoints")

            return call

    def client_for(service: str, region: str) -> Any:
        return Denied() if service == "sagemaker" else fleet.client_for(service, region)

    collected = Inventory(client_for, PATROL.by_type).collect(
        ACCOUNT, REGION, ["AWS::SageMaker::Endpoint", "AWS::DynamoDB::Table"]
    )
    assert collected.failed_types == ("AWS::SageMaker::Endpoint",)
    assert collected.notes == (
        f"SageMaker endpoints not checked in {ACCOUNT}/{REGION}: ListEndpoints denied",
    )


def test_an_emr_cluster_of_instance_fleets_counts_its_running_instances() -> None:
    """moto keeps no instances of a cluster: Stubber, in the API's shapes."""
    from datetime import UTC, datetime

    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "emr", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    created = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    stubber.add_response(
        "list_clusters",
        {"Clusters": [{"Id": "j-FLEET", "Name": "spark", "Status": {"State": "WAITING"}}]},
        {"ClusterStates": ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]},
    )
    stubber.add_response(
        "describe_cluster",
        {
            "Cluster": {
                "Id": "j-FLEET",
                "Name": "spark",
                "Status": {"State": "WAITING", "Timeline": {"CreationDateTime": created}},
                "InstanceCollectionType": "INSTANCE_FLEET",
                "TerminationProtected": False,
                "Tags": [{"Key": "team", "Value": "data"}],
            }
        },
        {"ClusterId": "j-FLEET"},
    )
    stubber.add_response(
        "list_instances",
        {
            "Instances": [
                {"Id": "ci-1", "Ec2InstanceId": "i-1", "InstanceType": "m5.xlarge"},
                {"Id": "ci-2", "Ec2InstanceId": "i-2", "InstanceType": "m5.xlarge"},
                {"Id": "ci-3", "Ec2InstanceId": "i-3", "InstanceType": "r5.2xlarge"},
            ]
        },
        {"ClusterId": "j-FLEET", "InstanceStates": ["RUNNING"]},
    )
    with stubber:
        collected = Inventory(lambda service, region: client, PATROL.by_type).collect(
            ACCOUNT, REGION, ["AWS::EMR::Cluster"]
        )
    [cluster] = collected.resources
    assert cluster.details["running_instances"] == {"m5.xlarge": 2, "r5.2xlarge": 1}
    assert cluster.created_at == created and cluster.tags == {"team": "data"}
