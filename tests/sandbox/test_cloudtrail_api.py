"""The LookupEvents stand-in behaves like the real API where the product depends on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bot.sandbox import records
from bot.sandbox.cloudtrail_api import CloudTrailServer
from tests.trail_support import (
    NOW,
    FakeClock,
    create_tags,
    describe_instances,
    run_instances,
    trail_client,
)

INSTANCE = "i-0123456789abcdef0"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "cloudtrail"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[CloudTrailServer]:
    # Throttling is off unless a test turns it on: the fake monotonic clock stands still.
    with CloudTrailServer(
        clock=clock.utcnow, monotonic=clock.monotonic, throttle_rate=None
    ) as running:
        yield running


def by_name(name: str) -> list[dict[str, str]]:
    return [{"AttributeKey": "ResourceName", "AttributeValue": name}]


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_pages_of_50_newest_first_followed_by_boto3s_paginator(
    server: CloudTrailServer, clock: FakeClock
) -> None:
    server.add_many(describe_instances(INSTANCE, NOW - timedelta(hours=n + 1)) for n in range(120))
    client = trail_client(server.endpoint_url, "us-east-1")

    first = client.lookup_events(LookupAttributes=by_name(INSTANCE))
    pages = list(client.get_paginator("lookup_events").paginate(LookupAttributes=by_name(INSTANCE)))

    assert len(first["Events"]) == 50 and "NextToken" in first
    times = [event["EventTime"] for page in pages for event in page["Events"]]
    assert [len(page["Events"]) for page in pages] == [50, 50, 20]
    assert times == sorted(times, reverse=True) and len(set(times)) == 120
    assert times[0] == NOW - timedelta(hours=1)
    assert server.calls("us-east-1") == 1 + 3


def test_max_results_and_a_token_from_another_query(server: CloudTrailServer) -> None:
    server.add_many(describe_instances(INSTANCE, NOW - timedelta(hours=n + 1)) for n in range(5))
    client = trail_client(server.endpoint_url, "us-east-1", attempts=1)

    one = client.lookup_events(LookupAttributes=by_name(INSTANCE), MaxResults=1)
    assert len(one["Events"]) == 1 and one["NextToken"]
    with pytest.raises(ClientError) as too_many:
        client.lookup_events(LookupAttributes=by_name(INSTANCE), MaxResults=51)
    with pytest.raises(ClientError) as foreign:
        client.lookup_events(LookupAttributes=by_name("other"), NextToken=one["NextToken"])

    assert code_of(too_many) == "InvalidMaxResultsException"
    assert code_of(foreign) == "InvalidNextTokenException"


def test_exactly_one_lookup_attribute(server: CloudTrailServer) -> None:
    client = trail_client(server.endpoint_url, "us-east-1", attempts=1)
    two = [*by_name(INSTANCE), {"AttributeKey": "EventName", "AttributeValue": "RunInstances"}]

    with pytest.raises(ClientError) as error:
        client.lookup_events(LookupAttributes=two)

    assert code_of(error) == "InvalidLookupAttributesException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_other_lookup_attributes(server: CloudTrailServer) -> None:
    server.add(run_instances(INSTANCE, NOW - timedelta(days=1), user="bob"))
    server.add(describe_instances(INSTANCE, NOW - timedelta(hours=2)))
    client = trail_client(server.endpoint_url, "us-east-1")

    def names(key: str, value: str) -> list[str]:
        attributes = [{"AttributeKey": key, "AttributeValue": value}]
        return [e["EventName"] for e in client.lookup_events(LookupAttributes=attributes)["Events"]]

    assert names("EventName", "RunInstances") == ["RunInstances"]
    assert names("Username", "bob") == ["RunInstances"]
    assert names("ReadOnly", "true") == ["DescribeInstances"]
    assert names("ResourceType", "AWS::EC2::Instance") == ["DescribeInstances", "RunInstances"]
    assert len(client.lookup_events()["Events"]) == 2  # no attribute: every event


def test_event_shape_like_the_real_api(server: CloudTrailServer) -> None:
    created = run_instances(INSTANCE, NOW - timedelta(days=1), image_id="ami-0aaaaaaaaaaaaaaaa")
    server.add(created)
    client = trail_client(server.endpoint_url, "us-east-1")

    (event,) = client.lookup_events(LookupAttributes=by_name(INSTANCE))["Events"]

    assert event["EventId"] == created["eventID"]
    assert event["EventName"] == "RunInstances"
    assert event["ReadOnly"] == "false"
    assert event["EventTime"] == NOW - timedelta(days=1)
    assert event["EventSource"] == "ec2.amazonaws.com"
    assert event["Username"] == "alice"
    assert event["AccessKeyId"] == created["userIdentity"]["accessKeyId"]
    assert {"ResourceType": "AWS::EC2::Instance", "ResourceName": INSTANCE} in event["Resources"]
    assert {"ResourceType": "AWS::EC2::Ami", "ResourceName": "ami-0aaaaaaaaaaaaaaaa"} in event[
        "Resources"
    ]
    assert json.loads(event["CloudTrailEvent"]) == created


def test_only_the_last_90_days_on_the_servers_clock(
    server: CloudTrailServer, clock: FakeClock
) -> None:
    server.add(run_instances(INSTANCE, NOW - timedelta(days=91)))
    server.add(create_tags(INSTANCE, NOW - timedelta(days=89)))
    client = trail_client(server.endpoint_url, "us-east-1")

    def seen() -> list[str]:
        found = client.lookup_events(
            LookupAttributes=by_name(INSTANCE), StartTime=NOW - timedelta(days=400), EndTime=NOW
        )
        return [event["EventName"] for event in found["Events"]]

    assert seen() == ["CreateTags"]
    clock.advance(timedelta(days=2).total_seconds())
    assert seen() == []


def test_time_range_is_inclusive_and_checked(server: CloudTrailServer) -> None:
    when = NOW - timedelta(hours=3)
    server.add(create_tags(INSTANCE, when))
    client = trail_client(server.endpoint_url, "us-east-1", attempts=1)

    exact = client.lookup_events(LookupAttributes=by_name(INSTANCE), StartTime=when, EndTime=when)
    with pytest.raises(ClientError) as error:
        client.lookup_events(StartTime=NOW, EndTime=NOW - timedelta(hours=1))

    assert len(exact["Events"]) == 1
    assert code_of(error) == "InvalidTimeRangeException"


def test_region_comes_from_the_signature_scope(server: CloudTrailServer) -> None:
    server.add(run_instances(INSTANCE, NOW - timedelta(days=1), region="eu-west-1"))

    east = trail_client(server.endpoint_url, "us-east-1").lookup_events(
        LookupAttributes=by_name(INSTANCE)
    )
    west = trail_client(server.endpoint_url, "eu-west-1").lookup_events(
        LookupAttributes=by_name(INSTANCE)
    )

    assert east["Events"] == [] and len(west["Events"]) == 1
    assert server.call_counts() == {
        "us-east-1": {"cloudtrail:LookupEvents": 1},
        "eu-west-1": {"cloudtrail:LookupEvents": 1},
    }


def test_throttles_above_two_requests_a_second_per_region(
    server: CloudTrailServer, clock: FakeClock
) -> None:
    server.throttle_rate = 2
    east = trail_client(server.endpoint_url, "us-east-1", attempts=1)
    west = trail_client(server.endpoint_url, "eu-west-1", attempts=1)

    east.lookup_events()
    east.lookup_events()
    with pytest.raises(ClientError) as error:
        east.lookup_events()
    west.lookup_events()  # another region has its own allowance
    clock.advance(1.0)
    east.lookup_events()

    assert code_of(error) == "ThrottlingException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert server.throttled("us-east-1") == 1 and server.throttled("eu-west-1") == 0
    assert server.calls("us-east-1") == 4


def test_throttling_can_be_disabled(server: CloudTrailServer) -> None:
    client = trail_client(server.endpoint_url, "us-east-1", attempts=1)
    for _ in range(10):
        client.lookup_events()
    assert server.throttled() == 0


def test_access_denied_per_region(server: CloudTrailServer) -> None:
    server.deny("us-east-1")
    east = trail_client(server.endpoint_url, "us-east-1", attempts=1)

    with pytest.raises(ClientError) as error:
        east.lookup_events()
    trail_client(server.endpoint_url, "eu-west-1").lookup_events()
    server.allow("us-east-1")
    east.lookup_events()

    assert code_of(error) == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in str(error.value)


def test_events_not_yet_delivered_are_not_shown(server: CloudTrailServer) -> None:
    server.delivery_delay = timedelta(minutes=10)
    server.add(run_instances(INSTANCE, NOW - timedelta(minutes=5)))
    client = trail_client(server.endpoint_url, "us-east-1")
    assert client.lookup_events(LookupAttributes=by_name(INSTANCE))["Events"] == []


def test_other_operations_are_unknown(server: CloudTrailServer) -> None:
    client = trail_client(server.endpoint_url, "us-east-1", attempts=1)
    with pytest.raises(ClientError) as error:
        client.describe_trails()
    assert code_of(error) == "UnknownOperationException"


def test_real_records_match_by_id_name_and_arn() -> None:
    records = json.loads((FIXTURES / "invictus_slice.json").read_text())
    run = next(r for r in records if r["eventName"] == "RunInstances" and not r.get("errorCode"))
    instance = run["responseElements"]["instancesSet"]["items"][0]["instanceId"]
    role = next(r for r in records if r["eventName"] == "CreateRole")
    role_arn = role["responseElements"]["role"]["arn"]
    july = NOW.replace(year=2023, month=7, day=20)
    with CloudTrailServer(clock=lambda: july, throttle_rate=None) as server:
        server.add_many(records)
        east = trail_client(server.endpoint_url, "us-east-1")

        def names(value: str) -> set[str]:
            events = east.lookup_events(LookupAttributes=by_name(value))["Events"]
            return {event["EventName"] for event in events}

        assert "RunInstances" in names(instance)
        assert "CreateRole" in names(role_arn)
        assert "CreateRole" in names(role["requestParameters"]["roleName"])


def test_duplicate_event_ids_are_stored_once(server: CloudTrailServer) -> None:
    created = run_instances(INSTANCE, NOW - timedelta(days=1))
    assert server.add(created) is True
    assert server.add(created) is False
    assert len(server.store) == 1


def test_store_stays_fast_at_fleet_scale(clock: FakeClock) -> None:
    # 10,000 resources with one event each, plus one resource with 5,000 events.
    server = CloudTrailServer(clock=clock.utcnow)
    try:
        for n in range(10_000):
            server.add(run_instances(f"i-{n:017x}", NOW - timedelta(minutes=n)))
        busy = f"i-{99_999:017x}"
        server.add_many(create_tags(busy, NOW - timedelta(minutes=n + 1)) for n in range(5_000))
        oldest = NOW - timedelta(minutes=5_000)
        page, cursor = server.store.query(
            "us-east-1", ("ResourceName", busy), oldest.timestamp(), NOW.timestamp(), 1
        )
        assert len(page) == 1 and cursor is not None
        assert page[0]["EventTime"] == (NOW - timedelta(minutes=1)).timestamp()
    finally:
        server.close()


# Accounts ------------------------------------------------------------------------------------

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
KEYS = {"AKIDAAAAAAAAAAAAAAAA": ACCOUNT_A, "AKIDBBBBBBBBBBBBBBBB": ACCOUNT_B}


def account_client(server: CloudTrailServer, key: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "cloudtrail",
        region_name=region,
        endpoint_url=server.endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def accounts_server(clock: FakeClock) -> Iterator[CloudTrailServer]:
    with CloudTrailServer(
        clock=clock.utcnow, monotonic=clock.monotonic, throttle_rate=None, account_of=KEYS.get
    ) as running:
        yield running


def test_each_caller_sees_its_own_accounts_history(accounts_server: CloudTrailServer) -> None:
    when = NOW - timedelta(days=1)
    for account, user in ((ACCOUNT_A, "alice"), (ACCOUNT_B, "bob")):
        accounts_server.add(
            records.run_instances(
                INSTANCE,
                when,
                records.iam_user(user, account=account),
                region="us-east-1",
                agent=records.CLI,
                image_id="ami-0123456789abcdef0",
                instance_type="t3.micro",
                account=account,
            )
        )
    seen = {}
    for key, account in KEYS.items():
        events = account_client(accounts_server, key).lookup_events(
            LookupAttributes=by_name(INSTANCE)
        )["Events"]
        seen[account] = [json.loads(e["CloudTrailEvent"])["recipientAccountId"] for e in events]
    unknown = account_client(accounts_server, "AKIDUNKNOWNUNKNOWN00").lookup_events(
        LookupAttributes=by_name(INSTANCE)
    )

    assert seen == {ACCOUNT_A: [ACCOUNT_A], ACCOUNT_B: [ACCOUNT_B]}
    assert unknown["Events"] == []  # a key of no account sees nothing
    assert accounts_server.calls(account=ACCOUNT_A) == 1
    assert accounts_server.calls(account=ACCOUNT_B, region="us-east-1") == 1


def test_a_record_needs_its_account_when_accounts_are_told_apart(
    accounts_server: CloudTrailServer,
) -> None:
    record = run_instances(INSTANCE, NOW - timedelta(days=1))
    del record["recipientAccountId"]
    with pytest.raises(ValueError, match="recipientAccountId"):
        accounts_server.add(record)
    assert accounts_server.add(record, account=ACCOUNT_A)


def test_throttling_and_denial_per_account_and_region(
    accounts_server: CloudTrailServer, clock: FakeClock
) -> None:
    accounts_server.throttle_rate = 2
    a, b = (account_client(accounts_server, key) for key in KEYS)

    a.lookup_events()
    a.lookup_events()
    with pytest.raises(ClientError) as throttled:
        a.lookup_events()
    b.lookup_events()  # another account has its own allowance in the same region
    clock.advance(1.0)
    accounts_server.deny("us-east-1", account=ACCOUNT_B)
    with pytest.raises(ClientError) as denied:
        b.lookup_events()
    a.lookup_events()

    assert code_of(throttled) == "ThrottlingException"
    assert code_of(denied) == "AccessDeniedException"
