"""The creators cache in front of CloudTrail: when it may answer, and when it must not."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.aws.creation_hints import Hint
from bot.core.answers import LookupAnswer, Source
from bot.core.events import Actor, CreationFact
from bot.core.refs import ResourceRef, parse
from bot.lookups import LookupService
from bot.store import Store

CREATED = datetime(2024, 2, 1, 9, 30, tzinfo=UTC)


def fact_for(resource_id: str, who: str, when: datetime = CREATED) -> CreationFact:
    return CreationFact(
        resource_id=resource_id,
        created=(resource_id,),
        related=(),
        actor=Actor("IAMUser", f"arn:aws:iam::123456789012:user/{who}", who, "123456789012"),
        event_name="CreateBucket",
        event_source="s3.amazonaws.com",
        event_time=when,
        region="eu-west-1",
        event_id=f"event-{who}",
        source_ip=None,
        user_agent=None,
        tool=None,
        account="123456789012",
    )


class RecordingFinder:
    """CloudTrail as the lookup service sees it: answers from a table, counts the questions."""

    def __init__(self, facts: dict[str, CreationFact]) -> None:
        self.facts = facts
        self.asked: list[str] = []

    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        self.asked.append(ref.id)
        fact = self.facts.get(ref.id)
        return LookupAnswer(ref=ref, fact=fact, regions_searched=("eu-west-1",))


def test_an_instance_is_answered_from_the_cache_the_second_time() -> None:
    finder = RecordingFinder({"i-0123456789abcdef0": fact_for("i-0123456789abcdef0", "alice")})
    service = LookupService(finder, Store.in_memory(), hints=None)
    first = service.lookup(parse("i-0123456789abcdef0"))
    second = service.lookup(parse("i-0123456789abcdef0"))
    assert first.source is Source.CLOUDTRAIL and second.source is Source.CACHE
    assert second.fact == first.fact
    assert finder.asked == ["i-0123456789abcdef0"]


def test_a_name_is_answered_from_the_cache_when_its_creation_time_still_matches() -> None:
    finder = RecordingFinder({"logs": fact_for("logs", "alice")})
    hints: list[str] = []

    def hint(ref: ResourceRef, region: str) -> Hint:
        hints.append(region)
        return Hint(created_at=CREATED + timedelta(seconds=3), exists=True)

    service = LookupService(finder, Store.in_memory(), hints=hint)
    service.lookup(parse("logs"))
    again = service.lookup(parse("logs"))
    assert again.source is Source.CACHE
    assert again.fact.actor.name == "alice"
    assert finder.asked == ["logs"]
    assert hints == ["eu-west-1"]


def test_a_reused_name_is_looked_up_again() -> None:
    finder = RecordingFinder({"logs": fact_for("logs", "alice")})
    recreated = CREATED + timedelta(days=30)
    service = LookupService(
        finder, Store.in_memory(), hints=lambda ref, region: Hint(created_at=recreated)
    )
    service.lookup(parse("logs"))
    finder.facts["logs"] = fact_for("logs", "bob", recreated)
    again = service.lookup(parse("logs"))
    assert again.source is Source.CLOUDTRAIL
    assert again.fact.actor.name == "bob"
    assert finder.asked == ["logs", "logs"]


def test_a_name_whose_creation_time_cannot_be_told_is_not_trusted_from_the_cache() -> None:
    finder = RecordingFinder({"logs": fact_for("logs", "alice")})
    service = LookupService(finder, Store.in_memory(), hints=lambda ref, region: Hint())
    service.lookup(parse("logs"))
    service.lookup(parse("logs"))
    assert finder.asked == ["logs", "logs"]


def test_answers_that_were_not_found_are_not_cached() -> None:
    finder = RecordingFinder({})
    service = LookupService(finder, Store.in_memory())
    service.lookup(parse("i-0123456789abcdef0"))
    service.lookup(parse("i-0123456789abcdef0"))
    assert finder.asked == ["i-0123456789abcdef0", "i-0123456789abcdef0"]


def test_the_cache_key_keeps_partition_account_and_region() -> None:
    store = Store.in_memory()
    arn = "arn:aws:rds:eu-west-1:123456789012:db:orders"
    fact = dataclasses.replace(fact_for("orders", "alice"), created=(arn, "orders"))
    LookupService(RecordingFinder({"orders": fact}), store).lookup(parse(arn))
    assert store.find_facts(["orders"], account="123456789012", region="eu-west-1")
    assert not store.find_facts(["orders"], account="210987654321")
