"""Is a resource idle? The CloudWatch metrics each type is judged by, and the rules, as tables.

Pure: the inventory describes resources, the metrics reader fetches what METRICS names, and
`evaluate` judges one resource from those values, with its reasons in numbers people can check.

Observations are alias → datapoints for one resource. An alias that is present with no datapoints
means CloudWatch reported nothing (an ALB or NAT gateway without traffic reports nothing): that
counts as zero, but only for a resource older than the look-back. An alias that is absent means the
metric was not read at all, and the verdict is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.policy import Thresholds
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    EKS_CLUSTER,
    ELASTIC_IP,
    LOAD_BALANCER,
    NAT_GATEWAY,
    RDS_INSTANCE,
    Resource,
    Verdict,
)

Observations = Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class MetricSpec:
    """One CloudWatch metric for a resource type, keyed in observations by `alias`."""

    alias: str
    namespace: str
    metric: str
    dimension: str
    stat: str  # "Maximum" | "Sum" | "Average"
    lb_type: str | None = None  # v2 load balancers: only for "application" or "network"


METRICS: Mapping[str, tuple[MetricSpec, ...]] = {
    EC2_INSTANCE: (
        MetricSpec("cpu", "AWS/EC2", "CPUUtilization", "InstanceId", "Maximum"),
        MetricSpec("network_in", "AWS/EC2", "NetworkIn", "InstanceId", "Sum"),
        MetricSpec("network_out", "AWS/EC2", "NetworkOut", "InstanceId", "Sum"),
    ),
    NAT_GATEWAY: (
        MetricSpec("bytes_out", "AWS/NATGateway", "BytesOutToDestination", "NatGatewayId", "Sum"),
        MetricSpec("bytes_in", "AWS/NATGateway", "BytesInFromSource", "NatGatewayId", "Sum"),
    ),
    LOAD_BALANCER: (
        MetricSpec(
            "requests", "AWS/ApplicationELB", "RequestCount", "LoadBalancer", "Sum", "application"
        ),
        MetricSpec("new_flows", "AWS/NetworkELB", "NewFlowCount", "LoadBalancer", "Sum", "network"),
    ),
    CLASSIC_LOAD_BALANCER: (
        MetricSpec("requests", "AWS/ELB", "RequestCount", "LoadBalancerName", "Sum"),
    ),
    RDS_INSTANCE: (
        MetricSpec(
            "connections", "AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", "Maximum"
        ),
    ),
}


def metrics_for(resource: Resource) -> tuple[MetricSpec, ...]:
    """The metrics this resource is judged by (a v2 load balancer's depend on its kind)."""
    kind = resource.details.get("lb_type")
    return tuple(
        spec
        for spec in METRICS.get(resource.type, ())
        if spec.lb_type is None or spec.lb_type == kind
    )


def _v2_load_balancer_dimension(resource: Resource) -> str | None:
    # arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id> → app/<name>/<id>
    arn = resource.arn or resource.id
    _, marker, rest = arn.partition(":loadbalancer/")
    return rest if marker and rest.count("/") == 2 else None


_DIMENSION_VALUES: Mapping[str, Callable[[Resource], str | None]] = {
    EC2_INSTANCE: lambda resource: resource.id,
    NAT_GATEWAY: lambda resource: resource.id,
    LOAD_BALANCER: _v2_load_balancer_dimension,
    CLASSIC_LOAD_BALANCER: lambda resource: resource.id,
    RDS_INSTANCE: lambda resource: resource.id,
}


def dimension_value(resource: Resource) -> str | None:
    """The value of the resource's CloudWatch dimension; None when the type has no metrics."""
    value_of = _DIMENSION_VALUES.get(resource.type)
    return value_of(resource) if value_of else None


def evaluate(
    resource: Resource, observations: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    """Judge one resource. Never idle on missing knowledge: unknown=True says so instead."""
    rule = _RULES.get(resource.type)
    if rule is None:
        return Verdict(idle=False, unknown=True, reasons=(f"no idle rule for {resource.type}",))
    return rule(resource, observations, thresholds, now)


# --- metric checks: what is summed or maxed, the limit, and how it reads ----------------------


@dataclass(frozen=True)
class _Check:
    aliases: tuple[str, ...]
    combine: Callable[[list[float]], float]  # over every datapoint of every alias
    limit: Callable[[Thresholds], float]  # idle when the combined value is at most this
    describe: Callable[[float, str], str]  # (value, "7 days") → the reason


def _highest(values: list[float]) -> float:
    return max(values, default=0.0)


_CHECKS: Mapping[str, tuple[_Check, ...]] = {
    "ec2": (
        _Check(
            ("cpu",),
            _highest,
            lambda t: t.max_cpu_percent,
            lambda v, span: f"max CPU {v:.1f} % over {span}",
        ),
        _Check(
            ("network_in", "network_out"),
            sum,
            lambda t: t.max_network_bytes,
            lambda v, span: f"{size_in_bytes(v)} network in {span}",
        ),
    ),
    "nat": (
        _Check(
            ("bytes_out", "bytes_in"),
            sum,
            lambda t: t.max_nat_bytes,
            lambda v, span: f"{size_in_bytes(v)} through the gateway in {span}",
        ),
    ),
    "application": (
        _Check(
            ("requests",),
            sum,
            lambda t: t.max_lb_requests,
            lambda v, span: f"{_count(v, 'request')} in {span}",
        ),
    ),
    "network": (
        _Check(
            ("new_flows",),
            sum,
            lambda t: t.max_nlb_flows,
            lambda v, span: f"{_count(v, 'new flow')} in {span}",
        ),
    ),
    "rds": (
        _Check(
            ("connections",),
            _highest,
            lambda t: t.max_db_connections,
            lambda v, span: f"at most {_count(v, 'connection')} over {span}",
        ),
    ),
}


def _judge_metrics(
    resource: Resource,
    observations: Observations,
    thresholds: Thresholds,
    now: datetime,
    checks: tuple[_Check, ...],
    running_since: datetime | None = None,
) -> Verdict:
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
        idle = idle and value <= check.limit(thresholds)
        reasons.append(check.describe(value, span))
    return Verdict(
        idle=idle,
        reasons=tuple(reasons),
        idle_since=now - lookback if idle else None,  # at least since the look-back began
        series=_series(observations.get("cpu", ())) if idle else (),
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


# --- rules per type ---------------------------------------------------------------------------


def _ec2(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
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
    return _judge_metrics(resource, obs, thresholds, now, _CHECKS["ec2"], resource.state_since)


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
    idle = stopped_for > timedelta(days=thresholds.stopped_days)
    reasons = (f"stopped for {_ago(stopped_for, suffix='')}", still)
    return Verdict(
        idle=idle,
        reasons=tuple(reason for reason in reasons if reason),
        idle_since=resource.state_since if idle else None,
    )


def _ebs(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
    if resource.state != "available":
        return Verdict(idle=False, reasons=(f"volume is {resource.state or 'in no known state'}",))
    what = f"unattached, {resource.size}" if resource.size else "unattached"
    limit = timedelta(days=thresholds.unattached_days)
    young = _too_young(resource.created_at, limit, now, "created")
    if young:
        return Verdict(
            idle=False,
            unknown=True,
            reasons=(what, f"{young}; judged after {_days(thresholds.unattached_days)}"),
        )
    return Verdict(idle=True, reasons=(what,), idle_since=resource.state_since)


def _eip(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
    address = resource.details.get("public_ip")
    if resource.state == "associated":
        target = resource.details.get("instance_id") or resource.details.get("network_interface_id")
        return Verdict(idle=False, reasons=(f"associated with {target or 'a resource'}",))
    return Verdict(idle=True, reasons=(f"unassociated, {address}" if address else "unassociated",))


def _nat(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
    if resource.state not in (None, "available"):
        return Verdict(idle=False, reasons=(f"NAT gateway is {resource.state}",))
    return _judge_metrics(resource, obs, thresholds, now, _CHECKS["nat"])


def _load_balancer(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    kind = resource.details.get("lb_type", "classic")
    checks = _CHECKS.get("application" if kind == "classic" else kind)
    if checks is None:
        return Verdict(
            idle=False, unknown=True, reasons=(f"no idle rule for {kind} load balancers",)
        )
    if resource.state not in (None, "active", "active_impaired"):
        return Verdict(idle=False, unknown=True, reasons=(f"load balancer is {resource.state}",))
    return _judge_metrics(resource, obs, thresholds, now, checks)


def _rds(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
    if resource.state not in (None, "available"):
        return Verdict(idle=False, reasons=(f"database is {resource.state}",))
    return _judge_metrics(resource, obs, thresholds, now, _CHECKS["rds"])


def _eks(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
    nodes = resource.details.get("node_count")
    if nodes is None:
        return Verdict(idle=False, unknown=True, reasons=("node count not known",))
    if nodes:
        return Verdict(idle=False, reasons=(_count(nodes, "node"),))
    lookback = timedelta(days=thresholds.lookback_days)
    young = _too_young(resource.created_at, lookback, now, "created")
    if young:
        return Verdict(
            idle=False,
            unknown=True,
            reasons=("no nodes", f"{young}; judged after {_days(thresholds.lookback_days)}"),
        )
    return Verdict(idle=True, reasons=("no nodes (node groups or Fargate profiles)",))


_RULES: Mapping[str, Callable[[Resource, Observations, Thresholds, datetime], Verdict]] = {
    EC2_INSTANCE: _ec2,
    EBS_VOLUME: _ebs,
    ELASTIC_IP: _eip,
    NAT_GATEWAY: _nat,
    LOAD_BALANCER: _load_balancer,
    CLASSIC_LOAD_BALANCER: _load_balancer,
    RDS_INSTANCE: _rds,
    EKS_CLUSTER: _eks,
}


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
