"""boto3 clients for the sandbox: moto in process, LookupEvents at the stand-in, and local
answers where moto cannot give a believable one.

- Pricing GetProducts: moto has no Pricing API; the sandbox's price list answers (prices.py).
- EC2 DescribeRegions: moto lists every region of every partition (China and GovCloud too) as
  enabled; a sandbox account has the regions it was given.
- CloudFormation DescribeStacks: moto's CloudFormation needs its server extras; the sandbox's
  stacks (`add_stack`) are answered as CloudFormation does, a missing one a ValidationError.

They are answered in botocore's `before-call` event, which ends the call with the answer before a
request is made, so the product's own code (PriceBook, enabled_regions) parses and uses them;
`AwsClients.calls` counts them like any other call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config

from bot.sandbox.prices import PriceList
from bot.wiring import AWS_CLIENT_CONFIG, AwsClients

Answer = Callable[[Mapping[str, Any], str], dict[str, Any]]  # (request, region) → response


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
        local_pricing: bool = True,
    ) -> None:
        """`local_pricing=False` leaves GetProducts to the pricing endpoint (one that fails)."""
        super().__init__(session, endpoints, config)
        prices = PriceList(price_regions)
        self._stacks: dict[str, list[dict[str, Any]]] = {}  # region → DescribeStacks entries
        self._answers: dict[tuple[str, str], Answer] = {
            ("ec2", "DescribeRegions"): lambda _, __: regions_answer(enabled_regions),
            ("cloudformation", "DescribeStacks"): self._describe_stacks,
        }
        if local_pricing:
            self._answers[("pricing", "GetProducts")] = lambda request, _: prices.get_products(
                request
            )
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
                            _answering(answer, region, self._count),
                        )
        return client

    def add_stack(self, region: str, stack: Mapping[str, Any]) -> None:
        """A stack as DescribeStacks lists it (StackName, StackId, CreationTime, Tags…)."""
        with self._prepare_lock:
            self._stacks.setdefault(region, []).append(dict(stack))

    def _describe_stacks(self, request: Mapping[str, Any], region: str) -> dict[str, Any]:
        wanted = request.get("StackName")
        with self._prepare_lock:
            stacks = list(self._stacks.get(region, []))
        if wanted:
            stacks = [s for s in stacks if wanted in (s.get("StackName"), s.get("StackId"))]
            if not stacks:
                message = f"Stack with id {wanted} does not exist"
                return {"Error": {"Code": "ValidationError", "Message": message}}
        return {"Stacks": stacks}


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
    answer: Answer, region: str, count: Callable[..., None]
) -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
    def handler(
        params: Mapping[str, Any], model: Any, **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        # This handler runs before the general before-call ones, so it counts the call itself.
        count(model=model)
        # `params` is the serialized request: JSON services carry the call's parameters as body.
        body = params.get("body") or b"{}"
        parsed = answer(_request(body), region)
        status = 400 if "Error" in parsed else 200  # botocore raises ClientError from an Error
        parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status, "RetryAttempts": 0})
        return AWSResponse("https://sandbox.invalid/", status, HTTPHeaders(), None), parsed

    return handler


def _request(body: Any) -> dict[str, Any]:
    """The call's parameters: a JSON body as it is, a query-protocol body (EC2, CloudFormation)
    as its form fields."""
    if isinstance(body, Mapping):
        return dict(body)  # botocore keeps a query body as a dict until the request is sent
    text = body.decode() if isinstance(body, bytes) else str(body)
    try:
        request = json.loads(text)
    except ValueError:
        return dict(parse_qsl(text))
    return request if isinstance(request, dict) else {}
