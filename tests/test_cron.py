"""One crontab reader for the policy file and the scheduler: what the policy accepts runs as cron
would run it, and what the scheduler cannot read the policy refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, read_policy
from bot.core.policy import Schedule
from bot.cron import CronError, cron_trigger, last_fire
from bot.scheduler import PATROL_JOB_ID, build_scheduler

SUNDAY = datetime(2024, 3, 3, tzinfo=UTC)


def fire_times(cron: str, start: datetime, count: int) -> list[datetime]:
    trigger = cron_trigger(cron, "UTC")
    times: list[datetime] = []
    moment = start
    while len(times) < count:
        moment = trigger.get_next_fire_time(None, moment)
        assert moment is not None
        times.append(moment)
        moment = moment.replace(second=1)
    return times


def policy_file(tmp_path: Path, cron: str) -> Path:
    path = tmp_path / "whocreated.toml"
    path.write_text(f'[schedule]\ncron = "{cron}"\n')
    return path


def test_day_7_is_sunday_for_the_policy_file_and_the_scheduler(tmp_path: Path) -> None:
    values = read_policy(policy_file(tmp_path, "0 9 * * 7"))
    schedule = Schedule(**values["schedule"])
    job = build_scheduler(schedule, list).get_job(PATROL_JOB_ID)
    upcoming = job.trigger.get_next_fire_time(None, datetime(2024, 3, 4, tzinfo=UTC))  # Monday
    assert upcoming == datetime(2024, 3, 10, 9, 0, tzinfo=UTC)  # the next Sunday
    assert upcoming.weekday() == 6


@pytest.mark.parametrize(
    "cron",
    ["0 9 * *", "0 9 * * 8", "0 9 * * funday", "0 9 * * 5-2", "61 9 * * *", "0 9 * * 1/x"],
)
def test_the_policy_refuses_exactly_what_the_scheduler_cannot_read(
    tmp_path: Path, cron: str
) -> None:
    with pytest.raises(CronError) as scheduler_error:
        cron_trigger(cron, "UTC")
    with pytest.raises(ConfigError) as policy_error:
        read_policy(policy_file(tmp_path, cron))
    assert "schedule.cron must be a crontab expression" in str(policy_error.value)
    assert str(scheduler_error.value) in str(policy_error.value)


def test_a_restricted_day_and_weekday_fire_on_either_as_cron_does() -> None:
    # "the 1st of the month, and every Monday": March 2024 starts on a Friday.
    times = fire_times("0 9 1 * 1", datetime(2024, 2, 29, tzinfo=UTC), 3)
    assert times == [
        datetime(2024, 3, 1, 9, 0, tzinfo=UTC),  # the 1st (a Friday)
        datetime(2024, 3, 4, 9, 0, tzinfo=UTC),  # Monday
        datetime(2024, 3, 11, 9, 0, tzinfo=UTC),  # Monday
    ]


def test_a_weekday_range_ending_on_sunday() -> None:
    times = fire_times("30 6 * * fri-sun", SUNDAY, 4)
    assert [moment.strftime("%a") for moment in times] == ["Sun", "Fri", "Sat", "Sun"]


def test_the_last_fire_is_the_latest_slot_in_the_window() -> None:
    trigger = cron_trigger("0 9 * * 1-5", "UTC")
    monday = datetime(2024, 3, 4, 10, 30, tzinfo=UTC)
    assert last_fire(trigger, monday, since=monday - timedelta(hours=6)) == monday.replace(
        hour=9, minute=0
    )
    early = monday.replace(hour=8)  # Friday's is three days back
    assert last_fire(trigger, early, since=early - timedelta(hours=6)) is None
    assert last_fire(trigger, early, since=early - timedelta(days=4)) == datetime(
        2024, 3, 1, 9, 0, tzinfo=UTC
    )
    on_time = monday.replace(hour=9, minute=0)
    assert last_fire(trigger, on_time, since=on_time - timedelta(hours=6)) == on_time
