"""OwnerResolver: tags, then the creators cache, then CloudTrail in bulk, then the parent chain.

LookupEvents is the stand-in at the wire (its call counters are what the call-count assertions
read); EC2 and the tag write-back are moto's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.aws.bulk_trail import BulkCreators
from bot.aws.limiter import RegionRateLimiter
from bot.aws.tagging import Tagger
from bot.core import events
from bot.core.created_by import TagSigner
from bot.core.events import Actor
from bot.core.policy import Actions, Ownership, Policy
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    LOAD_BALANCER,
    RDS_INSTANCE,
    Owner,
    Resource,
)
from bot.owners import OwnerResolver
from bot.registry.patrol import PATROL
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.store import Store
from tests.creator_records import (
    asg_instance,
    create_asg,
    create_classic_load_balancer,
    create_db,
    create_eks_cluster,
    create_load_balancer_v2,
    create_nodegroup,
    create_stack,
    create_volume,
    hex_id,
    seed_fleet,
    service_linked,
    stack_arn,
    via_cloudformation,
    with_tags,
)
from tests.trail_support import ACCOUNT, FakeClock, run_instances, trail_client

AMI = "ami-12c6146b"  # moto's built-in image
SIGNER = TagSigner(b"owners-test-key-0123456789abcdef")
TRUSTING_OWNER_TAGS = Policy(ownership=Ownership(trusted_tags=("Owner", "CreatedBy")))
SLACK = {
    "alice": "U0ALICE001",
    "bob": "U0BOB00001",
    "carol": "U0CAROL001",
    "dave": "U0DAVE0001",
    "erin": "U0ERIN0001",
    "frank": "U0FRANK001",
    "grace": "U0GRACE001",
    "ivan": "U0IVAN0001",
    "judy": "U0JUDY0001",
    "bob@example.com": "U0BOB00001",
}


class FakeDirectory:
    """SlackDirectory's two methods, from a table; remembers who was asked about. (Which
    identities the real directory trusts is tests/slack/test_directory.py's subject.)"""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.asked: list[str | None] = []

    def slack_user(self, actor: Actor) -> str | None:
        self.asked.append(actor.name)
        return self.users.get(actor.name or "") or self.users.get(actor.arn or "")

    def claimed_user(self, value: str) -> str | None:
        mention = value.strip("<@>")
        return mention if mention.startswith("U0") else self.users.get(value)


class RecordingTagger:
    def __init__(self) -> None:
        self.tagged: list[tuple[str, dict[str, str]]] = []

    def tag_all(self, items: list[tuple[Resource, dict[str, str]]]) -> tuple[int, int]:
        self.tagged.extend((resource.id, dict(tags)) for resource, tags in items)
        return len(items), 0


@dataclass
class World:
    server: CloudTrailServer
    clock: FakeClock
    store: Store
    directory: FakeDirectory
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    attempts: int = 8

    def client_for(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self.clients:
            if service == "cloudtrail":
                self.clients[key] = trail_client(self.server.endpoint_url, region, self.attempts)
            else:
                self.clients[key] = boto3.client(service, region_name=region)
        return self.clients[key]

    def resolver(self, policy: Policy | None = None, tagger: Any = None) -> OwnerResolver:
        """Resolves as a round does; `SIGNER` signs and checks the bot's tags."""
        limiter = RegionRateLimiter(clock=self.clock.monotonic, sleep=self.clock.sleep)
        bulk = BulkCreators(
            self.client_for, limiter, clock=self.clock.utcnow, account_id=lambda: ACCOUNT
        )
        return OwnerResolver(
            store=self.store,
            bulk=bulk,
            directory=self.directory,
            policy=policy or Policy(),
            clock=self.clock.utcnow,
            tagger=tagger,
            signer=SIGNER,
        )

    @property
    def now(self) -> datetime:
        return self.clock.now

    def cache(self, rec: dict[str, Any], resource_id: str, resource_type: str) -> None:
        fact = events.creation_fact(rec, [resource_id])
        assert fact is not None
        self.store.put_fact(
            partition="aws",
            account=ACCOUNT,
            region=rec["awsRegion"],
            resource_type=resource_type,
            fact=fact,
        )


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(days=1))
        with CloudTrailServer(clock=clock.utcnow, monotonic=clock.monotonic) as server:
            yield World(server, clock, Store.in_memory(), FakeDirectory(dict(SLACK)))


def res(resource_type: str, resource_id: str, region: str = "us-east-1", **kw: Any) -> Resource:
    return Resource(type=resource_type, id=resource_id, region=region, account=ACCOUNT, **kw)


def instance(region: str = "us-east-1", **kw: Any) -> Resource:
    return res(EC2_INSTANCE, hex_id("i"), region, **kw)


def pages(count: int) -> int:
    return max(1, math.ceil(count / 50))


# A fleet: calls per event name and page, then none at all from the cache ------------------------


def test_a_fleet_in_two_regions_by_three_people_costs_pages_not_resources(world: World) -> None:
    counts = {
        "us-east-1": {"instance": 70, "volume": 20, "address": 6},
        "eu-west-1": {"instance": 25, "volume": 30, "address": 4},
    }
    made = {region: seed_fleet(world.server, world.now, region, c) for region, c in counts.items()}
    resources = [
        res(rtype, rid, region)
        for region, by_id in made.items()
        for rid, (rtype, _, _) in by_id.items()
    ]
    # The regions are read in parallel, and the fake clock is shared: one region's limiter sleep
    # moves the other region's requests in time. Throttling is tested in test_bulk_trail.
    world.server.throttle_rate = None

    owners = world.resolver().resolve(resources)

    for region, c in counts.items():
        # RunInstances, CreateVolume and AllocateAddress: each paged through once.
        expected = pages(c["instance"]) + pages(c["volume"]) + pages(c["address"])
        assert world.server.calls(region) == expected
    assert world.server.calls() == (2 + 1 + 1) + (1 + 1 + 1) < len(resources) == 155
    for resource in resources:
        _, user, when = made[resource.region][resource.id]
        owner = owners[resource.key]
        assert (owner.aws_name, owner.slack_user, owner.source) == (user, SLACK[user], "cloudtrail")
        assert owner.fact is not None and owner.fact.event_time == when and owner.reason is None

    # The facts went to the creators cache: a later round (new resolver, same store) asks nothing.
    world.server.reset_counts()
    again = world.resolver().resolve(resources)
    assert world.server.calls() == 0
    assert {owner.source for owner in again.values()} == {"cache"}
    assert {k: o.slack_user for k, o in again.items()} == {
        k: o.slack_user for k, o in owners.items()
    }


# Order and trust: trusted tags, cache, CloudTrail; claims last ------------------------------------


def test_owner_tags_are_claims_that_never_beat_the_creator(world: World) -> None:
    """`Owner=<@mallory>` on alice's instance: ec2:CreateTags must not become the power to
    terminate it (DESIGN.md §4, Trust)."""
    by_slack_id = instance(tags={"Owner": "<@U0DAVE0001>"})
    by_email = instance(tags={"CreatedBy": "bob@example.com", "Name": "web"})
    cached = instance()
    for resource in (by_slack_id, by_email, cached):
        world.cache(
            run_instances(resource.id, world.now - timedelta(days=3), user="carol"),
            resource.id,
            EC2_INSTANCE,
        )
    # CloudTrail would say alice; the cache is asked first and says carol.
    world.server.add(run_instances(cached.id, world.now - timedelta(days=3), user="alice"))

    owners = world.resolver().resolve([by_slack_id, by_email, cached])

    for resource in (by_slack_id, by_email, cached):
        owner = owners[resource.key]
        assert (owner.source, owner.aws_name, owner.slack_user) == (
            "cache",
            "carol",
            SLACK["carol"],
        )
        assert owner.verified
    assert world.server.calls() == 0


def test_trusted_owner_tags_win_over_the_cache_and_the_cache_over_cloudtrail(world: World) -> None:
    """Organisations that enforce owner tags (tag policies, SCPs) say so in the policy."""
    by_slack_id = instance(tags={"Owner": "<@U0DAVE0001>"})
    by_email = instance(tags={"CreatedBy": "bob@example.com", "Name": "web"})
    cached = instance()
    for resource in (by_slack_id, by_email, cached):
        world.cache(
            run_instances(resource.id, world.now - timedelta(days=3), user="carol"),
            resource.id,
            EC2_INSTANCE,
        )
    world.server.add(run_instances(cached.id, world.now - timedelta(days=3), user="alice"))

    owners = world.resolver(TRUSTING_OWNER_TAGS).resolve([by_slack_id, by_email, cached])

    assert owners[by_slack_id.key] == Owner(
        aws_name="<@U0DAVE0001>", source="tag:Owner", slack_user="U0DAVE0001", verified=True
    )
    assert owners[by_email.key] == Owner(
        aws_name="bob@example.com", source="tag:CreatedBy", slack_user=SLACK["bob"], verified=True
    )
    assert owners[cached.key].source == "cache" and owners[cached.key].aws_name == "carol"
    assert world.server.calls() == 0


def test_a_claim_routes_the_digest_only_when_cloudtrail_names_nobody(world: World) -> None:
    claimed = instance(tags={"Owner": "<@U0MALLORY1>"})
    # Its creation is older than CloudTrail's 90 days: no event, no cache.
    owners = world.resolver().resolve([claimed])

    owner = owners[claimed.key]
    assert owner.slack_user == "U0MALLORY1" and not owner.verified
    assert owner.source == "tag:Owner"
    assert owner.reason is not None and "not verified" in owner.reason


def test_an_owner_tag_nobody_on_slack_has_falls_through(world: World) -> None:
    team_tag = {"Owner": "data-team"}
    found_on_slack = instance(tags=team_tag)
    nobody_on_slack = instance(tags=team_tag)
    world.server.add(run_instances(found_on_slack.id, world.now - timedelta(days=2)))
    world.server.add(
        run_instances(nobody_on_slack.id, world.now - timedelta(days=2), user="mallory")
    )

    owners = world.resolver().resolve([found_on_slack, nobody_on_slack])

    assert owners[found_on_slack.key].source == "cloudtrail"
    assert owners[found_on_slack.key].slack_user == SLACK["alice"]
    # Neither the tag nor the creator is on Slack: the tag's word, with both reasons.
    owner = owners[nobody_on_slack.key]
    assert (owner.aws_name, owner.source, owner.slack_user) == ("data-team", "tag:Owner", None)
    assert owner.reason == (
        "its Owner tag names data-team, who has no Slack account whocreated can match; "
        "its creator mallory has no Slack account whocreated can match"
    )


def test_the_bots_signed_tag_names_the_owner_and_a_forged_one_does_not(world: World) -> None:
    signed = instance()
    signed = dataclasses.replace(
        signed,
        tags={
            # A role session named after an instance is a machine, not a person: skipped.
            "AutoTag_Creator": f"arn:aws:sts::{ACCOUNT}:assumed-role/ec2-app/i-0123456789abcdef0",
            "whocreated:created-by": SIGNER.created_by(
                signed.key, "erin", world.now - timedelta(days=200), "RunInstances", SLACK["erin"]
            ),
        },
    )
    copied = dataclasses.replace(instance(), tags=dict(signed.tags))  # onto another instance
    hand_written = instance(
        tags={"whocreated:created-by": f"mallory 2024-01-05T10:00:00Z RunInstances {SLACK['erin']}"}
    )

    owners = world.resolver().resolve([signed, copied, hand_written])

    assert owners[signed.key] == Owner(
        aws_name="erin",
        source="tag:whocreated:created-by",
        slack_user=SLACK["erin"],
        verified=True,
    )
    for forged in (copied, hand_written):
        assert not owners[forged.key].verified
    assert owners[copied.key].slack_user is None  # the copy names erin's Slack id: ignored


def test_aws_createdby_is_trusted_for_its_identity_type(world: World) -> None:
    """AWS writes aws:createdby itself (users cannot write aws: tags)."""
    by_user = instance(tags={"aws:createdby": "IAMUser:AIDAEXAMPLE:grace"})
    owners = world.resolver().resolve([by_user])
    assert owners[by_user.key] == Owner(
        aws_name="grace", source="tag:aws:createdby", slack_user=SLACK["grace"], verified=True
    )


def test_claimed_owner_tag_order(world: World) -> None:
    both = instance(tags={"creator": "frank", "owner": "grace"})
    owners = world.resolver().resolve([both])
    assert owners[both.key].source == "tag:owner" and owners[both.key].aws_name == "grace"
    assert not owners[both.key].verified


def test_a_cached_creation_of_an_earlier_resource_with_the_same_name_is_not_trusted(
    world: World,
) -> None:
    created = world.now - timedelta(days=10)
    db = res(RDS_INSTANCE, "orders", created_at=created)
    # Cached long ago, for an "orders" deleted since; CloudTrail has the new one.
    old = create_db("orders", world.now - timedelta(days=200), "alice")
    world.cache(old, "orders", RDS_INSTANCE)
    world.server.add(create_db("orders", created - timedelta(minutes=3), "bob"))

    owner = world.resolver().resolve([db])[db.key]

    assert (owner.aws_name, owner.source) == ("bob", "cloudtrail")


def test_a_classic_and_a_v2_load_balancer_with_one_name_are_told_apart(world: World) -> None:
    v2_event = create_load_balancer_v2("web", world.now - timedelta(days=1), "bob")
    arn = v2_event["responseElements"]["loadBalancers"][0]["loadBalancerArn"]
    world.server.add(v2_event)
    world.server.add(create_classic_load_balancer("web", world.now - timedelta(days=9), "carol"))
    classic = res(CLASSIC_LOAD_BALANCER, "web")
    v2 = res(LOAD_BALANCER, arn, arn=arn, name="web")

    owners = world.resolver().resolve([classic, v2])

    assert owners[classic.key].aws_name == "carol"
    assert owners[v2.key].aws_name == "bob"
    assert world.server.calls() == 1  # both types: one CreateLoadBalancer pass


# The parent chain -------------------------------------------------------------------------------


def test_an_auto_scaling_instance_belongs_to_whoever_created_its_group(world: World) -> None:
    launched = instance()
    older = instance(details={"autoscaling_group": "web-asg"})  # its own event is gone
    world.server.add(create_asg("web-asg", world.now - timedelta(days=20), "dave"))
    world.server.add(asg_instance(launched.id, world.now - timedelta(days=1), "web-asg"))

    owners = world.resolver().resolve([launched, older])

    for resource in (launched, older):
        owner = owners[resource.key]
        assert owner.source == "parent:AWS::AutoScaling::AutoScalingGroup web-asg"
        assert (owner.aws_name, owner.slack_user) == ("dave", SLACK["dave"])
        assert owner.fact is not None and owner.fact.event_name == "CreateAutoScalingGroup"
    # RunInstances for the instances, then CreateAutoScalingGroup for both parents at once.
    assert world.server.calls() == 2
    cached = world.store.find_facts(["web-asg"], account=ACCOUNT, region="us-east-1")
    assert [fact.actor.name for fact in cached] == ["dave"]


def test_what_a_cloudformation_stack_created_belongs_to_the_stack_creator(world: World) -> None:
    volume = res(EBS_VOLUME, hex_id("vol"))
    database = res(RDS_INSTANCE, "reports", details={"cloudformation_stack": stack_arn("net")})
    made = create_volume(volume.id, world.now - timedelta(days=4), "erin")
    with_tags(made, "volume", {"aws:cloudformation:stack-name": "net"})
    world.server.add(via_cloudformation(made))
    world.server.add(create_stack("net", world.now - timedelta(days=4, minutes=5), "frank"))

    owners = world.resolver().resolve([volume, database])

    for resource in (volume, database):
        owner = owners[resource.key]
        assert owner.source == "parent:AWS::CloudFormation::Stack net"
        assert (owner.aws_name, owner.slack_user) == ("frank", SLACK["frank"])


def test_cloudformation_without_a_known_stack_keeps_the_caller(world: World) -> None:
    volume = res(EBS_VOLUME, hex_id("vol"))
    world.server.add(via_cloudformation(create_volume(volume.id, world.now, "erin")))

    owner = world.resolver().resolve([volume])[volume.key]

    assert (owner.aws_name, owner.source) == ("erin", "cloudtrail")


def test_eks_nodes_belong_to_their_node_group_else_their_cluster(world: World) -> None:
    node = instance(details={"eks_nodegroup": "ng-1", "eks_cluster": "dev"})
    orphan = instance(details={"eks_nodegroup": "ng-gone", "eks_cluster": "dev"})
    world.server.add(create_nodegroup("dev", "ng-1", world.now - timedelta(days=30), "grace"))
    # The same node group name in another cluster, newer: not this node's.
    world.server.add(create_nodegroup("prod", "ng-1", world.now - timedelta(days=2), "heidi"))
    world.server.add(create_eks_cluster("dev", world.now - timedelta(days=40), "ivan"))

    owners = world.resolver().resolve([node, orphan])

    assert owners[node.key].source == "parent:AWS::EKS::Nodegroup ng-1"
    assert owners[node.key].aws_name == "grace"
    assert owners[orphan.key].source == "parent:AWS::EKS::Cluster dev"
    assert owners[orphan.key].aws_name == "ivan"
    # RunInstances (nothing), then CreateNodegroup and CreateCluster once each.
    assert world.server.calls() == 3


def test_an_eks_node_climbs_through_its_auto_scaling_group_to_the_node_group(world: World) -> None:
    node = instance()
    world.server.add(asg_instance(node.id, world.now - timedelta(hours=5), "eks-ng-2-abc"))
    group = create_asg(
        "eks-ng-2-abc",
        world.now - timedelta(days=6),
        "unused",
        tags={"eks:nodegroup-name": "ng-2", "eks:cluster-name": "dev"},
    )
    world.server.add(
        service_linked(group, "AWSServiceRoleForAmazonEKSNodegroup", "eks-nodegroup.amazonaws.com")
    )
    world.server.add(
        create_nodegroup("dev", "ng-2", world.now - timedelta(days=6, minutes=2), "judy")
    )

    owner = world.resolver().resolve([node])[node.key]

    assert owner.source == "parent:AWS::EKS::Nodegroup ng-2"
    assert (owner.aws_name, owner.slack_user) == ("judy", SLACK["judy"])
    # RunInstances, CreateAutoScalingGroup, then the group's two parents (node group, cluster).
    assert world.server.calls() == 4


# Unknown owners: the reason, in plain words ------------------------------------------------------


def test_unknown_owners_say_why(world: World) -> None:
    silent = instance()
    ancient = res(EBS_VOLUME, hex_id("vol"), created_at=world.now - timedelta(days=120))
    lost_group = instance()
    no_group = instance()
    stranger = instance()
    world.server.add(asg_instance(lost_group.id, world.now - timedelta(days=1), "web-old"))
    by_service = run_instances(no_group.id, world.now - timedelta(days=1))
    world.server.add(
        service_linked(by_service, "AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com")
    )
    world.server.add(run_instances(stranger.id, world.now - timedelta(days=1), user="mallory"))

    owners = world.resolver().resolve([silent, ancient, lost_group, no_group, stranger])

    since = f"{world.now - timedelta(days=90):%Y-%m-%d}"
    assert owners[silent.key] == Owner(
        aws_name=None,
        source="none",
        reason=f"no owner tag, and CloudTrail has no creation event for it since {since}",
    )
    assert owners[ancient.key].reason == (
        f"no owner tag, and it was created on {ancient.created_at:%Y-%m-%d}, "
        "before CloudTrail's 90 days of event history"
    )
    lost = owners[lost_group.key]
    assert (lost.aws_name, lost.source, lost.slack_user) == (
        "autoscaling.amazonaws.com",
        "none",
        None,
    )
    assert lost.reason == (
        "no owner tag, and created by autoscaling.amazonaws.com, an AWS service; its Auto "
        f"Scaling group web-old: CloudTrail has no creation event for it since {since}"
    )
    assert owners[no_group.key].reason == (
        "no owner tag, and created by autoscaling.amazonaws.com, an AWS service, and no Auto "
        "Scaling group, CloudFormation stack or EKS node group it belongs to is known"
    )
    assert owners[stranger.key] == Owner(
        aws_name="mallory",
        source="cloudtrail",
        fact=owners[stranger.key].fact,
        reason="its creator mallory has no Slack account whocreated can match",
    )
    assert not any(owner.known for owner in owners.values())


def test_denied_and_unreadable_cloudtrail_are_reasons_not_absence(world: World) -> None:
    denied = instance(region="eu-west-1")
    throttled = instance(region="us-east-1")
    world.server.deny("eu-west-1")
    world.server.throttle_rate = 0
    world.attempts = 1

    owners = world.resolver().resolve([denied, throttled])

    assert owners[denied.key].reason == (
        "no owner tag, and CloudTrail lookups are denied in eu-west-1 "
        "(the credentials need cloudtrail:LookupEvents)"
    )
    assert owners[throttled.key].reason == (
        "no owner tag, and CloudTrail could not be read in us-east-1 (ThrottlingException); "
        "it is tried again next round"
    )


# Write-back --------------------------------------------------------------------------------------


def moto_instance() -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def moto_tags(instance_id: str) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
    return {tag["Key"]: tag["Value"] for tag in found}


def test_a_resolved_creator_is_written_back_as_a_signed_tag(world: World) -> None:
    instance_id = moto_instance()
    created = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)
    world.clock.now = created + timedelta(days=10)
    world.server.add(run_instances(instance_id, created, user="alice"))
    tagger = Tagger(world.client_for, PATROL.by_type)
    resource = res(EC2_INSTANCE, instance_id)

    world.resolver(tagger=tagger).resolve([resource])

    value = moto_tags(instance_id)["whocreated:created-by"]
    assert value.startswith(f"alice 2024-03-01T12:00:05Z RunInstances {SLACK['alice']} wc1.")
    read = SIGNER.read_created_by(resource.key, value)
    assert read is not None and read.signed and read.slack_user == SLACK["alice"]


def test_no_write_back_when_the_policy_forbids_it(world: World) -> None:
    instance_id = moto_instance()
    world.server.add(run_instances(instance_id, world.now - timedelta(days=1)))
    policy = Policy(actions=Actions(write_tags=False))

    owner = world.resolver(policy, Tagger(world.client_for, PATROL.by_type)).resolve(
        [res(EC2_INSTANCE, instance_id)]
    )
    assert next(iter(owner.values())).aws_name == "alice"
    assert moto_tags(instance_id) == {}


def test_only_a_resource_s_own_creation_is_written_back(world: World) -> None:
    own = instance()
    cached = instance()
    by_parent = instance(details={"autoscaling_group": "web-asg"})
    by_tag = instance(tags={"Owner": "alice"})
    already = instance(tags={"whocreated:created-by": "mallory 2024-01-01T00:00:00Z RunInstances"})
    world.server.add(run_instances(own.id, world.now - timedelta(days=1), user="bob"))
    world.server.add(run_instances(already.id, world.now - timedelta(days=1), user="bob"))
    world.cache(run_instances(cached.id, world.now - timedelta(days=2)), cached.id, EC2_INSTANCE)
    world.server.add(create_asg("web-asg", world.now - timedelta(days=9), "dave"))
    tagger = RecordingTagger()

    world.resolver(tagger=tagger).resolve([own, cached, by_parent, by_tag, already])

    day, two_days = _z(world.now - timedelta(days=1)), _z(world.now - timedelta(days=2))
    written = {resource_id: tags["whocreated:created-by"] for resource_id, tags in tagger.tagged}
    # The forged value on `already` is replaced by the truth; the others are left alone.
    assert sorted(written) == sorted([own.id, cached.id, already.id])
    assert written[own.id].startswith(f"bob {day} RunInstances {SLACK['bob']} wc1.")
    assert written[cached.id].startswith(f"alice {two_days} RunInstances {SLACK['alice']} wc1.")
    assert written[already.id].startswith(f"bob {day} RunInstances")


def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# A writable tag naming a parent, or a trusted key in another case, grants nothing ------------


def test_a_parent_named_only_by_a_writable_tag_gives_no_button_rights(world: World) -> None:
    """mallory tagged dave's Auto Scaling instance eks:cluster-name=mal, a cluster she made: the
    group AWS named (aws:autoscaling:groupName) answers, and dave stays the verified owner."""
    world.directory.users["mallory"] = "U0MALLORY1"
    world.server.add(create_asg("web-asg", world.now - timedelta(days=20), "dave"))
    victim = instance(
        tags={"aws:autoscaling:groupName": "web-asg", "eks:cluster-name": "mal"},
        details={"autoscaling_group": "web-asg", "eks_cluster": "mal"},
    )
    world.server.add(asg_instance(victim.id, world.now - timedelta(days=3), "web-asg"))
    world.server.add(create_eks_cluster("mal", world.now - timedelta(days=30), "mallory"))

    owner = world.resolver().resolve([victim])[victim.key]

    assert owner.source == "parent:AWS::AutoScaling::AutoScalingGroup web-asg"
    assert (owner.aws_name, owner.verified) == ("dave", True)


def test_a_creator_reached_only_through_a_writable_tag_is_a_claim(world: World) -> None:
    """Nothing AWS wrote names a parent; the tag names mallory's cluster: the digest may go to
    her, but only admins may press its buttons."""
    world.directory.users["mallory"] = "U0MALLORY1"
    victim = instance(tags={"eks:cluster-name": "mal"}, details={"eks_cluster": "mal"})
    world.server.add(asg_instance(victim.id, world.now - timedelta(days=3), "gone-asg"))
    world.server.add(create_eks_cluster("mal", world.now - timedelta(days=30), "mallory"))

    owner = world.resolver().resolve([victim])[victim.key]

    assert (owner.aws_name, owner.slack_user, owner.verified) == ("mallory", "U0MALLORY1", False)
    assert owner.reason is not None and "eks:cluster-name" in owner.reason


def test_a_trusted_tag_key_in_another_case_is_a_claim(world: World) -> None:
    victim = instance(tags={"Owner": "data-team", "OWNER": "<@U0MALLORY1>"})
    world.cache(
        run_instances(victim.id, world.now - timedelta(days=3), user="carol"),
        victim.id,
        EC2_INSTANCE,
    )

    owner = world.resolver(TRUSTING_OWNER_TAGS).resolve([victim])[victim.key]

    assert (owner.source, owner.verified) == ("cache", True)
    assert owner.aws_name == "carol"
