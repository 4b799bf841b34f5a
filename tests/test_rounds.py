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
from bot.cron import cron_trigger
from bot.leases import ROUND_LEASE, ROUND_TTL, new_holder
from bot.notifier import Notifier
from bot.patrol import RoundResult
from bot.rounds import Rounds
from bot.scheduler import MISFIRE_GRACE
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
    database: str,
    slack: FakeSlack,
    clock: Clock,
    owners: tuple[str, ...] = (ALICE,),
    cron: str = "* * * * *",
) -> tuple[Rounds, FixedRound]:
    """One replica: its own engine, Slack client and process identity, on the shared store."""
    store = Store.open(database)
    client = WebClient(token=BOT_TOKEN, base_url=slack.url)
    policy = Policy(slack=SlackPolicy(summary_channel="C0SUMMARY"))
    notifier = Notifier(store=store, client=client, policy=policy, clock=clock)
    patrol = FixedRound(clock, owners)
    rounds = Rounds(
        patrol,  # type: ignore[arg-type]
        notifier,
        store=store,
        holder=new_holder(),
        clock=clock,
        schedule=cron_trigger(cron, "UTC"),
    )
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
    assert "already ran" in late.run_round()["not_run"]
    assert patrol.runs + replicas[0][1].runs == 1
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


# A round cut short is caught up -------------------------------------------------------------

WEEKDAYS_NOON = "0 12 * * 1-5"
SLOT = "2024-03-04T12:00Z"


def channels(slack: FakeSlack) -> list[str]:
    return [call.params["channel"] for call in slack.calls_to("chat.postMessage")]


def sigterm_after_first_digest(rounds: Rounds) -> None:
    """A rolling deploy's SIGTERM lands just after the round's first digest went out."""
    assert rounds.notifier is not None
    outbox = rounds.notifier.outbox
    send = outbox.send

    def send_then_stop(digest_id: str) -> object:
        sent = send(digest_id)
        rounds.stopping.set()
        return sent

    outbox.send = send_then_stop  # type: ignore[method-assign]


def test_a_round_cut_short_at_noon_is_finished_by_the_restart_at_12_03(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_NOON)
    stopped, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    sigterm_after_first_digest(stopped)
    assert stopped.run_round()["delivery"]["digests_sent"] == 1
    assert channels(slack) == [ALICE]  # Bob was not reached before the process stopped

    clock.now = MONDAY_NOON + timedelta(minutes=3)  # the replacement process starts
    restarted, patrol = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    caught_up = restarted.catch_up()
    assert caught_up is not None and caught_up["delivery"]["digests_sent"] == 1
    assert channels(slack) == [ALICE, BOB]  # Bob gets his; Alice nothing more
    assert caught_up["delivery"]["waiting_for_interval"] == 1  # Alice's, sent at 12:00

    assert restarted.catch_up() is None  # the slot ran to its end now
    clock.now = MONDAY_NOON + timedelta(hours=1, minutes=5)  # the hourly job
    assert restarted.hourly()["unfinished_round"] is None
    assert patrol.runs == 1 and channels(slack) == [ALICE, BOB]


def test_a_round_killed_at_noon_is_finished_once_its_lease_expires(
    database: str, slack: FakeSlack
) -> None:
    """kill -9: nothing is released; the lease runs out two minutes after its last renewal."""
    clock = Clock(MONDAY_NOON)
    killed, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    store = killed.store
    assert store.claim_lease(ROUND_LEASE, "dead:1:abc", now=clock(), ttl=ROUND_TTL, slot=SLOT)
    assert killed.notifier is not None
    killed.notifier.deliver([finding("i-0aaaaaaaaaaaaa000", ALICE)], "r-killed")  # then -9

    clock.now = MONDAY_NOON + timedelta(minutes=1)  # restarted at once: the lease still runs
    early, patrol = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    assert early.catch_up() == {
        "not_run": f"another process has the patrol round of {SLOT} "
        f"(dead:1:abc (until 12:02:00Z)): nothing done here"
    }
    clock.now = MONDAY_NOON + timedelta(minutes=3)
    assert early.catch_up() is not None
    assert channels(slack) == [ALICE, BOB] and patrol.runs == 1


def test_a_slot_that_ran_to_its_end_is_not_run_again(database: str, slack: FakeSlack) -> None:
    clock = Clock(MONDAY_NOON)
    first, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    assert "not_run" not in first.run_round()

    clock.now = MONDAY_NOON + timedelta(minutes=3)  # a restart, and its start-up check
    restarted, patrol = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    assert restarted.catch_up() is None
    clock.now = MONDAY_NOON + timedelta(minutes=30)  # a `scan --notify` in between
    assert restarted.run().result is not None
    clock.now = MONDAY_NOON + timedelta(hours=1, minutes=5)
    assert restarted.hourly()["unfinished_round"] is None
    assert patrol.runs == 1  # the on-demand round only
    assert channels(slack) == [ALICE, BOB]


def test_an_on_demand_round_does_not_finish_a_slot_cut_short(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_NOON)
    stopped, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    sigterm_after_first_digest(stopped)
    stopped.run_round()
    clock.now = MONDAY_NOON + timedelta(minutes=2)
    other, patrol = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    assert other.run().result is not None  # `scan --notify`: it reaches Bob too
    clock.now = MONDAY_NOON + timedelta(minutes=3)
    caught_up = other.catch_up()
    assert caught_up is not None and "not_run" not in caught_up  # the slot itself still ran
    assert patrol.runs == 2 and channels(slack) == [ALICE, BOB]


def test_two_replicas_starting_at_once_catch_up_once(database: str, slack: FakeSlack) -> None:
    clock = Clock(MONDAY_NOON)
    stopped, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    sigterm_after_first_digest(stopped)
    stopped.run_round()

    clock.now = MONDAY_NOON + timedelta(minutes=3)
    replicas = [replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON) for _ in range(2)]
    start = threading.Barrier(2)

    def begin(rounds: Rounds) -> None:
        start.wait()
        rounds.catch_up()

    threads = [threading.Thread(target=begin, args=(rounds,)) for rounds, _ in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(patrol.runs for _, patrol in replicas) == 1
    assert channels(slack) == [ALICE, BOB]


def test_a_slot_older_than_the_grace_is_left_to_the_next_one(
    database: str, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_NOON)
    stopped, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    sigterm_after_first_digest(stopped)
    stopped.run_round()
    clock.now = MONDAY_NOON + MISFIRE_GRACE + timedelta(minutes=1)
    late, patrol = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    assert late.catch_up() is None and patrol.runs == 0


def test_a_job_run_late_names_the_slot_it_fired_for(database: str, slack: FakeSlack) -> None:
    clock = Clock(MONDAY_NOON)
    first, _ = replica(database, slack, clock, cron=WEEKDAYS_NOON)
    first.run_round()
    clock.now = MONDAY_NOON + timedelta(minutes=3)  # a replica whose scheduler was held up
    late, patrol = replica(database, slack, clock, cron=WEEKDAYS_NOON)
    assert late.run_round() == {
        "not_run": f"the patrol round of {SLOT} already ran: nothing done here"
    }
    assert patrol.runs == 0


def test_the_due_slot_is_read_in_the_schedule_zone_and_named_in_utc() -> None:
    clock = Clock(datetime(2024, 3, 4, 8, 30, tzinfo=UTC))  # 09:30 in Paris
    rounds = Rounds(
        FixedRound(clock),  # type: ignore[arg-type]
        None,
        store=Store.in_memory(),
        holder="h",
        clock=clock,
        schedule=cron_trigger("0 9 * * 1-5", "Europe/Paris"),
    )
    assert rounds.due_slot() == "2024-03-04T08:00Z"
    clock.now = datetime(2024, 3, 4, 7, 59, tzinfo=UTC)  # 08:59 in Paris: Friday's is too old
    assert rounds.due_slot() is None


def test_one_process_never_runs_two_rounds_at_once(database: str, slack: FakeSlack) -> None:
    """The scheduled job and the start-up catch-up fire together: one lease holder, one round."""
    clock = Clock(MONDAY_NOON)
    rounds, patrol = replica(database, slack, clock, cron=WEEKDAYS_NOON)
    patrol.gate = threading.Event()
    running = threading.Thread(target=rounds.run_round)
    running.start()
    assert patrol.started.wait(10)
    assert rounds.catch_up() == {"not_run": "a patrol round is under way here: nothing more done"}
    patrol.gate.set()
    running.join(10)
    assert patrol.runs == 1 and channels(slack) == [ALICE]


def test_a_digest_posted_but_not_recorded_before_a_kill_is_not_posted_again(
    database: str, slack: FakeSlack
) -> None:
    """Killed between Alice's chat.postMessage and marking it sent: the catch-up leaves her
    digest to the outbox, which finds it in her DM's history instead of posting it again."""
    clock = Clock(MONDAY_NOON)
    killed, _ = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    store = killed.store
    assert store.claim_lease(ROUND_LEASE, "dead:1:abc", now=clock(), ttl=ROUND_TTL, slot=SLOT)

    def kill(*args: object, **kwargs: object) -> bool:
        raise SystemExit  # kill -9 right after the post

    store.digest_sent = kill  # type: ignore[method-assign]
    assert killed.notifier is not None
    with pytest.raises(SystemExit):
        killed.notifier.deliver([finding("i-0aaaaaaaaaaaaa000", ALICE)], "r-killed")
    assert channels(slack) == [ALICE]

    clock.now = MONDAY_NOON + timedelta(minutes=3)
    restarted, patrol = replica(database, slack, clock, (ALICE, BOB), cron=WEEKDAYS_NOON)
    caught_up = restarted.catch_up()
    assert caught_up is not None and patrol.runs == 1
    assert channels(slack) == [ALICE, BOB]
    clock.now = MONDAY_NOON + timedelta(hours=1, minutes=5)
    assert restarted.hourly() == {
        "deferred": {
            "sent": 0,
            "found_already_sent": 1,
            "waiting": 0,
            "failed": 0,
            "given_up": 0,
        },
        "unfinished_round": None,
    }
    assert channels(slack) == [ALICE, BOB]
