from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.nudging import History, Step, auto_stop_date, in_working_hours, next_step
from bot.core.policy import Nudges

MONDAY_NOON_UTC = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (MONDAY_NOON_UTC, "Europe/Amsterdam", True),  # 13:00 there
        (MONDAY_NOON_UTC, "America/Los_Angeles", False),  # 04:00 there
        (MONDAY_NOON_UTC, "Asia/Tokyo", False),  # 21:00 there
        (MONDAY_NOON_UTC + timedelta(days=5), "UTC", False),  # Saturday
        (datetime(2024, 3, 4, 9, 0, tzinfo=UTC), "UTC", True),  # the first minute counts
        (datetime(2024, 3, 4, 17, 0, tzinfo=UTC), "UTC", False),  # the end does not
        (MONDAY_NOON_UTC, None, True),  # Slack gave no zone: UTC
        (MONDAY_NOON_UTC, "Not/AZone", True),  # an unknown zone: UTC, not a crash
    ],
)
def test_working_hours_are_the_owners_own(now: datetime, zone: str | None, expected: bool) -> None:
    assert in_working_hours(now, zone, Nudges()) is expected


def test_custom_hours_and_days() -> None:
    policy = Nudges(working_hours=(time(7, 0), time(10, 0)), working_days=(5, 6))
    saturday_eight = datetime(2024, 3, 9, 8, 0, tzinfo=UTC)
    assert in_working_hours(saturday_eight, "UTC", policy)
    assert not in_working_hours(MONDAY_NOON_UTC, "UTC", policy)


def test_first_nudge_then_wait_then_renudge() -> None:
    policy = Nudges(renudge_days=3, escalate_after=0)
    assert next_step(History(), MONDAY_NOON_UTC, policy) is Step.NUDGE
    sent = History(times_sent=1, last_sent_at=MONDAY_NOON_UTC)
    assert next_step(sent, MONDAY_NOON_UTC + timedelta(days=2), policy) is Step.WAIT
    assert next_step(sent, MONDAY_NOON_UTC + timedelta(days=3), policy) is Step.NUDGE


def test_escalation_after_n_unanswered_nudges() -> None:
    policy = Nudges(renudge_days=3, escalate_after=2)
    later = MONDAY_NOON_UTC + timedelta(days=4)
    assert next_step(History(1, MONDAY_NOON_UTC), later, policy) is Step.NUDGE
    assert next_step(History(2, MONDAY_NOON_UTC), later, policy) is Step.ESCALATE


def test_auto_stop_is_off_by_default_and_wins_over_escalation_when_on() -> None:
    later = MONDAY_NOON_UTC + timedelta(days=4)
    assert next_step(History(9, MONDAY_NOON_UTC), later, Nudges()) is Step.ESCALATE
    policy = Nudges(escalate_after=2, auto_stop_after=3)
    assert next_step(History(3, MONDAY_NOON_UTC), later, policy) is Step.AUTO_STOP


def test_an_answered_nudge_is_never_repeated() -> None:
    answered = History(times_sent=5, last_sent_at=MONDAY_NOON_UTC, answered=True)
    assert next_step(answered, MONDAY_NOON_UTC + timedelta(days=30), Nudges()) is Step.WAIT


def test_auto_stop_date_is_announced_ahead() -> None:
    policy = Nudges(renudge_days=3, auto_stop_after=2)
    assert auto_stop_date(History(), MONDAY_NOON_UTC, Nudges()) is None
    # First nudge now, second in 3 days, stop 3 days after that.
    assert auto_stop_date(History(), MONDAY_NOON_UTC, policy) == MONDAY_NOON_UTC + timedelta(days=6)
    # The last nudge before the stop: 3 days' notice.
    assert auto_stop_date(History(1, MONDAY_NOON_UTC), MONDAY_NOON_UTC, policy) == (
        MONDAY_NOON_UTC + timedelta(days=3)
    )
