"""The Pricing API's GetProducts for the sandbox's few products (moto has no Pricing API).

A small price list, figures close to the public on-demand list prices of eu-west-1 and us-east-1
(Linux, shared tenancy), shaped as GetProducts returns it: one JSON string per product, with its
attributes and an OnDemand term. A product matches when every TERM_MATCH filter equals one of its
attributes, as with the real API, so the product's own PriceBook runs unchanged against it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Usage types carry a region prefix, except in us-east-1 (see bot/aws/pricing.py).
_PREFIX = {"eu-west-1": "EU-", "us-east-1": ""}

_INSTANCE_HOURLY: dict[str, dict[str, float]] = {
    "eu-west-1": {
        "t3.micro": 0.0114,
        "t3.small": 0.0228,
        "t3.medium": 0.0456,
        "t3.large": 0.0912,
        "m5.large": 0.107,
        "m5.xlarge": 0.214,
        "g4dn.xlarge": 0.587,
    },
    "us-east-1": {
        "t3.micro": 0.0104,
        "t3.small": 0.0208,
        "t3.medium": 0.0416,
        "t3.large": 0.0832,
        "m5.large": 0.096,
        "m5.xlarge": 0.192,
        "g4dn.xlarge": 0.526,
    },
}
_VOLUME_GB_MONTH = {
    "eu-west-1": {"gp3": 0.088, "gp2": 0.11},
    "us-east-1": {"gp3": 0.08, "gp2": 0.10},
}
_NAT_HOURLY = {"eu-west-1": 0.048, "us-east-1": 0.045}
_IPV4_HOURLY = 0.005

# The patrolled types beyond EC2, per region: (eu-west-1, us-east-1). SageMaker and ElastiCache
# prefix usage types with four-letter region codes (EUW1-, USE1-), the others as EC2 does.
_LONG_PREFIX = {"eu-west-1": "EUW1-", "us-east-1": "USE1-"}
_SNAPSHOT_GB_MONTH = {"eu-west-1": 0.053, "us-east-1": 0.05}
_SAGEMAKER_HOURLY = {  # (usage type, instance) → price
    ("Host", "ml.m5.large"): {"eu-west-1": 0.128, "us-east-1": 0.115},
    ("Notebk", "ml.t3.medium"): {"eu-west-1": 0.0575, "us-east-1": 0.05},
}
_OPENSEARCH_HOURLY = {"t3.small.search": {"eu-west-1": 0.038, "us-east-1": 0.036}}
_OPENSEARCH_GP3_GB_MONTH = {"eu-west-1": 0.136, "us-east-1": 0.122}
_ELASTICACHE_HOURLY = {  # (engine, node type) → price
    ("Redis", "cache.t3.micro"): {"eu-west-1": 0.018, "us-east-1": 0.017},
    ("Memcached", "cache.t3.micro"): {"eu-west-1": 0.018, "us-east-1": 0.017},
    ("Valkey", "cache.t3.micro"): {"eu-west-1": 0.0144, "us-east-1": 0.0136},
}
_REDSHIFT_HOURLY = {"ra3.xlplus": {"eu-west-1": 1.186, "us-east-1": 1.086}}
_EMR_HOURLY = {"m5.xlarge": {"eu-west-1": 0.048, "us-east-1": 0.048}}
# Provisioned capacity per unit-hour, after the account's free 25 units (18,600 unit-hours).
_DYNAMODB_UNIT_HOURLY = {
    "ReadCapacityUnit-Hrs": {"eu-west-1": 0.0001471, "us-east-1": 0.00013},
    "WriteCapacityUnit-Hrs": {"eu-west-1": 0.000735, "us-east-1": 0.00065},
}
_FREE_UNIT_HOURS = "18600"


def products(regions: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    """(service code, product) for every sandbox product in these regions."""
    found: list[tuple[str, dict[str, Any]]] = []
    for region in regions:
        prefix = _PREFIX.get(region, "")
        for instance_type, usd in _INSTANCE_HOURLY.get(region, {}).items():
            attributes = {
                "regionCode": region,
                "productFamily": "Compute Instance",
                "instanceType": instance_type,
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
                "licenseModel": "No License required",
                "usagetype": f"{prefix}BoxUsage:{instance_type}",
            }
            found.append(("AmazonEC2", _product(attributes, usd, "Hrs")))
        for kind, usd in _VOLUME_GB_MONTH.get(region, {}).items():
            attributes = {
                "regionCode": region,
                "productFamily": "Storage",
                "volumeApiName": kind,
                "locationType": "AWS Region",
                "usagetype": f"{prefix}EBS:VolumeUsage.{kind}",
            }
            found.append(("AmazonEC2", _product(attributes, usd, "GB-Mo")))
        if region in _NAT_HOURLY:
            attributes = {
                "regionCode": region,
                "productFamily": "NAT Gateway",
                "usagetype": f"{prefix}NatGateway-Hours",
            }
            found.append(("AmazonEC2", _product(attributes, _NAT_HOURLY[region], "Hrs")))
        for usage in ("IdleAddress", "InUseAddress"):
            attributes = {
                "regionCode": region,
                "group": "VPCPublicIPv4Address",
                "usagetype": f"{prefix}PublicIPv4:{usage}",
            }
            found.append(("AmazonVPC", _product(attributes, _IPV4_HOURLY, "Hrs")))
        found.extend(_service_products(region, prefix))
    return found


def _service_products(region: str, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    """SageMaker, OpenSearch, ElastiCache, Redshift, EMR, DynamoDB and EBS snapshot products."""
    if region not in _LONG_PREFIX:
        return []
    long = _LONG_PREFIX[region]
    found: list[tuple[str, dict[str, Any]]] = []
    if region in _SNAPSHOT_GB_MONTH:
        attributes = {
            "regionCode": region,
            "productFamily": "Storage Snapshot",
            "usagetype": f"{prefix}EBS:SnapshotUsage",
        }
        found.append(("AmazonEC2", _product(attributes, _SNAPSHOT_GB_MONTH[region], "GB-Mo")))
    for (usage, instance), usd in _SAGEMAKER_HOURLY.items():
        attributes = {
            "regionCode": region,
            "productFamily": "ML Instance",
            "instanceName": instance,
            "component": "Hosting" if usage == "Host" else "Notebook",
            "usagetype": f"{long}{usage}:{instance}",
        }
        found.append(("AmazonSageMaker", _product(attributes, usd[region], "Hrs")))
    for instance, usd in _OPENSEARCH_HOURLY.items():
        attributes = {
            "regionCode": region,
            "productFamily": "Amazon OpenSearch Service Instance",
            "instanceType": instance,
            "usagetype": f"{prefix}ESInstance:{instance}",
        }
        found.append(("AmazonES", _product(attributes, usd[region], "Hrs")))
    attributes = {
        "regionCode": region,
        "productFamily": "Amazon OpenSearch Service Volume",
        "storageMedia": "GP3",
        "usagetype": f"{prefix}ES:GP3-Storage",
    }
    found.append(("AmazonES", _product(attributes, _OPENSEARCH_GP3_GB_MONTH[region], "GB-Mo")))
    for (engine, node), usd in _ELASTICACHE_HOURLY.items():
        attributes = {
            "regionCode": region,
            "productFamily": "Cache Instance",
            "instanceType": node,
            "cacheEngine": engine,
            "usagetype": f"{long}NodeUsage:{node}",
        }
        found.append(("AmazonElastiCache", _product(attributes, usd[region], "Hrs")))
    for node, usd in _REDSHIFT_HOURLY.items():
        attributes = {
            "regionCode": region,
            "productFamily": "Compute Instance",
            "instanceType": node,
            "usagetype": f"{prefix}Node:{node}",
        }
        found.append(("AmazonRedshift", _product(attributes, usd[region], "Hrs")))
    for instance, usd in _EMR_HOURLY.items():
        attributes = {
            "regionCode": region,
            "productFamily": "Elastic Map Reduce Instance",
            "softwareType": "EMR",
            "instanceType": instance,
            "usagetype": f"{prefix}BoxUsage:{instance}",
        }
        found.append(("ElasticMapReduce", _product(attributes, usd[region], "Hrs")))
    for unit, usd in _DYNAMODB_UNIT_HOURLY.items():
        attributes = {
            "regionCode": region,
            "productFamily": "Provisioned IOPS",
            "group": "DDB-ReadUnits" if unit.startswith("Read") else "DDB-WriteUnits",
            "usagetype": f"{prefix}{unit}",
        }
        tiers = [("0", _FREE_UNIT_HOURS, 0.0), (_FREE_UNIT_HOURS, "Inf", usd[region])]
        found.append(("AmazonDynamoDB", _product(attributes, usd[region], unit, tiers)))
    return found


def _product(
    attributes: Mapping[str, str],
    usd: float,
    unit: str,
    tiers: Sequence[tuple[str, str, float]] | None = None,
) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(sorted(attributes.items())).encode()).hexdigest()
    sku = f"SANDBOX{digest[:10].upper()}"
    offer = f"{sku}.JRTCKXETXF"
    return {
        "product": {
            "productFamily": attributes.get("productFamily", ""),
            "sku": sku,
            "attributes": dict(attributes),
        },
        "serviceCode": "",
        "terms": {
            "OnDemand": {
                offer: {
                    "offerTermCode": "JRTCKXETXF",
                    "sku": sku,
                    "priceDimensions": {
                        f"{offer}.6YS6EN2CT{n}": {
                            "unit": unit,
                            "beginRange": begin,
                            "endRange": end,
                            "pricePerUnit": {"USD": f"{price:.10f}"},
                        }
                        for n, (begin, end, price) in enumerate(tiers or [("0", "Inf", usd)])
                    },
                }
            }
        },
        "version": "20240101000000",
        "publicationDate": "2024-01-01T00:00:00Z",
    }


class PriceList:
    """Answers GetProducts from the sandbox's products."""

    def __init__(self, regions: Sequence[str]) -> None:
        self._products = products(regions)

    def get_products(self, params: Mapping[str, Any]) -> dict[str, Any]:
        service = params.get("ServiceCode")
        wanted = [
            (f.get("Field"), f.get("Value"))
            for f in params.get("Filters", [])
            if f.get("Type", "TERM_MATCH") == "TERM_MATCH"
        ]
        chosen = [
            json.dumps(product)
            for code, product in self._products
            if code == service
            and all(product["product"]["attributes"].get(k) == v for k, v in wanted)
        ]
        return {"FormatVersion": "aws_v1", "PriceList": chosen}
