"""Requests whose Slack signature was refused: logged at WARNING once a minute with how far their
timestamps are from this server's clock, so a skewed clock (every request refused, nothing else in
the log) is seen, and `whocreated health` can say so.

Slack signs a timestamp with each request and Bolt refuses any more than 5 minutes off, so a
server clock 10 minutes wrong refuses everything while looking healthy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SLACK_WINDOW_S = 300  # Bolt refuses signatures whose timestamp is further off than this
LOG_EVERY_S = 60.0
SKEW_MEMORY_S = 600.0  # a skew seen this recently still counts for `health`


@dataclass(frozen=True)
class Skew:
    seconds: float  # the request's timestamp minus our clock: negative when we are ahead
    seen_at: float  # our clock (time.time) when seen


class SignatureWatch:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        log_every: float = LOG_EVERY_S,
    ) -> None:
        self._clock = clock
        self._log_every = log_every
        self._lock = threading.Lock()
        self._last_logged: float | None = None
        self._unlogged = 0
        self._skew: Skew | None = None

    def refused(self, timestamp_header: str | None) -> None:
        """Bolt refused a request's signature; `timestamp_header` is its X-Slack-Request-
        Timestamp as sent (missing or not a number: a request not from Slack at all)."""
        now = self._clock()
        skew = _skew(timestamp_header, now)
        with self._lock:
            self._unlogged += 1
            if skew is not None and abs(skew) > SLACK_WINDOW_S:
                self._skew = Skew(skew, now)
            if self._last_logged is not None and now - self._last_logged < self._log_every:
                return
            count, self._unlogged, self._last_logged = self._unlogged, 0, now
        logger.warning(_words(count, skew))

    def suspected_skew(self) -> float | None:
        """The clock skew (seconds) recent refusals point to, or None."""
        with self._lock:
            skew = self._skew
        if skew is None or self._clock() - skew.seen_at > SKEW_MEMORY_S:
            return None
        return skew.seconds


def _skew(header: str | None, now: float) -> float | None:
    try:
        return float(header) - now if header else None
    except ValueError:
        return None


def _words(count: int, skew: float | None) -> str:
    head = f"refused {count} request(s) with a bad Slack signature"
    if skew is None:
        return f"{head}; the latest had no usable timestamp (not from Slack?)"
    if abs(skew) > SLACK_WINDOW_S:
        side = "behind" if skew < 0 else "ahead of"
        return (
            f"{head}; the latest was signed {abs(skew):.0f} s {side} this server's clock: "
            "Slack refuses more than 300 s, so check the server's clock (NTP)"
        )
    return (
        f"{head}; its timestamp was {abs(skew):.0f} s off, within Slack's window: "
        "check SLACK_SIGNING_SECRET, or someone else is posting to this URL"
    )
