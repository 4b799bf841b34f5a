"""The GetMetricData stand-in behaves like the real API, through a real boto3 client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.model
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bot.sandbox.metrics_api import MAX_DATAPOINTS, MetricsServer

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
DAY_START = NOW - timedelta(days=1)
CPU = "CPUUtilization"
INSTANCE = "i-0123456789abcdef0"


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    with MetricsServer() as running:
        yield running


def client(server: MetricsServer, region: str = "us-east-1") -> Any:
    return boto3.client(
        "cloudwatch",
        region_name=region,
        endpoint_url=server.endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def query(
    query_id: str, instance: str = INSTANCE, stat: str = "Maximum", period: int = 3600, **extra: Any
) -> dict[str, Any]:
    metric = {
        "Namespace": "AWS/EC2",
        "MetricName": CPU,
        "Dimensions": [{"Name": "InstanceId", "Value": instance}],
    }
    return {
        "Id": query_id,
        "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
        **extra,
    }


def put_day(server: MetricsServer, instance: str = INSTANCE, region: str = "us-east-1") -> None:
    """One day of 5-minute points; in hour h the values are h*100 + 0..11."""
    times = [DAY_START + timedelta(minutes=5 * n) for n in range(288)]
    values = [float((n // 12) * 100 + n % 12) for n in range(288)]
    server.put("AWS/EC2", CPU, {"InstanceId": instance}, times, values, region=region)


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_each_statistic_over_hourly_periods_newest_first(server: MetricsServer) -> None:
    put_day(server)
    stats = ("Maximum", "Minimum", "Sum", "Average", "SampleCount", "p50")
    queries = [query(f"q{n}", stat=stat) for n, stat in enumerate(stats)]

    answer = client(server).get_metric_data(
        MetricDataQueries=queries, StartTime=DAY_START, EndTime=NOW
    )

    results = {result["Id"]: result for result in answer["MetricDataResults"]}
    assert "NextToken" not in answer and len(results) == len(stats)
    last_hour = {stats[int(key[1:])]: result["Values"][0] for key, result in results.items()}
    assert last_hour == {
        "Maximum": 2311.0,
        "Minimum": 2300.0,
        "Sum": sum(2300.0 + n for n in range(12)),
        "Average": 2305.5,
        "SampleCount": 12.0,
        "p50": 2305.0,
    }
    maximum = results["q0"]
    assert maximum["Timestamps"][0] == NOW - timedelta(hours=1)
    assert maximum["Timestamps"] == sorted(maximum["Timestamps"], reverse=True)
    assert len(maximum["Timestamps"]) == 24 and maximum["StatusCode"] == "Complete"
    assert maximum["Label"] == CPU


def test_scan_ascending_labels_and_queries_that_return_no_data(server: MetricsServer) -> None:
    put_day(server)
    queries = [
        query("shown", Label="cpu of web-1"),
        query("hidden", ReturnData=False),
    ]

    answer = client(server).get_metric_data(
        MetricDataQueries=queries,
        StartTime=DAY_START,
        EndTime=NOW,
        ScanBy="TimestampAscending",
    )

    (result,) = answer["MetricDataResults"]
    assert result["Id"] == "shown" and result["Label"] == "cpu of web-1"
    assert result["Timestamps"][0] == DAY_START
    assert result["Values"] == [float(hour * 100 + 11) for hour in range(24)]


def test_a_metric_without_data_answers_empty_arrays(server: MetricsServer) -> None:
    put_day(server)
    two_dimensions = query("both")
    two_dimensions["MetricStat"]["Metric"]["Dimensions"].append(
        {"Name": "AutoScalingGroupName", "Value": "web"}
    )

    answer = client(server).get_metric_data(
        MetricDataQueries=[query("unknown", instance="i-0fffffffffffffff0"), two_dimensions],
        StartTime=DAY_START,
        EndTime=NOW,
    )

    for result in answer["MetricDataResults"]:
        assert result["Timestamps"] == [] and result["Values"] == []
        assert result["StatusCode"] == "Complete"


def test_at_most_500_queries_a_call(server: MetricsServer) -> None:
    cloudwatch = client(server)
    at_limit = [query(f"q{n}", instance=f"i-{n:017x}") for n in range(500)]

    answer = cloudwatch.get_metric_data(
        MetricDataQueries=at_limit, StartTime=DAY_START, EndTime=NOW
    )
    with pytest.raises(ClientError) as error:
        cloudwatch.get_metric_data(
            MetricDataQueries=[*at_limit, query("q500")], StartTime=DAY_START, EndTime=NOW
        )

    assert len(answer["MetricDataResults"]) == 500
    assert code_of(error) == "ValidationError"
    assert "500" in error.value.response["Error"]["Message"]
    assert server.calls("us-east-1") == 2


def test_next_token_pages_past_100800_datapoints(server: MetricsServer) -> None:
    # 101 queries of 1,000 minutes each: 101,000 points, 200 more than one response holds.
    start = NOW - timedelta(minutes=1000)
    times = [start + timedelta(minutes=n) for n in range(1000)]
    for n in range(101):
        server.put("AWS/EC2", CPU, {"InstanceId": f"i-{n:017x}"}, times, [float(n)] * 1000)
    queries = [query(f"q{n}", instance=f"i-{n:017x}", period=60) for n in range(101)]
    cloudwatch = client(server)
    request = {"MetricDataQueries": queries, "StartTime": start, "EndTime": NOW}

    first = cloudwatch.get_metric_data(**request)
    second = cloudwatch.get_metric_data(**request, NextToken=first["NextToken"])

    cut = first["MetricDataResults"][-1]
    assert sum(len(r["Values"]) for r in first["MetricDataResults"]) == MAX_DATAPOINTS
    assert len(first["MetricDataResults"]) == 101
    assert {r["StatusCode"] for r in first["MetricDataResults"][:-1]} == {"Complete"}
    assert cut["Id"] == "q100" and cut["StatusCode"] == "PartialData" and len(cut["Values"]) == 800
    (rest,) = second["MetricDataResults"]
    assert "NextToken" not in second
    assert rest["Id"] == "q100" and rest["StatusCode"] == "Complete"
    joined = cut["Timestamps"] + rest["Timestamps"]
    assert joined == [NOW - timedelta(minutes=n) for n in range(1, 1001)]

    with pytest.raises(ClientError) as foreign:
        cloudwatch.get_metric_data(
            MetricDataQueries=queries[:5],
            StartTime=start,
            EndTime=NOW,
            NextToken=first["NextToken"],
        )
    assert code_of(foreign) == "InvalidNextToken"


def test_max_datapoints_makes_smaller_pages(server: MetricsServer) -> None:
    put_day(server)
    cloudwatch = client(server)
    request = {
        "MetricDataQueries": [query("q0")],
        "StartTime": DAY_START,
        "EndTime": NOW,
        "MaxDatapoints": 10,
    }
    pages = []
    while True:
        pages.append(cloudwatch.get_metric_data(**request))
        if "NextToken" not in pages[-1]:
            break
        request["NextToken"] = pages[-1]["NextToken"]

    assert [len(page["MetricDataResults"][0]["Values"]) for page in pages] == [10, 10, 4]
    assert [page["MetricDataResults"][0]["StatusCode"] for page in pages] == [
        "PartialData",
        "PartialData",
        "Complete",
    ]


def test_region_from_the_credential_scope(server: MetricsServer) -> None:
    put_day(server, region="eu-west-1")

    def values(region: str) -> list[float]:
        answer = client(server, region).get_metric_data(
            MetricDataQueries=[query("q0")], StartTime=DAY_START, EndTime=NOW
        )
        return answer["MetricDataResults"][0]["Values"]

    assert len(values("eu-west-1")) == 24
    assert values("us-east-1") == []
    assert server.call_counts() == {
        "eu-west-1": {"monitoring:GetMetricData": 1},
        "us-east-1": {"monitoring:GetMetricData": 1},
    }


def test_invalid_queries_are_rejected(server: MetricsServer) -> None:
    cloudwatch = client(server)
    window = {"StartTime": DAY_START, "EndTime": NOW}

    def rejected(queries: list[dict[str, Any]], **params: Any) -> str:
        with pytest.raises(ClientError) as error:
            cloudwatch.get_metric_data(MetricDataQueries=queries, **{**window, **params})
        return code_of(error)

    assert rejected([query("q0"), query("q0")]) == "ValidationError"  # repeated Id
    assert rejected([query("Q0")]) == "ValidationError"  # Ids start lowercase
    assert rejected([query("q0", stat="Median")]) == "ValidationError"
    assert rejected([query("q0", period=90)]) == "ValidationError"
    assert rejected([query("q0")], StartTime=NOW, EndTime=DAY_START) == "ValidationError"


def test_get_metric_statistics_one_metric_per_call(server: MetricsServer) -> None:
    put_day(server)
    server.put("AWS/EBS", "VolumeReadOps", {"VolumeId": "vol-1"}, [NOW], [3.0], unit="Count")
    cloudwatch = client(server)
    dimensions = [{"Name": "InstanceId", "Value": INSTANCE}]

    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/EC2",
        MetricName=CPU,
        Dimensions=dimensions,
        StartTime=DAY_START,
        EndTime=NOW,
        Period=3600,
        Statistics=["Maximum", "Average"],
    )
    counted = cloudwatch.get_metric_statistics(
        Namespace="AWS/EBS",
        MetricName="VolumeReadOps",
        Dimensions=[{"Name": "VolumeId", "Value": "vol-1"}],
        StartTime=NOW - timedelta(hours=1),
        EndTime=NOW + timedelta(hours=1),
        Period=3600,
        ExtendedStatistics=["p90"],
    )

    assert answer["Label"] == CPU and len(answer["Datapoints"]) == 24
    first = answer["Datapoints"][0]
    assert first["Timestamp"] == DAY_START
    assert (first["Maximum"], first["Average"], first["Unit"]) == (11.0, 5.5, "None")
    assert counted["Datapoints"] == [
        {"Timestamp": NOW, "ExtendedStatistics": {"p90": 3.0}, "Unit": "Count"}
    ]
    assert server.calls(operation="GetMetricStatistics") == 2


def test_get_metric_statistics_limits(server: MetricsServer) -> None:
    cloudwatch = client(server)
    metric = {"Namespace": "AWS/EC2", "MetricName": CPU, "EndTime": NOW}

    with pytest.raises(ClientError) as too_many:
        cloudwatch.get_metric_statistics(
            **metric, StartTime=NOW - timedelta(days=2), Period=60, Statistics=["Maximum"]
        )
    with pytest.raises(ClientError) as neither:
        cloudwatch.get_metric_statistics(**metric, StartTime=DAY_START, Period=3600)

    assert code_of(too_many) == "InvalidParameterCombination"
    assert "1440" in too_many.value.response["Error"]["Message"].replace(",", "")
    assert code_of(neither) == "InvalidParameterCombination"


def test_a_botocore_that_speaks_cbor_is_answered_in_cbor(
    server: MetricsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # boto3 1.44 resolves CloudWatch to JSON 1.0; put CBOR first, as a future botocore may.
    monkeypatch.setattr(
        botocore.model,
        "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS",
        ("smithy-rpc-v2-cbor", *botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS),
    )
    put_day(server)
    cloudwatch = client(server)
    assert cloudwatch.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"

    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[query("q0")], StartTime=DAY_START, EndTime=NOW
    )
    statistics = cloudwatch.get_metric_statistics(
        Namespace="AWS/EC2",
        MetricName=CPU,
        Dimensions=[{"Name": "InstanceId", "Value": INSTANCE}],
        StartTime=DAY_START,
        EndTime=NOW,
        Period=3600,
        Statistics=["Sum"],
    )
    with pytest.raises(ClientError) as error:
        cloudwatch.get_metric_data(
            MetricDataQueries=[query(f"q{n}") for n in range(501)],
            StartTime=DAY_START,
            EndTime=NOW,
        )

    (result,) = answer["MetricDataResults"]
    assert result["Timestamps"][0] == NOW - timedelta(hours=1)
    assert result["Values"][0] == 2311.0
    assert statistics["Datapoints"][0]["Timestamp"] == DAY_START
    assert code_of(error) == "ValidationError"
