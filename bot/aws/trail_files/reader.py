"""The records of one log file, one at a time, from a stream of its bytes.

Three shapes are read: a trail's log file `{"Records": [...]}`, a JSON array of records, and
`aws cloudtrail lookup-events` output `{"Events": [{"CloudTrailEvent": "<record as JSON>"}]}`.
Only the top of the document is walked here; each element of the records array is decoded by the
standard library's C scanner (`JSONDecoder.raw_decode`) from a window of text that holds little
more than the element, so memory follows the largest record, not the file.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# CloudTrail caps an event at 256 KB; a hand-made export may carry more, but not this much.
LARGEST_ELEMENT = 16 * 1024 * 1024  # characters
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")
_DECODER = json.JSONDecoder()


class LogFormatError(ValueError):
    """Not one of the shapes we read, or broken JSON; the message says what, in plain words."""


class EndOfHead(Exception):
    """Reading only a file's first bytes, and they ran out before the answer was known."""


@dataclass(frozen=True)
class Element:
    """One element of the records array: the record (None when it is not one) and its source."""

    record: dict[str, Any] | None
    text: str


def looks_like_record(value: Any) -> bool:
    return isinstance(value, dict) and "eventName" in value and "eventTime" in value


class _Text:
    """The stream's text, decoded on demand; what was consumed is dropped."""

    def __init__(self, chunks: Iterable[bytes], *, head_only: bool) -> None:
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._head_only = head_only
        self.buf = ""
        self.pos = 0
        self.ended = False

    def more(self, at_least: int = 1) -> bool:
        """Append at least `at_least` more characters (fewer at the end); False when none came."""
        if self.ended:
            return False
        parts, added = [self.buf[self.pos :]], 0
        self.pos = 0
        try:
            while added < at_least:
                chunk = next(self._chunks, None)
                if chunk is None and self._head_only:
                    raise EndOfHead
                text = self._decoder.decode(chunk or b"", final=chunk is None)
                parts.append(text)
                added += len(text)
                if chunk is None:
                    self.ended = True
                    break
        except UnicodeDecodeError as error:
            raise LogFormatError("not UTF-8 text") from error
        finally:
            self.buf = "".join(parts)
        return added > 0

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), left unconsumed."""
        while True:
            found = _NOT_WHITESPACE.search(self.buf, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self.more():
                return ""

    def expect(self, char: str, where: str) -> None:
        if self.peek() != char:
            raise LogFormatError(f"broken JSON: expected {char!r} {where}")
        self.pos += 1

    def value(self) -> tuple[Any, str]:
        """The next JSON value and its source text."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                value, end = None, -1
            # A value that reaches the end of the window may go on (a number, or a value cut
            # short): widen the window, doubling it so a long element is not decoded many times.
            if 0 <= end < len(self.buf) or (end >= 0 and self.ended):
                text = self.buf[self.pos : end]
                self.pos = end
                return value, text
            pending = len(self.buf) - self.pos
            if pending > LARGEST_ELEMENT:
                raise LogFormatError(
                    f"broken JSON, or an element larger than {LARGEST_ELEMENT // 2**20} MB"
                )
            if not self.more(at_least=max(pending, 1)):
                raise LogFormatError("broken JSON: the file ends inside a value (truncated?)")


class RecordReader:
    """Iterate over a log's elements; `records` and `elements` count what was read."""

    def __init__(self, chunks: Iterable[bytes], *, head_only: bool = False) -> None:
        self._text = _Text(chunks, head_only=head_only)
        self.elements = 0
        self.records = 0

    def __iter__(self) -> Iterator[Element]:
        text = self._text
        first = text.peek()
        if first == "[":
            yield from self._array(lookup_events=False)
        elif first == "{":
            yield from self._object()
        elif first == "":
            raise LogFormatError("empty file")
        else:
            raise LogFormatError("not JSON")
        if text.peek() != "":
            raise LogFormatError("broken JSON: more data after the end of the document")
        if self.elements and not self.records:
            raise LogFormatError("a JSON array without CloudTrail records")

    def _object(self) -> Iterator[Element]:
        text, found = self._text, False
        text.expect("{", "at the start")
        if text.peek() == "}":
            raise LogFormatError("an empty JSON object, without Records or Events")
        while True:
            key, _ = text.value()
            if not isinstance(key, str):
                raise LogFormatError("broken JSON: an object key that is not a string")
            text.expect(":", f"after {key[:40]!r}")
            if key in ("Records", "Events") and text.peek() == "[":
                found = True
                yield from self._array(lookup_events=key == "Events")
            else:
                text.value()  # another member (NextToken…): read past it
            if self._next_is_last("}"):
                break
        if not found:
            raise LogFormatError("a JSON object without Records or Events")

    def _next_is_last(self, closing: str) -> bool:
        """Consume the ',' between two members or elements, or the bracket that ends them."""
        following = self._text.peek()
        self._text.pos += 1
        if following == closing:
            return True
        if following == ",":
            return False
        if following == "":
            raise LogFormatError("broken JSON: the file ends early (truncated?)")
        raise LogFormatError(f"broken JSON: expected ',' or {closing!r}, found {following!r}")

    def _array(self, *, lookup_events: bool) -> Iterator[Element]:
        text = self._text
        text.expect("[", "at the start of the records")
        if text.peek() == "]":
            text.pos += 1
            return
        while True:
            value, source = text.value()
            self.elements += 1
            record = _lookup_event_record(value) if lookup_events else value
            if looks_like_record(record):
                self.records += 1
                yield Element(record, source)
            else:
                yield Element(None, source)
            if self._next_is_last("]"):
                return


def _lookup_event_record(item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("CloudTrailEvent"), str):
        try:
            return json.loads(item["CloudTrailEvent"])
        except json.JSONDecodeError:
            return None
    return None
