"""Who may use the bot: full members by default; guests and other organisations only when the
policy lists them; the policy's narrower lists; and a per-person limit on lookups. Through the
real Bolt app with signed requests (tests/slack/conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from bot.core.answers import LookupAnswer
from bot.core.policy import Policy, SlackPolicy
from bot.core.refs import parse
from bot.slack.access import LookupLimit
from bot.store import Store
from bot.wiring import build
from tests.fake_slack import FakeSlack
from tests.slack.conftest import (
    ACCOUNT,
    ASKER,
    INSTANCE,
    FakeLookups,
    Harness,
    bert_jan_fact,
    no_aws,
    serving,
    slack_settings,
)

GUEST, EXTERNAL, MEMBER, ADMIN = "U0GUEST01", "U0OTHER01", "U0MEMBER1", "U0ADMIN01"
ALLOWED_CHANNEL, OTHER_CHANNEL = "C0ALLOWED", "C0CHAN001"


@contextlib.contextmanager
def harness_for(fake: FakeSlack, **slack: Any) -> Iterator[Harness]:
    services = build(
        slack_settings(fake, policy=Policy(slack=SlackPolicy(admins=(ADMIN,), **slack))),
        store=Store.in_memory(),
        lookups=FakeLookups(),
        aws=no_aws,
        account_id=lambda: ACCOUNT,
    )
    with serving(services) as base_url:
        harness = Harness(fake, services, services.lookups, base_url)
        harness.lookups.add(LookupAnswer(ref=parse(INSTANCE), fact=bert_jan_fact()))
        yield harness


@pytest.fixture
def people(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.add_user("guest@example.com", GUEST, "guest", kind="guest")
    fake_slack.add_user("them@other.example", EXTERNAL, "them", kind="external")
    fake_slack.add_user("member@example.com", MEMBER, "member")
    fake_slack.add_user("admin@example.com", ADMIN, "admin", kind="guest")
    return fake_slack


def ask(harness: Harness, user: str, channel: str = OTHER_CHANNEL) -> str:
    """/whocreated as `user`; what the ack said."""
    reply, _ = harness.command_as(user, INSTANCE, channel=channel)
    assert reply.status == 200
    return reply.body


def test_guests_and_other_organisations_are_refused_by_default(people: FakeSlack) -> None:
    with harness_for(people) as harness:
        assert "Guests cannot use whocreated" in ask(harness, GUEST)
        assert "other organisations" in ask(harness, EXTERNAL)
        assert "Looking up" in ask(harness, MEMBER)
        assert "Looking up" in ask(harness, ADMIN)  # an admin always may, guest or not
        harness.services.executor.shutdown(wait=True)
        assert len(harness.lookups.calls) == 2  # nothing ran for the refused ones


def test_a_refused_person_cannot_press_buttons_either(people: FakeSlack) -> None:
    with harness_for(people) as harness:
        reply, key = harness.click("nudge_keep", "n1:keep", user=GUEST, channel="D0GUEST01")
        assert reply.status == 200
        answer = harness.fake.wait_for_response(key)
        assert "Guests cannot use whocreated" in answer["text"]
        assert harness.fake.calls_to("views.open") == []


def test_the_allowed_lists_let_in_only_whom_they_name(people: FakeSlack) -> None:
    people.add_usergroup("S0PLATFRM", [EXTERNAL])
    with harness_for(people, allowed_users=(GUEST,), allowed_groups=("S0PLATFRM",)) as harness:
        assert "Looking up" in ask(harness, GUEST)  # listed: a guest the admins chose
        assert "Looking up" in ask(harness, EXTERNAL)  # through the group
        assert "not among the people allowed" in ask(harness, MEMBER)


def test_the_command_answers_only_in_the_allowed_channels(people: FakeSlack) -> None:
    with harness_for(people, allowed_channels=(ALLOWED_CHANNEL,)) as harness:
        assert f"only in <#{ALLOWED_CHANNEL}>" in ask(harness, MEMBER, OTHER_CHANNEL)
        assert "Looking up" in ask(harness, MEMBER, ALLOWED_CHANNEL)


def test_when_slack_cannot_say_who_it_is_the_request_is_refused(people: FakeSlack) -> None:
    with harness_for(people) as harness:
        people.fail_next("users.info", "ratelimited")
        assert "try again in a minute" in ask(harness, MEMBER)
        assert "Looking up" in ask(harness, MEMBER)  # Slack answers again: let in


def test_one_person_gets_ten_lookups_a_minute_and_a_kind_word(people: FakeSlack) -> None:
    with harness_for(people, lookups_per_minute=3) as harness:
        answers = [ask(harness, MEMBER) for _ in range(4)]
        assert all("Looking up" in text for text in answers[:3])
        assert "You have asked 3 times in the last minute: please wait" in answers[3]
        assert "Looking up" in ask(harness, ASKER)  # someone else is not held up


def test_the_limit_forgets_after_a_minute() -> None:
    now = [1000.0]
    limit = LookupLimit(lambda: 2, monotonic=lambda: now[0])
    assert limit.wait_for("U1") == 0 and limit.wait_for("U1") == 0
    now[0] += 20
    assert limit.wait_for("U1") == pytest.approx(40)
    now[0] += 40
    assert limit.wait_for("U1") == 0
