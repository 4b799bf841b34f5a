"""boto3 clients for the sandbox: moto in process, LookupEvents at the stand-in, and two local
answers where moto cannot give a believable one.

- Pricing GetProducts: moto has no Pricing API; the sandbox's price list answers (prices.py).
- EC2 DescribeRegions: moto lists every region of every partition (China and GovCloud too) as
  enabled; a sandbox account has the regions it was given.

Both are answered in botocore's `before-call` event, which ends the call with the answer before a
request is made, so the product's own code (PriceBook, enabled_regions) parses and uses them;
`AwsClients.calls` counts them like any other call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from bot.sandbox.prices import PriceList
from bot.wiring import AWS_CLIENT_CONFIG, AwsClients

Answer = Callable[[Mapping[str, Any]], dict[str, Any]]


class SandboxClients(AwsClients):
    """AwsClients whose clients answer some operations locally (see the module docstring)."""

    def __init__(
        self,
        session: boto3.Session,
        endpoints: dict[str, str],
        *,
        enabled_regions: Sequence[str],
        price_regions: Sequence[str],
        config: Config = AWS_CLIENT_CONFIG,
    ) -> None:
        super().__init__(session, endpoints, config)
        prices = PriceList(price_regions)
        self._answers: dict[tuple[str, str], Answer] = {
            ("ec2", "DescribeRegions"): lambda _: regions_answer(enabled_regions),
            ("pricing", "GetProducts"): prices.get_products,
        }
        self._prepared: set[tuple[str, str]] = set()
        self._prepare_lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        client = super().__call__(service, region)
        with self._prepare_lock:
            if (service, region) not in self._prepared:
                self._prepared.add((service, region))
                for (name, operation), answer in self._answers.items():
                    if name == service:
                        client.meta.events.register(
                            f"before-call.{client.meta.service_model.service_id.hyphenize()}"
                            f".{operation}",
                            _answering(answer, self._count),
                        )
        return client


def regions_answer(regions: Sequence[str]) -> dict[str, Any]:
    return {
        "Regions": [
            {
                "RegionName": region,
                "Endpoint": f"ec2.{region}.amazonaws.com",
                "OptInStatus": "opt-in-not-required",
            }
            for region in regions
        ]
    }


def _answering(
    answer: Answer, count: Callable[..., None]
) -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
    def handler(
        params: Mapping[str, Any], model: Any, **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        # This handler runs before the general before-call ones, so it counts the call itself.
        count(model=model)
        # `params` is the serialized request: JSON services carry the call's parameters as body.
        body = params.get("body") or b"{}"
        try:
            request = json.loads(body) if isinstance(body, bytes | str) else {}
        except ValueError:
            request = {}  # a query-protocol body (EC2): the answers here do not read it
        parsed = answer(request if isinstance(request, dict) else {})
        parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
        return AWSResponse("https://sandbox.invalid/", 200, {}, None), parsed

    return handler
