"""A whole patrol round over a seeded fleet of several owners, then delivery to Slack.

moto holds the account (EC2, EBS, CloudWatch data seeded with put_metric_data); LookupEvents is
the stand-in at the wire; Slack is the fake Web API. A price table stands in for the Pricing API,
which moto lacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from moto import mock_aws
from slack_sdk import WebClient

from bot.aws.accounts import AccountAccess
from bot.aws.bulk_trail import BulkCreators
from bot.aws.limiter import RegionRateLimiter
from bot.aws.pricing import PriceBook
from bot.aws.tagging import Tagger
from bot.cli import main
from bot.config import DirectorySettings
from bot.core.created_by import TagSigner
from bot.core.policy import Nudges, Policy, SlackPolicy
from bot.core.resources import EC2_INSTANCE, Cost, Resource
from bot.notifier import Notifier
from bot.owners import OwnerResolver
from bot.patrol import Patrol
from bot.registry.patrol import PATROL
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.sandbox.failing_api import FailingServer
from bot.sandbox.metrics_api import MetricsServer
from bot.slack.directory import SlackDirectory
from bot.store import Store
from bot.wiring import AwsClients
from tests.creator_records import allocate_address, create_volume
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.conftest import assert_valid_blocks
from tests.trail_support import run_instances

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
AMI = "ami-12c6146b"  # one of moto's built-in images
SLACK_IDS = {"alice": "U0ALICE001", "bob": "U0BOB00001", "carol": "U0CAROL001"}
FALLBACK = "C0FALLBACK"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def next_monday_noon(after: datetime) -> datetime:
    day = (after + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


class PriceTable:
    """The Pricing API's answer for what this fleet holds (moto has no Pricing API)."""

    PRICES: ClassVar[dict[str, float]] = {EC2_INSTANCE: 70.08}

    def monthly_cost(self, resource: Resource, faults: object = None) -> Cost:
        price = self.PRICES.get(resource.type)
        return Cost(price, "on-demand") if price else Cost(None, "no price in this test")


@dataclass
class Fleet:
    ids: dict[str, str]
    clock: Clock
    clients: AwsClients
    trail: CloudTrailServer
    slack: FakeSlack
    store: Store


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    created = datetime.now(UTC)
    clock = Clock(next_monday_noon(created + timedelta(days=8)))
    with (
        mock_aws(),
        CloudTrailServer(clock=clock, throttle_rate=None) as trail,
    ):
        slack = FakeSlack()
        for name, user_id in SLACK_IDS.items():
            slack.add_user(f"{name}@example.com", user_id, name.title(), tz="UTC")
        ids = seed(trail, clock, created)
        clients = AwsClients(boto3.Session(), endpoints={"cloudtrail": trail.endpoint_url})
        yield Fleet(ids, clock, clients, trail, slack, Store.in_memory())
        slack.close()


def seed(trail: CloudTrailServer, clock: Clock, created: datetime) -> dict[str, str]:
    """Who made what: alice two idle things, bob one idle and one busy instance, carol an idle
    instance she kept, dave an excluded one, and one idle instance nobody's events explain."""
    ec2 = boto3.client("ec2", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    ids: dict[str, str] = {}
    plan = {
        "alice-idle": ("alice", 0.4, {}),
        "bob-idle": ("bob", 0.8, {}),
        "bob-busy": ("bob", 85.0, {}),
        "carol-kept": ("carol", 0.2, {}),
        "dave-excluded": ("dave", 0.1, {"whocreated:ignore": "true"}),
        "nobody-idle": (None, 0.3, {}),
    }
    for label, (user, cpu, tags) in plan.items():
        spec: dict[str, Any] = {"ImageId": AMI, "MinCount": 1, "MaxCount": 1}
        all_tags = {"Name": label, **tags}
        spec["TagSpecifications"] = [
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
            }
        ]
        instance = ec2.run_instances(**spec)["Instances"][0]
        ids[label] = instance["InstanceId"]
        if user:
            trail.add(
                run_instances(
                    instance["InstanceId"], created, image_id=AMI, region=REGION, user=user
                )
            )
        put_cpu(cloudwatch, instance["InstanceId"], cpu, clock.now)
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=100, VolumeType="gp3")
    ids["alice-volume"] = volume["VolumeId"]
    trail.add(create_volume(volume["VolumeId"], created, "alice", region=REGION))
    return ids


def put_cpu(cloudwatch: Any, instance_id: str, percent: float, now: datetime) -> None:
    points = [
        {
            "MetricName": "CPUUtilization",
            "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
            "Timestamp": now - timedelta(hours=hour),
            "Value": percent,
            "Unit": "Percent",
        }
        for hour in range(1, 7 * 24, 6)
    ]
    for start in range(0, len(points), 20):
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=points[start : start + 20])


SIGNER = TagSigner(b"patrol-test-key-0123456789abcdef")
MALLORY = "U0MALLORY1"


def patrol_for(
    fleet: Fleet, *, prices: Any = None, clients: AwsClients | None = None
) -> tuple[Patrol, Notifier]:
    policy = Policy(
        regions=(REGION,),
        slack=SlackPolicy(fallback_channel=FALLBACK),
        nudges=Nudges(renudge_days=3),
    )
    web = WebClient(token=BOT_TOKEN, base_url=fleet.slack.url)
    directory = SlackDirectory(
        web, DirectorySettings(email_domain="example.com"), clock=fleet.clock
    )
    limiter = RegionRateLimiter()
    clients = clients or fleet.clients
    owners = OwnerResolver(
        store=fleet.store,
        bulk=BulkCreators(clients, limiter, clock=fleet.clock, account_id=lambda: ACCOUNT),
        directory=directory,
        policy=policy,
        clock=fleet.clock,
        tagger=Tagger(clients, PATROL.by_type),
        signer=SIGNER,
    )
    patrol = Patrol(
        policy=policy,
        store=fleet.store,
        accounts=lambda: [AccountAccess(ACCOUNT, clients)],
        owners=owners,
        prices=prices or PriceTable(),
        clock=fleet.clock,
        default_regions=(REGION,),
        signer=SIGNER,
    )
    notifier = Notifier(store=fleet.store, client=web, policy=policy, clock=fleet.clock)
    return patrol, notifier


def digests_by_channel(slack: FakeSlack) -> dict[str, str]:
    sent: dict[str, str] = {}
    for call in slack.calls_to("chat.postMessage"):
        blocks = call.params.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        assert_valid_blocks(blocks)
        assert call.params["channel"] not in sent, "one digest per owner per round"
        sent[call.params["channel"]] = json.dumps(blocks)
    return sent


def test_a_round_finds_idle_resources_names_owners_and_sends_one_digest_each(
    fleet: Fleet,
) -> None:
    ids = fleet.ids
    carol_kept = (ACCOUNT, REGION, EC2_INSTANCE, ids["carol-kept"])
    fleet.store.put_keep(
        carol_kept,
        until=fleet.clock.now + timedelta(days=7),
        reason="demo",
        by="U0CAROL001",
        at=fleet.clock.now,
    )
    patrol, notifier = patrol_for(fleet)

    result = patrol.run()

    idle_ids = {f.resource.id for f in result.findings}
    assert idle_ids == {ids["alice-idle"], ids["alice-volume"], ids["bob-idle"], ids["nobody-idle"]}
    owners = {f.resource.id: f.owner for f in result.findings}
    assert owners[ids["alice-idle"]].slack_user == SLACK_IDS["alice"]
    assert owners[ids["alice-volume"]].slack_user == SLACK_IDS["alice"]
    assert owners[ids["bob-idle"]].slack_user == SLACK_IDS["bob"]
    assert owners[ids["nobody-idle"]].source == "none"
    reasons = {f.resource.id: " ".join(f.verdict.reasons) for f in result.findings}
    assert "CPU" in reasons[ids["alice-idle"]]
    summary = result.summary()
    assert (summary["kept"], summary["excluded"]) == (1, 1)
    assert summary["busy"] == 7  # bob's busy instance and the six root volumes in use
    assert summary["unpriced"] == 1  # the volume: no price given, none invented
    # CloudTrail in bulk: one page per creation event name, not one lookup per resource.
    assert fleet.trail.calls() <= 3

    delivery = notifier.deliver(result.findings, result.round_id)

    sent = digests_by_channel(fleet.slack)
    assert set(sent) == {SLACK_IDS["alice"], SLACK_IDS["bob"], FALLBACK}
    assert ids["alice-idle"] in sent[SLACK_IDS["alice"]]
    assert ids["alice-volume"] in sent[SLACK_IDS["alice"]]
    assert ids["bob-idle"] not in sent[SLACK_IDS["alice"]]
    assert ids["bob-idle"] in sent[SLACK_IDS["bob"]]
    assert ids["bob-busy"] not in sent[SLACK_IDS["bob"]]
    assert ids["nobody-idle"] in sent[FALLBACK]
    for hidden in ("carol-kept", "dave-excluded"):
        assert all(ids[hidden] not in text for text in sent.values())
    assert delivery.digests == 2

    # The next round, a day later: still idle, but inside the re-nudge interval.
    fleet.clock.now += timedelta(days=1)
    before = len(fleet.slack.calls_to("chat.postMessage"))
    again = patrol.run()
    assert {f.resource.id for f in again.findings} == idle_ids
    notifier.deliver(again.findings, again.round_id)
    assert len(fleet.slack.calls_to("chat.postMessage")) == before


def test_a_round_with_the_pricing_api_failing_asks_it_once_and_says_no_price(
    fleet: Fleet,
) -> None:
    with FailingServer(service="pricing") as pricing_down:
        clients = AwsClients(
            boto3.Session(),
            endpoints={
                "cloudtrail": fleet.trail.endpoint_url,
                "pricing": pricing_down.endpoint_url,
            },
        )
        patrol, notifier = patrol_for(fleet, prices=PriceBook(clients, PATROL), clients=clients)

        result = patrol.run()
        asked = pricing_down.requests("GetProducts")

    assert len(result.findings) == 5  # every idle one (none kept in this test)
    assert asked <= 2  # one call and its retry, for a round of any size
    assert all(f.cost.monthly_usd is None for f in result.findings)
    [note] = [n for n in result.notes if "Pricing" in n]
    assert note.startswith("no price: the Pricing API failed (HTTP 500 InternalFailure)")
    assert result.skipped == [note]

    notifier.deliver(result.findings, result.round_id, skipped=result.skipped)
    owners_digests = {
        channel: text
        for channel, text in digests_by_channel(fleet.slack).items()
        if channel != FALLBACK
    }
    assert len(owners_digests) == 3  # alice, bob, and carol (nothing kept here)
    for text in owners_digests.values():
        assert "no price: the Pricing API failed" in text


def test_getmetricdata_denied_is_a_round_note_not_silence(fleet: Fleet) -> None:
    with MetricsServer() as metrics:
        metrics.deny_after(0)
        clients = AwsClients(
            boto3.Session(),
            endpoints={"cloudtrail": fleet.trail.endpoint_url, "cloudwatch": metrics.endpoint_url},
        )
        patrol, _ = patrol_for(fleet, clients=clients)
        result = patrol.run()

    assert result.summary()["not_judged"] > 0
    assert any(
        note.startswith(f"not judged: CloudWatch GetMetricData failed in {ACCOUNT}/{REGION}")
        and "AccessDenied" in note
        for note in result.notes
    )


def test_the_creator_is_written_back_as_a_tag(fleet: Fleet) -> None:
    patrol, _ = patrol_for(fleet)
    patrol.run()
    ec2 = boto3.client("ec2", region_name=REGION)
    tags = ec2.describe_tags(
        Filters=[{"Name": "resource-id", "Values": [fleet.ids["alice-idle"]]}]
    )["Tags"]
    written = {tag["Key"]: tag["Value"] for tag in tags}
    assert written["whocreated:created-by"].startswith("alice ")
    key = (ACCOUNT, REGION, EC2_INSTANCE, fleet.ids["alice-idle"])
    read = SIGNER.read_created_by(key, written["whocreated:created-by"])
    assert read is not None and read.signed and read.slack_user == SLACK_IDS["alice"]


def tag(instance_id: str, key: str, value: str) -> None:
    boto3.client("ec2", region_name=REGION).create_tags(
        Resources=[instance_id], Tags=[{"Key": key, "Value": value}]
    )


def test_only_a_keep_until_tag_the_bot_signed_keeps_a_resource(fleet: Fleet) -> None:
    """A hand-written whocreated:keep-until must not hide a resource from every round, and no
    keep lasts beyond the policy's max_keep_days."""
    ids, now = fleet.ids, fleet.clock.now
    tag(ids["nobody-idle"], "whocreated:keep-until", "2099-01-01T00:00:00Z")
    bob = (ACCOUNT, REGION, EC2_INSTANCE, ids["bob-idle"])
    tag(ids["bob-idle"], "WhoCreated:Keep-Until", SIGNER.keep_until(bob, now + timedelta(days=30)))
    alice = (ACCOUNT, REGION, EC2_INSTANCE, ids["alice-idle"])
    tag(
        ids["alice-idle"],
        "whocreated:keep-until",
        SIGNER.keep_until(alice, now + timedelta(days=900)),
    )
    patrol, _ = patrol_for(fleet)

    result = patrol.run()

    idle = {f.resource.id for f in result.findings}
    assert ids["nobody-idle"] in idle and ids["alice-idle"] in idle
    assert ids["bob-idle"] not in idle and result.summary()["kept"] == 1


def test_an_owner_tag_cannot_take_a_resource_from_its_creator(fleet: Fleet) -> None:
    """mallory tags alice's idle instance and the unexplained one Owner=<@mallory>."""
    ids = fleet.ids
    tag(ids["alice-idle"], "Owner", f"<@{MALLORY}>")
    tag(ids["nobody-idle"], "Owner", f"<@{MALLORY}>")
    fleet.slack.add_user("mallory@example.com", MALLORY, "Mallory", tz="UTC")
    patrol, notifier = patrol_for(fleet)

    result = patrol.run()
    notifier.deliver(result.findings, result.round_id)

    owners = {f.resource.id: f.owner for f in result.findings}
    assert owners[ids["alice-idle"]].slack_user == SLACK_IDS["alice"]
    assert owners[ids["alice-idle"]].verified
    # Nobody else is known for the other one: the claim routes it, and grants nothing.
    claimed = owners[ids["nobody-idle"]]
    assert claimed.slack_user == MALLORY and not claimed.verified
    sent = digests_by_channel(fleet.slack)
    assert ids["alice-idle"] not in sent[MALLORY]
    assert "not verified" in sent[MALLORY] and "nudge_terminate" not in sent[MALLORY]
    nudge = fleet.store.last_nudge_for((ACCOUNT, REGION, EC2_INSTANCE, ids["nobody-idle"]))
    assert nudge is not None and nudge.owner_slack_user == MALLORY and not nudge.owner_verified


def test_scan_command_prints_idle_resources_and_a_summary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "whocreated.toml").write_text(f'[aws]\nregions = ["{REGION}"]\n')
    monkeypatch.chdir(tmp_path)
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}",
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_PROFILE", "SLACK_BOT_TOKEN", "WHOCREATED_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    with CloudTrailServer() as trail, mock_aws():
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
        ec2 = boto3.client("ec2", region_name=REGION)
        address = ec2.allocate_address(Domain="vpc")["AllocationId"]
        trail.add(allocate_address(address, datetime.now(UTC), "alice", region=REGION))

        assert main(["scan", "--json"]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        [finding, summary] = lines
        assert finding["resource"]["id"] == address
        assert finding["owner"]["name"] == "alice"
        # Read-only means read-only: the creator found is not written back as a tag.
        tags = ec2.describe_addresses(AllocationIds=[address])["Addresses"][0].get("Tags", [])
        assert tags == []
        assert finding["monthly_cost"] is None and "no price" in finding["cost_note"]
        assert finding["actions"] == ["keep", "release", "not_mine"]
        assert summary["summary"]["idle"] == 1

        assert main(["scan"]) == 0
        table = capsys.readouterr().out
        assert address in table and "alice" in table

        assert main(["scan", "--notify"]) == 2
        assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(("mode", "tagged"), [("dry-run", False), ("enabled", True)])
def test_scan_notify_writes_tags_only_when_actions_are_enabled(
    mode: str,
    tagged: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    (tmp_path / "whocreated.toml").write_text(
        f'[aws]\nregions = ["{REGION}"]\n[actions]\nmode = "{mode}"\n'
        '[directory]\nemail_domain = "example.com"\n'
        '[nudges]\nworking_hours = "00:00-23:59"\n'
        'working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
    )
    monkeypatch.chdir(tmp_path)
    slack = FakeSlack()
    slack.add_user("alice@example.com", SLACK_IDS["alice"], "Alice", tz="UTC")
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.url,
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_PROFILE", "WHOCREATED_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    try:
        with CloudTrailServer() as trail, mock_aws():
            monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
            ec2 = boto3.client("ec2", region_name=REGION)
            address = ec2.allocate_address(Domain="vpc")["AllocationId"]
            trail.add(allocate_address(address, datetime.now(UTC), "alice", region=REGION))

            assert main(["scan", "--notify"]) == 0

            [dm] = slack.calls_to("chat.postMessage")
            assert dm.params["channel"] == SLACK_IDS["alice"]
            tags = ec2.describe_addresses(AllocationIds=[address])["Addresses"][0].get("Tags", [])
            written = {tag["Key"]: tag["Value"] for tag in tags}
            assert ("whocreated:created-by" in written) is tagged
    finally:
        slack.close()


def _notify_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, slack_url: str, token: str
) -> None:
    (tmp_path / "whocreated.toml").write_text(
        f'[aws]\nregions = ["{REGION}"]\n[directory]\nemail_domain = "example.com"\n'
        '[nudges]\nworking_hours = "00:00-23:59"\n'
        'working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
    )
    monkeypatch.chdir(tmp_path)
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}",
        "SLACK_BOT_TOKEN": token,
        "SLACK_API_URL": slack_url,
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_PROFILE", "WHOCREATED_CONFIG", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize(
    "token",
    ["xapp-1-A0-123-abc", "xoxb-", "xoxb-<token>", "not-a-token"],
)
def test_scan_notify_refuses_a_token_that_is_not_a_bot_token_before_asking_anyone(
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    slack = FakeSlack()
    try:
        _notify_environment(monkeypatch, tmp_path, slack.url, token)
        # No AWS stand-in: a check that reached AWS would be exit 3, not 2.
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        assert main(["scan", "--notify"]) == 2
        captured = capsys.readouterr()
        [line] = captured.err.splitlines()
        assert line.startswith("whocreated: SLACK_BOT_TOKEN ")
        assert "Traceback" not in captured.err and captured.out == ""
        assert slack.calls == []
    finally:
        slack.close()


def test_scan_notify_with_a_token_slack_refuses_is_exit_3_before_the_round(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    slack = FakeSlack()
    slack.add_user("alice@example.com", SLACK_IDS["alice"], "Alice", tz="UTC")
    try:
        _notify_environment(monkeypatch, tmp_path, slack.url, "xoxb-revoked-123")
        with CloudTrailServer() as trail, mock_aws():
            monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
            ec2 = boto3.client("ec2", region_name=REGION)
            address = ec2.allocate_address(Domain="vpc")["AllocationId"]
            trail.add(allocate_address(address, datetime.now(UTC), "alice", region=REGION))

            assert main(["scan", "--notify"]) == 3
            captured = capsys.readouterr()
            assert captured.err.splitlines() == [
                "whocreated: Slack refused the bot token: invalid_auth"
            ]
            assert captured.out == ""
            # Nothing but auth.test was asked: no lookups of owners, no digests.
            assert [call.method for call in slack.calls] == ["auth.test"]
    finally:
        slack.close()


def test_scan_notify_with_slack_unreachable_is_exit_3_before_the_round(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    _notify_environment(monkeypatch, tmp_path, f"http://127.0.0.1:{port}/api/", BOT_TOKEN)
    with CloudTrailServer() as trail, mock_aws():
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
        ec2 = boto3.client("ec2", region_name=REGION)
        address = ec2.allocate_address(Domain="vpc")["AllocationId"]
        trail.add(allocate_address(address, datetime.now(UTC), "alice", region=REGION))

        assert main(["scan", "--notify"]) == 3
        captured = capsys.readouterr()
        [line] = captured.err.splitlines()
        assert line.startswith("whocreated: Slack is unreachable")
        assert captured.out == ""
