"""AWS identity → Slack user, against the fake Slack Web API."""

from __future__ import annotations

import dataclasses
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


SSO_ISSUER = (
    "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
    "AWSReservedSSO_Admin_0123"
)


def session(role: str, name: str, issuer: str | None = None) -> Actor:
    """An assumed-role session as CloudTrail names it (events.actor_of)."""
    return user(
        name,
        f"arn:aws:sts::123456789012:assumed-role/{role}/{name}",
        kind="AssumedRole",
        role=role,
        issuer_arn=issuer or f"arn:aws:iam::123456789012:role/{role}",
    )


def test_an_sso_session_named_by_email_is_looked_up(fake: FakeSlack, clock: Clock) -> None:
    people = directory(fake, clock)
    sso = session("AWSReservedSSO_Admin_0123", "Carol@corp.example", SSO_ISSUER)

    assert people.slack_user(sso) == "U0CAROL01"
    [call] = fake.calls_to("users.lookupByEmail")
    assert call.params["email"] == "carol@corp.example"


# Spoofing: names the caller chooses never make them someone ----------------------------------


@pytest.mark.parametrize(
    "issuer",
    [
        # IAM paths may hold ':': this role's path contains the SSO path without being under it.
        "arn:aws:iam::123456789012:role/x:role/aws-reserved/sso.amazonaws.com/"
        "AWSReservedSSO_Admin_0123",
        # The reserved path in another account (a role the caller's account cannot have).
        "arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
        # Under the path, but not the role the session is of.
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Other_1",
    ],
)
def test_a_look_alike_identity_center_role_is_not_trusted(
    fake: FakeSlack, clock: Clock, issuer: str
) -> None:
    people = directory(fake, clock)
    forged = session("AWSReservedSSO_Admin_0123", "carol@corp.example", issuer)

    assert people.slack_user(forged) is None
    assert fake.calls_to("users.lookupByEmail") == []


def test_a_session_named_like_someones_email_is_nobody(fake: FakeSlack, clock: Clock) -> None:
    """Anyone who may assume a role picks the session name: `ceo@example.com` is only text."""
    people = directory(fake, clock, email_domain="example.com")

    assert people.slack_user(session("ci-deployer", "alice@example.com")) is None
    assert people.slack_user(session("ci-deployer", "alice")) is None  # not alice@example.com
    assert fake.calls_to("users.lookupByEmail") == []


def test_a_role_only_named_like_identity_center_is_nobody(fake: FakeSlack, clock: Clock) -> None:
    """AWSReservedSSO_ is only a name: the reserved path is what IAM Identity Center owns."""
    people = directory(fake, clock)
    fake_sso = session("AWSReservedSSO_Admin_0123", "carol@corp.example")  # issuer path "/"

    assert people.slack_user(fake_sso) is None
    assert people.slack_user(dataclasses.replace(fake_sso, issuer_arn=None)) is None
    assert fake.calls_to("users.lookupByEmail") == []


def test_an_iam_user_mapping_never_matches_a_role_session(fake: FakeSlack, clock: Clock) -> None:
    people = directory(fake, clock, users={"alice": "U0MAPPED1", "user:bob": "U0MAPPED2"})

    assert people.slack_user(user("alice")) == "U0MAPPED1"
    assert people.slack_user(user("bob")) == "U0MAPPED2"
    assert people.slack_user(session("ci-deployer", "alice")) is None
    assert people.slack_user(session("ci-deployer", "bob")) is None


def test_typed_mappings_name_roles_and_identity_center_users(fake: FakeSlack, clock: Clock) -> None:
    people = directory(
        fake,
        clock,
        users={"role:dave-sandbox": "U0DAVE001", "sso:Carol@Corp.Example": "U0MAPPED3"},
    )

    assert people.slack_user(session("dave-sandbox", "any-session-name")) == "U0DAVE001"
    sso = session("AWSReservedSSO_Admin_0123", "carol@corp.example", SSO_ISSUER)
    assert people.slack_user(sso) == "U0MAPPED3"
    assert people.slack_user(session("AWSReservedSSO_Admin_0123", "carol@corp.example")) is None


def test_trusted_session_roles_are_looked_up_by_email(fake: FakeSlack, clock: Clock) -> None:
    """Roles assumed through the identity provider, which sets the session name itself."""
    people = directory(
        fake,
        clock,
        email_domain="example.com",
        trusted_session_roles=("okta-developers",),
    )

    assert people.slack_user(session("okta-developers", "alice@example.com")) == "U0ALICE01"
    assert people.slack_user(session("okta-developers", "alice")) == "U0ALICE01"  # + domain
    assert people.slack_user(session("other-role", "alice@example.com")) is None


def test_an_iam_user_named_like_an_email_counts_only_in_the_domain(
    fake: FakeSlack, clock: Clock
) -> None:
    people = directory(fake, clock, email_domain="example.com")

    assert people.slack_user(user("alice@example.com")) == "U0ALICE01"
    assert people.slack_user(user("carol@corp.example")) is None
    assert directory(fake, clock).slack_user(user("alice@example.com")) is None  # no domain


def test_owner_tag_values_route_by_mention_email_or_name(fake: FakeSlack, clock: Clock) -> None:
    """For claims: a tag's value may name someone to tell; authority is decided elsewhere."""
    people = directory(fake, clock, email_domain="example.com", users={"erin": "U0ERIN001"})

    assert people.claimed_user("<@U0DAVE0001>") == "U0DAVE0001"
    assert people.claimed_user("U0DAVE0001") == "U0DAVE0001"
    assert people.claimed_user("carol@corp.example") == "U0CAROL01"
    assert people.claimed_user("alice") == "U0ALICE01"
    assert people.claimed_user("erin") == "U0ERIN001"
    assert people.claimed_user("data team") is None


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
