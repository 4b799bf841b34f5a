"""BulkCreators against the LookupEvents stand-in: calls per event name and page, not resource."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.aws.bulk_trail import BulkCreators, event_names_for
from bot.aws.limiter import RegionRateLimiter
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    ELASTIC_IP,
    LOAD_BALANCER,
    RDS_INSTANCE,
)
from bot.sandbox.cloudtrail_api import CloudTrailServer
from tests.creator_records import create_db, seed_fleet
from tests.trail_support import ACCOUNT, FakeClock
from tests.trail_support import trail_client as make_trail_client

FLEET_TYPES = (EC2_INSTANCE, EBS_VOLUME, ELASTIC_IP)


class RecordingLimiter:
    """The real limiter, remembering whether each request was interactive."""

    def __init__(self, inner: RegionRateLimiter) -> None:
        self.inner = inner
        self.priorities: list[bool] = []

    def acquire(self, account: str, region: str, *, interactive: bool = True) -> float:
        self.priorities.append(interactive)
        return self.inner.acquire(account, region, interactive=interactive)

    def backoff(self, account: str, region: str, seconds: float) -> None:
        self.inner.backoff(account, region, seconds)


@dataclass
class World:
    server: CloudTrailServer
    clock: FakeClock
    limiter: RecordingLimiter
    attempts: int = 8
    clients: dict[str, Any] = field(default_factory=dict)

    def client_for(self, service: str, region: str) -> Any:
        assert service == "cloudtrail"
        if region not in self.clients:
            self.clients[region] = make_trail_client(
                self.server.endpoint_url, region, self.attempts
            )
        return self.clients[region]

    def bulk(self) -> BulkCreators:
        return BulkCreators(
            self.client_for, self.limiter, clock=self.clock.utcnow, account_id=lambda: ACCOUNT
        )


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock()
    with CloudTrailServer(clock=clock.utcnow, monotonic=clock.monotonic) as server:
        limiter = RegionRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
        yield World(server, clock, RecordingLimiter(limiter))


def fleet(world: World, region: str, counts: dict[str, int]) -> dict[str, tuple[str, datetime]]:
    made = seed_fleet(world.server, world.clock.now, region, counts)
    return {rid: (user, when) for rid, (_, user, when) in made.items()}


def pages(events: int) -> int:
    """LookupEvents pages for one event name: an empty answer is a page too."""
    return max(1, math.ceil(events / 50))


# Calls depend on creations, not on resources ------------------------------------------------


def test_a_fleet_costs_one_pass_per_event_name_not_one_call_per_resource(world: World) -> None:
    counts = {
        "us-east-1": {"instance": 120, "volume": 30, "address": 10},
        "eu-west-1": {"instance": 40, "volume": 55, "address": 0},
    }
    made = {region: fleet(world, region, c) for region, c in counts.items()}
    bulk = world.bulk()

    indexes = {region: bulk.index(ACCOUNT, region, FLEET_TYPES) for region in counts}

    assert event_names_for(FLEET_TYPES) == ("RunInstances", "CreateVolume", "AllocateAddress")
    for region, c in counts.items():
        expected = pages(c["instance"]) + pages(c["volume"]) + pages(c["address"])
        assert world.server.calls(region) == expected == indexes[region].calls
        assert indexes[region].pages == {
            "RunInstances": pages(c["instance"]),
            "CreateVolume": pages(c["volume"]),
            "AllocateAddress": pages(c["address"]),
        }
        assert indexes[region].read == {"RunInstances", "CreateVolume", "AllocateAddress"}
    total_resources = sum(len(m) for m in made.values())
    assert world.server.calls() == 3 + 1 + 1 + 1 + 2 + 1 == 9  # against 255 one-by-one
    assert total_resources == 255
    for region, resources in made.items():
        for resource_id, (user, when) in resources.items():
            fact = indexes[region].creation([resource_id])
            assert fact is not None, resource_id
            assert (fact.actor.name, fact.event_time, fact.region) == (user, when, region)


def test_calls_are_background_priority(world: World) -> None:
    fleet(world, "us-east-1", {"instance": 3})
    world.bulk().index(ACCOUNT, "us-east-1", FLEET_TYPES)
    assert world.limiter.priorities == [False, False, False]


def test_types_sharing_an_event_name_cost_one_pass(world: World) -> None:
    index = world.bulk().index(ACCOUNT, "us-east-1", [LOAD_BALANCER, CLASSIC_LOAD_BALANCER])
    assert world.server.calls() == 1 and index.read == {"CreateLoadBalancer"}


def test_skip_events_and_since_narrow_the_pass(world: World) -> None:
    made = fleet(world, "us-east-1", {"instance": 4, "volume": 2})
    newest_id, (_, newest_at) = max(made.items(), key=lambda item: item[1][1])
    bulk = world.bulk()

    index = bulk.index(
        ACCOUNT,
        "us-east-1",
        FLEET_TYPES,
        since=newest_at - timedelta(minutes=1),
        skip_events={"AllocateAddress"},
    )

    assert world.server.calls() == 2 and index.read == {"RunInstances", "CreateVolume"}
    assert index.creation([newest_id]) is not None
    older = [rid for rid in made if rid != newest_id]
    assert all(index.creation([rid]) is None for rid in older)


# Names reused, types kept apart ---------------------------------------------------------------


def test_the_newest_creation_wins_for_a_reused_name(world: World) -> None:
    now = world.clock.now
    world.server.add(create_db("orders", now - timedelta(days=60), "alice"))
    world.server.add(create_db("orders", now - timedelta(days=5), "bob"))

    index = world.bulk().index(ACCOUNT, "us-east-1", [RDS_INSTANCE])

    latest = index.creation(["orders"], resource_type=RDS_INSTANCE)
    assert latest is not None and latest.actor.name == "bob"
    # With the service's creation time, the creation that made *that* resource wins.
    earlier = index.creation(
        ["ORDERS"], resource_type=RDS_INSTANCE, before=now - timedelta(days=59)
    )
    assert earlier is not None and earlier.actor.name == "alice"
    assert index.creation(["orders"], resource_type=EC2_INSTANCE) is None


# Throttling, denial ------------------------------------------------------------------------------


def test_throttling_is_retried_to_a_complete_index(world: World) -> None:
    made = fleet(world, "us-east-1", {"instance": 130})
    world.attempts = 1  # no boto3 retries: BulkCreators' own backoff must do it
    eager = RecordingLimiter(
        RegionRateLimiter(10, clock=world.clock.monotonic, sleep=world.clock.sleep)
    )
    bulk = BulkCreators(
        world.client_for, eager, clock=world.clock.utcnow, account_id=lambda: ACCOUNT
    )

    index = bulk.index(ACCOUNT, "us-east-1", [EC2_INSTANCE])

    assert world.server.throttled() >= 1
    assert index.read == {"RunInstances"} and not index.failed
    assert index.pages == {"RunInstances": 3}
    assert all(index.creation([rid]) is not None for rid in made)


def test_throttled_for_good_is_unread_not_absent(world: World) -> None:
    fleet(world, "us-east-1", {"instance": 2})
    world.attempts = 1
    world.server.throttle_rate = 0  # every call throttled

    index = world.bulk().index(ACCOUNT, "us-east-1", [EC2_INSTANCE, EBS_VOLUME])

    assert index.read == set()
    assert index.unread(["RunInstances", "CreateVolume"]) == {
        "RunInstances": "ThrottlingException",
        "CreateVolume": "ThrottlingException",
    }
    assert any("not read" in note for note in index.notes)


def test_denied_is_an_empty_index_with_a_note(world: World) -> None:
    fleet(world, "eu-west-1", {"instance": 2})
    world.server.deny("eu-west-1")

    index = world.bulk().index(ACCOUNT, "eu-west-1", FLEET_TYPES)

    assert index.denied and index.size == 0
    assert index.notes == ["cloudtrail:LookupEvents denied in eu-west-1"]
    assert world.server.calls("eu-west-1") == 1  # denied once: the other names are not tried
    assert set(index.unread(event_names_for(FLEET_TYPES)).values()) == {"denied"}


def test_another_account_without_its_clients_is_not_read(world: World) -> None:
    index = world.bulk().index("210987654321", "us-east-1", FLEET_TYPES)
    assert world.server.calls() == 0
    assert index.unread(["RunInstances"]) == {
        "RunInstances": "no credentials for account 210987654321"
    }


def test_merged_indexes_answer_for_both_passes(world: World) -> None:
    made = fleet(world, "us-east-1", {"instance": 2, "volume": 2})
    bulk = world.bulk()
    first = bulk.index(ACCOUNT, "us-east-1", [EC2_INSTANCE])
    second = bulk.index(ACCOUNT, "us-east-1", [EBS_VOLUME], skip_events=first.read)

    both = first.merged(second)

    assert both.read == {"RunInstances", "CreateVolume"} and both.calls == 2
    assert all(both.creation([rid]) is not None for rid in made)


def test_another_account_is_read_through_its_own_clients(world: World) -> None:
    asked: list[str] = []

    def clients_for_account(account: str) -> Any:
        asked.append(account)
        return world.client_for

    bulk = BulkCreators(
        world.client_for,
        world.limiter,
        clock=world.clock.utcnow,
        account_id=lambda: ACCOUNT,
        clients_for_account=clients_for_account,
    )
    index = bulk.index("210987654321", "us-east-1", [EC2_INSTANCE])
    assert asked == ["210987654321"] and index.read == {"RunInstances"}


def test_only_the_creations_asked_about_are_kept(world: World) -> None:
    made = fleet(world, "us-east-1", {"instance": 60, "volume": 10, "address": 0})
    wanted = sorted(made)[:5]

    index = world.bulk().index(ACCOUNT, "us-east-1", FLEET_TYPES, wanted=wanted)

    # Every page is still read once; only the records of what was asked are held.
    assert index.read == {"RunInstances", "CreateVolume", "AllocateAddress"}
    assert index.size == len(wanted)
    for resource_id in wanted:
        assert index.creation([resource_id]) is not None
    assert index.creation([sorted(made)[-1]]) is None
