"""The answer to "who created this?": a value, its JSON form (DESIGN.md §3) and its reasons in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.events import CreationFact
from bot.core.refs import ResourceRef


class Reason(StrEnum):
    NOT_IN_WINDOW = "not_in_window"
    TOO_NEW = "too_new"
    ONLY_MENTIONED = "only_mentioned"
    NOT_IN_REGIONS = "not_in_regions"
    DENIED = "denied"


class Source(StrEnum):
    CLOUDTRAIL = "cloudtrail"
    CACHE = "cache"
    TRAIL_LOGS = "trail-logs"


@dataclass(frozen=True)
class LookupAnswer:
    ref: ResourceRef
    fact: CreationFact | None = None
    reason: Reason | None = None
    regions_searched: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    first_seen: Mapping[str, Any] | None = field(default=None, compare=False)
    owner_tags: Mapping[str, str] = field(default_factory=dict)
    source: Source = Source.CLOUDTRAIL
    account: str | None = None  # when known without the event (caller identity)
    created_at_hint: Any = None  # datetime the service reported, when asked

    @property
    def found(self) -> bool:
        return self.fact is not None
