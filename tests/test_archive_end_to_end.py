"""Beyond CloudTrail's 90 days, as users meet it: a lookup whose creation LookupEvents no longer
holds is answered from the organization trail's Athena table, in the terminal (which waits) and
in Slack (told at once, answered later through the response_url, or a DM when that is refused).

moto holds EC2, IAM, STS and Athena (which runs no SQL: each test queues what a query answers and
reads back the query text it received); LookupEvents is the stand-in; Slack is the fake Web API
driven through the real Bolt app. Config, wiring, finders, the cache and the CLI are the real ones.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from slack_sdk import WebClient

from bot.cli import main
from bot.config import DirectorySettings, load_settings
from bot.core.answers import Source
from bot.core.refs import parse
from bot.sandbox import records
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.store import Store
from bot.wiring import AwsClients, Services, build
from tests.archive_support import executed, queue_results
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.conftest import ASKER, SECRET, Harness, all_text, assert_valid_blocks, serving

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
AMI = "ami-12c6146b"
ALICE_SLACK = "U0ALICE01"
POLICY = """
[aws]
regions = ["us-east-1"]

[athena]
database = "cloudtrail"
table = "org_trail"
workgroup = "whocreated"
output_location = "s3://athena-results-bucket/whocreated/"
earliest = 2023-01-01
"""


@dataclass
class World:
    trail: CloudTrailServer
    today: date


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[World]:
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'whocreated.sqlite3'}")
    (tmp_path / "whocreated.toml").write_text(POLICY)
    monkeypatch.setenv("WHOCREATED_CONFIG", str(tmp_path / "whocreated.toml"))
    monkeypatch.chdir(tmp_path)
    with CloudTrailServer() as trail, mock_aws():
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
        boto3.client("athena", region_name=REGION).create_work_group(
            Name="whocreated", Configuration={}
        )
        yield World(trail, datetime.now(UTC).date())


def role_record(name: str, when: datetime, user: str = "alice") -> dict[str, Any]:
    return records.create_role(name, when, records.iam_user(user), agent=records.CLI)


def where_lines(query: str) -> list[str]:
    where = query.split("\nWHERE ", 1)[1].split("\nORDER BY", 1)[0]
    return [line.strip().removeprefix("AND ").strip() for line in where.splitlines()]


# The terminal ---------------------------------------------------------------------------------


def test_lookup_waits_for_the_archive_and_prints_its_answer(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing in LookupEvents' 90 days (the stand-in holds no event); the archive has it.
    queue_results(ACCOUNT, REGION, [role_record("legacy-admin", datetime(2023, 6, 1, tzinfo=UTC))])

    code = main(["lookup", f"arn:aws:iam::{ACCOUNT}:role/legacy-admin", "--json"])

    answer = json.loads(capsys.readouterr().out)
    assert code == 0
    assert answer["found"] is True
    assert answer["creator"]["name"] == "alice"
    assert answer["event"]["time"] == "2023-06-01T00:00:00Z"
    assert answer["resource"]["account"] == ACCOUNT
    assert answer["note"].startswith("from the trail archive (cloudtrail.org_trail in Athena)")
    # No creation time from IAM: every day from the configured earliest one, in the role's
    # account and IAM's home region.
    [execution] = executed(ACCOUNT, REGION)
    assert where_lines(execution.query)[:5] == [
        f"\"account\" = '{ACCOUNT}'",
        "\"region\" = 'us-east-1'",
        "\"timestamp\" >= '2023/01/01'",
        f"\"timestamp\" <= '{world.today:%Y/%m/%d}'",
        "eventname IN ('CreateRole', 'CreateServiceLinkedRole')",
    ]

    # Remembered in the creators cache, in its account, like a creation CloudTrail gave.
    store = Store.open(load_settings().database_url)
    [fact] = store.find_facts(["legacy-admin"], account=ACCOUNT, region=REGION)
    assert fact.actor.name == "alice"


def test_nothing_in_the_archive_either_is_still_not_found(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_results(ACCOUNT, REGION, [])
    code = main(["lookup", f"arn:aws:iam::{ACCOUNT}:role/ghost", "--json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 1
    assert answer["found"] is False and answer["reason"] == "not_in_window"
    assert (
        "the trail archive (cloudtrail.org_trail) holds no creation of it either, since "
        "2023-01-01" in answer["note"]
    )


# With a creation time: a few days only --------------------------------------------------------


def services_in_the_future(world: World, days: int, **overrides: Any) -> tuple[Services, datetime]:
    """Services whose clock (and CloudTrail's) is `days` ahead: what moto made now is old."""
    now = datetime.now(UTC) + timedelta(days=days)
    world.trail.clock = lambda: now
    settings = load_settings()
    overrides.setdefault("with_app", False)
    return build(settings, store=Store.in_memory(), clock=lambda: now, **overrides), now


def test_an_instance_older_than_90_days_is_searched_on_the_days_around_its_launch(
    world: World,
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]
    launched = instance["NetworkInterfaces"][0]["Attachment"]["AttachTime"].astimezone(UTC)
    record = records.run_instances(
        instance["InstanceId"],
        launched,
        records.iam_user("bob"),
        region=REGION,
        agent=records.TERRAFORM,
        image_id=AMI,
        instance_type="t3.micro",
    )
    world.trail.add(record)  # in the stand-in, but 200 days old by its clock: out of reach
    queue_results(ACCOUNT, REGION, [record])
    services, _ = services_in_the_future(world, 200)

    answer = services.lookups.lookup(parse(instance["InstanceId"]), REGION)

    assert answer.source is Source.ARCHIVE and answer.fact is not None
    assert (answer.fact.actor.name, answer.fact.tool) == ("bob", "Terraform")
    [execution] = executed(ACCOUNT, REGION)
    lines = where_lines(execution.query)
    days = sorted(
        {(launched - timedelta(hours=1)).date(), (launched + timedelta(minutes=45)).date()}
    )
    assert lines[:4] == [
        f"\"account\" = '{ACCOUNT}'",
        "\"region\" = 'us-east-1'",
        f'"timestamp" IN ({", ".join(f"{chr(39)}{d:%Y/%m/%d}{chr(39)}" for d in days)})',
        "eventname IN ('RunInstances')",
    ]
    assert not any(">=" in line for line in lines)  # the hint's days, not the earliest bound


def test_a_query_the_scan_limit_cancels_is_a_clear_answer(world: World) -> None:
    services, _ = services_in_the_future(world, 0)
    stubber = Stubber(services.aws("athena", REGION))
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, None)
    stubber.add_response(
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": "q-1",
                "Status": {
                    "State": "CANCELLED",
                    "StateChangeReason": "Query cancelled! : Bytes scanned limit was exceeded",
                },
            }
        },
        {"QueryExecutionId": ANY},
    )
    stubber.activate()

    answer = services.lookups.lookup(parse(f"arn:aws:iam::{ACCOUNT}:role/huge"))

    assert not answer.found
    assert any(
        note.startswith(
            "the trail archive (cloudtrail.org_trail) could not be searched: query cancelled: "
            "scan limit"
        )
        for note in answer.notes
    )


def failing_query(services: Services, reason: str) -> None:
    """Athena fails the next query with `reason` (moto runs no SQL, so it cannot fail one)."""
    stubber = Stubber(services.aws("athena", REGION))
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, None)
    stubber.add_response(
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": "q-1",
                "Status": {"State": "FAILED", "StateChangeReason": reason},
            }
        },
        {"QueryExecutionId": ANY},
    )
    stubber.activate()


TABLE_NOT_FOUND = (
    "TABLE_NOT_FOUND: line 28:6: Table 'awsdatacatalog.cloudtrail.org_trail' does not exist"
)


def test_a_failed_query_is_told_by_kind_and_logged_in_full(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    services, _ = services_in_the_future(world, 0)
    failing_query(services, TABLE_NOT_FOUND)

    with caplog.at_level(logging.WARNING):
        answer = services.lookups.lookup(parse(f"arn:aws:iam::{ACCOUNT}:role/huge"))

    assert not answer.found
    assert (
        "the trail archive (cloudtrail.org_trail) could not be searched: the archive query "
        "failed (Athena: table not found)"
    ) in answer.notes
    assert not any("line 28:6" in note for note in answer.notes)
    assert any(
        r.levelno == logging.WARNING and TABLE_NOT_FOUND in r.getMessage() for r in caplog.records
    )


# Slack ----------------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("asker@example.com", ASKER, "Asker")
    fake.add_user("alice@example.com", ALICE_SLACK, "Alice")
    yield fake
    fake.close()


@pytest.fixture
def harness(world: World, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    settings = load_settings()
    settings = settings.__class__(
        **{**settings.__dict__, "directory": DirectorySettings(email_domain="example.com")}
    )
    services = build(
        settings,
        store=Store.in_memory(),
        aws=AwsClients(),
        web_client=WebClient(token=BOT_TOKEN, base_url=slack.url),
    )
    assert services.archive_lane is not None
    with serving(services) as base_url:
        yield Harness(slack, services, None, base_url)  # type: ignore[arg-type]
    services.archive_lane.shutdown(wait=True, cancel_futures=True)


def test_slack_says_it_searches_the_archive_then_answers_through_the_response_url(
    harness: Harness,
) -> None:
    queue_results(ACCOUNT, REGION, [role_record("legacy-admin", datetime(2023, 6, 1, tzinfo=UTC))])

    reply, key = harness.command(f"arn:aws:iam::{ACCOUNT}:role/legacy-admin")
    notice = harness.fake.wait_for_response(key, 1)
    sent = harness.fake.wait_for_response(key, 2)

    assert reply.body.startswith("Looking up")
    assert "I'm searching the trail archive (this can take a minute)" in notice["text"]
    assert_valid_blocks(sent["blocks"])
    text = all_text(sent["blocks"])
    assert f"<@{ALICE_SLACK}>" in text  # mapped by the same rule as CloudTrail's creators
    assert "Source: the trail archive" in text
    assert "from the trail archive (cloudtrail.org_trail in Athena)" in text


def test_when_the_response_url_is_refused_the_answer_comes_as_a_direct_message(
    harness: Harness,
) -> None:
    queue_results(ACCOUNT, REGION, [role_record("legacy-admin", datetime(2023, 6, 1, tzinfo=UTC))])
    key = harness.new_key()
    harness.fake.refuse_responses(key)  # as once its 30 minutes are over

    harness.command(f"arn:aws:iam::{ACCOUNT}:role/legacy-admin", key=key)
    [call] = harness.fake.wait_for_call("chat.postMessage")

    assert call.params["channel"] == ASKER
    blocks = call.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert_valid_blocks(blocks)
    assert "Source: the trail archive" in all_text(blocks)


def test_slack_users_see_the_kind_of_a_failed_query_never_athenas_text(harness: Harness) -> None:
    failing_query(harness.services, TABLE_NOT_FOUND)

    _, key = harness.command(f"arn:aws:iam::{ACCOUNT}:role/huge")
    sent = harness.fake.wait_for_response(key, 2)

    assert_valid_blocks(sent["blocks"])
    text = json.dumps(sent)
    assert "the archive query failed (Athena: table not found)" in text
    for athena_words in ("TABLE_NOT_FOUND", "line 28:6", "awsdatacatalog"):
        assert athena_words not in text
