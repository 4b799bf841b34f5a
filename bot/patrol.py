"""One patrol round: inventory → metrics → verdicts → owners → cost → findings (→ digests).

For each account × region, in parallel: describe what is there, read its metrics in GetMetricData
batches, judge it idle or not, leave out what is kept or excluded, then name the owners of what is
idle (tags, cache, CloudTrail in bulk, parent chain) and price it. `Notifier` delivers the result.

A dependency that fails is asked no more in that round (RoundFaults): the Pricing API after its
first failure, CloudWatch or a service's describe calls in that account and region. What was
skipped and why is in the round's notes, and in `skipped` for the digests.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.aws.accounts import AccountAccess
from bot.aws.faults import RoundFaults
from bot.aws.inventory import Inventory
from bot.aws.metrics import MetricsReader
from bot.aws.regions import enabled_regions
from bot.core import tag_rules
from bot.core.created_by import TagSigner, keep_until_value, subject
from bot.core.policy import Policy
from bot.core.resources import Cost, Finding, Owner, Resource, Verdict
from bot.registry.patrol import PATROL, PatrolTypes
from bot.store import Store

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]


class OwnerSource(Protocol):
    """What the round needs of bot.owners.OwnerResolver."""

    def resolve(self, resources: Sequence[Resource]) -> dict[tuple[str, str, str, str], Owner]: ...


@dataclass
class RoundResult:
    round_id: str
    started: datetime
    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0
    busy: int = 0
    unknown: int = 0  # not enough data to judge (new, or a metric could not be read)
    kept: int = 0
    excluded: int = 0
    regions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # services not asked again, and why

    def summary(self) -> dict[str, Any]:
        known = [f.cost.monthly_usd for f in self.findings if f.cost.monthly_usd is not None]
        return {
            "round_id": self.round_id,
            "scanned": self.scanned,
            "idle": len(self.findings),
            "busy": self.busy,
            "not_judged": self.unknown,
            "kept": self.kept,
            "excluded": self.excluded,
            "owners": len({f.owner.slack_user or f.owner.aws_name for f in self.findings}),
            "unknown_owner": sum(1 for f in self.findings if f.owner.source == "none"),
            "monthly_cost_usd": round(sum(known), 2),
            "unpriced": len(self.findings) - len(known),
            "regions": sorted(set(self.regions)),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class _Judged:
    resource: Resource
    verdict: Verdict


class Patrol:
    def __init__(
        self,
        *,
        policy: Policy,
        store: Store,
        accounts: Callable[[], list[AccountAccess]],
        owners: OwnerSource,
        prices: Any,  # bot.aws.pricing.PriceBook
        clock: Callable[[], datetime],
        default_regions: Sequence[str],
        max_workers: int = 4,
        signer: TagSigner | None = None,
        types: PatrolTypes = PATROL,
    ) -> None:
        self.policy = policy
        self.signer = signer  # reads keep-until tags; without one, only the store's keeps count
        self.store = store
        self.accounts = accounts
        self.owners = owners
        self.prices = prices
        self.clock = clock
        self.default_regions = tuple(default_regions)
        self.types = types
        self.max_workers = max_workers

    def run(self, *, progress: Callable[[str], None] | None = None) -> RoundResult:
        now = self.clock()
        result = RoundResult(round_id=f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}", started=now)
        faults = RoundFaults()
        say = progress or (lambda _: None)
        places: list[tuple[AccountAccess, str]] = []
        for access in self.accounts():
            if access.clients is None:
                result.notes.append(access.note or f"{access.account}: skipped")
                continue
            regions, note = self._regions(access.clients)
            if note:
                result.notes.append(note)
            places.extend((access, region) for region in regions)
        judged: list[_Judged] = []
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="whocreated-patrol") as pool:
            jobs = [
                pool.submit(self._scan, access, region, now, faults) for access, region in places
            ]
            for done, job in enumerate(jobs, 1):
                found, notes = job.result()
                judged.extend(found)
                result.notes.extend(notes)
                say(f"scanned {done}/{len(jobs)} account-regions, {len(judged)} resources")
        result.regions = [region for _, region in places]
        result.scanned = len(judged)
        idle_ones = self._idle(judged, now, result)
        say(f"{len(idle_ones)} idle; naming their owners")
        owners = self.owners.resolve([j.resource for j in idle_ones]) if idle_ones else {}
        say("pricing")
        for item in idle_ones:
            resource = item.resource
            result.findings.append(
                Finding(
                    resource=resource,
                    verdict=item.verdict,
                    owner=owners.get(resource.key)
                    or Owner(aws_name=None, source="none", reason="owner not resolved"),
                    cost=self._cost(resource, faults),
                    actions=tuple(a.value for a in self.types.buttons(resource)),
                )
            )
        result.findings.sort(key=lambda f: -(f.cost.monthly_usd or 0))
        result.skipped = faults.notes()
        result.notes.extend(result.skipped)
        return result

    # Steps ---------------------------------------------------------------------------------------

    def _regions(self, clients: ClientFactory) -> tuple[Sequence[str], str | None]:
        if self.policy.regions != "all":
            return tuple(self.policy.regions), None
        home = self.default_regions[0] if self.default_regions else "us-east-1"
        return enabled_regions(clients("ec2", home), self.default_regions)

    def _scan(
        self, access: AccountAccess, region: str, now: datetime, faults: RoundFaults
    ) -> tuple[list[_Judged], list[str]]:
        assert access.clients is not None
        types = [t for t in self.types.types if self.policy.thresholds_for(t).enabled]
        try:
            collected = Inventory(access.clients, self.types.by_type).collect(
                access.account, region, types, faults=faults
            )
        except Exception:
            logger.exception("inventory of %s/%s failed", access.account, region)
            return [], [f"{access.account}/{region}: inventory failed; see the logs"]
        reader = MetricsReader(access.clients, self.types)
        observations: dict[tuple[str, str, str, str], dict[str, Sequence[float]]] = {}
        # GetMetricData has one time window a call: one pass per look-back in the policy.
        for lookback, group in self._by_lookback(collected.resources).items():
            observations.update(
                reader.observe(group, access.account, region, lookback, now, faults=faults)
            )
        judged = [
            _Judged(
                resource,
                self.types.evaluate(
                    resource,
                    observations.get(resource.key, {}),
                    self.policy.thresholds_for(resource.type),
                    now,
                ),
            )
            for resource in collected.resources
        ]
        return judged, list(collected.notes)

    def _by_lookback(self, resources: Iterable[Resource]) -> dict[timedelta, list[Resource]]:
        groups: dict[timedelta, list[Resource]] = defaultdict(list)
        for resource in resources:
            if self.types.metrics_for(resource):
                days = self.policy.thresholds_for(resource.type).lookback_days
                groups[timedelta(days=days)].append(resource)
        return groups

    def _idle(self, judged: list[_Judged], now: datetime, result: RoundResult) -> list[_Judged]:
        keeps = self.store.active_keeps(now)
        chosen = []
        for item in judged:
            if not item.verdict.idle:
                if item.verdict.unknown:
                    result.unknown += 1
                else:
                    result.busy += 1
                continue
            if self._excluded(item.resource):
                result.excluded += 1
            elif item.resource.key in keeps or self._kept_by_tag(item.resource, now):
                result.kept += 1
            else:
                chosen.append(item)
        return chosen

    def _excluded(self, resource: Resource) -> bool:
        return tag_rules.first_match(self.policy.exclude_tags, resource.tags) is not None

    def _kept_by_tag(self, resource: Resource, now: datetime) -> bool:
        """A `whocreated:keep-until` tag the bot signed for this resource keeps it, even if the
        store was reset; a hand-written or copied one is ignored, and no keep outlasts the
        policy's max_keep_days from now."""
        value = keep_until_value(resource.tags)
        if not value or self.signer is None:
            return False
        signed = subject(
            resource.key, resource.created_at, unique_id=self.types.unique_ids(resource.type)
        )
        until = self.signer.read_keep_until(signed, value)
        if until is None:
            logger.info("%s: its keep-until tag was not written by whocreated", resource.id)
            return False
        return now < until <= now + timedelta(days=self.policy.ownership.max_keep_days)

    def _cost(self, resource: Resource, faults: RoundFaults) -> Cost:
        try:
            cost: Cost = self.prices.monthly_cost(resource, faults=faults)
            return cost
        except Exception:
            logger.exception("pricing %s failed", resource.id)
            return Cost(None, "the price could not be looked up")
