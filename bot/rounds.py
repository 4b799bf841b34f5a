"""The scheduled work of `whocreated serve`: patrol rounds, deferred digests, the weekly summary."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.core.resources import Finding
from bot.notifier import Notifier
from bot.patrol import Patrol

logger = logging.getLogger(__name__)


class Rounds:
    """Runs rounds and remembers the last one's findings for owners who were outside their hours,
    so their digest goes out within the hour their working day starts, not a round later."""

    def __init__(self, patrol: Patrol, notifier: Notifier | None) -> None:
        self.patrol = patrol
        self.notifier = notifier
        self._lock = threading.Lock()
        self._round_id = ""
        self._waiting: list[Finding] = []

    def run_round(self) -> dict[str, Any]:
        result = self.patrol.run()
        summary = result.summary()
        if self.notifier is not None:
            delivery = self.notifier.deliver(result.findings, result.round_id)
            summary["delivery"] = delivery.summary()
            with self._lock:
                self._round_id = result.round_id
                self._waiting = [
                    f for f in result.findings if f.owner.slack_user in delivery.deferred
                ]
        return summary

    def retry_deferred(self) -> dict[str, Any] | None:
        with self._lock:
            waiting, round_id = list(self._waiting), self._round_id
        if not waiting or self.notifier is None:
            return None
        delivery = self.notifier.deliver(waiting, round_id)
        with self._lock:
            self._waiting = [f for f in waiting if f.owner.slack_user in delivery.deferred]
        return delivery.summary()

    def weekly_summary(self) -> bool:
        return self.notifier.weekly_summary() if self.notifier is not None else False
