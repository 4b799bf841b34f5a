"""SIGTERM while a Terminate is under way, against a real `whocreated serve` in HTTP mode (the
fake Slack, moto behind the bridge with every AWS call slowed down):
- within the grace period, the Terminate completes, is recorded and shown, new requests get 503,
  and the process exits 0;
- with too short a grace period, the clicker is told at once, the process exits 0 all the same,
  and the next start looks at the instance, records the Terminate as not done, opens the nudge
  again and tells the clicker.
"""

from __future__ import annotations

import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from slack_sdk import WebClient

from bot.core import digests
from bot.core import resources as rt
from bot.core.decisions import Action, action_id, button_value
from bot.core.policy import Actions
from bot.core.resources import Cost, Finding, Owner, Resource, Verdict
from bot.registry.patrol import PATROL, actions_for
from bot.store import Nudge, Store
from tests.fake_slack import BOT_TOKEN
from tests.processes import REGION, SLACK_IDS, World, eventually, free_port, world
from tests.slack.conftest import Harness, fetch

ALICE = SLACK_IDS["alice"]
ACCOUNT = "123456789012"  # moto's


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite3'}", mode="enabled") as made:
        made.slack.add_user("alice@example.com", ALICE, "Alice", tz="UTC")
        yield made


def idle_instance(store: Store, sandbox: World) -> tuple[str, Nudge]:
    """A running instance, its nudge for Alice, and the digest message with its buttons."""
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    resource = Resource(
        rt.EC2_INSTANCE, instance_id, REGION, ACCOUNT, name="web-1", state="running"
    )
    finding = Finding(
        resource=resource,
        verdict=Verdict(idle=True, reasons=("max CPU 0.4 % over 7 days",)),
        owner=Owner("alice", "cloudtrail", ALICE, verified=True),
        cost=Cost(40.0),
        actions=tuple(a.value for a in actions_for(rt.EC2_INSTANCE, "running")),
    )
    nudge = store.create_nudge(
        resource,
        owner_slack_user=ALICE,
        sent_at=_now(),
        monthly_cost=40.0,
        details={
            "actions": list(finding.actions),
            "owner_name": "alice",
            "owner_source": "cloudtrail",
            "owner_verified": True,
        },
    )
    blocks = digests.digest_blocks(
        ALICE,
        [(nudge.id, finding)],
        now=_now(),
        dry_run=False,
        max_items=15,
        actions=Actions(mode="enabled"),
        kinds=PATROL,
    )
    posted = WebClient(token=BOT_TOKEN, base_url=sandbox.slack.url).chat_postMessage(
        channel=ALICE, blocks=[block.to_dict() for block in blocks], text="idle"
    )
    store.set_message([nudge.id], posted["channel"], posted["ts"])
    found = store.get_nudge(nudge.id)
    assert found is not None
    return instance_id, found


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def instance_state(instance_id: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])


def serve(sandbox: World, grace: float) -> tuple[Any, Harness]:
    port = free_port()
    process = sandbox.spawn(
        "serve", "--no-scheduler", PORT=str(port), WHOCREATED_GRACE_S=str(grace)
    )
    base = f"http://127.0.0.1:{port}"
    eventually(lambda: _answers(f"{base}/healthz"), timeout=60)
    return process, Harness(sandbox.slack, None, None, base)  # type: ignore[arg-type]


def _answers(url: str) -> bool:
    try:
        return fetch(url).status == 200
    except OSError:
        return False


def press_terminate(harness: Harness, nudge: Nudge) -> str:
    assert nudge.channel and nudge.message_ts
    _, key = harness.click(
        action_id(Action.TERMINATE),
        button_value(nudge.id, Action.TERMINATE),
        user=ALICE,
        channel=nudge.channel,
        message_ts=nudge.message_ts,
    )
    return key


def started(sandbox: World, operation: str) -> bool:
    return sandbox.bridge.call_counts().get(REGION, {}).get(f"ec2:{operation}", 0) > 0


def test_sigterm_during_a_terminate_lets_it_finish_then_exits_0(sandbox: World) -> None:
    store = sandbox.store()
    instance_id, nudge = idle_instance(store, sandbox)
    process, harness = serve(sandbox, grace=20)
    sandbox.bridge.latency = 1.0  # every AWS call takes a second: the Terminate takes several
    sandbox.bridge.reset_counts()

    press_terminate(harness, nudge)
    eventually(lambda: started(sandbox, "DescribeInstances"), timeout=20, every=0.02)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)

    # Intake is closed while it drains: Slack's next request gets 503.
    eventually(lambda: _status(f"{harness.base_url}/slack/events") == 503, timeout=5, every=0.05)
    assert process.wait(30) == 0, sandbox.output(0)
    assert time.monotonic() - signalled < 20  # within the grace period

    assert instance_state(instance_id) in ("shutting-down", "terminated")
    settled = store.get_nudge(nudge.id)
    assert settled is not None and settled.status == "terminated"
    [decision] = store.decisions_for(nudge.id)
    assert (decision.action, decision.state, decision.outcome) == ("terminate", "done", "done")
    [row] = store.audit_since(nudge.first_sent_at)
    assert (row.action, row.outcome, row.slack_user) == ("terminate", "done", ALICE)
    # The clicker is told: the digest row shows what was done.
    [update] = sandbox.slack.calls_to("chat.update")
    assert "Terminated" in str(update.params.get("text"))
    assert "stopped" in sandbox.output(0) and "Traceback" not in sandbox.output(0)


def test_sigterm_with_too_short_a_grace_tells_the_clicker_and_the_restart_settles_it(
    sandbox: World,
) -> None:
    store = sandbox.store()
    instance_id, nudge = idle_instance(store, sandbox)
    process, harness = serve(sandbox, grace=1)
    sandbox.bridge.latency = 4.0  # the first describe alone outlasts the grace period

    key = press_terminate(harness, nudge)
    eventually(lambda: store.acting_decisions() != [], timeout=20, every=0.02)
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0, sandbox.output(0)

    told = str(sandbox.slack.wait_for_response(key, timeout=5))
    assert "I'm restarting in the middle of that" in told
    [left] = store.acting_decisions()  # not done, not forgotten
    assert left.nudge_id == nudge.id

    sandbox.bridge.latency = 0.0
    restarted, _ = serve(sandbox, grace=20)
    try:
        eventually(lambda: store.acting_decisions() == [], timeout=30)
    finally:
        assert _stop(restarted) == 0

    assert instance_state(instance_id) == "running"  # the Terminate never reached AWS
    [decision] = store.decisions_for(nudge.id)
    assert (decision.state, decision.outcome) == ("failed", "failed")
    reopened = store.get_nudge(nudge.id)
    assert reopened is not None and reopened.is_open  # its buttons work again
    dms = [c for c in sandbox.slack.calls_to("chat.postMessage") if c.params["channel"] == ALICE]
    assert "did not finish: I restarted in the middle of it" in str(dms[-1].params["text"])


def _status(url: str) -> int:
    request = urllib.request.Request(url, data=b"payload=%7B%7D", method="POST")
    try:
        return fetch(request).status
    except OSError:
        return 0


def _stop(process: Any) -> int:
    process.send_signal(signal.SIGTERM)
    return int(process.wait(30))
