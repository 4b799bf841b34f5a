"""One digest per owner per round, in their hours; nothing twice; unknown owners and escalations."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.aws.operations import Outcome
from bot.core.decisions import Action
from bot.core.policy import Actions, Nudges, Policy, SlackPolicy
from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, Cost, Finding, Owner, Resource, Verdict
from bot.deciding import Decisions
from bot.notifier import Notifier, weekly_stats
from bot.registry.patrol import actions_for
from bot.store import Store
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.conftest import assert_valid_blocks

# Monday 12:00 UTC: working hours in Amsterdam (13:00), not in Los Angeles (04:00).
MONDAY_NOON = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL = "U0ALICE01", "U0BOB0001", "U0CAROL01"
FALLBACK = "C0FALLBACK"


def finding(resource_id: str, owner: str | None, cost: float | None = 50.0) -> Finding:
    kind = EC2_INSTANCE if resource_id.startswith("i-") else EBS_VOLUME
    state = "running" if kind == EC2_INSTANCE else "available"
    resource = Resource(kind, resource_id, "eu-west-1", "123456789012", state=state)
    return Finding(
        resource=resource,
        verdict=Verdict(idle=True, reasons=("max CPU 0.4 % over 7 days",)),
        owner=Owner(
            aws_name=owner and owner.lower(), source="cloudtrail", slack_user=owner, verified=True
        )
        if owner
        else Owner(aws_name=None, source="none", reason="no creation event in 90 days"),
        cost=Cost(cost),
        actions=tuple(a.value for a in actions_for(kind, state)),
    )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("alice@example.com", ALICE, "Alice", tz="Europe/Amsterdam")
    fake.add_user("bob@example.com", BOB, "Bob", tz="Europe/London")
    fake.add_user("carol@example.com", CAROL, "Carol", tz="America/Los_Angeles")
    yield fake
    fake.close()


def notifier(slack: FakeSlack, store: Store, clock: Clock, **nudges: object) -> Notifier:
    policy = Policy(
        nudges=Nudges(**nudges) if nudges else Nudges(),
        slack=SlackPolicy(fallback_channel=FALLBACK),
    )
    client = WebClient(token=BOT_TOKEN, base_url=slack.url)
    return Notifier(store=store, client=client, policy=policy, clock=clock)


def posts(slack: FakeSlack) -> list[dict]:
    return [call.params for call in slack.calls_to("chat.postMessage")]


def blocks_of(params: dict) -> list[dict]:
    blocks = params["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def test_each_owner_gets_exactly_one_digest_with_exactly_their_resources(
    slack: FakeSlack,
) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    findings = [
        finding("i-0aaaaaaaaaaaaaaa1", ALICE, 120.0),
        finding("vol-0aaaaaaaaaaaaaaa2", ALICE, 8.0),
        finding("i-0bbbbbbbbbbbbbbb1", BOB, 30.0),
    ]
    delivery = notifier(slack, store, clock).deliver(findings, "round-1")

    sent = {params["channel"]: params for params in posts(slack)}
    assert set(sent) == {ALICE, BOB}
    alice = json.dumps(blocks_of(sent[ALICE]))
    assert "i-0aaaaaaaaaaaaaaa1" in alice and "vol-0aaaaaaaaaaaaaaa2" in alice
    assert "i-0bbbbbbbbbbbbbbb1" not in alice
    for params in sent.values():
        assert_valid_blocks(blocks_of(params))
    assert (delivery.digests, delivery.resources_nudged) == (2, 3)
    assert {n.owner_slack_user for n in store.open_nudges()} == {ALICE, BOB}
    assert all(n.channel and n.channel.startswith("D") for n in store.open_nudges())


def test_a_second_round_inside_the_interval_sends_nothing(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-1")
    clock.now += timedelta(days=1)
    # A new Notifier, as after a restart: only the store remembers.
    again = notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-2")
    assert len(posts(slack)) == 1
    assert again.waiting == 1 and again.digests == 0

    clock.now += timedelta(days=3)
    later = notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-3")
    assert later.digests == 1
    [nudge] = store.open_nudges()
    assert nudge.times_sent == 2  # the same nudge, re-sent: its buttons keep working


def test_owners_outside_their_working_hours_get_their_digest_when_their_day_starts(
    slack: FakeSlack,
) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)  # 04:00 in Los Angeles
    note = notifier(slack, store, clock)
    delivery = note.deliver([finding("i-0ccccccccccccccc1", CAROL)], "round-1")
    assert posts(slack) == []
    assert delivery.deferred == {CAROL: 1}
    [waiting] = store.pending_digests()  # in the store, not in memory: a restart keeps it
    assert (waiting.target, waiting.attempts) == (CAROL, 0)

    clock.now += timedelta(hours=2)  # 06:00 there
    assert note.retry().waiting == 1 and posts(slack) == []
    clock.now += timedelta(hours=3)  # 09:00 there
    restarted = notifier(slack, store, clock)  # a new process: only the store remembers
    assert restarted.retry().sent == 1
    [params] = posts(slack)
    assert params["channel"] == CAROL
    assert restarted.retry().sent == 0 and store.pending_digests() == []
    [nudge] = store.open_nudges()
    assert nudge.times_sent == 1 and nudge.channel == slack.dm_channel(CAROL)


def test_a_newer_round_replaces_a_digest_still_waiting_for_working_hours(
    slack: FakeSlack,
) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    note = notifier(slack, store, clock)
    note.deliver([finding("i-0ccccccccccccccc1", CAROL)], "round-1")
    [waiting] = store.pending_digests()
    [first] = store.open_nudges()

    clock.now += timedelta(hours=5)  # Carol's day has started; a round comes before the retry
    both = [finding("i-0ccccccccccccccc1", CAROL), finding("i-0ccccccccccccccc2", CAROL)]
    delivery = note.deliver(both, "round-2")

    [params] = posts(slack)  # one digest, not the old one and then the new one
    assert "i-0ccccccccccccccc2" in json.dumps(blocks_of(params))
    assert delivery.digests == 1 and note.retry().sent == 0
    assert store.get_digest(waiting.id).status == "superseded"
    assert first.id in {nudge.id for nudge in store.open_nudges()}  # the same nudge, carried


def test_a_post_that_times_out_after_slack_took_it_is_not_sent_again(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    impatient = WebClient(token=BOT_TOKEN, base_url=slack.url, timeout=0.5)
    note = notifier(slack, store, clock)
    note.client = note.outbox.client = impatient
    slack.stall_next("chat.postMessage", 2.0)  # the first owner's post: accepted, answer lost

    delivery = note.deliver(
        [finding("i-0aaaaaaaaaaaaaaa1", ALICE, 90.0), finding("i-0bbbbbbbbbbbbbbb1", BOB, 10.0)],
        "round-1",
    )

    assert [params["channel"] for params in posts(slack)] == [ALICE, BOB]  # Bob still got his
    assert delivery.digests == 1 and delivery.failed == [ALICE]
    [pending] = store.pending_digests()
    assert pending.target == ALICE and pending.attempts == 1

    note.retry()  # at once: the post may still be on its way, so it is left alone
    assert len(posts(slack)) == 2
    clock.now += timedelta(minutes=2)
    flushed = note.retry()  # the hourly retry: the DM's history says it arrived
    assert (flushed.found, flushed.sent) == (1, 0)
    assert len(posts(slack)) == 2  # never sent twice
    [alice] = [n for n in store.open_nudges() if n.owner_slack_user == ALICE]
    alice_post = slack.calls_to("chat.postMessage")[0]
    landed = [ts for (ch, ts) in slack.messages if ch == slack.dm_channel(ALICE)]
    assert (alice.channel, alice.message_ts, alice.times_sent) == (
        slack.dm_channel(ALICE),
        landed[0],
        1,
    )
    metadata = alice_post.params["metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata == {
        "event_type": "whocreated_digest",
        "event_payload": {"digest_id": pending.id},
    }


def test_a_post_slack_refused_is_sent_again_within_the_hour(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    note = notifier(slack, store, clock)
    slack.fail_next("chat.postMessage", "internal_error")
    delivery = note.deliver([finding("i-0aaaaaaaaaaaaaaa1", ALICE)], "round-1")
    assert delivery.failed == [ALICE] and delivery.digests == 0

    clock.now += timedelta(minutes=5)
    assert note.retry().sent == 1  # not in the DM's history: posted again, once
    assert [params["channel"] for params in posts(slack)] == [ALICE, ALICE]
    assert len([m for (ch, _), m in slack.messages.items() if ch == slack.dm_channel(ALICE)]) == 1
    assert store.pending_digests() == []


def test_a_lost_round_lease_stops_delivery_before_the_next_owner(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    answers = iter([True, False])
    delivery = notifier(slack, store, clock).deliver(
        [finding("i-0aaaaaaaaaaaaaaa1", ALICE), finding("i-0bbbbbbbbbbbbbbb1", BOB)],
        "round-1",
        still_ours=lambda: next(answers),
    )
    assert len(posts(slack)) == 1 and delivery.stopped_early


def test_what_the_round_could_not_ask_is_said_in_the_digest(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    skipped = ["no price: the Pricing API failed (HTTP 500); not asked again this round"]
    notifier(slack, store, clock).deliver(
        [finding("i-0aaaaaaaaaaaaaaa1", ALICE, None)], "round-1", skipped=skipped
    )
    [params] = posts(slack)
    assert_valid_blocks(blocks_of(params))
    assert "no price: the Pricing API failed (HTTP 500)" in json.dumps(blocks_of(params))


def test_after_not_mine_the_next_digest_goes_to_the_new_owner_with_their_own_nudge(
    slack: FakeSlack,
) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    theirs = finding("i-0aaaaaaaaaaaaaaa1", ALICE)  # CloudTrail says Alice made it
    notifier(slack, store, clock, renudge_days=1).deliver([theirs], "round-1")
    [alices] = store.open_nudges()
    store.decide(alices.id, "reassigned", by=ALICE, at=clock.now)
    bobs = store.create_nudge(
        theirs.resource,
        owner_slack_user=BOB,
        sent_at=clock.now,
        details={"reassigned_from": alices.id, "actions": list(theirs.actions)},
    )

    clock.now += timedelta(days=2)
    notifier(slack, store, clock, renudge_days=1).deliver([theirs], "round-2")

    second = posts(slack)[1:]
    assert [params["channel"] for params in second] == [BOB]
    assert bobs.id in json.dumps(blocks_of(second[0])) and alices.id not in json.dumps(second)
    assert store.get_nudge(bobs.id).times_sent == 2


def test_unknown_owners_go_to_the_fallback_channel_with_the_reason(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    delivery = notifier(slack, store, clock).deliver(
        [finding("i-0ddddddddddddddd1", None)], "round-1"
    )
    [params] = posts(slack)
    assert params["channel"] == FALLBACK
    assert "no creation event in 90 days" in json.dumps(blocks_of(params))
    assert delivery.unknown_owner == 1


def test_escalation_after_n_unanswered_nudges(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    for round_number in range(3):
        notifier(slack, store, clock, renudge_days=1, escalate_after=2).deliver(
            findings, f"round-{round_number}"
        )
        clock.now += timedelta(days=1)
    channels = [params["channel"] for params in posts(slack)]
    assert channels == [ALICE, ALICE, ALICE, FALLBACK]
    assert f"<@{ALICE}>" in json.dumps(blocks_of(posts(slack)[-1]))


class StopOperations:
    """Operations.perform for auto-stop: records what it was asked, answers as moto's would."""

    def __init__(self, summary: str) -> None:
        self.summary = summary
        self.asked: list[tuple[str, bool]] = []

    def perform(
        self, action: Action, key: tuple[str, ...], *, dry_run: bool, **_: object
    ) -> Outcome:
        self.asked.append((key[3], dry_run))
        if dry_run:
            return Outcome(
                done=False, dry_run=True, summary=f"Dry run: I would have {self.summary}"
            )
        return Outcome(done=True, summary=self.summary)


def auto_stopping(
    slack: FakeSlack, store: Store, clock: Clock, operations: StopOperations, *, enabled: bool
) -> Notifier:
    note = notifier(slack, store, clock, renudge_days=1, auto_stop_after=2)
    note.policy = dataclasses.replace(
        note.policy, actions=Actions(mode="enabled" if enabled else "dry-run")
    )
    decisions = Decisions(
        store=store,
        operations=lambda: operations,  # type: ignore[arg-type, return-value]
        client=lambda: note.client,
        policy=lambda: note.policy,
        clock=clock,
        holder="test",
    )
    note.auto_stop = decisions.auto_stop
    return note


def test_auto_stop_in_dry_run_says_so_and_leaves_the_nudge_open(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    operations = StopOperations("stopped web <!channel> in eu-west-1.")
    note = auto_stopping(slack, store, clock, operations, enabled=False)
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    note.deliver(findings, "round-1")
    assert "stopped" in json.dumps(blocks_of(posts(slack)[0])).lower()  # announced ahead
    for _ in range(2):
        clock.now += timedelta(days=1)
        note.deliver(findings, "round-n")

    assert operations.asked == [("i-0aaaaaaaaaaaaaaa1", True)]
    [nudge] = store.open_nudges()
    assert nudge.status == "open"  # Keep still works: not "already stopped"
    [row] = [r for r in store.audit_since(MONDAY_NOON) if r.action == "auto_stop"]
    assert row.dry_run is True and row.outcome == "dry-run"
    notice = posts(slack)[-1]["text"]
    assert "&lt;!channel&gt;" in notice and "<!channel>" not in notice  # AWS text escaped
    clock.now += timedelta(hours=2)
    note.deliver(findings, "round-again")  # the same day: not said again every round
    assert operations.asked == [("i-0aaaaaaaaaaaaaaa1", True)]


def test_auto_stop_enabled_is_recorded_around_the_aws_call(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    operations = StopOperations("Stopped web in eu-west-1.")
    note = auto_stopping(slack, store, clock, operations, enabled=True)
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    for _ in range(3):
        note.deliver(findings, "round-n")
        clock.now += timedelta(days=1)

    assert operations.asked == [("i-0aaaaaaaaaaaaaaa1", False)]
    [nudge] = [n for n in store.open_nudges()] or [None]
    assert nudge is None
    [decision] = store.decisions_for(store.last_nudge_for(findings[0].resource.key).id)
    assert (decision.action, decision.state, decision.by) == ("auto_stop", "done", None)
    assert store.last_nudge_for(findings[0].resource.key).status == "stopped"
    [row] = [r for r in store.audit_since(MONDAY_NOON) if r.action == "auto_stop"]
    assert (row.dry_run, row.outcome) == (False, "done")
    assert "so I stopped it" in posts(slack)[-1]["text"]


def test_a_claimed_owner_who_never_answers_gets_nothing_stopped(slack: FakeSlack) -> None:
    """Owner=<@…> written by anyone allowed ec2:CreateTags routes the digest, but ignoring it
    must not make the bot stop the resource: it is escalated to admins instead."""
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    operations = StopOperations("Stopped web in eu-west-1.")
    note = auto_stopping(slack, store, clock, operations, enabled=True)
    claimed = dataclasses.replace(
        finding("i-0aaaaaaaaaaaaaaa1", ALICE),
        owner=Owner(aws_name="U0ALICE01", source="tag:Owner", slack_user=ALICE, verified=False),
    )
    for _ in range(3):
        note.deliver([claimed], "round-n")
        clock.now += timedelta(days=1)

    assert operations.asked == []
    assert store.last_nudge_for(claimed.resource.key).status == "open"
    assert not any("stopped" in json.dumps(blocks_of(post)).lower() for post in posts(slack))


def test_weekly_summary_counts_decisions_and_the_cost_removed(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    note = notifier(slack, store, clock)
    note.policy = Policy(slack=SlackPolicy(summary_channel="C0SUMMARY"))
    note.deliver(
        [finding("i-0aaaaaaaaaaaaaaa1", ALICE, 120.0), finding("i-0bbbbbbbbbbbbbbb1", BOB, 30.0)],
        "round-1",
    )
    decided = {"i-0aaaaaaaaaaaaaaa1": "terminate", "i-0bbbbbbbbbbbbbbb1": "keep"}
    for nudge in store.open_nudges():
        store.add_audit(
            at=clock.now,
            slack_user=nudge.owner_slack_user,
            action=decided[nudge.resource_id],
            key=nudge.key,
            dry_run=False,
            outcome="done",
            nudge_id=nudge.id,
        )
    stats = weekly_stats(store, clock.now - timedelta(days=7))
    assert stats.done == {"terminate": 1, "keep": 1}
    assert stats.monthly_usd_removed == 120.0  # a keep removes nothing

    assert note.weekly_summary() is True
    [summary] = [p for p in posts(slack) if p["channel"] == "C0SUMMARY"]
    assert_valid_blocks(blocks_of(summary))
    assert "terminat" in json.dumps(blocks_of(summary)).lower()
