"""Could this text name the resource? A byte search that runs before any JSON is parsed.

The finder matches a record when one of its string values equals a reference's search name (its
ARN, id or name), ignoring case. Such a record holds the name's bytes, unless JSON escaping or
Unicode case folding hid them, so a file is a candidate when its lowered bytes hold:
- a search name, lowered; or
- a JSON escape of one of the names' characters (`\\u0069` for `i`, `\\/` for `/`): CloudTrail
  writes neither, but a valid JSON writer may; or
- a character that folds to one of the names' ASCII letters (the Kelvin sign `K` lowers to `k`,
  the ligature `ﬁ` casefolds to `fi`), raw or escaped.
The search is conservative: it may keep a file the finder then finds nothing in, never skip one
the finder would match. A name it cannot reason about (quotes, backslashes, non-ASCII or control
characters, none of which AWS names hold) makes every file a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Non-ASCII characters whose lower() or casefold() is ASCII only, and what they fold to (every one
# there is, from U+0080 to U+10FFFF; tests/aws/test_trail_prefilter.py recomputes the table).
ASCII_FOLDS: dict[str, str] = {
    "\u00df": "ss",  # ß
    "\u017f": "s",  # ſ
    "\u1e9e": "ss",  # ẞ
    "\u212a": "k",  # Kelvin sign
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_LONGEST_ESCAPE = len("\\u0000")


class Needles:
    """The lowered byte strings whose presence makes text a candidate for some search names."""

    def __init__(self, names: Iterable[str]) -> None:
        words: set[bytes] = set()
        self.match_everything = False
        for name in names:
            if not name:
                continue
            if not _plain(name):
                self.match_everything = True
            words.add(name.lower().encode())
        # A name inside another (an id inside its ARN) is enough on its own.
        self.words = tuple(sorted(w for w in words if not any(o in w for o in words if o != w)))
        letters = {chr(byte) for word in self.words for byte in word}
        self._escapes = _escape_pattern(letters)
        folds = [char for char, folded in ASCII_FOLDS.items() if set(folded) & letters]
        self._folds = tuple(char.encode() for char in folds)
        self.overlap = max([_LONGEST_ESCAPE, *map(len, self.words)]) - 1

    def __bool__(self) -> bool:
        return bool(self.words) or self.match_everything

    def in_lowered(self, text: bytes) -> bool:
        """True when `text` (already lowered with bytes.lower) may hold one of the names."""
        if self.match_everything:
            return True
        if any(word in text for word in self.words):
            return True
        if self._escapes is not None and self._escapes.search(text):
            return True
        return bool(self._folds) and not text.isascii() and any(f in text for f in self._folds)

    def in_text(self, text: str) -> bool:
        """The same question for a piece of decoded JSON source text (one record)."""
        return self.in_lowered(text.encode().lower())


def _plain(name: str) -> bool:
    """Printable ASCII without the two characters JSON must escape."""
    return all(" " < char < "\x7f" and char not in '"\\' for char in name)


def _escape_pattern(letters: set[str]) -> re.Pattern[bytes] | None:
    """`\\uXXXX` escapes (hex lowered, as the text is) of the letters in either case, of the
    non-ASCII characters that fold to them, and `\\/` when a name holds a slash."""
    if not letters:
        return None
    codes = {ord(variant) for letter in letters for variant in (letter, letter.upper())}
    codes |= {ord(char) for char, folded in ASCII_FOLDS.items() if set(folded) & letters}
    escapes = sorted(f"u{code:04x}" for code in codes)
    if "/" in letters:
        escapes.append("/")
    return re.compile(rb"\\(?:" + "|".join(escapes).encode() + rb")")


class StreamSearch:
    """Feeds chunks of a stream through `Needles`, catching names split across two chunks."""

    def __init__(self, needles: Needles) -> None:
        self._needles = needles
        self._tail = b""

    def feed(self, chunk: bytes) -> bool:
        lowered = chunk.lower()
        needles = self._needles
        if self._tail and needles.in_lowered(self._tail + lowered[: needles.overlap]):
            return True
        if needles.in_lowered(lowered):
            return True
        if len(lowered) >= needles.overlap:
            self._tail = lowered[len(lowered) - needles.overlap :]
        else:
            self._tail = (self._tail + lowered)[-needles.overlap :]
        return False


def stream_may_name(chunks: Iterable[bytes], needles: Needles) -> bool:
    """True as soon as a chunk (or the seam between two) may hold one of the names."""
    if needles.match_everything:
        return True
    search = StreamSearch(needles)
    return any(search.feed(chunk) for chunk in chunks)
