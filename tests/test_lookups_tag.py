"""LookupService: the whocreated:created-by tag answers when CloudTrail no longer can."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.aws.limiter import RegionRateLimiter
from bot.aws.trail import TrailFinder
from bot.core.answers import LookupAnswer, Reason, Source, to_json
from bot.core.created_by import TagSigner
from bot.core.refs import ResourceRef, parse
from bot.core.resources import EC2_INSTANCE
from bot.lookups import LookupService
from bot.registry.patrol import HINTS
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.store import Store
from tests.trail_support import ACCOUNT, FakeClock, run_instances, trail_client

AMI = "ami-12c6146b"
SIGNER = TagSigner(b"lookups-test-key-0123456789abcdef")
WRITTEN = datetime(2023, 11, 2, 8, 30, tzinfo=UTC)
HAND_WRITTEN = "alice 2023-11-02T08:30:00Z RunInstances"  # the shape, without the signature


def signed_for(instance_id: str, name: str = "alice") -> str:
    """The tag a patrol round writes on this instance in us-east-1."""
    where = (ACCOUNT, "us-east-1", EC2_INSTANCE, instance_id)
    return SIGNER.created_by(where, name, WRITTEN, "RunInstances", "U0ALICE01")


class StubFinder:
    def __init__(self, answer: LookupAnswer) -> None:
        self.answer = answer

    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        return self.answer


def not_in_window(ref: ResourceRef, tags: dict[str, str]) -> LookupAnswer:
    return LookupAnswer(
        ref=ref,
        reason=Reason.NOT_IN_WINDOW,
        regions_searched=("us-east-1",),
        owner_tags=tags,
        account=ACCOUNT,
        notes=("the service reports it created on 2023-11-02",),
    )


def test_the_tag_answers_when_cloudtrail_cannot_and_keeps_the_json_contract() -> None:
    ref = parse("i-0123456789abcdef0")
    store = Store.in_memory()
    tags = {"Name": "web", "whocreated:created-by": signed_for(ref.id)}
    service = LookupService(StubFinder(not_in_window(ref, tags)), store, signer=SIGNER)

    answer = service.lookup(ref)

    assert answer.found and answer.source is Source.TAG and answer.reason is None
    assert answer.notes[0] == (
        "from the whocreated:created-by tag on the resource, which whocreated wrote from "
        "CloudTrail (the RunInstances event of 2023-11-02); CloudTrail itself did not find the "
        "creation: not_in_window"
    )
    assert to_json(answer) == {
        "resource": {
            "id": "i-0123456789abcdef0",
            "type": "AWS::EC2::Instance",
            "region": "us-east-1",
            "account": ACCOUNT,
        },
        "found": True,
        "creator": {
            "identity_type": None,
            "arn": None,
            "name": "alice",
            "account": None,
            "role": None,
            "invoked_by": None,
        },
        "event": {
            "name": "RunInstances",
            "source": "ec2.amazonaws.com",
            "time": "2023-11-02T08:30:00Z",
            "region": "us-east-1",
            "id": None,
            "source_ip": None,
            "user_agent": None,
            "tool": None,
        },
        "reason": None,
        "regions_searched": ["us-east-1"],
        "note": "; ".join(answer.notes),
    }
    assert answer.fact is not None and dict(answer.fact.record) == {}
    # What a tag says never enters the creators cache: only CloudTrail's answers do.
    assert store.find_facts([ref.id]) == []


@pytest.mark.parametrize(
    "value",
    [
        "alice",  # a name alone
        HAND_WRITTEN,  # the old unsigned shape: anyone allowed CreateTags could write it
        signed_for("i-0fffffffffffffff0"),  # the bot's tag, copied from another instance
    ],
)
def test_a_tag_the_bot_did_not_sign_for_this_resource_is_not_an_answer(value: str) -> None:
    ref = parse("i-0123456789abcdef0")
    original = not_in_window(ref, {"whocreated:created-by": value})
    answer = LookupService(StubFinder(original), Store.in_memory(), signer=SIGNER).lookup(ref)
    assert answer is original and not answer.found
    assert answer.owner_tags == {"whocreated:created-by": value}  # still shown, as a claim


# Through the real finder: moto's instance carries the tag, CloudTrail has nothing -----------------


@pytest.fixture
def world() -> Iterator[tuple[CloudTrailServer, FakeClock]]:
    with mock_aws():
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(days=30))
        with CloudTrailServer(clock=clock.utcnow, monotonic=clock.monotonic) as server:
            yield server, clock


def service_for(server: CloudTrailServer, clock: FakeClock, store: Store) -> LookupService:
    clients: dict[tuple[str, str], Any] = {}

    def client_for(service: str, region: str) -> Any:
        if (service, region) not in clients:
            clients[(service, region)] = (
                trail_client(server.endpoint_url, region)
                if service == "cloudtrail"
                else boto3.client(service, region_name=region)
            )
        return clients[(service, region)]

    limiter = RegionRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    finder = TrailFinder(
        client_for,
        limiter,
        default_regions=("us-east-1",),
        clock=clock.utcnow,
        account_id=lambda: ACCOUNT,
        hints=HINTS,
    )
    return LookupService(finder, store, signer=SIGNER)


def launch(tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    spec = [{"Key": key, "Value": value} for key, value in tags.items()]
    return ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": spec}],
    )["Instances"][0]["InstanceId"]


def tag(instance_id: str, value: str) -> None:
    boto3.client("ec2", region_name="us-east-1").create_tags(
        Resources=[instance_id], Tags=[{"Key": "whocreated:created-by", "Value": value}]
    )


def test_whocreated_reads_the_tag_a_patrol_round_wrote(
    world: tuple[CloudTrailServer, FakeClock],
) -> None:
    server, clock = world
    instance_id = launch({"Name": "web"})
    tag(instance_id, signed_for(instance_id))
    store = Store.in_memory()

    answer = service_for(server, clock, store).lookup(parse(instance_id), "us-east-1")

    assert answer.found and answer.source is Source.TAG
    assert answer.fact is not None and answer.fact.actor.name == "alice"
    assert answer.fact.event_time == datetime(2023, 11, 2, 8, 30, tzinfo=UTC)
    assert to_json(answer)["creator"]["name"] == "alice"
    assert "from the whocreated:created-by tag" in to_json(answer)["note"]
    assert server.calls() >= 1  # CloudTrail was asked first
    assert store.find_facts([instance_id]) == []


def test_cloudtrail_wins_over_the_tag_when_it_has_the_event(
    world: tuple[CloudTrailServer, FakeClock],
) -> None:
    server, clock = world
    instance_id = launch({"whocreated:created-by": "mallory 2020-01-01T00:00:00Z RunInstances"})
    server.add(run_instances(instance_id, clock.now - timedelta(days=29, hours=23), user="bob"))

    answer = service_for(server, clock, Store.in_memory()).lookup(parse(instance_id), "us-east-1")

    assert answer.source is Source.CLOUDTRAIL
    assert answer.fact is not None and answer.fact.actor.name == "bob"
