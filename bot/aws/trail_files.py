"""CloudTrail log files and `aws cloudtrail lookup-events` exports as an event source.

For events older than CloudTrail's 90 days, and for investigations without AWS access. Files are
read one at a time, so a synced trail bucket holding a year of logs fits in memory. Answers from
files are never written to the creators cache.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core import events
from bot.core.answers import LookupAnswer, Reason, Source
from bot.core.events import CreationFact
from bot.core.refs import ResourceRef

logger = logging.getLogger(__name__)

LOG_SUFFIXES = (".json", ".json.gz")


class TrailLogsError(ValueError):
    """A path given on the command line is missing or not a CloudTrail log; names the file."""


@dataclass
class ReadStats:
    files_read: int = 0
    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason → file count
    first_event: datetime | None = None
    last_event: datetime | None = None

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def saw(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.first_event is None or when < self.first_event:
            self.first_event = when
        if self.last_event is None or when > self.last_event:
            self.last_event = when


def iter_records(paths: Sequence[str | Path], stats: ReadStats) -> Iterator[dict[str, Any]]:
    """Every record in the files and folders given, one file in memory at a time.

    A missing path, or a file named directly that is not a CloudTrail format, raises TrailLogsError
    before anything is read; inside folders such files (digests, other data) are skipped and
    counted.
    """
    roots = [Path(path) for path in paths]
    for root in roots:
        if not root.exists():
            raise TrailLogsError(f"{root}: no such file or folder")
    for root in roots:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                yield from _records_in_folder_file(path, stats)
        else:
            records = _load(root)
            if records is None:
                raise TrailLogsError(
                    f"{root}: not a CloudTrail log file, a JSON array of records, "
                    "or `aws cloudtrail lookup-events` output"
                )
            stats.files_read += 1
            yield from _counted(records, stats)


def _records_in_folder_file(path: Path, stats: ReadStats) -> Iterator[dict[str, Any]]:
    if "CloudTrail-Digest" in path.parts or "CloudTrail-Digest" in path.name:
        stats.skip("digest files")
        return
    if not path.name.endswith(LOG_SUFFIXES):
        stats.skip("not .json or .json.gz")
        return
    records = _load(path)
    if records is None:
        stats.skip("not CloudTrail records")
        return
    stats.files_read += 1
    yield from _counted(records, stats)


def _counted(records: list[dict[str, Any]], stats: ReadStats) -> Iterator[dict[str, Any]]:
    for record in records:
        stats.records += 1
        stats.saw(events.event_time(record))
        yield record


def _load(path: Path) -> list[dict[str, Any]] | None:
    """The records of one file, or None when it is not one of the formats we read."""
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, EOFError) as error:
        logger.debug("skipping %s: %s", path, error)
        return None
    return _records_of(data)


def _records_of(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, dict) and isinstance(data.get("Records"), list):
        records = data["Records"]  # a CloudTrail S3 log file
    elif isinstance(data, dict) and isinstance(data.get("Events"), list):
        records = [_lookup_event_record(item) for item in data["Events"]]  # lookup-events output
    elif isinstance(data, list):
        records = data  # a JSON array of records
    else:
        return None
    records = [record for record in records if _looks_like_record(record)]
    if data and not records and not (isinstance(data, dict) and data.get("Records") == []):
        return None
    return records


def _lookup_event_record(item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("CloudTrailEvent"), str):
        try:
            return json.loads(item["CloudTrailEvent"])
        except json.JSONDecodeError:
            return None
    return None


def _looks_like_record(record: Any) -> bool:
    return isinstance(record, dict) and "eventName" in record and "eventTime" in record


@dataclass
class _Search:
    """What the logs say about one reference, updated record by record."""

    ref: ResourceRef
    names: frozenset[events.MatchKey]
    creation: CreationFact | None = None
    first_mention: dict[str, Any] | None = None
    first_mention_time: datetime | None = None


def find_in_logs(
    refs: Sequence[ResourceRef],
    paths: Sequence[str | Path],
    *,
    region: str | None = None,
) -> tuple[list[LookupAnswer], ReadStats]:
    """Search the logs once for all references; answers are in the order of `refs`."""
    stats = ReadStats()
    searches = [_Search(ref, events.name_keys(ref.search_names, ref.type)) for ref in refs]
    for record in iter_records(paths, stats):
        if region and record.get("awsRegion") != region:
            continue
        _observe(record, searches)
    return [_answer(search, stats, region) for search in searches], stats


def _observe(record: dict[str, Any], searches: Iterable[_Search]) -> None:
    created = frozenset(_match_key(name) for name in events.created_ids(record))
    mentioned: frozenset[events.MatchKey] | None = None
    for search in searches:
        fact = events.creation_fact(record, search.ref.search_names) if created else None
        if fact is not None:
            # The newest creation wins: a name reused after deletion belongs to its latest creator.
            if search.creation is None or fact.event_time >= search.creation.event_time:
                search.creation = fact
            continue
        if mentioned is None:
            # Each service's case rules, types kept apart (events.name_keys).
            mentioned = events.mention_keys(record)
        if search.names & mentioned:
            when = events.event_time(record)
            if search.first_mention is None or (
                when is not None
                and (search.first_mention_time is None or when < search.first_mention_time)
            ):
                search.first_mention, search.first_mention_time = record, when


def _match_key(name: str) -> str:
    return name.lower()


def _answer(search: _Search, stats: ReadStats, region: str | None) -> LookupAnswer:
    span = _span(stats)
    regions = (region,) if region else ()
    if search.creation is not None:
        return LookupAnswer(
            ref=search.ref,
            fact=search.creation,
            regions_searched=regions or _regions(search.creation.region),
            source=Source.TRAIL_LOGS,
            notes=(f"from trail logs: {stats.records:,} records {span}",),
        )
    if search.first_mention is not None:
        summary = events.summary(search.first_mention)
        return LookupAnswer(
            ref=search.ref,
            reason=Reason.ONLY_MENTIONED,
            first_seen=summary,
            regions_searched=regions,
            source=Source.TRAIL_LOGS,
            notes=(
                f"the logs only mention it: first seen in {summary.get('name')} "
                f"at {summary.get('time')}; its creation is not in the logs given {span}",
            ),
        )
    return LookupAnswer(
        ref=search.ref,
        reason=Reason.NOT_IN_WINDOW,
        regions_searched=regions,
        source=Source.TRAIL_LOGS,
        notes=(f"no record in the logs given ({stats.records:,} records {span}) names it",),
    )


def _regions(region: str | None) -> tuple[str, ...]:
    return (region,) if region else ()


def _span(stats: ReadStats) -> str:
    if stats.first_event is None or stats.last_event is None:
        return "(no events)"
    return f"from {stats.first_event:%Y-%m-%d %H:%M} to {stats.last_event:%Y-%m-%d %H:%M} UTC"
