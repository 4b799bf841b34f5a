"""Rounds around the patrol: one per slot whoever starts it (the round lease), the hourly retry of
what is pending, and the weekly summary once across replicas. On SQLite and a real PostgreSQL,
each "replica" with its own engine, as separate processes have."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.core.policy import Policy, SlackPolicy
from bot.leases import ROUND_LEASE, new_holder
from bot.notifier import Notifier
from bot.patrol import RoundResult
from bot.rounds import Rounds
from bot.store import Store
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.postgres import postgres_or_skip
from tests.test_notifier import ALICE, BOB, Clock, finding

SUNDAY_EVENING = datetime(2024, 3, 3, 20, 0, tzinfo=UTC)
MONDAY_NOON = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


class FixedRound:
    """A patrol whose round always finds the same idle resources (the round itself is tested in
    tests/test_patrol.py; this is about what happens around it). It can hold a round open."""

    def __init__(self, clock: Clock, owners: tuple[str, ...] = (ALICE,)) -> None:
        self.clock = clock
        self.owners = owners
        self.runs = 0
        self.gate: threading.Event | None = None
        self.started = threading.Event()

    def run(self, progress: Callable[[str], None] | None = None) -> RoundResult:
        self.runs += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        result = RoundResult(round_id=f"r{self.runs}", started=self.clock())
        for n, owner in enumerate(self.owners):
            result.findings.append(finding(f"i-0aaaaaaaaaaaaa{n:03d}", owner))
        return result


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("alice@example.com", ALICE, "Alice", tz="UTC")
    fake.add_user("bob@example.com", BOB, "Bob", tz="UTC")
    yield fake
    fake.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    with postgres_or_skip() as url:
        yield url


def replica(
    database: str, slack: FakeSlack, clock: Clock, owners: tuple[str, ...] = (ALICE,)
) -> tuple[Rounds, FixedRound]:
    """One replica: its own engine, Slack client and process identity, on the shared store."""
    store = Store.open(database)
    client = WebClient(token=BOT_TOKEN, base_url=slack.url)
    policy = Policy(slack=SlackPolicy(summary_channel="C0SUMMARY"))
    notifier = Notifier(store=store, client=client, policy=policy, clock=clock)
    patrol = FixedRound(clock, owners)
    rounds = Rounds(patrol, notifier, store=store, holder=new_holder(), clock=clock)  # type: ignore[arg-type]
    return rounds, patrol


def test_two_replicas_firing_the_same_slot_run_one_round(database: str, slack: FakeSlack) -> None:
    clock = Clock(MONDAY_NOON)
    replicas = [replica(database, slack, clock, (ALICE, BOB)) for _ in range(2)]
    start = threading.Barrier(2)
    summaries: list[dict] = []

    def fire(rounds: Rounds) -> None:
        start.wait()
        summaries.append(rounds.run_round())

    threads = [threading.Thread(target=fire, args=(r,)) for r, _ in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(patrol.runs for _, patrol in replicas) == 1
    assert sorted(call.params["channel"] for call in slack.calls_to("chat.postMessage")) == [
        ALICE,
        BOB,
    ]
    [skipped] = [s for s in summaries if "not_run" in s]
    assert "another process has the patrol round of 2024-03-04T12:00Z" in skipped["not_run"]

    # The loser's clock was a few seconds late: the slot already ran, so still nothing.
    clock.now += timedelta(seconds=20)
    late, patrol = replicas[1]
    assert "not_run" in late.run_round() and patrol.runs + replicas[0][1].runs == 1
    clock.now += timedelta(minutes=1)  # the next slot is a new round
    assert "not_run" not in late.run_round()


def test_an_on_demand_round_waits_for_no_slot_but_never_runs_beside_another(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_NOON)
    (first, held), (second, other) = (replica(database, slack, clock) for _ in range(2))
    held.gate = threading.Event()
    running = threading.Thread(target=first.run)
    running.start()
    assert held.started.wait(10)

    beside = second.run()
    assert beside.result is None and other.runs == 0
    assert beside.not_run is not None and beside.not_run.startswith(
        "another patrol round is running"
    )
    held.gate.set()
    running.join(10)
    assert second.run().result is not None  # free again once the first finished


def test_a_holder_killed_mid_round_loses_the_lease_when_it_expires(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_NOON)
    store = Store.open(database)
    # What a process killed with -9 leaves: a lease nobody renews.
    assert store.claim_lease(ROUND_LEASE, "dead:1:abc", now=clock(), ttl=timedelta(minutes=2))
    rounds, patrol = replica(database, slack, clock)
    assert rounds.run().result is None
    clock.now += timedelta(minutes=3)
    assert rounds.run().result is not None and patrol.runs == 1


def test_deferred_digest_goes_out_when_the_working_day_starts(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(SUNDAY_EVENING)
    rounds, _ = replica(database, slack, clock)

    summary = rounds.run_round()
    assert summary["delivery"]["deferred_outside_hours"] == 1
    assert slack.calls_to("chat.postMessage") == []

    clock.now += timedelta(hours=6)  # Monday 02:00: still night
    rounds.retry_deferred()
    assert slack.calls_to("chat.postMessage") == []

    clock.now += timedelta(hours=7)  # Monday 09:00, and a restart: a new process
    restarted, _ = replica(database, slack, clock)
    assert restarted.retry_deferred() == {
        "sent": 1,
        "found_already_sent": 0,
        "waiting": 0,
        "failed": 0,
        "given_up": 0,
    }
    [post] = slack.calls_to("chat.postMessage")
    assert post.params["channel"] == ALICE
    assert restarted.retry_deferred()["sent"] == 0  # sent once, then nothing waits


def test_the_weekly_summary_is_posted_once_across_replicas(database: str, slack: FakeSlack) -> None:
    clock = Clock(MONDAY_NOON)
    posted = [replica(database, slack, clock)[0].weekly_summary() for _ in range(2)]
    assert posted == [True, False]
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == ["C0SUMMARY"]


def test_a_round_cut_short_by_a_shutdown_leaves_its_slot_to_another_replica(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_NOON)
    (stopping, held), (other, _) = (replica(database, slack, clock) for _ in range(2))
    held.gate = threading.Event()
    running = threading.Thread(target=stopping.run_round)
    running.start()
    assert held.started.wait(10)
    stopping.stopping.set()  # SIGTERM while the round reads AWS
    held.gate.set()
    running.join(10)

    assert slack.calls_to("chat.postMessage") == []  # nothing delivered after the signal
    assert "not_run" not in other.run_round()  # the same slot: not done, so it runs
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == [ALICE]
