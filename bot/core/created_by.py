"""The tags whocreated writes on resources, signed so that nobody else can write them.

`whocreated:created-by` keeps a resolved creator on the resource itself (CloudTrail keeps 90 days of
event history; a tag lasts as long as the resource): "<name> <ISO time> <event> <Slack user or ->
<signature>", e.g. "alice 2024-03-01T12:00:00Z RunInstances U012AB3CD wc1.Xk…". `whocreated:keep-
until` holds a keep: "<ISO time> <signature>".

Anyone allowed `ec2:CreateTags` can write a tag, so a tag is data, not authority (DESIGN.md §4,
Trust). The signature is an HMAC with the bot's own key over the value *and the resource it is on*
(account, region, type, id): a value copied onto another resource, edited, or written by hand does
not verify, and then counts only as a claim. Pure: formatting, signing and parsing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

CREATED_BY_TAG = "whocreated:created-by"
KEEP_UNTIL_TAG = "whocreated:keep-until"
TAG_VALUE_LIMIT = 256  # the smallest tag value limit among EC2, RDS, ELB and EKS
SIGNATURE_PREFIX = "wc1."  # the signature scheme's version, so a later one can be told apart
NO_SLACK_USER = "-"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_EVENT_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_MAC_BYTES = 16  # 128 bits, 22 characters in the tag

ResourceKey = tuple[str, str, str, str]  # (account, region, type, id), as Resource.key
Subject = tuple[str, ...]  # what a signature is bound to: see `subject`


def subject(key: ResourceKey, created_at: datetime | None, *, unique_id: bool) -> Subject:
    """What a tag's signature binds: the resource's key and, where its id is a reusable name
    (`unique_id` False: its type's declaration says so), its creation time, so a keep or a
    creator never passes to a later resource of that name."""
    if unique_id:
        return key
    when = created_at.astimezone(UTC).strftime(_TIME_FORMAT) if created_at else ""
    return (*key, when)


@dataclass(frozen=True)
class CreatedBy:
    name: str
    event_time: datetime | None = None  # timezone-aware UTC
    event_name: str | None = None
    slack_user: str | None = None  # the person it was mapped to when written
    signed: bool = False  # True only when the signature verified for this resource

    @property
    def complete(self) -> bool:
        return self.event_time is not None and self.event_name is not None


class TagSigner:
    """Signs and verifies the bot's tags with one secret key (bot.signing_key provides it)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a tag signing key needs at least 16 bytes")
        self._key = key

    # whocreated:created-by --------------------------------------------------------------------

    def created_by(
        self,
        resource: Subject,
        name: str,
        event_time: datetime,
        event_name: str,
        slack_user: str | None,
    ) -> str:
        """The signed tag value, at most TAG_VALUE_LIMIT characters (a long name is shortened)."""
        when = event_time.astimezone(UTC).strftime(_TIME_FORMAT)
        who = slack_user if slack_user and _SLACK_USER.match(slack_user) else NO_SLACK_USER
        tail = f" {when} {event_name} {who}"
        room = max(1, TAG_VALUE_LIMIT - len(tail) - 1 - len(SIGNATURE_PREFIX) - 22)
        # Names never hold spaces (IAM and session names cannot); keep the value parseable anyway.
        clean = ("_".join(name.split()) or "unknown")[:room]
        body = f"{clean}{tail}"
        return f"{body} {self._sign('created-by', resource, body)}"

    def read_created_by(self, resource: Subject, value: str | None) -> CreatedBy | None:
        """The tag's parts; `signed` only when the signature holds for this very resource."""
        text = (value or "").strip()
        if not text:
            return None
        parts = text.split(" ")
        if len(parts) == 5 and parts[4].startswith(SIGNATURE_PREFIX):
            body = " ".join(parts[:4])
            name, when, event, who = parts[:4]
            signed = self._verify("created-by", resource, body, parts[4])
            moment = _time(when)
            if moment is not None and _EVENT_NAME.match(event):
                return CreatedBy(
                    name,
                    moment,
                    event,
                    slack_user=who if signed and who != NO_SLACK_USER else None,
                    signed=signed,
                )
        return _unsigned(text)

    # whocreated:keep-until --------------------------------------------------------------------

    def keep_until(self, resource: Subject, until: datetime) -> str:
        body = until.astimezone(UTC).strftime(_TIME_FORMAT)
        return f"{body} {self._sign('keep-until', resource, body)}"

    def read_keep_until(self, resource: Subject, value: str | None) -> datetime | None:
        """When the keep ends, only when the bot wrote it for this resource; else None."""
        parts = (value or "").strip().split(" ")
        if len(parts) != 2 or not self._verify("keep-until", resource, parts[0], parts[1]):
            return None
        return _time(parts[0])

    # The HMAC ---------------------------------------------------------------------------------

    def _sign(self, kind: str, resource: Subject, body: str) -> str:
        message = "\x00".join((kind, *resource, body)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]
        return SIGNATURE_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _verify(self, kind: str, resource: Subject, body: str, signature: str) -> bool:
        return hmac.compare_digest(self._sign(kind, resource, body), signature)


def created_by_value(tags: Mapping[str, str] | None) -> str | None:
    """The raw `whocreated:created-by` value among `tags` (keys compared without case)."""
    return _tag(tags, CREATED_BY_TAG)


def keep_until_value(tags: Mapping[str, str] | None) -> str | None:
    return _tag(tags, KEEP_UNTIL_TAG)


def parse_unsigned(value: str | None) -> CreatedBy | None:
    """What a value says, signature unchecked (for showing it as a claim)."""
    text = (value or "").strip()
    return _unsigned(text) if text else None


def _unsigned(text: str) -> CreatedBy:
    """A value that does not verify: what it claims, never signed. The old unsigned format
    ("<name> <time> <event>") still reads as its parts."""
    parts = text.split(" ")
    if len(parts) >= 3 and _EVENT_NAME.match(parts[2]):
        moment = _time(parts[1])
        if moment is not None and parts[0]:
            return CreatedBy(parts[0], moment, parts[2])
    return CreatedBy(text)


def _tag(tags: Mapping[str, str] | None, wanted: str) -> str | None:
    for key, value in (tags or {}).items():
        if key.strip().lower() == wanted:
            return value
    return None


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
