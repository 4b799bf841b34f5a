"""Monthly cost from list prices, on values: what each type is billed for, and no invented price."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import resources as rt
from bot.core.costs import (
    GB_MONTH,
    HOURLY,
    HOURS_PER_MONTH,
    PriceQuery,
    Quote,
    Unpriced,
)
from bot.core.resources import Cost, Resource
from bot.registry.patrol import components, monthly_cost

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def _resource(kind: str, state: str | None = None, size: str | None = None, **details: Any):
    return Resource(kind, "x-1", REGION, ACCOUNT, state=state, size=size, details=details)


def _instance(state: str = "running", **details: Any) -> Resource:
    details.setdefault("attached_volumes", [{"id": "vol-1", "gib": 8, "type": "gp3"}])
    return _resource(rt.EC2_INSTANCE, state, "m5.large", **details)


def _quotes(resource: Resource, *prices: float | None) -> dict[PriceQuery, Quote]:
    parts = components(resource)
    assert not isinstance(parts, Unpriced)
    return {part.query: Quote(price) for part, price in zip(parts, prices, strict=True)}


def test_a_month_is_730_hours() -> None:
    assert HOURS_PER_MONTH == 730


def test_running_instance_is_compute_plus_volumes() -> None:
    instance = _instance()
    parts = components(instance)
    assert not isinstance(parts, Unpriced)
    compute, volume = parts
    assert compute.query == PriceQuery(
        "AmazonEC2",
        (
            ("regionCode", REGION),
            ("instanceType", "m5.large"),
            ("operatingSystem", "Linux"),
            ("tenancy", "Shared"),
            ("preInstalledSw", "NA"),
            ("capacitystatus", "Used"),
            ("licenseModel", "No License required"),
        ),
        HOURLY,
    )
    assert (compute.quantity, compute.required) == (730, True)
    assert volume.query.unit == GB_MONTH
    assert ("volumeApiName", "gp3") in volume.query.filters
    assert (volume.quantity, volume.required) == (8, False)
    cost = monthly_cost(instance, _quotes(instance, 0.107, 0.088))
    assert cost.monthly_usd == round(0.107 * 730 + 0.088 * 8, 2) == 78.81


def test_stopped_instance_costs_its_volumes_only() -> None:
    stopped = _instance(
        "stopped",
        attached_volumes=[
            {"id": "v1", "gib": 8, "type": "gp3"},
            {"id": "v2", "gib": 100, "type": "gp2"},
        ],
    )
    parts = components(stopped)
    assert not isinstance(parts, Unpriced)
    assert [part.what for part in parts] == ["8 GiB gp3", "100 GiB gp2"]
    assert all(part.query.unit == GB_MONTH and part.required for part in parts)
    assert monthly_cost(stopped, _quotes(stopped, 0.088, 0.11)).monthly_usd == 11.70


def test_stopped_instance_without_volumes_costs_nothing() -> None:
    assert monthly_cost(_instance("stopped", attached_volumes=[]), {}) == Cost(
        0.0, "nothing billed"
    )


def test_stopped_instance_with_unknown_volumes_has_no_figure() -> None:
    cost = monthly_cost(_instance("stopped", attached_volumes=None), {})
    assert cost.monthly_usd is None
    assert cost.note is not None and "volumes are not known" in cost.note


@pytest.mark.parametrize(
    ("details", "why"),
    [
        ({"lifecycle": "spot"}, "spot instance"),
        ({"platform": "Windows BYOL"}, "no price for platform 'Windows BYOL'"),
        ({"tenancy": "host"}, "dedicated host"),
    ],
)
def test_instances_that_have_no_on_demand_list_price(details: dict, why: str) -> None:
    cost = monthly_cost(_instance(**details), {})
    assert cost.monthly_usd is None
    assert cost.note is not None and why in cost.note


def test_windows_and_dedicated_instances_ask_for_their_own_price() -> None:
    parts = components(_instance(platform="Windows with SQL Server Standard", tenancy="dedicated"))
    assert not isinstance(parts, Unpriced)
    filters = dict(parts[0].query.filters)
    assert (filters["operatingSystem"], filters["preInstalledSw"], filters["tenancy"]) == (
        "Windows",
        "SQL Std",
        "Dedicated",
    )


def test_a_required_price_missing_means_no_figure() -> None:
    instance = _instance()
    parts = components(instance)
    assert not isinstance(parts, Unpriced)
    quotes = {parts[0].query: Quote(None, "no price found"), parts[1].query: Quote(0.088)}
    assert monthly_cost(instance, quotes) == Cost(None, "no price found for m5.large in eu-west-1")
    quotes[parts[0].query] = Quote(None, "2 different prices found")
    assert monthly_cost(instance, quotes).note == (
        "no price found for m5.large in eu-west-1 (2 different prices found)"
    )
    assert monthly_cost(instance, {}).monthly_usd is None  # nothing looked up: nothing invented


def test_an_optional_price_missing_is_said() -> None:
    instance = _instance()
    parts = components(instance)
    assert not isinstance(parts, Unpriced)
    cost = monthly_cost(instance, {parts[0].query: Quote(0.1), parts[1].query: Quote(None)})
    assert cost == Cost(
        73.0, "m5.large: $0.1/h × 730 h = $73.00; without 8 GiB gp3 (no price found)"
    )


def test_unattached_volume_is_gb_month_times_size() -> None:
    volume = _resource(rt.EBS_VOLUME, "available", volume_gib=100, volume_type="gp3", iops=3000)
    cost = monthly_cost(volume, _quotes(volume, 0.088))
    assert cost == Cost(8.8, "100 GiB gp3: $0.088/GB-month = $8.80")
    io2 = _resource(rt.EBS_VOLUME, "available", volume_gib=50, volume_type="io2", iops=5000)
    assert "provisioned IOPS and throughput not included" in (
        monthly_cost(io2, _quotes(io2, 0.142)).note or ""
    )


EIP, NAT, ELB, EKS = "AmazonVPC", "AmazonEC2", "AWSELB", "AmazonEKS"
LB = "LoadBalancerUsage"


@pytest.mark.parametrize(
    ("kind", "state", "details", "service", "usagetype", "price", "usd"),
    [
        (rt.ELASTIC_IP, "unassociated", {}, EIP, "PublicIPv4:IdleAddress", 0.005, 3.65),
        (rt.ELASTIC_IP, "associated", {}, EIP, "PublicIPv4:InUseAddress", 0.005, 3.65),
        (rt.NAT_GATEWAY, "available", {}, NAT, "NatGateway-Hours", 0.048, 35.04),
        (rt.LOAD_BALANCER, None, {"lb_type": "application"}, ELB, LB, 0.0252, 18.4),
        (rt.LOAD_BALANCER, None, {"lb_type": "network"}, ELB, LB, 0.0252, 18.4),
        (rt.CLASSIC_LOAD_BALANCER, None, {"lb_type": "classic"}, ELB, LB, 0.028, 20.44),
        (rt.EKS_CLUSTER, "active", {}, EKS, "AmazonEKS-Hours:perCluster", 0.10, 73.0),
    ],
)  # fmt: skip
def test_hourly_resources(
    kind: str,
    state: str | None,
    details: dict,
    service: str,
    usagetype: str,
    price: float,
    usd: float,
) -> None:
    resource = _resource(kind, state, **details)
    parts = components(resource)
    assert not isinstance(parts, Unpriced)
    (part,) = parts
    assert (part.query.service, part.query.usagetype, part.query.unit) == (
        service,
        usagetype,
        HOURLY,
    )
    assert ("regionCode", REGION) in part.query.filters
    assert monthly_cost(resource, {part.query: Quote(price)}).monthly_usd == usd


def test_load_balancer_families() -> None:
    families = {
        kind: dict(components(_resource(rt.LOAD_BALANCER, lb_type=kind))[0].query.filters)[  # type: ignore[index]
            "productFamily"
        ]
        for kind in ("application", "network", "gateway")
    }
    assert families == {
        "application": "Load Balancer-Application",
        "network": "Load Balancer-Network",
        "gateway": "Load Balancer-Gateway",
    }


def test_rds_instance_class_engine_deployment_and_storage() -> None:
    db = _resource(
        rt.RDS_INSTANCE, "available", "db.m5.large",
        engine="sqlserver-se", multi_az=True, storage_gib=100, storage_type="gp3",
        license_model="license-included",
    )  # fmt: skip
    parts = components(db)
    assert not isinstance(parts, Unpriced)
    instance, storage = parts
    filters = dict(instance.query.filters)
    assert filters == {
        "regionCode": REGION,
        "databaseEngine": "SQL Server",
        "deploymentOption": "Multi-AZ",
        "productFamily": "Database Instance",
        "instanceType": "db.m5.large",
        "databaseEdition": "Standard",
        "licenseModel": "License included",
    }
    assert dict(storage.query.filters)["volumeType"] == "General Purpose-GP3"
    assert (storage.quantity, storage.required) == (100, False)
    assert monthly_cost(db, _quotes(db, 1.0, 0.2)).monthly_usd == 750.0


def test_stopped_rds_costs_its_storage_and_aurora_its_instance_only() -> None:
    stopped = _resource(
        rt.RDS_INSTANCE,
        "stopped",
        "db.t3.micro",
        engine="mysql",
        storage_gib=20,
        storage_type="gp2",
    )
    parts = components(stopped)
    assert not isinstance(parts, Unpriced)
    assert [(p.what, p.required) for p in parts] == [("20 GiB General Purpose storage", True)]
    aurora = _resource(rt.RDS_INSTANCE, "available", "db.r6g.large", engine="aurora-postgresql")
    cost = monthly_cost(aurora, _quotes(aurora, 0.29))
    assert cost.monthly_usd == 211.7
    assert cost.note is not None and "billed on the cluster" in cost.note


def test_unknown_engines_and_types_are_not_priced() -> None:
    assert monthly_cost(_resource(rt.RDS_INSTANCE, "available", "db.x", engine="neo"), {}) == Cost(
        None, "no price for engine 'neo'"
    )
    assert monthly_cost(_resource("AWS::S3::Bucket"), {}).monthly_usd is None
