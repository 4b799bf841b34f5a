"""Pricing API through botocore's Stubber (moto has no Pricing), with real-shaped PriceList JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bot.aws.pricing import PriceBook, usagetype_matches
from bot.core import resources as rt
from bot.core.resources import Cost, Resource
from bot.registry.patrol import PATROL

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def price_item(
    sku: str,
    family: str,
    attributes: dict[str, str],
    unit: str,
    usd: str,
    *,
    service: str = "AmazonEC2",
    tiers: list[tuple[str, str, str]] | None = None,
) -> str:
    """One PriceList entry as GetProducts returns it: a JSON string, with a Reserved term too."""
    dimensions = {
        f"{sku}.JRTCKXETXF.{n}": {
            "unit": unit,
            "endRange": end,
            "description": f"${price} per {unit}",
            "appliesTo": [],
            "rateCode": f"{sku}.JRTCKXETXF.{n}",
            "beginRange": begin,
            "pricePerUnit": {"USD": price},
        }
        for n, (begin, end, price) in enumerate(tiers or [("0", "Inf", usd)])
    }
    return json.dumps(
        {
            "product": {
                "productFamily": family,
                "attributes": {"servicecode": service, "regionCode": REGION, **attributes},
                "sku": sku,
            },
            "serviceCode": service,
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": dimensions,
                        "sku": sku,
                        "effectiveDate": "2024-03-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                },
                "Reserved": {
                    f"{sku}.4NA7Y494T4": {
                        "priceDimensions": {
                            f"{sku}.4NA7Y494T4.6YS6EN2CT7": {
                                "unit": unit,
                                "beginRange": "0",
                                "endRange": "Inf",
                                "pricePerUnit": {"USD": "0.0010000000"},
                                "appliesTo": [],
                                "rateCode": f"{sku}.4NA7Y494T4.6YS6EN2CT7",
                                "description": "reserved",
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2024-03-01T00:00:00Z",
                        "offerTermCode": "4NA7Y494T4",
                        "termAttributes": {
                            "LeaseContractLength": "1yr",
                            "PurchaseOption": "No Upfront",
                        },
                    }
                },
            },
            "version": "20240308182353",
            "publicationDate": "2024-03-08T18:23:53Z",
        }
    )


T3_MICRO = price_item(
    "DB9MVBHBW2ZAY6XR",
    "Compute Instance",
    {
        "instanceType": "t3.micro",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "usagetype": "EU-BoxUsage:t3.micro",
        "operation": "RunInstances",
        "location": "EU (Ireland)",
    },
    "Hrs",
    "0.0114000000",
)
GP3 = price_item(
    "7HGUMSNPWWCC7T8B",
    "Storage",
    {"volumeApiName": "gp3", "usagetype": "EU-EBS:VolumeUsage.gp3", "locationType": "AWS Region"},
    "GB-Mo",
    "0.0880000000",
)


def ec2_filters(instance_type: str = "t3.micro") -> list[dict[str, str]]:
    pairs = [
        ("regionCode", REGION),
        ("instanceType", instance_type),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
        ("licenseModel", "No License required"),
    ]
    return [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in pairs]


def volume_filters(kind: str) -> list[dict[str, str]]:
    pairs = [
        ("regionCode", REGION),
        ("productFamily", "Storage"),
        ("volumeApiName", kind),
        ("locationType", "AWS Region"),
    ]
    return [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in pairs]


class Pricing:
    def __init__(self) -> None:
        self.client = boto3.client(
            "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stubber = Stubber(self.client)
        self.asked: list[tuple[str, str]] = []

    def client_for(self, service: str, region: str) -> Any:
        self.asked.append((service, region))
        return self.client


@pytest.fixture
def pricing() -> Iterator[Pricing]:
    fake = Pricing()
    with fake.stubber:
        yield fake
        fake.stubber.assert_no_pending_responses()


def _instance(state: str = "running", **details: Any) -> Resource:
    return Resource(
        rt.EC2_INSTANCE,
        "i-0abc",
        REGION,
        ACCOUNT,
        state=state,
        size="t3.micro",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        details={"attached_volumes": [{"id": "vol-1", "gib": 20, "type": "gp3"}], **details},
    )


def _respond(
    pricing: Pricing, service: str, filters: list[dict[str, str]], items: list[str]
) -> None:
    pricing.stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": items},
        {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1"},
    )


# --- EC2 and EBS ------------------------------------------------------------------------------


def test_running_instance_costs_its_hours_and_its_volumes(pricing: Pricing) -> None:
    _respond(pricing, "AmazonEC2", ec2_filters(), [T3_MICRO])
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [GP3])

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(_instance())

    assert cost.monthly_usd == round(0.0114 * 730 + 0.088 * 20, 2) == 10.08
    assert cost.note == "t3.micro: $0.0114/h × 730 h = $8.32; 20 GiB gp3: $0.088/GB-month = $1.76"
    assert set(pricing.asked) == {("pricing", "us-east-1")}


def test_prices_are_fetched_once_per_service_and_filters(pricing: Pricing) -> None:
    _respond(pricing, "AmazonEC2", ec2_filters(), [T3_MICRO])
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [GP3])
    book = PriceBook(pricing.client_for, PATROL)

    costs = [book.monthly_cost(_instance()) for _ in range(3)]
    volume = Resource(
        rt.EBS_VOLUME, "vol-9", REGION, ACCOUNT, state="available",
        details={"volume_gib": 100, "volume_type": "gp3"},
    )  # fmt: skip

    assert {cost.monthly_usd for cost in costs} == {10.08}
    assert book.monthly_cost(volume) == Cost(8.8, "100 GiB gp3: $0.088/GB-month = $8.80")
    # The Stubber fails on any call beyond the two responses queued.


def test_a_stopped_instance_costs_its_volumes_only(pricing: Pricing) -> None:
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [GP3])

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(_instance(state="stopped"))

    assert cost == Cost(1.76, "20 GiB gp3: $0.088/GB-month = $1.76")


def test_no_product_means_no_price_not_a_guess(pricing: Pricing) -> None:
    _respond(pricing, "AmazonEC2", ec2_filters(), [])

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(_instance())

    assert cost == Cost(None, "no price found for t3.micro in eu-west-1")


def test_several_different_prices_are_not_chosen_between(pricing: Pricing) -> None:
    other = T3_MICRO.replace("0.0114000000", "0.0228000000").replace("DB9MVBHBW2ZAY6XR", "OTHER")
    _respond(pricing, "AmazonEC2", ec2_filters(), [T3_MICRO, other])

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(_instance())

    assert cost.monthly_usd is None
    assert cost.note == "no price found for t3.micro in eu-west-1 (2 different prices found)"


def test_a_missing_volume_price_leaves_the_volume_out_of_a_running_instance(
    pricing: Pricing,
) -> None:
    _respond(pricing, "AmazonEC2", ec2_filters(), [T3_MICRO])
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [])

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(_instance())

    assert cost.monthly_usd == 8.32
    assert cost.note is not None and cost.note.endswith("without 20 GiB gp3 (no price found)")


def test_pages_of_products_are_followed(pricing: Pricing) -> None:
    pricing.stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page-2"},
        {"ServiceCode": "AmazonEC2", "Filters": ec2_filters(), "FormatVersion": "aws_v1"},
    )
    pricing.stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [T3_MICRO]},
        {
            "ServiceCode": "AmazonEC2",
            "Filters": ec2_filters(),
            "FormatVersion": "aws_v1",
            "NextToken": "page-2",
        },
    )
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [GP3])

    assert PriceBook(pricing.client_for, PATROL).monthly_cost(_instance()).monthly_usd == 10.08


def test_an_unreadable_pricing_api_is_said_and_retried_next_time(pricing: Pricing) -> None:
    pricing.stubber.add_client_error(
        "get_products", "AccessDeniedException", "not allowed", http_status_code=400
    )
    _respond(pricing, "AmazonEC2", ec2_filters(), [T3_MICRO])
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [GP3])
    book = PriceBook(pricing.client_for, PATROL)

    first = book.monthly_cost(_instance())
    second = book.monthly_cost(_instance())

    assert first == Cost(
        None, "no price: the Pricing API could not be read (AccessDeniedException)"
    )
    assert second.monthly_usd == 10.08


# --- addresses, NAT, load balancers, RDS, EKS -------------------------------------------------


def test_idle_elastic_ip_picks_the_idle_address_product(pricing: Pricing) -> None:
    group = "VPCPublicIPv4Address"
    items = [
        price_item(sku, "VpcPublicIPv4Address", {"usagetype": usage, "group": group}, "Hrs", usd,
                   service="AmazonVPC")
        for sku, usage, usd in [
            ("IDLE", "EU-PublicIPv4:IdleAddress", "0.0050000000"),
            ("INUSE", "EU-PublicIPv4:InUseAddress", "0.0060000000"),
        ]
    ]  # fmt: skip
    _respond(
        pricing,
        "AmazonVPC",
        [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
            {"Type": "TERM_MATCH", "Field": "group", "Value": group},
        ],
        items,
    )
    book = PriceBook(pricing.client_for, PATROL)
    idle = Resource(rt.ELASTIC_IP, "eipalloc-1", REGION, ACCOUNT, state="unassociated")
    used = Resource(rt.ELASTIC_IP, "eipalloc-2", REGION, ACCOUNT, state="associated")

    assert book.monthly_cost(idle) == Cost(
        3.65, "idle public IPv4 address: $0.005/h × 730 h = $3.65"
    )
    assert book.monthly_cost(used).monthly_usd == 4.38  # same products, no second call


def test_alb_price_is_the_region_one_not_local_zone_or_outposts(pricing: Pricing) -> None:
    family = "Load Balancer-Application"
    items = [
        price_item(sku, family, {"usagetype": usage}, unit, usd, service="AWSELB")
        for sku, usage, unit, usd in [
            ("TS", "EUW1-TS-LoadBalancerUsage", "Hrs", "0.0059"),
            ("OUT", "EU-Outposts-LoadBalancerUsage", "Hrs", "0.0300"),
            ("ALB", "EU-LoadBalancerUsage", "Hrs", "0.0252000000"),
            ("LCU", "EU-LCUUsage", "LCU-Hrs", "0.008"),
        ]
    ]
    _respond(
        pricing,
        "AWSELB",
        [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": family},
            {"Type": "TERM_MATCH", "Field": "locationType", "Value": "AWS Region"},
        ],
        items,
    )
    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/1"
    alb = Resource(rt.LOAD_BALANCER, arn, REGION, ACCOUNT, details={"lb_type": "application"})

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(alb)

    assert cost.monthly_usd == 18.40
    assert cost.note == (
        "application load balancer: $0.0252/h × 730 h = $18.40; capacity units (LCU) not included"
    )


def test_nat_gateway_hours(pricing: Pricing) -> None:
    items = [
        price_item(sku, "NAT Gateway", {"usagetype": usage}, unit, usd)
        for sku, usage, unit, usd in [
            ("NAT", "EU-NatGateway-Hours", "Hrs", "0.048"),
            ("RNAT", "EU-RegionalNatGateway-Hours", "Hrs", "0.07"),
            ("BYTES", "EU-NatGateway-Bytes", "GB", "0.048"),
        ]
    ]
    _respond(
        pricing,
        "AmazonEC2",
        [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "NAT Gateway"},
        ],
        items,
    )
    nat = Resource(rt.NAT_GATEWAY, "nat-1", REGION, ACCOUNT, state="available")

    assert PriceBook(pricing.client_for, PATROL).monthly_cost(nat).monthly_usd == 35.04


def test_rds_instance_and_its_storage(pricing: Pricing) -> None:
    shared = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
        {"Type": "TERM_MATCH", "Field": "databaseEngine", "Value": "PostgreSQL"},
        {"Type": "TERM_MATCH", "Field": "deploymentOption", "Value": "Single-AZ"},
    ]
    _respond(
        pricing,
        "AmazonRDS",
        [
            *shared,
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Database Instance"},
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "db.t3.micro"},
            {"Type": "TERM_MATCH", "Field": "licenseModel", "Value": "No license required"},
        ],
        [
            price_item(
                "DB",
                "Database Instance",
                {"usagetype": "EU-InstanceUsage:db.t3.micro"},
                "Hrs",
                "0.018",
                service="AmazonRDS",
            )
        ],
    )
    _respond(
        pricing,
        "AmazonRDS",
        [
            *shared,
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Database Storage"},
            {"Type": "TERM_MATCH", "Field": "volumeType", "Value": "General Purpose"},
        ],
        [
            price_item(
                "GP2",
                "Database Storage",
                {"usagetype": "EU-RDS:GP2-Storage"},
                "GB-Mo",
                "0.127",
                service="AmazonRDS",
            )
        ],
    )
    db = Resource(
        rt.RDS_INSTANCE, "orders", REGION, ACCOUNT, state="available", size="db.t3.micro",
        details={"engine": "postgres", "multi_az": False, "storage_gib": 20, "storage_type": "gp2",
                 "license_model": "postgresql-license"},
    )  # fmt: skip

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(db)

    assert cost.monthly_usd == round(0.018 * 730 + 0.127 * 20, 2) == 15.68


def test_eks_control_plane_with_the_eu_prefix(pricing: Pricing) -> None:
    items = [
        price_item(sku, "Compute", {"usagetype": usage}, "Hrs", usd, service="AmazonEKS")
        for sku, usage, usd in [
            ("EKS", "EU-AmazonEKS-Hours:perCluster", "0.10"),
            ("EXT", "EU-AmazonEKS-Hours:extendedSupport", "0.60"),
        ]
    ]
    _respond(
        pricing,
        "AmazonEKS",
        [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION}],
        items,
    )
    cluster = Resource(rt.EKS_CLUSTER, "sandbox", REGION, ACCOUNT, details={"node_count": 0})

    assert PriceBook(pricing.client_for, PATROL).monthly_cost(cluster).monthly_usd == 73.0


def test_tiered_prices_use_the_first_tier(pricing: Pricing) -> None:
    tiered = price_item(
        "GP3T",
        "Storage",
        {"volumeApiName": "gp3", "usagetype": "EBS:VolumeUsage.gp3"},
        "GB-Mo",
        "",
        tiers=[("0", "100", "0.08"), ("100", "Inf", "0.05")],
    )
    _respond(pricing, "AmazonEC2", volume_filters("gp3"), [tiered])
    volume = Resource(
        rt.EBS_VOLUME,
        "vol-9",
        "eu-west-1",
        ACCOUNT,
        details={"volume_gib": 10, "volume_type": "gp3"},
    )
    assert PriceBook(pricing.client_for, PATROL).monthly_cost(volume).monthly_usd == 0.8


@pytest.mark.parametrize(
    ("usagetype", "wanted", "matches"),
    [
        ("NatGateway-Hours", "NatGateway-Hours", True),
        ("EUW2-NatGateway-Hours", "NatGateway-Hours", True),
        ("EU-AmazonEKS-Hours:perCluster", "AmazonEKS-Hours:perCluster", True),
        ("EUW2-RegionalNatGateway-Hours", "NatGateway-Hours", False),
        ("EUW2-TS-LoadBalancerUsage", "LoadBalancerUsage", False),
        ("EUW2-Outposts-LoadBalancerUsage", "LoadBalancerUsage", False),
        ("USE1-PublicIPv4:IdleAddress", "PublicIPv4:IdleAddress", True),
    ],
)
def test_usagetype_region_prefixes(usagetype: str, wanted: str, matches: bool) -> None:
    assert usagetype_matches(usagetype, wanted) is matches


# --- the types beyond EC2, ELB, RDS and EKS -------------------------------------------------


def test_dynamodb_capacity_is_priced_past_the_accounts_free_tier(pricing: Pricing) -> None:
    """The capacity price has a free first tier (the account's 25 units), then a rate: a table
    costs the rate, and the Standard-IA class's own products are not taken for it."""
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Provisioned IOPS"},
    ]

    def capacity(sku: str, usagetype: str, unit: str, rate: str) -> str:
        return price_item(
            sku,
            "Provisioned IOPS",
            {"usagetype": usagetype, "group": "DDB-ReadUnits"},
            unit,
            "",
            service="AmazonDynamoDB",
            tiers=[("0", "18600", "0.0000000000"), ("18600", "Inf", rate)],
        )

    items = [
        capacity("RCU", "EU-ReadCapacityUnit-Hrs", "ReadCapacityUnit-Hrs", "0.0001470000"),
        capacity("IARCU", "EU-IA-ReadCapacityUnit-Hrs", "ReadCapacityUnit-Hrs", "0.0001830000"),
        capacity("WCU", "EU-WriteCapacityUnit-Hrs", "WriteCapacityUnit-Hrs", "0.0007350000"),
    ]
    _respond(pricing, "AmazonDynamoDB", filters, items)  # one fetch serves both units
    table = Resource(
        "AWS::DynamoDB::Table",
        "orders",
        REGION,
        ACCOUNT,
        details={"billing_mode": "PROVISIONED", "read_capacity": 50, "write_capacity": 20},
    )

    cost = PriceBook(pricing.client_for, PATROL).monthly_cost(table)

    assert cost.monthly_usd == round(0.000147 * 50 * 730 + 0.000735 * 20 * 730, 2) == 16.1
    assert cost.note == (
        "50 read capacity units: $0.000147/read unit-hour × 36,500 = $5.37; "
        "20 write capacity units: $0.000735/write unit-hour × 14,600 = $10.73; "
        "its storage and backups not included"
    )


def test_a_redshift_clusters_nodes(pricing: Pricing) -> None:
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Compute Instance"},
        {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "ra3.xlplus"},
    ]
    node = price_item(
        "RA3",
        "Compute Instance",
        {"instanceType": "ra3.xlplus", "usagetype": "EU-Node:ra3.xlplus"},
        "Hrs",
        "1.1860000000",
        service="AmazonRedshift",
    )
    _respond(pricing, "AmazonRedshift", filters, [node])
    cluster = Resource(
        "AWS::Redshift::Cluster",
        "warehouse",
        REGION,
        ACCOUNT,
        state="available",
        size="ra3.xlplus",
        details={"nodes": 2},
    )
    assert PriceBook(pricing.client_for, PATROL).monthly_cost(cluster).monthly_usd == 1731.56
