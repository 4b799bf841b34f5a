"""The nudge's buttons, the Keep and Not mine modals, and App Home (DESIGN.md §2 "Button").

These listeners only translate: ack at once, read the button value or the form, and hand the
work to the decision service (bot/deciding.py) on the actions lane, which never waits behind
lookups. Keep and Not mine open their modal in the listener itself (the trigger_id lasts 3
seconds), after the service has checked the click may go ahead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.core import decision_views as views
from bot.core.decisions import Action, KeepInvalid, action_id, keep_until, parse_button_value
from bot.core.messages import escape_clip
from bot.core.policy import Policy
from bot.deciding import RESTARTING, STALE, Click, Decisions
from bot.failures import plain_words
from bot.registry.patrol import PATROL
from bot.slack.admins import Admins

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

__all__ = ["STALE", "NudgeListeners", "Replier"]

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


class NudgeListeners:
    def __init__(self, services: Services, *, admins: Admins | None = None) -> None:
        self.services = services
        self.decisions = Decisions.for_services(services, admins=admins)

    @property
    def client(self) -> WebClient:
        return self.services.slack

    @property
    def policy(self) -> Policy:
        return self.services.settings.policy

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
        nudge = self.decisions.check(nudge_id, chosen, click)
        if nudge is None:
            return
        resource = nudge.finding().resource
        dry_run = self.decisions.dry_run
        if chosen is Action.KEEP:
            modal = views.keep_modal(resource, click.origin, dry_run=dry_run, kinds=PATROL)
            self._open_modal(body, click, modal)
        elif chosen is Action.NOT_MINE:
            modal = views.not_mine_modal(
                resource,
                click.origin,
                fallback_channel=self.policy.slack.fallback_channel,
                kinds=PATROL,
            )
            self._open_modal(body, click, modal)
        else:
            what = f"{chosen} of nudge {nudge.id}"
            self._submit(click, what, self.decisions.carry_out, nudge, chosen, click)

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
        what = f"keep of nudge {origin.nudge_id}"
        self._submit(click, what, self.decisions.keep, click, until, form.reason)

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
        elif form.new_owner is not None and form.new_owner == self.decisions.owner_of(
            origin.nudge_id
        ):
            problem = "It is already theirs: pick someone else, or leave it empty."
        if problem:
            ack(response_action="errors", errors={views.NEW_OWNER_BLOCK: problem})
            return
        ack()
        click = Click(user, origin, self._modal_replier(client, user, origin))
        what = f"not-mine of nudge {origin.nudge_id}"
        self._submit(click, what, self.decisions.pass_on, click, form.new_owner, form.note)

    # App Home --------------------------------------------------------------------------------

    def home_opened(self, event: Mapping[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        try:
            self.services.actions.submit(self.decisions.publish_home, client, user)
        except Exception:
            logger.exception("could not start the App Home of %s", user)

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

    def _open_modal(self, body: Mapping[str, Any], click: Click, view: Any) -> None:
        try:
            self.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except Exception as error:
            logger.exception("could not open a modal for user %s", click.user)
            click.replier.say(
                f":warning: I could not open the form ({escape_clip(plain_words(error), 200)})."
                " Please click again."
            )

    def _submit(self, click: Click, what: str, work: Callable[..., None], *args: Any) -> None:
        """On the actions lane; what cannot run (shutting down) or finish in time is told."""

        def unfinished(started: bool) -> None:
            if started:
                click.replier.say(
                    "I'm restarting in the middle of that. I will check how it ended when I am "
                    "back, in a minute, and tell you."
                )
            else:
                click.replier.say(f"{RESTARTING} Nothing was done.")

        try:
            self.services.actions.submit(work, *args, unfinished=unfinished)
        except Exception:  # the lane is closed: the process is stopping
            logger.warning("not starting the %s: shutting down", what)
            unfinished(False)
