"""APScheduler wiring: patrol rounds on the policy's cron, inside `whocreated serve`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.core.policy import Schedule
from bot.cron import cron_trigger

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
    jobs: list[tuple[str, str, Callable[[], object] | None, BaseTrigger]] = [
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


def _logged(work: Callable[[], object], name: str) -> Callable[[], None]:
    def job() -> None:
        try:
            logger.info("%s starting", name)
            result = work()
            logger.info("%s done: %s", name, result)
        except Exception:
            logger.exception("%s failed; the next one runs on schedule", name)

    return job
