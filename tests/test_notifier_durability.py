"""Delivery when things go wrong around it: an owner Slack will not let us reach, a digest that
cannot be delivered, two rounds at once, a store that fails while a digest is written. On SQLite
and a real PostgreSQL."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import types
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot import giving_up, outbox
from bot import store as store_module
from bot.notifier import Notifier
from bot.notify_run import notify_round
from bot.store import Store
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.postgres import store_on
from tests.test_notifier import (
    ALICE,
    FALLBACK,
    MONDAY_NOON,
    Clock,
    blocks_of,
    finding,
    notifier,
    posts,
)
from tests.test_rounds import FixedRound

DAVE = "U0DAVE001"
RES = "i-0ddddddddddddddd1"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("alice@example.com", ALICE, "Alice", tz="UTC")
    fake.add_user("dave@example.com", DAVE, "Dave", tz="UTC")
    yield fake
    fake.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store each thread reaches on a connection of its own (not the one shared in memory)."""
    with store_on(request.param, tmp_path / "whocreated.sqlite3") as opened:
        yield opened


def test_two_rounds_at_once_renudge_an_open_nudge_once(slack: FakeSlack, store: Store) -> None:
    clock = Clock(MONDAY_NOON)
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-1")
    clock.now += timedelta(days=4)  # due for a re-nudge
    both_planned = threading.Barrier(2)
    queue = store.queue_digest

    def queue_once_both_planned(**kwargs: Any) -> str:
        both_planned.wait(10)  # each round has read the nudge as it was: not yet carried
        return queue(**kwargs)

    store.queue_digest = queue_once_both_planned  # type: ignore[method-assign]
    deliveries = []
    rounds = [
        threading.Thread(
            target=lambda n=n: deliveries.append(
                notifier(slack, store, clock, renudge_days=3).deliver(findings, f"round-{n}")
            )
        )
        for n in (2, 3)
    ]
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join(30)

    assert len([p for p in posts(slack) if p["channel"] == ALICE]) == 2  # the first, one re-nudge
    assert sorted(d.digests for d in deliveries) == [0, 1]
    assert all(d.failed == [] for d in deliveries)  # the loser left it to the winner, no error
    [nudge] = store.open_nudges()
    assert nudge.times_sent == 2
    assert store.pending_digests() == []  # the loser's digest was never written


def landed(slack: FakeSlack, channel: str) -> int:
    """Messages that arrived in a channel (or a user's DM), not calls made."""
    where = slack.dm_channel(channel) if channel.startswith("U") else channel
    return len([key for key in slack.messages if key[0] == where])


def given_up_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "given up" in r.getMessage()]


# An owner Slack will not let us reach -----------------------------------------------------------


@pytest.mark.parametrize("directory", ["still names dave", "no longer knows dave"])
def test_an_owner_who_left_is_given_up_once_and_their_resources_reach_the_fallback_channel(
    slack: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture, directory: str
) -> None:
    clock = Clock(MONDAY_NOON)
    slack.fail_next("chat.postMessage", "account_inactive")  # Dave left this morning
    with caplog.at_level(logging.WARNING):
        first = notifier(slack, store, clock).deliver([finding(RES, DAVE)], "round-1")

    assert (first.given_up, first.failed, first.digests) == ([DAVE], [], 0)
    assert store.pending_digests() == []  # not retried hourly for ever
    [nudge] = store.open_nudges()
    assert nudge.digest_id is None  # let go: no longer "on its way"
    gone = store.failed_since_sent(DAVE)
    assert gone is not None and (gone.status, gone.failure) == ("failed", "account_inactive")
    [line] = given_up_lines(caplog)  # once, at WARNING, saying why
    assert "account_inactive" in line and DAVE in line
    assert [r.levelno for r in caplog.records if r.levelno >= logging.ERROR] == []

    clock.now += timedelta(hours=1)
    assert notifier(slack, store, clock).retry().summary()["sent"] == 0
    clock.now += timedelta(days=1)
    owner = DAVE if directory == "still names dave" else None
    second = notifier(slack, store, clock).deliver([finding(RES, owner)], "round-2")

    [fallback] = [p for p in posts(slack) if p["channel"] == FALLBACK]
    assert RES in json.dumps(blocks_of(fallback)) and second.unknown_owner == 1
    if owner:
        words = "could not reach u0dave001 (U0DAVE001) in Slack: account_inactive"
        assert words in json.dumps(blocks_of(fallback))
    assert [p["channel"] for p in posts(slack)] == [DAVE, FALLBACK]  # Dave not tried again
    assert len(given_up_lines(caplog)) == 1
    clock.now += timedelta(days=1)
    third = notifier(slack, store, clock).deliver([finding(RES, owner)], "round-3")
    assert third.waiting == 1 and len(posts(slack)) == 2  # the fallback was told: not daily


def test_an_owner_who_left_before_a_retry_is_given_up_at_the_retry(
    slack: FakeSlack, store: Store
) -> None:
    clock = Clock(MONDAY_NOON)
    slack.fail_next("chat.postMessage", "internal_error")
    note = notifier(slack, store, clock)
    assert note.deliver([finding(RES, DAVE)], "round-1").failed == [DAVE]
    del slack.users[DAVE]  # deactivated: conversations.open says user_not_found

    clock.now += timedelta(minutes=5)
    flushed = note.retry()

    assert (flushed.given_up, flushed.failed, flushed.sent) == ([DAVE], [], 0)
    assert store.pending_digests() == [] and store.open_nudges()[0].digest_id is None
    assert store.failed_since_sent(DAVE).failure == "user_not_found"


def test_a_digest_whose_history_cannot_tell_is_given_up_and_the_next_round_nudges_again(
    slack: FakeSlack, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(MONDAY_NOON)
    slack.fail_next("chat.postMessage", "internal_error")
    note = notifier(slack, store, clock, renudge_days=3)
    note.deliver([finding("i-0aaaaaaaaaaaaaaa1", ALICE)], "round-1")
    chatty = WebClient(token=BOT_TOKEN, base_url=slack.url)
    for n in range(3):  # more in the DM since than the history is read for
        chatty.chat_postMessage(channel=ALICE, text=f"hello {n}")
    monkeypatch.setattr(outbox, "HISTORY_PAGE", 1)
    monkeypatch.setattr(outbox, "HISTORY_PAGES", 2)

    clock.now += timedelta(minutes=5)
    assert note.retry().given_up == [ALICE]
    assert landed(slack, ALICE) == 3  # not posted again: it might have arrived
    assert store.failed_since_sent(ALICE).failure == "undecided"

    clock.now += timedelta(days=1)
    again = notifier(slack, store, clock, renudge_days=3).deliver(
        [finding("i-0aaaaaaaaaaaaaaa1", ALICE)], "round-2"
    )
    assert again.digests == 1 and landed(slack, ALICE) == 4  # to Alice: she can be reached


# Bounds on trying --------------------------------------------------------------------------------


def test_a_digest_failing_for_passing_reasons_is_posted_a_bounded_number_of_times(
    slack: FakeSlack, store: Store
) -> None:
    clock = Clock(MONDAY_NOON)
    for _ in range(giving_up.MAX_ATTEMPTS + 2):
        slack.fail_next("chat.postMessage", "internal_error")
    note = notifier(slack, store, clock)
    note.deliver([finding("i-0aaaaaaaaaaaaaaa1", ALICE)], "round-1")
    given_up = []
    for _ in range(giving_up.MAX_ATTEMPTS + 2):
        clock.now += timedelta(minutes=5)
        given_up += note.retry().given_up

    assert given_up == [ALICE]
    assert len(posts(slack)) == giving_up.MAX_ATTEMPTS
    assert store.pending_digests() == [] and store.open_nudges()[0].digest_id is None


def test_a_tried_digest_still_undelivered_a_day_later_is_given_up_not_posted(
    slack: FakeSlack, store: Store
) -> None:
    clock = Clock(MONDAY_NOON)
    slack.fail_next("chat.postMessage", "internal_error")
    note = notifier(slack, store, clock)
    note.deliver([finding("i-0aaaaaaaaaaaaaaa1", ALICE)], "round-1")
    slack.fail_next("conversations.history", "internal_error")
    slack.fail_next("conversations.history", "internal_error")
    clock.now += timedelta(minutes=5)
    assert note.retry().failed == [ALICE]  # history could not be read: tried again later

    clock.now += timedelta(days=1)
    flushed = note.retry()
    assert flushed.given_up == [ALICE] and flushed.sent == 0
    assert len(posts(slack)) == 1 and landed(slack, ALICE) == 0
    assert store.failed_since_sent(ALICE).failure == "expired"


def test_a_digest_pending_longer_than_the_renudge_interval_holds_nothing_back(
    slack: FakeSlack, store: Store
) -> None:
    clock = Clock(MONDAY_NOON)
    slack.fail_next("chat.postMessage", "internal_error")
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-1")
    [stuck] = store.pending_digests()  # and no hourly retry ran (a scan --notify from cron)

    clock.now += timedelta(days=1)
    assert notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-2").waiting == 1
    clock.now += timedelta(days=2)
    later = notifier(slack, store, clock, renudge_days=3).deliver(findings, "round-3")

    assert later.digests == 1 and landed(slack, ALICE) == 1
    [nudge] = store.open_nudges()
    assert nudge.times_sent == 1 and nudge.digest_id != stuck.id
    flushed = notifier(slack, store, clock, renudge_days=3).retry()  # the stale one: not posted
    assert flushed.given_up == [ALICE] and landed(slack, ALICE) == 1
    assert store.get_nudge(nudge.id).digest_id == nudge.digest_id  # the new digest's, kept


# A store that fails while a digest is written --------------------------------------------------


def store_fails(store: Store, times: int) -> None:
    """The store's next `times` digest writes fail as a locked SQLite or a lost connection does."""
    queue = store.queue_digest
    left = [times]

    def failing(**kwargs: Any) -> str:
        if left[0] > 0:
            left[0] -= 1
            raise OperationalError("INSERT INTO digests", {}, Exception("database is locked"))
        return queue(**kwargs)

    store.queue_digest = failing  # type: ignore[method-assign]


def no_pause(note: Notifier) -> Notifier:
    note.outbox.sleep = lambda _seconds: None
    return note


def test_a_store_locked_for_a_moment_is_written_on_a_second_try_in_the_round(
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "busy.sqlite3"
    monkeypatch.setattr(store_module, "SQLITE_BUSY_SECONDS", 0.2)
    store = Store.open(f"sqlite:///{path}")
    holder = sqlite3.connect(path)  # another process, writing
    holder.execute("BEGIN IMMEDIATE")
    note = notifier(slack, store, Clock(MONDAY_NOON))
    note.outbox.sleep = lambda _seconds: holder.rollback()  # it finishes while we wait
    try:
        with caplog.at_level(logging.WARNING):
            delivery = note.deliver([finding("i-0aaaaaaaaaaaaaaa1", ALICE)], "round-1")
    finally:
        holder.close()

    assert (delivery.digests, delivery.failed) == (1, [])
    assert landed(slack, ALICE) == 1 and store.pending_digests() == []
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "locked by another process" in line and "trying once more" in line


def test_a_digest_the_store_would_not_take_is_sent_by_the_hourly_retry(
    slack: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(MONDAY_NOON)
    store_fails(store, 2)  # both tries in the round
    note = no_pause(notifier(slack, store, clock))
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE), finding("i-0ddddddddddddddd1", DAVE)]
    with caplog.at_level(logging.WARNING):
        delivery = note.deliver(findings, "round-1")

    assert (delivery.failed, delivery.digests) == ([ALICE], 1)  # Dave still got his
    assert landed(slack, ALICE) == 0 and len(note.unwritten) == 1
    [said] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert said == (
        f"the digest of {ALICE} was not written (the store is locked by another process): "
        "kept in this process, which tries again within the hour"
    )

    clock.now += timedelta(hours=1)
    assert note.retry().sent == 1
    assert landed(slack, ALICE) == 1 and landed(slack, DAVE) == 1
    alices = [n for n in store.open_nudges() if n.owner_slack_user == ALICE]
    assert [n.times_sent for n in alices] == [1]
    assert note.retry().sent == 0 and len(note.unwritten) == 0  # once


def test_the_retried_digest_leaves_out_what_was_answered_meanwhile(
    slack: FakeSlack, store: Store
) -> None:
    clock = Clock(MONDAY_NOON)
    old, new = finding("i-0aaaaaaaaaaaaaaa1", ALICE), finding("i-0aaaaaaaaaaaaaaa2", ALICE)
    note = no_pause(notifier(slack, store, clock, renudge_days=3))
    note.deliver([old], "round-1")
    clock.now += timedelta(days=4)  # the old one is due again, and there is a new one
    store_fails(store, 2)
    assert note.deliver([old, new], "round-2").failed == [ALICE]
    [nudge] = store.open_nudges()
    clock.now += timedelta(minutes=20)
    assert store.decide(nudge.id, "kept", by=ALICE, at=clock.now)  # from the first digest

    clock.now += timedelta(minutes=40)
    assert note.retry().sent == 1
    retried = json.dumps(blocks_of(posts(slack)[-1]))
    assert "i-0aaaaaaaaaaaaaaa2" in retried and "i-0aaaaaaaaaaaaaaa1" not in retried


def test_a_newer_round_replaces_what_was_kept(slack: FakeSlack, store: Store) -> None:
    clock = Clock(MONDAY_NOON)
    findings = [finding("i-0aaaaaaaaaaaaaaa1", ALICE)]
    note = no_pause(notifier(slack, store, clock))
    store_fails(store, 2)
    note.deliver(findings, "round-1")
    clock.now += timedelta(minutes=30)
    assert note.deliver(findings, "round-2").digests == 1
    clock.now += timedelta(minutes=30)
    assert note.retry().sent == 0 and landed(slack, ALICE) == 1


def test_scan_notify_tries_once_more_before_it_ends_and_says_what_is_lost(
    slack: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(MONDAY_NOON)
    note = no_pause(notifier(slack, store, clock))
    services = types.SimpleNamespace(
        store=store,
        holder="scan-1",
        clock=clock,
        operations=None,
        slack=note.client,
        settings=types.SimpleNamespace(policy=note.policy),
    )
    store_fails(store, 2)  # the round's two tries; the last try before the end works
    notify_round(services, FixedRound(clock, (ALICE,)), note)  # type: ignore[arg-type]
    assert landed(slack, ALICE) == 1

    store_fails(store, 4)  # and now it does not
    clock.now += timedelta(days=1)
    with caplog.at_level(logging.WARNING):
        notify_round(services, FixedRound(clock, (ALICE, DAVE)), note)  # type: ignore[arg-type]
    assert landed(slack, DAVE) == 0 and landed(slack, ALICE) == 1  # hers: nudged yesterday
    assert (
        "1 digest could still not be written to the store and end with this process: "
        "the next round nudges their owners"
    ) in caplog.messages
