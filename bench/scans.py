"""Scan benchmarks: a patrol round over a fleet of N instances, and the same round again.

The fleet (one region): N instances made by alice, bob, carol and dave in turn with Terraform, the
CLI and the console, every other one idle (bot/sandbox/fleet.py's FleetSeeder), plus unattached
volumes, unassociated addresses, NAT gateways without traffic and application load balancers
without requests, and bob's Auto Scaling group, whose two idle instances Auto Scaling launched
(their owner is bob, through the group); a creation event for every resource, hourly CloudWatch
data in the indexed stand-in. The sides run on a fixed clock some days after the fleet was made,
so a 7-day look-back is full.

Ours is the product's round, assembled as `wiring.build_patrol` does: inventory, MetricsReader
batches at the GetMetricData stand-in, OwnerResolver with BulkCreators (one LookupEvents pass per
creation event name) and the creators cache in a SQLite store, and the real PriceBook answered by
the sandbox's price list. The policy keeps `write_tags` off, so a second round finds owners in the
cache, not in tags the first one wrote.

Naive (bench/scan_naive.py) is Cloud Custodian's way: describe everything, one
GetMetricStatistics call per resource and metric, then one LookupEvents search (ResourceName,
paged) per idle resource. At 1,000 instances it is measured in full; at 10,000 on a sample,
scaled, and `scaled_from` says what was measured.

The owners each side names are checked against the seeder's truth (bench/owner_truth.py), in
the parent process: the sides never see it.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench import scan_naive
from bench.owner_truth import check_owners, expected_owners
from bench.registry import PARENT_ONLY, Benchmark, Figures, Run, register

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

HOME = "us-east-1"
LOOKBACK_DAYS = 7
# Metrics per resource the idle rules read (bot.core.idle.METRICS): instance CPU and network in
# and out; a NAT gateway's bytes out and in; an application load balancer's request count.
METRICS_PER = {"instances": 3, "nat_gateways": 2, "load_balancers": 1}
AUTO_SCALING_INSTANCES = 2  # bob's group (FleetSeeder.auto_scaling_group)
PEAK_RSS_LIMIT_MB = 300
GET_METRIC_DATA = "monitoring:GetMetricData"
LOOKUP_EVENTS = scan_naive.LOOKUP_EVENTS


# Scale ---------------------------------------------------------------------------------------


def _scale(
    instances: int, quick_instances: int, naive_metric_sample: int | None, naive_lookups: int | None
) -> Any:
    """The fleet's size; the naive side's samples (None: measured in full, not scaled)."""

    def scale(quick: bool) -> dict[str, Any]:
        n = quick_instances if quick else instances
        return {
            "instances": n,
            "auto_scaling_instances": AUTO_SCALING_INSTANCES,
            "volumes": max(2, n // 100),
            "addresses": max(1, n // 200),
            "nat_gateways": max(1, n // 500),
            "load_balancers": max(1, n // 500),
            "lookback_days": LOOKBACK_DAYS,
            # CloudTrail answers 2 LookupEvents a second: 100 idle resources are ~50 s, 5,000
            # over 40 minutes.
            "naive_owner_lookups": 6 if quick else naive_lookups,
            # GetMetricStatistics: 3 to 4 ms a call here, 30,000 calls are minutes.
            "naive_metric_sample": None if quick else naive_metric_sample,
        }

    return scale


def expected_get_metric_data(scale: Mapping[str, Any]) -> int:
    """⌈queries / queries-per-call⌉ (DESIGN.md §5), checked against the product's own sum."""
    from bot.aws.metrics import calls_needed

    queries = sum(scale[kind] * per for kind, per in METRICS_PER.items())
    queries += scale["auto_scaling_instances"] * METRICS_PER["instances"]
    points = LOOKBACK_DAYS * 24  # hourly over the look-back: 168
    per_call = min(500, 100_800 // points)  # 500
    expected = math.ceil(queries / per_call)
    assert expected == calls_needed(queries, timedelta(days=LOOKBACK_DAYS)), "DESIGN §5 drifted"
    return expected


# Seeding (parent) ----------------------------------------------------------------------------


def _setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    import boto3

    from bot.sandbox.fleet import FleetSeeder
    from bot.sandbox.seed import sandbox_now

    session = boto3.Session(region_name=HOME)  # moto in this process (the sandbox's mock_aws)
    seeder = FleetSeeder(
        session,
        sandbox.trail,
        regions=(HOME,),
        metrics_server=sandbox.metrics,
        rng=random.Random(7),
    )
    # The group first: it lists the instances before and after launching, cheap while few.
    seeder.auto_scaling_group()
    seeder.fleet(scale["instances"])
    _others(seeder, scale)
    now = sandbox_now(seeder.first)
    # The stand-in keeps 90 days before its own "now": the sides' clock, not this machine's.
    sandbox.trail.clock = lambda: now
    seeder.metrics(now)
    owners = expected_owners(seeder.made.values())
    return {
        "now": now.isoformat(),
        "store": f"sqlite:///{sandbox.folder / 'creators.sqlite3'}",
        "seeded_idle": len(owners),
        PARENT_ONLY: {"owners": owners},
    }


def _others(seeder: Any, scale: Mapping[str, Any]) -> None:
    """Volumes, addresses, NAT gateways and load balancers, each with its creation event."""
    from bot.core.resources import EBS_VOLUME, ELASTIC_IP, LOAD_BALANCER, NAT_GATEWAY
    from bot.sandbox import records

    people = ("alice", "bob", "carol", "dave")
    ec2 = seeder.client("ec2", HOME)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"
    ]
    agent = records.CLI

    def who(number: int) -> tuple[str, Any]:
        person = people[number % len(people)]
        return person, seeder.identity(person, "AWS CLI", HOME)

    for number in range(scale["volumes"]):
        person, identity = who(number)
        volume = seeder.made_volume(HOME, identity, agent, size=20)
        _remember(seeder, f"vol-{number}", EBS_VOLUME, volume["VolumeId"], person)
    for number in range(scale["addresses"]):
        person, identity = who(number)
        address = ec2.allocate_address(Domain="vpc")
        when = seeder.created(datetime.now(UTC))
        seeder.add(
            records.allocate_address(
                address["AllocationId"],
                address["PublicIp"],
                when,
                identity,
                region=HOME,
                agent=agent,
            )
        )
        _remember(seeder, f"eip-{number}", ELASTIC_IP, address["AllocationId"], person)
    for number in range(scale["nat_gateways"]):
        person, identity = who(number)
        subnet = subnets[number % len(subnets)]
        # A NAT gateway's own address is associated, so not idle: it is not counted as one.
        nat_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = seeder.made_nat_gateway(HOME, identity, agent, subnet, nat_address)
        _remember(seeder, f"nat-{number}", NAT_GATEWAY, nat["NatGatewayId"], person)
    elbv2 = seeder.client("elbv2", HOME)
    for number in range(scale["load_balancers"]):
        person, identity = who(number)
        name = f"bench-alb-{number}"
        made_at = datetime.now(UTC)
        balancer = elbv2.create_load_balancer(
            Name=name, Subnets=[s["SubnetId"] for s in subnets[:2]], Type="application"
        )["LoadBalancers"][0]
        arn = balancer["LoadBalancerArn"]
        seeder.add(
            records.record(
                "CreateLoadBalancer",
                seeder.created(made_at),
                identity,
                region=HOME,
                agent=agent,
                source="elasticloadbalancing.amazonaws.com",
                request={"name": name, "type": "application", "subnets": [subnets[0]["SubnetId"]]},
                response={"loadBalancers": [{"loadBalancerArn": arn, "loadBalancerName": name}]},
            )
        )
        _remember(seeder, name, LOAD_BALANCER, arn, person)


def _remember(seeder: Any, label: str, kind: str, resource_id: str, person: str) -> None:
    """What the seeder knows of it: made by `person` (a key of fleet.BY_KEY), idle."""
    from bot.sandbox.fleet import BY_KEY

    seeder.remember(
        label,
        kind,
        resource_id,
        HOME,
        creator=BY_KEY[person].aws_name,
        tool="AWS CLI",
        owner=person,
        idle=True,
        event=None,
    )


# Ours (child) --------------------------------------------------------------------------------


def _round(context: Mapping[str, Any]) -> Figures:
    """One patrol round as `wiring.build_patrol` assembles it, timed from Patrol.run()."""
    import boto3

    from bench.clients import ours_config
    from bot.config import Settings
    from bot.core.policy import Actions, Policy
    from bot.sandbox.aws_clients import SandboxClients
    from bot.store import Store
    from bot.wiring import build, build_patrol

    now = datetime.fromisoformat(context["now"])
    policy = Policy(regions=(HOME,), actions=Actions(write_tags=False))
    settings = Settings(aws_region=HOME, aws_regions=(HOME,), policy=policy)
    # Endpoints come from the environment the runner gives (the bridge and the stand-ins); only
    # the Pricing API is answered locally, from the sandbox's price list.
    aws = SandboxClients(
        boto3.Session(),
        {},
        enabled_regions=(HOME,),
        price_regions=(HOME,),
        config=ours_config(),
    )
    services = build(
        settings,
        store=Store.open(context["store"]),
        aws=aws,
        clock=lambda: now,
        with_app=False,
    )
    patrol, _ = build_patrol(services)
    started = time.perf_counter()
    result = patrol.run()
    wall = time.perf_counter() - started
    summary = result.summary()
    sources = Counter(finding.owner.source.split(" ")[0] for finding in result.findings)
    return {
        "wall_s": round(wall, 3),
        "scanned": summary["scanned"],
        "idle": summary["idle"],
        "busy": summary["busy"],
        "not_judged": summary["not_judged"],
        "seeded_idle": context["seeded_idle"],
        "unknown_owner": summary["unknown_owner"],
        "owners": summary["owners"],
        "owner_sources": dict(sorted(sources.items())),
        "monthly_cost_usd": summary["monthly_cost_usd"],
        "unpriced": summary["unpriced"],
        "notes": summary["notes"][:5],
        "client_calls": dict(sorted(aws.calls.items())),  # Pricing included (answered locally)
        "owners_named": {
            finding.resource.id: finding.owner.aws_name if finding.owner.source != "none" else None
            for finding in result.findings
        },
    }


# Assembling and judging (parent) -------------------------------------------------------------


def _checked(figures: Figures, expected: Mapping[str, str], everything: bool) -> Figures:
    """The side's figures with its owners checked against the truth, instead of listed."""
    side = dict(figures)
    named = side.pop("owners_named")
    return {**side, **check_owners(named, expected, None if everything else list(named))}


def _assemble(runs: Mapping[str, Figures], context: Mapping[str, Any]) -> tuple[Figures, Figures]:
    expected = context[PARENT_ONLY]["owners"]
    ours = _checked(runs["ours"], expected, everything=True)
    if "first-round" in runs:
        first = _checked(runs["first-round"], expected, everything=True)
        ours["first_round_aws_calls"] = first["aws_calls"]
        ours["first_round_wall_s"] = first["wall_s"]
        ours["first_round_owners_correct"] = first["owners_correct"]
        if "reused_from" in first:
            ours["first_round_reused_from"] = first["reused_from"]
    scale = context["scale"]
    # The naive side is checked on what it looked up: everything idle when measured in full.
    full = scale["naive_metric_sample"] is None and scale["naive_owner_lookups"] is None
    naive = _checked(runs["naive"], expected, everything=full)
    return ours, scan_naive.scaled(naive, scale, len(expected))


def _common_targets(ours: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    expected = expected_get_metric_data(scale)
    return {
        "get_metric_data_calls_as_designed": ours["aws_calls"].get(GET_METRIC_DATA, 0) == expected,
        "idle_as_seeded": ours["idle"] == ours["seeded_idle"],
        "owners_as_seeded": ours["owners_correct"] == ours["seeded_idle"] > 0
        and ours["owners_wrong"] == ours["owners_missing"] == ours["named_not_idle"] == 0,
        f"peak_rss_under_{PEAK_RSS_LIMIT_MB}_mb": ours["peak_rss_mb"] < PEAK_RSS_LIMIT_MB,
    }


def _scan_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    calls = ours["aws_calls"].get(LOOKUP_EVENTS, 0)
    return {
        **_common_targets(ours, scale),
        "10x_fewer_lookup_events_than_naive": calls >= 1
        and naive["aws_calls"][LOOKUP_EVENTS] >= 10 * calls,
    }


def _again_targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    return {
        **_common_targets(ours, scale),
        "zero_lookup_events": ours["aws_calls"].get(LOOKUP_EVENTS, 0) == 0
        and ours["first_round_aws_calls"].get(LOOKUP_EVENTS, 0) > 0,
    }


_COUNTED = ("get_metric_data_calls_as_designed", "idle_as_seeded", "owners_as_seeded")
# At 10,000 the naive side measures 1,000 instances' metrics and looks up 100 idle resources'
# creators, then scales: in full it would be ~2 minutes of GetMetricStatistics and, at
# CloudTrail's 2 requests a second, over 40 minutes of LookupEvents, past the whole run's budget.
_SCAN_10K = _scale(10_000, 500, naive_metric_sample=1_000, naive_lookups=100)

register(
    Benchmark(
        name="scan-1k",
        scale=_scale(1_000, 200, naive_metric_sample=None, naive_lookups=None),
        setup=_setup,
        runs=(Run("ours", _round), Run("naive", scan_naive.run)),
        targets=_scan_targets,
        assemble=_assemble,
        counted_targets=(*_COUNTED, "10x_fewer_lookup_events_than_naive"),
    )
)
register(
    Benchmark(
        name="scan-10k",
        scale=_SCAN_10K,
        setup=_setup,
        runs=(Run("ours", _round), Run("naive", scan_naive.run)),
        targets=_scan_targets,
        assemble=_assemble,
        counted_targets=(*_COUNTED, "10x_fewer_lookup_events_than_naive"),
    )
)
# Right after scan-10k, its round is this one's first round (its creators cache is the store
# this round reads) and its naive side this one's: a naive script has no cache, so every round
# costs it the same.
register(
    Benchmark(
        name="scan-10k-again",
        scale=_SCAN_10K,
        setup=_setup,
        runs=(Run("first-round", _round), Run("ours", _round), Run("naive", scan_naive.run)),
        targets=_again_targets,
        assemble=_assemble,
        counted_targets=(*_COUNTED, "zero_lookup_events"),
        continues="scan-10k",
        reuses={"first-round": "ours", "naive": "naive"},
    )
)
