"""What the logs say about each reference, record by record, and the answer it makes.

Files are read side by side, each into a `Search` of its own; those are merged in the files'
order with the same rules a single reader in that order applies, so answers do not depend on
which file finished first:
- the newest creation wins (a name reused after deletion belongs to its latest creator; of two
  at the same second, the later in the logs);
- the earliest mention is kept (of two at the same time, the first in the logs).

An ARN is answered only from records in its partition, account and region (bot.core.record_scope).
A bare name may have been created in several accounts or regions of an organization trail: the
answer is the newest creation, its account named, and a note lists the others, so nobody takes
one account's creator for another's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from bot.aws.trail_files.stats import ReadStats
from bot.core import events
from bot.core.answers import LookupAnswer, Reason, Source, iso_z
from bot.core.events import CreationFact
from bot.core.record_scope import creation_is_in_place, record_is_in_place
from bot.core.refs import ResourceRef

Place = tuple[str | None, str | None]  # (account, region) a creation happened in


class RecordView:
    """One record, with what the searches ask of it worked out once."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.record = record

    @cached_property
    def creates_something(self) -> bool:
        return bool(events.created_ids(self.record))

    @cached_property
    def mentioned(self) -> frozenset[events.MatchKey]:
        # Each service's case rules, types kept apart (events.name_keys).
        return events.mention_keys(self.record)

    @cached_property
    def time(self) -> datetime | None:
        return events.event_time(self.record)


@dataclass
class Search:
    ref: ResourceRef
    creation: CreationFact | None = None
    newest_by_place: dict[Place, CreationFact] = field(default_factory=dict)
    first_mention: Mapping[str, Any] | None = None
    first_mention_time: datetime | None = None

    @cached_property
    def keys(self) -> frozenset[events.MatchKey]:
        return events.name_keys(self.ref.search_names, self.ref.type)

    def observe(self, view: RecordView) -> None:
        record = view.record
        if not record_is_in_place(self.ref, record):
            return  # another account's, region's or partition's resource of the same name
        if view.creates_something:
            fact = events.creation_fact(record, self.ref.search_names)
            if fact is not None:
                if creation_is_in_place(self.ref, record, fact):
                    self.add_creation(fact)
                return
        if self.keys & view.mentioned:
            self.add_mention(record, view.time)

    def add_creation(self, fact: CreationFact) -> None:
        self._add_newest(fact)
        self._add_to_place(fact)

    def _add_newest(self, fact: CreationFact) -> None:
        if self.creation is None or fact.event_time >= self.creation.event_time:
            self.creation = fact

    def _add_to_place(self, fact: CreationFact) -> None:
        place = (fact.account, fact.region)
        known = self.newest_by_place.get(place)
        if known is None or fact.event_time >= known.event_time:
            self.newest_by_place[place] = fact

    def add_mention(self, record: Mapping[str, Any], when: datetime | None) -> None:
        if self.first_mention is None or (
            when is not None and (self.first_mention_time is None or when < self.first_mention_time)
        ):
            self.first_mention, self.first_mention_time = record, when

    def absorb(self, later: Search) -> None:
        """Take in what a later part of the logs said, as if read after what this one read."""
        for fact in later.newest_by_place.values():
            self._add_to_place(fact)
        if later.creation is not None:
            self._add_newest(later.creation)
        if later.first_mention is not None:
            self.add_mention(later.first_mention, later.first_mention_time)

    def answer(self, stats: ReadStats, region: str | None) -> LookupAnswer:
        read = f"{stats.files_read:,} files {stats.span()}"
        regions = (region,) if region else ()
        if self.creation is not None:
            fact = self.creation
            return LookupAnswer(
                ref=self.ref,
                fact=fact,
                regions_searched=regions or ((fact.region,) if fact.region else ()),
                source=Source.TRAIL_LOGS,
                notes=(f"from trail logs: {read}", *self._elsewhere_note(fact)),
            )
        if self.first_mention is not None:
            summary = events.summary(self.first_mention)
            return LookupAnswer(
                ref=self.ref,
                reason=Reason.ONLY_MENTIONED,
                first_seen=summary,
                regions_searched=regions,
                source=Source.TRAIL_LOGS,
                notes=(
                    f"the logs only mention it: first seen in {summary.get('name')} "
                    f"at {summary.get('time')}; its creation is not in the logs given ({read})",
                ),
            )
        return LookupAnswer(
            ref=self.ref,
            reason=Reason.NOT_IN_WINDOW,
            regions_searched=regions,
            source=Source.TRAIL_LOGS,
            notes=(f"no record in the logs given names it ({read})",),
        )

    def _elsewhere_note(self, chosen: CreationFact) -> tuple[str, ...]:
        """For a name created in several accounts or regions: which others, and by whom."""
        others = [
            fact
            for place, fact in self.newest_by_place.items()
            if place != (chosen.account, chosen.region)
        ]
        if not others:
            return ()
        also = "; ".join(
            f"{_place_words(fact)} by {_who(fact)} at {iso_z(fact.event_time)}"
            for fact in sorted(others, key=lambda fact: fact.event_time, reverse=True)
        )
        return (
            f"{len(others) + 1} resources named {self.ref.id} were created in these logs; this "
            f"answer is the newest ({_place_words(chosen)}); also created in {also}: "
            "ask by ARN for one of those",
        )


def _who(fact: CreationFact) -> str:
    return fact.actor.name or fact.actor.arn or "an unknown identity"


def _place_words(fact: CreationFact) -> str:
    return ", ".join(part for part in (f"account {fact.account or 'unknown'}", fact.region) if part)
