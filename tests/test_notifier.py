"""One digest per owner per round, in their hours; nothing twice; unknown owners and escalations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.core.decisions import actions_for
from bot.core.policy import Nudges, Policy, SlackPolicy
from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, Cost, Finding, Owner, Resource, Verdict
from bot.notifier import Notifier, weekly_stats
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


def test_owners_outside_their_working_hours_are_deferred(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    delivery = notifier(slack, store, clock).deliver(
        [finding("i-0ccccccccccccccc1", CAROL)], "round-1"
    )
    assert posts(slack) == []
    assert delivery.deferred == {CAROL: 1}
    assert store.open_nudges() == []  # nothing recorded: the next round tries again


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


def test_auto_stop_is_announced_then_done_and_audited(slack: FakeSlack) -> None:
    store, clock = Store.in_memory(), Clock(MONDAY_NOON)
    stopped: list[str] = []
    note = notifier(slack, store, clock, renudge_days=1, auto_stop_after=2)

    def auto_stop(found: Finding) -> tuple[str, str]:
        stopped.append(found.resource.id)
        return f"would stop {found.resource.id}", "dry-run"

    note.auto_stop = auto_stop
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    note.deliver(findings, "round-1")
    assert "stopped" in json.dumps(blocks_of(posts(slack)[0])).lower()
    for _ in range(2):
        clock.now += timedelta(days=1)
        note.deliver(findings, "round-n")
    assert stopped == ["i-0aaaaaaaaaaaaaaa1"]
    [row] = [r for r in store.audit_since(MONDAY_NOON) if r.action == "auto_stop"]
    assert row.dry_run is True and row.resource_id == "i-0aaaaaaaaaaaaaaa1"


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
