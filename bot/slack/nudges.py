"""The nudge's buttons, the Keep and Not mine modals, and App Home (DESIGN.md §2 "Button").

A click: ack at once → the nudge by the id in the button value, from the store (the payload's
resource fields are never read) → only its owner or an admin may act → Keep and Not mine open a
modal at once (the trigger_id lasts 3 seconds); Stop, Terminate, Delete and Release already went
through the confirm dialog on the button → the AWS work runs on our executor, dry-run unless the
policy enables actions → the digest row shows the outcome → an audit row and an audit-channel post.

A decision is claimed in the store before AWS is touched (`Store.decide`, compare-and-set), so a
double click or two replicas act once; a refused or failed action opens the nudge again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.aws.operations import Operations, Outcome
from bot.core import decision_views as views
from bot.core import digests
from bot.core.decisions import (
    STATUS_AFTER,
    Action,
    KeepInvalid,
    action_id,
    keep_until,
    parse_button_value,
)
from bot.core.messages import escape_clip, escape_mrkdwn, slack_date
from bot.core.policy import Policy
from bot.core.resources import Resource
from bot.failures import plain_words
from bot.slack.admins import Admins
from bot.slack.message_rows import MessageRows
from bot.store import Nudge, new_nudge_id

if TYPE_CHECKING:
    from bot.wiring import Services

logger = logging.getLogger(__name__)

STALE = (
    "This button is from an old message: I no longer know that resource. If it is still idle, "
    "the next patrol round sends a fresh message."
)
_STATUS_WORDS = {
    "kept": "kept",
    "stopped": "stopped",
    "terminated": "terminated",
    "deleted": "deleted",
    "released": "released",
    "reassigned": "passed on to someone else",
    "gone": "found already gone",
}
_KEEP_FIELDS = {"choice": views.KEEP_CHOICE_BLOCK, "date": views.KEEP_DATE_BLOCK}


class Replier:
    """Tells the clicker something only they see: through the response_url when the click has
    one, else an ephemeral message in the channel, else a DM (App Home, modals)."""

    def __init__(
        self,
        client: WebClient,
        user: str,
        *,
        respond: Respond | None = None,
        channel: str | None = None,
    ) -> None:
        self.client, self.user, self.respond, self.channel = client, user, respond, channel

    def say(self, text: str) -> None:
        """`text` is mrkdwn the caller has escaped."""
        blocks = [SectionBlock(text=MarkdownTextObject(text=text[:3000])).to_dict()]
        try:
            if self.respond is not None and self.respond.response_url:
                response = self.respond(
                    text=text[:3000],
                    blocks=blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
                if getattr(response, "status_code", 200) < 300:
                    return
                logger.warning("response_url refused a reply (%s)", response.status_code)
            if self.channel:
                self.client.chat_postEphemeral(
                    channel=self.channel, user=self.user, text=text[:3000], blocks=blocks
                )
            else:
                self.client.chat_postMessage(channel=self.user, text=text[:3000], blocks=blocks)
        except Exception:
            logger.exception("could not tell user %s: %s", self.user, text[:200])


@dataclass(frozen=True)
class Click:
    """Who clicked, where, and the message's blocks at that moment (for the row update)."""

    user: str
    origin: views.Origin
    replier: Replier
    base: Sequence[Mapping[str, Any]] | None = None


class NudgeListeners:
    def __init__(self, services: Services, *, admins: Admins | None = None) -> None:
        # Services, not its fields: wiring sets services.app after the listeners are registered.
        self.services = services
        self.rows = MessageRows()
        self.admins = admins or Admins(lambda: self.client, lambda: self.policy.slack)

    @property
    def client(self) -> WebClient:
        return self.services.app.client

    @property
    def policy(self) -> Policy:
        return self.services.settings.policy

    @property
    def dry_run(self) -> bool:
        return not self.policy.actions.enabled

    @property
    def operations(self) -> Operations:
        if self.services.operations is None:
            self.services.operations = Operations(
                self.services.aws, self.policy.actions, clock=self.services.clock
            )
        return self.services.operations

    # Buttons ---------------------------------------------------------------------------------

    def button(
        self,
        ack: Ack,
        body: Mapping[str, Any],
        action: Mapping[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        click = self._click(body, action, client, respond)
        try:
            nudge_id, chosen = parse_button_value(str(action.get("value") or ""))
            if action.get("action_id") != action_id(chosen):
                raise ValueError("the action id and the value disagree")
        except ValueError:
            logger.warning("nudge button from %s with value %r", click.user, action.get("value"))
            click.replier.say(STALE)
            return
        nudge = self._nudge_for(nudge_id, click)
        if nudge is None or not self._may_act(nudge, click) or not self._still_open(nudge, click):
            return
        finding = nudge.finding()
        if chosen.value not in finding.actions:
            logger.warning(
                "nudge %s has no %s button (clicked by %s)", nudge.id, chosen, click.user
            )
            click.replier.say(STALE)
            return
        if chosen is Action.KEEP:
            self._open_modal(
                body, click, views.keep_modal(finding.resource, click.origin, dry_run=self.dry_run)
            )
        elif chosen is Action.NOT_MINE:
            modal = views.not_mine_modal(
                finding.resource, click.origin, fallback_channel=self.policy.slack.fallback_channel
            )
            self._open_modal(body, click, modal)
        else:
            self._submit(
                click, f"{chosen} of nudge {nudge.id}", self.carry_out, nudge, chosen, click
            )

    def carry_out(self, nudge: Nudge, chosen: Action, click: Click) -> None:
        """On our executor: claim, act (or say what would be done), settle, show, audit."""
        now = self.services.clock()
        dry_run = self.dry_run
        claimed = None if dry_run else STATUS_AFTER[chosen]
        resource = nudge.resource()
        try:
            if claimed and not self.services.store.decide(nudge.id, claimed, by=click.user, at=now):
                self._already(nudge.id, click)
                return
            outcome = self.operations.perform(
                chosen, nudge.key, dry_run=dry_run, created_at=resource.created_at
            )
            self._settle(nudge, claimed, outcome, click.user, now)
        except Exception as error:
            logger.exception(
                "%s of %s (nudge %s) for user %s failed",
                chosen,
                nudge.resource_id,
                nudge.id,
                click.user,
            )
            if claimed:
                self._reopen(nudge, claimed)
            click.replier.say(
                f":warning: Something went wrong with {escape_mrkdwn(nudge.resource_label)}: "
                f"{escape_clip(plain_words(error), 300)}. Nothing more was done."
            )
            return
        self._audit(click.user, chosen, nudge, resource, outcome, now, dry_run=dry_run)
        if outcome.done or outcome.already:
            self._show(nudge, outcome.summary, click, resource, now)
        else:
            click.replier.say(escape_mrkdwn(outcome.summary))

    def _settle(
        self, nudge: Nudge, claimed: str | None, outcome: Outcome, user: str, now: datetime
    ) -> None:
        store = self.services.store
        if outcome.gone:
            if claimed:
                store.update_nudge(nudge.id, status="gone")
            else:
                store.decide(nudge.id, "gone", by=user, at=now)
        elif claimed and not (outcome.done or outcome.already):
            self._reopen(nudge, claimed)  # refused or failed: the buttons still stand

    # Keep ------------------------------------------------------------------------------------

    def keep_submitted(
        self, ack: Ack, body: Mapping[str, Any], view: Mapping[str, Any], client: WebClient
    ) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        try:
            origin = views.Origin.from_metadata(str(view.get("private_metadata") or ""))
        except ValueError:
            logger.warning("keep modal from %s without our metadata", user)
            ack()
            return
        form = views.read_keep_form((view.get("state") or {}).get("values") or {})
        try:
            until = keep_until(
                form.choice,
                form.until,
                self.services.clock(),
                max_days=self.policy.ownership.max_keep_days,
            )
        except KeepInvalid as invalid:
            ack(response_action="errors", errors={_KEEP_FIELDS[invalid.field]: str(invalid)})
            return
        ack()
        click = Click(user, origin, self._modal_replier(client, user, origin))
        self._submit(
            click, f"keep of nudge {origin.nudge_id}", self.keep, click, until, form.reason
        )

    def keep(self, click: Click, until: datetime, reason: str | None) -> None:
        """On our executor: the keep goes into the store first (the truth), then onto the tags."""
        now = self.services.clock()
        store = self.services.store
        nudge = self._nudge_for(click.origin.nudge_id, click)
        if nudge is None or not self._may_act(nudge, click):
            return
        resource = nudge.resource()
        try:
            if not store.decide(nudge.id, "kept", by=click.user, at=now):
                self._already(nudge.id, click)
                return
            store.put_keep(
                nudge.key, until=until, reason=reason, by=click.user, at=now, nudge_id=nudge.id
            )
        except Exception as error:
            logger.exception("could not store the keep of %s for %s", nudge.resource_id, click.user)
            self._reopen(nudge, "kept")
            click.replier.say(
                f":warning: I could not save the keep of {escape_mrkdwn(nudge.resource_label)}: "
                f"{escape_clip(plain_words(error), 300)}. Please try again."
            )
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
        self._audit(click.user, Action.KEEP, nudge, resource, outcome, now, summary=summary)
        self._show(nudge, summary, click, resource, now)

    # Not mine --------------------------------------------------------------------------------

    def not_mine_submitted(
        self, ack: Ack, body: Mapping[str, Any], view: Mapping[str, Any], client: WebClient
    ) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        try:
            origin = views.Origin.from_metadata(str(view.get("private_metadata") or ""))
        except ValueError:
            logger.warning("not-mine modal from %s without our metadata", user)
            ack()
            return
        form = views.read_not_mine_form((view.get("state") or {}).get("values") or {})
        problem = None
        if form.new_owner is None and not self.policy.slack.fallback_channel:
            problem = "Pick who it belongs to: no fallback channel is configured to ask instead."
        elif form.new_owner is not None and form.new_owner == user:
            problem = "That is you: pick the person it belongs to, or leave it empty."
        elif form.new_owner is not None and form.new_owner == self._owner_of(origin.nudge_id):
            problem = "It is already theirs: pick someone else, or leave it empty."
        if problem:
            ack(response_action="errors", errors={views.NEW_OWNER_BLOCK: problem})
            return
        ack()
        click = Click(user, origin, self._modal_replier(client, user, origin))
        self._submit(
            click,
            f"not-mine of nudge {origin.nudge_id}",
            self.pass_on,
            click,
            form.new_owner,
            form.note,
        )

    def pass_on(self, click: Click, new_owner: str | None, note: str | None) -> None:
        """On our executor: a new nudge for the new owner (or the fallback channel), the old one
        marked reassigned. The message goes out before the old nudge is let go."""
        now = self.services.clock()
        store = self.services.store
        nudge = self._nudge_for(click.origin.nudge_id, click)
        if nudge is None or not self._may_act(nudge, click):
            return
        if not store.decide(nudge.id, "reassigned", by=click.user, at=now):
            self._already(nudge.id, click)
            return
        finding = nudge.finding()
        target = new_owner or self.policy.slack.fallback_channel
        fresh_id = new_nudge_id()
        blocks = [
            views.passed_on_intro(click.user, note, to_channel=new_owner is None),
            *digests.resource_blocks(
                fresh_id, finding, now=now, dry_run=self.dry_run, actions=self.policy.actions
            ),
        ]
        text = f"<@{click.user}> passed on {escape_clip(nudge.resource_label, 200)}"
        try:
            posted = self.client.chat_postMessage(
                channel=target, blocks=[block.to_dict() for block in blocks], text=text
            )
            details = {k: v for k, v in nudge.details.items() if k != "resource"}
            # Passed on by its verified owner or an admin (may_act said so): theirs to decide.
            details.update(
                reassigned_from=nudge.id,
                passed_on_by=click.user,
                note=note,
                owner_verified=True,
                owner_source=f"passed on by {click.user}",
            )
            store.create_nudge(
                finding.resource,
                owner_slack_user=new_owner,
                sent_at=now,
                channel=posted.get("channel"),
                message_ts=posted.get("ts"),
                round_id=nudge.round_id,
                monthly_cost=nudge.monthly_cost,
                details=details,
                nudge_id=fresh_id,
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
        summary = f"Passed on to {'them' if new_owner else 'the fallback channel'} (not mine)."
        outcome = Outcome(done=True, summary=summary)
        self._audit(
            click.user,
            Action.NOT_MINE,
            nudge,
            finding.resource,
            outcome,
            now,
            summary=f"Passed on to {target}" + (f". Note: {note}" if note else ""),
        )
        self._show(nudge, summary, click, finding.resource, now)
        click.replier.say(f"Passed on to {to}. Thank you!")

    # App Home --------------------------------------------------------------------------------

    def home_opened(self, event: Mapping[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        try:
            self.services.executor.submit(self.publish_home, client, user)
        except Exception:
            logger.exception("could not start the App Home of %s", user)

    def publish_home(self, client: WebClient, user: str) -> None:
        """The user's open nudges, idle ones first, with their cost and the same buttons."""
        try:
            items = [
                (nudge.id, nudge.finding(), nudge.status)
                for nudge in self.services.store.open_nudges_for(user)
            ]
            view = digests.home_view(
                items, now=self.services.clock(), dry_run=self.dry_run, actions=self.policy.actions
            )
            client.views_publish(user_id=user, view=view)
        except Exception:
            logger.exception("could not publish the App Home of %s", user)

    # Shared ----------------------------------------------------------------------------------

    def _click(
        self,
        body: Mapping[str, Any],
        action: Mapping[str, Any],
        client: WebClient,
        respond: Respond | None,
    ) -> Click:
        user = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        home = container.get("type") == "view"
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        ts = container.get("message_ts")
        message = body.get("message") or {}
        nudge_id = str(action.get("value") or "").rpartition(":")[0]
        origin = views.Origin(
            nudge_id=nudge_id,
            channel=None if home else channel,
            message_ts=None if home else ts,
            home=home,
        )
        replier = Replier(client, user, respond=respond, channel=None if home else channel)
        return Click(user, origin, replier, base=message.get("blocks"))

    def _modal_replier(self, client: WebClient, user: str, origin: views.Origin) -> Replier:
        return Replier(client, user, channel=None if origin.home else origin.channel)

    def _nudge_for(self, nudge_id: str, click: Click) -> Nudge | None:
        try:
            nudge = self.services.store.get_nudge(nudge_id)
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

    def _owner_of(self, nudge_id: str) -> str | None:
        """For form validation (one local query); a store error is left to the worker."""
        try:
            nudge = self.services.store.get_nudge(nudge_id)
        except Exception:
            logger.exception("could not read nudge %s to check a not-mine form", nudge_id)
            return None
        return nudge.owner_slack_user if nudge else None

    def _may_act(self, nudge: Nudge, click: Click) -> bool:
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

    def _still_open(self, nudge: Nudge, click: Click) -> bool:
        if nudge.is_open:
            return True
        self._tell_already(nudge, click)
        return False

    def _already(self, nudge_id: str, click: Click) -> None:
        nudge = self.services.store.get_nudge(nudge_id)
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
            self.services.store.reopen(nudge.id, from_status=claimed)
        except Exception:
            logger.exception("could not reopen nudge %s after a failed %s", nudge.id, claimed)

    def _open_modal(self, body: Mapping[str, Any], click: Click, view: Any) -> None:
        try:
            self.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except Exception as error:
            logger.exception("could not open a modal for user %s", click.user)
            click.replier.say(
                f":warning: I could not open the form ({escape_clip(plain_words(error), 200)})."
                " Please click again."
            )

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
        user: str,
        chosen: Action,
        nudge: Nudge,
        resource: Resource,
        outcome: Outcome,
        now: datetime,
        *,
        dry_run: bool = False,
        summary: str | None = None,
    ) -> None:
        """An audit row (the record) and a post in the audit channel (for people)."""
        words = summary or outcome.summary
        try:
            self.services.store.add_audit(
                at=now,
                slack_user=user,
                action=chosen.value,
                key=nudge.key,
                dry_run=dry_run,
                outcome=outcome.kind,
                detail=words,
                nudge_id=nudge.id,
            )
        except Exception:
            logger.exception("could not write the audit row of %s on %s", chosen, nudge.id)
        channel = self.policy.slack.audit_channel
        if not channel:
            return
        blocks = views.audit_blocks(
            user=user,
            action=chosen,
            resource=resource,
            owner=nudge.owner_slack_user,
            outcome_kind=outcome.kind,
            summary=words,
            now=now,
        )
        try:
            self.client.chat_postMessage(
                channel=channel,
                blocks=[block.to_dict() for block in blocks],
                text=views.audit_text(user, chosen, resource, outcome.kind),
            )
        except Exception:
            logger.exception("could not post the %s of %s to the audit channel", chosen, nudge.id)

    def _submit(self, click: Click, what: str, work: Callable[..., None], *args: Any) -> None:
        try:
            self.services.executor.submit(work, *args)
        except Exception:  # the executor is shut down: the process is stopping
            logger.exception("could not start the %s", what)
            click.replier.say("The bot is restarting: try again in a minute.")
