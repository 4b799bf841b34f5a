"""Lanes: bounded thread pools for one kind of work each, which can be drained on shutdown.

Two lanes keep a click from waiting behind lookups: lookups (slow, CloudTrail-bound) on one,
buttons, modals and App Home on the other. Work may say what to tell its person if it never
runs or never finishes (`unfinished`); `drain` stops intake, waits for what is queued or running
until a deadline, and calls `unfinished` for the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

logger = logging.getLogger(__name__)

# Called with whether the work had started (it may have half happened) or never ran.
Unfinished = Callable[[bool], None]


class LaneClosed(RuntimeError):
    """The lane takes no more work: the process is shutting down."""


class Lane(ThreadPoolExecutor):
    def __init__(self, name: str, workers: int) -> None:
        super().__init__(max_workers=workers, thread_name_prefix=f"whocreated-{name}")
        self.name = name
        self._lock = threading.Lock()
        self._closed = False
        self._work: dict[Future[Any], Unfinished | None] = {}

    def submit(  # type: ignore[override]
        self, fn: Callable[..., Any], /, *args: Any, unfinished: Unfinished | None = None, **kw: Any
    ) -> Future[Any]:
        with self._lock:
            if self._closed:
                raise LaneClosed(f"the {self.name} lane is closed: shutting down")
            future = super().submit(fn, *args, **kw)
            self._work[future] = unfinished
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._work.pop(future, None)

    @property
    def busy(self) -> int:
        """Work queued or running."""
        with self._lock:
            return len(self._work)

    def close(self) -> None:
        """Take no more work (what is queued or running goes on)."""
        with self._lock:
            self._closed = True

    def drain(self, deadline: float) -> int:
        """Close, then wait until `deadline` (time.monotonic()) for what is queued or running.
        Work not started by then is cancelled; work still running is left to end with the
        process. Each of those gets its `unfinished` called. Returns how many were left."""
        self.close()
        with self._lock:
            work = dict(self._work)
        wait(work, timeout=max(0.0, deadline - time.monotonic()))
        left = 0
        for future, unfinished in work.items():
            if future.done():
                continue
            left += 1
            started = not future.cancel()
            if unfinished is None:
                continue
            try:
                unfinished(started)
            except Exception:
                logger.exception("could not tell someone their %s work stopped", self.name)
        if left:
            logger.warning("%d %s tasks did not finish before the deadline", left, self.name)
        return left
