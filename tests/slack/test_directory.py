"""AWS identity → Slack user, against the fake Slack Web API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.config import DirectorySettings, Settings
from bot.core.events import Actor
from bot.slack.app import build_web_client
from bot.slack.directory import SlackDirectory
from tests.fake_slack import BOT_TOKEN, FakeSlack

ALICE_ARN = "arn:aws:iam::123456789012:user/alice"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack()
    server.add_user("alice@example.com", "U0ALICE01")
    server.add_user("carol@corp.example", "U0CAROL01")
    yield server
    server.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def directory(fake: FakeSlack, clock: Clock, **settings: object) -> SlackDirectory:
    client = WebClient(token=BOT_TOKEN, base_url=fake.url)
    return SlackDirectory(client, DirectorySettings(**settings), clock=clock)


def user(name: str | None, arn: str | None = None, kind: str = "IAMUser", **extra: str) -> Actor:
    return Actor(identity_type=kind, arn=arn, name=name, account="123456789012", **extra)


def test_the_mapping_file_wins_by_arn_or_name(fake: FakeSlack, clock: Clock) -> None:
    people = directory(
        fake, clock, users={ALICE_ARN: "U0MAPPED1", "bob": "U0MAPPED2"}, email_domain="example.com"
    )

    assert people.slack_user(user("alice", ALICE_ARN)) == "U0MAPPED1"
    assert people.slack_user(user("bob")) == "U0MAPPED2"
    assert fake.calls_to("users.lookupByEmail") == []


def test_an_sso_session_named_by_email_is_looked_up(fake: FakeSlack, clock: Clock) -> None:
    people = directory(fake, clock)
    sso = user(
        "Carol@corp.example",
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/Carol@corp.example",
        kind="AssumedRole",
        role="AWSReservedSSO_Admin_0123",
    )

    assert people.slack_user(sso) == "U0CAROL01"
    [call] = fake.calls_to("users.lookupByEmail")
    assert call.params["email"] == "carol@corp.example"


def test_a_plain_name_uses_the_email_domain(fake: FakeSlack, clock: Clock) -> None:
    assert directory(fake, clock, email_domain="example.com").slack_user(user("alice")) == (
        "U0ALICE01"
    )
    assert directory(fake, clock).slack_user(user("alice")) is None  # no domain: no guess


def test_root_and_services_are_never_guessed(fake: FakeSlack, clock: Clock) -> None:
    people = directory(fake, clock, email_domain="example.com")

    assert people.slack_user(user("root", kind="Root")) is None
    service = user("rds.amazonaws.com", kind="AWSService", invoked_by="rds.amazonaws.com")
    assert people.slack_user(service) is None
    assert people.slack_user(user(None)) is None
    assert fake.calls_to("users.lookupByEmail") == []


def test_hits_are_cached(fake: FakeSlack, clock: Clock) -> None:
    people = directory(fake, clock, email_domain="example.com")

    assert people.slack_user(user("alice")) == "U0ALICE01"
    clock.now += timedelta(hours=1)
    assert people.slack_user(user("alice")) == "U0ALICE01"
    assert len(fake.calls_to("users.lookupByEmail")) == 1
    clock.now += timedelta(days=1)  # past the hit TTL: asked again
    assert people.slack_user(user("alice")) == "U0ALICE01"
    assert len(fake.calls_to("users.lookupByEmail")) == 2


def test_misses_are_cached_for_a_shorter_time(fake: FakeSlack, clock: Clock) -> None:
    people = directory(fake, clock, email_domain="example.com")

    assert people.slack_user(user("dave")) is None  # users_not_found
    assert people.slack_user(user("dave")) is None
    assert len(fake.calls_to("users.lookupByEmail")) == 1
    fake.add_user("dave@example.com", "U0DAVE001")  # dave joins Slack
    clock.now += timedelta(minutes=20)
    assert people.slack_user(user("dave")) == "U0DAVE001"
    assert len(fake.calls_to("users.lookupByEmail")) == 2


def test_missing_scope_warns_once_and_never_raises(
    fake: FakeSlack, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    people = directory(fake, clock, email_domain="example.com")
    fake.fail_next("users.lookupByEmail", "missing_scope")
    fake.fail_next("users.lookupByEmail", "missing_scope")

    with caplog.at_level(logging.WARNING, logger="bot.slack.directory"):
        assert people.slack_user(user("alice")) is None
        assert people.slack_user(user("erin")) is None

    warnings = [r for r in caplog.records if "users:read.email" in r.getMessage()]
    assert len(warnings) == 1
    assert BOT_TOKEN not in caplog.text


def test_an_unreachable_slack_is_a_miss_with_a_warning(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeSlack()
    url = fake.url
    fake.close()  # nothing listens there any more
    client = WebClient(token=BOT_TOKEN, base_url=url, timeout=2, retry_handlers=[])
    people = SlackDirectory(client, DirectorySettings(email_domain="example.com"), clock=clock)

    with caplog.at_level(logging.WARNING, logger="bot.slack.directory"):
        assert people.slack_user(user("alice")) is None

    assert "could not reach Slack" in caplog.text


def test_a_rate_limited_lookup_is_retried_by_the_bots_client(fake: FakeSlack, clock: Clock) -> None:
    client = build_web_client(Settings(slack_bot_token=BOT_TOKEN, slack_api_url=fake.url))
    people = SlackDirectory(client, DirectorySettings(email_domain="example.com"), clock=clock)
    fake.rate_limit_once("users.lookupByEmail")

    assert people.slack_user(user("alice")) == "U0ALICE01"
    assert len(fake.calls_to("users.lookupByEmail")) == 2
