"""A `scan --notify` killed with -9 right after Slack accepted a digest, then run again: the digest
was recorded before it was posted, the restart finds it in the DM's history (by the digest id in
its metadata) instead of sending it twice, and the first message's buttons work."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core.decisions import Action, action_id
from bot.deciding import STALE
from bot.store import Store, digests_table, leases
from bot.wiring import AwsClients, build
from tests.fake_slack import FakeSlack
from tests.processes import SLACK_IDS, World, world
from tests.slack.conftest import FakeLookups, Harness, serving, slack_settings

ALICE, BOB = SLACK_IDS["alice"], SLACK_IDS["bob"]
ACCOUNT = "123456789012"  # moto's


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}") as made:
        yield made


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        element["value"]
        for block in message["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("value")
    ]


def later(store: Store, minutes: int) -> None:
    """As if the restart came `minutes` later: the dead process's leases have run out and its
    last post is older than the outbox waits for an answer."""
    shift = timedelta(minutes=minutes)
    with store.engine.begin() as conn:
        for row in conn.execute(sa.select(leases)).all():
            conn.execute(
                leases.update()
                .where(leases.c.name == row.name)
                .values(expires_at=_utc(row.expires_at) - shift)
            )
        for row in conn.execute(sa.select(digests_table)).all():
            if row.attempted_at is not None:
                conn.execute(
                    digests_table.update()
                    .where(digests_table.c.id == row.id)
                    .values(attempted_at=_utc(row.attempted_at) - shift)
                )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_killed_between_post_and_record_then_restarted(sandbox: World) -> None:
    made = sandbox.idle_addresses({"alice": 2, "bob": 1})
    # The first digest is accepted by Slack, and its answer never comes back.
    sandbox.slack.stall_next("chat.postMessage", 60)

    first = sandbox.spawn("scan", "--notify")
    [accepted] = sandbox.slack.wait_for_call("chat.postMessage", 1, timeout=60)
    first.send_signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL

    store = sandbox.store()
    [pending] = store.pending_digests()
    owner = str(accepted.params["channel"])
    assert (pending.target, pending.attempts) == (owner, 1)  # written before the post
    landed = [
        (channel, ts)
        for (channel, ts), meta in sandbox.slack.metadata.items()
        if meta["event_payload"]["digest_id"] == pending.id
    ]
    assert len(landed) == 1

    later(store, 3)
    again = sandbox.spawn("scan", "--notify")
    assert again.wait(120) == 0, sandbox.output(1)

    assert sandbox.digests_to() == {ALICE: 1, BOB: 1}  # no second DM to anyone
    assert store.pending_digests() == []
    assert store.get_digest(pending.id).message_ts == landed[0][1]
    owned = made["alice" if owner == ALICE else "bob"]
    for nudge in store.open_nudges():
        if nudge.resource_id in owned:
            assert (nudge.channel, nudge.message_ts, nudge.times_sent) == (*landed[0], 1)

    # The first message's buttons point at nudges the store knows: they work.
    message = sandbox.slack.message(*landed[0])
    release = next(v for v in buttons(message) if v.endswith(":release"))
    harness = _harness_on(store, sandbox.slack)
    with serving(harness.services) as base_url:
        harness.base_url = base_url
        reply, key = harness.click(
            action_id(Action.RELEASE),
            release,
            user=owner,
            channel=landed[0][0],
            message_ts=landed[0][1],
            blocks=message["blocks"],
        )
        assert reply.status == 200
        told = json.dumps(sandbox.slack.wait_for_response(key, timeout=30))
    assert STALE not in told
    assert "Dry run: I would have released" in told


def _harness_on(store: Store, slack: FakeSlack) -> Harness:
    """The real Bolt app on the same store, its AWS the world's moto (this process's)."""
    settings = slack_settings(slack, aws_region="us-east-1")
    lookups = FakeLookups()
    services = build(
        settings, store=store, aws=AwsClients(), lookups=lookups, account_id=lambda: ACCOUNT
    )
    return Harness(slack, services, lookups, "")
