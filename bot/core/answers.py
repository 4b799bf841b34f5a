"""The answer to "who created this?": a value, and its JSON form (DESIGN.md §3)."""

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
    TAG = "tag"  # the whocreated:created-by tag, written from CloudTrail while it had the event
    ARCHIVE = "archive"  # the organization trail's Athena table, beyond the 90 days


@dataclass(frozen=True)
class ParentAnswer:
    """Who created the parent a service made the resource for: when Auto Scaling launched an
    instance for group web-asg, whoever created web-asg is the person to ask."""

    type: str
    name: str
    kind_words: str  # "Auto Scaling group"
    answer: LookupAnswer
    # Named only by this tag, which anyone who may tag the resource can write: its creator is
    # shown, never mentioned as the person behind it (DESIGN.md §4, Trust).
    named_by_tag: str | None = None

    @property
    def words(self) -> str:
        return f"{self.kind_words} {self.name}"

    @property
    def notes(self) -> tuple[str, ...]:
        """What the parent's lookup noted (a permission missing…); nothing for a cached answer,
        whose one note only says it was remembered. A parent only a writable tag names says so."""
        own = () if self.answer.source is Source.CACHE else self.answer.notes
        if self.named_by_tag is None:
            return own
        claim = f"named only by its {self.named_by_tag} tag, which anyone who may tag it can write"
        return (claim, *own)


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
    parent: ParentAnswer | None = None  # when a service made it for a parent (see bot.core.parents)
    parent_tags: Mapping[str, str] = field(default_factory=dict)  # its tags that name a parent
    accounts_searched: tuple[str, ...] = ()  # when lookups may search several accounts

    @property
    def found(self) -> bool:
        return self.fact is not None

    def parents(self) -> list[ParentAnswer]:
        """The parent, its parent…, nearest first."""
        chain, parent = [], self.parent
        while parent is not None:
            chain.append(parent)
            parent = parent.answer.parent
        return chain

    def person_behind(self) -> ParentAnswer | None:
        """The nearest parent whose creator was found and did not act for a parent in turn."""
        found = [parent for parent in self.parents() if parent.answer.fact is not None]
        return next((p for p in found if p.answer.parent is None), found[-1] if found else None)

    def behind_by_claim(self) -> bool:
        """Whether a writable tag named a parent on the way to the person behind it."""
        behind = self.person_behind()
        for parent in self.parents():
            if parent.named_by_tag is not None:
                return True
            if parent is behind:
                return False
        return False


def to_json(answer: LookupAnswer) -> dict[str, Any]:
    """The `lookup --json` object of DESIGN.md §3, field for field."""
    fact, ref = answer.fact, answer.ref
    region = ref.region or (fact.region if fact else None)
    if region is None and len(answer.regions_searched) == 1 and answer.found:
        region = answer.regions_searched[0]
    return {
        "resource": {
            "id": ref.given,
            "type": ref.type,
            "region": region,
            "account": ref.account or (fact.account if fact else None) or answer.account,
        },
        "found": fact is not None,
        "creator": _creator_json(fact),
        "event": _event_json(fact),
        "reason": answer.reason.value if answer.reason and fact is None else None,
        "regions_searched": list(answer.regions_searched),
        "note": note_text(answer),
    }


def note_text(answer: LookupAnswer, *, with_parents: bool = True) -> str | None:
    """The notes in one sentence; owner-like tags are part of it when the creation is unknown,
    and the parents a service made it for (unless the caller shows them itself)."""
    parts = list(answer.notes)
    if with_parents:
        parts.extend(_parent_note(parent) for parent in answer.parents())
    if answer.owner_tags and not answer.found:
        tags = ", ".join(f"{key}={value}" for key, value in sorted(answer.owner_tags.items()))
        parts.append(f"owner-like tags on the resource (not verified): {tags}")
    if answer.first_seen and not any("first seen" in part for part in parts):
        seen = answer.first_seen
        parts.append(
            f"first event seen: {seen.get('name')} at {seen.get('time')} "
            f"by {seen.get('actor')} in {seen.get('region')}"
        )
    return "; ".join(parts) or None


def _parent_note(parent: ParentAnswer) -> str:
    """'made for Auto Scaling group web-asg, which bob created at … (CreateAutoScalingGroup,
    AWS CLI)', or why its creator is unknown."""
    fact = parent.answer.fact
    notes = "".join(f" [{note}]" for note in parent.notes)  # e.g. a permission missing
    if fact is None:
        why = explain(parent.answer) or "no creation event found"
        return f"made for {parent.words}, whose creator was not found: {why}{notes}"
    how = ", ".join(part for part in (fact.event_name, fact.tool) if part)
    who = fact.actor.name or fact.actor.arn or "an unknown identity"
    created = iso_z(fact.event_time)
    return f"made for {parent.words}, which {who} created at {created} ({how}){notes}"


def _creator_json(fact: CreationFact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    actor = fact.actor
    return {
        "identity_type": actor.identity_type,
        "arn": actor.arn,
        "name": actor.name,
        "account": actor.account,
        "role": actor.role,
        "invoked_by": actor.invoked_by,
    }


def _event_json(fact: CreationFact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {
        "name": fact.event_name,
        "source": fact.event_source,
        "time": iso_z(fact.event_time),
        "region": fact.region,
        "id": fact.event_id,
        "source_ip": fact.source_ip,
        "user_agent": fact.user_agent,
        "tool": fact.tool,
    }


def iso_z(when: Any) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# Why a creation was not found, in plain words; Slack and the terminal both use these.
REASON_WORDS: dict[Reason, str] = {
    Reason.NOT_IN_WINDOW: (
        "its creation is older than CloudTrail's 90 days of event history. To look further back, "
        "run `whocreated lookup ID --trail-logs s3://YOUR-TRAIL-BUCKET/AWSLogs/` (or a folder)"
    ),
    Reason.TOO_NEW: (
        "it is too new: CloudTrail delivers events in about 5 to 15 minutes, try again shortly"
    ),
    Reason.ONLY_MENTIONED: (
        "CloudTrail only shows events that used or named it, not the one that created it"
    ),
    Reason.NOT_IN_REGIONS: "no event in the regions searched names it",
    Reason.DENIED: (
        "AWS denied the CloudTrail lookup: the credentials need cloudtrail:LookupEvents"
    ),
}


def explain(answer: LookupAnswer) -> str | None:
    """Why the creation was not found, or None when it was."""
    if answer.found or answer.reason is None:
        return None
    if answer.source is Source.TRAIL_LOGS and answer.reason is Reason.NOT_IN_WINDOW:
        return "the trail logs given hold no event that names it: it is older than they are"
    words = REASON_WORDS[answer.reason]
    if answer.reason is Reason.NOT_IN_REGIONS and answer.regions_searched:
        words += f" ({', '.join(answer.regions_searched)})"
    return words
