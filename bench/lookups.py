"""Lookup benchmarks: a busy resource, an id with no region, the same id again.

Ours is the product's own path: `wiring.build` → `LookupService` (creators cache) → `TrailFinder`
(creation-time hint, bisection, region fan-out, the 2 requests/s limiter). Naive is what a script
does: page LookupEvents by ResourceName, newest first, until the creation event shows up; region
by region when the region is unknown; no cache. Both sides run in warm processes: their boto3
clients are made before the clock starts, as in a bot that has been running.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.registry import Benchmark, Figures, Run, register

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

HOME = "us-east-1"
# The naive script's own table: which event creates an id with this prefix.
NAIVE_CREATION_EVENTS = {"i": "RunInstances", "vol": "CreateVolume", "nat": "CreateNatGateway"}


# Seeding (parent) ------------------------------------------------------------------------------


def seed_instance(sandbox: Sandbox, region: str, created: datetime, events: int) -> str:
    """A moto instance made at `created` by alice, and `events` CloudTrail events about it."""
    from bot.sandbox.records import busy_history, iam_user

    (instance_id,) = sandbox.launch(region, [created])
    until = datetime.now(UTC) - timedelta(minutes=30)
    history = busy_history(
        instance_id,
        created,
        until,
        events,
        iam_user("alice"),
        image_id=sandbox.image(region),
        region=region,
    )
    sandbox.trail.add_many(history)
    return instance_id


# Ours (child) --------------------------------------------------------------------------------


def _services(store_url: str | None = None) -> Any:
    from bench.clients import ours_clients
    from bot.config import Settings
    from bot.store import Store
    from bot.wiring import build

    store = Store.open(store_url) if store_url else Store.in_memory()
    return build(Settings(aws_region=HOME), store=store, aws=ours_clients(), with_app=False)


def _ours(
    instance_id: str, region: str | None, warm: list[str], store_url: str | None = None
) -> Figures:
    from bot.core.refs import parse

    services = _services(store_url)
    for name in warm:
        services.aws("cloudtrail", name)
        services.aws("ec2", name)
    started = time.perf_counter()
    answer = services.lookups.lookup(parse(instance_id), region)
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "found": answer.found,
        "creator": answer.fact.actor.name if answer.fact else None,
        "source": answer.source.value,
        "regions_searched": len(answer.regions_searched),
        "client_calls": dict(sorted(services.aws.calls.items())),  # boto3 calls, as AwsClients saw
    }


# Naive (child) -------------------------------------------------------------------------------


def _trail_client(region: str) -> Any:
    from bench.clients import naive_client

    # Retries generous enough that throttling slows it down rather than failing it.
    return naive_client("cloudtrail", region)


def _page_until_creation(client: Any, instance_id: str) -> tuple[dict[str, Any] | None, int]:
    """(creation event or None, pages read): every page, newest first, until the creation."""
    wanted = NAIVE_CREATION_EVENTS[instance_id.split("-", 1)[0]]
    pages = 0
    paginator = client.get_paginator("lookup_events")
    attribute = {"AttributeKey": "ResourceName", "AttributeValue": instance_id}
    for page in paginator.paginate(LookupAttributes=[attribute]):
        pages += 1
        for event in page["Events"]:
            if event["EventName"] == wanted:
                return event, pages
    return None, pages


def _naive(instance_id: str, regions: list[str] | None) -> Figures:
    """`regions` None: list them (DescribeRegions) and search one after another."""
    from bench.clients import naive_client

    ec2 = naive_client("ec2", HOME)
    clients = {name: _trail_client(name) for name in regions or []}
    started = time.perf_counter()
    if regions is None:
        regions = [region["RegionName"] for region in ec2.describe_regions()["Regions"]]
    event, pages, searched = None, 0, 0
    for region in regions:
        searched += 1
        client = clients.get(region) or _trail_client(region)
        event, read = _page_until_creation(client, instance_id)
        pages += read
        if event is not None:
            break
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "found": event is not None,
        "creator": event.get("Username") if event else None,
        "pages": pages,
        "regions_searched": searched,
    }


def _lookup_events(figures: Figures) -> int:
    return int(figures["aws_calls"].get("cloudtrail:LookupEvents", 0))


def _accepted_lookup_events(figures: Figures) -> int:
    """LookupEvents requests that were answered (throttled ones are counted apart)."""
    return _lookup_events(figures) - int(figures.get("throttled_calls", 0))


# lookup-busy ---------------------------------------------------------------------------------


def _busy_scale(quick: bool) -> dict[str, Any]:
    return {"events": 1_250 if quick else 5_000, "days": 90, "region_given": True}


def _busy_setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    created = datetime.now(UTC) - timedelta(days=89)
    return {"id": seed_instance(sandbox, HOME, created, scale["events"])}


def _busy_ours(context: Mapping[str, Any]) -> Figures:
    return _ours(context["id"], HOME, [HOME])


def _busy_naive(context: Mapping[str, Any]) -> Figures:
    return _naive(context["id"], [HOME])


def _busy_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    calls = _lookup_events(ours)
    return {
        "lookup_events_at_most_2": 1 <= calls <= 2,
        "20x_fewer_lookup_events_than_naive": _accepted_lookup_events(naive) >= 20 * max(calls, 1),
        "same_creator_found": ours["found"] and ours["creator"] == naive["creator"] == "alice",
    }


register(
    Benchmark(
        name="lookup-busy",
        scale=_busy_scale,
        setup=_busy_setup,
        runs=(Run("ours", _busy_ours), Run("naive", _busy_naive)),
        targets=_busy_targets,
        counted_targets=(
            "lookup_events_at_most_2",
            "20x_fewer_lookup_events_than_naive",
            "same_creator_found",
        ),
    )
)


# lookup-any-region ---------------------------------------------------------------------------


def _any_region_scale(quick: bool) -> dict[str, Any]:
    return {"regions": 17, "latency_ms": 50, "events": 20}


def _any_region_setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    from bench.sandbox import ENABLED_REGIONS

    regions = list(ENABLED_REGIONS[: scale["regions"]])
    last = regions[-1]  # searched last by both sides: the naive loop, and ours after HOME
    created = datetime.now(UTC) - timedelta(days=10)
    sandbox.warm_regions(regions)
    sandbox.set_latency(scale["latency_ms"] / 1000)
    return {
        "id": seed_instance(sandbox, last, created, scale["events"]),
        "regions": regions,
        "last": last,
    }


def _any_region_ours(context: Mapping[str, Any]) -> Figures:
    return _ours(context["id"], None, context["regions"])


def _any_region_naive(context: Mapping[str, Any]) -> Figures:
    return _naive(context["id"], None)


def _one_region_ours(context: Mapping[str, Any]) -> Figures:
    return _ours(context["id"], context["last"], [context["last"]])


def _one_region_naive(context: Mapping[str, Any]) -> Figures:
    return _naive(context["id"], [context["last"]])


def _with_single_region(
    runs: Mapping[str, Figures], context: Mapping[str, Any]
) -> tuple[Figures, Figures]:
    def side(name: str) -> Figures:
        single = runs[f"{name}-single-region"]
        return {
            **runs[name],
            "single_region_wall_s": single["wall_s"],
            "single_region_aws_calls": single["aws_calls"],
        }

    return side("ours"), side("naive")


def _any_region_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    return {
        "within_2x_of_single_region": ours["wall_s"] <= 2 * ours["single_region_wall_s"],
        "found_in_the_last_region": ours["found"] and naive["found"],
    }


register(
    Benchmark(
        name="lookup-any-region",
        scale=_any_region_scale,
        setup=_any_region_setup,
        runs=(
            Run("ours", _any_region_ours),
            Run("ours-single-region", _one_region_ours),
            Run("naive", _any_region_naive),
            Run("naive-single-region", _one_region_naive),
        ),
        targets=_any_region_targets,
        assemble=_with_single_region,
        counted_targets=("found_in_the_last_region",),
    )
)


# lookup-cached -------------------------------------------------------------------------------


def _cached_scale(quick: bool) -> dict[str, Any]:
    return {"events": 200 if quick else 500, "region_given": True}


def _cached_setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    created = datetime.now(UTC) - timedelta(days=30)
    store = sandbox.folder / "creators.sqlite3"
    return {
        "id": seed_instance(sandbox, HOME, created, scale["events"]),
        "store": f"sqlite:///{store}",
    }


def _cached_first(context: Mapping[str, Any]) -> Figures:
    return _ours(context["id"], HOME, [HOME], context["store"])


def _with_first_lookup(
    runs: Mapping[str, Figures], context: Mapping[str, Any]
) -> tuple[Figures, Figures]:
    ours = {**runs["ours"], "first_lookup_aws_calls": runs["first-lookup"]["aws_calls"]}
    return ours, runs["naive"]


def _cached_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    return {
        "zero_aws_calls": not any(ours["aws_calls"].values()) and not ours["client_calls"],
        "same_creator_found": ours["found"] and ours["creator"] == naive["creator"] == "alice",
    }


register(
    Benchmark(
        name="lookup-cached",
        scale=_cached_scale,
        setup=_cached_setup,
        runs=(
            Run("first-lookup", _cached_first),
            Run("ours", _cached_first),
            Run("naive", _busy_naive),
        ),
        targets=_cached_targets,
        assemble=_with_first_lookup,
        counted_targets=("zero_aws_calls", "same_creator_found"),
    )
)
