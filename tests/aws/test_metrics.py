"""GetMetricData in as few calls as its limits allow: batch sizes, NextToken pages, failures.

Two kinds of test: a stand-in answering GetMetricData on a real boto3 client (botocore still
validates and builds every request; the stand-in answers at `before-call`, as Stubber does), to
count calls and page exactly; and moto with datapoints seeded by put_metric_data, end to end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from bot.aws.metrics import (
    MAX_DATAPOINTS_PER_CALL,
    MAX_QUERIES_PER_CALL,
    MetricsReader,
    calls_needed,
    period_for,
    queries_for,
    queries_per_call,
    window,
)
from bot.core import resources as rt
from bot.core.resources import Resource
from bot.registry.patrol import PATROL

REGION = "eu-west-1"
ACCOUNT = "123456789012"
NOW = datetime(2024, 3, 20, 12, 34, 56, tzinfo=UTC)
WEEK = timedelta(days=7)
QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def _instance(n: int, **fields: Any) -> Resource:
    return Resource(
        type=rt.EC2_INSTANCE, id=f"i-{n:017x}", region=REGION, account=ACCOUNT, **fields
    )


class GetMetricDataStandIn:
    """Answers GetMetricData from `series` (metric, dimension value) → values, `page_size`
    values a page, splitting one query's values across pages as CloudWatch may."""

    def __init__(
        self, series: dict[tuple[str, ...], list[float]] | None = None, page_size: int = 0
    ):
        self.series = series or {}
        self.page_size = page_size
        self.calls: list[dict[str, Any]] = []
        self.fail_calls: set[int] = set()  # call numbers (from 0) that raise
        self.forbidden: set[tuple[str, ...]] = set()
        self.client = boto3.client(
            "cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.client.meta.events.register("before-parameter-build", self._capture)
        self.client.meta.events.register("before-call", self._answer)

    def client_for(self, service: str, region: str) -> Any:
        assert (service, region) == ("cloudwatch", REGION)
        return self.client

    def _capture(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetMetricData":
            self.calls.append(params)

    def _answer(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = self.calls[-1]
        if len(self.calls) - 1 in self.fail_calls:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "x"}}, model.name)
        flat: list[tuple[str, float]] = []
        statuses: dict[str, str] = {}
        for query in params["MetricDataQueries"]:
            metric = query["MetricStat"]["Metric"]
            key = (metric["MetricName"], metric["Dimensions"][0]["Value"])
            # A series filed by more dimensions is keyed by all their values.
            full = (metric["MetricName"], *(d["Value"] for d in metric["Dimensions"]))
            forbidden = key in self.forbidden or full in self.forbidden
            statuses[query["Id"]] = "Forbidden" if forbidden else "Complete"
            values = self.series.get(full, self.series.get(key, []))
            flat.extend((query["Id"], value) for value in values)
        offset = int(params.get("NextToken", "0"))
        end = offset + self.page_size if self.page_size else len(flat)
        page = flat[offset:end]
        results: dict[str, list[float]] = {}
        if offset == 0:  # every id shows up, with nothing if it has nothing
            results = {query_id: [] for query_id in statuses}
        for query_id, value in page:
            results.setdefault(query_id, []).append(value)
        more = end < len(flat)
        response: dict[str, Any] = {
            "MetricDataResults": [
                {
                    "Id": query_id,
                    "Values": values,
                    "Timestamps": [NOW] * len(values),
                    "StatusCode": "PartialData" if more else statuses[query_id],
                }
                for query_id, values in results.items()
            ]
        }
        if more:
            response["NextToken"] = str(end)
        return AWSResponse("https://monitoring.invalid", 200, {}, None), response


# --- limits and the window --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lookback", "period", "points", "per_call"),
    [
        (timedelta(days=7), 3600, 168, 500),
        (timedelta(days=1), 3600, 24, 500),
        (timedelta(days=14), 3600, 336, 300),
        (timedelta(days=30), 3600, 720, 140),
        (timedelta(days=60), 3600, 1440, 70),
        (timedelta(days=90), 7200, 1080, 93),
        (timedelta(days=455), 28800, 1365, 73),
    ],
)
def test_period_and_queries_per_call_follow_the_limits(
    lookback: timedelta, period: int, points: int, per_call: int
) -> None:
    span = window(lookback, NOW)
    assert (period_for(lookback), span.points, span.queries_per_call) == (period, points, per_call)
    assert per_call == min(500, 100_800 // points)
    assert span.points * span.queries_per_call <= MAX_DATAPOINTS_PER_CALL


def test_the_window_ends_on_a_whole_period_and_spans_the_lookback() -> None:
    span = window(WEEK, NOW)
    assert span.end == datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
    assert span.start == span.end - WEEK
    assert span.period == 3600
    assert queries_per_call(100_801) == 1


# --- call counts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instances", "lookback", "batches"),
    [
        (400, WEEK, [500, 500, 200]),  # 1,200 queries, 500 a call
        (100, timedelta(days=30), [140, 140, 20]),  # 300 queries, 140 a call
        (10, WEEK, [30]),
        (0, WEEK, []),
    ],
)
def test_calls_are_the_queries_over_queries_per_call(
    instances: int, lookback: timedelta, batches: list[int]
) -> None:
    stand_in = GetMetricDataStandIn()
    fleet = [_instance(n, state="running") for n in range(instances)]

    observed = MetricsReader(stand_in.client_for, PATROL).observe(
        fleet, ACCOUNT, REGION, lookback, NOW
    )

    assert [len(call["MetricDataQueries"]) for call in stand_in.calls] == batches
    n_queries = queries_for(fleet, PATROL)
    assert n_queries == 3 * instances
    assert len(stand_in.calls) == math.ceil(n_queries / window(lookback, NOW).queries_per_call)
    assert len(stand_in.calls) == calls_needed(n_queries, lookback)
    span = window(lookback, NOW)
    for call in stand_in.calls:
        ids = [query["Id"] for query in call["MetricDataQueries"]]
        assert all(QUERY_ID.match(query_id) for query_id in ids)
        assert len(set(ids)) == len(ids) <= MAX_QUERIES_PER_CALL
        assert len(ids) * span.points <= MAX_DATAPOINTS_PER_CALL
        assert (call["StartTime"], call["EndTime"]) == (span.start, span.end)
        assert {q["MetricStat"]["Period"] for q in call["MetricDataQueries"]} == {span.period}
    # Every resource has all its aliases, empty when CloudWatch reported nothing.
    assert len(observed) == instances
    assert all(
        {alias: list(values) for alias, values in v.items()}
        == {"cpu": [], "network_in": [], "network_out": []}
        for v in observed.values()
    )


def test_next_token_pages_are_followed_and_one_querys_values_joined() -> None:
    cpu = [float(hour % 7) for hour in range(168)]
    stand_in = GetMetricDataStandIn(
        {
            ("CPUUtilization", _instance(1).id): cpu,
            ("NetworkIn", _instance(1).id): [100.0] * 168,
            ("CPUUtilization", _instance(2).id): [50.0] * 168,
        },
        page_size=100,
    )
    fleet = [_instance(1), _instance(2)]

    observed = MetricsReader(stand_in.client_for, PATROL).observe(fleet, ACCOUNT, REGION, WEEK, NOW)

    assert len(stand_in.calls) == 6  # one batch: 504 values at 100 a page
    tokens = [call.get("NextToken") for call in stand_in.calls]
    assert tokens == [None, "100", "200", "300", "400", "500"]
    first = observed[_instance(1).key]
    assert list(first["cpu"]) == cpu  # in order, across the page boundary
    assert list(first["network_in"]) == [100.0] * 168
    assert list(first["network_out"]) == []
    assert list(observed[_instance(2).key]["cpu"]) == [50.0] * 168


def test_the_queries_name_the_metric_dimension_and_stat() -> None:
    stand_in = GetMetricDataStandIn()
    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
    fleet = [
        Resource(
            rt.LOAD_BALANCER, arn, REGION, ACCOUNT, arn=arn, details={"lb_type": "application"}
        ),
        Resource(rt.RDS_INSTANCE, "orders", REGION, ACCOUNT),
        Resource(rt.EBS_VOLUME, "vol-1", REGION, ACCOUNT),  # no metrics: not asked
    ]

    observed = MetricsReader(stand_in.client_for, PATROL).observe(fleet, ACCOUNT, REGION, WEEK, NOW)

    stats = [q["MetricStat"] for q in stand_in.calls[0]["MetricDataQueries"]]
    assert [(s["Metric"]["Namespace"], s["Metric"]["MetricName"], s["Stat"]) for s in stats] == [
        ("AWS/ApplicationELB", "RequestCount", "Sum"),
        ("AWS/RDS", "DatabaseConnections", "Maximum"),
    ]
    assert stats[0]["Metric"]["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": "app/web/50dc6c495c0c9188"}
    ]
    assert set(observed) == {fleet[0].key, fleet[1].key}


# --- failures ---------------------------------------------------------------------------------


def test_a_failed_call_leaves_only_its_resources_unknown(caplog: pytest.LogCaptureFixture) -> None:
    stand_in = GetMetricDataStandIn()
    stand_in.fail_calls = {1}
    fleet = [_instance(n) for n in range(400)]  # 1,200 queries: calls of 500, 500, 200

    observed = MetricsReader(stand_in.client_for, PATROL).observe(fleet, ACCOUNT, REGION, WEEK, NOW)

    assert len(stand_in.calls) == 3
    # Queries 500..999 failed: instances 167..332 lost some or all of their aliases.
    assert set(observed[fleet[0].key]) == {"cpu", "network_in", "network_out"}
    assert fleet[200].key not in observed
    assert set(observed[fleet[166].key]) == {"cpu", "network_in"}  # q500 was its network_out
    assert set(observed[fleet[399].key]) == {"cpu", "network_in", "network_out"}
    assert "GetMetricData for 500 queries" in caplog.text


def test_a_forbidden_query_leaves_its_alias_out() -> None:
    stand_in = GetMetricDataStandIn({("CPUUtilization", _instance(1).id): [1.0]})
    stand_in.forbidden = {("NetworkOut", _instance(1).id)}

    observed = MetricsReader(stand_in.client_for, PATROL).observe(
        [_instance(1)], ACCOUNT, REGION, WEEK, NOW
    )

    assert _lists(observed[_instance(1).key]) == {"cpu": [1.0], "network_in": []}


def test_an_endpoint_repeating_its_next_token_gives_unknown_not_partial_sums() -> None:
    stand_in = GetMetricDataStandIn()

    def stuck(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        page = {"Id": "q0", "Values": [1.0], "Timestamps": [NOW], "StatusCode": "PartialData"}
        return AWSResponse("https://x.invalid", 200, {}, None), {
            "MetricDataResults": [page],
            "NextToken": "same",
        }

    stand_in.client.meta.events.unregister("before-call", stand_in._answer)
    stand_in.client.meta.events.register("before-call", stuck)

    observed = MetricsReader(stand_in.client_for, PATROL).observe(
        [_instance(1)], ACCOUNT, REGION, WEEK, NOW
    )

    assert [call.get("NextToken") for call in stand_in.calls] == [None, "same"]
    assert observed == {}  # no partial sums passed off as small ones


def test_resources_of_another_account_or_region_are_refused() -> None:
    stand_in = GetMetricDataStandIn()
    other = Resource(rt.EC2_INSTANCE, "i-1", "us-east-1", ACCOUNT)
    with pytest.raises(ValueError, match="us-east-1"):
        MetricsReader(stand_in.client_for, PATROL).observe([other], ACCOUNT, REGION, WEEK, NOW)


# --- moto, end to end -------------------------------------------------------------------------


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def _put(cw: Any, namespace: str, metric: str, dimension: str, value: str, points: list) -> None:
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dimension, "Value": value}],
                "Timestamp": when,
                "Value": amount,
            }
            for when, amount in points
        ],
    )


def test_moto_fleet_of_hundreds_in_the_fewest_calls(cloudwatch: Any) -> None:
    now = datetime.now(UTC)
    hour = window(WEEK, now).end - timedelta(minutes=30)  # inside the last whole hour
    fleet = [_instance(n) for n in range(300)]
    busy, quiet = fleet[0], fleet[1]
    _put(cloudwatch, "AWS/EC2", "CPUUtilization", "InstanceId", busy.id,
         [(hour - timedelta(hours=h), 40.0 + h) for h in range(3)])  # fmt: skip
    _put(cloudwatch, "AWS/EC2", "NetworkIn", "InstanceId", busy.id,
         [(hour, 1000.0), (hour, 500.0)])  # fmt: skip
    _put(cloudwatch, "AWS/EC2", "CPUUtilization", "InstanceId", quiet.id, [(hour, 0.4)])
    nat = Resource(rt.NAT_GATEWAY, "nat-0abc", REGION, ACCOUNT)
    _put(cloudwatch, "AWS/NATGateway", "BytesOutToDestination", "NatGatewayId", nat.id,
         [(hour, 2048.0)])  # fmt: skip
    calls: list[int] = []
    cloudwatch.meta.events.register(
        "before-parameter-build",
        lambda params, model, **_: (
            calls.append(len(params["MetricDataQueries"]))
            if model.name == "GetMetricData"
            else None
        ),
    )

    observed = MetricsReader(lambda service, region: cloudwatch, PATROL).observe(
        [*fleet, nat], ACCOUNT, REGION, WEEK, now
    )

    assert calls == [500, 402]  # ⌈(300·3 + 2) / 500⌉ = 2 calls
    assert list(observed[busy.key]["cpu"]) == [42.0, 41.0, 40.0]  # oldest first
    assert list(observed[busy.key]["network_in"]) == [1500.0]  # summed within the hour
    assert list(observed[busy.key]["network_out"]) == []
    assert list(observed[quiet.key]["cpu"]) == [0.4]
    assert _lists(observed[nat.key]) == {"bytes_out": [2048.0], "bytes_in": []}
    assert _lists(observed[fleet[299].key]) == {"cpu": [], "network_in": [], "network_out": []}


def _lists(observed: dict) -> dict:
    """An observation with its arrays as lists, to compare with literal values."""
    return {alias: list(values) for alias, values in observed.items()}


# --- metrics filed by more than one dimension -------------------------------------------------


def _cache(name: str, nodes: list[str]) -> Resource:
    details = {"family": "redis", "node_ids": nodes}
    return Resource("AWS::ElastiCache::CacheCluster", name, REGION, ACCOUNT, details=details)


def test_a_metric_filed_per_node_is_read_per_node_and_summed_under_its_alias() -> None:
    stand_in = GetMetricDataStandIn(
        {
            ("GetTypeCmds", "sessions", "0001"): [1.0, 2.0],
            ("GetTypeCmds", "sessions", "0002"): [3.0],
        }
    )
    cache = _cache("sessions", ["0001", "0002"])

    observed = MetricsReader(stand_in.client_for, PATROL).observe(
        [cache], ACCOUNT, REGION, WEEK, NOW
    )

    dimensions = [
        q["MetricStat"]["Metric"]["Dimensions"] for q in stand_in.calls[0]["MetricDataQueries"]
    ]
    assert dimensions[:2] == [
        [{"Name": "CacheClusterId", "Value": "sessions"}, {"Name": "CacheNodeId", "Value": "0001"}],
        [{"Name": "CacheClusterId", "Value": "sessions"}, {"Name": "CacheNodeId", "Value": "0002"}],
    ]
    assert len(dimensions) == 4 == queries_for([cache], PATROL)  # 2 metrics × 2 nodes
    assert sorted(observed[cache.key]["get_type"]) == [1.0, 2.0, 3.0]
    assert list(observed[cache.key]["set_type"]) == []


def test_one_unanswered_series_leaves_the_whole_alias_unread() -> None:
    stand_in = GetMetricDataStandIn({("GetTypeCmds", "sessions", "0001"): [0.0]})
    stand_in.forbidden = {("GetTypeCmds", "sessions", "0002")}
    cache = _cache("sessions", ["0001", "0002"])

    observed = MetricsReader(stand_in.client_for, PATROL).observe(
        [cache], ACCOUNT, REGION, WEEK, NOW
    )

    # A sum over one node of two would pass for a quiet cluster: the alias stays out.
    assert set(observed[cache.key]) == {"set_type"}


def test_an_endpoint_is_read_for_each_variant() -> None:
    endpoint = Resource(
        "AWS::SageMaker::Endpoint",
        "scoring",
        REGION,
        ACCOUNT,
        details={"variants": [{"name": "AllTraffic"}, {"name": "Canary"}]},
    )
    stand_in = GetMetricDataStandIn({("Invocations", "scoring", "Canary"): [4.0]})

    observed = MetricsReader(stand_in.client_for, PATROL).observe(
        [endpoint], ACCOUNT, REGION, WEEK, NOW
    )

    assert list(observed[endpoint.key]["invocations"]) == [4.0]
    assert len(stand_in.calls[0]["MetricDataQueries"]) == 2
