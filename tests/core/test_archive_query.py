"""The archive query's text (partitions pruned by account, region and day; creation events; the
names) and the records read back from its rows, which the events reader and the trust rules
treat like any CloudTrail record."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from bot.core import events, trust
from bot.core.archive_query import ArchiveQuery, days_around, query_text, records_from_rows
from bot.sandbox import records
from tests.archive_support import ARCHIVE, athena_row

A, B = "111111111111", "222222222222"
INSTANCE = "i-0abc1234567890def"
LAUNCHED = datetime(2024, 3, 4, 14, 5, tzinfo=UTC)


def where_lines(text: str) -> list[str]:
    where = text.split("\nWHERE ", 1)[1].split("\nORDER BY", 1)[0]
    return [line.strip().removeprefix("AND ").strip() for line in where.splitlines()]


def test_with_a_creation_time_the_query_reads_a_few_days_of_one_account_and_region() -> None:
    query = ArchiveQuery(
        accounts=(A,),
        region="eu-west-1",
        names=(INSTANCE,),
        event_names=("RunInstances",),
        days=days_around([LAUNCHED]),
    )
    text = query_text(ARCHIVE, query)
    assert where_lines(text) == [
        "\"account\" = '111111111111'",
        "\"region\" = 'eu-west-1'",
        "\"timestamp\" IN ('2024/03/04')",
        "eventname IN ('RunInstances')",
        "errorcode IS NULL",
        "(regexp_like(responseelements, '(?i)i-0abc1234567890def') "
        "OR regexp_like(requestparameters, '(?i)i-0abc1234567890def'))",
    ]
    assert 'FROM "cloudtrail"."org_trail"\n' in text
    assert text.endswith("ORDER BY eventtime DESC\nLIMIT 1000")
    assert ">=" not in text  # no earliest bound: the days are the bound


def test_without_a_creation_time_it_reads_from_the_earliest_day() -> None:
    query = ArchiveQuery(
        accounts=(A, B),
        region=None,
        names=("arn:aws:s3:::orders.data", "orders.data"),
        event_names=("CreateBucket",),
        since=date(2023, 1, 1),
        until=date(2024, 6, 30),
    )
    lines = where_lines(query_text(ARCHIVE, query))
    assert lines[:3] == [
        "\"account\" IN ('111111111111', '222222222222')",
        "\"timestamp\" >= '2023/01/01'",
        "\"timestamp\" <= '2024/06/30'",
    ]
    assert not any(line.startswith('"region"') for line in lines)  # region unknown: all
    # Names are matched as they are: the dots of a name are no wildcards.
    assert lines[-1] == (
        "(regexp_like(responseelements, '(?i)arn:aws:s3:::orders\\.data|orders\\.data') "
        "OR regexp_like(requestparameters, '(?i)arn:aws:s3:::orders\\.data|orders\\.data'))"
    )


def test_a_quote_in_a_name_cannot_end_the_string() -> None:
    query = ArchiveQuery((A,), None, ("it's",), ("CreateRole",), days=(date(2024, 1, 1),))
    assert "'(?i)it''s'" in query_text(ARCHIVE, query)


def test_other_partition_names_and_day_format() -> None:
    archive = dataclasses.replace(
        ARCHIVE,
        account_partition="acct",
        region_partition="aws_region",
        date_partition="dt",
        date_format="yyyy-MM-dd",
    )
    query = ArchiveQuery((A,), "us-east-1", ("x",), ("CreateRole",), days=(date(2024, 1, 2),))
    lines = where_lines(query_text(archive, query))
    assert lines[:3] == [
        "\"acct\" = '111111111111'",
        "\"aws_region\" = 'us-east-1'",
        "\"dt\" IN ('2024-01-02')",
    ]


def test_a_creation_just_before_midnight_may_be_in_the_next_days_logs() -> None:
    late = datetime(2024, 3, 4, 23, 50, tzinfo=UTC)
    early = datetime(2024, 3, 5, 0, 20, tzinfo=UTC)
    assert days_around([late]) == (date(2024, 3, 4), date(2024, 3, 5))
    assert days_around([early]) == (date(2024, 3, 4), date(2024, 3, 5))
    assert days_around([LAUNCHED, LAUNCHED]) == (date(2024, 3, 4),)


def test_a_row_is_the_record_the_reader_knows() -> None:
    record = records.run_instances(
        INSTANCE,
        LAUNCHED,
        records.iam_user("alice", account=A),
        region="eu-west-1",
        agent=records.TERRAFORM,
        image_id="ami-0123456789abcdef0",
        instance_type="t3.micro",
        account=A,
    )
    row = athena_row(record)
    [rebuilt] = records_from_rows(list(row), [list(row.values())])

    fact = events.creation_fact(rebuilt, [INSTANCE])
    assert fact is not None
    assert (fact.actor.name, fact.actor.identity_type, fact.account) == ("alice", "IAMUser", A)
    assert (fact.event_name, fact.tool, fact.region) == ("RunInstances", "Terraform", "eu-west-1")
    assert fact.event_time == LAUNCHED
    assert rebuilt["readOnly"] is False
    assert rebuilt["requestParameters"] == record["requestParameters"]


def test_creators_from_the_archive_map_to_people_by_the_same_trusted_rules() -> None:
    sso = records.sso_session("alice@example.com", "Sandbox", region="eu-west-1", account=A)
    # A role named like Identity Center's, but made by someone under an ordinary path, assumed
    # with a session name of their choosing.
    role = "AWSReservedSSO_Sandbox_0123456789abcdef"
    chosen = records.Identity(
        {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:bob@example.com",
            "arn": f"arn:aws:sts::{A}:assumed-role/{role}/bob@example.com",
            "accountId": A,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": f"arn:aws:iam::{A}:role/{role}",
                    "accountId": A,
                    "userName": role,
                },
                "attributes": {"creationDate": "", "mfaAuthenticated": "false"},
            },
        }
    )
    rebuilt = []
    for who in (sso, chosen):
        record = records.create_role("admin", LAUNCHED, who, agent=records.CLI, account=A)
        row = athena_row(record)
        rebuilt.extend(records_from_rows(list(row), [list(row.values())]))
    actors = [events.actor_of(record) for record in rebuilt]

    # An IAM Identity Center session is looked up by its email; a session name someone chose
    # when assuming a role is not, wherever the record came from.
    assert trust.trusted_email(actors[0], email_domain="example.com") == "alice@example.com"
    assert trust.trusted_email(actors[1], email_domain="example.com") is None


@pytest.mark.parametrize(
    "broken",
    [
        ArchiveQuery((), None, ("x",), ("CreateRole",), days=(date(2024, 1, 1),)),
        ArchiveQuery((A,), None, ("x",), ("CreateRole",)),
    ],
)
def test_a_query_without_accounts_or_days_is_refused(broken: ArchiveQuery) -> None:
    with pytest.raises(ValueError):
        query_text(ARCHIVE, broken)
