"""Deliver one patrol round's findings: one digest DM per owner, in their working hours.

Also: unknown owners and escalations to the fallback channel, announced auto-stops, and the nudge
rows that make buttons work and keep a restart from sending the same nudge twice.

Every message goes through the outbox (bot/outbox.py): written `pending` with its nudges, posted
with its id in the message metadata, then marked `sent`. Each owner is delivered on their own:
any failure (a timeout included) is logged and leaves that owner's digest pending for the hourly
retry, and the other owners still get theirs; a failure before the digest was in the store (the
store itself failing) keeps that owner's findings in this process for the hourly retry instead
(bot/unwritten.py). An owner outside their working hours gets a pending digest too, sent by the
hourly retry once their day starts (a newer round replaces it if it comes first). A resource
passed on with *Not mine* goes to the person it was passed to.

A digest Slack says can never reach its owner (account_inactive, user_not_found…) is given up
(bot/giving_up.py) and its nudges let go; for `renudge_days` after that, that owner's resources
go to the fallback channel, saying why.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.aws.operations import Outcome
from bot.core import digests
from bot.core.decisions import Action, is_destructive
from bot.core.messages import escape_mrkdwn
from bot.core.nudging import History, Step, auto_stop_date, in_working_hours, next_step
from bot.core.policy import Policy
from bot.core.resources import Finding
from bot.giving_up import UNREACHABLE, Undeliverable
from bot.outbox import Flushed, Outbox
from bot.registry.patrol import PATROL
from bot.store import (
    OPEN_STATUSES,
    CarriedElsewhere,
    Nudge,
    Store,
    new_nudge_id,
    nudge_row,
    why_unusable,
)
from bot.unwritten import KEEP_FOR, Kept, Unwritten

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
    failed: list[str] = field(default_factory=list)  # pending: retried within the hour
    given_up: list[str] = field(default_factory=list)  # can never be delivered: routed again
    stopped_early: bool = False  # the round's lease was lost: the rest left to its new holder

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
            "delivery_given_up": len(self.given_up),
        }


# Stops an unanswered resource for its owner and records it (bot.deciding.Decisions.auto_stop):
# the outcome, or None when the nudge was answered in the meantime.
AutoStop = Callable[[Nudge], Outcome | None]


@dataclass(frozen=True)
class _Item:
    finding: Finding
    nudge: Nudge | None  # the open nudge this resource already has, if any
    step: Step


def _never_stopped_for_a_claim(item: _Item) -> _Item:
    """Auto-stop acts for the owner; an owner only a tag claims (DESIGN.md §4, Trust) cannot
    lend the bot that power by ignoring digests: the resource is escalated to admins instead."""
    if item.step is Step.AUTO_STOP and not item.finding.owner.verified:
        return dataclasses.replace(item, step=Step.ESCALATE)
    return item


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
        self.outbox = Outbox(store, client, clock, in_hours=self._in_hours)
        self.unwritten = Kept()

    def deliver(
        self,
        findings: Sequence[Finding],
        round_id: str,
        *,
        respect_hours: bool = True,
        skipped: Sequence[str] = (),
        still_ours: Callable[[], bool] = lambda: True,
    ) -> Delivery:
        """One digest per owner. `skipped` says what the round could not ask (shown in each
        digest); `still_ours` is checked before each owner (the round's lease)."""
        delivery = Delivery()
        now = self.clock()
        self.unwritten.clear()  # this round's findings replace an earlier round's
        for owner, owned in self._by_owner(findings, now).items():
            if not still_ours():
                logger.warning("the round's lease was lost: delivery stops here")
                delivery.stopped_early = True
                break
            part = Unwritten(owner, tuple(owned), round_id, respect_hours, tuple(skipped), now)
            self._deliver_part(part, now, delivery)
        return delivery

    def retry(self) -> Flushed:
        """What is still pending: failed deliveries, owners whose working day has begun, and
        deliveries whose digest the store could not take (kept in this process)."""
        written_now = self.retry_unwritten()
        flushed = self.outbox.flush()
        flushed.sent += written_now
        return flushed

    def retry_unwritten(self) -> int:
        """Deliver again what failed before its digest was in the store: the resources nobody
        answered since. How many messages were posted."""
        now = self.clock()
        posted = 0
        for part in self.unwritten.take():
            if now - part.planned_at >= KEEP_FOR:
                logger.warning(
                    "the digest of %s from round %s was never written: dropped, newer rounds "
                    "nudge its resources",
                    part.owner or "the fallback channel",
                    part.round_id,
                )
                continue
            try:
                unanswered = [f for f in part.findings if self._unanswered(f, part.planned_at)]
            except SQLAlchemyError as error:
                self.unwritten.keep(part)
                logger.warning(
                    "the store is %s: the digest of %s waits for the next retry",
                    why_unusable(error),
                    part.owner or "the fallback channel",
                )
                continue
            again = dataclasses.replace(part, findings=tuple(unanswered))
            posted += self._deliver_part(again, now, Delivery())
        return posted

    def _deliver_part(self, part: Unwritten, now: datetime, delivery: Delivery) -> bool:
        """One owner's digest (or the fallback channel's); True when one was posted now. A
        failure is logged and counted; one before the digest was written is kept for retry."""
        who = part.owner or "the fallback channel"
        try:
            if part.owner is None:
                return self._unknown_owners(list(part.findings), part.round_id, now, delivery)
            return self._owner_digest(
                part.owner,
                list(part.findings),
                part.round_id,
                now,
                delivery,
                part.respect_hours,
                part.skipped,
            )
        except Undeliverable:  # the outbox said why, once
            delivery.given_up.append(part.owner or "fallback channel")
        except Exception as error:
            delivery.failed.append(part.owner or "fallback channel")
            if self._written(part):
                logger.exception(
                    "the digest of %s was not delivered; it waits in the store and is tried "
                    "again within the hour",
                    who,
                )
            else:
                self.unwritten.keep(part)
                why = (
                    f"the store is {why_unusable(error)}"
                    if isinstance(error, SQLAlchemyError)
                    else type(error).__name__
                )
                logger.exception(
                    "the digest of %s was not written (%s): kept in this process, which tries "
                    "again within the hour",
                    who,
                    why,
                )
        return False

    def _written(self, part: Unwritten) -> bool:
        """Whether the store holds this part's digest, pending (the retry posts it)."""
        target = part.owner or self.policy.slack.fallback_channel
        try:
            pending = self.store.pending_digests()
        except SQLAlchemyError:
            return False
        return any(d.target == target and d.round_id == part.round_id for d in pending)

    def _unanswered(self, finding: Finding, since: datetime) -> bool:
        """Not decided on since `since` (a click, an auto-stop): still worth a digest."""
        last = self.store.last_nudge_for(finding.resource.key)
        return last is None or last.decided_at is None or last.decided_at < since

    # One owner -----------------------------------------------------------------------------------

    def _owner_digest(
        self,
        owner: str,
        findings: list[Finding],
        round_id: str,
        now: datetime,
        delivery: Delivery,
        respect_hours: bool,
        skipped: Sequence[str],
    ) -> bool:
        """Their digest, written and posted (or left for their hours); True when posted now."""
        in_hours = not respect_hours or self._in_hours(owner)
        # A digest of an earlier round still waiting for their hours: this one replaces it.
        self.store.supersede_unsent(owner, newer_round=round_id)
        items = [_never_stopped_for_a_claim(self._plan(finding, now)) for finding in findings]
        delivery.waiting += sum(1 for item in items if item.step is Step.WAIT)
        if in_hours:
            for item in items:
                if item.step is Step.AUTO_STOP:
                    self._auto_stop(item, owner, now, delivery)
        to_send = [item for item in items if item.step in (Step.NUDGE, Step.ESCALATE)]
        if not to_send:
            return False
        ids = [item.nudge.id if item.nudge else new_nudge_id() for item in to_send]
        pairs = [(nudge_id, item.finding) for nudge_id, item in zip(ids, to_send, strict=True)]
        blocks = digests.digest_blocks(
            owner,
            pairs,
            now=now,
            dry_run=not self.policy.actions.enabled,
            auto_stop_notice=self._auto_stop_notice(to_send, ids, now),
            max_items=self.policy.nudges.max_in_digest,
            actions=self.policy.actions,
            skipped=skipped,
            kinds=PATROL,
        )
        digest_id = self._queue(
            kind="digest",
            target=owner,
            text=digests.digest_text(owner, pairs),
            blocks=[block.to_dict() for block in blocks],
            hours_of=owner if respect_hours else None,
            round_id=round_id,
            items=list(zip(ids, to_send, strict=True)),
            owner=owner,
            now=now,
        )
        if digest_id is None:
            return False
        if not in_hours:
            delivery.deferred[owner] = len(to_send)
            return False
        if self.outbox.send(digest_id) is None:
            return False  # another process is posting it
        delivery.digests += 1
        delivery.resources_nudged += len(to_send)
        escalations = [item for item in to_send if item.step is Step.ESCALATE]
        if escalations:
            self._escalate(owner, escalations, now, delivery)
        return True

    def _queue(
        self,
        *,
        kind: str,
        target: str,
        text: str,
        blocks: list[dict[str, Any]],
        hours_of: str | None,
        round_id: str,
        items: list[tuple[str, _Item]],
        owner: str | None,
        now: datetime,
    ) -> str | None:
        """The digest and its new nudges, written pending; None when another process opened a
        nudge for one of these resources, or carried one of its open nudges, at the same moment
        (it delivers them, not us)."""
        new_rows = [
            self._new_nudge(nudge_id, item.finding, owner, round_id, now)
            for nudge_id, item in items
            if item.nudge is None
        ]
        # As read when planned: carried only if no other round carried them since.
        carried = [item.nudge for _, item in items if item.nudge is not None]
        try:
            return self.outbox.queue(
                kind=kind,
                target=target,
                text=text,
                blocks=blocks,
                owner_slack_user=hours_of,
                round_id=round_id,
                new_nudges=new_rows,
                carried=carried,
            )
        except (IntegrityError, CarriedElsewhere):
            logger.warning(
                "some resources for %s were nudged by another process just now: left to it",
                target,
            )
            return None

    def _by_owner(
        self, findings: Sequence[Finding], now: datetime
    ) -> dict[str | None, list[Finding]]:
        """Findings by whom their digest goes to (None: the fallback channel)."""
        by_owner: dict[str | None, list[Finding]] = defaultdict(list)
        unreachable: dict[str, str | None] = {}
        for finding in findings:
            routed = self._route(finding)
            owner = routed.owner.slack_user
            if owner is not None:
                if owner not in unreachable:
                    unreachable[owner] = self._unreachable(owner, now)
                failure = unreachable[owner]
                if failure is not None:
                    routed = _not_reached(routed, failure)
            by_owner[routed.owner.slack_user].append(routed)
        return by_owner

    def _unreachable(self, owner: str, now: datetime) -> str | None:
        """Why Slack would not take their last digest (account_inactive…), when that was less
        than renudge_days ago and nothing reached them since; else None: try them."""
        failed = self.store.failed_since_sent(owner)
        if failed is None or failed.failure not in UNREACHABLE or failed.failed_at is None:
            return None
        if now - failed.failed_at >= timedelta(days=self.policy.nudges.renudge_days):
            return None
        return failed.failure

    def _route(self, finding: Finding) -> Finding:
        """A resource passed on with Not mine belongs to whom it was passed to, not to whoever
        the round found (its creator), until that nudge is answered."""
        last = self.store.last_nudge_for(finding.resource.key)
        if last is None or last.status not in OPEN_STATUSES or not last.passed_on:
            return finding
        if last.owner_slack_user == finding.owner.slack_user:
            return finding
        owner = dataclasses.replace(
            finding.owner,
            slack_user=last.owner_slack_user,
            source="passed on",
            reason=None if last.owner_slack_user else "passed on with Not mine",
            verified=last.owner_verified,  # passed on by its verified owner or an admin
        )
        return dataclasses.replace(finding, owner=owner)

    def _plan(self, finding: Finding, now: datetime) -> _Item:
        last = self.store.last_nudge_for(finding.resource.key)
        if last is None or last.status not in OPEN_STATUSES:
            # Never nudged, or answered long ago and idle again (a keep ran out): a new nudge.
            return _Item(finding, None, Step.NUDGE)
        if last.status == "acting" or self._on_its_way(last, now):
            return _Item(finding, last, Step.WAIT)
        history = History(times_sent=last.times_sent, last_sent_at=last.last_sent_at)
        return _Item(finding, last, next_step(history, now, self.policy.nudges))

    def _on_its_way(self, nudge: Nudge, now: datetime) -> bool:
        """In a digest that was tried and not confirmed: the retry settles it, not a new one.
        Not one given up, nor one pending longer than the re-nudge interval: this round's
        digest replaces it."""
        if nudge.digest_id is None:
            return False
        digest = self.store.get_digest(nudge.digest_id)
        if digest is None or digest.status != "pending":
            return False
        return now - digest.created_at < timedelta(days=self.policy.nudges.renudge_days)

    def _new_nudge(
        self, nudge_id: str, finding: Finding, owner: str | None, round_id: str, now: datetime
    ) -> dict[str, Any]:
        return nudge_row(
            finding.resource,
            owner_slack_user=owner,
            sent_at=now,
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

    def _auto_stop_notice(
        self, items: list[_Item], ids: list[str], now: datetime
    ) -> dict[str, datetime]:
        notice = {}
        for nudge_id, item in zip(ids, items, strict=True):
            if Action.STOP not in item.finding.actions or not item.finding.owner.verified:
                continue  # only what can be stopped is ever stopped, and only for its owner
            times = item.nudge.times_sent if item.nudge else 0
            when = auto_stop_date(History(times_sent=times), now, self.policy.nudges)
            if when is not None:
                notice[nudge_id] = when
        return notice

    def _auto_stop(self, item: _Item, owner: str, now: datetime, delivery: Delivery) -> None:
        if self.auto_stop is None or Action.STOP not in item.finding.actions:
            return
        nudge = item.nudge
        assert nudge is not None
        outcome = self.auto_stop(nudge)
        if outcome is None:
            return  # answered in the meantime
        delivery.auto_stopped += 1
        label = escape_mrkdwn(nudge.resource_label)
        words = escape_mrkdwn(outcome.summary)
        if outcome.dry_run:
            # Said, not done: the nudge stays open; asked again after the interval, not daily.
            self.store.update_nudge(nudge.id, last_sent_at=now)
        unanswered = f"{label}: no answer after {nudge.times_sent} nudges"
        text = (
            f"{unanswered}, so I stopped it. {words}" if outcome.done else f"{unanswered}. {words}"
        )
        digest_id = self.outbox.queue(
            kind="notice", target=owner, text=text, owner_slack_user=owner
        )
        try:
            self.outbox.send(digest_id)
        except Undeliverable:
            pass  # said once by the outbox
        except Exception:
            logger.exception("the auto-stop notice to %s waits for the hourly retry", owner)

    def _escalate(self, owner: str, items: list[_Item], now: datetime, delivery: Delivery) -> None:
        channel = self.policy.slack.fallback_channel
        if not channel:
            return
        times = max(item.nudge.times_sent if item.nudge else 1 for item in items)
        pairs = [(item.nudge.id if item.nudge else "", item.finding) for item in items]
        blocks = digests.escalation_blocks(owner, pairs, times, now, kinds=PATROL)
        digest_id = self.outbox.queue(
            kind="escalation",
            target=channel,
            text=f"<@{owner}> has idle resources",
            blocks=[block.to_dict() for block in blocks],
        )
        try:
            if self.outbox.send(digest_id):
                delivery.escalated += len(items)
        except Undeliverable:
            pass  # said once by the outbox
        except Exception:
            logger.exception("the escalation about %s waits for the hourly retry", owner)

    # Unknown owners ------------------------------------------------------------------------------

    def _unknown_owners(
        self, findings: list[Finding], round_id: str, now: datetime, delivery: Delivery
    ) -> bool:
        """The fallback channel's message; True when posted now."""
        items = [self._plan(finding, now) for finding in findings]
        fresh = [item for item in items if item.step is not Step.WAIT]
        delivery.waiting += len(items) - len(fresh)
        channel = self.policy.slack.fallback_channel
        if not fresh:
            return False
        if not channel:
            delivery.unknown_owner += len(fresh)
            logger.warning(
                "%d idle resources have no known owner and no fallback channel is set", len(fresh)
            )
            return False
        pairs = [(item.finding, item.finding.owner.reason) for item in fresh]
        blocks = digests.unknown_owner_blocks(pairs, now, kinds=PATROL)
        ids = [item.nudge.id if item.nudge else new_nudge_id() for item in fresh]
        digest_id = self._queue(
            kind="unowned",
            target=channel,
            text=f"{len(fresh)} idle resources without an owner",
            blocks=[block.to_dict() for block in blocks],
            hours_of=None,
            round_id=round_id,
            items=list(zip(ids, fresh, strict=True)),
            owner=None,
            now=now,
        )
        if digest_id is None or self.outbox.send(digest_id) is None:
            return False
        delivery.unknown_owner += len(fresh)
        return True

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
        digest_id = self.outbox.queue(
            kind="summary",
            target=channel,
            text="Idle AWS resources: the week",
            blocks=[block.to_dict() for block in blocks],
        )
        return self.outbox.send(digest_id) is not None

    # Slack ---------------------------------------------------------------------------------------

    def _in_hours(self, owner: str) -> bool:
        return in_working_hours(self.clock(), self._zone(owner), self.policy.nudges)

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


def _not_reached(finding: Finding, failure: str) -> Finding:
    """The finding for the fallback channel, saying whom Slack would not let us reach, and why."""
    owner = finding.owner
    who = f"{owner.aws_name} ({owner.slack_user})" if owner.aws_name else owner.slack_user
    unowned = dataclasses.replace(
        owner, slack_user=None, verified=False, reason=f"could not reach {who} in Slack: {failure}"
    )
    return dataclasses.replace(finding, owner=unowned)


# Decisions that take the nudge's monthly cost away (all of it, or its compute: pause, on-demand).
_REMOVED = {action.value for action in Action if is_destructive(action)} | {"auto_stop"}


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
