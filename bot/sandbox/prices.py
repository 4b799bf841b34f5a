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
    return found


def _product(attributes: Mapping[str, str], usd: float, unit: str) -> dict[str, Any]:
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
                        f"{offer}.6YS6EN2CT7": {
                            "unit": unit,
                            "beginRange": "0",
                            "endRange": "Inf",
                            "pricePerUnit": {"USD": f"{usd:.10f}"},
                        }
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
