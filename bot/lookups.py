"""One lookup as users see it: the creators cache first, CloudTrail when it cannot answer."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Protocol

from bot.aws.creation_hints import Hint
from bot.core.answers import LookupAnswer, Source
from bot.core.events import CreationFact
from bot.core.refs import ResourceRef
from bot.store import Store

logger = logging.getLogger(__name__)


class Finder(Protocol):
    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer: ...


class HintSource(Protocol):
    def __call__(self, ref: ResourceRef, region: str) -> Hint: ...


# A name's creation time may differ this much from its creation event before we call it reused.
SAME_RESOURCE_SLACK = timedelta(hours=2)


class LookupService:
    def __init__(self, finder: Finder, store: Store, hints: HintSource | None = None) -> None:
        self.finder = finder
        self.store = store
        self.hints = hints

    def lookup(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        cached = self._from_cache(ref, region)
        if cached is not None:
            return cached
        answer = self.finder.find(ref, region, interactive=interactive)
        if answer.fact is not None and answer.source is Source.CLOUDTRAIL:
            self._remember(ref, answer.fact, answer.account)
        return answer

    def _from_cache(self, ref: ResourceRef, region: str | None) -> LookupAnswer | None:
        facts = self.store.find_facts(
            [ref.id], partition=ref.partition, account=ref.account, region=region or ref.region
        )
        if not facts:
            return None
        fact = facts[0]
        notes: tuple[str, ...] = ()
        if not ref.has_unique_id:
            # Ids AWS never reuses are answered with no AWS call. A name (bucket, function, role)
            # may belong to a newer resource than the one remembered: one describe call tells.
            if not self._still_the_same(ref, fact):
                return None
            notes = ("remembered; its creation time matches the resource there now",)
        return LookupAnswer(
            ref=ref,
            fact=fact,
            regions_searched=(fact.region,) if fact.region else (),
            source=Source.CACHE,
            account=fact.account,
            notes=notes,
        )

    def _still_the_same(self, ref: ResourceRef, fact: CreationFact) -> bool:
        if self.hints is None or not fact.region:
            return False
        hint = self.hints(ref, fact.region)
        if hint.created_at is None:
            return False  # cannot tell: ask CloudTrail again rather than risk a stale creator
        return hint.created_at <= fact.event_time + SAME_RESOURCE_SLACK

    def _remember(self, ref: ResourceRef, fact: CreationFact, account: str | None) -> None:
        self.store.put_fact(
            partition=ref.partition,
            account=fact.account or ref.account or account or "unknown",
            region=fact.region or ref.region or "unknown",
            resource_type=ref.type or "unknown",
            fact=dataclasses.replace(fact, resource_id=ref.id),
        )
