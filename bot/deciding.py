"""Decisions on nudges, in one place: Keep, Stop, Terminate, Delete, Release, Not mine, and the
patrol's auto-stop. The Slack listeners, the notifier and the tests call this; it claims the
nudge, acts on AWS, settles, audits and updates the message.

Recorded around AWS: a destructive action first moves its nudge to `acting` and writes a decision
row (one transaction, compare-and-set, so a double click or two replicas act once); after the
AWS call the decision is `done` (the nudge moves on) or `failed` (the nudge is open again), with
its audit row in the same transaction. A process that dies mid-action leaves the row `acting`;
`settle_leftovers`, at start, looks at the resource to tell whether it happened, settles the row
and tells the person who clicked. Dry runs claim nothing: they only read AWS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk import WebClient

from bot.aws.operations import Operations, Outcome
from bot.core import decision_views as views
from bot.core import digests
from bot.core.decisions import STATUS_AFTER, Action
from bot.core.messages import escape_clip, escape_mrkdwn, slack_date
from bot.core.policy import Policy
from bot.core.resources import Resource
from bot.failures import plain_words
from bot.leases import INSTANCE_PREFIX
from bot.outbox import Outbox, Undeliverable
from bot.registry.patrol import PATROL
from bot.slack.admins import Admins
from bot.slack.message_rows import MessageRows
from bot.store import Decision, Nudge, Store, nudge_row

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

STALE = (
    "This button is from an old message: I no longer know that resource. If it is still idle, "
    "the next patrol round sends a fresh message."
)
RESTARTING = "I'm restarting, try again in a minute."
AUTO_STOP = "auto_stop"  # the decision and audit name of the patrol's own stop

_STATUS_WORDS = {
    "acting": "being handled",
    "kept": "kept",
    "stopped": "stopped",
    "paused": "paused",
    "switched": "switched to on-demand",
    "terminated": "terminated",
    "deleted": "deleted",
    "released": "released",
    "deregistered": "deregistered",
    "reassigned": "passed on to someone else",
    "gone": "found already gone",
    "superseded": "replaced by a newer message",
}


class Teller(Protocol):
    """Tells the person who clicked something only they see (mrkdwn the caller escaped)."""

    def say(self, text: str) -> None: ...


@dataclass(frozen=True)
class Click:
    """Who clicked, where, and the message's blocks at that moment (for the row update)."""

    user: str
    origin: views.Origin
    replier: Teller
    base: Sequence[Mapping[str, Any]] | None = None


class Decisions:
    """The decision workflow; clients and policy are read when used (wiring sets the Slack app
    after the listeners are registered)."""

    def __init__(
        self,
        *,
        store: Store,
        operations: Callable[[], Operations],
        client: Callable[[], WebClient],
        policy: Callable[[], Policy],
        clock: Callable[[], datetime],
        holder: str,
        admins: Admins | None = None,
    ) -> None:
        self.store = store
        self._operations = operations
        self._client = client
        self._policy = policy
        self.clock = clock
        self.holder = holder
        self.rows = MessageRows()
        self.admins = admins or Admins(client, lambda: self.policy.slack)

    @classmethod
    def for_services(
        cls,
        services: Services,
        client: Callable[[], WebClient] | None = None,
        *,
        admins: Admins | None = None,
    ) -> Decisions:
        return cls(
            admins=admins,
            store=services.store,
            operations=lambda: services.operations,
            client=client or (lambda: services.slack),
            policy=lambda: services.settings.policy,
            clock=services.clock,
            holder=services.holder,
        )

    @property
    def policy(self) -> Policy:
        return self._policy()

    @property
    def client(self) -> WebClient:
        return self._client()

    @property
    def operations(self) -> Operations:
        return self._operations()

    @property
    def dry_run(self) -> bool:
        return not self.policy.actions.enabled

    # Before a button's work: may it be done at all? --------------------------------------------

    def check(self, nudge_id: str, chosen: Action, click: Click) -> Nudge | None:
        """The nudge when `click.user` may do `chosen` on it now; else None, the person told."""
        nudge = self.load(nudge_id, click)
        if nudge is None or not self.may_act(nudge, click) or not self._still_open(nudge, click):
            return None
        if chosen.value not in nudge.finding().actions:
            logger.warning("nudge %s has no %s button (by %s)", nudge.id, chosen, click.user)
            click.replier.say(STALE)
            return None
        return nudge

    def load(self, nudge_id: str, click: Click) -> Nudge | None:
        try:
            nudge = self.store.get_nudge(nudge_id)
        except Exception as error:
            logger.exception("could not read nudge %s for user %s", nudge_id, click.user)
            click.replier.say(
                f":warning: I could not read my notes ({escape_clip(plain_words(error), 200)})."
                " Please try again in a minute."
            )
            return None
        if nudge is None:
            logger.info("unknown nudge %r clicked by %s", nudge_id, click.user)
            click.replier.say(STALE)
        return nudge

    def owner_of(self, nudge_id: str) -> str | None:
        """For form validation (one local query); a store error is left to the worker."""
        try:
            nudge = self.store.get_nudge(nudge_id)
        except Exception:
            logger.exception("could not read nudge %s to check a not-mine form", nudge_id)
            return None
        return nudge.owner_slack_user if nudge else None

    def may_act(self, nudge: Nudge, click: Click) -> bool:
        # A claimed owner (an owner tag's word) is told, but only admins act (DESIGN.md §4).
        owner = nudge.owner_slack_user if nudge.owner_verified else None
        if self.admins.may_act(click.user, owner):
            return True
        label = escape_mrkdwn(nudge.resource_label)
        if nudge.owner_slack_user and not nudge.owner_verified:
            text = (
                f"Only an admin can decide about {label}: it came to you because of an owner tag, "
                "and anyone allowed to tag it could have written that."
            )
        elif nudge.owner_slack_user:
            text = (
                f"Only <@{nudge.owner_slack_user}> or an admin can decide about {label}. "
                "If it is yours now, ask them to pass it on with *Not mine*."
            )
        else:
            text = f"Only an admin can decide about {label} while it has no owner."
        logger.info("user %s may not act on nudge %s", click.user, nudge.id)
        click.replier.say(text)
        return False

    # Stop, Terminate, Delete, Release ------------------------------------------------------------

    def carry_out(self, nudge: Nudge, chosen: Action, click: Click) -> None:
        """Claim, act (or say what would be done), settle, show, audit."""
        resource = nudge.resource()
        if self.dry_run:
            self._dry_run(nudge, chosen, click, resource)
            return
        try:
            decision = self.store.begin_decision(
                nudge.id,
                chosen.value,
                by=click.user,
                holder=self.holder,
                now=self.clock(),
                tell_channel=click.origin.channel,
            )
        except Exception as error:
            logger.exception("could not record the %s of nudge %s", chosen, nudge.id)
            click.replier.say(
                f":warning: I could not record that decision about "
                f"{escape_mrkdwn(nudge.resource_label)} "
                f"({escape_clip(plain_words(error), 200)}). Nothing was done; please try again."
            )
            return
        if decision is None:
            self._already(nudge.id, click)
            return
        outcome = self._perform(chosen, nudge, dry_run=False)
        now = self.clock()
        if not self._settle(decision, nudge, chosen, outcome, user=click.user, now=now):
            click.replier.say(escape_mrkdwn(outcome.summary) + _UNRECORDED)
            return
        self._post_audit(click.user, chosen, nudge, resource, outcome, now)
        if outcome.done or outcome.already:
            self._show(nudge, outcome.summary, click, resource, now)
        else:
            click.replier.say(escape_mrkdwn(outcome.summary))

    def _dry_run(self, nudge: Nudge, chosen: Action, click: Click, resource: Resource) -> None:
        now = self.clock()
        outcome = self._perform(chosen, nudge, dry_run=True)
        if outcome.gone:
            self.store.decide(nudge.id, "gone", by=click.user, at=now)  # a read showed it gone
        self._audit(click.user, chosen.value, nudge, outcome.kind, outcome.summary, now, True)
        self._post_audit(click.user, chosen, nudge, resource, outcome, now)
        if outcome.done or outcome.already:
            self._show(nudge, outcome.summary, click, resource, now)
        else:
            click.replier.say(escape_mrkdwn(outcome.summary))

    def _perform(self, chosen: Action, nudge: Nudge, *, dry_run: bool) -> Outcome:
        """Operations.perform never raises by contract; anything unexpected is still an outcome.
        It acts only on the resource the nudge recorded (its creation time, where names are
        reused), whatever has that name now."""
        try:
            return self.operations.perform(
                chosen, nudge.key, dry_run=dry_run, created_at=nudge.resource().created_at
            )
        except Exception as error:
            logger.exception("%s of %s (nudge %s) failed", chosen, nudge.resource_id, nudge.id)
            return Outcome(
                done=False,
                summary=f"Something went wrong with {nudge.resource_label}: "
                f"{plain_words(error)[:300]}. Nothing more was done.",
            )

    def _settle(
        self,
        decision: Decision,
        nudge: Nudge,
        chosen: Action,
        outcome: Outcome,
        *,
        user: str | None,
        now: datetime,
        action_name: str | None = None,
    ) -> bool:
        """The decision done (the nudge moves on) or failed (open again), with its audit row.
        False when the store refused: the row stays `acting` and the next start settles it."""
        if outcome.gone:
            status: str | None = "gone"
        elif outcome.done or outcome.already:
            status = STATUS_AFTER[chosen]
        else:
            status = None  # refused or failed: the buttons still stand
        try:
            self.store.finish_decision(
                decision,
                nudge_status=status,
                outcome=outcome.kind,
                detail=outcome.summary,
                now=now,
                audit_row=_audit_row(
                    nudge, action_name or chosen.value, user, outcome.kind, outcome.summary, now
                ),
            )
        except Exception:
            logger.exception("could not record the outcome of decision %s", decision.id)
            return False
        return True

    # Auto-stop (the notifier) --------------------------------------------------------------------

    def auto_stop(self, nudge: Nudge) -> Outcome | None:
        """Stop an unanswered resource for its owner: recorded like a click (acting, then done or
        failed). In dry-run only said, and the nudge stays open, its buttons working. None when
        the nudge was answered in the meantime."""
        now = self.clock()
        if self.dry_run:
            outcome = self._perform(Action.STOP, nudge, dry_run=True)
            self._audit(None, AUTO_STOP, nudge, outcome.kind, outcome.summary, now, True)
            return outcome
        decision = self.store.begin_decision(
            nudge.id, AUTO_STOP, by=None, holder=self.holder, now=now
        )
        if decision is None:
            return None
        outcome = self._perform(Action.STOP, nudge, dry_run=False)
        now = self.clock()
        self._settle(
            decision, nudge, Action.STOP, outcome, user=None, now=now, action_name=AUTO_STOP
        )
        return outcome

    # Keep ----------------------------------------------------------------------------------------

    def keep(self, click: Click, until: datetime, reason: str | None) -> None:
        """The keep goes into the store first (the truth), then onto the tags."""
        now = self.clock()
        nudge = self.load(click.origin.nudge_id, click)
        if nudge is None or not self.may_act(nudge, click):
            return
        resource = nudge.resource()
        try:
            kept = self.store.keep_nudge(
                nudge.id, nudge.key, until=until, reason=reason, by=click.user, at=now
            )
        except Exception as error:
            logger.exception("could not store the keep of %s for %s", nudge.resource_id, click.user)
            click.replier.say(
                f":warning: I could not save the keep of {escape_mrkdwn(nudge.resource_label)}: "
                f"{escape_clip(plain_words(error), 300)}. Please try again."
            )
            return
        if kept is None:
            self._already(nudge.id, click)
            return
        outcome = self.operations.perform(
            Action.KEEP,
            nudge.key,
            dry_run=self.dry_run,
            keep_until=until,
            keep_reason=reason,
            created_at=resource.created_at,
        )
        summary = outcome.summary + (f" Reason: {reason}" if reason else "")
        self._audit(click.user, Action.KEEP.value, nudge, outcome.kind, summary, now, False)
        self._post_audit(click.user, Action.KEEP, nudge, resource, outcome, now, summary=summary)
        self._show(nudge, summary, click, resource, now)

    # Not mine ------------------------------------------------------------------------------------

    def pass_on(self, click: Click, new_owner: str | None, note: str | None) -> None:
        """A nudge of their own for the new owner (or the fallback channel), written with its
        message to the outbox before the old nudge is let go; the post follows."""
        now = self.clock()
        nudge = self.load(click.origin.nudge_id, click)
        if nudge is None or not self.may_act(nudge, click):
            return
        if not self.store.decide(nudge.id, "reassigned", by=click.user, at=now):
            self._already(nudge.id, click)
            return
        finding = nudge.finding()
        target = new_owner or self.policy.slack.fallback_channel
        if target is None:
            self._reopen(nudge, "reassigned")
            click.replier.say("Pick who it belongs to: no fallback channel is configured.")
            return
        details = {k: v for k, v in nudge.details.items() if k != "resource"}
        # Passed on by its verified owner or an admin (may_act said so): theirs to decide.
        details.update(
            reassigned_from=nudge.id,
            passed_on_by=click.user,
            note=note,
            owner_verified=True,
            owner_source=f"passed on by {click.user}",
        )
        fresh = nudge_row(
            finding.resource,
            owner_slack_user=new_owner,
            sent_at=now,
            round_id=nudge.round_id,
            monthly_cost=nudge.monthly_cost,
            details=details,
        )
        blocks = [
            views.passed_on_intro(click.user, note, to_channel=new_owner is None),
            *digests.resource_blocks(
                fresh["id"],
                finding,
                now=now,
                dry_run=self.dry_run,
                actions=self.policy.actions,
                kinds=PATROL,
            ),
        ]
        outbox = Outbox(self.store, self.client, self.clock)
        try:
            digest_id = outbox.queue(
                kind="passed_on",
                target=target,
                text=f"<@{click.user}> passed on {escape_clip(nudge.resource_label, 200)}",
                blocks=[block.to_dict() for block in blocks],
                round_id=nudge.round_id,
                new_nudges=[fresh],
            )
        except Exception as error:
            logger.exception("could not pass nudge %s on to %s", nudge.id, target)
            self._reopen(nudge, "reassigned")
            click.replier.say(
                f":warning: I could not pass {escape_mrkdwn(nudge.resource_label)} on "
                f"({escape_clip(plain_words(error), 300)}). It is still yours to answer."
            )
            return
        to = f"<@{new_owner}>" if new_owner else f"<#{target}>"
        thanks = f"Passed on to {to}. Thank you!"
        try:
            outbox.send(digest_id)
        except Undeliverable as gone:  # the outbox logged it
            thanks = (
                f"Passed on to {to}, but Slack would not let me tell them ({gone.failure}); "
                "the next patrol round routes it again."
            )
        except Exception:
            logger.exception("the message passing nudge %s on to %s failed", nudge.id, target)
            thanks = f"Passed on to {to}; my message to them is delayed, I will send it again."
        summary = f"Passed on to {'them' if new_owner else 'the fallback channel'} (not mine)."
        outcome = Outcome(done=True, summary=summary)
        detail = f"Passed on to {target}" + (f". Note: {note}" if note else "")
        self._audit(click.user, Action.NOT_MINE.value, nudge, outcome.kind, detail, now, False)
        self._post_audit(
            click.user, Action.NOT_MINE, nudge, finding.resource, outcome, now, summary=detail
        )
        self._show(nudge, summary, click, finding.resource, now)
        click.replier.say(thanks)

    # After a restart -----------------------------------------------------------------------------

    def settle_leftovers(self) -> int:
        """Decisions left `acting` by a process that is gone (its instance lease expired): the
        resource, described now, says whether the action happened; settled, and the person who
        clicked told. Returns how many were settled."""
        live = self.store.live_leases(INSTANCE_PREFIX, self.clock())
        settled = 0
        for decision in self.store.acting_decisions():
            if decision.holder == self.holder or INSTANCE_PREFIX + decision.holder in live:
                continue  # in progress here, or in a replica that is alive
            try:
                self._settle_leftover(decision)
                settled += 1
            except Exception:
                logger.exception("could not settle decision %s after a restart", decision.id)
        return settled

    def _settle_leftover(self, decision: Decision) -> None:
        nudge = self.store.get_nudge(decision.nudge_id)
        if nudge is None:  # nothing left to describe: closed, so it is not tried at every start
            self.store.finish_decision(
                decision,
                nudge_status=None,
                outcome="failed",
                detail="its nudge no longer exists",
                now=self.clock(),
                settling=True,
            )
            return
        chosen = Action.STOP if decision.action == AUTO_STOP else Action(decision.action)
        # A dry run reads the resource's live state: "already terminated" means it happened.
        seen = self._perform(chosen, nudge, dry_run=True)
        now = self.clock()
        if seen.already:
            outcome = Outcome(
                done=True,
                summary=f"The {chosen.value} of {nudge.resource_label} went through while I was "
                f"restarting. ({seen.summary})",
            )
            status: str | None = STATUS_AFTER[chosen]
        else:
            outcome = Outcome(
                done=False,
                summary=f"The {chosen.value} of {nudge.resource_label} did not finish: I restarted "
                "in the middle of it. Nothing more was done; it can be chosen again.",
            )
            status = None
        settled = self.store.finish_decision(
            decision,
            nudge_status=status,
            outcome=outcome.kind,
            detail=outcome.summary,
            now=now,
            audit_row=_audit_row(
                nudge, decision.action, decision.by, outcome.kind, outcome.summary, now
            ),
            settling=True,
        )
        if not settled:  # another process settled it first, and told the clicker
            return
        logger.info(
            "decision %s (%s of %s) settled after a restart: %s",
            decision.id,
            decision.action,
            nudge.resource_id,
            outcome.kind,
        )
        if outcome.done and nudge.channel and nudge.message_ts:
            self.rows.replace(
                self.client,
                nudge.channel,
                nudge.message_ts,
                nudge.id,
                outcome.summary,
                by_user=decision.by,
                now=now,
                resource=nudge.resource(),
            )
        if decision.by:
            try:
                self.client.chat_postMessage(
                    channel=decision.by, text=escape_mrkdwn(outcome.summary)[:3000]
                )
            except Exception:
                logger.exception("could not tell %s of decision %s", decision.by, decision.id)

    # App Home ------------------------------------------------------------------------------------

    def publish_home(self, client: WebClient, user: str) -> None:
        """The user's open nudges, idle ones first, with their cost and the same buttons."""
        try:
            items = [
                (nudge.id, nudge.finding(), nudge.status)
                for nudge in self.store.open_nudges_for(user)
            ]
            view = digests.home_view(
                items,
                now=self.clock(),
                dry_run=self.dry_run,
                actions=self.policy.actions,
                kinds=PATROL,
            )
            client.views_publish(user_id=user, view=view)
        except Exception:
            logger.exception("could not publish the App Home of %s", user)

    # Shared --------------------------------------------------------------------------------------

    def _still_open(self, nudge: Nudge, click: Click) -> bool:
        if nudge.is_open:
            return True
        self._tell_already(nudge, click)
        return False

    def _already(self, nudge_id: str, click: Click) -> None:
        nudge = self.store.get_nudge(nudge_id)
        if nudge is not None:
            self._tell_already(nudge, click)

    def _tell_already(self, nudge: Nudge, click: Click) -> None:
        what = _STATUS_WORDS.get(nudge.status, nudge.status)
        by = f" by <@{nudge.decided_by}>" if nudge.decided_by else ""
        when = f" on {slack_date(nudge.decided_at)}" if nudge.decided_at else ""
        click.replier.say(
            f"{escape_mrkdwn(nudge.resource_label)} was already {what}{by}{when}: "
            "nothing more to do."
        )

    def _reopen(self, nudge: Nudge, claimed: str) -> None:
        try:
            self.store.reopen(nudge.id, from_status=claimed)
        except Exception:
            logger.exception("could not reopen nudge %s after a failed %s", nudge.id, claimed)

    def _show(
        self, nudge: Nudge, summary: str, click: Click, resource: Resource, now: datetime
    ) -> None:
        """The row of that resource shows the outcome, where it was clicked and in its digest."""
        origin = click.origin
        places = []
        if origin.channel and origin.message_ts:
            places.append((origin.channel, origin.message_ts, click.base))
        if (
            nudge.channel
            and nudge.message_ts
            and (nudge.channel, nudge.message_ts) not in [(c, t) for c, t, _ in places]
        ):
            places.append((nudge.channel, nudge.message_ts, None))
        shown = False
        for channel, ts, base in places:
            shown |= self.rows.replace(
                self.client,
                channel,
                ts,
                nudge.id,
                summary,
                by_user=click.user,
                now=now,
                resource=resource,
                base=base,
            )
        if origin.home:
            self.publish_home(self.client, click.user)
        elif not shown:
            click.replier.say(escape_mrkdwn(summary))

    def _audit(
        self,
        user: str | None,
        action: str,
        nudge: Nudge,
        kind: str,
        words: str,
        now: datetime,
        dry_run: bool,
    ) -> None:
        """The audit row of a decision that claimed nothing (dry runs, keeps, passing on)."""
        try:
            self.store.add_audit(
                at=now,
                slack_user=user,
                action=action,
                key=nudge.key,
                dry_run=dry_run,
                outcome=kind,
                detail=words,
                nudge_id=nudge.id,
            )
        except Exception:
            logger.exception("could not write the audit row of %s on %s", action, nudge.id)

    def _post_audit(
        self,
        user: str,
        chosen: Action,
        nudge: Nudge,
        resource: Resource,
        outcome: Outcome,
        now: datetime,
        *,
        summary: str | None = None,
    ) -> None:
        """A post in the audit channel (for people; the audit row is the record)."""
        channel = self.policy.slack.audit_channel
        if not channel:
            return
        words = summary or outcome.summary
        blocks = views.audit_blocks(
            user=user,
            action=chosen,
            resource=resource,
            owner=nudge.owner_slack_user,
            outcome_kind=outcome.kind,
            summary=words,
            now=now,
            kinds=PATROL,
        )
        try:
            self.client.chat_postMessage(
                channel=channel,
                blocks=[block.to_dict() for block in blocks],
                text=views.audit_text(user, chosen, resource, outcome.kind),
            )
        except Exception:
            logger.exception("could not post the %s of %s to the audit channel", chosen, nudge.id)


_UNRECORDED = " (I could not write this down yet; I will check it again when I restart.)"


def _audit_row(
    nudge: Nudge, action: str, user: str | None, kind: str, words: str, now: datetime
) -> dict[str, Any]:
    account, region, resource_type, resource_id = nudge.key
    return {
        "at": now,
        "slack_user": user,
        "action": action,
        "account": account,
        "region": region,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "nudge_id": nudge.id,
        "dry_run": False,
        "outcome": kind,
        "detail": words,
    }
