"""The buttons of the types beyond EC2, ELB, RDS and EKS, against moto: AWS's state after each,
refusals (protected tags, termination protection, in use, a reused name), idempotence, dry-run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from bot.aws.operations import Operations, Outcome
from bot.core.decisions import Action
from bot.core.policy import Actions
from bot.registry.patrol import PATROL
from tests.moto_fleet import AMI, REGION, Fleet

ACCOUNT = "123456789012"
ENABLED = Actions(mode="enabled")
NO_SNAPSHOTS = Actions(mode="enabled", snapshot_before_delete=False)
PROTECTED = {"DoNotDelete": "yes"}


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    with mock_aws():
        yield Fleet()


def press(
    fleet: Fleet,
    action: Action,
    kind: str,
    resource_id: str,
    *,
    dry_run: bool = False,
    policy: Actions = ENABLED,
    born: object = "live",
) -> Outcome:
    """Press `action` on the resource, as a nudge recorded it (its creation time when its id is
    a reusable name; `born` overrides it)."""
    created = None
    if not PATROL.unique_ids(kind):
        created = fleet.created_at(kind, resource_id) if born == "live" else born
    return Operations(fleet.client_for, policy, PATROL.by_type, sleep=lambda _: None).perform(
        action, (ACCOUNT, REGION, kind, resource_id), dry_run=dry_run, created_at=created
    )


# SageMaker ---------------------------------------------------------------------------------------

ENDPOINT = "AWS::SageMaker::Endpoint"
NOTEBOOK = "AWS::SageMaker::NotebookInstance"


def test_delete_an_endpoint_keeps_its_configuration(fleet: Fleet) -> None:
    endpoint = fleet.endpoint("scoring")
    sagemaker = fleet.client_for("sagemaker", REGION)
    dry = press(fleet, Action.DELETE, ENDPOINT, endpoint, dry_run=True)
    assert dry.kind == "dry-run"
    assert dry.summary == (
        f"Dry run: I would have deleted the SageMaker endpoint scoring in {REGION}; its "
        "endpoint configuration scoring-config would stay. Nothing was changed (actions are "
        "in dry-run mode)."
    )
    born = fleet.created_at(ENDPOINT, endpoint)
    done = press(fleet, Action.DELETE, ENDPOINT, endpoint)
    assert done.done and done.summary == (
        f"Deleting the SageMaker endpoint scoring in {REGION}. Its endpoint configuration "
        "scoring-config and its model stay, so it can be made again."
    )
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.describe_endpoint_config(EndpointConfigName="scoring-config")
    again = press(fleet, Action.DELETE, ENDPOINT, endpoint, born=born)
    assert again.already and again.gone


def test_an_endpoint_with_a_protected_tag_or_a_new_owner_of_its_name_is_left(
    fleet: Fleet,
) -> None:
    endpoint = fleet.endpoint("scoring", tags=PROTECTED)
    refused = press(fleet, Action.DELETE, ENDPOINT, endpoint)
    assert refused.refused and "protected tag DoNotDelete" in refused.summary
    old = fleet.created_at(ENDPOINT, endpoint) - timedelta(days=30)
    different = press(fleet, Action.DELETE, ENDPOINT, endpoint, born=old)
    assert different.different and not different.done
    assert fleet.client_for("sagemaker", REGION).list_endpoints()["Endpoints"]


def test_stop_a_notebook_then_again(fleet: Fleet) -> None:
    notebook = fleet.notebook("research")
    sagemaker = fleet.client_for("sagemaker", REGION)
    stopped = press(fleet, Action.STOP, NOTEBOOK, notebook)
    assert stopped.done and "Its ML storage volume stays (and still costs)" in stopped.summary
    state = sagemaker.describe_notebook_instance(NotebookInstanceName=notebook)
    assert state["NotebookInstanceStatus"] == "Stopped"
    again = press(fleet, Action.STOP, NOTEBOOK, notebook)
    assert again.already and "already stopped" in again.summary


# OpenSearch --------------------------------------------------------------------------------------


def test_a_domain_has_no_button_that_changes_aws(fleet: Fleet) -> None:
    domain = fleet.domain("logs")
    outcome = press(fleet, Action.DELETE, "AWS::OpenSearchService::Domain", domain)
    assert outcome.refused and "cannot delete" in outcome.summary
    names = fleet.client_for("opensearch", REGION).list_domain_names()["DomainNames"]
    assert [d["DomainName"] for d in names] == ["logs"]


# ElastiCache ------------------------------------------------------------------------------------

CACHE = "AWS::ElastiCache::CacheCluster"


def test_delete_a_redis_cluster_after_a_final_snapshot(fleet: Fleet) -> None:
    cache = fleet.cache("sessions")
    outcome = press(fleet, Action.DELETE, CACHE, cache)
    assert outcome.done and len(outcome.snapshots) == 1
    assert outcome.snapshots[0].startswith("whocreated-final-sessions-")
    assert outcome.summary == (
        f"Deleting the ElastiCache cluster sessions in {REGION} after a final snapshot "
        f"{outcome.snapshots[0]}."
    )
    clusters = fleet.client_for("elasticache", REGION).describe_cache_clusters()
    assert [c["CacheClusterStatus"] for c in clusters["CacheClusters"]] in ([], ["deleting"])


def test_a_memcached_cluster_is_deleted_saying_it_keeps_no_snapshot(fleet: Fleet) -> None:
    cache = fleet.cache("lookups", engine="memcached")
    dry = press(fleet, Action.DELETE, CACHE, cache, dry_run=True)
    assert "(memcached keeps no snapshot: its data goes with it)" in dry.summary
    off = press(fleet, Action.DELETE, CACHE, fleet.cache("other"), policy=NO_SNAPSHOTS)
    assert off.done and "without a final snapshot (snapshots are off)" in off.summary


def test_a_cache_with_a_protected_tag_is_left(fleet: Fleet) -> None:
    outcome = press(fleet, Action.DELETE, CACHE, fleet.cache("sessions", tags=PROTECTED))
    assert outcome.refused and "protected tag" in outcome.summary


# Redshift ---------------------------------------------------------------------------------------

REDSHIFT = "AWS::Redshift::Cluster"


def _status(fleet: Fleet, name: str) -> str:
    found = fleet.client_for("redshift", REGION).describe_clusters(ClusterIdentifier=name)
    return str(found["Clusters"][0]["ClusterStatus"])


def test_pause_a_cluster_then_again_then_delete_it_after_a_final_snapshot(fleet: Fleet) -> None:
    cluster = fleet.warehouse("warehouse")
    paused = press(fleet, Action.PAUSE, REDSHIFT, cluster)
    assert paused.done and paused.summary == (
        f"Pausing the Redshift cluster warehouse in {REGION}. Its storage stays (and still "
        "costs); it can be resumed."
    )
    assert _status(fleet, cluster) == "paused"
    again = press(fleet, Action.PAUSE, REDSHIFT, cluster)
    assert again.already
    deleted = press(fleet, Action.DELETE, REDSHIFT, cluster)
    assert deleted.done and deleted.snapshots[0].startswith("whocreated-final-warehouse-")


def test_a_protected_cluster_is_neither_paused_nor_deleted(fleet: Fleet) -> None:
    cluster = fleet.warehouse("warehouse", tags=PROTECTED)
    assert press(fleet, Action.PAUSE, REDSHIFT, cluster).refused
    assert press(fleet, Action.DELETE, REDSHIFT, cluster).refused
    assert _status(fleet, cluster) == "available"


# EMR --------------------------------------------------------------------------------------------

EMR = "AWS::EMR::Cluster"


def test_terminate_an_emr_cluster_but_never_a_protected_one(fleet: Fleet) -> None:
    protected = fleet.emr_cluster("etl", protected=True)
    refused = press(fleet, Action.TERMINATE, EMR, protected)
    assert refused.refused and "termination protection on" in refused.summary
    assert fleet.emr_state(protected) == "WAITING"
    cluster = fleet.emr_cluster("scratch")
    done = press(fleet, Action.TERMINATE, EMR, cluster)
    assert done.done and done.summary.startswith(
        f"Terminating the EMR cluster scratch ({cluster}) in {REGION}."
    )
    assert fleet.emr_state(cluster).startswith("TERMINAT")
    assert press(fleet, Action.TERMINATE, EMR, cluster).already
    assert press(fleet, Action.TERMINATE, EMR, "j-NOSUCHCLUSTER").gone


# DynamoDB ---------------------------------------------------------------------------------------

TABLE = "AWS::DynamoDB::Table"


def _mode(fleet: Fleet, name: str) -> str:
    table = fleet.client_for("dynamodb", REGION).describe_table(TableName=name)["Table"]
    return str(table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))


def test_switch_a_table_to_on_demand_keeps_it_and_says_so(fleet: Fleet) -> None:
    table = fleet.table("orders")
    dry = press(fleet, Action.ON_DEMAND, TABLE, table, dry_run=True)
    assert dry.summary.startswith(
        f"Dry run: I would have switched the DynamoDB table orders in {REGION} to on-demand"
    )
    assert _mode(fleet, table) == "PROVISIONED"
    done = press(fleet, Action.ON_DEMAND, TABLE, table)
    assert done.done and "Its items, indexes and settings stay." in done.summary
    assert _mode(fleet, table) == "PAY_PER_REQUEST"
    assert press(fleet, Action.ON_DEMAND, TABLE, table).already


def test_a_protected_table_stays_provisioned(fleet: Fleet) -> None:
    table = fleet.table("orders", tags=PROTECTED)
    assert press(fleet, Action.ON_DEMAND, TABLE, table).refused
    assert _mode(fleet, table) == "PROVISIONED"


# EBS snapshots and AMIs -------------------------------------------------------------------------

SNAPSHOT = "AWS::EC2::Snapshot"
IMAGE = "AWS::EC2::Image"


def test_delete_an_orphan_snapshot_but_never_one_an_ami_uses(fleet: Fleet) -> None:
    orphan = fleet.orphan_snapshot()
    done = press(fleet, Action.DELETE, SNAPSHOT, orphan)
    assert done.done and done.summary == (
        f"Deleted the EBS snapshot {orphan} (40 GiB) in {REGION}."
    )
    assert not fleet.snapshot_exists(orphan)
    assert press(fleet, Action.DELETE, SNAPSHOT, orphan).gone
    image = fleet.image("golden")
    [mapping] = fleet.ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
    used = mapping["Ebs"]["SnapshotId"]
    refused = press(fleet, Action.DELETE, SNAPSHOT, used)
    assert refused.refused and f"used by the AMI {image}" in refused.summary
    assert fleet.snapshot_exists(used)


def test_deregister_an_unused_ami_keeps_its_snapshots(fleet: Fleet) -> None:
    image = fleet.image("golden")
    [mapping] = fleet.ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
    snapshot = mapping["Ebs"]["SnapshotId"]
    done = press(fleet, Action.DEREGISTER, IMAGE, image)
    assert done.done and done.summary == (
        f"Deregistered the AMI golden ({image}) in {REGION}. Its snapshot {snapshot} stays "
        "(and still costs): delete it when no longer needed."
    )
    assert fleet.image_state(image) is None
    assert fleet.snapshot_exists(snapshot)


def test_an_ami_an_instance_runs_from_or_a_template_launches_is_left(fleet: Fleet) -> None:
    running = fleet.image("current")
    fleet.ec2.run_instances(ImageId=running, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    refused = press(fleet, Action.DEREGISTER, IMAGE, running)
    assert refused.refused and "run from now" in refused.summary
    templated = fleet.image("base")
    fleet.ec2.create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": templated}
    )
    in_template = press(fleet, Action.DEREGISTER, IMAGE, templated)
    assert in_template.refused and "launch template web-lt" in in_template.summary
    assert fleet.image_state(running) == fleet.image_state(templated) == "available"
    assert running != AMI


def test_a_cluster_of_a_replication_group_is_deleted_with_its_group_not_here() -> None:
    """moto makes no member clusters for a replication group: Stubber, in the API's shapes."""
    import boto3
    from botocore.stub import Stubber

    born = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    client = boto3.client(
        "elasticache", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "describe_cache_clusters",
        {
            "CacheClusters": [
                {
                    "CacheClusterId": "sessions-001",
                    "CacheClusterStatus": "available",
                    "CacheClusterCreateTime": born,
                    "Engine": "redis",
                    "ReplicationGroupId": "sessions",
                    "ARN": f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:sessions-001",
                }
            ]
        },
        {"CacheClusterId": "sessions-001"},
    )
    with stubber:
        outcome = Operations(lambda service, region: client, ENABLED, PATROL.by_type).perform(
            Action.DELETE, (ACCOUNT, REGION, CACHE, "sessions-001"), dry_run=False, created_at=born
        )
        stubber.assert_no_pending_responses()  # and nothing was deleted: no call was left
    assert outcome.refused and outcome.summary == (
        "The ElastiCache cluster sessions-001 belongs to the replication group sessions: that "
        "is deleted as a group, not from here."
    )
