"""APScheduler wiring: patrol rounds on the policy's cron, inside `whocreated serve`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.core.policy import Schedule

logger = logging.getLogger(__name__)

# APScheduler's default grace is 1 second: a round due while the process was busy or restarting
# would be skipped. Hours of grace run it late instead; coalescing runs missed rounds only once.
MISFIRE_GRACE = timedelta(hours=6)
PATROL_JOB_ID = "patrol-round"


DEFERRED_JOB_ID = "deferred-digests"
SUMMARY_JOB_ID = "weekly-summary"


def build_scheduler(
    schedule: Schedule,
    run_round: Callable[[], object],
    *,
    retry_deferred: Callable[[], object] | None = None,
    weekly_summary: Callable[[], object] | None = None,
) -> BackgroundScheduler:
    """Patrol rounds on the policy's cron; hourly, the digests of owners who were outside their
    working hours when the round ran; on Mondays at 09:00, the weekly summary."""
    scheduler = BackgroundScheduler(timezone=schedule.timezone)
    jobs: list[tuple[str, str, Callable[[], object] | None, CronTrigger]] = [
        (PATROL_JOB_ID, "patrol round", run_round, cron_trigger(schedule.cron, schedule.timezone)),
        (
            DEFERRED_JOB_ID,
            "deferred digests",
            retry_deferred,
            CronTrigger(minute=5, timezone=schedule.timezone),
        ),
        (
            SUMMARY_JOB_ID,
            "weekly summary",
            weekly_summary,
            CronTrigger(day_of_week="mon", hour=9, timezone=schedule.timezone),
        ),
    ]
    for job_id, name, work, trigger in jobs:
        if work is None:
            continue
        scheduler.add_job(
            _logged(work, name),
            trigger,
            id=job_id,
            name=name,
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return scheduler


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """A crontab line as cron reads it. APScheduler 3 counts days of the week from Monday = 0,
    crontab from Sunday = 0 (7 too), so the day-of-week field is rewritten as day names."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"a cron line has 5 fields (minute hour day month weekday), not {cron!r}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone=timezone,
    )


def _weekday_names(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _day_number(low), _day_number(high)
            if last == 0 and first > 0:
                last = 7  # "5-7" and "fri-sun" end on Sunday
        else:
            first = last = _day_number(span)
        if step < 1 or first > last:
            raise ValueError(f"cannot read the day-of-week field {field!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _day_number(token: str) -> int:
    token = token.strip().lower()
    if token[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(token[:3])
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7 if int(token) != 7 else 7
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def _logged(work: Callable[[], object], name: str) -> Callable[[], None]:
    def job() -> None:
        try:
            logger.info("%s starting", name)
            result = work()
            logger.info("%s done: %s", name, result)
        except Exception:
            logger.exception("%s failed; the next one runs on schedule", name)

    return job
