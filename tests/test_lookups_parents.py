"""/whocreated on a resource a service made for a parent: the parent's creator is looked up too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.aws.creation_hints import Hint
from bot.core.answers import LookupAnswer, Reason, to_json
from bot.core.events import CreationFact, creation_fact
from bot.core.refs import ResourceRef, parse
from bot.core.terminal import render_answer
from bot.lookups import LookupService
from bot.sandbox import records
from bot.store import Store
from tests.creator_records import create_eks_cluster

REGION = "eu-west-1"
INSTANCE = "i-0aaaaaaaaaaaaaaa1"
MADE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BOB = records.iam_user("bob")


def asg_launch(instance_id: str, group: str) -> CreationFact:
    """RunInstances as Auto Scaling's service-linked role records it, the group in its tags."""
    record = records.run_instances(
        instance_id,
        MADE + timedelta(minutes=5),
        records.AUTOSCALING,
        region=REGION,
        agent="autoscaling.amazonaws.com",
        image_id="ami-0123456789abcdef0",
        instance_type="t3.micro",
        tags={"aws:autoscaling:groupName": group},
        invoked_by="autoscaling.amazonaws.com",
    )
    fact = creation_fact(record, [instance_id])
    assert fact is not None
    return fact


def group_creation(group: str, who: records.Identity = BOB) -> CreationFact:
    record = records.create_auto_scaling_group(
        group, MADE, who, region=REGION, agent=records.CLI, launch_template="web", size=2
    )
    fact = creation_fact(record, [group])
    assert fact is not None
    return fact


class Finder:
    """CloudTrail from a table of facts; records what it was asked."""

    def __init__(self, facts: dict[str, CreationFact], broken: frozenset[str] = frozenset()):
        self.facts = facts
        self.broken = broken
        self.asked: list[tuple[str, str | None, str | None]] = []

    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        self.asked.append((ref.id, ref.type, region))
        if ref.id in self.broken:
            raise TimeoutError("CloudTrail did not answer")
        fact = self.facts.get(ref.id)
        reason = None if fact else Reason.NOT_IN_REGIONS
        return LookupAnswer(ref=ref, fact=fact, reason=reason, regions_searched=(REGION,))


def untagged_launch(instance_id: str) -> CreationFact:
    """An Auto Scaling launch whose request names no group (only the instance's tags do)."""
    launch = asg_launch(instance_id, "web-asg")
    return dataclasses.replace(
        launch, record={**launch.record, "requestParameters": {"instanceType": "t3.micro"}}
    )


class TaggedFinder(Finder):
    """As Finder; the instance's describe also gave its aws:autoscaling:groupName tag."""

    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        found = super().find(ref, region, interactive=interactive)
        if ref.id != INSTANCE:
            return found
        return dataclasses.replace(found, parent_tags={"aws:autoscaling:groupName": "web-asg"})


def test_an_auto_scaling_instance_names_the_person_who_created_its_group() -> None:
    finder = Finder(
        {INSTANCE: asg_launch(INSTANCE, "web-asg"), "web-asg": group_creation("web-asg")}
    )

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))

    assert answer.fact is not None and answer.fact.actor.name == "autoscaling.amazonaws.com"
    assert finder.asked[1] == ("web-asg", "AWS::AutoScaling::AutoScalingGroup", REGION)
    behind = answer.person_behind()
    assert behind is not None and behind.words == "Auto Scaling group web-asg"
    assert behind.answer.fact is not None and behind.answer.fact.actor.name == "bob"
    printed = to_json(answer)
    assert printed["creator"]["name"] == "autoscaling.amazonaws.com"  # DESIGN §3, unchanged
    assert printed["note"] == (
        "made for Auto Scaling group web-asg, which bob created at 2026-11-02T09:00:00Z "
        "(CreateAutoScalingGroup, AWS CLI)"
    )
    text = render_answer(answer, now=MADE + timedelta(days=3))
    assert "for         Auto Scaling group web-asg: created by bob on 2026-11-02 09:00 UTC" in text
    assert "note" not in text  # the terminal shows the parent once, on its own line


def test_a_resource_a_person_made_is_not_followed() -> None:
    fact = group_creation("web-asg")
    finder = Finder({"web-asg": fact})
    ref = ResourceRef(given="web-asg", id="web-asg", type="AWS::AutoScaling::AutoScalingGroup")

    answer = LookupService(finder, Store.in_memory()).lookup(ref, REGION)

    assert answer.parent is None and to_json(answer)["note"] is None
    assert [asked[0] for asked in finder.asked] == ["web-asg"]


def test_a_group_made_by_cloudformation_leads_on_to_its_stack() -> None:
    carol = records.iam_user("carol")
    group = group_creation("web-asg", carol)
    stack_tags = {"aws:cloudformation:stack-name": "shop"}
    group.record["requestParameters"]["tags"] = [
        {"key": k, "value": v} for k, v in stack_tags.items()
    ]
    group.record["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    group = creation_fact(group.record, ["web-asg"])
    stack = creation_fact(
        records.create_stack(
            "shop",
            f"arn:aws:cloudformation:{REGION}:{records.ACCOUNT}:stack/shop/1",
            MADE - timedelta(minutes=2),
            carol,
            region=REGION,
            agent=records.CLI,
        ),
        ["shop"],
    )
    assert group is not None and stack is not None
    finder = Finder({INSTANCE: asg_launch(INSTANCE, "web-asg"), "web-asg": group, "shop": stack})

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))

    assert [parent.words for parent in answer.parents()] == [
        "Auto Scaling group web-asg",
        "CloudFormation stack shop",
    ]
    behind = answer.person_behind()
    assert behind is not None and behind.name == "shop"
    assert to_json(answer)["note"] == (
        "made for Auto Scaling group web-asg, which carol created at 2026-11-02T09:00:00Z "
        "(CreateAutoScalingGroup, CloudFormation); made for CloudFormation stack shop, which carol "
        "created at 2026-11-02T08:58:00Z (CreateStack, AWS CLI)"
    )


def test_a_parent_whose_creation_is_not_found_or_fails_still_answers_the_resource() -> None:
    not_found = Finder({INSTANCE: asg_launch(INSTANCE, "old-asg")})
    failing = Finder({INSTANCE: asg_launch(INSTANCE, "web-asg")}, broken=frozenset({"web-asg"}))

    unknown = LookupService(not_found, Store.in_memory()).lookup(parse(INSTANCE))
    broken = LookupService(failing, Store.in_memory()).lookup(parse(INSTANCE))

    assert unknown.found and unknown.parent is not None and unknown.person_behind() is None
    assert to_json(unknown)["note"] == (
        "made for Auto Scaling group old-asg, whose creator was not found: no event in the "
        "regions searched names it (eu-west-1)"
    )
    assert "Auto Scaling group old-asg: who created it is unknown" in render_answer(
        unknown, now=MADE
    )
    assert broken.found and broken.parent is None
    assert broken.notes[-1] == (
        "its Auto Scaling group web-asg could not be looked up (TimeoutError)"
    )


def test_the_parent_is_answered_from_the_cache_the_second_time() -> None:
    finder = Finder(
        {INSTANCE: asg_launch(INSTANCE, "web-asg"), "web-asg": group_creation("web-asg")}
    )
    service = LookupService(finder, Store.in_memory())

    service.lookup(parse(INSTANCE))
    again = service.lookup(parse(INSTANCE))

    behind = again.person_behind()
    assert behind is not None and behind.answer.fact is not None
    assert behind.answer.fact.actor.name == "bob"
    # The instance id is answered from the cache; a group's name is not trusted without a
    # describe (no hints here), so CloudTrail is asked for the group again.
    assert [asked[0] for asked in finder.asked] == [INSTANCE, "web-asg", "web-asg"]


def test_the_resources_own_tags_name_the_parent_when_its_creation_event_does_not() -> None:
    untagged = untagged_launch(INSTANCE)

    finder = TaggedFinder({INSTANCE: untagged, "web-asg": group_creation("web-asg")})
    without_tags = Finder({INSTANCE: untagged, "web-asg": group_creation("web-asg")})

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))
    unknown = LookupService(without_tags, Store.in_memory()).lookup(parse(INSTANCE))

    behind = answer.person_behind()
    assert behind is not None and behind.words == "Auto Scaling group web-asg"
    assert unknown.parent is None  # nothing names the group: not guessed


def stack_launch(instance_id: str, group: str, stack: str) -> CreationFact:
    """An Auto Scaling launch for a group that a CloudFormation stack made: both named."""
    fact = asg_launch(instance_id, group)
    tags = fact.record["requestParameters"]["tagSpecificationSet"]["items"][0]["tags"]
    tags.append({"key": "aws:cloudformation:stack-name", "value": stack})
    made = creation_fact(fact.record, [instance_id])
    assert made is not None
    return made


def test_when_the_first_parent_is_not_found_the_next_one_answers() -> None:
    # The stack is named first (most specific), but its creation is gone: the group answers.
    finder = Finder(
        {
            INSTANCE: stack_launch(INSTANCE, "web-asg", "old-stack"),
            "web-asg": group_creation("web-asg"),
        }
    )

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))

    assert [asked[0] for asked in finder.asked] == [INSTANCE, "old-stack", "web-asg"]
    behind = answer.person_behind()
    assert behind is not None and behind.words == "Auto Scaling group web-asg"


def test_a_same_named_group_made_after_the_instance_is_not_its_parent() -> None:
    later = group_creation("web-asg")
    later = dataclasses.replace(later, event_time=MADE + timedelta(days=2))
    finder = Finder({INSTANCE: asg_launch(INSTANCE, "web-asg"), "web-asg": later})

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))

    assert answer.parent is not None and answer.person_behind() is None
    assert "another resource's" in (to_json(answer)["note"] or "")


def test_a_cached_answer_asks_the_resources_tags_for_its_parent() -> None:
    untagged = untagged_launch(INSTANCE)
    asked_hints: list[str] = []

    def hints(ref: ResourceRef, region: str) -> Hint:
        asked_hints.append(ref.id)
        if ref.id == INSTANCE:
            return Hint(parent_tags={"aws:autoscaling:groupName": "web-asg"})
        return Hint()

    finder = TaggedFinder({INSTANCE: untagged, "web-asg": group_creation("web-asg")})
    service = LookupService(finder, Store.in_memory(), hints=hints)

    service.lookup(parse(INSTANCE))
    again = service.lookup(parse(INSTANCE))  # the instance from the cache: no describe

    assert again.source.value == "cache"
    behind = again.person_behind()
    assert behind is not None and behind.words == "Auto Scaling group web-asg"
    assert INSTANCE in asked_hints


def test_a_parents_notes_are_shown_with_it() -> None:
    class DeniedDescribe(Finder):
        def find(
            self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
        ) -> LookupAnswer:
            found = super().find(ref, region, interactive=interactive)
            if ref.id != "web-asg":
                return found
            note = "autoscaling:DescribeAutoScalingGroups denied: searched without a hint"
            return dataclasses.replace(found, notes=(note,))

    finder = DeniedDescribe(
        {INSTANCE: asg_launch(INSTANCE, "web-asg"), "web-asg": group_creation("web-asg")}
    )

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))

    assert "[autoscaling:DescribeAutoScalingGroups denied" in (to_json(answer)["note"] or "")
    assert "autoscaling:DescribeAutoScalingGroups denied" in render_answer(answer, now=MADE)


class WritableTagFinder(Finder):
    """As Finder; the instance's live tags name a cluster only through eks:cluster-name, which
    anyone allowed ec2:CreateTags can add (nothing AWS wrote names a parent)."""

    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        found = super().find(ref, region, interactive=interactive)
        if ref.id != INSTANCE:
            return found
        return dataclasses.replace(found, parent_tags={"eks:cluster-name": "mal"})


def test_a_parent_named_only_by_a_writable_tag_is_shown_as_such_never_mentioned() -> None:
    cluster = creation_fact(create_eks_cluster("mal", MADE - timedelta(days=9), "mallory"), ["mal"])
    assert cluster is not None and cluster.actor.name == "mallory"
    finder = WritableTagFinder({INSTANCE: untagged_launch(INSTANCE), "mal": cluster})

    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))

    assert answer.parent is not None and answer.parent.named_by_tag == "eks:cluster-name"
    assert answer.behind_by_claim()
    assert any("anyone who may tag it can write" in note for note in answer.parent.notes)


def test_a_parent_aws_named_is_the_person_behind_it() -> None:
    finder = TaggedFinder(
        {INSTANCE: untagged_launch(INSTANCE), "web-asg": group_creation("web-asg")}
    )
    answer = LookupService(finder, Store.in_memory()).lookup(parse(INSTANCE))
    assert answer.parent is not None and answer.parent.named_by_tag is None
    assert not answer.behind_by_claim()
