"""Ask the service itself when a resource was created, and which owner-like tags it carries.

A creation time narrows CloudTrail to one LookupEvents call in a short window; it is only a hint
(the finder searches without it when the window holds no creation). A denied or failed describe
only costs that shortcut: the Hint says which permission would have helped, and nothing raises.

Each type's Reader is declared in the registry (bot/registry/patrol/: a patrol type's declaration,
or the lookup-only readers); the functions are in bot/aws/kinds/. `Hints(readers)` asks the one
for a reference's type; types without one get an empty Hint. A reader takes (client_for, region,
ref) and returns a Hint, or raises the botocore error, which `Hints.ask` turns into a note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.core.parents import PARENT_TAG_KEYS
from bot.core.refs import ResourceRef

logger = logging.getLogger(__name__)

ClientFor = Callable[[str, str], Any]

# Tag keys that name a person or tool responsible for the resource (compared case-insensitively).
OWNER_TAG_KEYS = (
    "owner",
    "owner_email",
    "owner-email",
    "owneremail",
    "createdby",
    "created-by",
    "created_by",
    "creator",
    "autotag_creator",
    "aws:createdby",
    "whocreated:created-by",
)
_OWNER_KEYS = frozenset(OWNER_TAG_KEYS)

NOT_FOUND_CODES = frozenset(
    {
        "InvalidInstanceID.NotFound",
        "InvalidInstanceID.Malformed",
        "InvalidVolume.NotFound",
        "InvalidSnapshot.NotFound",
        "InvalidAMIID.NotFound",
        "InvalidAMIID.Unavailable",
        "NatGatewayNotFound",
        "InvalidNatGatewayID.NotFound",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "LoadBalancerNotFound",
        "LoadBalancerNotFoundException",
        "AccessPointNotFound",
        "ResourceNotFoundException",
        "NoSuchBucket",
        "NoSuchEntity",
        "NotFound",
        "404",
    }
)


@dataclass(frozen=True)
class Hint:
    """What the service says about a resource: when it was created, owner tags, where it lives.

    `exists` is None when the service was not asked (or could not answer), False when it said the
    resource is not there (in that region), True when it described it.
    """

    created_at: datetime | None = None
    owner_tags: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None
    note: str | None = None
    exists: bool | None = None
    parent_tags: Mapping[str, str] = field(default_factory=dict)  # tags naming a parent


@dataclass(frozen=True)
class Reader:
    """How to ask about one resource type: the permissions it needs (the first is the call
    that must succeed; the others only add to the hint) and the function."""

    permissions: tuple[str, ...]
    ask: Callable[[ClientFor, str, ResourceRef], Hint]

    @property
    def permission(self) -> str:
        return self.permissions[0]


class Hints:
    """Creation hints through each type's declared Reader (by CloudFormation type)."""

    def __init__(self, readers: Mapping[str, Reader]) -> None:
        self._readers = readers

    def knows(self, resource_type: str | None) -> bool:
        return (resource_type or "") in self._readers

    def ask(self, ref: ResourceRef, client_for: ClientFor, region: str) -> Hint:
        """The service's creation time and owner tags for `ref` in `region`; never raises."""
        return creation_hint(ref, client_for, region, self._readers.get(ref.type or ""))


def creation_hint(
    ref: ResourceRef, client_for: ClientFor, region: str, reader: Reader | None
) -> Hint:
    """What `reader` says of `ref` in `region` (an empty Hint without one); never raises."""
    if reader is None:
        return Hint()
    try:
        return reader.ask(client_for, region, ref)
    except ClientError as error:
        code = error_code(error)
        if code in NOT_FOUND_CODES:
            return Hint(exists=False)
        if is_denied(error):
            note = f"{reader.permission} denied: searched without a creation-time hint"
            return Hint(note=note)
        logger.exception("%s for %s in %s failed", reader.permission, ref.id, region)
        return Hint(
            note=f"{reader.permission} failed ({code}): searched without a creation-time hint"
        )
    except BotoCoreError as error:
        logger.exception("%s for %s in %s failed", reader.permission, ref.id, region)
        name = type(error).__name__
        return Hint(
            note=f"{reader.permission} failed ({name}): searched without a creation-time hint"
        )


def owner_tags(tags: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict[str, str]:
    """Owner-like tags from an AWS tag list ([{Key, Value}]) or a tag dict ({key: value})."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        pairs = [(str(key), value) for key, value in tags.items()]
    else:
        pairs = [(str(tag.get("Key", "")), tag.get("Value")) for tag in tags]
    return {
        key: str(value)
        for key, value in pairs
        if key.lower() in _OWNER_KEYS and value not in (None, "")
    }


def parent_tags(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """Tags that name a parent (aws:autoscaling:groupName, aws:cloudformation:stack-name…) from
    an AWS tag list."""
    return {
        str(tag.get("Key")): str(tag.get("Value"))
        for tag in tags or []
        if tag.get("Key") in PARENT_TAG_KEYS and tag.get("Value")
    }


def utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def optional(
    call: Callable[[], Any], permission: str, cost: str, *, absent: tuple[str, ...] = ()
) -> tuple[Any, str | None]:
    """A secondary call whose failure costs only part of the hint: (result or None, note)."""
    try:
        return call(), None
    except ClientError as error:
        code = error_code(error)
        if code in absent:
            return None, None
        if is_denied(error):
            return None, f"{permission} denied: {cost}"
        logger.exception("%s failed", permission)
        return None, f"{permission} failed ({code}): {cost}"
    except BotoCoreError as error:
        logger.exception("%s failed", permission)
        return None, f"{permission} failed ({type(error).__name__}): {cost}"


def id_filter(name: str, ref: ResourceRef) -> list[dict[str, Any]]:
    return [{"Name": name, "Values": [ref.id]}]


def ec2_single(
    method: str, filter_name: str, result_key: str, time_key: str
) -> Callable[[ClientFor, str, ResourceRef], Hint]:
    """Describe calls shaped alike: Describe*(Filters=[id]) → [{time_key, Tags}]."""

    def ask(client_for: ClientFor, region: str, ref: ResourceRef) -> Hint:
        describe = getattr(client_for("ec2", region), method)
        found = describe(Filters=id_filter(filter_name, ref))[result_key]
        if not found:
            return Hint(exists=False)
        item = found[0]
        return Hint(utc(item.get(time_key)), owner_tags(item.get("Tags")), region, None, True)

    return ask
