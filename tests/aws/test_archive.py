"""One archive query in Athena: moto for a query that succeeds (the text it received, its
database, workgroup and result location, its rows read back as records); botocore's Stubber for
what moto cannot do: a query the workgroup's scan limit cancels, one that fails, one that never
finishes (stopped at the timeout), and Athena refusing to start one."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from bot.aws.archive import TrailArchive
from bot.core import events
from bot.core.archive_query import ArchiveQuery, query_text
from bot.sandbox import records
from tests.archive_support import ARCHIVE, executed, queue_results

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
A = "111111111111"
INSTANCE = "i-0abc1234567890def"
LAUNCHED = datetime(2024, 3, 4, 14, 5, tzinfo=UTC)
QUERY = ArchiveQuery((A,), REGION, (INSTANCE,), ("RunInstances",), days=(date(2024, 3, 4),))


def launch_record() -> dict[str, Any]:
    return records.run_instances(
        INSTANCE,
        LAUNCHED,
        records.iam_user("alice", account=A),
        region=REGION,
        agent=records.CLI,
        image_id="ami-0123456789abcdef0",
        instance_type="t3.micro",
        account=A,
    )


class Clock:
    """monotonic and sleep together: sleeping moves the clock, at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def moto_athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(Name="whocreated", Configuration={})
        yield client


def test_a_query_runs_in_the_workgroup_and_its_rows_become_records(moto_athena: Any) -> None:
    queue_results(ACCOUNT, REGION, [launch_record()])
    clock = Clock()
    archive = TrailArchive(
        lambda: moto_athena, ARCHIVE, sleep=clock.sleep, monotonic=clock.monotonic
    )

    result = archive.search(QUERY)

    assert result.ok, result.failure
    [execution] = executed(ACCOUNT, REGION)
    assert execution.query == query_text(ARCHIVE, QUERY) == result.query
    assert execution.context == {"Database": "cloudtrail", "Catalog": "AwsDataCatalog"}
    assert execution.workgroup.name == "whocreated"
    assert execution.config["OutputLocation"].startswith("s3://athena-results-bucket/whocreated/")
    [record] = result.records
    fact = events.creation_fact(record, [INSTANCE])
    assert fact is not None and fact.actor.name == "alice" and fact.account == A


def stubbed(*responses: tuple[str, dict[str, Any], dict[str, Any] | None]) -> tuple[Any, Stubber]:
    client = boto3.client(
        "athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    for operation, response, expected in responses:
        stubber.add_response(operation, response, expected)
    stubber.activate()
    return client, stubber


def started(execution_id: str = "q-1") -> tuple[str, dict[str, Any], dict[str, Any]]:
    return (
        "start_query_execution",
        {"QueryExecutionId": execution_id},
        {
            "QueryString": query_text(ARCHIVE, QUERY),
            "QueryExecutionContext": {"Database": "cloudtrail", "Catalog": "AwsDataCatalog"},
            "WorkGroup": "whocreated",
            "ResultConfiguration": {"OutputLocation": "s3://athena-results-bucket/whocreated/"},
        },
    )


def state(name: str, reason: str | None = None, scanned: int = 0) -> tuple[str, dict, dict]:
    status: dict[str, Any] = {"State": name}
    if reason:
        status["StateChangeReason"] = reason
    return (
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": "q-1",
                "Status": status,
                "Statistics": {"DataScannedInBytes": scanned},
            }
        },
        {"QueryExecutionId": "q-1"},
    )


def test_a_query_the_scan_limit_cancels_says_so_clearly() -> None:
    client, stubber = stubbed(
        started(),
        state("QUEUED"),
        state("RUNNING", scanned=10**9),
        state("CANCELLED", "Query cancelled! : Bytes scanned limit was exceeded", 10 * 10**9),
    )
    clock = Clock()
    archive = TrailArchive(lambda: client, ARCHIVE, sleep=clock.sleep, monotonic=clock.monotonic)

    result = archive.search(QUERY)

    stubber.assert_no_pending_responses()
    assert result.scan_limited and not result.records
    assert result.failure == (
        "query cancelled: scan limit: the workgroup whocreated stops a query at its per-query "
        "bytes scanned limit; ask by ARN or with account= and region=, or set a later [athena] "
        "earliest"
    )
    assert result.scanned_bytes == 10 * 10**9
    assert clock.sleeps == [0.5, 0.8]  # polled with a growing pause


def test_a_failed_query_says_what_kind_of_failure_and_logs_athenas_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Athena's reason quotes the query and names the catalog's tables: the result (which reaches
    Slack) says only the kind of failure; the whole reason is in the log at WARNING."""
    reason = "TABLE_NOT_FOUND: line 28:6: Table 'awsdatacatalog.cloudtrail.org_trail' not exist"
    client, _ = stubbed(started(), state("FAILED", reason))
    archive = TrailArchive(lambda: client, ARCHIVE, sleep=lambda _: None)

    with caplog.at_level(logging.WARNING, logger="bot.aws.archive"):
        result = archive.search(QUERY)

    assert result.failure == "the archive query failed (Athena: table not found)"
    assert not result.scan_limited
    [logged] = [r for r in caplog.records if "q-1" in r.getMessage()]
    assert logged.levelno == logging.WARNING and reason in logged.getMessage()


def test_athenas_error_category_and_type_name_the_kind_of_failure() -> None:
    status = {
        "State": "FAILED",
        "StateChangeReason": "line 1:8: mismatched input 'FROM'. Expecting: <expression>",
        "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False},
    }
    client, _ = stubbed(
        started(),
        ("get_query_execution", {"QueryExecution": {"Status": status}}, None),
    )
    result = TrailArchive(lambda: client, ARCHIVE, sleep=lambda _: None).search(QUERY)

    assert result.failure == "the archive query failed (Athena: user error, error type 1006)"
    assert "mismatched" not in str(result.failure)


def test_a_query_cancelled_without_a_reason_says_so() -> None:
    client, _ = stubbed(started(), state("CANCELLED"))
    result = TrailArchive(lambda: client, ARCHIVE, sleep=lambda _: None).search(QUERY)

    assert result.failure == "the archive query was cancelled (Athena: no reason given)"
    assert not result.scan_limited


def test_athena_refusing_a_query_gives_its_code_not_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "start_query_execution",
        service_error_code="InvalidRequestException",
        service_message="line 3:1: Schema 'cloudtrail_secret' does not exist",
    )
    with caplog.at_level(logging.WARNING, logger="bot.aws.archive"):
        result = TrailArchive(lambda: client, ARCHIVE).search(QUERY)

    assert result.failure == "Athena refused StartQueryExecution (InvalidRequestException)"
    assert "cloudtrail_secret" in caplog.text  # the log keeps it


def test_a_query_still_running_at_the_timeout_is_stopped() -> None:
    short = dataclasses.replace(ARCHIVE, timeout_s=10)
    # Polled at 0, 0.5, 1.3, 2.6, 4.6, 7.9 and 10 s: pauses growing by 1.6, the last cut short.
    polls = [state("RUNNING") for _ in range(7)]
    client, stubber = stubbed(
        started(), *polls, ("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    )
    clock = Clock()
    archive = TrailArchive(lambda: client, short, sleep=clock.sleep, monotonic=clock.monotonic)

    result = archive.search(QUERY)

    stubber.assert_no_pending_responses()  # StopQueryExecution was called
    assert result.failure == "the archive query did not finish within 10 s and was stopped"
    assert sum(clock.sleeps) == pytest.approx(10)


def test_athena_refusing_to_start_is_an_answer_not_a_crash() -> None:
    client = boto3.client(
        "athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    stubber.add_client_error(
        "start_query_execution",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: athena:StartQueryExecution",
        expected_params={
            "QueryString": ANY,
            "QueryExecutionContext": ANY,
            "WorkGroup": "whocreated",
            "ResultConfiguration": ANY,
        },
    )
    stubber.activate()
    result = TrailArchive(lambda: client, ARCHIVE).search(QUERY)
    assert result.failure == (
        "athena:StartQueryExecution denied (AccessDeniedException): the credentials need the "
        "archive permissions (deploy/iam/archive.json; whocreated check lists them)"
    )
