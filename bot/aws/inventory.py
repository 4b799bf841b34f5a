"""What exists in one account and region: each type's describe calls → Resources.

Each patrol type's declaration (bot/registry/patrol/) names its Lister: the service and the
function (in bot/aws/kinds/) that describes it. Every list call goes through a paginator. A type
whose describe calls are denied (or fail) is left out with a note saying so, and the other types
are still collected: a patrol round reports what it could not see instead of stopping. A service
that fails (not a denial: a 5xx after botocore's retries, an endpoint that does not answer) is not
asked for the other types in that account and region in the same round (RoundFaults).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.aws.faults import RoundFaults
from bot.core.parents import PARENT_DETAIL_TAGS
from bot.core.resources import Resource

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]


_STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


@dataclass(frozen=True)
class Lister:
    """How one type is listed: the service that answers, and the function that describes it."""

    service: str  # the boto3 client; a failing one is not asked for its other types that round
    collect: Callable[[Scan], list[Resource]]
    permissions: tuple[str, ...]  # the IAM actions its calls need (bot/permissions.py shows them)


class Listed(Protocol):
    """What the inventory reads of a type's declaration."""

    @property
    def plural(self) -> str: ...  # how a note names them: "EBS volumes"

    @property
    def inventory(self) -> Lister: ...


@dataclass(frozen=True)
class Collected:
    """One account and region's resources, and what could not be looked at."""

    resources: tuple[Resource, ...]
    # e.g. "EBS volumes not checked in 123456789012/eu-west-1: DescribeVolumes denied"
    notes: tuple[str, ...] = ()
    failed_types: tuple[str, ...] = ()  # types left out entirely


class Inventory:
    """Describe calls per type, with clients from client_for(service, region); `types` are the
    declared patrol types by CloudFormation type (bot.registry.patrol.PATROL.by_type)."""

    def __init__(self, client_for: ClientFactory, types: Mapping[str, Listed]) -> None:
        self._client_for = client_for
        self._types = types

    def collect(
        self,
        account: str,
        region: str,
        types: Iterable[str] | None = None,
        *,
        faults: RoundFaults | None = None,
    ) -> Collected:
        """These types (every declared one by default) in one account and region."""
        scan = Scan(self._client_for, account, region)
        place = f"{account}/{region}"
        resources: list[Resource] = []
        notes: list[str] = []
        failed: list[str] = []
        for kind in dict.fromkeys(self._types if types is None else types):
            declared = self._types.get(kind)
            if declared is None:
                notes.append(f"{kind} is not inventoried")
                failed.append(kind)
                continue
            collector, service = declared.inventory.collect, declared.inventory.service
            if faults is not None and faults.failed(service, place) is not None:
                faults.skipped(service, place)
                failed.append(kind)
                continue
            try:
                resources.extend(collector(scan))
            except ClientError as error:
                failed.append(kind)
                notes.append(_note(declared.plural, account, region, error))
                if is_denied(error):
                    logger.warning("%s", notes[-1])
                    continue  # permissions are per operation: the service may answer others
                logger.exception("describing %s in %s/%s failed", kind, account, region)
                if faults is not None:
                    faults.record(service, place, error)
            except BotoCoreError as error:
                failed.append(kind)
                notes.append(
                    f"{declared.plural} not checked in {account}/{region}: {type(error).__name__}"
                )
                logger.exception("describing %s in %s/%s failed", kind, account, region)
                if faults is not None:
                    faults.record(service, place, error)
        return Collected(tuple(resources), tuple([*notes, *scan.notes]), tuple(failed))


def _note(plural: str, account: str, region: str, error: ClientError) -> str:
    operation = getattr(error, "operation_name", None) or "a describe call"
    outcome = "denied" if is_denied(error) else f"failed ({error_code(error)})"
    return f"{plural} not checked in {account}/{region}: {operation} {outcome}"


class Scan:
    """One collect call: clients, and describe passes several types share (made at most once)."""

    def __init__(self, client_for: ClientFactory, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.partition = partition_of(region)
        self._client_for = client_for
        self._shared: dict[str, list[dict[str, Any]] | Exception] = {}
        self.notes: list[str] = []  # partial failures inside a type that was still collected

    def client(self, service: str) -> Any:
        return self._client_for(service, self.region)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def once(self, name: str, describe: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """`describe()`'s answer, asked once per collect call however many types read it.
        A failure is remembered too: a denied call is not repeated for the next type."""
        if name not in self._shared:
            try:
                self._shared[name] = describe()
            except (ClientError, BotoCoreError) as error:
                self._shared[name] = error
        found = self._shared[name]
        if isinstance(found, Exception):
            raise found
        return found


def partition_of(region: str) -> str:
    prefixes = {
        "cn-": "aws-cn",
        "us-gov-": "aws-us-gov",
        "us-iso-": "aws-iso",
        "us-isob-": "aws-iso-b",
    }
    return next((p for prefix, p in prefixes.items() if region.startswith(prefix)), "aws")


def pages(
    client: Any, operation: str, *, page_size: int | None = None, **params: Any
) -> Iterator[dict[str, Any]]:
    """Every page of a list call. Give a page size within the API's limit where it has one:
    without one, some describes answer a whole fleet in one response, which at 10,000
    resources is slow to build and can outlast the client's read timeout."""
    config = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    yield from client.get_paginator(operation).paginate(**params, **config)


def items(
    client: Any, operation: str, key: str, *, page_size: int | None = None, **params: Any
) -> Iterator[Any]:
    """Every item under `key`, page after page."""
    for page in pages(client, operation, page_size=page_size, **params):
        yield from page.get(key, [])


def parents(tags: Mapping[str, str]) -> dict[str, str]:
    """The parents a resource's tags name, as Resource.details keys (PARENT_DETAIL_TAGS)."""
    return {name: tags[tag] for name, tag in PARENT_DETAIL_TAGS.items() if tags.get(tag)}


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def stopped_at(reason: str | None) -> datetime | None:
    """'User initiated (2024-01-02 10:00:00 GMT)' → that time; None when it names none."""
    match = _STOPPED_AT.search(reason or "")
    if not match:
        return None
    return datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def batches(values: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
