"""APScheduler wiring: patrol rounds on the policy's cron, inside `whocreated serve`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.core.policy import Schedule
from bot.cron import cron_trigger
from bot.leases import ROUND_TTL

logger = logging.getLogger(__name__)

# APScheduler's default grace is 1 second: a round due while the process was busy or restarting
# would be skipped. Hours of grace run it late instead; coalescing runs missed rounds only once.
# A slot whose round did not run to its end is caught up within the same grace (bot/rounds.py).
MISFIRE_GRACE = timedelta(hours=6)
PATROL_JOB_ID = "patrol-round"
HOURLY_JOB_ID = "deferred-digests"
SUMMARY_JOB_ID = "weekly-summary"
AT_START_JOB_ID = "unfinished-round"
# A slot left unfinished is looked for at start, and again once a predecessor killed mid-round has
# surely lost its round lease (it expires ROUND_TTL after its last renewal).
AT_START = (timedelta(0), ROUND_TTL + timedelta(seconds=10))


class _Job(NamedTuple):
    id: str
    name: str
    work: Callable[[], object] | None
    trigger: BaseTrigger
    after_failure: str = "the next one runs on schedule"


def build_scheduler(
    schedule: Schedule,
    run_round: Callable[[], object],
    *,
    hourly: Callable[[], object] | None = None,
    at_start: Callable[[], object] | None = None,
    weekly_summary: Callable[[], object] | None = None,
) -> BackgroundScheduler:
    """Patrol rounds on the policy's cron; hourly, the digests of owners who were outside their
    working hours when the round ran, and a slot left unfinished; `at_start`, the slot left
    unfinished, at once and once more (AT_START); on Mondays at 09:00, the weekly summary."""
    scheduler = BackgroundScheduler(timezone=schedule.timezone)
    zone = schedule.timezone
    now = datetime.now(UTC)
    jobs = [
        _Job(
            PATROL_JOB_ID,
            "patrol round",
            run_round,
            cron_trigger(schedule.cron, zone),
            "its slot is tried again on the hour",
        ),
        _Job(
            HOURLY_JOB_ID,
            "deferred digests and unfinished rounds",
            hourly,
            CronTrigger(minute=5, timezone=zone),
        ),
        _Job(
            SUMMARY_JOB_ID,
            "weekly summary",
            weekly_summary,
            CronTrigger(day_of_week="mon", hour=9, timezone=zone),
        ),
        *(
            _Job(
                f"{AT_START_JOB_ID}-{n}",
                "unfinished patrol round",
                at_start,
                DateTrigger(now + delay),
                "tried again on the hour",
            )
            for n, delay in enumerate(AT_START)
        ),
    ]
    for job in jobs:
        if job.work is None:
            continue
        scheduler.add_job(
            _logged(job),
            job.trigger,
            id=job.id,
            name=job.name,
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return scheduler


def _logged(job: _Job) -> Callable[[], None]:
    work = job.work
    assert work is not None

    def run() -> None:
        try:
            logger.info("%s starting", job.name)
            result = work()
            logger.info("%s done: %s", job.name, "nothing to do" if result is None else result)
        except Exception:
            logger.exception("%s failed; %s", job.name, job.after_failure)

    return run
