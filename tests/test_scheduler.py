import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.policy import Schedule
from bot.leases import ROUND_TTL
from bot.scheduler import (
    AT_START_JOB_ID,
    HOURLY_JOB_ID,
    MISFIRE_GRACE,
    PATROL_JOB_ID,
    build_scheduler,
    cron_trigger,
)


def test_rounds_follow_the_policy_cron_in_its_time_zone() -> None:
    scheduler = build_scheduler(Schedule(cron="30 8 * * 1-5", timezone="Europe/Paris"), list)
    job = scheduler.get_job(PATROL_JOB_ID)
    # Friday 2024-03-08 10:00 UTC: the next round is Monday 08:30 in Paris (07:30 UTC).
    after = datetime(2024, 3, 8, 10, 0, tzinfo=UTC)
    upcoming = job.trigger.get_next_fire_time(None, after)
    assert upcoming.astimezone(UTC) == datetime(2024, 3, 11, 7, 30, tzinfo=UTC)


def test_a_late_round_still_runs_and_missed_rounds_run_once() -> None:
    job = build_scheduler(Schedule(), list).get_job(PATROL_JOB_ID)
    assert job.misfire_grace_time == MISFIRE_GRACE.total_seconds() >= 3600
    assert job.coalesce is True
    assert job.max_instances == 1


def test_a_failing_round_is_logged_not_raised(caplog) -> None:
    def broken() -> None:
        raise RuntimeError("AWS fell over")

    job = build_scheduler(Schedule(), broken).get_job(PATROL_JOB_ID)
    job.func()
    assert "patrol round failed" in caplog.text


def test_a_failing_round_is_tried_again_on_the_hour(caplog) -> None:
    def broken() -> None:
        raise RuntimeError("AWS fell over")

    job = build_scheduler(Schedule(), broken).get_job(PATROL_JOB_ID)
    job.func()
    assert "patrol round failed; its slot is tried again on the hour" in caplog.text


def test_an_unfinished_round_is_looked_for_at_start_and_every_hour() -> None:
    looked = threading.Event()
    scheduler = build_scheduler(Schedule(), list, hourly=list, at_start=looked.set)
    at_once, again = (scheduler.get_job(f"{AT_START_JOB_ID}-{n}") for n in range(2))
    # Again once a predecessor killed mid-round has surely lost its round lease.
    assert again.trigger.run_date - at_once.trigger.run_date > ROUND_TTL
    hourly = scheduler.get_job(HOURLY_JOB_ID).trigger
    after = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
    assert hourly.get_next_fire_time(None, after) == after + timedelta(minutes=5)
    scheduler.start()
    try:
        assert looked.wait(10)
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    ("weekday", "fires_on"),
    [
        ("1-5", {0, 1, 2, 3, 4}),  # Monday to Friday, as crontab means it
        ("0", {6}),  # Sunday
        ("7", {6}),  # Sunday too
        ("5-7", {4, 5, 6}),
        ("sat,sun", {5, 6}),
        ("*/2", {6, 1, 3, 5}),  # Sunday, Tuesday, Thursday, Saturday
        ("*", {0, 1, 2, 3, 4, 5, 6}),
    ],
)
def test_crontab_weekdays_count_from_sunday(weekday: str, fires_on: set[int]) -> None:
    trigger = cron_trigger(f"0 9 * * {weekday}", "UTC")
    start = datetime(2024, 3, 3, 0, 0, tzinfo=UTC)  # a Sunday
    seen, moment = set(), start
    for _ in range(7):
        moment = trigger.get_next_fire_time(None, moment)
        if moment is None or moment >= datetime(2024, 3, 10, tzinfo=UTC):
            break
        seen.add(moment.weekday())
        moment = moment.replace(hour=10)
    assert seen == fires_on


@pytest.mark.parametrize("cron", ["0 9 * *", "0 9 * * 8", "0 9 * * funday", "0 9 * * 5-2"])
def test_bad_cron_lines_are_refused(cron: str) -> None:
    with pytest.raises(ValueError):
        cron_trigger(cron, "UTC")
