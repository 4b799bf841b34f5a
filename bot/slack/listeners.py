"""Slack listeners: `/whocreated` and its buttons; the nudge's buttons, modals and App Home
(handled in bot/slack/nudges.py, mapped here).

`register` only maps Slack ids to handlers (Bolt starter-template style). Handlers are bound methods
of `Listeners`, so Bolt can inject `ack`, `command`, `respond`, `body`, `client` by parameter name,
and tests can call them on their own.

Every handler acks at once and hands anything slow (AWS, a second Slack call) to our bounded
lookups lane (`services.executor`), never to Bolt's small listener pool: a burst of slow lookups
never delays another request's ack or a modal's 3-second trigger_id. The nudge's buttons and
modals have a lane of their own (`services.actions`), so they never wait behind lookups. Work the
process cannot start or finish before it stops is answered "I'm restarting, try again in a
minute".

`/whocreated` text is read in the handler itself: it is pure and takes microseconds, so help, usage
and a bad id are answered in the ack (one message) instead of "Looking up…" followed by an error.

The "Show raw event" button carries the reference, event id and region (never the record, which
can exceed the 2,000-character value limit). Its handler reads the record from the creators cache
(one local query) and opens the modal at once; when the cache lacks it (names are not cached by
id, or the store was reset), it opens a "Fetching…" modal at once and fills it in from a worker
that looks the reference up again (cached ids cost no AWS call).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot.aws.accounts import UnknownAccount
from bot.config import ConfigError, check_region
from bot.core import decision_views, messages
from bot.core.answers import LookupAnswer
from bot.core.decisions import Action, action_id
from bot.core.refs import InvalidReference, ResourceRef, account_id, in_account, parse
from bot.deciding import RESTARTING
from bot.failures import plain_words
from bot.lanes import Lane
from bot.slack.access import Access, Home, LookupLimit
from bot.slack.admins import Admins
from bot.slack.nudges import NudgeListeners
from bot.slack.user_groups import UserGroups

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

COMMAND = "/whocreated"


def register(app: App, services: Services) -> None:
    client = lambda: app.client  # noqa: E731
    policy = lambda: services.settings.policy.slack  # noqa: E731
    groups = UserGroups(client)
    admins = Admins(client, policy, groups=groups)
    access = Access(client, policy, admins=admins, groups=groups)
    app.use(Gate(access).check)
    handlers = Listeners(services, admins=admins)
    app.command(COMMAND)(handlers.whocreated)
    app.action(messages.SHOW_RAW_EVENT)(handlers.show_raw_event)
    app.action(messages.OPEN_CLOUDTRAIL)(handlers.link_clicked)
    # The nudge: its buttons (nudge_keep, nudge_stop, …), the Keep and Not mine modals, App Home.
    nudges = NudgeListeners(services, admins=admins)
    for action in Action:
        app.action(action_id(action))(nudges.button)
    app.view(decision_views.KEEP_CALLBACK)(nudges.keep_submitted)
    app.view(decision_views.NOT_MINE_CALLBACK)(nudges.not_mine_submitted)
    app.event("app_home_opened")(nudges.home_opened)


class Gate:
    """Bolt middleware: a person the policy does not let use the bot is told why, and nothing
    else runs (bot.slack.access). Events (App Home opening) pass: they answer nobody else."""

    def __init__(self, access: Access) -> None:
        self.access = access

    def check(
        self,
        body: Mapping[str, Any],
        ack: Ack,
        respond: Respond,
        context: BoltContext,
        next: Callable[[], None],
    ) -> BoltResponse | None:
        """Calls next() for whoever may; answers anyone else itself (the response returned ends
        the request in Bolt: no listener runs)."""
        kind = _request_kind(body)
        if kind is None:
            next()
            return None
        user, channel = _who_and_where(body, kind)
        try:
            refusal = self.access.refusal(
                user, channel if kind == "command" else None, home=_home(context)
            )
        except Exception:
            logger.exception("could not check whether %s may use the bot", user)
            refusal = "I could not check who you are just now: please try again in a minute."
        if refusal is None:
            next()
            return None
        logger.info("refused a %s from %s in %s: %s", kind, user, channel, refusal)
        if kind == "command":
            return ack(text=refusal)
        if kind == "view_submission":
            return ack(response_action="update", view=messages.message_view(refusal))
        if body.get("response_url"):
            try:
                respond(text=refusal, response_type="ephemeral", replace_original=False)
            except Exception:
                logger.exception("could not tell %s they may not use the bot", user)
        return ack()


def _home(context: BoltContext) -> Home | None:
    """Our team and enterprise from Bolt's authorize result: for commands and actions, the
    auth.test Bolt made at start-up (single workspace), not anything the request says."""
    result = context.authorize_result
    if result is None:
        return None
    return (result.team_id, result.enterprise_id)


def _request_kind(body: Mapping[str, Any]) -> str | None:
    if body.get("command"):
        return "command"
    if body.get("type") in ("block_actions", "view_submission", "shortcut", "message_action"):
        return str(body["type"])
    return None


def _who_and_where(body: Mapping[str, Any], kind: str) -> tuple[str | None, str | None]:
    if kind == "command":
        return body.get("user_id"), body.get("channel_id")
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id")
    return user, channel


# ---------------------------------------------------------------------------------------------
# Reading the command text (pure)


class CommandError(ValueError):
    """The command text cannot be read; the message says why in plain words."""


@dataclass(frozen=True)
class Command:
    reference: str | None  # None: show usage
    region: str | None = None
    share: bool = False
    account: str | None = None  # search this account only


def read_command(text: str) -> Command:
    """`[help] | ID [share] [region=R | --region R | --region=R] [account=A | --account A |
    --account=A]`, in any order."""
    # Slack escapes &, < and > in command text; AWS references never hold them, but undo it so
    # refs.parse sees what the user typed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    tokens = text.split()
    positional: list[str] = []
    region: str | None = None
    account: str | None = None
    share = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        lowered = token.lower()
        if lowered in ("help", "-h", "--help"):
            return Command(reference=None)
        if lowered == "share":
            share = True
        elif lowered == "--region":
            if index + 1 >= len(tokens):
                raise CommandError("--region needs a region name, e.g. --region eu-west-1")
            region = _region(tokens[index + 1])
            index += 1
        elif lowered.startswith(("--region=", "region=")):
            region = _region(token.split("=", 1)[1])
        elif lowered == "--account":
            if index + 1 >= len(tokens):
                raise CommandError("--account needs an account id, e.g. --account 123456789012")
            account = _account(tokens[index + 1])
            index += 1
        elif lowered.startswith(("--account=", "account=")):
            account = _account(token.split("=", 1)[1])
        else:
            positional.append(token)
        index += 1
    if not positional:
        return Command(reference=None)
    if len(positional) > 1:
        shown = ", ".join(positional[:5])
        raise CommandError(f"give one resource at a time (got {len(positional)}: {shown[:300]})")
    return Command(reference=positional[0], region=region, share=share, account=account)


def _account(value: str) -> str:
    try:
        return account_id(value)
    except InvalidReference as error:
        raise CommandError(str(error)) from error


def _region(name: str) -> str:
    try:
        return check_region(name.strip().lower())
    except ConfigError as error:
        raise CommandError(str(error)) from error


class ReplyRejected(RuntimeError):
    """Slack answered a response_url post with an error."""


def send(respond: Respond, **message: Any) -> None:
    """respond(), raising when Slack rejects the message: a failure must not pass silently."""
    response = respond(**message)
    status = getattr(response, "status_code", 200)
    if status >= 300:
        raise ReplyRejected(f"Slack refused the reply: HTTP {status} {str(response.body)[:200]}")


# ---------------------------------------------------------------------------------------------
# Handlers


class Listeners:
    def __init__(self, services: Services, *, admins: Admins | None = None) -> None:
        self.services = services
        self.admins = admins or Admins(
            lambda: self.services.slack, lambda: self.services.settings.policy.slack
        )
        self.limit = LookupLimit(lambda: self.services.settings.policy.slack.lookups_per_minute)

    # /whocreated ---------------------------------------------------------------------------

    def whocreated(self, ack: Ack, command: Mapping[str, Any], respond: Respond) -> None:
        text = str(command.get("text") or "")
        user, channel = command.get("user_id"), command.get("channel_id")
        try:
            request = read_command(text)
            if request.reference is None:
                ack(blocks=messages.usage_blocks(), text=messages.usage_text())
                return
            ref = in_account(parse(request.reference), request.account)
        except (CommandError, InvalidReference) as error:
            ack(
                blocks=[*messages.error_blocks(str(error)), *messages.usage_blocks()],
                text=messages.escape_mrkdwn(str(error)),
            )
            return
        except Exception as error:
            logger.exception("could not read %s %r from user %s", COMMAND, text[:200], user)
            ack(
                blocks=messages.error_blocks(
                    f"Something went wrong reading that: {plain_words(error)}"
                )
            )
            return
        wait = self.limit.wait_for(str(user or ""))
        if wait:
            per_minute = self.services.settings.policy.slack.lookups_per_minute
            ack(
                text=f"You have asked {per_minute} times in the last minute: please wait "
                f"{wait:.0f} seconds. (CloudTrail answers each AWS account only 2 lookups a "
                "second, shared by everyone here.)"
            )
            return
        where = f" in account {ref.account}" if request.account else ""
        ack(text=f"Looking up {messages.code(ref.given.strip())}{where}…")
        self._submit(
            f"lookup of {ref.given!r} for user {user} in channel {channel}",
            respond,
            self.answer,
            ref,
            request,
            respond,
            user,
            channel,
        )

    def answer(
        self,
        ref: ResourceRef,
        request: Command,
        respond: Respond,
        user: str | None = None,
        channel: str | None = None,
    ) -> None:
        """The slow part, on our executor: look up, map the actor to a person, reply. When the
        trail archive is to be asked, say so and leave that to the archive lane."""
        try:
            if ref.account:
                self.services.account_clients.check(ref.account)
            lookups = self.services.lookups
            answer = lookups.lookup(ref, request.region, archive=False)
            lane = self.services.archive_lane
            if lane is not None and lookups.archive_applies(answer):
                self._tell(respond, messages.ARCHIVE_SEARCHING, user)
                self._submit(
                    f"archive search of {ref.given!r} for user {user}",
                    respond,
                    self.answer_from_archive,
                    answer,
                    request,
                    respond,
                    user,
                    lane=lane,
                )
                return
            send(respond, **self._answer_message(answer, request, user))
        except UnknownAccount as error:
            self._reply_error(respond, str(error))
        except Exception as error:
            logger.exception(
                "lookup of %r (region %s) for user %s in channel %s failed",
                ref.given,
                request.region,
                user,
                channel,
            )
            self._reply_error(
                respond,
                f"Something went wrong looking up {ref.given.strip()}: {plain_words(error)}",
            )

    def answer_from_archive(
        self,
        answer: LookupAnswer,
        request: Command,
        respond: Respond,
        user: str | None = None,
    ) -> None:
        """On the archive lane: ask the trail archive, then answer through the response_url
        (valid 30 minutes from the command); when Slack refuses it, in a direct message."""
        ref = answer.ref
        try:
            found = self.services.lookups.from_archive(answer, request.region)
            message = self._answer_message(found, request, user)
        except Exception as error:
            logger.exception("archive search of %r for user %s failed", ref.given, user)
            words = f"Something went wrong searching the trail archive for {ref.given.strip()}: "
            words += plain_words(error)
            message = {
                "blocks": messages.error_blocks(words),
                "text": messages.escape_mrkdwn(words)[:3000],
                "response_type": "ephemeral",
            }
        try:
            send(respond, replace_original=False, **message)
        except Exception:
            logger.warning(
                "the response_url for %r refused the archive answer; sending it to %s directly",
                ref.given,
                user,
                exc_info=True,
            )
            self._direct_message(user, message)

    def _tell(self, respond: Respond, text: str, user: str | None) -> None:
        """A passing word; the work goes on when Slack refuses it (the answer may still land)."""
        try:
            send(respond, text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            logger.warning("could not tell %s: %s", user, text[:80], exc_info=True)

    def _direct_message(self, user: str | None, message: Mapping[str, Any]) -> None:
        if not user:
            return
        try:
            self.services.slack.chat_postMessage(
                channel=user, blocks=message.get("blocks"), text=message.get("text", "")
            )
        except Exception:
            logger.exception("could not send %s the archive answer", user)

    def _answer_message(
        self, answer: LookupAnswer, request: Command, user: str | None
    ) -> dict[str, Any]:
        """The answer for `user`; the source IP only for one who may see the unredacted raw
        event, and never in a shared answer (the whole channel reads it)."""
        # A person a writable tag led to is named as text, never mentioned.
        behind = None if answer.behind_by_claim() else answer.person_behind()
        return {
            "blocks": messages.lookup_answer(
                answer,
                slack_user_id=self._slack_user(answer),
                now=self.services.clock(),
                parent_slack_user_id=self._slack_user(behind.answer) if behind else None,
                show_source_ip=not request.share and self._sees_everything(user),
            ),
            "text": messages.fallback_text(answer),
            "response_type": "in_channel" if request.share else "ephemeral",
        }

    def _slack_user(self, answer: LookupAnswer) -> str | None:
        directory = self.services.directory
        if answer.fact is None or directory is None:
            return None
        try:
            return directory.slack_user(answer.fact.actor)
        except Exception:  # the answer is still worth sending, with a name instead of a mention
            logger.exception("could not map %r to a Slack user", answer.fact.actor.arn)
            return None

    # Show raw event ------------------------------------------------------------------------

    def show_raw_event(
        self,
        ack: Ack,
        body: Mapping[str, Any],
        action: Mapping[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        trigger_id = body.get("trigger_id")
        user = (body.get("user") or {}).get("id")
        try:
            given, event_id, region = messages.parse_raw_event_button_value(
                str(action.get("value"))
            )
        except ValueError:
            logger.warning("show_raw_event from user %s with an unreadable value", user)
            self._reply_error(respond, "That button is out of date: run /whocreated again.")
            return
        try:
            record = self._cached_record(given, event_id, region)
            if record is not None:
                view = messages.raw_event_view(record, full=self._sees_everything(user))
                client.views_open(trigger_id=trigger_id, view=view)
                return
            opened = client.views_open(trigger_id=trigger_id, view=messages.loading_view(given))
        except Exception as error:
            logger.exception("could not open the raw event of %r for user %s", given, user)
            self._reply_error(
                respond, f"Something went wrong showing the raw event: {plain_words(error)}"
            )
            return
        shown = opened.get("view") or {}
        self._submit(
            f"raw event of {given!r} for user {user}",
            respond,
            self.fill_raw_event,
            client,
            user,
            shown.get("id"),
            shown.get("hash"),
            given,
            event_id,
            region,
        )

    def fill_raw_event(
        self,
        client: WebClient,
        user: str | None,
        view_id: str,
        view_hash: str | None,
        given: str,
        event_id: str | None,
        region: str | None,
    ) -> None:
        """On our executor: look the reference up again and put its record in the open modal."""
        try:
            # Never a minute-long archive query behind an open modal: what it found is cached.
            answer = self.services.lookups.lookup(parse(given), region, archive=False)
            fact = answer.fact
            if fact is not None and fact.record and event_id in (None, fact.event_id):
                view = messages.raw_event_view(fact.record, full=self._sees_everything(user))
            else:
                view = messages.message_view(
                    f"The creation event of {given} is no longer available: "
                    + messages.fallback_text(answer)
                )
        except Exception as error:
            logger.exception("could not fetch the raw event of %r", given)
            view = messages.message_view(
                f"Something went wrong fetching the raw event of {given}: {plain_words(error)}"
            )
        try:
            client.views_update(view_id=view_id, hash=view_hash, view=view)
        except Exception:
            logger.exception("could not show the raw event of %r in view %s", given, view_id)

    def _cached_record(
        self, given: str, event_id: str | None, region: str | None
    ) -> Mapping[str, Any] | None:
        """The record from the creators cache (one local query, fast enough for trigger_id)."""
        if not event_id:
            return None
        ref = parse(given)
        facts = self.services.store.find_facts([ref.id], partition=ref.partition, region=region)
        for fact in facts:
            if fact.event_id == event_id and fact.record:
                return fact.record
        return None

    def _sees_everything(self, user: str | None) -> bool:
        """Access key ids and source IPs are for admins, unless the policy shows them to all."""
        return self.services.settings.policy.slack.unredacted_raw_event or self.admins.is_admin(
            user
        )

    # Link buttons --------------------------------------------------------------------------

    def link_clicked(self, ack: Ack) -> None:
        """Slack sends an action for link buttons too; ack it so the user sees no warning."""
        ack()

    # Shared --------------------------------------------------------------------------------

    def _submit(
        self,
        what: str,
        respond: Respond,
        work: Callable[..., None],
        *args: Any,
        lane: Lane | None = None,
    ) -> None:
        def unfinished(started: bool) -> None:
            self._reply_error(respond, RESTARTING)

        try:
            (lane or self.services.executor).submit(work, *args, unfinished=unfinished)
        except Exception:  # the lane is closed: the process is stopping
            logger.warning("not starting the %s: shutting down", what)
            unfinished(False)

    def _reply_error(self, respond: Respond, message: str) -> None:
        try:
            send(
                respond,
                blocks=messages.error_blocks(message),
                text=messages.escape_mrkdwn(message)[:3000],
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:
            logger.exception("could not tell the user: %s", message[:200])
