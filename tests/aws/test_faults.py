"""A dependency that fails in a round is asked no more in that round, and the round says so.

The Pricing API and EC2 answer HTTP 500 from a loopback endpoint (botocore's own retries run, with
the clients' real configuration); CloudWatch is the GetMetricData stand-in, denying mid-round.
Call counts, not wall time: what a failing dependency costs is the calls made to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from bot.aws.faults import RoundFaults
from bot.aws.inventory import Inventory
from bot.aws.metrics import MetricsReader
from bot.aws.pricing import PriceBook
from bot.core.resources import EC2_INSTANCE, NAT_GATEWAY, Resource
from bot.registry.patrol import PATROL
from bot.sandbox.failing_api import FailingServer
from bot.sandbox.metrics_api import MetricsServer
from bot.wiring import AWS_CLIENT_CONFIG, AwsClients

REGION = "us-east-1"
ACCOUNT = "123456789012"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def pricing_down() -> Iterator[FailingServer]:
    with FailingServer(service="pricing") as server:
        yield server


def instance(n: int) -> Resource:
    return Resource(
        EC2_INSTANCE,
        f"i-{n:017x}",
        REGION,
        ACCOUNT,
        state="running",
        size="m5.large",
        created_at=NOW - timedelta(days=30),
        details={"platform": "Linux/UNIX", "tenancy": "default"},
    )


def test_a_failing_pricing_api_is_asked_once_a_round(pricing_down: FailingServer) -> None:
    clients = AwsClients(boto3.Session(region_name=REGION), {"pricing": pricing_down.endpoint_url})
    prices = PriceBook(clients, PATROL)
    faults = RoundFaults()

    costs = [prices.monthly_cost(instance(n), faults=faults) for n in range(30)]

    # One GetProducts and its one retry (the Pricing client retries less), then never again.
    assert pricing_down.requests("GetProducts") == 2
    assert all(cost.monthly_usd is None for cost in costs)
    assert all(cost.note and cost.note.startswith("no price: the Pricing API") for cost in costs)
    [note] = faults.notes()
    assert note == (
        "no price: the Pricing API failed (HTTP 500 InternalFailure); not asked again this "
        "round (29 more not asked)"
    )

    # Without the round's faults every resource pays the failure again: what the round saves.
    pricing_down.reset_counts()
    for n in range(5):
        prices.monthly_cost(instance(100 + n))
    assert pricing_down.requests("GetProducts") == 10


def test_a_new_round_asks_the_pricing_api_again(pricing_down: FailingServer) -> None:
    clients = AwsClients(boto3.Session(region_name=REGION), {"pricing": pricing_down.endpoint_url})
    prices = PriceBook(clients, PATROL)
    prices.monthly_cost(instance(1), faults=RoundFaults())
    prices.monthly_cost(instance(2), faults=RoundFaults())
    assert pricing_down.requests("GetProducts") == 4


def nat_gateway(n: int) -> Resource:
    return Resource(NAT_GATEWAY, f"nat-{n:017x}", REGION, ACCOUNT, created_at=NOW - timedelta(30))


def test_getmetricdata_denied_mid_round_stops_there_and_says_so() -> None:
    instances = [instance(n) for n in range(400)]  # 1,200 queries: three calls of 500
    with MetricsServer() as metrics:
        metrics.deny_after(1)
        client = boto3.client("cloudwatch", region_name=REGION, endpoint_url=metrics.endpoint_url)
        reader = MetricsReader(lambda service, region: client, PATROL)
        faults = RoundFaults()

        seen = reader.observe(instances, ACCOUNT, REGION, timedelta(days=7), NOW, faults=faults)
        again = reader.observe(
            [nat_gateway(n) for n in range(3)],
            ACCOUNT,
            REGION,
            timedelta(days=7),
            NOW,
            faults=faults,
        )
        calls = metrics.calls()

    assert calls == 2  # the first answered, the second denied, the third never asked
    assert 0 < len(seen) < len(instances) and again == {}
    [note] = faults.notes()
    assert note.startswith(
        f"not judged: CloudWatch GetMetricData failed in {ACCOUNT}/{REGION} (AccessDenied); "
        "not asked again this round"
    )


def test_a_failing_service_is_not_asked_for_its_other_types_in_that_region() -> None:
    with FailingServer(service="ec2") as ec2_down:
        clients = AwsClients(
            boto3.Session(region_name=REGION),
            {"ec2": ec2_down.endpoint_url},
            config=AWS_CLIENT_CONFIG.merge(Config(retries={"total_max_attempts": 2})),
        )
        faults = RoundFaults()
        types = (EC2_INSTANCE, "AWS::EC2::Volume", "AWS::EC2::EIP", NAT_GATEWAY)

        collected = Inventory(clients, PATROL.by_type).collect(
            ACCOUNT, REGION, types, faults=faults
        )
        asked = {op: ec2_down.requests(op) for op in ("DescribeInstances", "DescribeVolumes")}
        everything = ec2_down.requests()

    assert set(collected.failed_types) == set(types)
    # One describe and its retry; volumes, addresses and NAT gateways never asked.
    assert asked == {"DescribeInstances": 2, "DescribeVolumes": 0} and everything == 2
    [note] = faults.notes()
    assert note.startswith(f"not checked: EC2 failed in {ACCOUNT}/{REGION} (HTTP 500")
    assert note.endswith("(3 more not asked)")
