"""Creators older than CloudTrail's 90 days, for a patrol round: the trail archive in Athena,
asked once per account and region for every resource there, never once per resource.

One query names every id and name of the batch, the creation events of all their types, and the
days around each resource's own creation time (or, when one has none, every day from
`[athena] earliest` to where the round's LookupEvents pass began). Its records are indexed by
what they created, as the LookupEvents pass indexes its own, and each resource takes the newest
creation not after its own creation time. A resource the archive holds no creation for is not
asked about again for a week by this process: its owner is then unknown either way, and each
query costs what it scans.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.aws.archive import TrailArchive
from bot.aws.bulk_trail import CreatorIndex, event_names_for
from bot.core import events
from bot.core.archive_query import ArchiveQuery, days_around

logger = logging.getLogger(__name__)

MISS_TTL = timedelta(days=7)
MAX_PARALLEL = 4  # queries at once (Athena queues the rest of an account's anyway)


@dataclass(frozen=True)
class Wanted:
    """A resource (or a parent) whose creator the round still lacks."""

    key: Hashable
    account: str
    region: str
    type: str
    names: tuple[str, ...]
    created_at: datetime | None  # the service's creation time, when it reports one
    before: datetime | None  # its creation event is not after this
    accept: Callable[[events.CreationFact], bool] = field(default=lambda fact: True)


@dataclass
class Found:
    """What the archive said: creations by key, and for the others why not, in words."""

    facts: dict[Hashable, events.CreationFact] = field(default_factory=dict)
    why_not: dict[Hashable, str] = field(default_factory=dict)


class ArchiveCreators:
    def __init__(
        self,
        archive: TrailArchive,
        *,
        clock: Callable[[], datetime],
        max_parallel: int = MAX_PARALLEL,
    ) -> None:
        self._archive = archive
        self._clock = clock
        self._max_parallel = max(1, max_parallel)
        self._lock = threading.Lock()
        self._misses: dict[Hashable, datetime] = {}

    @property
    def table(self) -> str:
        return f"{self._archive.archive.database}.{self._archive.archive.table}"

    def creations(self, wanted: Sequence[Wanted], *, trail_since: datetime) -> Found:
        """Creations of `wanted` from the archive; `trail_since` is where the round's
        LookupEvents pass began (the archive need not be read after it)."""
        found = Found()
        now = self._clock()
        with self._lock:
            fresh = [w for w in wanted if now - self._misses.get(w.key, now - MISS_TTL) >= MISS_TTL]
        groups: dict[tuple[str, str], list[Wanted]] = {}
        for item in fresh:
            if event_names_for([item.type]):
                groups.setdefault((item.account, item.region), []).append(item)
        if not groups:
            return found
        workers = min(self._max_parallel, len(groups))
        with ThreadPoolExecutor(workers, thread_name_prefix="whocreated-archive") as pool:
            batches = [
                pool.submit(self._batch, group, trail_since, found) for group in groups.values()
            ]
            for batch in batches:
                batch.result()  # a bug in one batch is not swallowed
        with self._lock:
            for item in fresh:
                if item.key not in found.facts:
                    self._misses[item.key] = now
        return found

    def _batch(self, group: list[Wanted], trail_since: datetime, found: Found) -> None:
        account, region = group[0].account, group[0].region
        query = self._query(group, trail_since)
        if query is None:
            words = f"it is older than the trail archive's earliest day ({self._earliest})"
            with self._lock:
                found.why_not.update(dict.fromkeys((w.key for w in group), words))
            return
        result = self._archive.search(query)
        if not result.ok:
            words = f"the trail archive could not be searched in {region}: {result.failure}"
            with self._lock:
                found.why_not.update(dict.fromkeys((w.key for w in group), words))
            return
        index = CreatorIndex(account, region, _midnight(self._earliest), self._clock())
        for record in result.records:
            index.add(record)
        logger.info(
            "trail archive %s/%s: %d resources asked, %d records read",
            account,
            region,
            len(group),
            len(result.records),
        )
        for item in group:
            fact = index.creation(
                item.names, resource_type=item.type, before=item.before, accept=item.accept
            )
            with self._lock:
                if fact is not None:
                    found.facts[item.key] = fact
                else:
                    found.why_not[item.key] = (
                        f"the trail archive ({self.table}) holds no creation of it either"
                    )

    def _query(self, group: list[Wanted], trail_since: datetime) -> ArchiveQuery | None:
        names = tuple(dict.fromkeys(name for item in group for name in item.names))
        common = {
            "accounts": (group[0].account,),
            "region": group[0].region,
            "names": names,
            "event_names": event_names_for(item.type for item in group),
        }
        hints = [item.created_at for item in group]
        if all(hint is not None for hint in hints):
            days = days_around(hint for hint in hints if hint is not None)
            kept = tuple(day for day in days if day >= self._earliest)
            return ArchiveQuery(**common, days=kept) if kept else None  # type: ignore[arg-type]
        until = (trail_since + timedelta(days=1)).date()
        return ArchiveQuery(**common, since=self._earliest, until=until)  # type: ignore[arg-type]

    @property
    def _earliest(self) -> date:
        return self._archive.archive.earliest


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
