"""Idle rules of the types beyond EC2, ELB, RDS and EKS, on values: numbers people can check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.idle import per_cache_node, per_domain, per_variant
from bot.core.policy import Thresholds
from bot.core.resources import Resource
from bot.registry.patrol import METRICS, evaluate, metrics_for

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=90)
DEFAULT = Thresholds()


def _resource(kind: str, id: str = "x", **fields: object) -> Resource:
    fields.setdefault("created_at", OLD)
    return Resource(type=kind, id=id, region="eu-west-1", account="123456789012", **fields)


# SageMaker endpoints -----------------------------------------------------------------------------

ENDPOINT = "AWS::SageMaker::Endpoint"
VARIANTS = [{"name": "AllTraffic"}, {"name": "Canary"}]


def test_an_endpoint_with_no_invocations_is_idle_and_says_so() -> None:
    endpoint = _resource(ENDPOINT, "scoring", state="InService", details={"variants": VARIANTS})
    verdict = evaluate(endpoint, {"invocations": [0.0, 0.0]}, DEFAULT, NOW)
    assert verdict.idle and verdict.reasons == ("0 invocations in 7 days",)
    busy = evaluate(endpoint, {"invocations": [0.0, 3.0]}, DEFAULT, NOW)
    assert not busy.idle and busy.reasons == ("3 invocations in 7 days",)
    assert evaluate(endpoint, {"invocations": [3.0]}, Thresholds(max_invocations=5), NOW).idle


def test_an_endpoint_not_in_service_or_unread_is_not_idle() -> None:
    creating = _resource(ENDPOINT, state="Creating", details={"variants": VARIANTS})
    assert evaluate(creating, {"invocations": []}, DEFAULT, NOW).reasons == (
        "endpoint is Creating",
    )
    running = _resource(ENDPOINT, state="InService", details={"variants": VARIANTS})
    unread = evaluate(running, {}, DEFAULT, NOW)
    assert unread.unknown and unread.reasons == ("metrics not read: invocations",)
    young = evaluate(
        _resource(ENDPOINT, state="InService", created_at=NOW - timedelta(days=2)),
        {"invocations": []},
        DEFAULT,
        NOW,
    )
    assert young.unknown and young.reasons == ("created 2 days ago; judged after 7 days",)


def test_an_endpoints_invocations_are_read_for_each_variant() -> None:
    endpoint = _resource(ENDPOINT, "scoring", details={"variants": VARIANTS})
    [spec] = metrics_for(endpoint)
    assert per_variant(endpoint, spec) == [
        {"EndpointName": "scoring", "VariantName": "AllTraffic"},
        {"EndpointName": "scoring", "VariantName": "Canary"},
    ]


# SageMaker notebook instances ------------------------------------------------------------------

NOTEBOOK = "AWS::SageMaker::NotebookInstance"


def test_a_notebook_in_service_for_longer_than_the_limit_is_idle() -> None:
    notebook = _resource(NOTEBOOK, state="InService", state_since=NOW - timedelta(days=12))
    verdict = evaluate(notebook, {}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("in service for 12 days since it was last started or changed",)
    assert verdict.idle_since == NOW - timedelta(days=12)
    assert not evaluate(notebook, {}, Thresholds(in_service_days=30), NOW).idle


def test_a_notebook_started_lately_or_stopped_is_not_idle() -> None:
    fresh = _resource(NOTEBOOK, state="InService", state_since=NOW - timedelta(days=3))
    assert evaluate(fresh, {}, DEFAULT, NOW).reasons == (
        "in service for 3 days; judged after 7 days",
    )
    stopped = _resource(NOTEBOOK, state="Stopped", state_since=NOW - timedelta(days=60))
    assert evaluate(stopped, {}, DEFAULT, NOW).reasons == ("notebook instance is Stopped",)
    unknown = evaluate(_resource(NOTEBOOK, state="InService"), {}, DEFAULT, NOW)
    assert unknown.unknown


# OpenSearch domains ------------------------------------------------------------------------------

DOMAIN = "AWS::OpenSearchService::Domain"


def test_a_domain_with_no_searches_and_no_indexing_is_idle() -> None:
    domain = _resource(DOMAIN, "logs", state="active")
    quiet = {"search_rate": [0.0] * 3, "indexing_rate": [0.0] * 3}
    verdict = evaluate(domain, quiet, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == (
        "at most 0 search requests a minute over 7 days",
        "at most 0 documents indexed a minute over 7 days",
    )
    indexing = evaluate(domain, {**quiet, "indexing_rate": [0.0, 12.5]}, DEFAULT, NOW)
    assert not indexing.idle
    assert "at most 12.5 documents indexed a minute over 7 days" in indexing.reasons
    assert not evaluate(_resource(DOMAIN, state="processing"), quiet, DEFAULT, NOW).idle


def test_a_domains_metrics_are_filed_under_its_account_too() -> None:
    domain = _resource(DOMAIN, "logs")
    assert [per_domain(domain, spec) for spec in metrics_for(domain)] == [
        [{"DomainName": "logs", "ClientId": "123456789012"}]
    ] * 2


# ElastiCache clusters ----------------------------------------------------------------------------

CACHE = "AWS::ElastiCache::CacheCluster"


def test_a_cache_is_judged_by_its_engines_commands() -> None:
    redis = _resource(
        CACHE, "sessions", state="available", details={"family": "redis", "node_ids": ["0001"]}
    )
    assert [m.metric for m in metrics_for(redis)] == ["GetTypeCmds", "SetTypeCmds"]
    quiet = evaluate(redis, {"get_type": [0.0], "set_type": []}, DEFAULT, NOW)
    assert quiet.idle and quiet.reasons == ("0 get or set commands in 7 days",)
    busy = evaluate(redis, {"get_type": [40.0], "set_type": [2.0]}, DEFAULT, NOW)
    assert not busy.idle and busy.reasons == ("42 get or set commands in 7 days",)
    memcached = _resource(CACHE, state="available", details={"family": "memcached", "nodes": 2})
    assert [m.metric for m in metrics_for(memcached)] == ["CmdGet", "CmdSet"]
    assert evaluate(memcached, {"cmd_get": [], "cmd_set": []}, DEFAULT, NOW).idle


def test_a_caches_metrics_are_read_per_node() -> None:
    memcached = _resource(CACHE, "mc", details={"family": "memcached", "nodes": 2})
    spec = metrics_for(memcached)[0]
    assert per_cache_node(memcached, spec) == [
        {"CacheClusterId": "mc", "CacheNodeId": "0001"},
        {"CacheClusterId": "mc", "CacheNodeId": "0002"},
    ]


def test_a_cache_of_an_unknown_engine_or_busy_state_is_not_idle() -> None:
    odd = _resource(CACHE, state="available", details={"family": "other", "engine": "other"})
    assert evaluate(odd, {}, DEFAULT, NOW).unknown
    modifying = _resource(CACHE, state="modifying", details={"family": "redis"})
    assert evaluate(modifying, {}, DEFAULT, NOW).reasons == ("cache is modifying",)


# Redshift clusters -------------------------------------------------------------------------------

REDSHIFT = "AWS::Redshift::Cluster"


def test_a_cluster_nobody_connects_to_is_idle_and_a_paused_one_is_not() -> None:
    available = _resource(REDSHIFT, "warehouse", state="available")
    verdict = evaluate(available, {"connections": [0.0, 0.0]}, DEFAULT, NOW)
    assert verdict.idle and verdict.reasons == ("at most 0 connections over 7 days",)
    assert not evaluate(available, {"connections": [1.0]}, DEFAULT, NOW).idle
    paused = evaluate(_resource(REDSHIFT, state="paused"), {}, DEFAULT, NOW)
    assert not paused.idle and paused.reasons == ("paused: only its storage costs",)


# EMR clusters ------------------------------------------------------------------------------------

EMR = "AWS::EMR::Cluster"


def test_an_emr_cluster_is_idle_when_isidle_never_dropped() -> None:
    cluster = _resource(EMR, "j-1ABC", state="WAITING")
    verdict = evaluate(cluster, {"is_idle": [1.0] * 168}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("0 hours with work running in 7 days (IsIdle)",)
    busy = evaluate(cluster, {"is_idle": [1.0, 0.0, 1.0, 0.0]}, DEFAULT, NOW)
    assert not busy.idle and busy.reasons == ("2 hours with work running in 7 days (IsIdle)",)
    assert evaluate(cluster, {"is_idle": [1.0, 0.0]}, Thresholds(max_busy_hours=1), NOW).idle
    ending = evaluate(_resource(EMR, state="TERMINATING"), {"is_idle": []}, DEFAULT, NOW)
    assert ending.reasons == ("cluster is TERMINATING",)


# DynamoDB tables ---------------------------------------------------------------------------------

TABLE = "AWS::DynamoDB::Table"


def test_a_provisioned_table_that_consumes_nothing_is_idle_an_on_demand_one_never() -> None:
    provisioned = _resource(
        TABLE,
        "orders",
        state="ACTIVE",
        details={"billing_mode": "PROVISIONED", "read_capacity": 50, "write_capacity": 20},
    )
    verdict = evaluate(provisioned, {"reads": [0.0], "writes": []}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == (
        "0 read or write capacity units consumed in 7 days",
        "50 read units and 20 write units provisioned",
    )
    assert not evaluate(provisioned, {"reads": [0.5], "writes": []}, DEFAULT, NOW).idle
    on_demand = _resource(TABLE, state="ACTIVE", details={"billing_mode": "PAY_PER_REQUEST"})
    assert evaluate(on_demand, {}, DEFAULT, NOW).reasons == (
        "on-demand: billed per request, nothing while idle",
    )


# EBS snapshots -----------------------------------------------------------------------------------

SNAPSHOT = "AWS::EC2::Snapshot"


def _snapshot(**details: object) -> Resource:
    base: dict[str, object] = {
        "volume_id": "vol-0abc",
        "volume_gone": True,
        "used_by_images": [],
    }
    return _resource(SNAPSHOT, "snap-0abc", state="completed", details={**base, **details})


def test_a_snapshot_of_a_gone_volume_no_ami_uses_is_idle_after_its_days() -> None:
    verdict = evaluate(_snapshot(), {}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("its volume vol-0abc is gone", "used by no AMI, 90 days old")
    young = evaluate(replace_created(_snapshot(), NOW - timedelta(days=10)), {}, DEFAULT, NOW)
    assert young.unknown and young.reasons == (
        "its volume vol-0abc is gone",
        "taken 10 days ago; judged after 30 days",
    )
    assert evaluate(
        replace_created(_snapshot(), NOW - timedelta(days=10)),
        {},
        Thresholds(older_than_days=7),
        NOW,
    ).idle


def test_a_snapshot_in_use_or_of_a_live_volume_is_not_idle() -> None:
    used = evaluate(_snapshot(used_by_images=["ami-1", "ami-2"]), {}, DEFAULT, NOW)
    assert not used.idle and used.reasons == ("used by AMIs ami-1, ami-2",)
    live = evaluate(_snapshot(volume_gone=False), {}, DEFAULT, NOW)
    assert live.reasons == ("its volume vol-0abc still exists",)
    unknown = evaluate(_snapshot(volume_gone=None), {}, DEFAULT, NOW)
    assert unknown.unknown and not unknown.idle


def replace_created(resource: Resource, when: datetime) -> Resource:
    return replace(resource, created_at=when)


# AMIs --------------------------------------------------------------------------------------------

AMI = "AWS::EC2::Image"


def _image(**details: object) -> Resource:
    base: dict[str, object] = {"used_by_instances": [], "used_by_templates": []}
    return _resource(AMI, "ami-0abc", state="available", details={**base, **details})


def test_an_ami_never_launched_and_in_no_template_is_idle() -> None:
    verdict = evaluate(_image(), {}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == (
        "used by no instance or launch template",
        "never launched since it was made 90 days ago",
    )
    launched = _image(last_launched_at=NOW - timedelta(days=45))
    assert evaluate(launched, {}, DEFAULT, NOW).reasons[1] == "last launched 45 days ago"
    lately = evaluate(_image(last_launched_at=NOW - timedelta(days=3)), {}, DEFAULT, NOW)
    assert not lately.idle and lately.reasons == ("launched 3 days ago; judged after 30 days",)


def test_an_ami_an_instance_or_template_uses_is_not_idle() -> None:
    assert evaluate(_image(used_by_instances=["i-1"]), {}, DEFAULT, NOW).reasons == (
        "used by instance i-1",
    )
    assert evaluate(_image(used_by_templates=["web-lt"]), {}, DEFAULT, NOW).reasons == (
        "in launch template web-lt",
    )
    assert evaluate(_image(used_by_templates=None), {}, DEFAULT, NOW).unknown


def test_every_metric_of_the_new_types_is_named_as_cloudwatch_publishes_it() -> None:
    names = {
        kind: {(m.namespace, m.metric, m.stat) for m in specs} for kind, specs in METRICS.items()
    }
    assert names[ENDPOINT] == {("AWS/SageMaker", "Invocations", "Sum")}
    assert names[DOMAIN] == {
        ("AWS/ES", "SearchRate", "Maximum"),
        ("AWS/ES", "IndexingRate", "Maximum"),
    }
    assert names[REDSHIFT] == {("AWS/Redshift", "DatabaseConnections", "Maximum")}
    assert names[EMR] == {("AWS/ElasticMapReduce", "IsIdle", "Minimum")}
    assert names[TABLE] == {
        ("AWS/DynamoDB", "ConsumedReadCapacityUnits", "Sum"),
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits", "Sum"),
    }
    assert NOTEBOOK not in METRICS and SNAPSHOT not in METRICS and AMI not in METRICS
