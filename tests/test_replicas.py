"""Replicas on one real PostgreSQL: two `whocreated serve` whose schedulers fire the same slot, and
two `scan --notify` started together, give exactly one digest per owner and one open nudge per
resource. Real processes, as deployed; the world (moto, CloudTrail, Slack) is the test's."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient

from bot.core.policy import Policy
from bot.notifier import Notifier
from bot.store import Store, nudges
from tests.fake_slack import BOT_TOKEN
from tests.postgres import own_schema
from tests.processes import SLACK_IDS, World, eventually, free_port, stop, world
from tests.slack.conftest import fetch
from tests.test_notifier import MONDAY_NOON, finding

POSTGRES_URL = os.environ.get("WHOCREATED_TEST_POSTGRES_URL")
ALICE, BOB, CAROL = SLACK_IDS["alice"], SLACK_IDS["bob"], SLACK_IDS["carol"]

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="WHOCREATED_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL)"
)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[World]:
    assert POSTGRES_URL is not None
    with own_schema(POSTGRES_URL) as url, world(tmp_path, url, cron="* * * * *") as made:
        yield made


def open_nudges_per_resource(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(nudges.c.resource_id, sa.func.count())
            .where(nudges.c.status == "open")
            .group_by(nudges.c.resource_id)
        ).all()
    return {row[0]: row[1] for row in rows}


def test_two_scan_notify_started_together_send_one_digest_per_owner(sandbox: World) -> None:
    made = sandbox.idle_addresses({"alice": 3, "bob": 2, "carol": 1})

    both = [sandbox.spawn("scan", "--notify") for _ in range(2)]
    codes = [process.wait(120) for process in both]

    assert codes == [0, 0], sandbox.output(0) + sandbox.output(1)
    assert sandbox.digests_to() == {ALICE: 1, BOB: 1, CAROL: 1}
    store = sandbox.store()
    every = [address for addresses in made.values() for address in addresses]
    assert open_nudges_per_resource(store) == dict.fromkeys(every, 1)
    said = [sandbox.output(n) for n in range(2)]
    lost = [out for out in said if "whocreated: another patrol round is running" in out]
    assert len(lost) == 1  # the one that lost said so, in one line, and did nothing
    assert "nothing done here" in lost[0]


def test_two_serve_replicas_firing_the_same_slot_run_one_round(sandbox: World) -> None:
    made = sandbox.idle_addresses({"alice": 2, "bob": 2})
    ports = [free_port(), free_port()]
    replicas = [sandbox.spawn("serve", PORT=str(port)) for port in ports]
    try:
        for port in ports:
            eventually(lambda port=port: _healthy(port), timeout=60)
        # Both are up: the next minute is a slot both schedulers fire.
        sandbox.slack.wait_for_call("chat.postMessage", 2, timeout=90)
        eventually(
            lambda: any("has the patrol round of" in sandbox.output(n) for n in range(2)),
            timeout=30,
        )
    finally:
        codes = [stop(process) for process in replicas]

    assert codes == [0, 0], sandbox.output(0) + sandbox.output(1)
    assert sandbox.digests_to() == {ALICE: 1, BOB: 1}
    every = [address for addresses in made.values() for address in addresses]
    assert open_nudges_per_resource(sandbox.store()) == dict.fromkeys(every, 1)


def _healthy(port: int) -> bool:
    try:
        return fetch(f"http://127.0.0.1:{port}/healthz").status == 200
    except OSError:
        return False


@pytest.fixture
def missed_slot(tmp_path: Path) -> Iterator[World]:
    """Patrol rounds daily at a minute two minutes ago: that slot is due and never ran."""
    assert POSTGRES_URL is not None
    due = datetime.now(UTC) - timedelta(minutes=2)
    with own_schema(POSTGRES_URL) as url, world(tmp_path, url, cron=f"{due:%M %H} * * *") as made:
        yield made


def test_two_serve_replicas_starting_together_run_an_unfinished_slot_once(
    missed_slot: World,
) -> None:
    """No round of the slot ran to its end (a `scan --notify` since does not count): both
    replicas look for it at start, one runs it. Alice, reached by the scan, gets nothing more;
    Bob, whose address is newer, gets his digest once."""
    sandbox = missed_slot
    sandbox.idle_addresses({"alice": 2})
    assert sandbox.spawn("scan", "--notify").wait(120) == 0, sandbox.output(0)
    assert sandbox.digests_to() == {ALICE: 1}
    made = sandbox.idle_addresses({"bob": 2})

    ports = [free_port(), free_port()]
    replicas = [sandbox.spawn("serve", PORT=str(port)) for port in ports]
    try:
        sandbox.slack.wait_for_call("chat.postMessage", 2, timeout=90)
        eventually(
            lambda: all("unfinished patrol round done" in sandbox.output(n) for n in (1, 2)),
            timeout=60,
        )
    finally:
        codes = [stop(process) for process in replicas]

    assert codes == [0, 0], sandbox.output(1) + sandbox.output(2)
    assert sandbox.digests_to() == {ALICE: 1, BOB: 1}
    ran = [n for n in (1, 2) if "unfinished patrol round done: {'round_id'" in sandbox.output(n)]
    assert len(ran) == 1, sandbox.output(1) + sandbox.output(2)
    assert open_nudges_per_resource(sandbox.store()).keys() >= set(made["bob"])


def test_without_the_lease_the_unique_key_still_allows_one_open_nudge(sandbox: World) -> None:
    """Two deliveries of one round's findings at the same moment, bypassing the round lease,
    each process with its own engine: one digest per owner all the same."""
    for user in ("alice", "bob"):
        sandbox.slack.add_user(f"{user}@example.com", SLACK_IDS[user], user, tz="UTC")
    findings = [
        finding("i-0aaaaaaaaaaaaaaa1", ALICE),
        finding("i-0aaaaaaaaaaaaaaa2", ALICE),
        finding("i-0bbbbbbbbbbbbbbb1", BOB),
    ]
    policy = Policy()
    start = threading.Barrier(2)

    def deliver() -> None:
        client = WebClient(token=BOT_TOKEN, base_url=sandbox.slack.url)
        store = sandbox.store()  # its own engine, as another replica has
        notifier = Notifier(store=store, client=client, policy=policy, clock=lambda: MONDAY_NOON)
        start.wait()
        notifier.deliver(findings, "round-1", respect_hours=False)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sandbox.digests_to() == {ALICE: 1, BOB: 1}
    assert open_nudges_per_resource(sandbox.store()) == {
        "i-0aaaaaaaaaaaaaaa1": 1,
        "i-0aaaaaaaaaaaaaaa2": 1,
        "i-0bbbbbbbbbbbbbbb1": 1,
    }
