"""Search trail logs for references: every file searched as a stream, side by side, in order.

Each file is first searched as bytes for what could name a reference (bot.aws.trail_files.
prefilter); only files that may name one are parsed, record by record, and only records that may
name one are looked at by the finder's rules. Files are read on a few threads (zlib, file and
network reads release the GIL) and their findings merged in the files' order, a bounded window
of them at a time.
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from bot.aws.trail_files.errors import TrailLogsError
from bot.aws.trail_files.inflate import BadCompression, inflated_chunks
from bot.aws.trail_files.local import LocalPath
from bot.aws.trail_files.prefilter import Needles, StreamSearch
from bot.aws.trail_files.reader import EndOfHead, LogFormatError, RecordReader
from bot.aws.trail_files.s3 import S3Prefix, VanishedObject
from bot.aws.trail_files.search import RecordView, Search
from bot.aws.trail_files.sources import LogFile, Source, skip_reason
from bot.aws.trail_files.stats import ReadStats
from bot.core.answers import LookupAnswer
from bot.core.refs import ResourceRef

logger = logging.getLogger(__name__)

NOT_A_LOG = (
    "not a CloudTrail log file, a JSON array of records, or `aws cloudtrail lookup-events` output"
)
# A trail names its files ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz.
_DELIVERED_AT = re.compile(r"_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4})Z_")


S3_READERS = 16  # objects in flight from S3: each waits on the network more than on the CPU


def default_workers(*, s3: bool = False) -> int:
    """Threads to read files with: one a core for files on disk (inflating is the work), at least
    two; S3_READERS when reading from S3, where most of the time is the network's."""
    if s3:
        return S3_READERS
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(2, min(cores, 16))


@dataclass(frozen=True)
class Plan:
    """What every file is searched for: the references, their needles, the region given."""

    refs: tuple[ResourceRef, ...]
    needles: tuple[Needles, ...]  # one per reference
    any_needle: Needles  # all of them: a file is parsed when it may hold one
    region: str | None

    @classmethod
    def of(cls, refs: Sequence[ResourceRef], region: str | None) -> Plan:
        needles = tuple(Needles(ref.search_names) for ref in refs)
        every_name = [name for ref in refs for name in ref.search_names]
        return cls(tuple(refs), needles, Needles(every_name), region)

    def searches(self) -> list[Search]:
        return [Search(ref) for ref in self.refs]


@dataclass
class FileFindings:
    stats: ReadStats
    searches: list[Search]


def find_in_logs(
    refs: Sequence[ResourceRef],
    paths: Sequence[str | Path],
    *,
    region: str | None = None,
    s3_client: Callable[[], Any] | None = None,
    workers: int | None = None,
) -> tuple[list[LookupAnswer], ReadStats]:
    """Search the logs once for all references; answers are in the order of `refs`.

    `paths` are files, folders and s3://bucket/prefix URLs (read with `s3_client()`). Raises
    TrailLogsError for bad input, TrailLogsUnavailable when S3 refuses or cannot be reached.
    """
    specs = [str(path) for path in paths]
    sources = open_sources(specs, s3_client)
    workers = workers or default_workers(s3=any(spec.startswith("s3://") for spec in specs))
    plan = Plan.of(refs, region)
    stats = ReadStats()
    searches = plan.searches()
    for findings in _read_in_order(_log_files(sources, stats), plan, workers):
        stats.absorb(findings.stats)
        for search, found in zip(searches, findings.searches, strict=True):
            search.absorb(found)
    if stats.files_read == 0:
        # Nothing was searched: "not found" would wrongly say the resources are older than the logs.
        raise TrailLogsError(f"{', '.join(specs)}: no CloudTrail log files ({_skipped(stats)})")
    return [search.answer(stats, region) for search in searches], stats


def _skipped(stats: ReadStats) -> str:
    """`3 skipped: 2 not .json or .json.gz, 1 not CloudTrail records`."""
    total = sum(stats.skipped.values())
    reasons = ", ".join(f"{count} {why}" for why, count in sorted(stats.skipped.items()))
    return f"{total} skipped: {reasons}" if reasons else "none found"


def _log_files(sources: Iterable[Source], stats: ReadStats) -> Iterator[LogFile]:
    """The files to read; digests and other files found in folders are counted, not read."""
    for source in sources:
        for file in source.files():
            reason = None if file.named else skip_reason(file.name)
            if reason is None:
                yield file
            else:
                stats.skip(reason)


def _read_in_order(files: Iterable[LogFile], plan: Plan, workers: int) -> Iterator[FileFindings]:
    """Findings of each file in the files' order, with at most 2 × workers files in flight."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="trail-logs")
    window: deque[Future[FileFindings]] = deque()
    try:
        for file in files:
            window.append(pool.submit(read_file, file, plan))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def read_file(file: LogFile, plan: Plan) -> FileFindings:
    """Search one file; parse it only when it may name a reference."""
    findings = FileFindings(ReadStats(), plan.searches())
    stats = findings.stats
    try:
        may_name, whole = _search_bytes(file, plan, stats)
        if may_name:
            _parse(file, plan, findings, whole)
    except BadCompression as error:
        _not_read(file, stats, "broken gzip", error)
    except LogFormatError as error:
        # Past the head, the records before the break were read and count.
        _not_read(
            file, stats, "broken JSON" if stats.files_parsed else "not CloudTrail records", error
        )
    except VanishedObject:
        stats.skip("deleted while being read")
    except OSError as error:
        if file.named:
            raise TrailLogsError(f"{file.name}: cannot be read: {error.strerror}") from error
        stats.skip("unreadable")
    return findings


def _not_read(file: LogFile, stats: ReadStats, reason: str, error: Exception) -> None:
    if file.named:
        raise TrailLogsError(f"{file.name}: {NOT_A_LOG} ({error})") from error
    logger.debug("skipping %s: %s", file.name, error)
    stats.skip(reason)


def _search_bytes(file: LogFile, plan: Plan, stats: ReadStats) -> tuple[bool, bytes | None]:
    """Whether the file may name a reference (after checking that it looks like a log), and its
    whole content when that is a single chunk, so a small file is not read twice."""
    with file.open() as stream:
        chunks = inflated_chunks(stream)
        head = next(chunks, b"")
        second = next(chunks, None)
        whole = head if second is None else None
        _check_head(head, complete=whole is not None)
        stats.files_read += 1
        search = StreamSearch(plan.any_needle)
        for chunk in chain([head], [second] if second is not None else [], chunks):
            stats.bytes_searched += len(chunk)
            if search.feed(chunk):
                return True, whole
    stats.saw(_delivery_time(file.name))
    return False, None


def _check_head(head: bytes, *, complete: bool) -> None:
    """Raise LogFormatError unless the file's first bytes read as one of the log shapes.

    Only as far as the first record: a file that is not searched further is not parsed further.
    """
    try:
        for element in RecordReader([head], head_only=not complete):
            if element.record is not None:
                return
    except EndOfHead:
        return  # the first record is longer than the head: the parse will tell


def _parse(file: LogFile, plan: Plan, findings: FileFindings, whole: bytes | None) -> None:
    findings.stats.files_parsed += 1
    if whole is not None:
        _observe_all(RecordReader([whole]), plan, findings)
        return
    with file.open() as stream:
        _observe_all(RecordReader(inflated_chunks(stream)), plan, findings)


def _observe_all(reader: RecordReader, plan: Plan, findings: FileFindings) -> None:
    """Each record to the searches whose names its text may hold."""
    stats = findings.stats
    for element in reader:
        record = element.record
        if record is None:
            continue
        stats.records += 1
        view = RecordView(record)
        stats.saw(view.time)
        if plan.region and record.get("awsRegion") != plan.region:
            continue
        lowered = element.text.encode().lower()
        for needles, search in zip(plan.needles, findings.searches, strict=True):
            if needles.in_lowered(lowered):
                search.observe(view)


def _delivery_time(name: str) -> datetime | None:
    """When a trail delivered the file, from its name: the span of files searched but not
    parsed, whose records are never read."""
    found = _DELIVERED_AT.search(name.rsplit("/", 1)[-1])
    if found is None:
        return None
    return datetime.strptime(found[1], "%Y%m%dT%H%M").replace(tzinfo=UTC)


def open_sources(specs: Sequence[str], s3_client: Callable[[], Any] | None) -> list[Source]:
    """Each path or s3:// URL given, checked: raises TrailLogsError for the first bad one."""
    sources: list[Source] = []
    for spec in specs:
        if spec.startswith("s3://"):
            if s3_client is None:
                raise TrailLogsError(f"{spec}: S3 is not available here")
            sources.append(S3Prefix.checked(spec, s3_client))
        else:
            sources.append(LocalPath.checked(spec))
    return sources
