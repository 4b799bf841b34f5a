"""Patrol rounds as `whocreated serve` (scheduled) and `scan --notify` run them: one round per slot
whoever starts it, the hourly retry of what is still pending, and the weekly summary.

A round first takes the round lease (bot/leases.py); a replica or a `scan --notify` that cannot
says so in one line and does nothing. The lease is renewed while the round runs and checked
before each owner's delivery, so a process paused past its lease stops delivering.

A scheduled round's slot is its cron fire time, named the same on every replica. A slot is done
only when its round ran to its end; one cut short (a SIGTERM in a rolling deploy, a kill, a
failure) is run again by `catch_up`, at start and every hour, on whichever replica gets there
first, while it is within the scheduler's misfire grace. The owners it had reached are not told
twice: each of their resources has an open nudge sent moments ago, and the notifier sends an open
nudge again only after `renudge_days` (at least a day); a digest that was posted but not marked
sent is left to the outbox, which looks for it in the DM's history before posting it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from bot.cron import last_fire
from bot.leases import ROUND_LEASE, ROUND_TTL, Lease, describe_holder, slot_of
from bot.notifier import Delivery, Notifier
from bot.patrol import Patrol, RoundResult
from bot.scheduler import MISFIRE_GRACE
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
        schedule: BaseTrigger | None = None,
        grace: timedelta = MISFIRE_GRACE,
    ) -> None:
        self.patrol = patrol
        self.notifier = notifier
        self.store = store
        self.holder = holder
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.stopping = stopping or threading.Event()
        self.schedule = schedule  # the policy's cron, for scheduled rounds' slots
        self.grace = grace  # how late a slot may still run
        self.running = threading.Event()  # a round is under way in this process
        self._one_here = threading.Lock()  # the lease is per process: two jobs here share it

    def run(
        self, *, slot: str | None = None, progress: Callable[[str], None] | None = None
    ) -> RoundRun:
        """A round under the round lease; `slot` names a scheduled one (it runs once, across
        replicas), None an on-demand one (it waits for no slot, only for a running round)."""
        if not self._one_here.acquire(blocking=False):
            logger.info("a patrol round is under way in this process: not starting another")
            return RoundRun(not_run="a patrol round is under way here: nothing more done")
        try:
            return self._run(slot, progress)
        finally:
            self._one_here.release()

    def _run(self, slot: str | None, progress: Callable[[str], None] | None) -> RoundRun:
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
            words = self._taken(slot)
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
                    if slot:
                        logger.warning(
                            "the patrol round of %s stopped before its end; its slot runs again "
                            "at the next start or on the hour, on any replica",
                            slot,
                        )
        finally:
            self.running.clear()
        return run

    def _taken(self, slot: str | None) -> str:
        """Why the lease was not ours, in words."""
        holder = describe_holder(self.store, ROUND_LEASE)
        if slot is None:
            return f"another patrol round is running ({holder})"
        if self.store.slot_finished(ROUND_LEASE, slot):
            return f"the patrol round of {slot} already ran"
        return f"another process has the patrol round of {slot} ({holder})"

    def due_slot(self) -> str | None:
        """The schedule's latest slot no older than the grace; None when none is (or no
        schedule is known)."""
        if self.schedule is None:
            return None
        now = self.clock()
        fired = last_fire(self.schedule, now, since=now - self.grace)
        return slot_of(fired) if fired is not None else None

    def run_round(self) -> dict[str, Any]:
        """The scheduled job: the slot it fired for. Named from the schedule, not the clock, so a
        job the scheduler runs late (within the grace) still names its slot as other replicas do."""
        return self.run(slot=self.due_slot() or slot_of(self.clock())).summary()

    def catch_up(self) -> dict[str, Any] | None:
        """At start and hourly: the slot due now, when no round of it ran to its end; None when
        there is nothing to catch up."""
        slot = self.due_slot()
        if slot is None or self.stopping.is_set():
            return None
        if self.store.slot_finished(ROUND_LEASE, slot):
            logger.debug("the patrol round of %s ran: nothing to catch up", slot)
            return None
        logger.info("the patrol round of %s did not run to its end: running it now", slot)
        return self.run(slot=slot).summary()

    def hourly(self) -> dict[str, Any]:
        """The hourly job: pending digests, then a slot left unfinished."""
        return {"deferred": self.retry_deferred(), "unfinished_round": self.catch_up()}

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
