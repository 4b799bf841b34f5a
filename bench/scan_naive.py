"""The scan benchmarks' naive side: what a script in the manner of Cloud Custodian does.

Describe everything (paged, as boto3's paginators do); one GetMetricStatistics call per resource
and metric, judging each resource idle by the same thresholds as the product's default policy;
then, for each idle resource only, one LookupEvents search by ResourceName, paged newest first
until the creation event shows up (the script does not know when the resource was made), and the
event's user name as the owner. It paces its LookupEvents to CloudTrail's 2 requests a second, as
a careful script does: left to boto3's retries, hundreds of throttled lookups drain the standard
retry quota (a retried success gives back only its last retry's cost) and the script dies with a
ThrottlingException.

At full scale every part is measured, except where the scale names a sample (`naive_metric_sample`
instances, `naive_owner_lookups` idle resources): then `scaled()` turns what was measured into
whole-fleet figures and `scaled_from` says what was measured and by how much it was multiplied.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bench.registry import Figures

HOME = "us-east-1"
GET_METRIC_STATISTICS = "monitoring:GetMetricStatistics"
LOOKUP_EVENTS = "cloudtrail:LookupEvents"
# The script's idle rules, written as a policy would (the product's defaults, bot.core.policy).
MAX_CPU_PERCENT = 2.0
MAX_NETWORK_BYTES = 5 * 1024 * 1024
# The script's notion of a creation event.
CREATION_PREFIXES = ("Run", "Create", "Allocate")
LOOKUPS_PER_SECOND = 2  # CloudTrail's LookupEvents limit per account and region

Metric = tuple[str, str, str, str, str]  # namespace, metric, dimension, value, statistic
Window = Mapping[str, datetime]  # StartTime, EndTime


def run(context: Mapping[str, Any]) -> Figures:
    """The naive side (in its own process): describe, judge, look up the idle ones' creators."""
    from bench.clients import naive_client

    scale = context["scale"]
    now = datetime.fromisoformat(context["now"])
    ec2, elbv2 = naive_client("ec2", HOME), naive_client("elbv2", HOME)
    cloudwatch, trail = naive_client("cloudwatch", HOME), naive_client("cloudtrail", HOME)
    _pace(trail, "before-send.cloudtrail.LookupEvents", LOOKUPS_PER_SECOND)

    started = time.perf_counter()
    instances = [i for page in _pages(ec2, "describe_instances") for r in page["Reservations"]
                 for i in r["Instances"]]  # fmt: skip
    volumes = [v for page in _pages(ec2, "describe_volumes") for v in page["Volumes"]]
    addresses = ec2.describe_addresses()["Addresses"]
    nats = [n for page in _pages(ec2, "describe_nat_gateways") for n in page["NatGateways"]]
    balancers = [
        b for page in _pages(elbv2, "describe_load_balancers") for b in page["LoadBalancers"]
    ]
    describe_s = time.perf_counter() - started

    measured = instances[: scale["naive_metric_sample"]]
    end = now.replace(minute=0, second=0, microsecond=0)
    window = {"StartTime": end - timedelta(days=scale["lookback_days"]), "EndTime": end}
    started = time.perf_counter()
    idle = [
        i["InstanceId"] for i in measured if _instance_idle(cloudwatch, i["InstanceId"], window)
    ]
    idle += [v["VolumeId"] for v in volumes if v["State"] == "available"]
    idle += [a["AllocationId"] for a in addresses if "AssociationId" not in a]
    idle += [n["NatGatewayId"] for n in nats if _nat_idle(cloudwatch, n["NatGatewayId"], window)]
    idle += [
        b["LoadBalancerArn"]
        for b in balancers
        if b.get("Type") == "application" and _balancer_idle(cloudwatch, b, window)
    ]
    metrics_s = time.perf_counter() - started

    looked_up = _every(idle, scale["naive_owner_lookups"])
    started = time.perf_counter()
    owners: dict[str, str | None] = {}
    pages = 0
    for resource_id in looked_up:
        owners[resource_id], read = _creator(trail, resource_id)
        pages += read
    lookups_s = time.perf_counter() - started

    metric_calls = len(measured) * 3 + len(nats) * 2 + len(balancers)
    return {
        "wall_s": round(describe_s + metrics_s + lookups_s, 3),
        "describe_s": round(describe_s, 3),
        "metrics_s": round(metrics_s, 3),
        "lookups_s": round(lookups_s, 3),
        "resources": len(instances) + len(volumes) + len(addresses) + len(nats) + len(balancers),
        "instances": len(instances),
        "instances_measured": len(measured),
        "metric_queries_total": len(instances) * 3 + len(nats) * 2 + len(balancers),
        "metric_queries_measured": metric_calls,
        "idle": len(idle),
        "idle_looked_up": len(looked_up),
        "lookup_pages": pages,
        "owners_named": owners,
    }


def _pace(client: Any, event: str, per_second: float) -> None:
    """Space the client's requests (retries too) at least 1/per_second apart."""
    interval = 1 / per_second
    last = [-interval]

    def wait(**_: Any) -> None:
        time.sleep(max(0.0, last[0] + interval - time.monotonic()))
        last[0] = time.monotonic()

    client.meta.events.register(event, wait)


# The largest page each listing allows.
_PAGE_SIZES = {
    "describe_instances": 1000,
    "describe_volumes": 500,
    "describe_nat_gateways": 1000,
    "describe_load_balancers": 400,
}


def _pages(client: Any, operation: str) -> Iterator[dict[str, Any]]:
    """Every page of a listing, as large as the API allows."""
    config = {"PageSize": _PAGE_SIZES[operation]}
    yield from client.get_paginator(operation).paginate(PaginationConfig=config)


def _every(items: Sequence[str], sample: int | None) -> list[str]:
    """All of them, or `sample` of them spread evenly over the list."""
    if sample is None or sample >= len(items):
        return list(items)
    step = len(items) / sample
    return [items[int((n + 0.5) * step)] for n in range(sample)]  # the middle of each stretch


def _series(cloudwatch: Any, metric: Metric, window: Window) -> list[float]:
    namespace, name, dimension, value, statistic = metric
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": dimension, "Value": value}],
        Statistics=[statistic],
        Period=3600,
        **window,
    )["Datapoints"]
    return [float(point[statistic]) for point in points]


def _instance_idle(cloudwatch: Any, instance_id: str, window: Mapping[str, datetime]) -> bool:
    cpu = _series(
        cloudwatch, ("AWS/EC2", "CPUUtilization", "InstanceId", instance_id, "Maximum"), window
    )
    network = sum(
        sum(_series(cloudwatch, ("AWS/EC2", name, "InstanceId", instance_id, "Sum"), window))
        for name in ("NetworkIn", "NetworkOut")
    )
    return bool(cpu) and max(cpu) < MAX_CPU_PERCENT and network < MAX_NETWORK_BYTES


def _nat_idle(cloudwatch: Any, nat_id: str, window: Window) -> bool:
    return not any(
        sum(_series(cloudwatch, ("AWS/NATGateway", name, "NatGatewayId", nat_id, "Sum"), window))
        for name in ("BytesOutToDestination", "BytesInFromSource")
    )


def _balancer_idle(
    cloudwatch: Any, balancer: Mapping[str, Any], window: Mapping[str, datetime]
) -> bool:
    value = str(balancer["LoadBalancerArn"]).partition(":loadbalancer/")[2]
    metric = ("AWS/ApplicationELB", "RequestCount", "LoadBalancer", value, "Sum")
    return not sum(_series(cloudwatch, metric, window))


def _creator(trail: Any, resource_id: str) -> tuple[str | None, int]:
    """(the creation event's user name or None, pages read): newest first, to the creation."""
    attribute = {"AttributeKey": "ResourceName", "AttributeValue": resource_id}
    pages = 0
    for page in trail.get_paginator("lookup_events").paginate(LookupAttributes=[attribute]):
        pages += 1
        for event in page["Events"]:
            if str(event.get("EventName", "")).startswith(CREATION_PREFIXES):
                return event.get("Username"), pages
    return None, pages


# Scaling (parent) ------------------------------------------------------------------------------


def scaled(naive: Figures, scale: Mapping[str, Any], idle_in_fleet: int) -> Figures:
    """Whole-fleet figures from a sampled run; a run that measured everything, as it is.

    GetMetricStatistics scales by metric queries (all of them / those measured); LookupEvents by
    idle resources (the fleet's idle resources, as seeded, / those looked up), counting only
    answered requests, since throttled ones were retries.
    """
    if scale["naive_metric_sample"] is None and scale["naive_owner_lookups"] is None:
        return naive
    metric_factor = naive["metric_queries_total"] / max(1, naive["metric_queries_measured"])
    lookup_factor = idle_in_fleet / max(1, naive["idle_looked_up"])
    measured = dict(naive["aws_calls"])
    answered = measured.get(LOOKUP_EVENTS, 0) - int(naive.get("throttled_calls", 0))
    calls = {
        **measured,
        GET_METRIC_STATISTICS: round(measured.get(GET_METRIC_STATISTICS, 0) * metric_factor),
        LOOKUP_EVENTS: round(answered * lookup_factor),
    }
    wall = naive["describe_s"] + naive["metrics_s"] * metric_factor
    wall += naive["lookups_s"] * lookup_factor
    return {
        **naive,
        "aws_calls": dict(sorted(calls.items())),
        "wall_s": round(wall, 3),
        "scaled_from": {
            "aws_calls": measured,
            "wall_s": naive["wall_s"],
            "get_metric_statistics": f"{naive['metric_queries_measured']} of "
            f"{naive['metric_queries_total']} metric queries "
            f"({naive['instances_measured']} of {naive['instances']} instances), "
            f"x{metric_factor:.2f}",
            "lookup_events": f"{naive['idle_looked_up']} of {idle_in_fleet} idle resources, "
            f"evenly spread, x{lookup_factor:.2f}",
        },
    }
