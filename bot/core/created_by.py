"""The `whocreated:created-by` tag: a resolved creator written on the resource itself.

CloudTrail keeps 90 days of event history; a tag keeps the answer for as long as the resource
lives. The value is "<name> <ISO time> <event name>", e.g.
"alice 2024-03-01T12:00:00Z RunInstances": the creator's human name (events.Actor.name), when the
creation event happened, and which event it was. Pure: formatting and parsing only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

CREATED_BY_TAG = "whocreated:created-by"
TAG_VALUE_LIMIT = 256  # the smallest tag value limit among EC2, RDS, ELB and EKS
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_EVENT_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CreatedBy:
    name: str
    event_time: datetime | None = None  # timezone-aware UTC
    event_name: str | None = None

    @property
    def complete(self) -> bool:
        return self.event_time is not None and self.event_name is not None


def format_created_by(name: str, event_time: datetime, event_name: str) -> str:
    """The tag value, at most TAG_VALUE_LIMIT characters: a long name is shortened, not the rest."""
    when = event_time.astimezone(UTC).strftime(_TIME_FORMAT)
    tail = f" {when} {event_name}"
    room = max(1, TAG_VALUE_LIMIT - len(tail))
    # Names never hold spaces (IAM and session names cannot); keep the value parseable anyway.
    clean = "_".join(name.split()) or "unknown"
    return (clean[:room] + tail)[:TAG_VALUE_LIMIT]


def parse_created_by(value: str | None) -> CreatedBy | None:
    """The tag's parts; a hand-written value without time and event is a name alone."""
    text = (value or "").strip()
    if not text:
        return None
    parts = text.rsplit(" ", 2)
    if len(parts) == 3 and _EVENT_NAME.match(parts[2]):
        when = _time(parts[1])
        if when is not None and parts[0].strip():
            return CreatedBy(parts[0].strip(), when, parts[2])
    return CreatedBy(text)


def created_by_tag(tags: Mapping[str, str] | None) -> CreatedBy | None:
    """The parsed `whocreated:created-by` tag among `tags` (keys compared case-insensitively)."""
    for key, value in (tags or {}).items():
        if key.lower() == CREATED_BY_TAG:
            return parse_created_by(value)
    return None


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
