"""One lookup as users see it: the creators cache first, CloudTrail when it cannot answer.

When CloudTrail cannot find the creation (older than 90 days, denied…) but the resource carries the
`whocreated:created-by` tag a patrol round wrote, the tag answers, and the answer says so.

When a service made the resource for a parent (Auto Scaling launching an instance for its group,
CloudFormation for its stack, EKS for a node group), the parent is looked up too, as the patrol
does: the answer names the service that called the API and the person who created the parent.

When neither finds the creation and `[athena]` names the organization trail's table, one
archive query looks further back (bot.archive_search). It can take a minute: `lookup` waits
for it, and Slack asks for it apart (`archive=False`, then `from_archive`), so the person can
be told first.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Protocol

from bot.aws.creation_hints import Hint
from bot.core import events
from bot.core.answers import LookupAnswer, ParentAnswer, Source
from bot.core.created_by import CREATED_BY_TAG, Subject, TagSigner, created_by_value
from bot.core.events import Actor, CreationFact
from bot.core.parents import NamedParent, acts_for_a_parent, is_its_parent, named_parents
from bot.core.refs import ResourceRef
from bot.core.resources import LOAD_BALANCER
from bot.registry.patrol import tag_subject
from bot.store import Store

logger = logging.getLogger(__name__)


class Finder(Protocol):
    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer: ...


class HintSource(Protocol):
    def __call__(self, ref: ResourceRef, region: str) -> Hint: ...


class Archive(Protocol):
    """What lookups need of bot.archive_search.ArchiveSearch."""

    def applies(self, answer: LookupAnswer) -> bool: ...

    def answer(self, answer: LookupAnswer, region: str | None = None) -> LookupAnswer: ...


# A name's creation time may differ this much from its creation event before we call it reused.
SAME_RESOURCE_SLACK = timedelta(hours=2)
MAX_PARENT_DEPTH = 3  # instance → Auto Scaling group → CloudFormation stack is two


class LookupService:
    def __init__(
        self,
        finder: Finder,
        store: Store,
        hints: HintSource | None = None,
        signer: TagSigner | None = None,
        archive: Archive | None = None,
    ) -> None:
        self.finder = finder
        self.store = store
        self.hints = hints
        self.signer = signer  # checks the created-by tag; without one the tag never answers
        self.archive = archive  # the trail archive in Athena, when [athena] configures it

    def lookup(
        self,
        ref: ResourceRef,
        region: str | None = None,
        *,
        interactive: bool = True,
        archive: bool = True,
    ) -> LookupAnswer:
        """The answer; with `archive`, the trail archive is asked too when it applies."""
        answer = self._lookup(ref, region, interactive)
        if archive and self.archive_applies(answer):
            answer = self._archived(answer, region)
        return self._with_parent(answer, interactive, depth=1)

    def archive_applies(self, answer: LookupAnswer) -> bool:
        """Whether the trail archive would be asked about this answer (it found no creation)."""
        return self.archive is not None and self.archive.applies(answer)

    def from_archive(
        self, answer: LookupAnswer, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        """`lookup(..., archive=False)`'s answer, completed from the trail archive."""
        if not self.archive_applies(answer):
            return answer
        return self._with_parent(self._archived(answer, region), interactive, depth=1)

    def _archived(self, answer: LookupAnswer, region: str | None) -> LookupAnswer:
        assert self.archive is not None
        found = self.archive.answer(answer, region)
        if found.fact is not None:
            # A record from the organization's own trail: remembered like CloudTrail's.
            self._remember(answer.ref, found.fact, found.account)
        return found

    def _with_parent(self, answer: LookupAnswer, interactive: bool, depth: int) -> LookupAnswer:
        """The answer, with its parent's creator when a service made it for a parent: the
        parents it names are tried in order (most specific first), as the patrol does, and the
        first whose creation is found answers; else the first, with why not."""
        fact = answer.fact
        if fact is None or depth > MAX_PARENT_DEPTH or not acts_for_a_parent(fact.actor):
            return answer
        named = self._named_parents(answer, fact)
        first: ParentAnswer | None = None
        for parent in named:
            try:
                found = self._parent_answer(answer, fact, parent, interactive)
            except Exception as error:  # the resource's own answer is still worth giving
                logger.exception("looking up %s (parent of %s) failed", parent.words, answer.ref.id)
                note = f"its {parent.words} could not be looked up ({type(error).__name__})"
                return dataclasses.replace(answer, notes=(*answer.notes, note))
            above = ParentAnswer(
                parent.type,
                parent.name,
                parent.kind_words,
                self._with_parent(found, interactive, depth + 1),
                named_by_tag=parent.named_by_tag,
            )
            if found.fact is not None:
                return dataclasses.replace(answer, parent=above)
            first = first or above
        return dataclasses.replace(answer, parent=first) if first else answer

    def _named_parents(self, answer: LookupAnswer, fact: CreationFact) -> tuple[NamedParent, ...]:
        """The parents the creation event and the resource's tags name. A cached answer had no
        describe: its tags are asked for only when the event names no parent."""
        ref = answer.ref
        named = named_parents(
            own_type=ref.type, own_id=ref.id, tags=answer.parent_tags, record=fact.record
        )
        if named or answer.source is not Source.CACHE or self.hints is None or not fact.region:
            return named
        tags = self.hints(_in_account(ref, fact), fact.region).parent_tags
        return named_parents(own_type=ref.type, own_id=ref.id, tags=tags)

    def _parent_answer(
        self, answer: LookupAnswer, fact: CreationFact, parent: NamedParent, interactive: bool
    ) -> LookupAnswer:
        region = fact.region or answer.ref.region
        parent_ref = ResourceRef(
            given=parent.name,
            id=parent.name,
            type=parent.type,
            region=region,
            account=fact.account or answer.ref.account or answer.account,
            partition=answer.ref.partition,
            arn=parent.value if parent.value.startswith("arn:") else None,
        )
        found = self._lookup(parent_ref, region, interactive)
        if found.fact is not None and not is_its_parent(parent, fact.event_time, found.fact):
            why = f"the {found.fact.event_name} event found for that name is another resource's"
            return dataclasses.replace(found, fact=None, reason=None, notes=(*found.notes, why))
        return found

    def _lookup(self, ref: ResourceRef, region: str | None, interactive: bool) -> LookupAnswer:
        cached = self._from_cache(ref, region)
        if cached is not None:
            return cached
        answer = self.finder.find(ref, region, interactive=interactive)
        if answer.fact is not None and answer.source is Source.CLOUDTRAIL:
            self._remember(ref, answer.fact, answer.account)
        if answer.fact is None:
            return from_created_by_tag(answer, self.signer) or answer
        return answer

    def _from_cache(self, ref: ResourceRef, region: str | None) -> LookupAnswer | None:
        facts = self.store.find_facts(
            [ref.id], partition=ref.partition, account=ref.account, region=region or ref.region
        )
        if not facts:
            return None
        fact = facts[0]
        notes: tuple[str, ...] = ()
        if not ref.has_unique_id:
            # Ids AWS never reuses are answered with no AWS call. A name (bucket, function, role)
            # may belong to a newer resource than the one remembered: one describe call tells.
            if not self._still_the_same(ref, fact):
                return None
            notes = ("remembered; its creation time matches the resource there now",)
        return LookupAnswer(
            ref=ref,
            fact=fact,
            regions_searched=(fact.region,) if fact.region else (),
            source=Source.CACHE,
            account=fact.account,
            notes=notes,
        )

    def _still_the_same(self, ref: ResourceRef, fact: CreationFact) -> bool:
        if self.hints is None or not fact.region:
            return False
        hint = self.hints(_in_account(ref, fact), fact.region)
        if hint.created_at is None:
            return False  # cannot tell: ask CloudTrail again rather than risk a stale creator
        return hint.created_at <= fact.event_time + SAME_RESOURCE_SLACK

    def _remember(self, ref: ResourceRef, fact: CreationFact, account: str | None) -> None:
        self.store.put_fact(
            partition=ref.partition,
            account=fact.account or ref.account or account or "unknown",
            region=fact.region or ref.region or "unknown",
            resource_type=ref.type or "unknown",
            fact=dataclasses.replace(fact, resource_id=ref.id),
        )


def _in_account(ref: ResourceRef, fact: CreationFact) -> ResourceRef:
    """The reference, in the account its creation was recorded in (a bare id found elsewhere)."""
    if ref.account or not fact.account:
        return ref
    return dataclasses.replace(ref, account=fact.account)


def from_created_by_tag(answer: LookupAnswer, signer: TagSigner | None) -> LookupAnswer | None:
    """The answer the `whocreated:created-by` tag gives, when the bot signed it for this resource
    and it is complete; else None (a hand-written or copied tag is only shown as a claim).

    Honest about what a tag knows: a name, a time and an event name; no identity type, ARN or
    record. Never cached: the creators cache holds only what CloudTrail said.
    """
    value = created_by_value(answer.owner_tags)
    if value is None or signer is None:
        return None
    tag = signer.read_created_by(_tag_subject(answer), value)
    if tag is None or not tag.signed or tag.event_time is None or tag.event_name is None:
        return None
    ref = answer.ref
    region = ref.region or (
        answer.regions_searched[0] if len(answer.regions_searched) == 1 else None
    )
    fact = CreationFact(
        resource_id=ref.id,
        created=(ref.id,),
        related=(),
        actor=Actor(identity_type=None, arn=None, name=tag.name, account=None),
        event_name=tag.event_name,
        event_source=_event_source(ref.type, tag.event_name),
        event_time=tag.event_time,
        region=region,
        event_id=None,
        source_ip=None,
        user_agent=None,
        tool=None,
        account=ref.account or answer.account,
        record={},
    )
    why = f": {answer.reason.value}" if answer.reason else ""
    note = (
        f"from the {CREATED_BY_TAG} tag on the resource, which whocreated wrote from CloudTrail "
        f"(the {tag.event_name} event of {tag.event_time:%Y-%m-%d}); CloudTrail itself did not "
        f"find the creation{why}"
    )
    # The tag is the answer now, not one of the claims shown beside it.
    claims = {k: v for k, v in answer.owner_tags.items() if k.lower() != CREATED_BY_TAG}
    return dataclasses.replace(
        answer,
        fact=fact,
        reason=None,
        source=Source.TAG,
        owner_tags=claims,
        notes=(note, *answer.notes),
        first_seen=None,
    )


def _tag_subject(answer: LookupAnswer) -> Subject:
    """The resource as the patrol that wrote the tag keyed it (Resource.key), and its creation
    time where its name can be reused."""
    ref = answer.ref
    region = ref.region or (answer.regions_searched[0] if len(answer.regions_searched) == 1 else "")
    resource_id = ref.arn if ref.type == LOAD_BALANCER and ref.arn else ref.id
    key = (ref.account or answer.account or "", region or "", ref.type or "", resource_id)
    created_at = answer.created_at_hint if isinstance(answer.created_at_hint, datetime) else None
    return tag_subject(key, created_at)


def _event_source(resource_type: str | None, event_name: str) -> str:
    """The service that logs `event_name` for this type, from the create-event table."""
    sources = {
        source for source, name in events.creation_event_names(resource_type) if name == event_name
    }
    return sources.pop() if len(sources) == 1 else ""
