"""What the types beyond EC2, ELB, RDS and EKS cost, on values: which prices, how many units."""

from __future__ import annotations

from typing import Any

from bot.core.costs import HOURLY, PriceQuery, Quote, Unpriced
from bot.core.resources import Cost, Resource
from bot.registry.patrol import components, monthly_cost

REGION = "eu-west-1"


def _resource(kind: str, size: str | None = None, state: str | None = None, **details: Any):
    return Resource(kind, "x", REGION, "123456789012", state=state, size=size, details=details)


def _priced(resource: Resource, *prices: float) -> Cost:
    parts = components(resource)
    assert not isinstance(parts, Unpriced), parts
    quotes = {part.query: Quote(price) for part, price in zip(parts, prices, strict=True)}
    return monthly_cost(resource, quotes)


def test_an_endpoint_costs_its_variants_instances() -> None:
    endpoint = _resource(
        "AWS::SageMaker::Endpoint",
        variants=[{"name": "a", "instance_type": "ml.m5.large", "count": 2}],
    )
    [part] = components(endpoint)  # type: ignore[misc]
    assert part.query == PriceQuery(
        "AmazonSageMaker",
        (("regionCode", REGION), ("instanceName", "ml.m5.large")),
        HOURLY,
        "Host:ml.m5.large",
    )
    assert _priced(endpoint, 0.115) == Cost(167.9, "2 × ml.m5.large: $0.115/h × 1,460 h = $167.90")
    serverless = _resource("AWS::SageMaker::Endpoint", variants=[{"name": "a", "serverless": True}])
    assert components(serverless) == Unpriced(
        "serverless: billed per request and duration, nothing while idle"
    )


def test_a_notebook_costs_its_instance_and_says_its_storage_is_left_out() -> None:
    notebook = _resource(
        "AWS::SageMaker::NotebookInstance", "ml.t3.medium", "InService", volume_gib=20
    )
    [part] = components(notebook)  # type: ignore[misc]
    assert part.query.usagetype == "Notebk:ml.t3.medium"
    assert _priced(notebook, 0.05).note == (
        "ml.t3.medium: $0.05/h × 730 h = $36.50; its 20 GB ML storage volume not included"
    )


def test_a_domain_costs_its_nodes_and_its_storage() -> None:
    domain = _resource(
        "AWS::OpenSearchService::Domain",
        instance_type="t3.small.search",
        instance_count=2,
        master_type="m6g.large.search",
        master_count=3,
        volume_type="gp3",
        volume_gib=20,
    )
    parts = components(domain)
    assert not isinstance(parts, Unpriced)
    assert [p.what for p in parts] == [
        "2 × t3.small.search",
        "3 × m6g.large.search",
        "40 GiB gp3 storage",
    ]
    assert ("storageMedia", "GP3") in parts[2].query.filters and not parts[2].required
    cost = monthly_cost(domain, {parts[0].query: Quote(0.038), parts[1].query: Quote(0.133)})
    assert cost.monthly_usd == round(0.038 * 1460 + 0.133 * 2190, 2)
    assert "without 40 GiB gp3 storage (no price found)" in (cost.note or "")


def test_a_cache_costs_its_nodes_of_its_engine() -> None:
    cache = _resource("AWS::ElastiCache::CacheCluster", "cache.t3.micro", engine="valkey", nodes=2)
    [part] = components(cache)  # type: ignore[misc]
    assert ("cacheEngine", "Valkey") in part.query.filters
    assert part.query.usagetype == "NodeUsage:cache.t3.micro"
    assert _priced(cache, 0.0136).monthly_usd == 19.86


def test_a_redshift_cluster_costs_its_nodes_unless_paused() -> None:
    cluster = _resource("AWS::Redshift::Cluster", "ra3.xlplus", "available", nodes=2)
    assert _priced(cluster, 1.086) == Cost(
        1585.56,
        "2 × ra3.xlplus: $1.086/h × 1,460 h = $1,585.56; its managed storage (RA3) not included",
    )
    paused = _resource("AWS::Redshift::Cluster", "ra3.xlplus", "paused", nodes=2)
    assert components(paused) == Unpriced("paused: only its storage is billed")


def test_an_emr_cluster_costs_emrs_charge_per_running_instance() -> None:
    cluster = _resource("AWS::EMR::Cluster", running_instances={"m5.xlarge": 3, "r5.2xlarge": 1})
    cost = _priced(cluster, 0.048, 0.126)
    assert cost.monthly_usd == round(0.048 * 2190 + 0.126 * 730, 2)
    assert (cost.note or "").endswith("EMR's charge only: its instances bill as EC2 instances")


def test_a_provisioned_table_costs_its_capacity_past_the_free_tier() -> None:
    table = _resource(
        "AWS::DynamoDB::Table", billing_mode="PROVISIONED", read_capacity=50, write_capacity=20
    )
    reads, writes = components(table)  # type: ignore[misc]
    assert reads.query.unit == "ReadCapacityUnit-Hrs" and reads.query.beyond_free_tier
    assert reads.quantity == 50 * 730 and writes.quantity == 20 * 730
    cost = _priced(table, 0.000147, 0.000735)
    assert cost.monthly_usd == round(0.000147 * 36500 + 0.000735 * 14600, 2)
    assert "50 read capacity units: $0.000147/read unit-hour × 36,500" in (cost.note or "")
    infrequent = _resource(
        "AWS::DynamoDB::Table",
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=0,
        table_class="STANDARD_INFREQUENT_ACCESS",
    )
    [only] = components(infrequent)  # type: ignore[misc]
    assert only.query.usagetype == "IA-ReadCapacityUnit-Hrs"


def test_snapshots_and_amis_cost_at_most_their_snapshot_storage() -> None:
    snapshot = _resource("AWS::EC2::Snapshot", volume_gib=40, storage_tier="standard")
    cost = _priced(snapshot, 0.05)
    assert cost.monthly_usd == 2.0
    assert cost.note == (
        "up to 40 GiB of snapshot storage: $0.05/GB-month = $2.00; an upper bound: a snapshot "
        "is billed for the blocks it stores, at most its size"
    )
    image = _resource(
        "AWS::EC2::Image", snapshots=[{"id": "snap-1", "gib": 8}, {"id": "snap-2", "gib": 100}]
    )
    [part] = components(image)  # type: ignore[misc]
    assert part.what == "up to 108 GiB in its 2 snapshots" and part.quantity == 108
    assert components(_resource("AWS::EC2::Image", snapshots=[])) == Unpriced(
        "no EBS snapshots behind it"
    )
