"""Block Kit builders: words for every outcome, escaping, and Block Kit's limits."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core import events, messages
from bot.core.answers import LookupAnswer, ParentAnswer, Reason, Source
from bot.core.events import Actor, CreationFact
from bot.core.refs import parse

RECORD = json.loads(
    (
        Path(__file__).resolve().parent.parent
        / "fixtures"
        / "slack"
        / "run_instances_bert_jan.json"
    ).read_text()
)
INSTANCE = "i-0dbc91f429e48eeed"
NOW = datetime(2023, 7, 13, 12, 0, tzinfo=UTC)


def fact(**changes: object) -> CreationFact:
    made = events.creation_fact(RECORD, [INSTANCE])
    assert made is not None
    return dataclasses.replace(made, **changes)


def answer(**changes: object) -> LookupAnswer:
    base = LookupAnswer(ref=parse(INSTANCE), fact=fact(), regions_searched=("us-east-1",))
    return dataclasses.replace(base, **changes)


def check(blocks: list[Block], *, limit: int = 50) -> str:
    """Every block passes slack_sdk's validators and our limits; returns the JSON text."""
    assert 0 < len(blocks) <= limit
    dicts = [block.to_dict() for block in blocks]
    for data in dicts:
        parsed = Block.parse(data)
        assert parsed is not None
        parsed.to_dict()
        if data["type"] == "section":
            assert len(data.get("text", {}).get("text", "")) <= 3000
            assert len(data.get("fields", [])) <= 10
            assert all(len(field["text"]) <= 2000 for field in data.get("fields", []))
        if data["type"] == "context":
            assert len(data["elements"]) <= 10
    return json.dumps(dicts)


# Found -----------------------------------------------------------------------------------------


def test_found_answer_says_who_when_how_where() -> None:
    text = check(messages.lookup_answer(answer(), slack_user_id="U0BERTJAN", now=NOW))

    assert "<@U0BERTJAN> (bert-jan)" in text
    assert "arn:aws:iam::123837392027:user/bert-jan" in text
    assert "IAMUser" in text
    assert "3 days ago" in text
    assert "<!date^1688990121^" in text and "2023-07-10 11:55 UTC" in text
    assert "Terraform" in text and "aws-sdk-go/1.44.157" in text
    assert "RunInstances" in text and "ec2.amazonaws.com" in text
    assert "123837392027" in text and "us-east-1" in text
    assert "ami-029eb80bc237bec6f" in text and "subnet-0ed352584ab4aa265" in text
    assert (
        "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1"
        "#/events/86eac0ac-8521-4126-aa32-a22f2b74d02e"
    ) in text
    assert messages.SHOW_RAW_EVENT in text
    assert "CloudTrail event history" in text


def test_the_source_ip_is_shown_only_when_asked() -> None:
    """The caller's IP is private like in the raw event: left out unless the caller of
    lookup_answer says the reader may see it."""
    hidden = check(messages.lookup_answer(answer(), slack_user_id=None, now=NOW))
    shown = check(
        messages.lookup_answer(answer(), slack_user_id=None, now=NOW, show_source_ip=True)
    )

    assert "192.168.10.20" not in hidden and "Source IP" not in hidden
    assert "192.168.10.20" in shown and "Source IP" in shown


def test_without_a_slack_user_the_name_is_shown_not_a_mention() -> None:
    text = check(messages.lookup_answer(answer(), slack_user_id=None, now=NOW))

    assert "*bert-jan*" in text and "<@" not in text


def test_a_malformed_slack_user_id_is_not_turned_into_a_mention() -> None:
    text = check(messages.lookup_answer(answer(), slack_user_id="!channel", now=NOW))

    assert "<!channel>" not in text and "<@" not in text


def test_role_and_invoked_by_are_shown() -> None:
    actor = Actor(
        identity_type="AssumedRole",
        arn="arn:aws:sts::123837392027:assumed-role/Deployer/ci",
        name="Deployer",
        account="123837392027",
        role="Deployer",
        invoked_by="cloudformation.amazonaws.com",
    )
    text = check(
        messages.lookup_answer(answer(fact=fact(actor=actor)), slack_user_id=None, now=NOW)
    )

    assert "role `Deployer`" in text and "invoked by `cloudformation.amazonaws.com`" in text


@pytest.mark.parametrize(
    ("source", "words"),
    [(Source.CACHE, "cache"), (Source.CLOUDTRAIL, "CloudTrail"), (Source.TRAIL_LOGS, "log files")],
)
def test_the_source_is_named(source: Source, words: str) -> None:
    text = check(messages.lookup_answer(answer(source=source), slack_user_id=None, now=NOW))

    assert "Source: " in text and words in text


@pytest.mark.parametrize(
    ("region", "domain"),
    [
        ("us-east-1", "us-east-1.console.aws.amazon.com"),
        ("cn-north-1", "cn-north-1.console.amazonaws.cn"),
        ("us-gov-west-1", "us-gov-west-1.console.amazonaws-us-gov.com"),
    ],
)
def test_console_links_follow_the_partition(region: str, domain: str) -> None:
    url = messages.console_url(region, "abc-123")

    assert url == f"https://{domain}/cloudtrailv2/home?region={region}#/events/abc-123"


def test_console_link_rejects_odd_regions_and_quotes_event_ids() -> None:
    assert messages.console_url("evil.example.com/x", "e") is None
    assert messages.console_url(None, "e") is None
    assert messages.console_url("us-east-1", "a b#c").endswith("/events/a%20b%23c")


def test_fallback_text_is_plain_and_escaped() -> None:
    hostile = Actor(identity_type="IAMUser", arn=None, name="<!channel>", account=None)
    text = messages.fallback_text(answer(fact=fact(actor=hostile)))

    assert text == f"{INSTANCE} was created by &lt;!channel&gt; on 2023-07-10 (RunInstances)"


# Escaping ---------------------------------------------------------------------------------------


def test_every_aws_string_is_escaped() -> None:
    evil = "<!channel> & <@U0OTHER01> <https://evil.example|click>"
    hostile = fact(
        actor=Actor(
            identity_type=evil, arn=evil, name=evil, account=evil, role=evil, invoked_by=evil
        ),
        event_name=evil,
        event_source=evil,
        user_agent=evil,
        tool=evil,
        source_ip=evil,
        account=evil,
        region=evil,
        created=(INSTANCE, evil),
        related=(evil,),
    )
    hostile_answer = answer(
        fact=hostile, notes=(evil,), owner_tags={evil: evil}, regions_searched=(evil,)
    )
    text = check(
        messages.lookup_answer(hostile_answer, slack_user_id=None, now=NOW, show_source_ip=True)
    )
    text += check(
        messages.lookup_answer(
            answer(
                fact=None,
                reason=Reason.ONLY_MENTIONED,
                notes=(evil,),
                owner_tags={"owner": evil},
                regions_searched=(evil,),
                first_seen={
                    "name": evil,
                    "source": evil,
                    "time": evil,
                    "actor": evil,
                    "region": evil,
                    "id": evil,
                },
            ),
            slack_user_id=None,
            now=NOW,
        )
    )
    text += check(messages.error_blocks(evil))
    # Button values are returned to the bot, never shown, so they may carry the raw text.
    text = re.sub(r'"value": "(?:[^"\\]|\\.)*"', "", text)

    for token in ("<!channel>", "<@U0OTHER01>", "<https://evil"):
        assert token not in text
    assert "&lt;!channel&gt; &amp; &lt;@U0OTHER01&gt;" in text


def test_escape_mrkdwn() -> None:
    assert messages.escape_mrkdwn("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert messages.escape_mrkdwn("plain") == "plain"


def test_escape_clip_never_splits_an_entity() -> None:
    clipped = messages.escape_clip("&" * 100, 12)

    assert clipped == "&amp;&amp;…"
    assert messages.escape_clip("short", 12) == "short"
    assert len(messages.escape_clip("x" * 5000, 300)) == 300


# Limits ----------------------------------------------------------------------------------------


def test_huge_values_stay_within_block_kit_limits() -> None:
    big = fact(
        user_agent="Mozilla/5.0 " + "x" * 20_000,
        actor=Actor(identity_type="IAMUser", arn="arn:" + "a" * 5000, name="n" * 5000, account="1"),
        created=tuple(f"i-{n:017x}" for n in range(500)),
        related=tuple(f"sg-{n:017x}" for n in range(500)),
    )
    huge = answer(
        fact=big,
        notes=tuple("note " * 1000 for _ in range(30)),
        owner_tags={f"tag{n}": "<v>" * 2000 for n in range(40)},
        regions_searched=tuple(f"region-{n}" for n in range(40)),
    )
    text = check(messages.lookup_answer(huge, slack_user_id="U0BERTJAN", now=NOW))

    assert "and 490 more" in text  # created, capped
    assert "and 30 more" in text  # tags, capped


def test_a_reference_too_long_for_the_button_drops_the_button() -> None:
    long_name = "b" * 1990  # a valid name, but with the event id the value passes 2,000
    long_answer = answer(ref=parse(long_name))
    text = check(messages.lookup_answer(long_answer, slack_user_id=None, now=NOW))

    assert messages.SHOW_RAW_EVENT not in text
    assert "cloudtrailv2" in text  # the console link does not depend on the reference


def test_button_value_round_trips_without_the_record() -> None:
    value = messages.raw_event_button_value(INSTANCE, fact())

    assert value is not None and len(value) < 200
    assert messages.parse_raw_event_button_value(value) == (
        INSTANCE,
        "86eac0ac-8521-4126-aa32-a22f2b74d02e",
        "us-east-1",
    )
    with pytest.raises(ValueError):
        messages.parse_raw_event_button_value('["not", "ours"]')


# Not found -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_its_own_words(reason: Reason) -> None:
    not_found = answer(fact=None, reason=reason, regions_searched=("us-east-1", "eu-west-1"))
    text = check(messages.lookup_answer(not_found, slack_user_id=None, now=NOW))
    words = messages.reason_text(not_found, NOW)

    assert "couldn't find who created" in text
    expected = {
        Reason.NOT_IN_WINDOW: "--trail-logs",
        Reason.TOO_NEW: "5 to 15 minutes",
        Reason.ONLY_MENTIONED: "mentions",
        Reason.NOT_IN_REGIONS: "`us-east-1`, `eu-west-1`",
        Reason.DENIED: "cloudtrail:LookupEvents",
    }[reason]
    assert expected in words
    assert messages.fallback_text(not_found).startswith(f"Couldn't find who created {INSTANCE}: ")


def test_reasons_differ_from_each_other() -> None:
    texts = {messages.reason_text(answer(fact=None, reason=reason), NOW) for reason in Reason}
    assert len(texts) == len(Reason)


def test_not_in_window_from_trail_logs_asks_for_older_logs() -> None:
    words = messages.reason_text(
        answer(fact=None, reason=Reason.NOT_IN_WINDOW, source=Source.TRAIL_LOGS), NOW
    )
    assert "older logs" in words and "90 days" not in words


def test_too_new_uses_the_creation_time_hint() -> None:
    hinted = answer(fact=None, reason=Reason.TOO_NEW, created_at_hint=NOW - timedelta(minutes=4))

    assert "4 minutes ago" in messages.reason_text(hinted, NOW)


def test_only_mentioned_shows_the_first_event_seen() -> None:
    seen = events.summary(RECORD)
    mentioned = answer(
        ref=parse("sg-0b233157065b7d5e2"),
        fact=None,
        reason=Reason.ONLY_MENTIONED,
        first_seen=seen,
    )
    text = check(messages.lookup_answer(mentioned, slack_user_id=None, now=NOW))

    for expected in (
        "First event seen",
        "RunInstances",
        "bert-jan",
        "<!date^1688990121^",
        "86eac0ac-8521-4126-aa32-a22f2b74d02e",
    ):
        assert expected in text


def test_owner_tags_are_shown_for_not_found_answers() -> None:
    tagged = answer(fact=None, reason=Reason.NOT_IN_WINDOW, owner_tags={"Owner": "alice"})
    text = check(messages.lookup_answer(tagged, slack_user_id=None, now=NOW))

    assert "Owner tags" in text and "alice" in text


def test_notes_are_shown() -> None:
    noted = answer(notes=("regions could not be listed; searched the configured ones",))
    text = check(messages.lookup_answer(noted, slack_user_id=None, now=NOW))

    assert "regions could not be listed" in text


# Usage, errors, modal ---------------------------------------------------------------------------


def test_usage_and_error_blocks() -> None:
    usage = check(messages.usage_blocks())
    assert "/whocreated &lt;resource-id&gt;" in usage and "share" in usage
    assert "file &lt;x&gt;" in check(messages.error_blocks("file <x>"))


def test_raw_event_view_holds_the_record_within_modal_limits() -> None:
    view = messages.raw_event_view(RECORD, full=True)
    data = view.to_dict()

    assert len(data["title"]["text"]) <= 24
    check(view.blocks, limit=100)
    text = "".join(block["text"]["text"] for block in data["blocks"] if block["type"] == "section")
    assert "86eac0ac-8521-4126-aa32-a22f2b74d02e" in text
    body = text.replace("```\n", "").replace("\n```", "")
    assert (
        json.loads(body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")) == RECORD
    )


def test_raw_event_view_hides_credentials_ips_and_secrets_unless_full() -> None:
    record = {
        **RECORD,
        "requestParameters": {
            "userData": "x",
            "clientToken": "tok-1",
            "nested": [{"SecretString": "hunter2", "keep": "visible"}],
            "Password": "",
        },
    }
    hidden = json.dumps(messages.raw_event_view(record).to_dict())
    shown = json.dumps(messages.raw_event_view(record, full=True).to_dict())

    for private in ("AKIATFQR7NSC8Q4X20BJ", "192.168.10.20", "tok-1", "hunter2"):
        assert private not in hidden and private in shown
    assert "visible" in hidden and "86eac0ac-8521-4126-aa32-a22f2b74d02e" in hidden


def test_raw_event_view_hides_the_values_of_secret_named_entries_unless_full() -> None:
    """A name/value list names its secret in a sibling field, not in the key: ECS environment,
    CloudFormation parameters, tags and SSM-like Key/Values pairs, in any letter case."""
    record = {
        "eventName": "RegisterTaskDefinition",
        "requestParameters": {
            "containerDefinitions": [
                {
                    "name": "api",
                    "environment": [
                        {"name": "DB_PASSWORD", "value": "hunter2"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                    ],
                }
            ],
            "parameters": [
                {"parameterKey": "GithubToken", "parameterValue": "ghp-0123"},
                {"parameterKey": "Environment", "parameterValue": "prod"},
            ],
            "tags": [
                {"Key": "api-SECRET", "Value": "s3kr1t"},
                {"KEY": "team", "VALUE": "platform"},
                {"key": "Signing-Private-Key", "values": ["pem-1", "pem-2"]},
            ],
            "optionSettings": [{"OptionName": "STRIPE_API_TOKEN", "Value": "sk_live_9"}],
        },
    }
    hidden = json.dumps(messages.raw_event_view(record).to_dict())
    shown = json.dumps(messages.raw_event_view(record, full=True).to_dict())

    for private in ("hunter2", "ghp-0123", "s3kr1t", "pem-1", "sk_live_9"):
        assert private not in hidden and private in shown
    # The names stay, so people see what is hidden; other entries are shown in full.
    for public in ("DB_PASSWORD", "GithubToken", "debug", "prod", "platform", "api"):
        assert public in hidden


def test_redaction_leaves_unrelated_value_fields_alone() -> None:
    record = {"parameterKey": "DbPassword", "parameterValue": "x1", "usePreviousValue": True}
    assert messages.redacted(record) == {
        "parameterKey": "DbPassword",
        "parameterValue": messages.HIDDEN,
        "usePreviousValue": True,
    }
    plain = {"name": "web", "value": "v1", "Key": "Name", "Value": "web"}
    assert messages.redacted(plain) == plain


def test_raw_event_view_trims_a_huge_record_and_escapes_it() -> None:
    huge = {"eventName": "<!channel>", "blob": "&<>" * 200_000, "lines": ["x" * 50] * 5000}
    view = messages.raw_event_view(huge)

    data = view.to_dict()  # View validates: ≤ 100 blocks, title ≤ 24
    check(view.blocks, limit=100)
    text = json.dumps(data)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "Trimmed" in text
    for block in data["blocks"]:
        if block["type"] == "section":
            inner = block["text"]["text"]
            assert len(inner) <= 3000
            # no half entity at a chunk edge: every & starts a whole entity
            assert inner.count("&") == inner.count("&amp;") + inner.count("&lt;") + inner.count(
                "&gt;"
            )


def test_loading_and_message_views_are_valid() -> None:
    for view in (messages.loading_view("<x>"), messages.message_view("gone <!here>")):
        assert isinstance(view, View)
        text = json.dumps(view.to_dict())
        assert "<x>" not in text and "<!here>" not in text


# Ages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(seconds=-30), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=2), "2 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=3, hours=5), "3 days ago"),
        (timedelta(days=45), "45 days ago"),
        (timedelta(days=75), "2 months ago"),
        (timedelta(days=400), "13 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_describe_age(delta: timedelta, words: str) -> None:
    assert messages.describe_age(NOW - delta, NOW) == words


def test_describe_age_treats_naive_times_as_utc() -> None:
    assert messages.describe_age(datetime(2023, 7, 13, 10, 0), NOW) == "2 hours ago"


def test_a_parents_creator_is_named_and_mentioned() -> None:
    service = Actor(
        "AssumedRole",
        "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAutoScaling/autoscaling",
        "autoscaling.amazonaws.com",
        "123456789012",
        role="AWSServiceRoleForAutoScaling",
        invoked_by="autoscaling.amazonaws.com",
    )
    group_ref = parse(
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/web"
    )
    group = LookupAnswer(
        ref=group_ref,
        fact=fact(
            resource_id="web",
            event_name="CreateAutoScalingGroup",
            event_time=NOW - timedelta(days=20),
            tool="Terraform",
        ),
    )
    launched = answer(
        fact=fact(actor=service),
        parent=ParentAnswer(
            "AWS::AutoScaling::AutoScalingGroup", "web", "Auto Scaling group", group
        ),
    )
    lost = answer(
        fact=fact(actor=service),
        parent=ParentAnswer(
            "AWS::AutoScaling::AutoScalingGroup",
            "old",
            "Auto Scaling group",
            LookupAnswer(ref=group_ref, reason=Reason.NOT_IN_WINDOW),
        ),
    )

    text = check(
        messages.lookup_answer(
            launched, slack_user_id=None, now=NOW, parent_slack_user_id="U0BERTJAN"
        )
    )
    lost_text = check(messages.lookup_answer(lost, slack_user_id=None, now=NOW))

    assert "It was made for Auto Scaling group `web`, which <@U0BERTJAN> (bert-jan) created" in text
    assert (
        "*For* Auto Scaling group `web`: created by *bert-jan* 20 days ago \\u00b7 Terraform"
        in text
    )
    assert "for Auto Scaling group web, created by bert-jan" in messages.fallback_text(launched)
    assert "It was made for" not in lost_text
    assert "*For* Auto Scaling group `old`: who created it is unknown (its creation is older" in (
        lost_text
    )
