"""The whole lookup, as users run it: the terminal and Slack, against CloudTrail at the wire.

EC2 and STS come from moto; LookupEvents from the stand-in server (moto lacks it). Nothing in the
chain from the command to the answer is replaced: config, wiring, the finder, the cache, the CLI or
the real Bolt app.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from waitress import wasyncore

from bot.cli import main
from bot.config import DirectorySettings
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.slack.app import http_server
from bot.store import Store
from bot.wiring import AwsClients, build
from tests.fake_slack import FakeSlack
from tests.slack.conftest import (
    ASKER,
    FakeLookups,
    Harness,
    all_text,
    assert_valid_blocks,
    slack_settings,
)
from tests.trail_support import describe_instances, run_instances

ALICE_SLACK = "U0ALICE01"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CloudTrailServer]:
    """A clean AWS environment: moto for EC2/STS, the stand-in for CloudTrail, no real config."""
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "WHOCREATED_CONFIG", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'state' / 'whocreated.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    with CloudTrailServer() as server, mock_aws():
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", server.endpoint_url)
        yield server


def launch_with_history(server: CloudTrailServer, user: str = "alice") -> str:
    """An instance in moto and the CloudTrail records that match it: its creation, then reads."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    launched = instance["NetworkInterfaces"][0]["Attachment"]["AttachTime"].astimezone(UTC)
    server.add(run_instances(instance["InstanceId"], launched, image_id=image, user=user))
    for _ in range(3):
        server.add(describe_instances(instance["InstanceId"], datetime.now(UTC)))
    return instance["InstanceId"]


def test_terminal_lookup_then_the_cache_answers_without_aws(
    aws: CloudTrailServer, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = launch_with_history(aws)

    assert main(["lookup", instance, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] is True
    assert answer["creator"]["name"] == "alice"
    assert answer["event"]["name"] == "RunInstances"
    assert answer["event"]["tool"] == "AWS CLI"
    # Every enabled region is searched side by side; others may have asked before the answer.
    assert "us-east-1" in answer["regions_searched"]
    assert 1 <= aws.calls("us-east-1") <= 2  # the attach-time hint: one narrow window
    first_calls = aws.calls()

    # Any AWS call now would fail: every endpoint points at a closed port.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", "http://127.0.0.1:9")
    assert main(["lookup", instance, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["creator"] == answer["creator"]
    assert aws.calls() == first_calls


def test_terminal_lookup_of_an_unknown_instance_is_exit_1(
    aws: CloudTrailServer, capsys: pytest.CaptureFixture
) -> None:
    assert main(["lookup", "i-0123456789abcdef0", "--region", "us-east-1", "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] is False
    assert answer["reason"] in {"not_in_window", "not_in_regions"}


def test_terminal_lookup_denied_is_exit_3(
    aws: CloudTrailServer, capsys: pytest.CaptureFixture
) -> None:
    instance = launch_with_history(aws)
    aws.deny("us-east-1")
    assert main(["lookup", instance, "--json"]) == 3
    answer = json.loads(capsys.readouterr().out)
    assert answer["reason"] == "denied"
    assert "cloudtrail:LookupEvents" in answer["note"]


@pytest.fixture
def slack_harness(aws: CloudTrailServer) -> Iterator[Harness]:
    fake = FakeSlack()
    fake.add_user("asker@example.com", ASKER, "Asker")
    settings = slack_settings(
        fake, directory=DirectorySettings(users={"alice": ALICE_SLACK}), aws_region="us-east-1"
    )
    services = build(settings, store=Store.in_memory(), aws=AwsClients())
    server = http_server(services.app, 0, host="127.0.0.1")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield Harness(fake, services, FakeLookups(), f"http://127.0.0.1:{server.effective_port}")
    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError:
        server.close()  # the loop already closed its trigger
    thread.join(5)
    server.task_dispatcher.shutdown()
    services.executor.shutdown(wait=True, cancel_futures=True)
    fake.close()


def test_slash_command_answers_from_cloudtrail_and_mentions_the_creator(
    aws: CloudTrailServer, slack_harness: Harness
) -> None:
    instance = launch_with_history(aws)

    reply, key = slack_harness.command(instance)
    assert reply.status == 200

    response: dict[str, Any] = slack_harness.fake.wait_for_response(key, timeout=20)
    assert response["response_type"] == "ephemeral"
    assert_valid_blocks(response["blocks"])
    text = all_text(response["blocks"])
    assert f"<@{ALICE_SLACK}>" in text
    assert "RunInstances" in text
    assert "us-east-1" in text
    assert aws.calls() >= 1


def test_forged_request_gets_401_and_causes_no_aws_call(
    aws: CloudTrailServer, slack_harness: Harness
) -> None:
    instance = launch_with_history(aws)
    reply, _ = slack_harness.command(instance, secret="not-the-signing-secret")
    assert reply.status == 401
    stale, _ = slack_harness.command(instance, timestamp=1_600_000_000)
    assert stale.status == 401
    assert aws.calls() == 0
