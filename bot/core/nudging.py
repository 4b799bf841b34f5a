"""When to nudge an owner: working hours in their own time zone, re-nudges, escalation, auto-stop.

Pure: the patrol passes the clock's `now`, the owner's time zone (from Slack's users.info) and what
the store remembers of earlier nudges for a resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.policy import Nudges


class Step(StrEnum):
    NUDGE = "nudge"  # first nudge, or a re-nudge after the interval
    WAIT = "wait"  # nudged recently: nothing to send this round
    ESCALATE = "escalate"  # unanswered too often: also tell the fallback channel
    AUTO_STOP = "auto_stop"  # unanswered past the auto-stop threshold: stop (never terminate)


@dataclass(frozen=True)
class History:
    """What the store remembers of one resource's open nudge."""

    times_sent: int = 0
    last_sent_at: datetime | None = None
    answered: bool = False  # a button was clicked (kept, stopped, reassigned…)


def owner_zone(tz_name: str | None) -> ZoneInfo:
    """The owner's zone from Slack, UTC when Slack gives none or one we do not know."""
    try:
        return ZoneInfo(tz_name) if tz_name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_working_hours(now: datetime, tz_name: str | None, policy: Nudges) -> bool:
    """True when it is a working day and hour where the owner is."""
    local = now.astimezone(owner_zone(tz_name))
    start, end = policy.working_hours
    return local.weekday() in policy.working_days and start <= local.time() < end


def next_step(history: History, now: datetime, policy: Nudges) -> Step:
    """What this round should do about one idle resource, given its nudge history."""
    if history.answered:
        return Step.WAIT
    if history.times_sent == 0 or history.last_sent_at is None:
        return Step.NUDGE
    if now - history.last_sent_at < timedelta(days=policy.renudge_days):
        return Step.WAIT
    if policy.auto_stop_after and history.times_sent >= policy.auto_stop_after:
        return Step.AUTO_STOP
    if policy.escalate_after and history.times_sent >= policy.escalate_after:
        return Step.ESCALATE
    return Step.NUDGE


def auto_stop_date(history: History, now: datetime, policy: Nudges) -> datetime | None:
    """When an unanswered resource will be stopped, announced in the digest before it happens."""
    if not policy.auto_stop_after:
        return None
    rounds_left = max(policy.auto_stop_after - (history.times_sent + 1), 0)
    return now + timedelta(days=policy.renudge_days * (rounds_left + 1))
