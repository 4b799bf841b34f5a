"""Does a CloudTrail record belong where an ARN says its resource lives?

An ARN names a partition, an account and (for regional types) a region. Names are not unique across
accounts: in an organization trail, two accounts can each create a role `admin`. A record answers
for an ARN only when what it says about itself agrees with the ARN: its `recipientAccountId` (the
account whose trail received it, where the resource was made, whoever called), its `awsRegion`,
the partition of the ARNs it holds, and the ARNs it created. A field a record lacks is not held
against it: hand-made exports often carry fewer fields than a trail writes.

Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.events import CreationFact
from bot.core.refs import ResourceRef

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Place:
    """Where a record or an ARN puts a resource; None where it does not say."""

    partition: str | None = None
    account: str | None = None
    region: str | None = None

    def conflicts_with(self, other: Place) -> bool:
        """True when both say something about the same field and disagree."""
        return any(
            mine is not None and theirs is not None and mine != theirs
            for mine, theirs in (
                (self.partition, other.partition),
                (self.account, other.account),
                (self.region, other.region),
            )
        )


def place_of_ref(ref: ResourceRef) -> Place:
    """What an ARN fixes; for ids and bare names, which may live anywhere, only the account
    asked for (`--account`), if any."""
    if ref.arn is None:
        return Place(account=ref.account)
    return Place(partition=ref.partition, account=ref.account, region=ref.region)


def place_of_arn(arn: str) -> Place:
    """The partition, account and region written in an ARN (empty parts say nothing)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return Place()
    partition, region, account = parts[1], parts[3], parts[4]
    return Place(
        partition=partition or None,
        account=account if _ACCOUNT.match(account) else None,
        region=region or None,
    )


def place_of_record(record: Mapping[str, Any]) -> Place:
    """The account that received the event, its region, and the partition of its caller's ARN."""
    account = record.get("recipientAccountId")
    region = record.get("awsRegion")
    return Place(
        partition=_caller_partition(record),
        account=account if isinstance(account, str) and _ACCOUNT.match(account) else None,
        region=region if isinstance(region, str) and region else None,
    )


def _caller_partition(record: Mapping[str, Any]) -> str | None:
    identity = record.get("userIdentity")
    if not isinstance(identity, Mapping):
        return None
    context = identity.get("sessionContext")
    issuer = context.get("sessionIssuer") if isinstance(context, Mapping) else None
    issuer_arn = issuer.get("arn") if isinstance(issuer, Mapping) else None
    for arn in (identity.get("arn"), issuer_arn):
        if isinstance(arn, str) and arn.startswith("arn:"):
            return place_of_arn(arn).partition
    return None


def record_is_in_place(ref: ResourceRef, record: Mapping[str, Any]) -> bool:
    """False when the record is about another partition, account or region than the ARN's."""
    wanted = place_of_ref(ref)
    if wanted == Place():
        return True
    return not wanted.conflicts_with(place_of_record(record))


def creation_is_in_place(ref: ResourceRef, record: Mapping[str, Any], fact: CreationFact) -> bool:
    """The record is in the ARN's place, and so is every ARN the event created.

    A role created in another account matches `admin` by name; its ARN in the response
    (`arn:aws:iam::222222222222:role/admin`) tells the accounts apart even when the record lacks
    its recipientAccountId.
    """
    if not record_is_in_place(ref, record):
        return False
    wanted = place_of_ref(ref)
    return not any(wanted.conflicts_with(place_of_arn(arn)) for arn in _arns(fact.created))


def _arns(values: Iterable[str]) -> Iterable[str]:
    return (value for value in values if value.startswith("arn:"))
