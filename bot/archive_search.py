"""Beyond CloudTrail's 90 days: one lookup answered from the organization trail's Athena archive.

When LookupEvents found no creation (older than its history, no event at all, or only events
that mention the resource), one query on the archive: the accounts searched (the ARN's, the one
asked for, or every one a bare id was searched in), the region when known, and the few days
around the creation time the service reported, else every day since `[athena] earliest`. A
record from the archive is data like any CloudTrail record: the same reader decides whether it
created the resource, and the same trusted rules decide who its creator is on Slack.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.aws.archive import ArchiveResult, TrailArchive
from bot.aws.bulk_trail import newest
from bot.core import events
from bot.core.answers import LookupAnswer, Reason, Source
from bot.core.archive_query import ArchiveQuery, days_around
from bot.core.record_scope import creation_is_in_place

logger = logging.getLogger(__name__)

# Reasons the archive may change: the creation may be older than LookupEvents' reach.
ARCHIVE_REASONS = frozenset({Reason.NOT_IN_WINDOW, Reason.NOT_IN_REGIONS, Reason.ONLY_MENTIONED})
CREATION_SLACK = timedelta(minutes=10)  # a creation is logged a little before the resource


class ArchiveSearch:
    def __init__(
        self,
        archive: TrailArchive,
        *,
        clock: Callable[[], datetime],
        own_account: Callable[[], str | None],
    ) -> None:
        self.archive = archive
        self._clock = clock
        self._own_account = own_account

    @property
    def table(self) -> str:
        return f"{self.archive.archive.database}.{self.archive.archive.table}"

    def applies(self, answer: LookupAnswer) -> bool:
        """Whether the archive may find what CloudTrail's event history did not (and a query
        would run: not for a resource the service says is older than the archive)."""
        return (
            answer.fact is None
            and answer.reason in ARCHIVE_REASONS
            and answer.source is Source.CLOUDTRAIL
            and bool(self._accounts(answer))
            and bool(self._event_names(answer))
            and self._query(answer, None) is not None
        )

    def answer(self, answer: LookupAnswer, region: str | None = None) -> LookupAnswer:
        """The answer with the archive's creation, or with why the archive did not give one."""
        ref = answer.ref
        query = self._query(answer, region)
        if query is None:
            return answer
        logger.info(
            "searching the trail archive for %s in account %s%s",
            ref.given,
            ", ".join(query.accounts),
            f", {query.region}" if query.region else "",
        )
        result = self.archive.search(query)
        if not result.ok:
            note = f"the trail archive ({self.table}) could not be searched: {result.failure}"
            return dataclasses.replace(answer, notes=(*answer.notes, note))
        fact = self._creation(answer, result)
        if fact is None:
            where = (
                f"on {', '.join(f'{day:%Y-%m-%d}' for day in query.days)}, around when the "
                "service says it was created"
                if query.days
                else f"since {query.since:%Y-%m-%d}"
            )
            note = f"the trail archive ({self.table}) holds no creation of it either, {where}"
            return dataclasses.replace(answer, notes=(*answer.notes, note))
        note = (
            f"from the trail archive ({self.table} in Athena): CloudTrail's 90 days of event "
            "history hold no creation"
        )
        return dataclasses.replace(
            answer,
            fact=fact,
            reason=None,
            source=Source.ARCHIVE,
            regions_searched=(fact.region,) if fact.region else answer.regions_searched,
            account=fact.account or answer.account,
            notes=(note,),
            first_seen=None,
        )

    # Parts -------------------------------------------------------------------------------------

    def _query(self, answer: LookupAnswer, region: str | None) -> ArchiveQuery | None:
        """The query; None when the service's creation time is older than the archive."""
        ref, archive = answer.ref, self.archive.archive
        hint = answer.created_at_hint if isinstance(answer.created_at_hint, datetime) else None
        where = region or ref.home_region
        if where is None and hint is not None and len(answer.regions_searched) == 1:
            where = answer.regions_searched[0]  # the region the service found it in
        common = {
            "accounts": self._accounts(answer),
            "region": where,
            "names": ref.search_names,
            "event_names": self._event_names(answer),
        }
        if hint is not None:
            days = tuple(day for day in days_around([hint]) if day >= archive.earliest)
            if not days:
                return None
            return ArchiveQuery(**common, days=days)  # type: ignore[arg-type]
        today = self._clock().date()
        return ArchiveQuery(**common, since=archive.earliest, until=today)  # type: ignore[arg-type]

    def _accounts(self, answer: LookupAnswer) -> tuple[str, ...]:
        if answer.ref.account:
            return (answer.ref.account,)
        if answer.accounts_searched:
            return answer.accounts_searched
        own = answer.account or self._own_account()
        return (own,) if own else ()

    @staticmethod
    def _event_names(answer: LookupAnswer) -> tuple[str, ...]:
        pairs = events.creation_event_names(answer.ref.type)
        return tuple(dict.fromkeys(name for _, name in pairs))

    def _creation(self, answer: LookupAnswer, result: ArchiveResult) -> events.CreationFact | None:
        ref = answer.ref
        facts = []
        for record in result.records:
            fact = events.creation_fact(record, ref.search_names, resource_type=ref.type)
            if fact is not None and creation_is_in_place(ref, record, fact):
                facts.append(fact)
        hint = answer.created_at_hint if isinstance(answer.created_at_hint, datetime) else None
        # Names are reused: the newest creation not after the service's own time made it.
        return newest(facts, hint + CREATION_SLACK if hint else None)
