"""OpenSearch Service's patrolled type in AWS: domains.

What its declaration (bot/registry/patrol/opensearch.py) points at: listing, tags, creation times
for lookups. No button changes a domain (the declaration says why). A domain's description has no
creation time: its configuration's does (each option's Status.CreationDate is the domain's).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.aws.creation_hints import ClientFor, Hint, optional, owner_tags
from bot.aws.inventory import Scan, batches, parents, utc
from bot.aws.tagging import arn_of, aws_tags, tags_of
from bot.core.refs import ResourceRef
from bot.core.resources import Resource

DOMAIN = "AWS::OpenSearchService::Domain"
SERVICE = "opensearch"
DESCRIBE_BATCH = 5  # DescribeDomains takes at most 5 names


def _state(status: Mapping[str, Any]) -> str:
    if status.get("Deleted"):
        return "deleting"
    if not status.get("Created"):
        return "creating"
    return "processing" if status.get("Processing") else "active"


def _created(client: Any, name: str) -> datetime | None:
    config = client.describe_domain_config(DomainName=name).get("DomainConfig", {})
    return utc(config.get("EngineVersion", {}).get("Status", {}).get("CreationDate"))


def _described(client: Any) -> Iterator[dict[str, Any]]:
    # ListDomainNames answers every domain at once; DescribeDomains takes five a call.
    names = [d["DomainName"] for d in client.list_domain_names().get("DomainNames", [])]
    for batch in batches(names, DESCRIBE_BATCH):
        yield from client.describe_domains(DomainNames=batch).get("DomainStatusList", [])


# Inventory --------------------------------------------------------------------------------------


def domains(scan: Scan) -> list[Resource]:
    client = scan.client(SERVICE)
    resources = []
    for status in _described(client):
        if status.get("Deleted"):
            continue
        name, arn = status["DomainName"], status["ARN"]
        tags = tags_of(client.list_tags(ARN=arn).get("TagList"))
        cluster = status.get("ClusterConfig", {})
        ebs = status.get("EBSOptions", {})
        details: dict[str, Any] = {
            **parents(tags),
            "engine_version": status.get("EngineVersion"),
            "instance_type": cluster.get("InstanceType"),
            "instance_count": cluster.get("InstanceCount"),
        }
        if cluster.get("DedicatedMasterEnabled"):
            details["master_type"] = cluster.get("DedicatedMasterType")
            details["master_count"] = cluster.get("DedicatedMasterCount")
        if cluster.get("WarmEnabled"):
            details["warm_type"] = cluster.get("WarmType")
            details["warm_count"] = cluster.get("WarmCount")
        if ebs.get("EBSEnabled"):
            details["volume_type"] = ebs.get("VolumeType")
            details["volume_gib"] = ebs.get("VolumeSize")
        count, kind = cluster.get("InstanceCount"), cluster.get("InstanceType")
        resources.append(
            Resource(
                type=DOMAIN,
                id=name,
                region=scan.region,
                account=scan.account,
                name=name,
                arn=arn,
                state=_state(status),
                created_at=_created(client, name),
                size=f"{count} × {kind}" if kind else None,
                tags=tags,
                details=details,
            )
        )
    return resources


# Tags -------------------------------------------------------------------------------------------


def write_tags(client: Any, resources: Sequence[Resource], tags: dict[str, str]) -> None:
    for resource in resources:  # AddTags takes one ARN
        client.add_tags(ARN=arn_of(resource, "es", "domain/"), TagList=aws_tags(tags))


# Creation times for lookups -----------------------------------------------------------------------


def read_domain(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
    client = client_for(SERVICE, region)
    found = client.describe_domains(DomainNames=[ref.id]).get("DomainStatusList", [])
    if not found or found[0].get("Deleted"):
        return Hint(exists=False)
    status = found[0]
    created, note = optional(
        lambda: _created(client, ref.id),
        "es:DescribeDomainConfig",
        "searched without a creation-time hint",
    )
    tags, tag_note = optional(
        lambda: client.list_tags(ARN=status["ARN"]).get("TagList"),
        "es:ListTags",
        "owner tags not read",
    )
    notes = "; ".join(n for n in (note, tag_note) if n) or None
    return Hint(created, owner_tags(tags), region, notes, True)
