"""Where the logs are: files and folders on disk, and S3 prefixes, as lists of log files.

Every source is checked before anything is read (a missing path, a missing bucket, an empty
prefix are bad input); then its files are listed lazily, in a stable order (names sorted, folder by
folder; S3 in key order), so a trail of millions of objects is never held as a list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from bot.aws.trail_files.errors import TrailLogsError
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


def open_sources(specs: Sequence[str], s3_client: Callable[[], Any] | None) -> list[Source]:
    """Each path or s3:// URL given, checked: raises TrailLogsError for the first bad one."""
    from bot.aws.trail_files.s3 import S3Prefix

    sources: list[Source] = []
    for spec in specs:
        if spec.startswith("s3://"):
            if s3_client is None:
                raise TrailLogsError(f"{spec}: S3 is not available here")
            sources.append(S3Prefix.checked(spec, s3_client))
        else:
            sources.append(LocalPath.checked(spec))
    return sources


class LocalPath:
    """A file named on the command line, or a folder read through."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @classmethod
    def checked(cls, spec: str) -> LocalPath:
        path = Path(spec)
        if not path.exists():
            raise TrailLogsError(f"{spec}: no such file or folder")
        source = cls(path)
        if path.is_dir() and next(_walk(path), None) is None:
            raise TrailLogsError(f"{spec}: the folder holds no files")
        return source

    def files(self) -> Iterator[LogFile]:
        if not self._path.is_dir():
            yield LogFile(str(self._path), _opener(self._path), named=True)
            return
        for path in _walk(self._path):
            yield LogFile(str(path), _opener(path))


def _walk(root: Path) -> Iterator[Path]:
    """Files under `root`, names sorted within each folder, folders after a folder's files."""
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            yield Path(folder) / name


def _opener(path: Path) -> Callable[[], AbstractContextManager[BinaryIO]]:
    return lambda: path.open("rb")
