"""What a reference names, by the registry alone: an ARN's type and id, an EC2-style id's type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.registry import arns, declared
from bot.registry.catalog import registry

# arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, with the account "aws" for AWS-owned resources.
ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>\d{12}|aws|):(?P<resource>.+)$",
    re.DOTALL,
)
# EC2-family ids: a lowercase prefix (tgw-attach has a hyphen) and hex digits.
EC2_ID = re.compile(r"^(?P<prefix>[a-z]+(?:-attach)?)-(?P<hex>[0-9a-f]+)$")
EC2_HEX_LENGTHS = (8, 17)


@dataclass(frozen=True)
class ArnParts:
    partition: str
    service: str
    region: str | None
    account: str | None
    resource: str
    cfn_type: str | None  # None: no known format of the service matches
    resource_id: str
    variables: Mapping[str, str] = field(default_factory=dict)  # the format's, by name


def parse_arn(text: str) -> ArnParts | None:
    """The ARN's parts, type and id; None when the text is no ARN."""
    match = ARN.match(text)
    if not match:
        return None
    return _parse(
        match["partition"], match["service"], match["region"], match["account"], match["resource"]
    )


@lru_cache(maxsize=4096)
def _parse(partition: str, service: str, region: str, account: str, resource: str) -> ArnParts:
    found = arns.best_match(resource, registry().compiled_formats(service))
    variables: Mapping[str, str] = {}
    if found is not None:
        cfn_type, resource_id, variables = found.cfn_type, found.resource_id, found.variables
    else:
        cfn_type, resource_id = None, _fallback_id(resource)
    spec = registry().types.get(cfn_type) if cfn_type else None
    if spec and spec.id_prefixes and EC2_ID.match(resource_id.lower()):
        resource_id = resource_id.lower()  # EC2 ids are the same in any case
    return ArnParts(
        partition=partition,
        service=service,
        region=region or None,
        account=account if account.isdigit() else None,
        resource=resource,
        cfn_type=cfn_type,
        resource_id=resource_id,
        variables=variables,
    )


def _fallback_id(resource: str) -> str:
    """An ARN of no known format: what follows its first kind separator (`kind/id`, `kind:id`)."""
    for separator in ("/", ":"):
        if separator in resource:
            kind, rest = resource.split(separator, 1)
            return rest if kind else rest.split("/", 1)[-1]
    return resource


def type_of_id(text: str) -> str | None:
    """The type of an EC2-style id (i-0abc…), whatever its case; None for anything else."""
    match = EC2_ID.match(text.lower())
    if not match or len(match["hex"]) not in EC2_HEX_LENGTHS:
        return None
    return registry().id_prefixes.get(match["prefix"])


def type_of_reference(text: str) -> str | None:
    """The type an ARN or an EC2-style id names; None for names and anything unknown."""
    if text.startswith("arn:"):
        parts = parse_arn(text)
        return parts.cfn_type if parts else None
    return type_of_id(text)


def home_region(service: str | None, partition: str = "aws") -> str | None:
    """A global service's home region in this partition; None for regional services."""
    return declared.GLOBAL_SERVICE_HOME.get(service or "", {}).get(partition)
