"""Owners older than CloudTrail's 90 days, in a patrol round: after LookupEvents' bulk pass finds
nothing for them, the trail archive in Athena is asked once per account and region, for all of
them at once, never once per resource. moto's Athena (queued answers, recorded queries) stands in
for the archive; LookupEvents is the stand-in; EC2 is moto's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.archive_owners import ArchiveCreators
from bot.aws.archive import TrailArchive
from bot.aws.bulk_trail import BulkCreators
from bot.aws.limiter import RegionRateLimiter
from bot.core.policy import Policy
from bot.core.resources import EC2_INSTANCE, ELASTIC_IP
from bot.owners import OwnerResolver
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.store import Store
from tests.archive_support import ARCHIVE, executed, queue_results
from tests.creator_records import allocate_address, hex_id
from tests.test_owners import SIGNER, SLACK, FakeDirectory, World, res
from tests.trail_support import ACCOUNT, FakeClock, run_instances


def where_lines(query: str) -> list[str]:
    where = query.split("\nWHERE ", 1)[1].split("\nORDER BY", 1)[0]
    return [line.strip().removeprefix("AND ").strip() for line in where.splitlines()]


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(days=1))
        with CloudTrailServer(clock=clock.utcnow, monotonic=clock.monotonic) as server:
            yield World(server, clock, Store.in_memory(), FakeDirectory(dict(SLACK)))


def resolver(world: World, archive: ArchiveCreators) -> OwnerResolver:
    """A round's resolver, with the archive as wiring gives it one under [athena]."""
    limiter = RegionRateLimiter(clock=world.clock.monotonic, sleep=world.clock.sleep)
    bulk = BulkCreators(
        world.client_for, limiter, clock=world.clock.utcnow, account_id=lambda: ACCOUNT
    )
    return OwnerResolver(
        store=world.store,
        bulk=bulk,
        directory=world.directory,
        policy=Policy(),
        clock=world.clock.utcnow,
        signer=SIGNER,
        archive=archive,
    )


def archive_for(world: World) -> ArchiveCreators:
    athena = boto3.client("athena", region_name="us-east-1")
    if "whocreated" not in {group["Name"] for group in athena.list_work_groups()["WorkGroups"]}:
        athena.create_work_group(Name="whocreated", Configuration={})
    trail = TrailArchive(lambda: athena, ARCHIVE, sleep=lambda _: None)
    # One batch at a time, so moto's queued answers meet their queries in order.
    return ArchiveCreators(trail, clock=world.clock.utcnow, max_parallel=1)


def test_old_owners_cost_one_archive_query_per_account_and_region(world: World) -> None:
    old, older = world.now - timedelta(days=150), world.now - timedelta(days=200)
    east_a, east_b, west = hex_id("i"), hex_id("i"), hex_id("i")
    address = hex_id("eipalloc")
    made: dict[str, tuple[Any, str]] = {
        east_a: (run_instances(east_a, older, user="alice"), "alice"),
        east_b: (run_instances(east_b, old, user="bob"), "bob"),
        address: (allocate_address(address, old, "carol"), "carol"),
        west: (run_instances(west, older, region="eu-west-1", user="dave"), "dave"),
    }
    resources = [
        res(EC2_INSTANCE, east_a, created_at=older + timedelta(seconds=30)),
        res(EC2_INSTANCE, east_b, created_at=old + timedelta(seconds=30)),
        res(ELASTIC_IP, address),  # an address says nothing of when it was allocated
        res(EC2_INSTANCE, west, "eu-west-1", created_at=older + timedelta(seconds=30)),
    ]
    # Nothing in LookupEvents' reach; the archive has every creation.
    queue_results(ACCOUNT, "us-east-1", [made[i][0] for i in (east_a, east_b, address)])
    queue_results(ACCOUNT, "us-east-1", [made[west][0]])
    archive = archive_for(world)

    owners = resolver(world, archive).resolve(resources)

    for resource in resources:
        owner = owners[resource.key]
        user = made[resource.id][1]
        assert (owner.aws_name, owner.slack_user, owner.source) == (user, SLACK[user], "archive")
        assert owner.verified  # a creator from the trail, mapped by the directory's rules
    east, west_query = (e.query for e in executed(ACCOUNT, "us-east-1"))
    # us-east-1: one query for all three; the address has no creation time, so the days run
    # from the earliest one to where LookupEvents' 90 days began.
    trail_start = (world.now - timedelta(days=90)).date()
    assert where_lines(east)[:5] == [
        f"\"account\" = '{ACCOUNT}'",
        "\"region\" = 'us-east-1'",
        "\"timestamp\" >= '2023/01/01'",
        f"\"timestamp\" <= '{trail_start + timedelta(days=1):%Y/%m/%d}'",
        "eventname IN ('RunInstances', 'AllocateAddress')",
    ]
    assert all(name in where_lines(east)[-1] for name in (east_a, east_b, address))
    # eu-west-1: its one instance has a creation time, so only the days around it.
    assert where_lines(west_query)[:3] == [
        f"\"account\" = '{ACCOUNT}'",
        "\"region\" = 'eu-west-1'",
        f"\"timestamp\" IN ('{older:%Y/%m/%d}')",
    ]

    # The creators are remembered: the next round asks neither CloudTrail nor the archive.
    again = resolver(world, archive_for(world)).resolve(resources)
    assert {owner.source for owner in again.values()} == {"cache"}
    assert len(executed(ACCOUNT, "us-east-1")) == 2


def test_what_the_archive_lacks_is_said_and_not_asked_again_for_a_week(world: World) -> None:
    lost = res(EC2_INSTANCE, hex_id("i"), created_at=world.now - timedelta(days=300))
    queue_results(ACCOUNT, "us-east-1", [])
    archive = archive_for(world)

    owner = resolver(world, archive).resolve([lost])[lost.key]

    assert owner.source == "none"
    assert owner.reason is not None and owner.reason.endswith(
        "before CloudTrail's 90 days of event history; the trail archive "
        "(cloudtrail.org_trail) holds no creation of it either"
    )
    resolver(world, archive).resolve([lost])
    assert len(executed(ACCOUNT, "us-east-1")) == 1
    world.clock.advance(timedelta(days=8).total_seconds())
    queue_results(ACCOUNT, "us-east-1", [])
    resolver(world, archive).resolve([lost])
    assert len(executed(ACCOUNT, "us-east-1")) == 2
