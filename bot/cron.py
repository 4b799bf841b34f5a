"""Crontab lines as cron reads them, for the policy file and the scheduler alike.

APScheduler 3 reads a crontab line differently from cron in two ways, and both are fixed here:
- it counts days of the week from Monday = 0, crontab from Sunday = 0 (and 7), so the day-of-week
  field is rewritten as day names ("7" and "0" are Sunday, "1-5" Monday to Friday);
- when both the day of the month and the day of the week are restricted, cron runs on either
  ("0 9 1 * 1": the 1st and every Monday), APScheduler only on both; such a line becomes two
  triggers, either of which fires.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

EXPECTED = 'a crontab expression "minute hour day month day-of-week", e.g. "0 9 * * 1-5"'

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class CronError(ValueError):
    """The line is not a crontab expression; the message says what is wrong with it."""


def cron_trigger(cron: str, timezone: str) -> BaseTrigger:
    """The trigger for a five-field crontab line in `timezone`; CronError when it is not one."""
    fields = cron.split()
    if len(fields) != 5:
        raise CronError(f"a cron line has 5 fields (minute hour day month weekday), not {cron!r}")
    minute, hour, day, month, weekday = fields
    try:
        days_of_week = _weekday_names(weekday)

        def trigger(day: str, day_of_week: str) -> CronTrigger:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=timezone,
            )

        if _restricted(day) and _restricted(weekday):
            return OrTrigger([trigger(day, "*"), trigger("*", days_of_week)])
        return trigger(day, days_of_week)
    except CronError:
        raise
    except ValueError as error:
        raise CronError(f"cannot read {cron!r}: {error}") from None


def last_fire(trigger: BaseTrigger, now: datetime, *, since: datetime) -> datetime | None:
    """The trigger's latest fire time from `since` to `now`, None when it has none then.
    APScheduler 3 only counts forward, so this walks from `since` (a minutely line over six
    hours is 360 steps)."""
    latest = None
    moment = trigger.get_next_fire_time(None, since)
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment)
    return latest


def check_cron(cron: str) -> str:
    """The line itself when cron_trigger reads it; CronError otherwise."""
    cron_trigger(cron, "UTC")
    return cron


def _restricted(field: str) -> bool:
    return field not in ("*", "?")


def _weekday_names(field: str) -> str:
    if not _restricted(field):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            raise CronError(f"cannot read the day-of-week field {field!r}")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _day_number(low), _day_number(high)
            if last == 0 and first > 0:
                last = 7  # "5-0" and "fri-sun" end on Sunday
        else:
            first = last = _day_number(span)
        if step < 1 or first > last:
            raise CronError(f"cannot read the day-of-week field {field!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _day_number(token: str) -> int:
    """0-7 (0 and 7 are Sunday) or a day name; 7 stays 7 so that a range can end on it."""
    token = token.strip().lower()
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    raise CronError(f"{token!r} is not a day of the week (0-7 or sun-sat)")
