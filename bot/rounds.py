"""Patrol rounds as `whocreated serve` (scheduled) and `scan --notify` run them: one round per slot
whoever starts it, the hourly retry of what is still pending, and the weekly summary.

A round first takes the round lease (bot/leases.py); a replica or a `scan --notify` that cannot
says so in one line and does nothing. The lease is renewed while the round runs and checked
before each owner's delivery, so a process paused past its lease stops delivering.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.leases import ROUND_LEASE, ROUND_TTL, Lease, describe_holder, slot_of
from bot.notifier import Delivery, Notifier
from bot.patrol import Patrol, RoundResult
from bot.store import Store

logger = logging.getLogger(__name__)

SUMMARY_LEASE = "weekly-summary"
SUMMARY_TTL = timedelta(minutes=10)


@dataclass
class RoundRun:
    """One attempt at a round: its result and delivery, or why it was not run here."""

    result: RoundResult | None = None
    delivery: Delivery | None = None
    not_run: str | None = None  # one line: another process has this round

    def summary(self) -> dict[str, Any]:
        if self.result is None:
            return {"not_run": self.not_run}
        summary = self.result.summary()
        if self.delivery is not None:
            summary["delivery"] = self.delivery.summary()
        return summary


class Rounds:
    def __init__(
        self,
        patrol: Patrol,
        notifier: Notifier | None,
        *,
        store: Store,
        holder: str,
        clock: Callable[[], datetime],
        lease_ttl: timedelta = ROUND_TTL,
        stopping: threading.Event | None = None,
    ) -> None:
        self.patrol = patrol
        self.notifier = notifier
        self.store = store
        self.holder = holder
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.stopping = stopping or threading.Event()
        self.running = threading.Event()  # a round is under way in this process

    def run(
        self, *, slot: str | None = None, progress: Callable[[str], None] | None = None
    ) -> RoundRun:
        """A round under the round lease; `slot` names a scheduled one (it runs once, across
        replicas), None an on-demand one (it waits for no slot, only for a running round)."""
        own_slot = slot or f"on-demand {self.clock():%Y-%m-%dT%H:%M:%S} {self.holder}"
        lease = Lease.claim(
            self.store,
            ROUND_LEASE,
            self.holder,
            ttl=self.lease_ttl,
            clock=self.clock,
            slot=own_slot,
        )
        if lease is None:
            holder = describe_holder(self.store, ROUND_LEASE)
            words = (
                f"another process has the patrol round of {slot} ({holder})"
                if slot
                else f"another patrol round is running ({holder})"
            )
            logger.info("%s: not running one here", words)
            return RoundRun(not_run=f"{words}: nothing done here")
        self.running.set()
        try:
            with lease:
                result = self.patrol.run(progress=progress)
                run = RoundRun(result=result)
                if self.notifier is not None and not self.stopping.is_set():
                    run.delivery = self.notifier.deliver(
                        result.findings,
                        result.round_id,
                        skipped=result.skipped,
                        still_ours=lambda: not self.stopping.is_set() and lease.still_held(),
                    )
                if self.stopping.is_set() or (run.delivery and run.delivery.stopped_early):
                    lease.abandon()  # cut short: its slot is not done
        finally:
            self.running.clear()
        return run

    def run_round(self) -> dict[str, Any]:
        """The scheduled job: this minute's slot."""
        return self.run(slot=slot_of(self.clock())).summary()

    def retry_deferred(self) -> dict[str, Any] | None:
        """Hourly: digests still pending (failed, or waiting for their owner's working hours)."""
        if self.notifier is None:
            return None
        return self.notifier.retry().summary()

    def weekly_summary(self) -> bool:
        """Once a week across replicas (the week is the lease's slot)."""
        if self.notifier is None:
            return False
        now = self.clock()
        week = f"{now:%G-W%V}"
        lease = Lease.claim(
            self.store, SUMMARY_LEASE, self.holder, ttl=SUMMARY_TTL, clock=self.clock, slot=week
        )
        if lease is None:
            logger.info("the weekly summary of %s is another replica's", week)
            return False
        with lease:
            return self.notifier.weekly_summary()
