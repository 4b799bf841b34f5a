"""Idle rules on values: each type, the young-resource guard, missing metrics, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.idle import size_in_bytes
from bot.core.policy import Thresholds
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
from bot.registry.patrol import (
    METRICS,
    PATROLLED_TYPES,
    dimension_value,
    evaluate,
    metrics_for,
)

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=90)
DEFAULT = Thresholds()
ALB_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
)
NLB_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/tcp/73e2d6bc24d8a067"
)


def _resource(kind: str, id: str = "x-1", **fields: object) -> Resource:
    fields.setdefault("created_at", OLD)
    return Resource(type=kind, id=id, region="eu-west-1", account="123456789012", **fields)


def _instance(**fields: object) -> Resource:
    fields.setdefault("state", "running")
    fields.setdefault("state_since", OLD)
    return _resource(EC2_INSTANCE, "i-0abc", **fields)


def _quiet_ec2(cpu: list[float] | None = None, net: float = 0.0) -> dict[str, list[float]]:
    return {"cpu": cpu if cpu is not None else [0.4, 0.2], "network_in": [net], "network_out": []}


# --- EC2 running ------------------------------------------------------------------------------


def test_running_instance_with_low_cpu_and_network_is_idle_with_numbers() -> None:
    verdict = evaluate(_instance(), _quiet_ec2(net=12 * 1024), DEFAULT, NOW)
    assert verdict.idle
    assert not verdict.unknown
    assert verdict.reasons == ("max CPU 0.4 % over 7 days", "12 KB network in 7 days")
    assert verdict.series == (0.4, 0.2)
    assert verdict.idle_since == NOW - timedelta(days=7)


@pytest.mark.parametrize(
    ("observations", "reason"),
    [
        (_quiet_ec2(cpu=[0.5, 35.0, 1.0]), "max CPU 35.0 % over 7 days"),
        (_quiet_ec2(net=6 * 1024 * 1024), "6.0 MB network in 7 days"),
        (_quiet_ec2(cpu=[2.01]), "max CPU 2.0 % over 7 days"),
    ],
)
def test_cpu_or_network_above_its_threshold_keeps_it_busy(
    observations: dict[str, list[float]], reason: str
) -> None:
    verdict = evaluate(_instance(), observations, DEFAULT, NOW)
    assert not verdict.idle
    assert not verdict.unknown
    assert reason in verdict.reasons


def test_thresholds_are_inclusive_and_configurable() -> None:
    thresholds = Thresholds(max_cpu_percent=40, max_network_bytes=10 * 1024 * 1024)
    busy_by_default = _quiet_ec2(cpu=[35.0], net=6 * 1024 * 1024)
    assert evaluate(_instance(), busy_by_default, thresholds, NOW).idle
    at_limit = _quiet_ec2(cpu=[2.0], net=5 * 1024 * 1024)
    assert evaluate(_instance(), at_limit, DEFAULT, NOW).idle


def test_network_in_and_out_are_added_up() -> None:
    observations = {"cpu": [0.1], "network_in": [3 * 1024 * 1024], "network_out": [3 * 1024 * 1024]}
    verdict = evaluate(_instance(), observations, DEFAULT, NOW)
    assert not verdict.idle
    assert "6.0 MB network in 7 days" in verdict.reasons


def test_metrics_cloudwatch_did_not_report_count_as_zero_for_an_old_instance() -> None:
    verdict = evaluate(_instance(), {"cpu": [], "network_in": [], "network_out": []}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("max CPU 0.0 % over 7 days", "0 B network in 7 days")
    assert verdict.series == ()


def test_an_instance_created_yesterday_is_not_idle_for_a_week() -> None:
    young = _instance(created_at=NOW - timedelta(days=1), state_since=NOW - timedelta(days=1))
    verdict = evaluate(young, {"cpu": [], "network_in": [], "network_out": []}, DEFAULT, NOW)
    assert not verdict.idle
    assert verdict.unknown
    assert verdict.reasons == ("created 1 day ago; judged after 7 days",)


def test_an_instance_started_again_hours_ago_is_judged_later() -> None:
    restarted = _instance(state_since=NOW - timedelta(hours=5))
    verdict = evaluate(restarted, _quiet_ec2(), DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)
    assert verdict.reasons == ("started 5 hours ago; judged after 7 days",)


def test_a_longer_lookback_needs_an_older_resource() -> None:
    resource = _instance(created_at=NOW - timedelta(days=20))
    verdict = evaluate(resource, _quiet_ec2(), Thresholds(lookback_days=30), NOW)
    assert verdict.unknown
    assert verdict.reasons == ("created 20 days ago; judged after 30 days",)
    assert evaluate(resource, _quiet_ec2(), Thresholds(lookback_days=14), NOW).idle


def test_a_metric_that_was_not_read_makes_the_verdict_unknown() -> None:
    verdict = evaluate(_instance(), {"cpu": [0.1]}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)
    assert verdict.reasons == ("metrics not read: network_in, network_out",)
    assert evaluate(_instance(), {}, DEFAULT, NOW).unknown


def test_no_data_and_no_creation_time_is_unknown_not_idle() -> None:
    resource = _instance(created_at=None)
    verdict = evaluate(resource, {"cpu": [], "network_in": [], "network_out": []}, DEFAULT, NOW)
    assert verdict.unknown
    assert not verdict.idle
    # With data, the missing creation time does not stop a judgement.
    assert evaluate(resource, _quiet_ec2(), DEFAULT, NOW).idle


@pytest.mark.parametrize("state", ["pending", "stopping", "shutting-down", None])
def test_instances_in_passing_states_are_not_idle(state: str | None) -> None:
    verdict = evaluate(_instance(state=state), _quiet_ec2(), DEFAULT, NOW)
    assert not verdict.idle


# --- EC2 stopped ------------------------------------------------------------------------------


def test_instance_stopped_longer_than_the_threshold_is_idle_and_its_volumes_are_named() -> None:
    volumes = [{"id": "vol-1", "gib": 8, "type": "gp3"}, {"id": "vol-2", "gib": 100, "type": "gp2"}]
    stopped = _instance(
        state="stopped",
        state_since=NOW - timedelta(days=23, hours=3),
        details={"attached_volumes": volumes},
    )
    verdict = evaluate(stopped, {}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("stopped for 23 days", "2 volumes (108 GiB) still cost")
    assert verdict.idle_since == NOW - timedelta(days=23, hours=3)


def test_instance_stopped_recently_is_not_idle() -> None:
    stopped = _instance(state="stopped", state_since=NOW - timedelta(days=3))
    verdict = evaluate(stopped, {}, DEFAULT, NOW)
    assert not verdict.idle
    assert not verdict.unknown
    assert verdict.reasons == ("stopped for 3 days",)
    assert evaluate(stopped, {}, Thresholds(stopped_days=2), NOW).idle


def test_stopped_without_a_stop_time_is_unknown() -> None:
    stopped = _instance(state="stopped", state_since=None)
    verdict = evaluate(stopped, {}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)


# --- EBS, EIP ---------------------------------------------------------------------------------


def test_unattached_volume_is_idle_with_size_and_type() -> None:
    volume = _resource(EBS_VOLUME, "vol-1", state="available", size="100 GiB gp3")
    verdict = evaluate(volume, {}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("unattached, 100 GiB gp3",)


def test_attached_or_new_volumes_are_not_idle() -> None:
    attached = _resource(EBS_VOLUME, "vol-1", state="in-use", size="8 GiB gp3")
    assert not evaluate(attached, {}, DEFAULT, NOW).idle
    new = _resource(
        EBS_VOLUME, "vol-2", state="available", size="8 GiB gp3", created_at=NOW - timedelta(days=2)
    )
    verdict = evaluate(new, {}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)
    assert verdict.reasons == ("unattached, 8 GiB gp3", "created 2 days ago; judged after 7 days")


def test_unassociated_elastic_ip_is_idle_and_an_associated_one_is_not() -> None:
    free = _resource(
        ELASTIC_IP, "eipalloc-1", state="unassociated", created_at=None,
        details={"public_ip": "203.0.113.7"},
    )  # fmt: skip
    assert evaluate(free, {}, DEFAULT, NOW).reasons == ("unassociated, 203.0.113.7",)
    assert evaluate(free, {}, DEFAULT, NOW).idle
    used = _resource(ELASTIC_IP, "eipalloc-2", state="associated", details={"instance_id": "i-9"})
    verdict = evaluate(used, {}, DEFAULT, NOW)
    assert not verdict.idle
    assert verdict.reasons == ("associated with i-9",)


# --- NAT, load balancers, RDS, EKS ------------------------------------------------------------


def test_nat_gateway_without_traffic_is_idle_even_when_cloudwatch_reported_nothing() -> None:
    nat = _resource(NAT_GATEWAY, "nat-1", state="available")
    verdict = evaluate(nat, {"bytes_out": [], "bytes_in": []}, DEFAULT, NOW)
    assert verdict.idle
    assert verdict.reasons == ("0 B through the gateway in 7 days",)
    busy = evaluate(nat, {"bytes_out": [2 * 1024 * 1024], "bytes_in": [0]}, DEFAULT, NOW)
    assert not busy.idle
    assert busy.reasons == ("2.0 MB through the gateway in 7 days",)


def test_young_nat_gateway_reporting_nothing_is_unknown() -> None:
    nat = _resource(NAT_GATEWAY, "nat-1", state="available", created_at=NOW - timedelta(hours=30))
    verdict = evaluate(nat, {"bytes_out": [], "bytes_in": []}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)
    assert verdict.reasons == ("created 1 day ago; judged after 7 days",)


@pytest.mark.parametrize(
    ("kind", "arn", "observations", "idle", "reason"),
    [
        ("application", ALB_ARN, {"requests": []}, True, "0 requests in 7 days"),
        ("application", ALB_ARN, {"requests": [1.0]}, False, "1 request in 7 days"),
        ("network", NLB_ARN, {"new_flows": [0.0]}, True, "0 new flows in 7 days"),
        ("network", NLB_ARN, {"new_flows": [3.0, 4.0]}, False, "7 new flows in 7 days"),
    ],
)
def test_load_balancers_with_no_requests_or_flows_are_idle(
    kind: str, arn: str, observations: dict, idle: bool, reason: str
) -> None:
    lb = _resource(LOAD_BALANCER, arn, arn=arn, state="active", details={"lb_type": kind})
    verdict = evaluate(lb, observations, DEFAULT, NOW)
    assert verdict.idle is idle
    assert verdict.reasons == (reason,)


def test_classic_load_balancer_uses_request_count() -> None:
    lb = _resource(CLASSIC_LOAD_BALANCER, "old-web", details={"lb_type": "classic"})
    assert evaluate(lb, {"requests": []}, DEFAULT, NOW).idle
    assert not evaluate(lb, {"requests": [12.0]}, DEFAULT, NOW).idle
    assert evaluate(lb, {"requests": [12.0]}, Thresholds(max_lb_requests=20), NOW).idle


def test_gateway_load_balancers_have_no_rule() -> None:
    lb = _resource(LOAD_BALANCER, "arn:x", details={"lb_type": "gateway"}, state="active")
    verdict = evaluate(lb, {}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)


def test_rds_without_connections_is_idle() -> None:
    db = _resource(RDS_INSTANCE, "orders-db", state="available")
    assert evaluate(db, {"connections": [0.0, 0.0]}, DEFAULT, NOW).reasons == (
        "at most 0 connections over 7 days",
    )
    assert evaluate(db, {"connections": []}, DEFAULT, NOW).idle
    busy = evaluate(db, {"connections": [0.0, 3.0]}, DEFAULT, NOW)
    assert not busy.idle
    assert busy.reasons == ("at most 3 connections over 7 days",)
    stopped = _resource(RDS_INSTANCE, "orders-db", state="stopped")
    assert not evaluate(stopped, {"connections": []}, DEFAULT, NOW).idle


def test_eks_cluster_without_nodes_is_idle() -> None:
    empty = _resource(EKS_CLUSTER, "sandbox", state="active", details={"node_count": 0})
    assert evaluate(empty, {}, DEFAULT, NOW).idle
    busy = _resource(EKS_CLUSTER, "sandbox", state="active", details={"node_count": 3})
    assert evaluate(busy, {}, DEFAULT, NOW).reasons == ("3 nodes",)
    assert not evaluate(busy, {}, DEFAULT, NOW).idle
    unknown = _resource(EKS_CLUSTER, "sandbox", state="active")
    assert evaluate(unknown, {}, DEFAULT, NOW).unknown
    young = _resource(
        EKS_CLUSTER, "new", details={"node_count": 0}, created_at=NOW - timedelta(hours=2)
    )
    verdict = evaluate(young, {}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)


# --- the metric table -------------------------------------------------------------------------


def test_metric_table_names_what_cloudwatch_publishes() -> None:
    ec2 = {(m.alias, m.namespace, m.metric, m.dimension, m.stat) for m in METRICS[EC2_INSTANCE]}
    assert ec2 == {
        ("cpu", "AWS/EC2", "CPUUtilization", "InstanceId", "Maximum"),
        ("network_in", "AWS/EC2", "NetworkIn", "InstanceId", "Sum"),
        ("network_out", "AWS/EC2", "NetworkOut", "InstanceId", "Sum"),
    }
    assert {m.metric for m in METRICS[NAT_GATEWAY]} == {
        "BytesOutToDestination",
        "BytesInFromSource",
    }
    rds = METRICS[RDS_INSTANCE][0]
    assert (rds.metric, rds.dimension, rds.stat) == (
        "DatabaseConnections", "DBInstanceIdentifier", "Maximum",
    )  # fmt: skip
    for kind in METRICS:
        assert kind in PATROLLED_TYPES
        aliases = [m.alias for m in METRICS[kind]]
        assert len(aliases) == len(set(aliases))


def test_v2_load_balancer_metrics_follow_its_kind() -> None:
    alb = _resource(LOAD_BALANCER, ALB_ARN, arn=ALB_ARN, details={"lb_type": "application"})
    nlb = _resource(LOAD_BALANCER, NLB_ARN, arn=NLB_ARN, details={"lb_type": "network"})
    assert [(m.namespace, m.metric) for m in metrics_for(alb)] == [
        ("AWS/ApplicationELB", "RequestCount")
    ]
    assert [(m.namespace, m.metric) for m in metrics_for(nlb)] == [
        ("AWS/NetworkELB", "NewFlowCount")
    ]
    assert metrics_for(_resource(EBS_VOLUME, "vol-1")) == ()


def test_dimension_values() -> None:
    alb = _resource(LOAD_BALANCER, ALB_ARN, arn=ALB_ARN, details={"lb_type": "application"})
    assert dimension_value(alb) == "app/web/50dc6c495c0c9188"
    nlb = _resource(LOAD_BALANCER, NLB_ARN, details={"lb_type": "network"})  # id is the ARN
    assert dimension_value(nlb) == "net/tcp/73e2d6bc24d8a067"
    assert dimension_value(_resource(CLASSIC_LOAD_BALANCER, "old-web")) == "old-web"
    assert dimension_value(_resource(RDS_INSTANCE, "orders-db")) == "orders-db"
    assert dimension_value(_instance()) == "i-0abc"
    assert dimension_value(_resource(NAT_GATEWAY, "nat-1")) == "nat-1"
    assert dimension_value(_resource(EBS_VOLUME, "vol-1")) is None
    assert dimension_value(_resource(LOAD_BALANCER, "not-an-arn")) is None


def test_unknown_types_are_never_idle() -> None:
    verdict = evaluate(_resource("AWS::S3::Bucket", "b"), {}, DEFAULT, NOW)
    assert (verdict.idle, verdict.unknown) == (False, True)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0 B"), (900, "900 B"), (1536, "1.5 KB"), (12 * 1024, "12 KB"), (5 * 1024**3, "5.0 GB")],
)
def test_sizes_read_as_people_read_them(value: float, text: str) -> None:
    assert size_in_bytes(value) == text
