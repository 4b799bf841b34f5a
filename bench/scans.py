"""Scan benchmarks: a patrol round over a fleet of N instances, and the same round again.

The fleet (one region): N instances made by alice, bob, carol and dave in turn with Terraform, the
CLI and the console, every other one idle (bot/sandbox/fleet.py's FleetSeeder), plus unattached
volumes, unassociated addresses, NAT gateways without traffic and application load balancers
without requests; a creation event for every resource, hourly CloudWatch data in the indexed
stand-in. The sides run on a fixed clock some days after the fleet was made, so a 7-day look-back
is full.

Ours is the product's round, assembled as `wiring.build_patrol` does: inventory, MetricsReader
batches at the GetMetricData stand-in, OwnerResolver with BulkCreators (one LookupEvents pass per
creation event name) and the creators cache in a SQLite store, and the real PriceBook answered by
the sandbox's price list. The policy keeps `write_tags` off, so a second round finds owners in the
cache, not in tags the first one wrote.

Naive is Cloud Custodian's metrics filter: describe everything, one GetMetricStatistics call per
resource and metric, and one LookupEvents (ResourceName) per resource. Both naive parts may be
measured on a sample and scaled to the whole fleet; `scaled_from` says what was measured.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.registry import Benchmark, Figures, Run, register

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

HOME = "us-east-1"
LOOKBACK_DAYS = 7
# Metrics per resource the idle rules read (bot.core.idle.METRICS): instance CPU and network in
# and out; a NAT gateway's bytes out and in; an application load balancer's request count.
METRICS_PER = {"instances": 3, "nat_gateways": 2, "load_balancers": 1}
PEAK_RSS_LIMIT_MB = 300
GET_METRIC_DATA = "monitoring:GetMetricData"
GET_METRIC_STATISTICS = "monitoring:GetMetricStatistics"
LOOKUP_EVENTS = "cloudtrail:LookupEvents"


# Scale ---------------------------------------------------------------------------------------


def _scale(instances: int, quick_instances: int) -> Any:
    def scale(quick: bool) -> dict[str, Any]:
        n = quick_instances if quick else instances
        return {
            "instances": n,
            "volumes": max(2, n // 100),
            "addresses": max(1, n // 200),
            "nat_gateways": max(1, n // 500),
            "load_balancers": max(1, n // 500),
            "lookback_days": LOOKBACK_DAYS,
            # 2 LookupEvents a second: 100 lookups are ~50 s of the naive side.
            "naive_trail_sample": 4 if quick else 100,
            # GetMetricStatistics is cheap locally, but 30,000 calls are minutes: sample instances.
            "naive_metric_sample": min(n, 1_000),
        }

    return scale


def expected_get_metric_data(scale: Mapping[str, Any]) -> int:
    """⌈queries / queries-per-call⌉ (DESIGN.md §5), checked against the product's own sum."""
    from bot.aws.metrics import calls_needed

    queries = sum(scale[kind] * per for kind, per in METRICS_PER.items())
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
    seeder.fleet(scale["instances"])
    _others(seeder, scale)
    now = sandbox_now(seeder.first)
    # The stand-in keeps 90 days before its own "now": the sides' clock, not this machine's.
    sandbox.trail.clock = lambda: now
    seeder.metrics(now)
    idle = sum(1 for seeded in seeder.made.values() if seeded.idle)
    return {
        "now": now.isoformat(),
        "store": f"sqlite:///{sandbox.folder / 'creators.sqlite3'}",
        "seeded_idle": idle,
        "ids": {kind: [s.id for s in seeder.made.values() if s.type == kind] for kind in _KINDS},
    }


_KINDS = (
    "AWS::EC2::Instance",
    "AWS::EC2::Volume",
    "AWS::EC2::EIP",
    "AWS::EC2::NatGateway",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
)


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

    def owner_name(person: str) -> str:
        from bot.sandbox.fleet import BY_KEY

        return BY_KEY[person].aws_name

    for number in range(scale["volumes"]):
        person, identity = who(number)
        volume = seeder.made_volume(HOME, identity, agent, size=20)
        _remember(seeder, f"vol-{number}", EBS_VOLUME, volume["VolumeId"], owner_name(person))
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
        _remember(seeder, f"eip-{number}", ELASTIC_IP, address["AllocationId"], owner_name(person))
    for number in range(scale["nat_gateways"]):
        person, identity = who(number)
        subnet = subnets[number % len(subnets)]
        # A NAT gateway's own address is associated, so not idle: it is not counted as one.
        nat_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = seeder.made_nat_gateway(HOME, identity, agent, subnet, nat_address)
        _remember(seeder, f"nat-{number}", NAT_GATEWAY, nat["NatGatewayId"], owner_name(person))
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
        _remember(seeder, name, LOAD_BALANCER, arn, owner_name(person))


def _remember(seeder: Any, label: str, kind: str, resource_id: str, creator: str) -> None:
    seeder.remember(
        label,
        kind,
        resource_id,
        HOME,
        creator=creator,
        tool="AWS CLI",
        owner=creator,
        idle=True,
        event=None,
    )


# Ours (child) --------------------------------------------------------------------------------


def _round(context: Mapping[str, Any]) -> Figures:
    """One patrol round as `wiring.build_patrol` assembles it, timed from Patrol.run()."""
    import boto3
    from botocore.config import Config

    from bot.config import Settings
    from bot.core.policy import Actions, Policy
    from bot.sandbox.aws_clients import SandboxClients
    from bot.store import Store
    from bot.wiring import AWS_CLIENT_CONFIG, build, build_patrol

    now = datetime.fromisoformat(context["now"])
    policy = Policy(regions=(HOME,), actions=Actions(write_tags=False))
    settings = Settings(aws_region=HOME, aws_regions=(HOME,), policy=policy)
    # Endpoints come from the environment the runner gives (the bridge and the stand-ins); only
    # the Pricing API is answered locally, from the sandbox's price list.
    # moto, playing the account, takes far longer than AWS to describe thousands of resources:
    # a longer read timeout than the product's, so its slowness is not retried into a stall.
    aws = SandboxClients(
        boto3.Session(),
        {},
        enabled_regions=(HOME,),
        price_regions=(HOME,),
        config=AWS_CLIENT_CONFIG.merge(Config(read_timeout=600)),
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
    return {
        "wall_s": round(wall, 3),
        "scanned": summary["scanned"],
        "idle": summary["idle"],
        "busy": summary["busy"],
        "not_judged": summary["not_judged"],
        "seeded_idle": context["seeded_idle"],
        "unknown_owner": summary["unknown_owner"],
        "owners": summary["owners"],
        "monthly_cost_usd": summary["monthly_cost_usd"],
        "unpriced": summary["unpriced"],
        "notes": summary["notes"][:5],
        "client_calls": dict(sorted(aws.calls.items())),  # Pricing included (answered locally)
    }


# Naive (child) -------------------------------------------------------------------------------


def _naive(context: Mapping[str, Any]) -> Figures:
    """Describe everything, GetMetricStatistics per resource and metric (on a sample of the
    instances), LookupEvents per resource (on a sample): the figures to scale from."""
    import boto3
    from botocore.config import Config

    scale = context["scale"]
    now = datetime.fromisoformat(context["now"])
    retries = Config(retries={"mode": "standard", "max_attempts": 10})
    ec2 = boto3.client("ec2", region_name=HOME)
    cloudwatch = boto3.client("cloudwatch", region_name=HOME)
    trail = boto3.client("cloudtrail", region_name=HOME, config=retries)
    elbv2 = boto3.client("elbv2", region_name=HOME)

    started = time.perf_counter()
    instances = [
        instance["InstanceId"]
        for page in ec2.get_paginator("describe_instances").paginate()
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
    ]
    volumes = [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]]
    addresses = [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]]
    nats = [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"]]
    balancers = [b["LoadBalancerArn"] for b in elbv2.describe_load_balancers()["LoadBalancers"]]
    describe_s = time.perf_counter() - started

    end = now.replace(minute=0, second=0, microsecond=0)
    window = {"StartTime": end - timedelta(days=LOOKBACK_DAYS), "EndTime": end, "Period": 3600}
    metrics: list[tuple[str, str, str, str, str]] = []  # namespace, metric, dim, value, stat
    for instance_id in instances[: scale["naive_metric_sample"]]:
        metrics += [
            ("AWS/EC2", "CPUUtilization", "InstanceId", instance_id, "Maximum"),
            ("AWS/EC2", "NetworkIn", "InstanceId", instance_id, "Sum"),
            ("AWS/EC2", "NetworkOut", "InstanceId", instance_id, "Sum"),
        ]
    for nat in nats:
        for name in ("BytesOutToDestination", "BytesInFromSource"):
            metrics.append(("AWS/NATGateway", name, "NatGatewayId", nat, "Sum"))
    for arn in balancers:
        value = arn.partition(":loadbalancer/")[2]
        metrics.append(("AWS/ApplicationELB", "RequestCount", "LoadBalancer", value, "Sum"))
    started = time.perf_counter()
    idle_cpu = 0
    for namespace, name, dimension, value, stat in metrics:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=name,
            Dimensions=[{"Name": dimension, "Value": value}],
            Statistics=[stat],
            **window,
        )["Datapoints"]
        if name == "CPUUtilization" and max((p[stat] for p in points), default=0.0) < 5:
            idle_cpu += 1
    metrics_s = time.perf_counter() - started

    resources = instances + volumes + addresses + nats + balancers
    sample = resources[:: max(1, len(resources) // scale["naive_trail_sample"])]
    sample = sample[: scale["naive_trail_sample"]]
    started = time.perf_counter()
    creators = 0
    for resource_id in sample:
        events = trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": resource_id}],
            MaxResults=50,
        )["Events"]
        creators += any(e["EventName"].startswith(("Run", "Create", "Allocate")) for e in events)
    lookups_s = time.perf_counter() - started
    return {
        "wall_s": round(describe_s + metrics_s + lookups_s, 3),
        "describe_s": round(describe_s, 3),
        "metrics_s": round(metrics_s, 3),
        "lookups_s": round(lookups_s, 3),
        "resources": len(resources),
        "metric_queries_total": sum(
            len(ids) * METRICS_PER[kind]
            for kind, ids in (
                ("instances", instances),
                ("nat_gateways", nats),
                ("load_balancers", balancers),
            )
        ),
        "metric_queries_measured": len(metrics),
        "lookups_measured": len(sample),
        "creations_found_in_sample": creators,
        "idle_cpu_in_sample": idle_cpu,
    }


# Assembling and judging (parent) -------------------------------------------------------------


def _scaled_naive(naive: Figures) -> Figures:
    """Measured figures scaled to the whole fleet; `scaled_from` keeps what was measured."""
    measured = dict(naive["aws_calls"])
    calls = dict(measured)
    metric_factor = naive["metric_queries_total"] / max(1, naive["metric_queries_measured"])
    trail_factor = naive["resources"] / max(1, naive["lookups_measured"])
    # Throttled requests were retried: scale the answered ones, one per resource looked up.
    answered = measured.get(LOOKUP_EVENTS, 0) - int(naive.get("throttled_calls", 0))
    calls[GET_METRIC_STATISTICS] = round(measured.get(GET_METRIC_STATISTICS, 0) * metric_factor)
    calls[LOOKUP_EVENTS] = round(answered * trail_factor)
    wall = naive["describe_s"] + naive["metrics_s"] * metric_factor
    wall += naive["lookups_s"] * trail_factor
    return {
        **naive,
        "aws_calls": dict(sorted(calls.items())),
        "wall_s": round(wall, 3),
        "scaled_from": {
            "aws_calls": measured,
            "wall_s": naive["wall_s"],
            "get_metric_statistics": f"{naive['metric_queries_measured']} of "
            f"{naive['metric_queries_total']} metric queries, x{metric_factor:.2f}",
            "lookup_events": f"{naive['lookups_measured']} of {naive['resources']} resources, "
            f"x{trail_factor:.2f}",
        },
    }


def _assemble(runs: Mapping[str, Figures]) -> tuple[Figures, Figures]:
    ours = dict(runs["ours"])
    if "first-round" in runs:
        first = runs["first-round"]
        ours["first_round_aws_calls"] = first["aws_calls"]
        ours["first_round_wall_s"] = first["wall_s"]
    return ours, _scaled_naive(runs["naive"])


def _common_targets(ours: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    expected = expected_get_metric_data(scale)
    return {
        "get_metric_data_calls_as_designed": ours["aws_calls"].get(GET_METRIC_DATA, 0) == expected,
        "idle_as_seeded": ours["idle"] == ours["seeded_idle"],
        "every_idle_owner_named": ours["idle"] > 0 and ours["unknown_owner"] == 0,
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


_COUNTED = ("get_metric_data_calls_as_designed", "idle_as_seeded", "every_idle_owner_named")

for _name, _instances, _quick in (("scan-1k", 1_000, 200), ("scan-10k", 10_000, 500)):
    register(
        Benchmark(
            name=_name,
            scale=_scale(_instances, _quick),
            setup=_setup,
            runs=(Run("ours", _round), Run("naive", _naive)),
            targets=_scan_targets,
            assemble=_assemble,
            counted_targets=(*_COUNTED, "10x_fewer_lookup_events_than_naive"),
        )
    )

register(
    Benchmark(
        name="scan-10k-again",
        scale=_scale(10_000, 500),
        setup=_setup,
        runs=(Run("first-round", _round), Run("ours", _round), Run("naive", _naive)),
        targets=_again_targets,
        assemble=_assemble,
        counted_targets=(*_COUNTED, "zero_lookup_events"),
    )
)
