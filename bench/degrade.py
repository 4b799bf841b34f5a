"""Degrade, don't crawl: a patrol round with the Pricing API answering HTTP 500 to everything,
against the same round with it working.

The fleet is scan-1k's, smaller (bench/scans.py seeds it). Three runs, each in its own process:
- working: the product's round, prices answered from the sandbox's price list;
- ours: the same round, the Pricing API at an endpoint that answers HTTP 500 to every request.
  The round asks it once (and retries once), then says "no price" for the rest;
- naive: what each idle resource cost before, when every one asked again through the default
  retries (9 attempts with backoff): measured on a sample of resources, scaled to the idle ones,
  added to the working round.
Target: ours within 2x of working. Pricing requests are counted as sent (each retry counts).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bench.registry import Benchmark, Figures, Run, register

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

HOME = "us-east-1"
GET_PRODUCTS = "pricing:GetProducts"


def _scale(quick: bool) -> dict[str, Any]:
    from bench.scans import LOOKBACK_DAYS

    n = 20 if quick else 60
    return {
        "instances": n,
        "volumes": 2,
        "addresses": 1,
        "nat_gateways": 1,
        "load_balancers": 1,
        "lookback_days": LOOKBACK_DAYS,
        "naive_sample": 1 if quick else 3,
    }


def _setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    from bench.scans import _setup as seed_fleet
    from bot.sandbox.failing_api import FailingServer

    context = seed_fleet(sandbox, scale)
    down = sandbox.adopt(FailingServer(service="pricing"))
    return {**context, "pricing_down": down.endpoint_url}


def _round(context: Mapping[str, Any], *, pricing_down: bool) -> Figures:
    import boto3

    from bench.clients import ours_config
    from bot.aws.pricing import PRICING_REGION
    from bot.config import Settings
    from bot.core.policy import Actions, Policy
    from bot.sandbox.aws_clients import SandboxClients
    from bot.store import Store
    from bot.wiring import build, build_patrol

    now = datetime.fromisoformat(context["now"])
    policy = Policy(regions=(HOME,), actions=Actions(write_tags=False))
    settings = Settings(aws_region=HOME, aws_regions=(HOME,), policy=policy)
    aws = SandboxClients(
        boto3.Session(),
        {"pricing": context["pricing_down"]} if pricing_down else {},
        enabled_regions=(HOME,),
        price_regions=(HOME,),
        config=ours_config(),
        local_pricing=not pricing_down,
    )
    sent: list[str] = []  # every HTTP request to the Pricing API, retries included
    aws("pricing", PRICING_REGION).meta.events.register(
        "before-send.pricing", lambda **_: sent.append(GET_PRODUCTS)
    )
    # A store of its own: both rounds find their owners in CloudTrail, neither in a cache.
    services = build(settings, store=Store.in_memory(), aws=aws, clock=lambda: now, with_app=False)
    patrol, _ = build_patrol(services)
    started = time.perf_counter()
    result = patrol.run()
    wall = time.perf_counter() - started
    summary = result.summary()
    return {
        "wall_s": round(wall, 3),
        "idle": summary["idle"],
        "unpriced": summary["unpriced"],
        "pricing_requests": len(sent),
        "notes": [note for note in summary["notes"] if "Pricing" in note],
    }


def _working(context: Mapping[str, Any]) -> Figures:
    return _round(context, pricing_down=False)


def _failing(context: Mapping[str, Any]) -> Figures:
    return _round(context, pricing_down=True)


def _naive(context: Mapping[str, Any]) -> Figures:
    """A failing GetProducts with the default retries, once per sampled resource."""
    import boto3
    from botocore.exceptions import ClientError

    from bench.clients import stand_in_timeouts
    from bot.wiring import AWS_CLIENT_CONFIG

    # The product's default retries are what is measured; only the timeouts are the stand-ins'.
    pricing = boto3.client(
        "pricing",
        region_name=HOME,
        endpoint_url=context["pricing_down"],
        config=AWS_CLIENT_CONFIG.merge(stand_in_timeouts()),
    )
    sent: list[str] = []
    pricing.meta.events.register("before-send.pricing", lambda **_: sent.append(GET_PRODUCTS))
    sample = context["scale"]["naive_sample"]
    started = time.perf_counter()
    for _ in range(sample):
        # The endpoint always fails: what it costs is what is measured.
        with contextlib.suppress(ClientError):
            pricing.get_products(ServiceCode="AmazonEC2", FormatVersion="aws_v1")
    per_resource = (time.perf_counter() - started) / max(1, sample)
    return {
        "wall_s": round(per_resource * sample, 3),
        "per_resource_s": round(per_resource, 3),
        "pricing_requests_per_resource": len(sent) / max(1, sample),
        "sample": sample,
    }


def _assemble(runs: Mapping[str, Figures], context: Mapping[str, Any]) -> tuple[Figures, Figures]:
    working, ours, naive = runs["working"], dict(runs["ours"]), dict(runs["naive"])
    ours["working_wall_s"] = working["wall_s"]
    ours["working_pricing_requests"] = working["pricing_requests"]
    ours["vs_working"] = round(ours["wall_s"] / max(working["wall_s"], 1e-6), 2)
    idle = ours["idle"]
    scaled = {
        **naive,
        "wall_s": round(working["wall_s"] + naive["per_resource_s"] * idle, 3),
        "pricing_requests": round(naive["pricing_requests_per_resource"] * idle),
        "scaled_from": f"{naive['sample']} resources' failing GetProducts, x{idle} idle, "
        "plus the working round",
    }
    return ours, scaled


def _targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    return {
        "within_2x_of_working": ours["wall_s"] <= 2 * ours["working_wall_s"],
        "pricing_asked_at_most_twice": ours["pricing_requests"] <= 2,
        "says_no_price": ours["unpriced"] == ours["idle"] > 0
        and any(note.startswith("no price: the Pricing API failed") for note in ours["notes"]),
    }


register(
    Benchmark(
        name="scan-pricing-down",
        scale=_scale,
        setup=_setup,
        runs=(Run("working", _working), Run("ours", _failing), Run("naive", _naive)),
        targets=_targets,
        assemble=_assemble,
        counted_targets=("pricing_asked_at_most_twice", "says_no_price"),
    )
)
