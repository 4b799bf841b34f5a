"""What a resource costs a month on demand, from list prices; never a made-up number.

Pure: each type's price parts (a function per type here, chosen by its declaration in
bot/registry/patrol/) say which prices a resource needs (as Pricing API queries) and how many
units of each a month holds; `monthly_cost(resource, parts, quotes)` turns the quotes found into a
Cost. A price that cannot be found is said to be missing (`Cost(None, "no price found for …")`),
never guessed. A month is 730 hours, as AWS bills it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.resources import Cost, Resource

HOURS_PER_MONTH = 730
HOURLY = "Hrs"
GB_MONTH = "GB-Mo"


@dataclass(frozen=True)
class PriceQuery:
    """One Pricing API lookup: GetProducts TERM_MATCH filters, then which product and unit."""

    service: str  # AmazonEC2, AmazonVPC, AWSELB, AmazonRDS, AmazonEKS
    filters: tuple[tuple[str, str], ...]  # (field, value), matched exactly by the API
    unit: str  # the price dimension's unit: "Hrs" or "GB-Mo"
    # The product's usagetype with its region prefix ("EUW2-") taken off, when the filters still
    # leave several products (the ALB filters also match Local Zone and Outposts products).
    usagetype: str | None = None
    # Priced past the account's free tier: where a price has tiers ($0 for the first 25 units,
    # then a rate), the open-ended last one, since the free tier is the account's, not the
    # resource's. Otherwise the first tier.
    beyond_free_tier: bool = False


@dataclass(frozen=True)
class Quote:
    """A list price per unit, or why there is none."""

    usd: float | None
    why: str | None = None  # "no price found", "2 different prices found", …


@dataclass(frozen=True)
class Component:
    what: str  # "t3.micro", "20 GiB gp3", "idle public IPv4 address"
    query: PriceQuery
    quantity: float  # units a month: 730 hours, or the size in GiB
    required: bool = True  # False: left out of the figure, with a note, when no price is found


@dataclass(frozen=True)
class Unpriced:
    """The resource cannot be priced at all, and why."""

    why: str


Pricer = Callable[[Resource], "Sequence[Component] | Unpriced"]
Caveat = Callable[[Resource], str]  # what a figure leaves out, said plainly ("" for nothing)


def monthly_cost(
    resource: Resource,
    parts: Sequence[Component] | Unpriced,
    quotes: Mapping[PriceQuery, Quote],
    caveat: Caveat | None = None,
) -> Cost:
    """Sum of price × monthly quantity over the parts; None when a required one is unpriced."""
    if isinstance(parts, Unpriced):
        return Cost(None, parts.why)
    total = 0.0
    lines: list[str] = []
    left_out: list[str] = []
    for part in parts:
        quote = quotes.get(part.query) or Quote(None, "not looked up")
        if quote.usd is None:
            missing = f"no price found for {part.what} in {resource.region}"
            missing += f" ({quote.why})" if quote.why and quote.why != "no price found" else ""
            if part.required:
                return Cost(None, missing)
            left_out.append(part.what)
            continue
        amount = quote.usd * part.quantity
        total += amount
        lines.append(_line(part, quote.usd, amount))
    notes = lines or ["nothing billed"]
    if left_out:
        notes.append(f"without {', '.join(left_out)} (no price found)")
    note = caveat(resource) if caveat else ""
    if note:
        notes.append(note)
    return Cost(round(total, 2), "; ".join(notes))


def _line(part: Component, usd: float, amount: float) -> str:
    if part.query.unit == HOURLY:
        return f"{part.what}: ${usd:g}/h × {part.quantity:,g} h = ${amount:,.2f}"
    if part.query.unit == GB_MONTH:
        return f"{part.what}: ${usd:g}/GB-month = ${amount:,.2f}"
    per = _UNIT_WORDS.get(part.query.unit, part.query.unit)
    return f"{part.what}: ${usd:g}/{per} × {part.quantity:,g} = ${amount:,.2f}"


_UNIT_WORDS = {
    "ReadCapacityUnit-Hrs": "read unit-hour",
    "WriteCapacityUnit-Hrs": "write unit-hour",
}


# --- what each type is billed for -------------------------------------------------------------


def _hours(what: str, query: PriceQuery, required: bool = True, count: int = 1) -> Component:
    """`count` of a thing billed by the hour, all month."""
    if count != 1:
        what = f"{count} × {what}"
    return Component(what, query, HOURS_PER_MONTH * count, required)


def _region(resource: Resource) -> tuple[str, str]:
    return ("regionCode", resource.region)


def _volume(region: str, kind: str | None, gib: Any, required: bool = True) -> Component:
    query = PriceQuery(
        "AmazonEC2",
        (
            ("regionCode", region),
            ("productFamily", "Storage"),
            ("volumeApiName", str(kind)),
            ("locationType", "AWS Region"),
        ),
        GB_MONTH,
    )
    return Component(f"{gib} GiB {kind}", query, float(gib or 0), required)


# PlatformDetails → (operatingSystem, preInstalledSw) as the EC2 price list names them.
EC2_PLATFORMS: Mapping[str, tuple[str, str]] = {
    "Linux/UNIX": ("Linux", "NA"),
    "Red Hat Enterprise Linux": ("RHEL", "NA"),
    "SUSE Linux": ("SUSE", "NA"),
    "Ubuntu Pro": ("Ubuntu Pro", "NA"),
    "Windows": ("Windows", "NA"),
    "windows": ("Windows", "NA"),  # the older Platform field
    "Windows with SQL Server Standard": ("Windows", "SQL Std"),
    "Windows with SQL Server Enterprise": ("Windows", "SQL Ent"),
    "Windows with SQL Server Web": ("Windows", "SQL Web"),
    "Linux with SQL Server Standard": ("Linux", "SQL Std"),
    "Linux with SQL Server Enterprise": ("Linux", "SQL Ent"),
    "Linux with SQL Server Web": ("Linux", "SQL Web"),
}
EC2_TENANCY = {"default": "Shared", "dedicated": "Dedicated"}


def ec2_instance(resource: Resource) -> Sequence[Component] | Unpriced:
    volumes = resource.details.get("attached_volumes")
    if resource.state == "stopped":
        # A stopped instance costs its volumes only.
        if volumes is None:
            return Unpriced("stopped; its volumes are not known (DescribeVolumes not allowed)")
        return [_volume(resource.region, v.get("type"), v.get("gib")) for v in volumes]
    if resource.state != "running":
        return Unpriced(f"not priced while {resource.state or 'in no known state'}")
    if resource.details.get("lifecycle") == "spot":
        return Unpriced("spot instance: its price moves, no on-demand price applies")
    platform = resource.details.get("platform", "Linux/UNIX")
    tenancy = EC2_TENANCY.get(resource.details.get("tenancy", "default"))
    if platform not in EC2_PLATFORMS:
        return Unpriced(f"no price for platform {platform!r}")
    if tenancy is None:
        return Unpriced("dedicated host: billed for the host, not the instance")
    system, software = EC2_PLATFORMS[platform]
    compute = PriceQuery(
        "AmazonEC2",
        (
            _region(resource),
            ("instanceType", str(resource.size)),
            ("operatingSystem", system),
            ("tenancy", tenancy),
            ("preInstalledSw", software),
            ("capacitystatus", "Used"),
            ("licenseModel", "No License required"),
        ),
        HOURLY,
    )
    storage = [
        _volume(resource.region, v.get("type"), v.get("gib"), required=False) for v in volumes or ()
    ]
    return [_hours(str(resource.size), compute), *storage]


def ebs_volume(resource: Resource) -> Sequence[Component]:
    return [
        _volume(
            resource.region, resource.details.get("volume_type"), resource.details.get("volume_gib")
        )
    ]


def elastic_ip(resource: Resource) -> Sequence[Component]:
    # Every public IPv4 address is billed by the hour (AmazonVPC since February 2024).
    usage, what = (
        ("PublicIPv4:InUseAddress", "public IPv4 address in use")
        if resource.state == "associated"
        else ("PublicIPv4:IdleAddress", "idle public IPv4 address")
    )
    query = PriceQuery(
        "AmazonVPC", (_region(resource), ("group", "VPCPublicIPv4Address")), HOURLY, usage
    )
    return [_hours(what, query)]


def nat_gateway(resource: Resource) -> Sequence[Component]:
    query = PriceQuery(
        "AmazonEC2",
        (_region(resource), ("productFamily", "NAT Gateway")),
        HOURLY,
        "NatGateway-Hours",
    )
    return [_hours("NAT gateway", query)]


LB_FAMILIES = {
    "application": "Load Balancer-Application",
    "network": "Load Balancer-Network",
    "gateway": "Load Balancer-Gateway",
    "classic": "Load Balancer",
}


def load_balancer(resource: Resource) -> Sequence[Component] | Unpriced:
    kind = resource.details.get("lb_type", "classic")
    family = LB_FAMILIES.get(kind)
    if family is None:
        return Unpriced(f"no price for {kind} load balancers")
    query = PriceQuery(
        "AWSELB",
        (_region(resource), ("productFamily", family), ("locationType", "AWS Region")),
        HOURLY,
        "LoadBalancerUsage",
    )
    return [_hours(f"{kind} load balancer", query)]


# Engine → (databaseEngine, databaseEdition or None) as the RDS price list names them.
RDS_ENGINES: Mapping[str, tuple[str, str | None]] = {
    "mysql": ("MySQL", None),
    "postgres": ("PostgreSQL", None),
    "mariadb": ("MariaDB", None),
    "aurora-mysql": ("Aurora MySQL", None),
    "aurora": ("Aurora MySQL", None),
    "aurora-postgresql": ("Aurora PostgreSQL", None),
    "oracle-ee": ("Oracle", "Enterprise"),
    "oracle-se2": ("Oracle", "Standard Two"),
    "sqlserver-ee": ("SQL Server", "Enterprise"),
    "sqlserver-se": ("SQL Server", "Standard"),
    "sqlserver-ex": ("SQL Server", "Express"),
    "sqlserver-web": ("SQL Server", "Web"),
}
RDS_LICENSES = {
    "license-included": "License included",
    "bring-your-own-license": "Bring your own license",
    "general-public-license": "No license required",
    "postgresql-license": "No license required",
}
RDS_STORAGE = {
    "gp2": "General Purpose",
    "gp3": "General Purpose-GP3",
    "io1": "Provisioned IOPS",
    "io2": "Provisioned IOPS-IO2",
    "standard": "Magnetic",
}


def rds_instance(resource: Resource) -> Sequence[Component] | Unpriced:
    engine = str(resource.details.get("engine", ""))
    if engine not in RDS_ENGINES:
        return Unpriced(f"no price for engine {engine!r}")
    name, edition = RDS_ENGINES[engine]
    deployment = "Multi-AZ" if resource.details.get("multi_az") else "Single-AZ"
    shared = (_region(resource), ("databaseEngine", name), ("deploymentOption", deployment))
    parts: list[Component] = []
    if resource.state != "stopped":  # a stopped database is billed for its storage only
        filters = [
            *shared,
            ("productFamily", "Database Instance"),
            ("instanceType", str(resource.size)),
        ]
        if edition:
            filters.append(("databaseEdition", edition))
        license_model = RDS_LICENSES.get(str(resource.details.get("license_model")))
        if license_model:
            filters.append(("licenseModel", license_model))
        parts.append(_hours(str(resource.size), PriceQuery("AmazonRDS", tuple(filters), HOURLY)))
    storage = RDS_STORAGE.get(str(resource.details.get("storage_type")))
    gib = resource.details.get("storage_gib")
    if storage and gib and not name.startswith("Aurora"):  # Aurora storage is the cluster's
        query = PriceQuery(
            "AmazonRDS",
            (*shared, ("productFamily", "Database Storage"), ("volumeType", storage)),
            GB_MONTH,
        )
        parts.append(
            Component(f"{gib} GiB {storage} storage", query, float(gib), required=not parts)
        )
    return parts or Unpriced("no billed part known")


def eks_cluster(resource: Resource) -> Sequence[Component]:
    query = PriceQuery("AmazonEKS", (_region(resource),), HOURLY, "AmazonEKS-Hours:perCluster")
    return [_hours("EKS control plane", query)]


def provisioned_extras(resource: Resource) -> str:
    details = resource.details
    kind = details.get("volume_type")
    gp3_extra = kind == "gp3" and (
        int(details.get("iops") or 0) > 3000 or int(details.get("throughput") or 0) > 125
    )
    return (
        "provisioned IOPS and throughput not included"
        if kind in ("io1", "io2") or gp3_extra
        else ""
    )


def aurora_storage(resource: Resource) -> str:
    engine = str(resource.details.get("engine", ""))
    return "Aurora storage and I/O are billed on the cluster" if engine.startswith("aurora") else ""


def fixed(words: str) -> Caveat:
    """A caveat that is the same for every resource of a type."""
    return lambda _resource: words


# --- the types patrolled beyond EC2, ELB, RDS and EKS ------------------------------------------


def sagemaker_endpoint(resource: Resource) -> Sequence[Component] | Unpriced:
    """Each production variant's instances, by the hour (serverless variants bill per use)."""
    variants = list(resource.details.get("variants") or ())
    hosted = [v for v in variants if v.get("instance_type") and not v.get("serverless")]
    if not hosted:
        if variants and all(v.get("serverless") for v in variants):
            return Unpriced("serverless: billed per request and duration, nothing while idle")
        return Unpriced("its instance types are not known")
    return [
        _hours(
            str(v["instance_type"]),
            PriceQuery(
                "AmazonSageMaker",
                (_region(resource), ("instanceName", str(v["instance_type"]))),
                HOURLY,
                f"Host:{v['instance_type']}",
            ),
            count=int(v.get("count") or 0),
        )
        for v in hosted
    ]


def sagemaker_notebook(resource: Resource) -> Sequence[Component] | Unpriced:
    if resource.state != "InService":
        return Unpriced(f"not billed for its instance while {resource.state or 'not running'}")
    kind = str(resource.size)
    query = PriceQuery(
        "AmazonSageMaker", (_region(resource), ("instanceName", kind)), HOURLY, f"Notebk:{kind}"
    )
    return [_hours(kind, query)]


def notebook_storage(resource: Resource) -> str:
    gib = resource.details.get("volume_gib")
    return f"its {gib} GB ML storage volume not included" if gib else ""


OPENSEARCH_STORAGE = {"gp2": "GP2", "gp3": "GP3", "standard": "Magnetic"}


def opensearch_domain(resource: Resource) -> Sequence[Component] | Unpriced:
    """Data nodes, dedicated master nodes and UltraWarm nodes by the hour; EBS storage."""
    details = resource.details
    nodes = [
        (details.get("instance_type"), details.get("instance_count")),
        (details.get("master_type"), details.get("master_count")),
        (details.get("warm_type"), details.get("warm_count")),
    ]
    parts = [
        _hours(
            str(kind),
            PriceQuery(
                "AmazonES",
                (
                    _region(resource),
                    ("productFamily", "Amazon OpenSearch Service Instance"),
                    ("instanceType", str(kind)),
                ),
                HOURLY,
                f"ESInstance:{kind}",
            ),
            count=int(count),
        )
        for kind, count in nodes
        if kind and count
    ]
    if not parts:
        return Unpriced("its node types are not known")
    media = OPENSEARCH_STORAGE.get(str(details.get("volume_type")))
    gib, data_nodes = details.get("volume_gib"), details.get("instance_count")
    if media and gib and data_nodes:
        query = PriceQuery(
            "AmazonES",
            (
                _region(resource),
                ("productFamily", "Amazon OpenSearch Service Volume"),
                ("storageMedia", media),
            ),
            GB_MONTH,
        )
        total = int(gib) * int(data_nodes)
        what = f"{total} GiB {details.get('volume_type')} storage"
        parts.append(Component(what, query, float(total), required=False))
    return parts


ELASTICACHE_ENGINES = {"redis": "Redis", "valkey": "Valkey", "memcached": "Memcached"}


def elasticache_cluster(resource: Resource) -> Sequence[Component] | Unpriced:
    engine = ELASTICACHE_ENGINES.get(str(resource.details.get("engine")))
    if engine is None:
        return Unpriced(f"no price for engine {resource.details.get('engine')!r}")
    kind = str(resource.size)
    query = PriceQuery(
        "AmazonElastiCache",
        (_region(resource), ("instanceType", kind), ("cacheEngine", engine)),
        HOURLY,
        f"NodeUsage:{kind}",
    )
    return [_hours(kind, query, count=int(resource.details.get("nodes") or 1))]


def redshift_cluster(resource: Resource) -> Sequence[Component] | Unpriced:
    if resource.state == "paused":
        return Unpriced("paused: only its storage is billed")
    kind = str(resource.size)
    query = PriceQuery(
        "AmazonRedshift",
        (_region(resource), ("productFamily", "Compute Instance"), ("instanceType", kind)),
        HOURLY,
        f"Node:{kind}",
    )
    return [_hours(kind, query, count=int(resource.details.get("nodes") or 1))]


def redshift_storage(resource: Resource) -> str:
    managed = str(resource.size or "").startswith("ra3")
    return "its managed storage (RA3) not included" if managed else ""


def emr_cluster(resource: Resource) -> Sequence[Component] | Unpriced:
    """EMR's own charge per instance-hour; the instances themselves bill as EC2."""
    running: Mapping[str, int] = resource.details.get("running_instances") or {}
    if not running:
        return Unpriced("no running instances known")
    return [
        _hours(
            kind,
            PriceQuery(
                "ElasticMapReduce",
                (
                    _region(resource),
                    ("productFamily", "Elastic Map Reduce Instance"),
                    ("softwareType", "EMR"),
                    ("instanceType", kind),
                ),
                HOURLY,
            ),
            count=int(count),
        )
        for kind, count in sorted(running.items())
    ]


def dynamodb_table(resource: Resource) -> Sequence[Component] | Unpriced:
    """Provisioned read and write capacity (the table's and its indexes'), by the unit-hour."""
    details = resource.details
    if details.get("billing_mode") != "PROVISIONED":
        return Unpriced("on-demand: billed per request, nothing while idle")
    infrequent = details.get("table_class") == "STANDARD_INFREQUENT_ACCESS"
    parts = []
    for key, unit, words in (
        ("read_capacity", "ReadCapacityUnit-Hrs", "read capacity unit"),
        ("write_capacity", "WriteCapacityUnit-Hrs", "write capacity unit"),
    ):
        units = int(details.get(key) or 0)
        if not units:
            continue
        query = PriceQuery(
            "AmazonDynamoDB",
            (_region(resource), ("productFamily", "Provisioned IOPS")),
            unit,
            f"IA-{unit}" if infrequent else unit,
            beyond_free_tier=True,
        )
        what = f"{units} {words}{'' if units == 1 else 's'}"
        parts.append(Component(what, query, float(units * HOURS_PER_MONTH)))
    return parts or Unpriced("no capacity provisioned")


def dynamodb_storage(resource: Resource) -> str:
    return "its storage and backups not included"


def _snapshot_storage(resource: Resource, gib: float, what: str) -> Component:
    query = PriceQuery(
        "AmazonEC2",
        (_region(resource), ("productFamily", "Storage Snapshot")),
        GB_MONTH,
        "EBS:SnapshotUsage",
    )
    return Component(what, query, gib)


def ebs_snapshot(resource: Resource) -> Sequence[Component] | Unpriced:
    if resource.details.get("storage_tier") not in (None, "standard"):
        return Unpriced(f"{resource.details.get('storage_tier')} tier: not priced here")
    gib = resource.details.get("volume_gib")
    if not gib:
        return Unpriced("its size is not known")
    return [_snapshot_storage(resource, float(gib), f"up to {gib} GiB of snapshot storage")]


def ami(resource: Resource) -> Sequence[Component] | Unpriced:
    snapshots = list(resource.details.get("snapshots") or ())
    gib = sum(int(s.get("gib") or 0) for s in snapshots)
    if not gib:
        return Unpriced("no EBS snapshots behind it")
    count = f"{len(snapshots)} snapshot{'' if len(snapshots) == 1 else 's'}"
    return [_snapshot_storage(resource, float(gib), f"up to {gib} GiB in its {count}")]


SNAPSHOT_BOUND = "an upper bound: a snapshot is billed for the blocks it stores, at most its size"
