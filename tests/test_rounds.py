"""Scheduled rounds: an owner outside their working hours gets the digest when their day starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient

from bot.core.policy import Policy
from bot.notifier import Notifier
from bot.patrol import RoundResult
from bot.rounds import Rounds
from bot.store import Store
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.test_notifier import Clock, finding

SUNDAY_EVENING = datetime(2024, 3, 3, 20, 0, tzinfo=UTC)


class OneRound:
    """A patrol whose round always finds the same idle resource (the round itself is tested in
    tests/test_patrol.py; this is about what happens around it)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def run(self) -> RoundResult:
        result = RoundResult(round_id="r1", started=self.clock())
        result.findings.append(finding("i-0aaaaaaaaaaaaaaa1", "U0ALICE01"))
        return result


def test_deferred_digest_goes_out_when_the_working_day_starts() -> None:
    slack = FakeSlack()
    slack.add_user("alice@example.com", "U0ALICE01", "Alice", tz="UTC")
    try:
        clock = Clock(SUNDAY_EVENING)
        client = WebClient(token=BOT_TOKEN, base_url=slack.url)
        notifier = Notifier(store=Store.in_memory(), client=client, policy=Policy(), clock=clock)
        rounds = Rounds(OneRound(clock), notifier)  # type: ignore[arg-type]

        summary = rounds.run_round()
        assert summary["delivery"]["deferred_outside_hours"] == 1
        assert slack.calls_to("chat.postMessage") == []

        clock.now += timedelta(hours=6)  # Monday 02:00: still night
        rounds.retry_deferred()
        assert slack.calls_to("chat.postMessage") == []

        clock.now += timedelta(hours=7)  # Monday 09:00
        rounds.retry_deferred()
        [post] = slack.calls_to("chat.postMessage")
        assert post.params["channel"] == "U0ALICE01"
        assert rounds.retry_deferred() is None  # sent once, then nothing waits
    finally:
        slack.close()
