"""Graceful shutdown: SIGTERM and SIGINT stop intake, let in-flight work finish within the grace
period, answer what cannot finish, and let the process exit 0.

Python handles the signals itself, so `whocreated serve` stops cleanly as a container's PID 1 (the
kernel ignores a signal PID 1 has no handler for). The handler only sets an event; the main thread
waits on it and runs the drain, outside the signal handler.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    def __init__(self) -> None:
        self.requested = threading.Event()  # a signal came: stop
        self.draining = threading.Event()  # intake is closed (HTTP answers 503)

    def install(self) -> None:
        """From the main thread (Python's rule for signal handlers)."""
        for number in SIGNALS:
            signal.signal(number, self._on_signal)

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if not self.requested.is_set():
            logger.info("%s received: finishing in-flight work, then stopping", _name(number))
        self.requested.set()

    def wait(self) -> None:
        """Until a signal comes (waits in slices: a signal is handled between them)."""
        while not self.requested.wait(0.5):
            pass


def _name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
