"""Write tags on patrolled resources, in as few calls as each service allows.

Each type's declaration (bot/registry/patrol/) names its Writer (the functions are in
bot/aws/kinds/). `Tagger.tag_all([(resource, tags), ...])` groups resources by account, region,
writer and tag set, and writes each group in batches: EC2's CreateTags takes up to 1,000 resource
ids a call (instances, volumes, addresses and NAT gateways together), Elastic Load Balancing's
AddTags 20 load balancers, RDS and EKS one resource a call. `tag(resource, tags)` is one of
them. Tagging is a courtesy (it keeps answers past CloudTrail's 90 days), so it never raises:
denied is "not written" and one warning per kind of permission, any other failure is "not
written" and a logged error. Callers decide whether a round may write at all (read-only rounds
never do).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.core.resources import Resource

logger = logging.getLogger(__name__)

ClientFor = Callable[[str, str], Any]
# Writes one tag set on a batch of resources of one service, account and region.
TagWriter = Callable[[Any, Sequence[Resource], dict[str, str]], None]

KEY_LIMIT = 128
VALUE_LIMIT = 256
# What every service here accepts in tag keys and values (EKS and RDS are the strictest).
_NOT_ALLOWED = re.compile(r"[^\w\s+\-=.:/@]")


def tags_of(pairs: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    """[{Key, Value}] (as most services answer) → {key: value}."""
    return {pair["Key"]: pair.get("Value", "") for pair in pairs or () if "Key" in pair}


def aws_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """{key: value} → [{Key, Value}], as most services take them."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


@dataclass(frozen=True)
class Writer:
    service: str  # the boto3 client
    permission: str  # what a denial names
    write: TagWriter
    batch: int  # resources a call takes
    resources: tuple[str, ...] = ()  # its IAM resources, for the generated policies


class Tagged(Protocol):
    """What the tagger reads of a type's declaration."""

    @property
    def tagging(self) -> Writer | None: ...


def clean_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Keys and values as every service here accepts them, within their lengths."""
    return {_clip(key, KEY_LIMIT): _clip(value, VALUE_LIMIT) for key, value in tags.items()}


_Group = tuple[str, str, Writer, tuple[tuple[str, str], ...]]  # account, region, writer, tags


class Tagger:
    """Tags through `client_for` (the credentials' own account); `types` are the declared patrol
    types by CloudFormation type (bot.registry.patrol.PATROL.by_type).

    For resources in other accounts, give `account_id` (our own) and `clients_for_account`
    (e.g. from bot.aws.accounts.visit); without them such a resource is not tagged.
    """

    def __init__(
        self,
        client_for: ClientFor,
        types: Mapping[str, Tagged],
        *,
        account_id: Callable[[], str | None] | None = None,
        clients_for_account: Callable[[str], ClientFor | None] | None = None,
    ) -> None:
        self._client_for = client_for
        self._types = types
        self._account_id = account_id or (lambda: None)
        self._clients_for_account = clients_for_account
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def tag(self, resource: Resource, tags: Mapping[str, str]) -> bool:
        """Add (or overwrite) these tags on the resource; False when it could not be done."""
        return self.tag_all([(resource, tags)]) == (1, 0)

    def tag_all(self, items: Sequence[tuple[Resource, Mapping[str, str]]]) -> tuple[int, int]:
        """Tag each resource with its tags, batched; (resources written, not written)."""
        groups: dict[_Group, list[Resource]] = {}
        not_written = 0
        for resource, tags in items:
            declared = self._types.get(resource.type)
            writer = declared.tagging if declared is not None else None
            if writer is None:
                logger.debug("no way to tag %s (%s)", resource.id, resource.type)
                not_written += 1
                continue
            clean = clean_tags(tags)
            key = (resource.account, resource.region, writer, tuple(sorted(clean.items())))
            groups.setdefault(key, []).append(resource)
        written = 0
        for (account, region, writer, pairs), resources in groups.items():
            for start in range(0, len(resources), writer.batch):
                batch = resources[start : start + writer.batch]
                if self._write(account, region, writer, batch, dict(pairs)):
                    written += len(batch)
                else:
                    not_written += len(batch)
        return written, not_written

    def _write(
        self,
        account: str,
        region: str,
        writer: Writer,
        batch: Sequence[Resource],
        tags: dict[str, str],
    ) -> bool:
        clients = self._clients(account)
        if clients is None:
            self._warn_once(
                f"account {account}",
                f"no clients for account {account}: its resources are not tagged",
            )
            return False
        first = batch[0].id
        try:
            writer.write(clients(writer.service, region), batch, tags)
        except ClientError as error:
            if is_denied(error):
                self._warn_once(
                    writer.permission,
                    f"{writer.permission} denied (first on {first} in {region}): "
                    "resolved creators are not written back as tags",
                )
            else:
                logger.error(
                    "tagging %d resources (%s, …) in %s failed (%s): %s",
                    len(batch),
                    first,
                    region,
                    error_code(error),
                    error,
                )
            return False
        except BotoCoreError:
            logger.exception("tagging %d resources (%s, …) in %s failed", len(batch), first, region)
            return False
        return True

    def _clients(self, account: str) -> ClientFor | None:
        own = self._account_id()
        if own is None or account == own:
            return self._client_for
        return self._clients_for_account(account) if self._clients_for_account else None

    def _warn_once(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        logger.warning(message)


def _clip(text: str, limit: int) -> str:
    return _NOT_ALLOWED.sub("_", text)[:limit]


def arn_of(resource: Resource, service: str, kind: str) -> str:
    """The resource's ARN, or one built from where it lives (RDS and EKS tag by ARN)."""
    if resource.arn:
        return resource.arn
    partition = next(
        (name for prefix, name in _PARTITIONS if resource.region.startswith(prefix)), "aws"
    )
    return f"arn:{partition}:{service}:{resource.region}:{resource.account}:{kind}{resource.id}"


_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))
