"""Reading a log as a stream: gzip in bounded chunks, records one at a time, every shape, and
broken input named for what it is."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from bot.aws.trail_files.inflate import CHUNK_SIZE, BadCompression, inflated_chunks
from bot.aws.trail_files.reader import LARGEST_ELEMENT, LogFormatError, RecordReader

RECORD = {"eventName": "RunInstances", "eventTime": "2024-01-01T00:00:00Z", "path": "a/b"}


def _records(data: bytes, chunk: int = 7) -> list[dict[str, Any]]:
    """Every record, the bytes handed over `chunk` at a time (seams anywhere)."""
    chunks = (data[i : i + chunk] for i in range(0, len(data), chunk))
    return [e.record for e in RecordReader(chunks) if e.record is not None]


# Inflating ---------------------------------------------------------------------------------------


def test_plain_bytes_pass_through_and_gzip_members_join_as_zcat_reads_them() -> None:
    assert b"".join(inflated_chunks(io.BytesIO(b"plain text"))) == b"plain text"
    joined = gzip.compress(b'{"Records": [') + gzip.compress(b"]}") + b"\0\0\0"
    assert b"".join(inflated_chunks(io.BytesIO(joined))) == b'{"Records": []}'


def test_a_gzip_bomb_comes_out_in_bounded_chunks() -> None:
    bomb = zlib.compress(bytes(64 * CHUNK_SIZE), 9, wbits=31)  # 64 MiB of zeros in ~64 KB
    assert len(bomb) < CHUNK_SIZE // 8
    sizes = [len(chunk) for chunk in inflated_chunks(io.BytesIO(bomb), read_size=4096)]
    assert max(sizes) <= CHUNK_SIZE
    assert sum(sizes) == 64 * CHUNK_SIZE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(b'{"Records": []}', mtime=0)[:-12], "ends early"),
        (gzip.compress(b"{}", mtime=0) + b"trailing", "after the end"),
        (b"\x1f\x8b" + b"\x00" * 30, "not a valid gzip stream"),
    ],
    ids=["truncated", "data after the end", "not gzip"],
)
def test_broken_gzip_is_named(data: bytes, message: str) -> None:
    with pytest.raises(BadCompression, match=message):
        b"".join(inflated_chunks(io.BytesIO(data)))


# The three shapes ------------------------------------------------------------------------------


def test_each_shape_reads_the_same_records_whatever_the_seams() -> None:
    other = {**RECORD, "eventName": "CreateVolume", "note": 'é ✓ "quoted" [x]{y}'}
    trail = json.dumps({"Records": [RECORD, other]}, indent=2).encode()
    array = json.dumps([RECORD, other], ensure_ascii=False).encode("utf-8")
    events = {
        "Events": [{"EventId": "1", "CloudTrailEvent": json.dumps(r)} for r in (RECORD, other)]
    }
    lookup = json.dumps({"NextToken": "abc", **events, "Other": [1, {"a": 2}]}).encode()
    for data in (trail, array, lookup, b"\xef\xbb\xbf" + array):  # with a byte-order mark too
        for chunk in (1, 3, 1000):
            assert _records(data, chunk) == [RECORD, other]


def test_empty_logs_and_elements_that_are_not_records() -> None:
    assert _records(b'{"Records": []}') == []
    assert _records(b"  [ ]\n") == []
    mixed = json.dumps([RECORD, {"digest": 1}, 7, "x"]).encode()
    reader = RecordReader([mixed])
    assert [e.record for e in reader] == [RECORD, None, None, None]
    assert (reader.elements, reader.records) == (4, 1)


def test_the_source_text_of_each_record_is_kept_for_the_prefilter() -> None:
    data = (
        b'{"Records":[ {"eventName": "X", "eventTime": "t", "id": "i-0abc"} ,'
        b'{"eventName":"Y","eventTime":"t"}]}'
    )
    texts = [element.text for element in RecordReader([data])]
    assert texts == [
        '{"eventName": "X", "eventTime": "t", "id": "i-0abc"}',
        '{"eventName":"Y","eventTime":"t"}',
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"hello", "not JSON"),
        (b'{"key": "value"}', "without Records or Events"),
        (b"{}", "without Records or Events"),
        (b"[1, 2, 3]", "without CloudTrail records"),
        (b'{"Records": [' + json.dumps(RECORD).encode(), "ends early"),
        (b'{"Records": [' + json.dumps(RECORD).encode()[:-5], "ends inside a value"),
        (b'{"Records": [] } extra', "more data after the end"),
        (b'{"Records": [1 2]}', "expected ',' or ']'"),
        (b'{"Records": [], 5: 1}', "broken JSON"),
        (b'{"Records": ["\xff"]}', "not UTF-8"),
    ],
)
def test_what_is_not_a_log_says_why(data: bytes, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        _records(data, chunk=5)


def test_an_element_beyond_the_largest_is_refused_not_buffered() -> None:
    def endless_string() -> Iterator[bytes]:
        yield b'{"Records": ["'
        while True:
            yield b"x" * CHUNK_SIZE

    with pytest.raises(LogFormatError, match="larger than 16 MB"):
        list(RecordReader(endless_string()))
    assert LARGEST_ELEMENT == 16 * 2**20
