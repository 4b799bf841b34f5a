"""Who created a whole fleet: CloudTrail creation events read in bulk, indexed by what they created.

Asking LookupEvents once per resource costs N calls (and N seconds at 2 calls/s per region). A
patrol round instead pages through LookupEvents once per creation event name (RunInstances,
CreateVolume, …) over the window, and indexes each event by the ids it created: the calls depend
on how many creations happened, not on how many resources are asked about.

Calls go through the shared limiter as background work (`interactive=False`), so an interactive
`/whocreated` lookup in the same account and region takes the next slot. Throttling is retried;
an event name that still could not be read is reported as unread, never as "no creation".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code
from bot.aws.lookup_calls import Limiter, LookupDenied, lookup_events, record_of
from bot.aws.trail import PAGE_SIZE, RETENTION
from bot.core import events

logger = logging.getLogger(__name__)

ClientFor = Callable[[str, str], Any]
Record = Mapping[str, Any]


@dataclass
class CreatorIndex:
    """One account and region: what each creation event in the window created.

    `read` lists the event names read to the end; `failed` maps event names that could not be
    read to why (an absence there proves nothing). `pages` counts pages read per event name.
    """

    account: str
    region: str
    start: datetime
    end: datetime
    read: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    calls: int = 0  # LookupEvents requests sent, throttled retries included
    denied: bool = False
    notes: list[str] = field(default_factory=list)
    # The ids and names asked about, case-folded; None keeps every creation. Records of other
    # resources are dropped as they are read, so memory follows what is asked, not the account.
    wanted: frozenset[str] | None = field(default=None, repr=False)
    _by_id: dict[str, list[Record]] = field(default_factory=dict, repr=False)
    _event_ids: set[str] = field(default_factory=set, repr=False)

    def add(self, record: Record) -> int:
        """Index one record by every id it created; returns how many ids (0: not a creation)."""
        created = events.created_ids(record)
        event_id = str(record.get("eventID") or "")
        if not created or (event_id and event_id in self._event_ids):
            return 0
        if self.wanted is not None and not any(v.casefold() in self.wanted for v in created):
            return 0
        if event_id:
            self._event_ids.add(event_id)
        for value in created:
            # Case-folded here; events.creation_fact decides afterwards whether case matters.
            self._by_id.setdefault(value.casefold(), []).append(record)
        return len(created)

    def creation(
        self,
        names: Iterable[str],
        *,
        resource_type: str | None = None,
        before: datetime | None = None,
        accept: Callable[[events.CreationFact], bool] | None = None,
    ) -> events.CreationFact | None:
        """The creation of the resource known by `names`; the newest one when names were reused.

        `resource_type` keeps only events that create that type (a classic load balancer and an
        RDS instance may share a name). With `before` (the service's creation time), the newest
        creation not after it wins: a later one made some other, newer resource.
        """
        wanted = [name for name in dict.fromkeys(names) if name]
        pairs = set(events.creation_event_names(resource_type)) if resource_type else None
        seen: set[int] = set()
        facts: list[events.CreationFact] = []
        for name in wanted:
            for record in self._by_id.get(name.casefold(), ()):
                if id(record) in seen:
                    continue
                seen.add(id(record))
                fact = events.creation_fact(record, wanted)
                if fact is None:
                    continue
                if pairs is not None and (fact.event_source, fact.event_name) not in pairs:
                    continue
                if accept is None or accept(fact):
                    facts.append(fact)
        return newest(facts, before)

    def unread(self, event_names: Iterable[str]) -> dict[str, str]:
        """Of these event names, those not read to the end, with why."""
        return {
            name: self.failed.get(name, "not read") for name in event_names if name not in self.read
        }

    def merged(self, other: CreatorIndex) -> CreatorIndex:
        """This index and another pass over the same account and region, as one."""
        both = CreatorIndex(
            self.account,
            self.region,
            min(self.start, other.start),
            max(self.end, other.end),
            read=self.read | other.read,
            failed={**self.failed, **other.failed},
            pages={**self.pages, **other.pages},
            calls=self.calls + other.calls,
            denied=self.denied or other.denied,
            notes=list(dict.fromkeys([*self.notes, *other.notes])),
        )
        for name in both.read:
            both.failed.pop(name, None)
        seen: set[int] = set()
        for index in (self, other):
            for records in index._by_id.values():
                for record in records:
                    if id(record) not in seen:  # a record is listed under each id it created
                        seen.add(id(record))
                        both.add(record)
        return both

    @property
    def size(self) -> int:
        return len(self._by_id)


def newest(
    facts: Sequence[events.CreationFact], before: datetime | None = None
) -> events.CreationFact | None:
    """The newest fact, preferring those not after `before`; None for none."""
    if not facts:
        return None
    if before is not None:
        earlier = [fact for fact in facts if fact.event_time <= before]
        if earlier:
            facts = earlier
    return max(facts, key=lambda fact: fact.event_time)


def event_names_for(types: Iterable[str]) -> tuple[str, ...]:
    """LookupEvents EventName values that create any of `types`, each once, in table order."""
    names: dict[str, None] = {}
    for resource_type in dict.fromkeys(types):
        for _source, name in events.creation_event_names(resource_type):
            names.setdefault(name)
    return tuple(names)


class BulkCreators:
    """`index(account, region, types)` → CreatorIndex, one LookupEvents pass per event name."""

    def __init__(
        self,
        client_for: ClientFor,
        limiter: Limiter,
        *,
        clock: Callable[[], datetime],
        account_id: Callable[[], str | None],
        clients_for_account: Callable[[str], ClientFor | None] | None = None,
    ) -> None:
        self._client_for = client_for
        self._limiter = limiter
        self._clock = clock
        self._account_id = account_id
        # Other accounts (assumed roles) need their own clients; without this only our own.
        self._clients_for_account = clients_for_account

    def index(
        self,
        account: str,
        region: str,
        types: Iterable[str],
        *,
        since: datetime | None = None,
        skip_events: Collection[str] = (),
        wanted: Collection[str] | None = None,
    ) -> CreatorIndex:
        """Read every creation of `types` in [since or 90 days ago, now] in one region.

        `skip_events`: event names an earlier pass already read (its index is merged by the
        caller). Denied → an empty index with `denied` and a note; never raises for AWS errors.
        """
        now = self._clock()
        start = max(since or now - RETENTION, now - RETENTION).replace(microsecond=0)
        end = now.replace(microsecond=0)
        keep = frozenset(name.casefold() for name in wanted) if wanted is not None else None
        index = CreatorIndex(account, region, start, end, wanted=keep)
        names = [name for name in event_names_for(types) if name not in skip_events]
        if not names:
            return index
        client = self._client(account, region)
        if client is None:
            why = f"no credentials for account {account}"
            index.failed.update(dict.fromkeys(names, why))
            index.notes.append(f"CloudTrail not read in {account}/{region}: {why}")
            return index
        for position, name in enumerate(names):
            try:
                self._read(index, client, name)
            except LookupDenied:
                index.denied = True
                index.failed.update(dict.fromkeys(names[position:], "denied"))
                index.notes.append(f"cloudtrail:LookupEvents denied in {region}")
                break
            except ClientError as error:
                logger.exception("LookupEvents EventName=%s in %s/%s failed", name, account, region)
                index.failed[name] = error_code(error)
            except BotoCoreError as error:
                logger.exception("LookupEvents EventName=%s in %s/%s failed", name, account, region)
                index.failed[name] = type(error).__name__
        unread = sorted(name for name in names if name in index.failed and not index.denied)
        if unread:
            index.notes.append(f"CloudTrail events not read in {region}: {', '.join(unread)}")
        logger.info(
            "CloudTrail bulk %s/%s: %d event names, %d calls, %d created ids indexed",
            account,
            region,
            len(names),
            index.calls,
            index.size,
        )
        return index

    def _client(self, account: str, region: str) -> Any | None:
        own = self._own_account()
        if own is None or account == own:
            return self._client_for("cloudtrail", region)
        clients = self._clients_for_account(account) if self._clients_for_account else None
        if clients is None:
            logger.warning("no CloudTrail client for account %s: not read", account)
            return None
        return clients("cloudtrail", region)

    def _own_account(self) -> str | None:
        try:
            return self._account_id()
        except Exception:
            logger.exception("could not tell our own account id; reading CloudTrail as our own")
            return None

    def _read(self, index: CreatorIndex, client: Any, name: str) -> None:
        """Every page of one event name over the window, into the index."""
        request: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
            "StartTime": index.start,
            "EndTime": index.end,
            "MaxResults": PAGE_SIZE,
        }
        index.pages[name] = 0
        while True:
            response = self._call(index, client, request)
            index.pages[name] += 1
            for event in response.get("Events", []):
                record = record_of(event)
                if record is not None:
                    index.add(record)
            token = response.get("NextToken")
            if not token:
                index.read.add(name)
                return
            request["NextToken"] = token

    def _call(self, index: CreatorIndex, client: Any, request: dict[str, Any]) -> dict[str, Any]:
        def count() -> None:
            index.calls += 1

        return lookup_events(
            client,
            request,
            self._limiter,
            index.account,
            index.region,
            interactive=False,  # interactive /whocreated lookups go first
            before_call=count,
        )
