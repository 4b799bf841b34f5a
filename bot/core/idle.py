"""Is a resource idle? The metrics a rule reads, its limits, and the rules, as pure functions.

Pure: the inventory describes resources, the metrics reader fetches what a type's declaration
names (bot/registry/patrol/), and its rule judges one resource from those values, with reasons in
numbers people can check. The declarations pick a rule and its metrics from here; nothing here
looks a type up.

Observations are alias → datapoints for one resource. An alias that is present with no datapoints
means CloudWatch reported nothing (an ALB or NAT gateway without traffic reports nothing): that
counts as zero, but only for a resource older than the look-back. An alias that is absent means the
metric was not read at all, and the verdict is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.policy import Limit, Thresholds
from bot.core.resources import Resource, Verdict

Observations = Mapping[str, Sequence[float]]
Rule = Callable[[Resource, Observations, Thresholds, datetime], Verdict]


@dataclass(frozen=True)
class MetricSpec:
    """One CloudWatch metric for a resource type, keyed in observations by `alias`."""

    alias: str
    namespace: str
    metric: str
    dimension: str
    stat: str  # "Maximum" | "Sum" | "Average"
    lb_type: str | None = None  # v2 load balancers: only for "application" or "network"


def own_id(resource: Resource) -> str | None:
    """The CloudWatch dimension value of most types: the resource's id."""
    return resource.id


def v2_load_balancer_dimension(resource: Resource) -> str | None:
    # arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id> → app/<name>/<id>
    arn = resource.arn or resource.id
    _, marker, rest = arn.partition(":loadbalancer/")
    return rest if marker and rest.count("/") == 2 else None


def unknown_type(resource: Resource) -> Verdict:
    return Verdict(idle=False, unknown=True, reasons=(f"no idle rule for {resource.type}",))


# --- metric checks: what is summed or maxed, the limit, and how it reads ----------------------


@dataclass(frozen=True)
class Check:
    aliases: tuple[str, ...]
    combine: Callable[[list[float]], float]  # over every datapoint of every alias
    limit: Limit  # idle when the combined value is at most the policy's value of this
    describe: Callable[[float, str], str]  # (value, "7 days") → the reason


def highest(values: list[float]) -> float:
    return max(values, default=0.0)


MAX_CPU_PERCENT = Limit("max_cpu_percent", 2.0, high=100, unit="%")
MAX_NETWORK_BYTES = Limit("max_network_bytes", 5 * 1024 * 1024, whole=True, unit="bytes")
STOPPED_DAYS = Limit("stopped_days", 7, whole=True, high=3650, unit="days")
UNATTACHED_DAYS = Limit("unattached_days", 7, whole=True, high=3650, unit="days")
MAX_NAT_BYTES = Limit("max_nat_bytes", 1024 * 1024, whole=True, unit="bytes")
MAX_LB_REQUESTS = Limit("max_lb_requests", 0, whole=True, unit="requests")
MAX_NLB_FLOWS = Limit("max_nlb_flows", 0, whole=True, unit="flows")
MAX_DB_CONNECTIONS = Limit("max_db_connections", 0, unit="connections")

EC2_METRICS = (
    MetricSpec("cpu", "AWS/EC2", "CPUUtilization", "InstanceId", "Maximum"),
    MetricSpec("network_in", "AWS/EC2", "NetworkIn", "InstanceId", "Sum"),
    MetricSpec("network_out", "AWS/EC2", "NetworkOut", "InstanceId", "Sum"),
)
EC2_CHECKS = (
    Check(
        ("cpu",),
        highest,
        MAX_CPU_PERCENT,
        lambda v, span: f"max CPU {v:.1f} % over {span}",
    ),
    Check(
        ("network_in", "network_out"),
        sum,
        MAX_NETWORK_BYTES,
        lambda v, span: f"{size_in_bytes(v)} network in {span}",
    ),
)

NAT_METRICS = (
    MetricSpec("bytes_out", "AWS/NATGateway", "BytesOutToDestination", "NatGatewayId", "Sum"),
    MetricSpec("bytes_in", "AWS/NATGateway", "BytesInFromSource", "NatGatewayId", "Sum"),
)
NAT_CHECKS = (
    Check(
        ("bytes_out", "bytes_in"),
        sum,
        MAX_NAT_BYTES,
        lambda v, span: f"{size_in_bytes(v)} through the gateway in {span}",
    ),
)

LOAD_BALANCER_METRICS = (
    MetricSpec(
        "requests", "AWS/ApplicationELB", "RequestCount", "LoadBalancer", "Sum", "application"
    ),
    MetricSpec("new_flows", "AWS/NetworkELB", "NewFlowCount", "LoadBalancer", "Sum", "network"),
)
CLASSIC_LOAD_BALANCER_METRICS = (
    MetricSpec("requests", "AWS/ELB", "RequestCount", "LoadBalancerName", "Sum"),
)
REQUEST_CHECKS = (
    Check(
        ("requests",),
        sum,
        MAX_LB_REQUESTS,
        lambda v, span: f"{_count(v, 'request')} in {span}",
    ),
)
FLOW_CHECKS = (
    Check(
        ("new_flows",),
        sum,
        MAX_NLB_FLOWS,
        lambda v, span: f"{_count(v, 'new flow')} in {span}",
    ),
)

RDS_METRICS = (
    MetricSpec("connections", "AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", "Maximum"),
)
RDS_CHECKS = (
    Check(
        ("connections",),
        highest,
        MAX_DB_CONNECTIONS,
        lambda v, span: f"at most {_count(v, 'connection')} over {span}",
    ),
)


def judge_metrics(
    resource: Resource,
    observations: Observations,
    thresholds: Thresholds,
    now: datetime,
    checks: tuple[Check, ...],
    running_since: datetime | None = None,
    series: str | None = None,
) -> Verdict:
    """Idle when every check's combined value is at most its limit over the look-back; unknown
    while the resource is younger than the look-back or a metric was not read. `series` names
    the alias drawn as the digest's sparkline."""
    lookback = timedelta(days=thresholds.lookback_days)
    span = _days(thresholds.lookback_days)
    young = _too_young(resource.created_at, lookback, now, "created") or _too_young(
        running_since, lookback, now, "started"
    )
    if young:
        return Verdict(idle=False, unknown=True, reasons=(f"{young}; judged after {span}",))
    wanted = [alias for check in checks for alias in check.aliases]
    missing = [alias for alias in wanted if alias not in observations]
    if missing:
        return Verdict(
            idle=False, unknown=True, reasons=(f"metrics not read: {', '.join(missing)}",)
        )
    if resource.created_at is None and not any(observations[alias] for alias in wanted):
        # Nothing reported and no creation time: it may be too new to have reported anything.
        return Verdict(
            idle=False,
            unknown=True,
            reasons=(f"no CloudWatch data in {span} and no creation time to judge by",),
        )
    idle = True
    reasons = []
    for check in checks:
        points = [float(value) for alias in check.aliases for value in observations[alias]]
        value = check.combine(points) if points else 0.0
        idle = idle and value <= thresholds.value(check.limit)
        reasons.append(check.describe(value, span))
    return Verdict(
        idle=idle,
        reasons=tuple(reasons),
        idle_since=now - lookback if idle else None,  # at least since the look-back began
        series=_series(observations.get(series, ())) if idle and series else (),
    )


SERIES_POINTS = 48  # more than a digest's sparkline draws; a patrol of 10,000 keeps only these


def _series(values: Sequence[float]) -> tuple[float, ...]:
    """The CPU line for the digest: at most SERIES_POINTS, each the highest of its stretch."""
    points = [float(value) for value in values]
    if len(points) <= SERIES_POINTS:
        return tuple(points)
    size = len(points)
    return tuple(
        max(points[i * size // SERIES_POINTS : (i + 1) * size // SERIES_POINTS])
        for i in range(SERIES_POINTS)
    )


def _too_young(since: datetime | None, lookback: timedelta, now: datetime, what: str) -> str:
    if since is None or now - since >= lookback:
        return ""
    return f"{what} {_ago(now - since)}"


def too_young(resource: Resource, days: int, now: datetime, what: str = "created") -> str:
    """`created 3 days ago` when the resource is younger than `days`, else ""."""
    return _too_young(resource.created_at, timedelta(days=days), now, what)


# --- rules per type ---------------------------------------------------------------------------


def ec2_instance(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    by_state = {"running": _ec2_running, "stopped": _ec2_stopped}
    rule = by_state.get(resource.state or "")
    if rule is None:
        return Verdict(
            idle=False, reasons=(f"instance is {resource.state or 'in no known state'}",)
        )
    return rule(resource, obs, thresholds, now)


def _ec2_running(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    # state_since of a running instance is its (last) launch: a restart is a fresh start.
    return judge_metrics(
        resource, obs, thresholds, now, EC2_CHECKS, resource.state_since, series="cpu"
    )


def _ec2_stopped(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    volumes = list(resource.details.get("attached_volumes") or ())
    still = (
        f"{len(volumes)} volume{'s' if len(volumes) != 1 else ''} "
        f"({sum(int(v.get('gib') or 0) for v in volumes)} GiB) still cost"
        if volumes
        else ""
    )
    if resource.state_since is None:
        reasons = ("stopped, since when is not known", still) if still else ("stopped",)
        return Verdict(idle=False, unknown=True, reasons=tuple(r for r in reasons if r))
    stopped_for = now - resource.state_since
    idle = stopped_for > timedelta(days=thresholds.value(STOPPED_DAYS))
    reasons = (f"stopped for {_ago(stopped_for, suffix='')}", still)
    return Verdict(
        idle=idle,
        reasons=tuple(reason for reason in reasons if reason),
        idle_since=resource.state_since if idle else None,
    )


def ebs_volume(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state != "available":
        return Verdict(idle=False, reasons=(f"volume is {resource.state or 'in no known state'}",))
    what = f"unattached, {resource.size}" if resource.size else "unattached"
    days = int(thresholds.value(UNATTACHED_DAYS))
    young = too_young(resource, days, now)
    if young:
        return Verdict(
            idle=False,
            unknown=True,
            reasons=(what, f"{young}; judged after {_days(days)}"),
        )
    return Verdict(idle=True, reasons=(what,), idle_since=resource.state_since)


def elastic_ip(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    address = resource.details.get("public_ip")
    if resource.state == "associated":
        target = resource.details.get("instance_id") or resource.details.get("network_interface_id")
        return Verdict(idle=False, reasons=(f"associated with {target or 'a resource'}",))
    return Verdict(idle=True, reasons=(f"unassociated, {address}" if address else "unassociated",))


def nat_gateway(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state not in (None, "available"):
        return Verdict(idle=False, reasons=(f"NAT gateway is {resource.state}",))
    return judge_metrics(resource, obs, thresholds, now, NAT_CHECKS)


# A load balancer's kind → the checks its metrics answer (a classic one counts requests).
_LB_CHECKS: Mapping[str, tuple[Check, ...]] = {
    "application": REQUEST_CHECKS,
    "classic": REQUEST_CHECKS,
    "network": FLOW_CHECKS,
}


def load_balancer(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    kind = resource.details.get("lb_type", "classic")
    checks = _LB_CHECKS.get(kind)
    if checks is None:
        return Verdict(
            idle=False, unknown=True, reasons=(f"no idle rule for {kind} load balancers",)
        )
    if resource.state not in (None, "active", "active_impaired"):
        return Verdict(idle=False, unknown=True, reasons=(f"load balancer is {resource.state}",))
    return judge_metrics(resource, obs, thresholds, now, checks)


def rds_instance(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state not in (None, "available"):
        return Verdict(idle=False, reasons=(f"database is {resource.state}",))
    return judge_metrics(resource, obs, thresholds, now, RDS_CHECKS)


def eks_cluster(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    nodes = resource.details.get("node_count")
    if nodes is None:
        return Verdict(idle=False, unknown=True, reasons=("node count not known",))
    if nodes:
        return Verdict(idle=False, reasons=(_count(nodes, "node"),))
    young = too_young(resource, thresholds.lookback_days, now)
    if young:
        return Verdict(
            idle=False,
            unknown=True,
            reasons=("no nodes", f"{young}; judged after {_days(thresholds.lookback_days)}"),
        )
    return Verdict(idle=True, reasons=("no nodes (node groups or Fargate profiles)",))


# --- numbers in words -------------------------------------------------------------------------


def size_in_bytes(value: float) -> str:
    """1024-based, as people read sizes: "0 B", "12 KB", "3.4 MB"."""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            if unit == "B" or size >= 10:
                return f"{size:.0f} {unit}"
            return f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _count(value: float, noun: str) -> str:
    number = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{number} {noun}{'' if value == 1 else 's'}"


def _days(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"


def _ago(span: timedelta, suffix: str = " ago") -> str:
    if span >= timedelta(days=1):
        return f"{_days(span.days)}{suffix}"
    hours = int(span.total_seconds() // 3600)
    return f"{hours} hour{'' if hours == 1 else 's'}{suffix}"
