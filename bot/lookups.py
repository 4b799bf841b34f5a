"""One lookup as users see it: the creators cache first, CloudTrail when it cannot answer."""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from bot.core.answers import LookupAnswer, Source
from bot.core.events import CreationFact
from bot.core.refs import ResourceRef
from bot.store import Store

logger = logging.getLogger(__name__)


class Finder(Protocol):
    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer: ...


class LookupService:
    def __init__(self, finder: Finder, store: Store) -> None:
        self.finder = finder
        self.store = store

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
        # Only ids AWS never reuses are answered from the cache without asking AWS: a name (bucket,
        # function, role) may belong to a newer resource than the one we remember.
        if not ref.has_unique_id:
            return None
        facts = self.store.find_facts(
            [ref.id], partition=ref.partition, account=ref.account, region=region or ref.region
        )
        if not facts:
            return None
        fact = facts[0]
        return LookupAnswer(
            ref=ref,
            fact=fact,
            regions_searched=(fact.region,) if fact.region else (),
            source=Source.CACHE,
            account=fact.account,
        )

    def _remember(self, ref: ResourceRef, fact: CreationFact, account: str | None) -> None:
        self.store.put_fact(
            partition=ref.partition,
            account=fact.account or ref.account or account or "unknown",
            region=fact.region or ref.region or "unknown",
            resource_type=ref.type or "unknown",
            fact=dataclasses.replace(fact, resource_id=ref.id),
        )
