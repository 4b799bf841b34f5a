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

import dataclasses
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
    dimension: str  # the dimension that names the resource (others come from its type's series)
    stat: str  # "Maximum" | "Minimum" | "Sum" | "Average"
    # Read only for resources whose details say so: (key, value), e.g. ("lb_type", "network").
    when: tuple[str, str] | None = None


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
        "requests",
        "AWS/ApplicationELB",
        "RequestCount",
        "LoadBalancer",
        "Sum",
        ("lb_type", "application"),
    ),
    MetricSpec(
        "new_flows", "AWS/NetworkELB", "NewFlowCount", "LoadBalancer", "Sum", ("lb_type", "network")
    ),
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


# SageMaker endpoints: invocations of every production variant --------------------------------

MAX_INVOCATIONS = Limit("max_invocations", 0, whole=True, unit="invocations")
SAGEMAKER_ENDPOINT_METRICS = (
    # Filed by EndpointName and VariantName: the type's series names each variant.
    MetricSpec("invocations", "AWS/SageMaker", "Invocations", "EndpointName", "Sum"),
)
INVOCATION_CHECKS = (
    Check(
        ("invocations",),
        sum,
        MAX_INVOCATIONS,
        lambda v, span: f"{_count(v, 'invocation')} in {span}",
    ),
)


def per_variant(resource: Resource, spec: MetricSpec) -> list[dict[str, str]]:
    """An endpoint's metrics are filed per production variant: EndpointName and VariantName."""
    variants = resource.details.get("variants") or ()
    return [{spec.dimension: resource.id, "VariantName": str(v["name"])} for v in variants]


def sagemaker_endpoint(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state != "InService":
        return Verdict(
            idle=False, reasons=(f"endpoint is {resource.state or 'in no known state'}",)
        )
    return judge_metrics(resource, obs, thresholds, now, INVOCATION_CHECKS)


# SageMaker notebook instances: time in service -------------------------------------------------

# SageMaker sends CloudWatch no CPU or kernel activity of a notebook instance (only its lifecycle
# scripts' logs), so the rule is how long it has run since it was last started or changed.
IN_SERVICE_DAYS = Limit("in_service_days", 7, whole=True, low=1, high=3650, unit="days")


def sagemaker_notebook(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state != "InService":
        return Verdict(
            idle=False, reasons=(f"notebook instance is {resource.state or 'in no known state'}",)
        )
    since = resource.state_since
    if since is None:
        return Verdict(idle=False, unknown=True, reasons=("in service, since when is not known",))
    running = now - since
    days = int(thresholds.value(IN_SERVICE_DAYS))
    if running <= timedelta(days=days):
        return Verdict(
            idle=False,
            reasons=(f"in service for {_ago(running, suffix='')}; judged after {_days(days)}",),
        )
    return Verdict(
        idle=True,
        reasons=(
            f"in service for {_ago(running, suffix='')} since it was last started or changed",
        ),
        idle_since=since,
    )


# OpenSearch domains: search and indexing requests ----------------------------------------------

MAX_SEARCH_RATE = Limit("max_search_rate", 0, unit="searches a minute")
MAX_INDEXING_RATE = Limit("max_indexing_rate", 0, unit="documents a minute")
OPENSEARCH_METRICS = (
    # Filed by DomainName and ClientId (the account): the type's series adds the account.
    MetricSpec("search_rate", "AWS/ES", "SearchRate", "DomainName", "Maximum"),
    MetricSpec("indexing_rate", "AWS/ES", "IndexingRate", "DomainName", "Maximum"),
)
OPENSEARCH_CHECKS = (
    Check(
        ("search_rate",),
        highest,
        MAX_SEARCH_RATE,
        lambda v, span: f"at most {_count(v, 'search request')} a minute over {span}",
    ),
    Check(
        ("indexing_rate",),
        highest,
        MAX_INDEXING_RATE,
        lambda v, span: f"at most {_count(v, 'document')} indexed a minute over {span}",
    ),
)


def per_domain(resource: Resource, spec: MetricSpec) -> list[dict[str, str]]:
    """A domain's metrics are filed by DomainName and ClientId, the account that owns it."""
    return [{spec.dimension: resource.id, "ClientId": resource.account}]


def opensearch_domain(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state != "active":
        return Verdict(idle=False, reasons=(f"domain is {resource.state or 'in no known state'}",))
    return judge_metrics(resource, obs, thresholds, now, OPENSEARCH_CHECKS)


# ElastiCache clusters: commands served ---------------------------------------------------------

MAX_CACHE_COMMANDS = Limit("max_commands", 0, whole=True, unit="commands")
ELASTICACHE_METRICS = (
    # Filed by CacheClusterId and CacheNodeId: the type's series names each node. Redis OSS and
    # Valkey count get and set commands by type, Memcached by command.
    MetricSpec(
        "get_type", "AWS/ElastiCache", "GetTypeCmds", "CacheClusterId", "Sum", ("family", "redis")
    ),
    MetricSpec(
        "set_type", "AWS/ElastiCache", "SetTypeCmds", "CacheClusterId", "Sum", ("family", "redis")
    ),
    MetricSpec(
        "cmd_get", "AWS/ElastiCache", "CmdGet", "CacheClusterId", "Sum", ("family", "memcached")
    ),
    MetricSpec(
        "cmd_set", "AWS/ElastiCache", "CmdSet", "CacheClusterId", "Sum", ("family", "memcached")
    ),
)


def _commands(aliases: tuple[str, ...]) -> tuple[Check, ...]:
    return (
        Check(
            aliases,
            sum,
            MAX_CACHE_COMMANDS,
            lambda v, span: f"{_count(v, 'get or set command')} in {span}",
        ),
    )


# The checks of each engine family, by the metrics it reports.
CACHE_CHECKS: Mapping[str, tuple[Check, ...]] = {
    "redis": _commands(("get_type", "set_type")),
    "memcached": _commands(("cmd_get", "cmd_set")),
}


def per_cache_node(resource: Resource, spec: MetricSpec) -> list[dict[str, str]]:
    """A cache cluster's metrics are filed per node: CacheClusterId and CacheNodeId."""
    ids = [str(node) for node in resource.details.get("node_ids") or ()]
    count = int(resource.details.get("nodes") or 1)
    return [
        {spec.dimension: resource.id, "CacheNodeId": node}
        for node in ids or [f"{n:04d}" for n in range(1, count + 1)]
    ]


def elasticache_cluster(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state != "available":
        return Verdict(idle=False, reasons=(f"cache is {resource.state or 'in no known state'}",))
    checks = CACHE_CHECKS.get(str(resource.details.get("family")))
    if checks is None:
        engine = resource.details.get("engine") or "its engine"
        return Verdict(idle=False, unknown=True, reasons=(f"no idle rule for {engine}",))
    return judge_metrics(resource, obs, thresholds, now, checks)


# Redshift clusters: connections -----------------------------------------------------------------

REDSHIFT_METRICS = (
    MetricSpec(
        "connections", "AWS/Redshift", "DatabaseConnections", "ClusterIdentifier", "Maximum"
    ),
)


def redshift_cluster(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state == "paused":
        return Verdict(idle=False, reasons=("paused: only its storage costs",))
    if resource.state != "available":
        return Verdict(idle=False, reasons=(f"cluster is {resource.state or 'in no known state'}",))
    return judge_metrics(resource, obs, thresholds, now, RDS_CHECKS)


# EMR clusters: IsIdle ---------------------------------------------------------------------------

MAX_BUSY_HOURS = Limit("max_busy_hours", 0, whole=True, unit="hours")
EMR_METRICS = (
    # 1 while no job, step or task runs; the lowest of an hour is 0 when anything ran in it.
    MetricSpec("is_idle", "AWS/ElasticMapReduce", "IsIdle", "JobFlowId", "Minimum"),
)


def _busy_hours(values: list[float]) -> float:
    return float(sum(1 for value in values if value < 1))


EMR_CHECKS = (
    Check(
        ("is_idle",),
        _busy_hours,
        MAX_BUSY_HOURS,
        lambda v, span: f"{_count(v, 'hour')} with work running in {span} (IsIdle)",
    ),
)


def emr_cluster(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state not in ("WAITING", "RUNNING"):
        return Verdict(idle=False, reasons=(f"cluster is {resource.state or 'in no known state'}",))
    return judge_metrics(resource, obs, thresholds, now, EMR_CHECKS)


# DynamoDB tables in provisioned mode: capacity consumed -----------------------------------------

MAX_CONSUMED_CAPACITY = Limit("max_consumed_capacity", 0, unit="capacity units")
DYNAMODB_METRICS = (
    MetricSpec("reads", "AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", "Sum"),
    MetricSpec("writes", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", "Sum"),
)
CAPACITY_CHECKS = (
    Check(
        ("reads", "writes"),
        sum,
        MAX_CONSUMED_CAPACITY,
        lambda v, span: f"{_count(v, 'read or write capacity unit')} consumed in {span}",
    ),
)


def dynamodb_table(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.details.get("billing_mode") != "PROVISIONED":
        return Verdict(idle=False, reasons=("on-demand: billed per request, nothing while idle",))
    if resource.state != "ACTIVE":
        return Verdict(idle=False, reasons=(f"table is {resource.state or 'in no known state'}",))
    verdict = judge_metrics(resource, obs, thresholds, now, CAPACITY_CHECKS)
    if not verdict.idle:
        return verdict
    provisioned = (
        f"{_count(resource.details.get('read_capacity') or 0, 'read unit')} and "
        f"{_count(resource.details.get('write_capacity') or 0, 'write unit')} provisioned"
    )
    return dataclasses.replace(verdict, reasons=(*verdict.reasons, provisioned))


# EBS snapshots whose volume is gone -------------------------------------------------------------

SNAPSHOT_AGE_DAYS = Limit("older_than_days", 30, whole=True, high=3650, unit="days")


def ebs_snapshot(
    resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime
) -> Verdict:
    if resource.state != "completed":
        return Verdict(
            idle=False, reasons=(f"snapshot is {resource.state or 'in no known state'}",)
        )
    details = resource.details
    if details.get("used_by_images") is None or details.get("volume_gone") is None:
        return Verdict(
            idle=False,
            unknown=True,
            reasons=("whether its volume or an AMI still uses it is not known",),
        )
    images = list(details["used_by_images"])
    if images:
        return Verdict(idle=False, reasons=(f"used by {_listed(images, 'AMI')}",))
    volume = details.get("volume_id")
    if not details["volume_gone"]:
        return Verdict(idle=False, reasons=(f"its volume {volume} still exists",))
    days = int(thresholds.value(SNAPSHOT_AGE_DAYS))
    gone = f"its volume {volume} is gone" if volume else "made from no volume still here"
    young = too_young(resource, days, now, "taken")
    if young:
        return Verdict(
            idle=False, unknown=True, reasons=(gone, f"{young}; judged after {_days(days)}")
        )
    age = (
        _ago(now - resource.created_at, suffix=" old") if resource.created_at else "of unknown age"
    )
    return Verdict(idle=True, reasons=(gone, f"used by no AMI, {age}"))


# AMIs nobody launches ---------------------------------------------------------------------------

UNUSED_DAYS = Limit("unused_days", 30, whole=True, high=3650, unit="days")


def ami(resource: Resource, obs: Observations, thresholds: Thresholds, now: datetime) -> Verdict:
    if resource.state != "available":
        return Verdict(idle=False, reasons=(f"image is {resource.state or 'in no known state'}",))
    details = resource.details
    if details.get("used_by_instances") is None or details.get("used_by_templates") is None:
        return Verdict(
            idle=False,
            unknown=True,
            reasons=("which instances or launch templates use it is not known",),
        )
    instances = list(details["used_by_instances"])
    if instances:
        return Verdict(idle=False, reasons=(f"used by {_listed(instances, 'instance')}",))
    templates = list(details["used_by_templates"])
    if templates:
        return Verdict(idle=False, reasons=(f"in {_listed(templates, 'launch template')}",))
    days = int(thresholds.value(UNUSED_DAYS))
    launched = details.get("last_launched_at")
    last = launched or resource.created_at
    if last is None:
        return Verdict(
            idle=False, unknown=True, reasons=("neither its creation nor its last launch is known",)
        )
    unused = now - last
    if unused <= timedelta(days=days):
        what = "launched" if launched else "made"
        return Verdict(idle=False, reasons=(f"{what} {_ago(unused)}; judged after {_days(days)}",))
    when = (
        f"last launched {_ago(unused)}"
        if launched
        else f"never launched since it was made {_ago(unused)}"
    )
    return Verdict(
        idle=True, reasons=("used by no instance or launch template", when), idle_since=last
    )


def _listed(names: Sequence[str], noun: str) -> str:
    shown = ", ".join(str(name) for name in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{noun if len(names) == 1 else noun + 's'} {shown}{more}"


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
