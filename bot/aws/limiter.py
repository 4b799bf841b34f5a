"""A request-rate limiter per (account, region), shared by every AWS caller in the process.

CloudTrail's LookupEvents allows 2 requests per second per account and region. Staying under that in
the process (rather than relying on retries alone) keeps an interactive `/whocreated` from being
throttled by a background patrol round, and lets interactive requests go first: a waiting
interactive request always takes the next slot before a waiting background one.

One instance is made in wiring and passed to every caller. Clock and sleep are injectable so tests
run without waiting.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Key = tuple[str, str]  # (account, region)

INTERACTIVE = 0
BACKGROUND = 1


@dataclass
class _Lane:
    """One (account, region): recent grants, a pause after throttling, and who is waiting."""

    grants: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0
    waiting: list[tuple[int, int]] = field(default_factory=list)  # heap of (priority, ticket)


class RegionRateLimiter:
    """At most `rate` grants in any `period` seconds per key; interactive before background.

    `margin` widens the window slightly, since a request reaches AWS a little after its grant and
    uneven network delay could otherwise squeeze three requests into AWS's one-second window.
    """

    def __init__(
        self,
        rate: int = 2,
        period: float = 1.0,
        *,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 1 or period <= 0:
            raise ValueError("rate must be >= 1 and period > 0")
        self.rate = rate
        self.period = period + margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)
        self._lanes: dict[Key, _Lane] = {}
        self._tickets = itertools.count()
        self._granted: dict[Key, int] = {}

    def acquire(self, account: str, region: str, *, interactive: bool = True) -> float:
        """Block until this request may be sent; returns the seconds waited."""
        key = (account, region)
        ticket = (INTERACTIVE if interactive else BACKGROUND, next(self._tickets))
        started = self._clock()
        with self._turn:
            lane = self._lanes.setdefault(key, _Lane())
            heapq.heappush(lane.waiting, ticket)
        try:
            while True:
                with self._turn:
                    # Only the head of the queue computes its wait; the others wait to be woken.
                    while lane.waiting[0] != ticket:
                        self._turn.wait()
                    now = self._clock()
                    wait = self._wait(lane, now)
                    if wait <= 0:
                        heapq.heappop(lane.waiting)
                        lane.grants.append(now)
                        self._granted[key] = self._granted.get(key, 0) + 1
                        self._turn.notify_all()
                        return now - started
                # Sleep outside the lock; an interactive arrival may take the head meanwhile.
                self._sleep(wait)
        except BaseException:
            # Interrupted (KeyboardInterrupt, a failing clock): leave the queue so others proceed.
            with self._turn:
                if ticket in lane.waiting:
                    lane.waiting.remove(ticket)
                    heapq.heapify(lane.waiting)
                self._turn.notify_all()
            raise

    def backoff(self, account: str, region: str, seconds: float) -> None:
        """Pause every caller of this key for `seconds` (AWS throttled us anyway)."""
        with self._turn:
            lane = self._lanes.setdefault((account, region), _Lane())
            lane.paused_until = max(lane.paused_until, self._clock() + seconds)

    def granted(self, account: str | None = None, region: str | None = None) -> int:
        """Grants so far, optionally for one account and/or region."""
        with self._lock:
            return sum(
                count
                for (acc, reg), count in self._granted.items()
                if (account is None or acc == account) and (region is None or reg == region)
            )

    def _wait(self, lane: _Lane, now: float) -> float:
        while lane.grants and lane.grants[0] <= now - self.period:
            lane.grants.popleft()
        wait = lane.paused_until - now
        if len(lane.grants) >= self.rate:
            wait = max(wait, lane.grants[0] + self.period - now)
        return wait
