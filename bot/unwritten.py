"""Owners' deliveries that failed before their digest was in the store, kept for the hourly retry.

The outbox keeps what is pending in the store, so a restart loses nothing. But when the store
itself fails while a round writes an owner's digest (SQLite locked past its timeout, a PostgreSQL
connection lost, after the outbox's own second try), there is nothing in it to retry. The round's
findings for that owner are kept here instead, in this process, and the hourly retry delivers
them again; a newer round of this process replaces them, and they are dropped after KEEP_FOR.
A process that ends first (a `scan --notify`) says so: the next round nudges those owners.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.resources import Finding

KEEP_FOR = timedelta(days=1)  # by then a newer round has surely looked again


@dataclass(frozen=True)
class Unwritten:
    """One owner's part of a round (owner None: the fallback channel's), as the round had it."""

    owner: str | None
    findings: tuple[Finding, ...]
    round_id: str
    respect_hours: bool
    skipped: tuple[str, ...]
    planned_at: datetime


class Kept:
    """Thread-safe: a round and the hourly retry may run at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_owner: dict[str | None, Unwritten] = {}

    def keep(self, unwritten: Unwritten) -> None:
        with self._lock:
            self._by_owner[unwritten.owner] = unwritten

    def take(self) -> list[Unwritten]:
        """All that is kept, now no longer kept (what fails again is kept again)."""
        with self._lock:
            taken = list(self._by_owner.values())
            self._by_owner.clear()
        return taken

    def clear(self) -> None:
        with self._lock:
            self._by_owner.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_owner)
