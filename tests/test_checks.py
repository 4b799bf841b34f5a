"""`whocreated check`: what is in place and what is missing, with the exit codes of DESIGN §3."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from slack_sdk import WebClient

from bot.checks import NEEDED_SLACK_SCOPES, run_checks
from bot.config import Settings
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.wiring import AwsClients
from tests.fake_slack import BOT_TOKEN, FakeSlack

MANIFEST = Path(__file__).parents[1] / "manifest.yml"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSlack, CloudTrailServer]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    slack = FakeSlack()
    with CloudTrailServer() as trail, mock_aws():
        yield slack, trail
    slack.close()


def check(slack: FakeSlack, trail: CloudTrailServer, **settings: object) -> tuple[int, str]:
    values = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": "xapp-1",
        "aws_region": "us-east-1",
        **settings,
    }
    out = io.StringIO()
    code = run_checks(
        Settings(**values),  # type: ignore[arg-type]
        out,
        aws=AwsClients(boto3.Session(), endpoints={"cloudtrail": trail.endpoint_url}),
        web_client=WebClient(token=BOT_TOKEN, base_url=slack.url),
    )
    return code, out.getvalue()


def test_everything_in_place(world: tuple[FakeSlack, CloudTrailServer]) -> None:
    code, report = check(*world)
    assert code == 0, report
    assert "ok    cloudtrail:LookupEvents" in report
    assert "everything whocreated needs is in place" in report


def test_lookup_events_denied_is_exit_3_and_named(
    world: tuple[FakeSlack, CloudTrailServer],
) -> None:
    slack, trail = world
    trail.deny("us-east-1")
    code, report = check(slack, trail)
    assert code == 3
    assert re.search(r"FAIL  cloudtrail:LookupEvents: AccessDenied\w*: needed for", report)


def test_missing_configuration_is_exit_2(world: tuple[FakeSlack, CloudTrailServer]) -> None:
    code, report = check(*world, aws_region=None, slack_app_token=None)
    assert code == 2
    assert "FAIL  AWS region" in report
    assert "SLACK_SIGNING_SECRET" in report


def test_a_refused_token_is_exit_3(world: tuple[FakeSlack, CloudTrailServer]) -> None:
    slack, trail = world
    slack.fail_next("auth.test", "invalid_auth")
    code, report = check(slack, trail)
    assert code == 3
    assert "Slack refused the token: invalid_auth" in report


def test_the_manifest_asks_for_exactly_the_scopes_check_expects() -> None:
    text = MANIFEST.read_text()
    bot_section = text.split("bot:", 1)[1].split("settings:", 1)[0]
    scopes = re.findall(r"^\s+- ([a-z.:]+)", bot_section, flags=re.MULTILINE)
    assert tuple(scopes) == NEEDED_SLACK_SCOPES
    assert "app_home_opened" in text
