"""What a source of logs gives: log files (bot.aws.trail_files.local for files and folders on
disk, .s3 for S3 prefixes), and which files found in a folder or prefix are read.

Every source is checked before anything is read (a missing path, a missing bucket, an empty
prefix are bad input); then its files are listed lazily, in a stable order (names sorted, folder by
folder; S3 in key order), so a trail of millions of objects is never held as a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from bot.aws.trail_files.inflate import Readable

LOG_SUFFIXES = (".json", ".json.gz")
DIGEST_FOLDER = "CloudTrail-Digest"


@dataclass(frozen=True)
class LogFile:
    """One file to read: `open()` gives its bytes from the start, each time it is called."""

    name: str  # as shown to people: a path, or s3://bucket/key
    open: Callable[[], AbstractContextManager[Readable]]
    named: bool = False  # given on the command line itself, not found in a folder or prefix


class Source(Protocol):
    def files(self) -> Iterator[LogFile]: ...


def skip_reason(name: str) -> str | None:
    """Why a file found in a folder or under a prefix is not read, or None to read it."""
    if DIGEST_FOLDER in name.split("/") or DIGEST_FOLDER in name.rsplit("/", 1)[-1]:
        return "digest files"
    if not name.endswith(LOG_SUFFIXES):
        return "not .json or .json.gz"
    return None
