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
        return f"{part.what}: ${usd:g}/h × {HOURS_PER_MONTH} h = ${amount:,.2f}"
    return f"{part.what}: ${usd:g}/GB-month = ${amount:,.2f}"


# --- what each type is billed for -------------------------------------------------------------


def _hours(what: str, query: PriceQuery, required: bool = True) -> Component:
    return Component(what, query, HOURS_PER_MONTH, required)


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
