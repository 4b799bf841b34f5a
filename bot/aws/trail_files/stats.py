"""What a search of the logs went through: files, bytes, records, what was skipped, and the time
the logs span, for the answers' notes and the command's log line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ReadStats:
    files_read: int = 0  # log files opened and searched
    files_parsed: int = 0  # of those, parsed because they may name a reference
    records: int = 0  # records parsed
    bytes_searched: int = 0  # after inflating
    skipped: dict[str, int] = field(default_factory=dict)  # reason → file count
    first_event: datetime | None = None  # from the records parsed and the names of the files
    last_event: datetime | None = None

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def saw(self, when: datetime | None) -> None:
        if when is None:
            return
        if self.first_event is None or when < self.first_event:
            self.first_event = when
        if self.last_event is None or when > self.last_event:
            self.last_event = when

    def absorb(self, other: ReadStats) -> None:
        self.files_read += other.files_read
        self.files_parsed += other.files_parsed
        self.records += other.records
        self.bytes_searched += other.bytes_searched
        for reason, count in other.skipped.items():
            self.skip(reason, count)
        self.saw(other.first_event)
        self.saw(other.last_event)

    def span(self) -> str:
        if self.first_event is None or self.last_event is None:
            return "(no events)"
        return f"from {self.first_event:%Y-%m-%d %H:%M} to {self.last_event:%Y-%m-%d %H:%M} UTC"
