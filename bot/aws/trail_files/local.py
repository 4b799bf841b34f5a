"""Log files on this machine: a file named on the command line, or a folder read through."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from bot.aws.trail_files.errors import TrailLogsError
from bot.aws.trail_files.sources import LogFile


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
