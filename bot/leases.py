"""Leases in the store: work that one process at a time may do, whichever replica starts it.

A lease is claimed by compare-and-set (Store.claim_lease), renewed by a thread while the work
runs, and released at the end. A holder that dies (kill -9, a lost machine) stops renewing, so
its lease expires after `ttl` and the next claimant gets it. Two leases are used:
- ROUND_LEASE: one patrol round at a time, and one per scheduled slot (two replicas' schedulers
  fire the same minute; the second finds the slot taken or already run). A slot is recorded as
  run only when its work ends (Store.release_lease, finished): one cut short may be claimed again;
- INSTANCE_PREFIX + holder: "this process is alive", so decisions it left `acting` are settled
  only once it is gone.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from sqlalchemy.exc import SQLAlchemyError

from bot.store import Store

logger = logging.getLogger(__name__)

ROUND_LEASE = "patrol-round"
INSTANCE_PREFIX = "instance:"
ROUND_TTL = timedelta(minutes=2)
INSTANCE_TTL = timedelta(minutes=1)

Clock = Callable[[], datetime]


def new_holder() -> str:
    """This process among the replicas: host, pid, and a few random characters (pids repeat
    across restarts, and every container's first process is 1)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(3)}"


def slot_of(moment: datetime) -> str:
    """A scheduled round's slot: its minute (cron's finest step), in UTC, whatever the zone of
    `moment` (the schedule's fire times are in the policy's time zone)."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


class Lease:
    """A lease this process holds; use as a context manager to keep it renewed until the end."""

    def __init__(
        self,
        store: Store,
        name: str,
        holder: str,
        *,
        ttl: timedelta,
        clock: Clock,
        slot: str | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self.slot = slot
        self._lost = threading.Event()
        self._done = threading.Event()
        self._renewing = threading.Lock()  # a renewal never revives a lease already released
        self._abandoned = False  # the work stopped before its end: the slot may run again
        self._renewer: threading.Thread | None = None

    @classmethod
    def claim(
        cls,
        store: Store,
        name: str,
        holder: str,
        *,
        ttl: timedelta,
        clock: Clock,
        slot: str | None = None,
    ) -> Lease | None:
        """The lease, or None when another holder has it (or its slot already ran)."""
        if store.claim_lease(name, holder, now=clock(), ttl=ttl, slot=slot):
            return cls(store, name, holder, ttl=ttl, clock=clock, slot=slot)
        return None

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def still_held(self) -> bool:
        """Renew now: False when the lease expired and someone else took it (this process was
        paused longer than the lease lasts); the work must stop then."""
        with self._renewing:
            if self.lost:
                return False
            if self._done.is_set():
                return True  # released: ours to the end, nothing left to renew
            try:
                held = self.store.renew_lease(
                    self.name, self.holder, now=self.clock(), ttl=self.ttl
                )
            except SQLAlchemyError:
                logger.exception("could not renew the %s lease", self.name)
                return True  # not known to be lost; the next renewal tells
        if not held:
            self._lost.set()
            logger.warning("the %s lease was lost: another replica holds it now", self.name)
        return held

    def abandon(self) -> None:
        """The work stops unfinished (shutting down): released at the end without marking its
        slot done."""
        self._abandoned = True

    def release(self, *, finished: bool) -> None:
        with self._renewing:
            self._done.set()
        try:
            self.store.release_lease(self.name, self.holder, now=self.clock(), finished=finished)
        except SQLAlchemyError:
            logger.exception("could not release the %s lease; it expires by itself", self.name)

    def __enter__(self) -> Self:
        self._renewer = threading.Thread(
            target=self._renew, name=f"whocreated-lease-{self.name}", daemon=True
        )
        self._renewer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release(finished=kind is None and not self.lost and not self._abandoned)
        if self._renewer is not None:
            self._renewer.join(timeout=5)

    def _renew(self) -> None:
        every = self.ttl.total_seconds() / 3
        while not self._done.wait(every):
            if not self.still_held():
                return


def describe_holder(store: Store, name: str) -> str:
    """Who holds a lease, in words, for the one line a loser prints."""
    row = store.get_lease(name)
    if row is None:
        return "another process"
    return f"{row.holder} (until {row.expires_at:%H:%M:%SZ})"
