"""Who may use the bot: full members by default; guests and other organisations only when the
policy lists them; the policy's narrower lists; and a per-person limit on lookups. Through the
real Bolt app with signed requests (tests/slack/conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.core.answers import LookupAnswer
from bot.core.policy import Policy, SlackPolicy
from bot.core.refs import parse
from bot.sandbox import slack_api
from bot.slack.access import Access, LookupLimit
from bot.slack.admins import Admins
from bot.slack.user_groups import UserGroups
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


@pytest.fixture
def connect_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Slack Connect member in a channel shared with the app: users.info gives their own team
    and no is_stranger (Slack sets it only for people in no shared channel with us), so only the
    team comparison can refuse them."""
    original = slack_api.User.profile

    def profile(self: slack_api.User) -> dict[str, Any]:
        data = original(self)
        data.pop("is_stranger", None)
        return data

    monkeypatch.setattr(slack_api.User, "profile", profile)


@pytest.mark.usefixtures("connect_user")
def test_our_team_is_the_one_start_up_learnt_so_a_failing_auth_test_lets_nobody_in(
    people: FakeSlack,
) -> None:
    with harness_for(people) as harness:
        asked = len(people.calls_to("auth.test"))  # start-up's, made by Bolt
        people.fail_next("auth.test", "internal_error")
        assert "other organisations" in ask(harness, EXTERNAL)
        assert "Looking up" in ask(harness, MEMBER)
        assert len(people.calls_to("auth.test")) == asked  # nothing asked again


class NoAuthTest:
    """users.info answers; auth.test fails, as when Slack has a bad minute."""

    def __init__(self, user: dict[str, Any]) -> None:
        self.user = user
        self.auth_tests = 0

    def users_info(self, user: str) -> dict[str, Any]:
        return {"ok": True, "user": self.user}

    def auth_test(self) -> dict[str, Any]:
        self.auth_tests += 1
        if self.auth_tests == 1:
            raise SlackApiError("internal_error", {"ok": False, "error": "internal_error"})
        return {"ok": True, "team_id": slack_api.TEAM_ID}


def access_with(client: Any) -> Access:
    policy = SlackPolicy()
    return Access(
        lambda: client,
        lambda: policy,
        admins=Admins(lambda: client, lambda: policy),
        groups=UserGroups(lambda: client),
    )


def test_when_our_own_team_is_unknown_nobody_is_let_in_by_default() -> None:
    external = {"id": EXTERNAL, "team_id": slack_api.OTHER_TEAM_ID}
    client = NoAuthTest(external)
    access = access_with(client)

    refusal = access.refusal(EXTERNAL)  # no team from Bolt, and auth.test fails

    assert refusal is not None
    assert "could not check" in refusal and "try again" in refusal
    assert "other organisations" in str(access.refusal(EXTERNAL))  # Slack answers again
    assert client.auth_tests == 2  # a failure is not remembered as our team


def test_the_team_bolt_gives_is_used_without_asking_slack() -> None:
    client = NoAuthTest({"id": MEMBER, "team_id": slack_api.TEAM_ID})
    access = access_with(client)

    assert access.refusal(MEMBER, home=(slack_api.TEAM_ID, None)) is None
    assert "other organisations" in str(access.refusal(MEMBER, home=("T0ELSEWHR", None)))
    assert client.auth_tests == 0


def test_one_person_gets_ten_lookups_a_minute_and_a_kind_word(people: FakeSlack) -> None:
    with harness_for(people, lookups_per_minute=3) as harness:
        answers = [ask(harness, MEMBER) for _ in range(4)]
        assert all("Looking up" in text for text in answers[:3])
        assert "You have asked 3 times in the last minute: please wait" in answers[3]
        assert "Looking up" in ask(harness, ASKER)  # someone else is not held up


ROOT = Path(__file__).resolve().parents[2]


def test_the_limit_is_counted_per_replica_as_the_docs_say(people: FakeSlack) -> None:
    """Each `whocreated serve` counts in its own memory: two replicas behind one load balancer
    give one person twice the limit. That is what README and the example policy tell operators,
    so they can divide the setting by their number of replicas."""
    with (
        harness_for(people, lookups_per_minute=3) as one,
        harness_for(people, lookups_per_minute=3) as two,
    ):
        answers = [ask(one if n % 2 else two, MEMBER) for n in range(6)]
        assert all("Looking up" in text for text in answers)  # 3 at each replica
        assert "You have asked 3 times" in ask(one, MEMBER)
        assert "You have asked 3 times" in ask(two, MEMBER)

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "**the limit is per replica**" in readme
    example = (ROOT / "whocreated.example.toml").read_text()
    [line] = [n for n, text in enumerate(example.splitlines()) if "lookups_per_minute" in text]
    said = " ".join(example.splitlines()[line : line + 3])
    assert "each replica on its own" in said and "N times" in said


def test_the_limit_forgets_after_a_minute() -> None:
    now = [1000.0]
    limit = LookupLimit(lambda: 2, monotonic=lambda: now[0])
    assert limit.wait_for("U1") == 0 and limit.wait_for("U1") == 0
    now[0] += 20
    assert limit.wait_for("U1") == pytest.approx(40)
    now[0] += 40
    assert limit.wait_for("U1") == 0
