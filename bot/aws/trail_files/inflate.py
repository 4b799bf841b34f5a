"""A log file's bytes in bounded chunks, inflated on the way when the file is gzipped.

Memory stays bounded whatever the file holds: each chunk is at most CHUNK_SIZE bytes however far
the compressed input inflates (a few MB of gzip can hold hundreds of MB of text). zlib releases the
GIL while it inflates, so files read on several threads inflate side by side.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

GZIP_MAGIC = b"\x1f\x8b"
READ_SIZE = 256 * 1024  # compressed bytes asked of the source at a time
CHUNK_SIZE = 1024 * 1024  # at most this many bytes handed on at a time
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BadCompression(ValueError):
    """The file starts like gzip but is not a whole, valid gzip stream."""


def inflated_chunks(
    source: Readable, *, read_size: int = READ_SIZE, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The file's content: gzip (one member or several, as `zcat` reads them) or plain bytes."""
    first = _at_least(b"", len(GZIP_MAGIC), source, read_size)
    if first.startswith(GZIP_MAGIC):
        yield from _gunzip(first, source, read_size, chunk_size)
        return
    data = first
    while data:
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]
        data = source.read(read_size)


def _gunzip(first: bytes, source: Readable, read_size: int, chunk_size: int) -> Iterator[bytes]:
    pending = first
    while pending:  # one gzip member a turn: `cat a.gz b.gz` is a valid gzip file
        inflater = zlib.decompressobj(_GZIP_WBITS)
        while not inflater.eof:
            out = _decompress(inflater, pending, chunk_size)
            pending = inflater.unconsumed_tail
            if out:
                yield out  # then ask again: zlib may hold more output than chunk_size allowed
            elif not pending:
                pending = source.read(read_size)
                if not pending:
                    raise BadCompression("the gzip stream ends early (a truncated file?)")
        pending = _at_least(inflater.unused_data, len(GZIP_MAGIC), source, read_size)
        while pending and not pending.startswith(GZIP_MAGIC):
            if pending.strip(b"\0"):  # gzip tolerates zero padding after the end, nothing else
                raise BadCompression("data after the end of the gzip stream")
            pending = _at_least(b"", len(GZIP_MAGIC), source, read_size)


def _at_least(data: bytes, size: int, source: Readable, read_size: int) -> bytes:
    """`data` and more from the source until it holds `size` bytes or the source ends."""
    while len(data) < size:
        more = source.read(read_size)
        if not more:
            break
        data += more
    return data


def _decompress(inflater: zlib._Decompress, data: bytes, chunk_size: int) -> bytes:
    try:
        return inflater.decompress(data, chunk_size)
    except zlib.error as error:
        raise BadCompression(f"not a valid gzip stream ({error})") from error
