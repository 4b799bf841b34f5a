"""Owners at fleet scale: who each patrolled resource belongs to, and how we know.

In order (DESIGN.md §2, patrol round; §4, Trust):
1. trusted sources on the resource: owner tags the policy trusts (`ownership.trusted_tags`, for
   organisations that enforce them), the `whocreated:created-by` tag when its signature holds for
   this resource, and AWS's own `aws:createdby` (users cannot write `aws:` tags);
2. the creators cache in the store;
3. CloudTrail in bulk: one `BulkCreators.index` per account × region for the types still unknown;
   for what is older than its 90 days, the trail archive in Athena when `[athena]` configures
   it (bot.archive_owners: one query per account × region);
4. the parent chain: an Auto Scaling group, CloudFormation stack or EKS node group (or cluster)
   → whoever created that parent, when the resource's own creator is an AWS service or unknown;
then the Slack user, through the directory's trusted rules. Such an owner is `verified`: the
buttons obey them. Any other owner-like tag (Owner, CreatedBy, an unsigned created-by…) is a
claim: it routes the digest only when none of the above names a person on Slack, and then only
admins may press its buttons. A resolved creator is written back as the signed
`whocreated:created-by` tag where the policy allows, so the answer outlives CloudTrail's 90 days.

Work is batched by level: all resources first, then all their parents at once, then the parents'
parents, so CloudTrail is paged through at most once per event name, account and region.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.archive_owners import ArchiveCreators, Wanted
from bot.aws.bulk_trail import BulkCreators, CreatorIndex, event_names_for, newest
from bot.aws.creation_hints import OWNER_TAG_KEYS, owner_tags
from bot.aws.tagging import Tagger
from bot.aws.trail import RETENTION
from bot.core import events, trust
from bot.core.created_by import (
    CREATED_BY_TAG,
    TagSigner,
    created_by_value,
    parse_unsigned,
)
from bot.core.events import Actor, CreationFact
from bot.core.parents import EKS_NODEGROUP, acts_for_a_parent, cluster_of, named_parents
from bot.core.policy import Policy
from bot.core.resources import Owner, Resource
from bot.registry.patrol import PATROL, tag_subject
from bot.store import FactPlace, Store

logger = logging.getLogger(__name__)

Key = tuple[str, str, str, str]  # Resource.key: account, region, type, id

MAX_PARENT_DEPTH = 3  # instance → Auto Scaling group → EKS node group is two
CREATION_SLACK = timedelta(minutes=10)  # the create call is logged a little before the resource
REUSE_TOLERANCE = timedelta(days=1)  # a cached creation this much older names an earlier resource
CACHE_QUERY_CHUNK = 500  # ids per store query (SQLite's variable limit is far above)


class Directory(Protocol):
    def slack_user(self, actor: Actor) -> str | None: ...

    def claimed_user(self, value: str) -> str | None: ...


# ---------------------------------------------------------------------------------------------
# Tables


_MACHINE_NAME = re.compile(
    r"^(?:i-(?:[0-9a-f]{17}|[0-9a-f]{8})|botocore-session-.*|aws-go-sdk-.*|\d+"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
    re.IGNORECASE,
)


def _is_service(name: str, actor: Actor) -> bool:
    return (
        actor.identity_type == "AWSService"
        or name == actor.invoked_by
        or name.lower().endswith(".amazonaws.com")
    )


# An identity that is not a person: (words for the reason, test). First match wins.
NOT_A_PERSON: tuple[tuple[str, Callable[[str, Actor], bool]], ...] = (
    ("an AWS service", _is_service),
    ("an AWS service-linked role", lambda name, actor: name.startswith("AWSServiceRoleFor")),
    ("a machine-made session name", lambda name, actor: bool(_MACHINE_NAME.match(name))),
)


def not_a_person(actor: Actor) -> str | None:
    """Why this identity is not a person, or None when it may be one."""
    if not actor.name:
        return "an identity without a name"
    return next((words for words, test in NOT_A_PERSON if test(actor.name, actor)), None)


AWS_CREATED_BY_TAG = "aws:createdby"  # AWS's cost-allocation tag; only AWS can write aws: tags
_TAG_ORDER = {key: position for position, key in enumerate(OWNER_TAG_KEYS)}


def _aws_created_by(value: str) -> Actor | None:
    """ "IAMUser:AIDA…:alice" or "AssumedRole:AROA…:session" as an identity (no ARN: a session
    name read from it is as free a choice as anywhere, and the directory treats it so)."""
    parts = value.split(":")
    if len(parts) < 3 or not parts[-1]:
        return None
    return Actor(identity_type=parts[0], arn=None, name=parts[-1], account=None)


def _plain_value(value: str) -> str:
    """A person's name, email or Slack mention as it is; an ARN (AutoTag_Creator) by its last
    part."""
    if value.startswith("arn:"):
        return value.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return value


# ---------------------------------------------------------------------------------------------
# Values inside one resolve()


@dataclass(frozen=True)
class _Subject:
    """A resource, or a parent of one, whose creator is wanted."""

    account: str
    region: str
    type: str
    id: str
    names: tuple[str, ...]  # what its creation event may call it (ARN, id, name)
    words: str  # "Auto Scaling group web-asg", for reasons
    partition: str = "aws"
    before: datetime | None = None  # its creation event is not after this, when known
    created_at: datetime | None = None  # the service's own creation time (resources only)
    cluster: str | None = None  # an EKS node group's cluster
    resource: Resource | None = field(default=None, compare=False, repr=False)
    # A parent only a writable tag named (bot.core.parents.NamedParent.named_by_tag).
    named_by_tag: str | None = field(default=None, compare=False)

    @property
    def place(self) -> tuple[str, str]:
        return (self.account, self.region)


@dataclass(frozen=True)
class _Outcome:
    """What is known about a subject's creator."""

    source: str
    actor: Actor | None = None  # set only when the creator may be a person
    fact: CreationFact | None = None
    reason: str | None = None  # when no person was found: why
    non_person: str | None = None  # the creator's name when it is a service or machine
    # Reached through a parent only a writable tag named: the creator is a claim, not an owner.
    via_tag: str | None = None

    @property
    def person(self) -> bool:
        return self.actor is not None


@dataclass(frozen=True)
class _Climb:
    """A subject whose creator is its parent's: try the parents in order, else `fallback`."""

    parents: tuple[_Subject, ...]
    fallback: _Outcome
    why: str


@dataclass
class _Run:
    indexes: dict[tuple[str, str], CreatorIndex] = field(default_factory=dict)
    slack: dict[tuple[str | None, str | None], str | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    archive_words: dict[_Subject, str] = field(default_factory=dict)  # why the archive did not


# ---------------------------------------------------------------------------------------------


class OwnerResolver:
    def __init__(
        self,
        *,
        store: Store,
        bulk: BulkCreators,
        directory: Directory,
        policy: Policy,
        clock: Callable[[], datetime],
        tagger: Tagger | None = None,
        signer: TagSigner | None = None,
        max_workers: int = 8,
        archive: ArchiveCreators | None = None,
    ) -> None:
        self._store = store
        self._bulk = bulk
        self._directory = directory
        self._policy = policy
        self._clock = clock
        self._tagger = tagger
        self._signer = signer
        self._max_workers = max(1, max_workers)
        self._archive = archive  # creators older than CloudTrail's 90 days, with [athena]

    def resolve(self, resources: Sequence[Resource]) -> dict[Key, Owner]:
        """Resource.key → Owner for every resource given."""
        run = _Run()
        owners: dict[Key, Owner] = {}
        claims: dict[Key, Owner] = {}
        rest: list[Resource] = []
        for resource in resources:
            owner, claim = self._from_tags(run, resource)
            if owner is not None:
                owners[resource.key] = owner
                continue
            rest.append(resource)
            if claim is not None:
                claims[resource.key] = claim
        if rest:
            subjects = [_subject_of(resource) for resource in rest]
            outcomes = self._outcomes(run, subjects, depth=0)
            for resource, subject in zip(rest, subjects, strict=True):
                owners[resource.key] = self._owner(
                    run, resource, outcomes[subject], claims.get(resource.key)
                )
        self._write_back(resources, owners)
        sources = Counter(owner.source.split(":", 1)[0] for owner in owners.values())
        logger.info(
            "owners of %d resources: %s; %d LookupEvents calls",
            len(owners),
            ", ".join(f"{count} by {source}" for source, count in sorted(sources.items())),
            sum(index.calls for index in run.indexes.values()),
        )
        return owners

    # (a) Owner tags -----------------------------------------------------------------------

    def _from_tags(self, run: _Run, resource: Resource) -> tuple[Owner | None, Owner | None]:
        """(a verified owner from a trusted tag, or the first claim an untrusted tag makes)."""
        tags = owner_tags(resource.tags)
        # Exactly as configured: tag keys are case-sensitive, so an SCP or tag policy that
        # enforces `Owner` does not cover `OWNER`, which anyone who may tag can write.
        trusted = set(self._policy.ownership.trusted_tags)
        claim: Owner | None = None
        for key in sorted(tags, key=lambda k: _TAG_ORDER.get(k.lower(), len(_TAG_ORDER))):
            value = tags[key].strip()
            lowered = key.lower()
            if lowered == CREATED_BY_TAG:
                owner, own_claim = self._created_by(resource, key, value)
            elif lowered == AWS_CREATED_BY_TAG:
                owner, own_claim = self._aws_created_by(run, key, value), None
            else:
                owner, own_claim = self._owner_tag(run, key, value, trusted=key in trusted)
            if owner is not None:
                return owner, None
            claim = claim or own_claim
        return None, claim

    def _owner_tag(
        self, run: _Run, key: str, value: str, *, trusted: bool
    ) -> tuple[Owner | None, Owner | None]:
        name = _plain_value(value)
        actor = Actor(identity_type=None, arn=None, name=name or None, account=None)
        if not name or not_a_person(actor) is not None:
            return None, None  # e.g. AutoTag_Creator naming an instance's role session
        slack_user = self._claimed(run, name)
        if trusted and slack_user is not None:
            owner = Owner(aws_name=name, source=f"tag:{key}", slack_user=slack_user, verified=True)
            return owner, None
        return None, _claim(key, name, slack_user)

    def _created_by(
        self, resource: Resource, key: str, value: str
    ) -> tuple[Owner | None, Owner | None]:
        """The bot's own tag: verified when signed for this very resource, else a claim."""
        read = (
            self._signer.read_created_by(tag_subject(resource.key, resource.created_at), value)
            if self._signer is not None
            else parse_unsigned(value)
        )
        if read is None:
            return None, None
        if read.signed and read.slack_user:
            owner = Owner(
                aws_name=read.name,
                source=f"tag:{key}",
                slack_user=read.slack_user,
                verified=True,
            )
            return owner, None
        if read.signed:
            return None, None  # written from CloudTrail, for nobody on Slack: CloudTrail decides
        return None, _claim(key, read.name, None)

    def _aws_created_by(self, run: _Run, key: str, value: str) -> Owner | None:
        """AWS wrote it, so its identity type is true; the directory's rules decide the rest."""
        actor = _aws_created_by(value)
        if actor is None or not_a_person(actor) is not None:
            return None
        slack_user = self._slack(run, actor)
        if slack_user is None:
            return None
        return Owner(aws_name=actor.name, source=f"tag:{key}", slack_user=slack_user, verified=True)

    # (b), (c), (d): facts, level by level -------------------------------------------------

    def _outcomes(
        self, run: _Run, subjects: Sequence[_Subject], depth: int
    ) -> dict[_Subject, _Outcome]:
        unique = list(dict.fromkeys(subjects))
        facts = self._facts(run, unique)
        judged = {
            subject: self._judge(run, subject, *facts.get(subject, (None, "")))
            for subject in unique
        }
        parents = [
            parent
            for verdict in judged.values()
            if isinstance(verdict, _Climb)
            for parent in verdict.parents
        ]
        above = (
            self._outcomes(run, parents, depth + 1) if parents and depth < MAX_PARENT_DEPTH else {}
        )
        return {
            subject: verdict if isinstance(verdict, _Outcome) else _climbed(verdict, above)
            for subject, verdict in judged.items()
        }

    def _judge(
        self, run: _Run, subject: _Subject, fact: CreationFact | None, source: str
    ) -> _Outcome | _Climb:
        parents = _parents(subject, fact)
        kind = not_a_person(fact.actor) if fact is not None else None
        if fact is not None and kind is None:
            person = _Outcome(source, actor=fact.actor, fact=fact)
            # Made by CloudFormation, Auto Scaling or EKS with someone's credentials: that
            # someone made the parent; without a known parent, they are the best answer.
            if not parents or not acts_for_a_parent(fact.actor):
                return person
            return _Climb(parents, person, f"created by {fact.actor.name} through a parent")
        if fact is not None:
            why = f"created by {fact.actor.name or 'an unnamed identity'}, {kind}"
            if not parents:
                why += (
                    ", and no Auto Scaling group, CloudFormation stack or EKS node group "
                    "it belongs to is known"
                )
        else:
            why = self._why_no_fact(run, subject)
        fallback = _Outcome(
            "none", fact=fact, reason=why, non_person=fact.actor.name if fact else None
        )
        return _Climb(parents, fallback, why) if parents else fallback

    def _why_no_fact(self, run: _Run, subject: _Subject) -> str:
        """Why CloudTrail (and the trail archive, when asked) did not name a creator."""
        why = self._why_not_in_trail(run, subject)
        archive = run.archive_words.get(subject)
        return f"{why}; {archive}" if archive else why

    def _why_not_in_trail(self, run: _Run, subject: _Subject) -> str:
        """Why CloudTrail did not name a creator, in plain words."""
        names = event_names_for([subject.type])
        if not names:
            return f"whocreated does not know which CloudTrail event creates {subject.type}"
        index = run.indexes.get(subject.place)
        if index is None:
            return "CloudTrail was not read"
        if index.denied:
            return (
                f"CloudTrail lookups are denied in {subject.region} "
                "(the credentials need cloudtrail:LookupEvents)"
            )
        unread = index.unread(names)
        if unread:
            causes = ", ".join(sorted(set(unread.values())))
            return (
                f"CloudTrail could not be read in {subject.region} ({causes}); "
                "it is tried again next round"
            )
        if subject.created_at is not None and subject.created_at < self._clock() - RETENTION:
            return (
                f"it was created on {subject.created_at:%Y-%m-%d}, before CloudTrail's "
                "90 days of event history"
            )
        return f"CloudTrail has no creation event for it since {index.start:%Y-%m-%d}"

    def _facts(
        self, run: _Run, subjects: Sequence[_Subject]
    ) -> dict[_Subject, tuple[CreationFact, str]]:
        found = {subject: (fact, "cache") for subject, fact in self._cached(subjects).items()}
        missing = [subject for subject in subjects if subject not in found]
        if missing:
            learned = self._from_trail(run, missing)
            for subject, fact in learned.items():
                found[subject] = (fact, "cloudtrail")
            self._remember(learned)
            older = [s for s in missing if s not in learned and self._before_trail(run, s)]
            if older:
                archived = self._from_archive(run, older)
                for subject, fact in archived.items():
                    found[subject] = (fact, "archive")
                self._remember(archived)
        return found

    def _before_trail(self, run: _Run, subject: _Subject) -> bool:
        """CloudTrail's 90 days were read in full and hold no creation, and the resource is
        older than them (or does not say): the trail archive may know."""
        if self._archive is None:
            return False
        index = run.indexes.get(subject.place)
        if index is None or index.denied or index.unread(event_names_for([subject.type])):
            return False
        return subject.created_at is None or subject.created_at < index.start + CREATION_SLACK

    def _from_archive(
        self, run: _Run, subjects: Sequence[_Subject]
    ) -> dict[_Subject, CreationFact]:
        assert self._archive is not None
        since = min(run.indexes[subject.place].start for subject in subjects)
        wanted = [
            Wanted(
                key=subject,
                account=subject.account,
                region=subject.region,
                type=subject.type,
                names=subject.names,
                created_at=subject.created_at,
                before=subject.before,
                accept=functools.partial(_accepts, subject),
            )
            for subject in subjects
        ]
        answer = self._archive.creations(wanted, trail_since=since)
        with run.lock:
            for key, words in answer.why_not.items():
                if isinstance(key, _Subject):
                    run.archive_words[key] = words
        return {key: fact for key, fact in answer.facts.items() if isinstance(key, _Subject)}

    def _cached(self, subjects: Sequence[_Subject]) -> dict[_Subject, CreationFact]:
        """One store query per partition, account and region (in chunks), not one per subject."""
        groups: dict[tuple[str, str, str], list[_Subject]] = {}
        for subject in subjects:
            groups.setdefault((subject.partition, *subject.place), []).append(subject)
        found: dict[_Subject, CreationFact] = {}
        for (partition, account, region), group in groups.items():
            ids = list(dict.fromkeys(name for subject in group for name in subject.names))
            by_id: dict[str, list[CreationFact]] = {}
            for start in range(0, len(ids), CACHE_QUERY_CHUNK):
                chunk = ids[start : start + CACHE_QUERY_CHUNK]
                for fact in self._store.find_facts(
                    chunk, partition=partition, account=account, region=region
                ):
                    by_id.setdefault(fact.resource_id, []).append(fact)
            for subject in group:
                pairs = set(events.creation_event_names(subject.type))
                candidates = [
                    fact
                    for name in subject.names
                    for fact in by_id.get(name, ())
                    if (fact.event_source, fact.event_name) in pairs
                    and _accepts(subject, fact)
                    and _plausible(subject, fact)
                ]
                chosen = newest(candidates, subject.before)
                if chosen is not None:
                    found[subject] = chosen
        return found

    def _from_trail(self, run: _Run, subjects: Sequence[_Subject]) -> dict[_Subject, CreationFact]:
        groups: dict[tuple[str, str], list[_Subject]] = {}
        for subject in subjects:
            groups.setdefault(subject.place, []).append(subject)
        places = list(groups)
        if len(places) == 1:
            self._index(run, places[0], groups[places[0]])
        else:
            # Regions have separate LookupEvents limits: read them side by side.
            workers = min(self._max_workers, len(places))
            with ThreadPoolExecutor(workers, thread_name_prefix="whocreated-owners") as pool:
                futures = [pool.submit(self._index, run, place, groups[place]) for place in places]
                for future in futures:
                    future.result()  # a bug in one region is not swallowed
        found: dict[_Subject, CreationFact] = {}
        for subject in subjects:
            index = run.indexes.get(subject.place)
            if index is None:
                continue
            fact = index.creation(
                subject.names,
                resource_type=subject.type,
                before=subject.before,
                accept=functools.partial(_accepts, subject),
            )
            if fact is not None:
                found[subject] = fact
        return found

    def _index(self, run: _Run, place: tuple[str, str], subjects: Sequence[_Subject]) -> None:
        """Read the event names these subjects need that this round has not read yet."""
        with run.lock:
            known = run.indexes.get(place)
        done = set(known.read) | set(known.failed) if known else set()
        types = list(dict.fromkeys(subject.type for subject in subjects))
        if not [name for name in event_names_for(types) if name not in done]:
            return
        if known is not None and known.denied:
            return  # denied once is denied for the round
        wanted = {name for subject in subjects for name in subject.names}
        fresh = self._bulk.index(*place, types, skip_events=done, wanted=wanted)
        with run.lock:
            current = run.indexes.get(place)
            run.indexes[place] = current.merged(fresh) if current else fresh

    def _remember(self, learned: Mapping[_Subject, CreationFact]) -> None:
        """Cache a round's creations in one write, not one transaction each."""
        self._store.put_facts(
            [
                FactPlace(
                    subject.partition,
                    subject.account,
                    subject.region,
                    subject.type,
                    dataclasses.replace(fact, resource_id=subject.id),
                )
                for subject, fact in learned.items()
            ]
        )

    # Slack and the Owner -----------------------------------------------------------------

    def _owner(
        self, run: _Run, resource: Resource, outcome: _Outcome, claim: Owner | None
    ) -> Owner:
        """A creator the directory maps is the verified owner; else a claim routes the digest
        (admins act on it); else nobody, with why."""
        if outcome.actor is not None:
            name = outcome.actor.name
            slack_user = self._slack(run, outcome.actor)
            if slack_user is not None and outcome.via_tag is not None:
                return Owner(
                    aws_name=name,
                    source=outcome.source,
                    slack_user=slack_user,
                    fact=outcome.fact,
                    reason=f"{name} made the parent named only by its {outcome.via_tag} tag, "
                    "which anyone who may tag it can write (not verified: only admins may act)",
                )
            if slack_user is not None:
                return Owner(
                    aws_name=name,
                    source=outcome.source,
                    slack_user=slack_user,
                    fact=outcome.fact,
                    verified=True,
                )
            why = f"its creator {name} has no Slack account whocreated can match"
            unmapped = trust.why_not_mapped(outcome.actor)
            if unmapped:
                why = f"its creator is {unmapped}"
            if claim is not None:
                reason = f"{claim.reason}; {why}"
                return dataclasses.replace(claim, fact=outcome.fact, reason=reason)
            return Owner(aws_name=name, source=outcome.source, fact=outcome.fact, reason=why)
        if claim is not None:
            return dataclasses.replace(claim, reason=f"{claim.reason}; {outcome.reason}")
        return Owner(
            aws_name=outcome.non_person,
            source="none",
            fact=outcome.fact,
            reason=f"no owner tag, and {outcome.reason}",
        )

    def _claimed(self, run: _Run, value: str) -> str | None:
        """The Slack user an owner tag's value names (for routing; authority is the caller's)."""
        return _once(run, ("claim", value), lambda: self._directory.claimed_user(value))

    def _slack(self, run: _Run, actor: Actor) -> str | None:
        return _once(run, (actor.arn, actor.name), lambda: self._directory.slack_user(actor))

    # Write-back ----------------------------------------------------------------------------

    def _write_back(self, resources: Iterable[Resource], owners: Mapping[Key, Owner]) -> None:
        """Tag resources whose own creation event named a person (not a parent's, not a tag),
        signed for that resource, in batches (one CreateTags per region and value). A signed tag
        already there is left, a forged one replaced. Only given a tagger when the round may
        write: read-only scans and dry-run rounds never do."""
        if self._tagger is None or self._signer is None or not self._policy.actions.write_tags:
            return
        items = []
        for resource in resources:
            owner = owners.get(resource.key)
            if (
                owner is None
                or owner.source not in ("cache", "cloudtrail", "archive")
                or owner.fact is None
                or not owner.aws_name
            ):
                continue
            where = tag_subject(resource.key, resource.created_at)
            present = self._signer.read_created_by(where, created_by_value(resource.tags))
            if present is not None and present.signed:
                continue
            value = self._signer.created_by(
                where,
                owner.aws_name,
                owner.fact.event_time,
                owner.fact.event_name,
                owner.slack_user,
            )
            items.append((resource, {CREATED_BY_TAG: value}))
        if not items:
            return
        written, failed = self._tagger.tag_all(items)
        logger.info("%s tags written: %d, not written: %d", CREATED_BY_TAG, written, failed)


# ---------------------------------------------------------------------------------------------
# Helpers


def _once(
    run: _Run, key: tuple[str | None, str | None], ask: Callable[[], str | None]
) -> str | None:
    """The directory's answer for `key`, asked once a round (it may call Slack)."""
    with run.lock:
        if key in run.slack:
            return run.slack[key]
    user = ask()
    with run.lock:
        run.slack[key] = user
    return user


def _claim(key: str, name: str, slack_user: str | None) -> Owner:
    """An owner tag's word: it routes a digest, it grants nothing (DESIGN.md §4, Trust)."""
    if slack_user is None:
        reason = f"its {key} tag names {name}, who has no Slack account whocreated can match"
    else:
        reason = f"tagged {key}={name} (not verified: only admins may act on it)"
    return Owner(aws_name=name, source=f"tag:{key}", slack_user=slack_user, reason=reason)


def _partition(arn: str | None) -> str:
    if arn and arn.startswith("arn:"):
        return arn.split(":", 2)[1] or "aws"
    return "aws"


def _subject_of(resource: Resource) -> _Subject:
    # What its creation event may call it, as its type's declaration says (ARN and id unless
    # it says otherwise).
    declared = PATROL.declaration(resource.type)
    names = (
        declared.names_in_creation(resource)
        if declared is not None
        else tuple(n for n in (resource.arn, resource.id) if n)
    )
    created_at = resource.created_at
    return _Subject(
        account=resource.account,
        region=resource.region,
        type=resource.type,
        id=resource.id,
        names=tuple(dict.fromkeys(names)),
        words=resource.label,
        partition=_partition(resource.arn),
        before=created_at + CREATION_SLACK if created_at else None,
        created_at=created_at,
        resource=resource,
    )


def _parents(subject: _Subject, fact: CreationFact | None) -> tuple[_Subject, ...]:
    """Parents the subject names: its details, its tags, the tags its creation event set."""
    named = named_parents(
        own_type=subject.type,
        own_id=subject.id,
        details=subject.resource.details if subject.resource else None,
        tags=subject.resource.tags if subject.resource else None,
        record=fact.record if fact is not None else None,
    )
    declared = PATROL.declaration(subject.type)
    if declared is not None:  # a patrolled resource follows only the parents its type may have
        named = tuple(parent for parent in named if parent.type in declared.parents)
    # The parent was made before the child's creation (or its launch, at the latest).
    before = fact.event_time if fact is not None else subject.before
    return tuple(
        _Subject(
            account=subject.account,
            region=subject.region,
            type=parent.type,
            id=parent.name,
            names=tuple(dict.fromkeys((parent.value, parent.name))),
            words=parent.words,
            partition=subject.partition,
            before=before,
            cluster=parent.cluster,
            named_by_tag=parent.named_by_tag,
        )
        for parent in named
    )


def _climbed(climb: _Climb, above: Mapping[_Subject, _Outcome]) -> _Outcome:
    """The first parent whose creator may be a person; else the subject's own outcome."""
    for parent in climb.parents:
        outcome = above.get(parent)
        if outcome is not None and outcome.person:
            source = outcome.source
            if not source.startswith("parent:"):
                source = f"parent:{parent.type} {parent.id}"
            via_tag = parent.named_by_tag or outcome.via_tag
            return dataclasses.replace(outcome, source=source, via_tag=via_tag)
    if climb.fallback.person:
        return climb.fallback
    first = climb.parents[0]
    outcome = above.get(first)
    parent_why = outcome.reason if outcome is not None else "its creator was not looked for"
    return dataclasses.replace(
        climb.fallback, reason=f"{climb.why}; its {first.words}: {parent_why}"
    )


def _same_cluster(subject: _Subject, fact: CreationFact) -> bool:
    """An EKS node group name is unique only within its cluster."""
    if subject.cluster is None:
        return True
    cluster = cluster_of(fact.record)
    return cluster is None or cluster == subject.cluster


# Checks a creation event must pass to be a parent's, beyond its names and type (a patrolled
# type's own check is in its declaration).
ACCEPTS: dict[str, Callable[[_Subject, CreationFact], bool]] = {
    EKS_NODEGROUP: _same_cluster,
}


def _accepts(subject: _Subject, fact: CreationFact) -> bool:
    declared = PATROL.declaration(subject.type)
    if declared is not None and declared.accepts_creation is not None:
        return declared.accepts_creation(fact)
    check = ACCEPTS.get(subject.type)
    return check is None or check(subject, fact)


def _plausible(subject: _Subject, fact: CreationFact) -> bool:
    """A cached creation much older than the service's creation time named an earlier resource
    with the same name (deleted since): CloudTrail must be asked again."""
    if PATROL.unique_ids(subject.type) or subject.created_at is None:
        return True
    return fact.event_time >= subject.created_at - REUSE_TOLERANCE
