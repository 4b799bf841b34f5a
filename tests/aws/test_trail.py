"""TrailFinder against the LookupEvents stand-in (at the wire) and moto (describe calls).

moto cannot serve LookupEvents; a boto3 client with an explicit endpoint_url is not intercepted by
mock_aws (checked in test_cloudtrail_client_reaches_the_stand_in_under_mock_aws), so CloudTrail
clients point at the stand-in while EC2, S3 and IAM clients are moto's.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from bot.aws.limiter import RegionRateLimiter
from bot.aws.regions import enabled_regions
from bot.aws.trail import TrailFinder, TrailUnavailable
from bot.core.answers import Reason
from bot.core.refs import parse
from bot.registry.patrol import HINTS
from bot.sandbox.cloudtrail_api import CloudTrailServer
from tests.trail_support import (
    ACCOUNT,
    FakeClock,
    busy_history,
    create_tags,
    record,
    run_instances,
    trail_client,
)

AMI = "ami-12c6146b"  # moto's built-in image
UNKNOWN_INSTANCE = "i-0fedcba9876543210"  # not in moto: no hint, as for a terminated instance


@dataclass
class Clients:
    """client_for(service, region): CloudTrail → the stand-in, the rest → moto (or overrides)."""

    endpoint_url: str
    attempts: int = 8
    overrides: dict[tuple[str, str], Any] = field(default_factory=dict)
    made: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key in self.overrides:
            return self.overrides[key]
        if key not in self.made:
            if service == "cloudtrail":
                self.made[key] = trail_client(self.endpoint_url, region, self.attempts)
            else:
                self.made[key] = boto3.client(service, region_name=region)
        return self.made[key]


@dataclass
class World:
    server: CloudTrailServer
    clock: FakeClock
    clients: Clients
    limiter: RegionRateLimiter

    def finder(self, **options: Any) -> TrailFinder:
        options.setdefault("default_regions", ("us-east-1",))
        return TrailFinder(
            self.clients,
            self.limiter,
            clock=self.clock.utcnow,
            account_id=lambda: ACCOUNT,
            hints=HINTS,
            **options,
        )

    def at(self, now: datetime) -> None:
        self.clock.now = now


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(days=30))
        # Server and limiter share the fake clock: the limiter's waits are what the server sees.
        with CloudTrailServer(clock=clock.utcnow, monotonic=clock.monotonic) as server:
            limiter = RegionRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
            yield World(server, clock, Clients(server.endpoint_url), limiter)


def launch(region: str = "us-east-1") -> tuple[str, datetime]:
    """A moto instance and its primary interface's attach time (the hint the finder will get)."""
    ec2 = boto3.client("ec2", region_name=region)
    instance = ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Owner", "Value": "alice"}]}
        ],
    )["Instances"][0]
    attached = instance["NetworkInterfaces"][0]["Attachment"]["AttachTime"].astimezone(UTC)
    return instance["InstanceId"], attached.replace(microsecond=0)


def denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, operation)


class DeniedEc2:
    """An EC2 client for credentials without any ec2:Describe* permission."""

    def describe_regions(self, **_: Any) -> Any:
        raise denied("DescribeRegions")

    def describe_instances(self, **_: Any) -> Any:
        raise denied("DescribeInstances")


# The stand-in and moto side by side -------------------------------------------------------------


def test_cloudtrail_client_reaches_the_stand_in_under_mock_aws(world: World) -> None:
    client = world.clients("cloudtrail", "eu-west-1")
    assert client.lookup_events()["Events"] == []
    assert world.server.calls("eu-west-1") == 1


# Busy resources: few calls ---------------------------------------------------------------------


def test_busy_instance_with_a_creation_time_hint_takes_one_call(world: World) -> None:
    instance, attached = launch()
    world.at(attached + timedelta(days=30))
    history = busy_history(instance, attached - timedelta(seconds=2), world.clock.now, 5_000)
    world.server.add_many(history)

    answer = world.finder().find(parse(instance), "us-east-1")

    assert answer.found and answer.fact is not None
    assert answer.fact.event_name == "RunInstances" and answer.fact.actor.name == "alice"
    assert answer.created_at_hint == attached
    assert answer.owner_tags == {"Owner": "alice"}
    assert answer.regions_searched == ("us-east-1",)
    assert answer.account == ACCOUNT
    assert world.server.calls() <= 2


def test_busy_instance_without_a_hint_bisects_instead_of_walking_pages(world: World) -> None:
    now = world.clock.now
    world.server.add_many(busy_history(UNKNOWN_INSTANCE, now - timedelta(days=80), now, 5_000))

    answer = world.finder().find(parse(UNKNOWN_INSTANCE), "us-east-1")
    ours = world.server.calls()

    world.server.throttle_rate = None  # the naive walk below has no limiter
    naive = len(
        list(
            world.clients("cloudtrail", "us-east-1")
            .get_paginator("lookup_events")
            .paginate(
                LookupAttributes=[
                    {"AttributeKey": "ResourceName", "AttributeValue": UNKNOWN_INSTANCE}
                ]
            )
        )
    )
    assert answer.found and answer.fact is not None
    assert answer.fact.event_time == now - timedelta(days=80)
    assert naive == math.ceil(5_000 / 50) == 100
    assert ours <= 20, f"{ours} LookupEvents calls"


def test_a_small_history_is_read_in_one_page(world: World) -> None:
    now = world.clock.now
    world.server.add_many(busy_history(UNKNOWN_INSTANCE, now - timedelta(days=3), now, 30))
    answer = world.finder().find(parse(UNKNOWN_INSTANCE), "us-east-1")
    assert answer.found and world.server.calls() == 1


# Regions ---------------------------------------------------------------------------------------


def test_unknown_region_fans_out_in_parallel_and_stops_at_the_first_creation(
    world: World,
) -> None:
    world.server.throttle_rate = None
    world.server.latency = 0.01
    finder = world.finder(max_workers=2)
    regions, _ = enabled_regions(boto3.client("ec2", region_name="us-east-1"), ["us-east-1"])
    target = regions[2]  # us-east-1 first (configured), then the rest in order
    instance, attached = launch(target)
    world.at(attached + timedelta(days=2))
    world.server.add(run_instances(instance, attached - timedelta(seconds=1), region=target))

    answer = finder.find(parse(instance))

    assert answer.found and answer.fact is not None and answer.fact.region == target
    assert target in answer.regions_searched
    assert len(answer.regions_searched) <= 5 < len(regions)
    called = {region for region, counts in world.server.call_counts().items() if counts}
    assert called <= set(answer.regions_searched)


def test_iam_role_is_searched_in_its_home_region_by_arn(world: World) -> None:
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="deployer", AssumeRolePolicyDocument="{}"
    )["Role"]
    created = role["CreateDate"].astimezone(UTC).replace(microsecond=0)
    world.at(created + timedelta(days=1))
    world.server.add(
        record(
            "CreateRole",
            created - timedelta(seconds=1),
            source="iam.amazonaws.com",
            request={"roleName": "deployer", "path": "/"},
            response={"role": {"roleName": "deployer", "arn": role["Arn"], "path": "/"}},
        )
    )

    answer = world.finder(default_regions=("eu-west-1",)).find(parse(role["Arn"]))

    assert answer.found and answer.regions_searched == ("us-east-1",)
    assert world.server.calls() == 1


def test_bucket_is_searched_in_its_own_region_and_a_stale_hint_is_only_a_hint(
    world: World,
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(
        Bucket="logs-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    # CreationDate (the hint) is later than the real creation: the window holds nothing.
    world.server.add(
        record(
            "CreateBucket",
            world.clock.now - timedelta(days=40),
            region="eu-west-1",
            source="s3.amazonaws.com",
            request={"bucketName": "logs-eu", "Host": "logs-eu.s3.eu-west-1.amazonaws.com"},
        )
    )

    answer = world.finder().find(parse("s3://logs-eu"))

    assert answer.found and answer.fact is not None and answer.fact.event_name == "CreateBucket"
    assert answer.regions_searched == ("eu-west-1",)
    assert world.server.calls() == 2  # the hint's window, then one page over 90 days


# Throttling is retried, never "not found" --------------------------------------------------------


def test_throttling_is_retried_by_boto3(world: World) -> None:
    # The server's clock ticks 0.2 s a request, so the second request is throttled and boto3's
    # retry is not, however fast or slow this machine is.
    ticks = itertools.count(1)
    with CloudTrailServer(
        clock=world.clock.utcnow,
        monotonic=lambda: next(ticks) * 0.2,
        throttle_rate=1,
        throttle_period=0.3,
    ) as real:
        world.clients.endpoint_url = real.endpoint_url
        now = world.clock.now
        real.add(run_instances(UNKNOWN_INSTANCE, now - timedelta(days=2)))
        fast = RegionRateLimiter(100, clock=world.clock.monotonic, sleep=world.clock.sleep)
        trail_client(real.endpoint_url, "us-east-1").lookup_events()  # uses up the allowance

        answer = TrailFinder(
            world.clients,
            fast,
            default_regions=("us-east-1",),
            clock=world.clock.utcnow,
            hints=HINTS,
        ).find(parse(UNKNOWN_INSTANCE), "us-east-1")

        assert answer.found
        assert real.throttled("us-east-1") >= 1


def test_throttling_after_boto3_gave_up_is_retried_by_the_finder(world: World) -> None:
    world.clients.attempts = 1  # no boto3 retries: the finder's own backoff must do it
    now = world.clock.now
    world.server.add_many(busy_history(UNKNOWN_INSTANCE, now - timedelta(days=60), now, 120))
    eager = RegionRateLimiter(10, clock=world.clock.monotonic, sleep=world.clock.sleep)

    answer = TrailFinder(
        world.clients, eager, default_regions=("us-east-1",), clock=world.clock.utcnow, hints=HINTS
    ).find(parse(UNKNOWN_INSTANCE), "us-east-1")

    assert answer.found and answer.reason is None
    assert world.server.throttled() >= 1


def test_throttled_for_good_raises_instead_of_answering_not_found(world: World) -> None:
    world.clients.attempts = 1
    world.server.throttle_rate = 0  # every call throttled
    with pytest.raises(TrailUnavailable, match="ThrottlingException"):
        world.finder().find(parse(UNKNOWN_INSTANCE), "us-east-1")


# Denied ----------------------------------------------------------------------------------------


def test_lookup_denied_in_the_only_region_is_denied(world: World) -> None:
    world.server.deny("us-east-1")
    answer = world.finder().find(parse(UNKNOWN_INSTANCE), "us-east-1")
    assert answer.reason is Reason.DENIED and not answer.found
    assert any("cloudtrail:LookupEvents" in note for note in answer.notes)


def test_denied_in_one_region_is_a_note_when_another_answers(world: World) -> None:
    world.clients.overrides[("ec2", "us-east-1")] = DeniedEc2()
    world.clients.overrides[("ec2", "eu-west-1")] = DeniedEc2()
    world.server.deny("us-east-1")
    world.server.add(
        run_instances(UNKNOWN_INSTANCE, world.clock.now - timedelta(days=1), region="eu-west-1")
    )

    # One worker: us-east-1 (denied) is searched before eu-west-1 finds it.
    finder = world.finder(default_regions=("us-east-1", "eu-west-1"), max_workers=1)
    answer = finder.find(parse(UNKNOWN_INSTANCE))

    assert answer.found and answer.regions_searched == ("eu-west-1",)
    assert answer.notes == (
        "could not list regions (ec2:DescribeRegions denied); searched us-east-1, eu-west-1 only",
        "ec2:DescribeInstances denied: searched without a creation-time hint",
        "cloudtrail:LookupEvents denied in us-east-1: not searched there",
    )


def test_denied_everywhere_is_denied(world: World) -> None:
    world.clients.overrides[("ec2", "us-east-1")] = DeniedEc2()
    world.clients.overrides[("ec2", "eu-west-1")] = DeniedEc2()
    world.server.deny("us-east-1")
    world.server.deny("eu-west-1")

    answer = world.finder(default_regions=("us-east-1", "eu-west-1")).find(parse(UNKNOWN_INSTANCE))

    assert answer.reason is Reason.DENIED and answer.regions_searched == ()
    assert "cloudtrail:LookupEvents denied in us-east-1, eu-west-1" in answer.notes


# Why not found ---------------------------------------------------------------------------------


def test_hint_older_than_90_days_is_not_in_window_without_any_call(world: World) -> None:
    instance, attached = launch()
    world.at(attached + timedelta(days=100))
    answer = world.finder().find(parse(instance), "us-east-1")
    assert answer.reason is Reason.NOT_IN_WINDOW and not answer.found
    assert any("--trail-logs" in note for note in answer.notes)
    assert world.server.calls() == 0


def test_creation_event_older_than_90_days_is_not_in_window(world: World) -> None:
    world.server.add(run_instances(UNKNOWN_INSTANCE, world.clock.now - timedelta(days=120)))
    answer = world.finder().find(parse(UNKNOWN_INSTANCE), "us-east-1")
    assert answer.reason is Reason.NOT_IN_WINDOW and answer.regions_searched == ("us-east-1",)


def test_nothing_in_any_region_is_not_in_regions(world: World) -> None:
    world.server.throttle_rate = None
    world.clients.overrides[("ec2", "us-east-1")] = DeniedEc2()
    answer = world.finder(default_regions=("us-east-1", "eu-west-1")).find(parse(UNKNOWN_INSTANCE))
    assert answer.reason is Reason.NOT_IN_REGIONS
    assert answer.regions_searched == ("us-east-1", "eu-west-1")


def test_ami_passed_to_run_instances_is_only_mentioned(world: World) -> None:
    image = "ami-0123456789abcdef0"
    now = world.clock.now
    oldest = now - timedelta(days=50)
    world.server.add_many(
        run_instances(f"i-{n:017x}", oldest + timedelta(hours=n), image_id=image)
        for n in range(120)
    )

    answer = world.finder().find(parse(image), "us-east-1")

    assert answer.reason is Reason.ONLY_MENTIONED and not answer.found
    assert answer.first_seen is not None
    assert answer.first_seen["name"] == "RunInstances"
    assert answer.first_seen["time"] == oldest.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_minutes_old_is_too_new(world: World) -> None:
    instance, attached = launch()
    world.at(attached + timedelta(minutes=5))
    answer = world.finder().find(parse(instance), "us-east-1")
    assert answer.reason is Reason.TOO_NEW
    assert any("5 to 15 minutes" in note for note in answer.notes)


def test_a_hint_ahead_of_our_clock_is_no_error(world: World) -> None:
    instance, attached = launch()
    world.at(attached - timedelta(hours=2))  # our clock lags: the hint window would be empty
    answer = world.finder().find(parse(instance), "us-east-1")
    assert answer.reason is Reason.TOO_NEW and world.server.calls() == 1


def test_existing_young_resource_without_any_event_is_too_new(world: World) -> None:
    instance, attached = launch()
    world.at(attached + timedelta(minutes=40))
    answer = world.finder().find(parse(instance), "us-east-1")
    assert answer.reason is Reason.TOO_NEW


def test_existing_old_resource_without_creation_in_sight_is_only_mentioned(
    world: World,
) -> None:
    instance, attached = launch()
    world.at(attached + timedelta(days=10))
    world.server.add(create_tags(instance, attached + timedelta(days=1)))
    answer = world.finder().find(parse(instance), "us-east-1")
    assert answer.reason is Reason.ONLY_MENTIONED
    assert answer.first_seen is not None and answer.first_seen["name"] == "CreateTags"


# The limiter -----------------------------------------------------------------------------------


class SpyLimiter:
    def __init__(self) -> None:
        self.acquired: list[tuple[str, str, bool]] = []

    def acquire(self, account: str, region: str, *, interactive: bool = True) -> float:
        self.acquired.append((account, region, interactive))
        return 0.0

    def backoff(self, account: str, region: str, seconds: float) -> None:
        raise AssertionError("not throttled in this test")


def test_every_call_goes_through_the_limiter_with_account_and_priority(world: World) -> None:
    world.server.throttle_rate = None
    now = world.clock.now
    world.server.add_many(busy_history(UNKNOWN_INSTANCE, now - timedelta(days=20), now, 200))
    spy = SpyLimiter()
    finder = TrailFinder(
        world.clients,
        spy,
        default_regions=("us-east-1",),
        clock=world.clock.utcnow,
        account_id=lambda: ACCOUNT,
        hints=HINTS,
    )

    answer = finder.find(parse(UNKNOWN_INSTANCE), "us-east-1", interactive=False)

    assert answer.found
    assert len(spy.acquired) == world.server.calls() > 1
    assert set(spy.acquired) == {(ACCOUNT, "us-east-1", False)}


class FailsOnceAnswered:
    """A CloudTrail client whose call is in flight when another region answers, then fails."""

    def __init__(self) -> None:
        self.called = threading.Event()
        self.failed = threading.Event()
        self.release = threading.Event()

    def lookup_events(self, **_: Any) -> Any:
        self.called.set()
        self.release.wait(timeout=10)
        self.failed.set()
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")


def test_a_search_failing_after_the_answer_logs_no_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    slow = FailsOnceAnswered()
    world.clients.overrides[("cloudtrail", "us-east-1")] = slow
    world.server.add(
        run_instances(UNKNOWN_INSTANCE, world.clock.now - timedelta(days=1), region="eu-west-1")
    )
    finder = world.finder(default_regions=("us-east-1", "eu-west-1"), max_workers=2)

    with caplog.at_level(logging.DEBUG, logger="bot.aws.trail"):
        answer = finder.find(parse(UNKNOWN_INSTANCE))
        assert slow.called.is_set() and answer.found
        slow.release.set()
        assert slow.failed.wait(timeout=10)
        time.sleep(0.05)  # the failed search's handler runs right after the raise

    assert answer.fact is not None and answer.fact.region == "eu-west-1"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("ended after the answer" in r.getMessage() for r in caplog.records)


def test_a_search_failing_before_any_answer_is_an_error_and_no_answer(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    slow = FailsOnceAnswered()
    slow.release.set()
    world.clients.overrides[("cloudtrail", "us-east-1")] = slow
    finder = world.finder(default_regions=("us-east-1", "eu-west-1"), max_workers=2)

    with (
        caplog.at_level(logging.ERROR, logger="bot.aws.trail"),
        pytest.raises(EndpointConnectionError),
    ):
        finder.find(parse(UNKNOWN_INSTANCE))

    assert [r.getMessage() for r in caplog.records] == [
        f"LookupEvents for {UNKNOWN_INSTANCE} in us-east-1 failed"
    ]
