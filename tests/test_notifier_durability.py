"""Delivery when things go wrong around it: two rounds at once, on SQLite and a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from tests.fake_slack import FakeSlack
from tests.postgres import postgres_or_skip
from tests.test_notifier import ALICE, MONDAY_NOON, Clock, finding, notifier, posts


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("alice@example.com", ALICE, "Alice", tz="UTC")
    yield fake
    fake.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store each thread reaches on a connection of its own (not the one shared in memory)."""
    if request.param == "sqlite":
        yield Store.open(f"sqlite:///{tmp_path / 'whocreated.sqlite3'}")
        return
    with postgres_or_skip() as url:
        opened = Store.open(url)
        yield opened
        opened.engine.dispose()


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
