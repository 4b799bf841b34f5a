"""Deliver one patrol round's findings: one digest DM per owner, in their working hours.

Also: unknown owners and escalations to the fallback channel, announced auto-stops, and the nudge
rows that make buttons work and keep a restart from sending the same nudge twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core import digests
from bot.core.decisions import Action
from bot.core.nudging import History, Step, auto_stop_date, in_working_hours, next_step
from bot.core.policy import Policy
from bot.core.resources import Finding
from bot.store import Nudge, Store, new_nudge_id

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What one round's delivery did, for `scan` and the logs."""

    digests: int = 0
    resources_nudged: int = 0
    waiting: int = 0  # nudged recently: not repeated this round
    deferred: dict[str, int] = field(default_factory=dict)  # owner → resources, outside hours
    escalated: int = 0
    auto_stopped: int = 0
    unknown_owner: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "digests_sent": self.digests,
            "resources_nudged": self.resources_nudged,
            "waiting_for_interval": self.waiting,
            "deferred_outside_hours": sum(self.deferred.values()),
            "escalated": self.escalated,
            "auto_stopped": self.auto_stopped,
            "unknown_owner": self.unknown_owner,
            "delivery_failures": len(self.failed),
        }


# Performs a stop for auto-stop; returns the outcome's words and its audit kind (done, dry-run,
# refused, already, failed). Given by wiring (operations).
AutoStop = Callable[[Finding], tuple[str, str]]


@dataclass(frozen=True)
class _Item:
    finding: Finding
    nudge: Nudge | None  # the open nudge this resource already has, if any
    step: Step


class Notifier:
    def __init__(
        self,
        *,
        store: Store,
        client: Any,  # slack_sdk WebClient
        policy: Policy,
        clock: Callable[[], datetime],
        auto_stop: AutoStop | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.policy = policy
        self.clock = clock
        self.auto_stop = auto_stop
        self._zones: dict[str, str | None] = {}

    def deliver(
        self, findings: Sequence[Finding], round_id: str, *, respect_hours: bool = True
    ) -> Delivery:
        delivery = Delivery()
        now = self.clock()
        by_owner: dict[str | None, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_owner[finding.owner.slack_user].append(finding)
        for owner, owned in by_owner.items():
            if owner is None:
                self._unknown_owners(owned, round_id, now, delivery)
                continue
            if respect_hours and not in_working_hours(now, self._zone(owner), self.policy.nudges):
                delivery.deferred[owner] = len(owned)
                continue
            self._owner_digest(owner, owned, round_id, now, delivery)
        return delivery

    # One owner -----------------------------------------------------------------------------------

    def _owner_digest(
        self,
        owner: str,
        findings: list[Finding],
        round_id: str,
        now: datetime,
        delivery: Delivery,
    ) -> None:
        items = [self._plan(finding, now) for finding in findings]
        delivery.waiting += sum(1 for item in items if item.step is Step.WAIT)
        stopped = [item for item in items if item.step is Step.AUTO_STOP]
        for item in stopped:
            self._auto_stop(item, owner, now, delivery)
        to_send = [item for item in items if item.step in (Step.NUDGE, Step.ESCALATE)]
        if not to_send:
            return
        ids = [item.nudge.id if item.nudge else new_nudge_id() for item in to_send]
        pairs = [(nudge_id, item.finding) for nudge_id, item in zip(ids, to_send, strict=True)]
        notice = self._auto_stop_notice(to_send, ids, now)
        blocks = digests.digest_blocks(
            owner,
            pairs,
            now=now,
            dry_run=not self.policy.actions.enabled,
            auto_stop_notice=notice,
            max_items=self.policy.nudges.max_in_digest,
            actions=self.policy.actions,
        )
        posted = self._post(owner, blocks, digests.digest_text(owner, pairs), delivery)
        if posted is None:
            return
        channel, ts = posted
        for nudge_id, item in zip(ids, to_send, strict=True):
            self._record(nudge_id, item, owner, channel, ts, round_id, now)
        self.store.set_message(ids, channel, ts)
        delivery.digests += 1
        delivery.resources_nudged += len(to_send)
        escalations = [item for item in to_send if item.step is Step.ESCALATE]
        if escalations:
            self._escalate(owner, escalations, now, delivery)

    def _plan(self, finding: Finding, now: datetime) -> _Item:
        last = self.store.last_nudge_for(finding.resource.key)
        if last is None or not last.is_open:
            # Never nudged, or answered long ago and idle again (a keep ran out): a new nudge.
            return _Item(finding, None, Step.NUDGE)
        history = History(times_sent=last.times_sent, last_sent_at=last.last_sent_at)
        return _Item(finding, last, next_step(history, now, self.policy.nudges))

    def _auto_stop_notice(
        self, items: list[_Item], ids: list[str], now: datetime
    ) -> dict[str, datetime]:
        notice = {}
        for nudge_id, item in zip(ids, items, strict=True):
            if Action.STOP not in item.finding.actions:
                continue  # only what can be stopped is ever stopped for the owner
            times = item.nudge.times_sent if item.nudge else 0
            when = auto_stop_date(History(times_sent=times), now, self.policy.nudges)
            if when is not None:
                notice[nudge_id] = when
        return notice

    def _record(
        self,
        nudge_id: str,
        item: _Item,
        owner: str | None,
        channel: str,
        ts: str,
        round_id: str,
        now: datetime,
    ) -> None:
        finding = item.finding
        if item.nudge is not None:
            self.store.mark_sent(nudge_id, now, round_id=round_id)
            return
        self.store.create_nudge(
            finding.resource,
            owner_slack_user=owner,
            sent_at=now,
            channel=channel,
            message_ts=ts,
            round_id=round_id,
            monthly_cost=finding.cost.monthly_usd,
            details={
                "reasons": list(finding.verdict.reasons),
                "idle_since": finding.verdict.idle_since,
                "series": list(finding.verdict.series),
                "cost_note": finding.cost.note,
                "owner_source": finding.owner.source,
                "owner_name": finding.owner.aws_name,
                "owner_verified": finding.owner.verified,
                "actions": list(finding.actions),
            },
            nudge_id=nudge_id,
        )

    def _auto_stop(self, item: _Item, owner: str, now: datetime, delivery: Delivery) -> None:
        if self.auto_stop is None or Action.STOP not in item.finding.actions:
            return
        assert item.nudge is not None
        if not self.store.decide(item.nudge.id, "stopped", by=None, at=now):
            return  # answered in the meantime
        words, kind = self.auto_stop(item.finding)
        if kind not in ("done", "dry-run"):
            self.store.reopen(item.nudge.id, from_status="stopped")  # e.g. refused: ask again
        self.store.add_audit(
            action="auto_stop",
            key=item.finding.resource.key,
            slack_user=None,
            nudge_id=item.nudge.id,
            dry_run=not self.policy.actions.enabled,
            outcome=kind,
            detail=words,
            at=now,
        )
        delivery.auto_stopped += 1
        text = f"Stopped after {item.nudge.times_sent} unanswered nudges: {words}"
        self._post(owner, None, text, delivery)

    def _escalate(self, owner: str, items: list[_Item], now: datetime, delivery: Delivery) -> None:
        channel = self.policy.slack.fallback_channel
        if not channel:
            return
        times = max(item.nudge.times_sent if item.nudge else 1 for item in items)
        pairs = [(item.nudge.id if item.nudge else "", item.finding) for item in items]
        blocks = digests.escalation_blocks(owner, pairs, times, now)
        if self._post(channel, blocks, f"<@{owner}> has idle resources", delivery):
            delivery.escalated += len(items)

    # Unknown owners ------------------------------------------------------------------------------

    def _unknown_owners(
        self, findings: list[Finding], round_id: str, now: datetime, delivery: Delivery
    ) -> None:
        fresh = [f for f in findings if self._plan(f, now).step is not Step.WAIT]
        delivery.waiting += len(findings) - len(fresh)
        channel = self.policy.slack.fallback_channel
        if not fresh:
            return
        if not channel:
            delivery.unknown_owner += len(fresh)
            logger.warning(
                "%d idle resources have no known owner and no fallback channel is set", len(fresh)
            )
            return
        blocks = digests.unknown_owner_blocks([(f, f.owner.reason) for f in fresh], now)
        posted = self._post(
            channel, blocks, f"{len(fresh)} idle resources without an owner", delivery
        )
        if posted is None:
            return
        for finding in fresh:
            item = self._plan(finding, now)
            nudge_id = item.nudge.id if item.nudge else new_nudge_id()
            self._record(nudge_id, item, None, posted[0], posted[1], round_id, now)
        delivery.unknown_owner += len(fresh)

    # The weekly summary --------------------------------------------------------------------------

    def weekly_summary(self, days: int = 7) -> bool:
        """Post what the week's decisions did to the summary channel; False when none is set."""
        channel = self.policy.slack.summary_channel
        if not channel:
            return False
        now = self.clock()
        since = now - timedelta(days=days)
        stats = weekly_stats(self.store, since)
        blocks = digests.weekly_summary_blocks(stats, since=since, now=now)
        return self._post(channel, blocks, "Idle AWS resources: the week", Delivery()) is not None

    # Slack ---------------------------------------------------------------------------------------

    def _zone(self, user: str) -> str | None:
        if user not in self._zones:
            try:
                self._zones[user] = self.client.users_info(user=user)["user"].get("tz")
            except SlackApiError as error:
                logger.warning(
                    "users.info for %s failed (%s): using UTC working hours",
                    user,
                    error.response.get("error"),
                )
                self._zones[user] = None
        return self._zones[user]

    def _post(
        self, channel: str, blocks: list[Any] | None, text: str, delivery: Delivery
    ) -> tuple[str, str] | None:
        try:
            response = self.client.chat_postMessage(channel=channel, blocks=blocks, text=text)
        except SlackApiError as error:
            logger.exception("could not post to %s (%s)", channel, error.response.get("error"))
            delivery.failed.append(channel)
            return None
        return response["channel"], response["ts"]


_REMOVED = {"stop", "terminate", "delete", "release", "auto_stop"}


def weekly_stats(store: Store, since: datetime) -> digests.WeeklyStats:
    """Count the audit trail since `since`: what was done, what dry-run would have done, and the
    monthly cost removed (from the cost each nudge carried); plus what still waits."""
    done: dict[str, int] = defaultdict(int)
    dry: dict[str, int] = defaultdict(int)
    removed_usd = dry_usd = 0.0
    unpriced = 0
    for row in store.audit_since(since):
        action = "stop" if row.action == "auto_stop" else row.action
        if row.outcome not in ("done", "dry-run"):
            continue
        nudge = store.get_nudge(row.nudge_id) if row.nudge_id else None
        cost = nudge.monthly_cost if nudge else None
        if row.outcome == "dry-run":
            dry[action] += 1
            if row.action in _REMOVED:
                dry_usd += cost or 0.0
            continue
        done[action] += 1
        if row.action in _REMOVED:
            if cost is None:
                unpriced += 1
            else:
                removed_usd += cost
    waiting = store.open_nudges()
    costs = [n.monthly_cost for n in waiting if n.monthly_cost is not None]
    return digests.WeeklyStats(
        done=dict(done),
        dry_run=dict(dry),
        monthly_usd_removed=removed_usd,
        unpriced_removed=unpriced,
        dry_run_monthly_usd=dry_usd,
        still_idle=len(waiting),
        still_idle_usd=sum(costs) if costs else None,
    )
