"""On-demand list prices from the AWS Pricing API, cached for the life of the process.

`PriceBook.monthly_cost(resource)` asks the resource's type (its declared price parts, from
core/costs.py) which prices it needs, looks each up with GetProducts (TERM_MATCH filters), and
lets core/costs.py do the sums. The product list
for one (service, filters) is fetched once per process: list prices change a few times a year and
a patrol round asks for the same few dozen again and again. Where the filters leave several
different prices, none is chosen: the cost is reported as not found, never guessed.

Given a round's RoundFaults, a failing Pricing API is asked once: later resources of that round
get "no price" at once (from what is cached, when it covers them), instead of each going through
botocore's retries again.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.faults import GLOBAL, Fault, RoundFaults, why
from bot.core.costs import PriceQuery, Quote, Unpriced, monthly_cost
from bot.core.kinds import Kinds
from bot.core.resources import Cost, Resource

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]

PRICING_REGION = "us-east-1"  # the Pricing API's endpoint (also in eu-central-1, ap-south-1)

# Usage types carry a region prefix: "EUW2-NatGateway-Hours", "EU-AmazonEKS-Hours:perCluster";
# us-east-1 often has none. "TS-" (Local Zones) and "Outposts-" are not region prefixes.
_REGION_PREFIX = r"(?:EU|[A-Z]{3,4}[0-9])-"
SERVICE = "pricing"


class _NotAsked(Exception):
    """The Pricing API failed earlier in this round: not asked again."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.why)
        self.fault = fault


class PriceBook:
    """List prices with clients from client_for(service, region), for the types in `kinds`."""

    def __init__(
        self, client_for: ClientFactory, kinds: Kinds, region: str = PRICING_REGION
    ) -> None:
        self._client_for = client_for
        self._kinds = kinds
        self._region = region
        self._products: dict[tuple[str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def monthly_cost(self, resource: Resource, faults: RoundFaults | None = None) -> Cost:
        parts = self._kinds.parts(resource)
        if isinstance(parts, Unpriced):
            return Cost(None, parts.why)
        quotes = {}
        try:
            for part in parts:
                quotes[part.query] = self.quote(part.query, faults)
                if part.required and quotes[part.query].usd is None:
                    break  # the figure is already unknown; ask for nothing more
        except _NotAsked as skipped:
            return Cost(None, f"no price: the Pricing API failed ({skipped.fault.why})")
        except (ClientError, BotoCoreError) as error:
            if faults is not None:
                faults.record(SERVICE, GLOBAL, error)
            logger.warning(
                "Pricing API failed for %s %s: %s", resource.type, resource.id, why(error)
            )
            return Cost(None, f"no price: the Pricing API could not be read ({why(error)})")
        return monthly_cost(resource, parts, quotes, self._kinds.caveat(resource))

    def quote(self, query: PriceQuery, faults: RoundFaults | None = None) -> Quote:
        """The single on-demand price per unit that matches, or why there is none."""
        prices = sorted(set(on_demand_prices(self._products_for(query, faults), query)))
        if not prices:
            return Quote(None, "no price found")
        if len(prices) > 1:
            logger.warning("%d different prices for %s; not choosing one", len(prices), query)
            return Quote(None, f"{len(prices)} different prices found")
        return Quote(prices[0])

    def _products_for(
        self, query: PriceQuery, faults: RoundFaults | None = None
    ) -> list[dict[str, Any]]:
        key = (query.service, query.filters)
        with self._lock:  # one fetch per key, even when rounds price in parallel
            if key not in self._products:
                if faults is not None and (fault := faults.failed(SERVICE)) is not None:
                    faults.skipped(SERVICE)
                    raise _NotAsked(fault)
                self._products[key] = self._fetch(query)
            return self._products[key]

    def _fetch(self, query: PriceQuery) -> list[dict[str, Any]]:
        client = self._client_for("pricing", self._region)
        filters = [
            {"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in query.filters
        ]
        return [
            json.loads(item) if isinstance(item, str) else item
            for page in client.get_paginator("get_products").paginate(
                ServiceCode=query.service, Filters=filters, FormatVersion="aws_v1"
            )
            for item in page.get("PriceList", [])
        ]


def on_demand_prices(products: Iterable[dict[str, Any]], query: PriceQuery) -> list[float]:
    """USD per unit of every on-demand price dimension that fits the query: its first tier, or
    past the free tier its open-ended last one (PriceQuery.beyond_free_tier)."""
    prices = []
    for product in products:
        usagetype = product.get("product", {}).get("attributes", {}).get("usagetype", "")
        if query.usagetype and not usagetype_matches(usagetype, query.usagetype):
            continue
        for offer in product.get("terms", {}).get("OnDemand", {}).values():
            dimensions = [
                dimension
                for dimension in offer.get("priceDimensions", {}).values()
                if dimension.get("unit", "").lower() == query.unit.lower()
            ]
            for dimension in dimensions:
                tiered = len(dimensions) > 1
                if query.beyond_free_tier and tiered:
                    if str(dimension.get("endRange", "Inf")) != "Inf":
                        continue  # an earlier tier (the free one)
                elif str(dimension.get("beginRange", "0")) != "0":  # later tiers
                    continue
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd is not None:
                    prices.append(float(usd))
    return prices


def usagetype_matches(usagetype: str, wanted: str) -> bool:
    return re.fullmatch(f"(?:{_REGION_PREFIX})?{re.escape(wanted)}", usagetype) is not None
