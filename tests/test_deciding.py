"""Decisions left `acting` by a process that died are settled at the next start by looking at the
resource: what happened is recorded as done, what did not as failed (the nudge open again), and
the person who clicked is told. A live replica's decisions in progress are left alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws
from slack_sdk import WebClient

from bot.aws.operations import Operations
from bot.core import resources as rt
from bot.core.policy import Actions, Policy
from bot.core.resources import Resource
from bot.deciding import Decisions
from bot.leases import INSTANCE_PREFIX
from bot.registry.patrol import PATROL
from bot.store import Store
from tests.fake_slack import BOT_TOKEN, FakeSlack

REGION = "us-east-1"
ACCOUNT = "123456789012"
ALICE = "U0ALICE001"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("alice@example.com", ALICE, "Alice", tz="UTC")
    yield fake
    fake.close()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def client_for(service: str, region: str) -> object:
    return boto3.client(service, region_name=region)


def decisions(store: Store, slack: FakeSlack) -> Decisions:
    policy = Policy(actions=Actions(mode="enabled"))
    client = WebClient(token=BOT_TOKEN, base_url=slack.url)
    return Decisions(
        store=store,
        operations=lambda: Operations(client_for, policy.actions, PATROL.by_type),
        client=lambda: client,
        policy=lambda: policy,
        clock=lambda: datetime.now(UTC),
        holder="restarted:1:aaa",
    )


def instance() -> Resource:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    made = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    return Resource(rt.EC2_INSTANCE, made, REGION, ACCOUNT, name="web-1", state="running")


def test_an_action_that_went_through_before_the_crash_is_recorded_done(
    aws: None, slack: FakeSlack
) -> None:
    store = Store.in_memory()
    web = instance()
    nudge = store.create_nudge(web, owner_slack_user=ALICE, sent_at=datetime.now(UTC))
    store.begin_decision(
        nudge.id, "terminate", by=ALICE, holder="dead:1:abc", now=datetime.now(UTC)
    )
    boto3.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[web.id])

    assert decisions(store, slack).settle_leftovers() == 1

    [decision] = store.decisions_for(nudge.id)
    assert (decision.state, decision.outcome) == ("done", "done")
    assert store.get_nudge(nudge.id).status == "terminated"
    [row] = store.audit_since(datetime.now(UTC) - timedelta(minutes=1))
    assert (row.action, row.outcome, row.slack_user) == ("terminate", "done", ALICE)
    [told] = slack.calls_to("chat.postMessage")
    assert told.params["channel"] == ALICE
    assert "went through while I was restarting" in told.params["text"]


def test_a_live_replicas_action_in_progress_is_left_alone(aws: None, slack: FakeSlack) -> None:
    store = Store.in_memory()
    nudge = store.create_nudge(instance(), owner_slack_user=ALICE, sent_at=datetime.now(UTC))
    now = datetime.now(UTC)
    store.claim_lease(INSTANCE_PREFIX + "alive:2:def", "alive:2:def", now=now, ttl=timedelta(1))
    store.begin_decision(nudge.id, "terminate", by=ALICE, holder="alive:2:def", now=now)

    assert decisions(store, slack).settle_leftovers() == 0
    assert store.get_nudge(nudge.id).status == "acting"
    assert slack.calls_to("chat.postMessage") == []
