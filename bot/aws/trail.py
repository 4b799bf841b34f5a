"""Find the CloudTrail event that created a resource, with as few LookupEvents calls as possible.

LookupEvents allows 2 requests per second per account and region and returns 50 events a page,
newest first, so walking every page of a busy resource (5,000 events → 100 pages → 50 s) is what
this module avoids (DESIGN.md §2):

- With a creation time from the service (see creation_hints), one call in a narrow window around it.
  Every such time is a hint: when the window holds no creation, search without it.
- Without one: a first page over the 90 days; when it is not the last, bisect on EndTime with
  MaxResults=1 to find the oldest event (~15 calls for 90 days), then read a short window after it.
- Region: the caller's, else the ARN's or the service's home region, else an S3 bucket's location,
  else every enabled region in parallel, stopping at the first creation found.

LookupEvents takes one attribute (ResourceName), so read-only and failed events are skipped here,
and `bot.core.events` decides which event created the resource.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.creation_hints import Hint, Hints
from bot.aws.errors import error_code
from bot.aws.lookup_calls import Limiter, LookupDenied, lookup_events, record_of
from bot.aws.regions import enabled_regions
from bot.core import events
from bot.core.answers import LookupAnswer, Reason, Source
from bot.core.refs import ResourceRef

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=90)  # CloudTrail's event history
PAGE_SIZE = 50
HINT_BEFORE = timedelta(hours=1)  # the create call is logged before the resource's own timestamp
HINT_AFTER = timedelta(minutes=10)  # ... and clocks differ a little
BISECT_RESOLUTION = timedelta(minutes=10)
OLDEST_WINDOW = timedelta(minutes=15)  # read after the oldest event: the creation is near it
DELIVERY_DELAY = timedelta(minutes=15)  # CloudTrail shows events after about 5 to 15 minutes
NEW_WITHOUT_EVENTS = timedelta(hours=1)  # exists, no events at all, and this young: too new
REGIONS_TTL = timedelta(hours=1)
DEFAULT_ACCOUNT = "default"
S3_BUCKET = "AWS::S3::Bucket"


class TrailUnavailable(BotoCoreError):
    """LookupEvents failed (not denied) where the creation could have been: no answer is honest."""

    fmt = "{reason}"


class _Stopped(Exception):
    """Another region found the creation; this one stops between calls."""


class _Denied(Exception):
    """LookupEvents was denied in this region."""


@dataclass
class _Run:
    """One find(): shared by its region searches."""

    ref: ResourceRef
    names: tuple[str, ...]
    account: str
    interactive: bool
    now: datetime
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancel: threading.Event | None = None  # the caller's: found in another account

    @property
    def stopped(self) -> bool:
        return self.stop.is_set() or (self.cancel is not None and self.cancel.is_set())


@dataclass
class _Region:
    """What one region's search found out."""

    region: str
    hint: Hint
    calls: int = 0
    fact: events.CreationFact | None = None
    oldest: tuple[datetime, dict[str, Any]] | None = None  # oldest event seen, any kind
    hint_too_old: bool = False
    too_new: bool = False
    denied: bool = False
    error: Exception | None = None
    done: bool = False


class TrailFinder:
    """`find(ref)` → LookupAnswer, from CloudTrail's LookupEvents. Thread-safe; one per process."""

    def __init__(
        self,
        client_for: Callable[[str, str], Any],
        limiter: Limiter,
        *,
        default_regions: Sequence[str],
        clock: Callable[[], datetime],
        max_workers: int = 32,  # regions searched side by side (threads waiting on I/O)
        account_id: Callable[[], str | None] | None = None,
        hints: Hints | None = None,  # creation-time readers (bot.registry.patrol.HINTS)
    ) -> None:
        self._client_for = client_for
        self._hints = hints or Hints({})
        self._limiter = limiter
        self._default_regions = tuple(default_regions) or ("us-east-1",)
        self._clock = clock
        self._max_workers = max(1, max_workers)
        self._account_id = account_id or (lambda: None)
        self._regions_lock = threading.Lock()
        self._regions: tuple[tuple[str, ...], str | None, datetime] | None = None

    # The lookup -----------------------------------------------------------------------------

    def find(
        self,
        ref: ResourceRef,
        region: str | None = None,
        *,
        interactive: bool = True,
        cancel: threading.Event | None = None,
    ) -> LookupAnswer:
        """The answer from this account's CloudTrail. `cancel`, once set (the creation was found
        in another account), stops the search before its next call; its answer is then moot."""
        account = self._account()
        # Ids AWS never reuses are CloudTrail resource names as they are; names also by ARN.
        names = (ref.id,) if ref.has_unique_id else ref.search_names
        run = _Run(
            ref, names, account or DEFAULT_ACCOUNT, interactive, self._clock(), cancel=cancel
        )
        notes: list[str] = []
        hint: Hint | None = None
        region = region or ref.home_region
        if region is None and ref.type == S3_BUCKET:
            # A bucket's CloudTrail events are in its own region: ask S3 where that is.
            hint = self._hints.ask(ref, self._client_for, self._default_regions[0])
            region = hint.region
        if region is not None:
            hints = {region: hint} if hint is not None else {}
            results = self._search(run, (region,), hints)
            return self._answer(run, results, True, notes, account)
        regions, listing_note = self._enabled_regions()
        notes.extend([listing_note] if listing_note else [])
        hints = self._hints_everywhere(ref, regions)
        # Where the service says the resource is, CloudTrail has its creation: search there
        # only. Nowhere (deleted, or no describe for its type): every region, side by side.
        present = [name for name in regions if hints.get(name, Hint()).exists]
        results = self._search(run, present or regions, hints)
        return self._answer(run, results, bool(present), notes, account)

    def _hints_everywhere(self, ref: ResourceRef, regions: Sequence[str]) -> dict[str, Hint]:
        """Each region's describe answer, asked in parallel (cheap, and no LookupEvents)."""
        if not self._hints.knows(ref.type) or len(regions) < 2:
            return {}
        with ThreadPoolExecutor(
            max_workers=min(self._max_workers, len(regions)), thread_name_prefix="whocreated-hint"
        ) as pool:
            asked = pool.map(lambda name: self._hints.ask(ref, self._client_for, name), regions)
            return dict(zip(regions, asked, strict=True))

    def _search(self, run: _Run, regions: Sequence[str], hints: dict[str, Hint]) -> list[_Region]:
        states = [_Region(name, hints.get(name) or Hint()) for name in regions]
        if len(states) == 1:
            self._search_region(run, states[0], regions[0] in hints)
            return states
        pool = ThreadPoolExecutor(
            max_workers=min(self._max_workers, len(states)), thread_name_prefix="whocreated-trail"
        )
        searches = {
            pool.submit(self._search_region, run, state, state.region in hints): state
            for state in states
        }
        pending = set(searches)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # a bug in one region's search is not swallowed
                if any(searches[future].fact is not None for future in finished):
                    break
        finally:
            with run.lock:
                # Searches still running stop before their next call; none starts one after this.
                run.stop.set()
                finished_states = [_snapshot(state) for state in states]
            pool.shutdown(wait=False, cancel_futures=True)
        return finished_states

    def _search_region(self, run: _Run, state: _Region, has_hint: bool) -> None:
        """Search one region; outcomes (found, denied, failed, stopped) are written to `state`."""
        try:
            if not has_hint:
                self._check_stop(run)
                state.hint = self._hints.ask(run.ref, self._client_for, state.region)
            for name in run.names:
                self._search_name(run, state, name)
                if state.fact is not None or state.hint_too_old:
                    return
        except _Stopped:
            logger.debug("search in %s stopped: found elsewhere", state.region)
        except _Denied:
            state.denied = True
        except (ClientError, BotoCoreError) as error:
            if run.stopped:
                # Answered elsewhere while this call was in flight: its failure changes nothing.
                logger.debug("search in %s ended after the answer: %s", state.region, error)
                return
            code = f" ({error_code(error)})" if isinstance(error, ClientError) else ""
            logger.exception("LookupEvents for %s in %s failed%s", run.ref.id, state.region, code)
            state.error = error
        finally:
            state.done = True

    def _search_name(self, run: _Run, state: _Region, name: str) -> None:
        created_at = state.hint.created_at
        if created_at is not None:
            if created_at < run.now - RETENTION:
                # Services report the creation or a later time, never an earlier one: the
                # creation event is out of LookupEvents' reach, and calls would only cost time.
                state.hint_too_old = True
                return
            start = max(created_at - HINT_BEFORE, run.now - RETENTION)
            end = min(created_at + HINT_AFTER, run.now)
            # A hint ahead of our clock (skew) leaves no window: search without it.
            if start <= end and self._read_window(run, state, name, _second(start), end):
                return
        found_any = self._search_without_hint(run, state, name)
        if state.fact is None and created_at is not None:
            age = run.now - created_at
            state.too_new = (
                state.too_new
                or age < DELIVERY_DELAY
                or (not found_any and state.hint.exists is True and age < NEW_WITHOUT_EVENTS)
            )

    def _search_without_hint(self, run: _Run, state: _Region, name: str) -> bool:
        """First page over 90 days; if there are more, bisect to the oldest event and read there.

        Returns whether any event names the resource.
        """
        start, end = _second(run.now - RETENTION), _second(run.now)
        page, token = self._lookup(run, state, name, start, end, PAGE_SIZE)
        if self._consider(run, state, page) or not token:
            return bool(page)
        low, high = start, min(_event_time(event) for event in page)
        # Invariant: the oldest event is in [low, high]. A one-event page over [low, mid] gives
        # the newest event there; an empty one moves `low` past mid.
        while high - low > BISECT_RESOLUTION:
            mid = _second(low + (high - low) / 2)
            page, _ = self._lookup(run, state, name, low, mid, 1)
            if self._consider(run, state, page):
                return True
            if page:
                high = _event_time(page[0])
            else:
                low = mid + timedelta(seconds=1)
        self._read_window(run, state, name, low, min(high + OLDEST_WINDOW, _second(run.now)))
        return True

    def _read_window(
        self, run: _Run, state: _Region, name: str, start: datetime, end: datetime
    ) -> bool:
        """Every page of [start, end] until a creation shows up; True when it did."""
        token: str | None = None
        while True:
            page, token = self._lookup(run, state, name, start, end, PAGE_SIZE, token)
            if self._consider(run, state, page):
                return True
            if not token:
                return False

    def _consider(self, run: _Run, state: _Region, page: list[dict[str, Any]]) -> bool:
        """Record the oldest event seen and any creation; True when a creation was found."""
        for event in page:
            record = record_of(event)
            if record is None:
                continue
            when = _event_time(event)
            if state.oldest is None or when < state.oldest[0]:
                state.oldest = (when, record)
            if events.is_failed(record) or events.is_read_only(record):
                continue
            fact = events.creation_fact(record, run.ref.search_names)
            # Names are reused: of two creations, the newer one made the resource that exists.
            if fact is not None and (state.fact is None or fact.event_time > state.fact.event_time):
                state.fact = fact
        return state.fact is not None

    # One LookupEvents call --------------------------------------------------------------------

    def _lookup(
        self,
        run: _Run,
        state: _Region,
        name: str,
        start: datetime,
        end: datetime,
        max_results: int,
        token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        client = self._client_for("cloudtrail", state.region)
        request: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": name}],
            "StartTime": start,
            "EndTime": end,
            "MaxResults": max_results,
        }
        if token:
            request["NextToken"] = token

        def before_call() -> None:
            with run.lock:
                self._check_stop(run)
                state.calls += 1

        self._check_stop(run)
        try:
            response = lookup_events(
                client,
                request,
                self._limiter,
                run.account,
                state.region,
                interactive=run.interactive,
                before_call=before_call,
            )
        except LookupDenied as error:
            raise _Denied from error
        return response.get("Events", []), response.get("NextToken")

    @staticmethod
    def _check_stop(run: _Run) -> None:
        if run.stopped:
            raise _Stopped

    # The answer -------------------------------------------------------------------------------

    def _answer(
        self,
        run: _Run,
        results: list[_Region],
        known: bool,
        notes: list[str],
        account: str | None,
    ) -> LookupAnswer:
        searched = tuple(r.region for r in results if r.calls and not r.denied)
        found = next((r for r in results if r.fact is not None), None)
        hints = [r.hint for r in ([found] if found else []) + results if r.done]
        notes.extend(h.note for h in hints if h.note)
        owner_tags = next((dict(h.owner_tags) for h in hints if h.owner_tags), {})
        parent_tags = next((dict(h.parent_tags) for h in hints if h.parent_tags), {})
        created_at = next((h.created_at for h in hints if h.created_at), None)
        common = LookupAnswer(
            ref=run.ref,
            regions_searched=searched,
            owner_tags=owner_tags,
            parent_tags=parent_tags,
            source=Source.CLOUDTRAIL,
            created_at_hint=created_at,
        )
        denied = [r.region for r in results if r.denied]
        if denied and len(denied) < len(results):
            where = ", ".join(denied)
            notes.append(f"cloudtrail:LookupEvents denied in {where}: not searched there")
        logger.debug(
            "%s: %d LookupEvents calls in %s",
            run.ref.id,
            sum(r.calls for r in results),
            ", ".join(searched) or "no region",
        )
        if found is not None and found.fact is not None:
            return dataclasses.replace(
                common,
                fact=found.fact,
                notes=_unique(notes),
                account=found.fact.account or account,
            )
        failed = [r for r in results if r.error is not None]
        if failed:
            first = failed[0].error
            if isinstance(first, BotoCoreError):
                raise first
            raise TrailUnavailable(
                reason=f"CloudTrail LookupEvents failed in {', '.join(r.region for r in failed)}: "
                f"{error_code(first) if isinstance(first, ClientError) else first}"
            ) from first
        # Denied where the resource lives (its describe call found it there) is denied, however
        # many other regions answered that they know nothing of it.
        denied_home = [r.region for r in results if r.denied and r.hint.exists]
        if denied_home or (denied and len(denied) == len(results)):
            notes.append(f"cloudtrail:LookupEvents denied in {', '.join(denied_home or denied)}")
            return dataclasses.replace(
                common, reason=Reason.DENIED, notes=_unique(notes), account=account
            )
        oldest = min((r.oldest for r in results if r.oldest), default=None, key=lambda o: o[0])
        first_seen = events.summary(oldest[1]) if oldest else None
        reason = self._reason(run, results, known, oldest is not None, created_at, notes)
        return dataclasses.replace(
            common, reason=reason, notes=_unique(notes), first_seen=first_seen, account=account
        )

    @staticmethod
    def _reason(
        run: _Run,
        results: list[_Region],
        known: bool,
        seen: bool,
        created_at: datetime | None,
        notes: list[str],
    ) -> Reason:
        if any(r.too_new for r in results) and created_at is not None:
            minutes = max(0, int((run.now - created_at).total_seconds() // 60))
            notes.append(
                f"created {minutes} minutes ago; "
                "CloudTrail delivers events in about 5 to 15 minutes"
            )
            return Reason.TOO_NEW
        if any(r.hint_too_old for r in results) and created_at is not None:
            notes.append(
                f"the service reports it created on {created_at:%Y-%m-%d}, more than 90 days ago; "
                "look further with `--trail-logs`"
            )
            return Reason.NOT_IN_WINDOW
        if seen:
            return Reason.ONLY_MENTIONED
        if known or any(r.hint.exists for r in results):
            return Reason.NOT_IN_WINDOW
        return Reason.NOT_IN_REGIONS

    # Helpers ----------------------------------------------------------------------------------

    def _account(self) -> str | None:
        try:
            return self._account_id()
        except Exception:
            logger.exception("could not tell the account id; answers will lack it")
            return None

    def _enabled_regions(self) -> tuple[tuple[str, ...], str | None]:
        """Enabled regions, listed at most once an hour (they change when someone opts in)."""
        with self._regions_lock:
            now = self._clock()
            if self._regions is None or now - self._regions[2] > REGIONS_TTL:
                ec2 = self._client_for("ec2", self._default_regions[0])
                regions, note = enabled_regions(ec2, self._default_regions)
                self._regions = (regions, note, now)
            return self._regions[0], self._regions[1]


def _snapshot(state: _Region) -> _Region:
    """A finished search as it is; one stopped midway only by its region and call count."""
    if state.done:
        return state
    return _Region(state.region, Hint(), calls=state.calls)


def _event_time(event: dict[str, Any]) -> datetime:
    return event["EventTime"]


def _second(when: datetime) -> datetime:
    # LookupEvents takes whole seconds; keep bisection bounds on them.
    return when.replace(microsecond=0)


def _unique(notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(note for note in notes if note))
