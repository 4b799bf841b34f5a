"""`whocreated demo`: the whole product against a simulated sandbox, shown in the terminal.

No credentials and no Slack workspace: moto and the CloudTrail stand-in hold a seeded account
(bot/sandbox/seed.py), a recording Slack Web API on 127.0.0.1 stands in for Slack, and the real
Bolt app, built by `wiring.build`, gets signed requests through `app.dispatch`, as Slack's would
arrive. Steps: a few `/whocreated` answers, a patrol round, the digest each owner receives, then
an owner presses Keep (the modal, submitted with a reason) and another a dry-run Terminate.

Nothing here decides anything or reaches AWS: this module drives the product and prints what it
answers, rendered from the Block Kit it sent (bot/sandbox/render.py).
"""

from __future__ import annotations

import json
import secrets
import shutil
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TextIO

from slack_sdk import WebClient

from bot.core import decision_views as views
from bot.core.decisions import Action, button_value
from bot.core.terminal import render_scan
from bot.registry.patrol import PATROL
from bot.sandbox import seed
from bot.sandbox.render import mrkdwn, render_blocks, render_view
from bot.sandbox.seed import Sandbox, Seeded
from bot.sandbox.slack_api import TOKEN, SlackApi
from bot.sandbox.slack_requests import SlackRequests
from bot.services import Services
from bot.store import Store
from bot.wiring import build, build_patrol

FRAME = "  │ "
CHANNEL_NAMES = {seed.FALLBACK_CHANNEL: "aws-sandbox", seed.AUDIT_CHANNEL: "whocreated-audit"}
# What the demo asks /whocreated about, and why each is worth seeing.
LOOKUPS: tuple[tuple[str, str], ...] = (
    ("web-old", "an instance made with Terraform"),
    ("bob-old-data", "a volume made in the console"),
    ("carol-reports", "a bucket made by an SSO session"),
    ("web-asg-1", "an instance Auto Scaling launched"),
    ("shop-web", "an instance CloudFormation launched for a stack"),
    ("base-image", "an image CloudTrail only mentions"),
)
KEEPER, KEPT = "alice", "web-old"
TERMINATOR, TERMINATED = "bob", "bob-scratch"
KEEP_REASON = "Load test on Friday; I will remove it after."
WAIT_S = 60.0


def run_demo(out: TextIO, *, width: int | None = None) -> int:
    """Print the demo to `out`; raises SandboxUnavailable when moto is missing."""
    columns = width or min(110, max(80, shutil.get_terminal_size((100, 24)).columns))
    started = time.monotonic()
    with Sandbox() as sandbox, SlackApi() as slack:
        Demo(sandbox, slack, out, columns).run(started)
    return 0


class Demo:
    def __init__(self, sandbox: Sandbox, slack: SlackApi, out: TextIO, width: int) -> None:
        self.sandbox, self.slack, self.out, self.width = sandbox, slack, out, width
        for person in sandbox.people.values():
            if person.slack_user:
                slack.add_user(
                    person.slack_user,
                    person.key,
                    real_name=person.real_name,
                    email=person.email,
                    tz=person.tz,
                )
        for channel, name in CHANNEL_NAMES.items():
            slack.add_channel(channel, name)
        secret = secrets.token_hex(16)
        settings = sandbox.settings(
            slack_bot_token=TOKEN, slack_signing_secret=secret, slack_api_url=slack.url
        )
        self.services: Services = build(
            settings,
            web_client=WebClient(token=TOKEN, base_url=slack.url),
            aws=sandbox.clients,
            clock=sandbox.clock,
            store=Store.in_memory(),  # answers from the sandbox never enter the live cache
            account_id=lambda: sandbox.account,
        )
        self.requests = SlackRequests(self.services.bolt, secret, slack)
        self.names = slack.names()
        self.notifier: Any = None

    def run(self, started: float) -> None:
        try:
            self.introduce()
            self.lookups()
            findings, round_id = self.patrol()
            self.digests(findings, round_id)
            self.keep()
            self.terminate()
            self.summary(time.monotonic() - started)
        finally:
            self.services.executor.shutdown(wait=True, cancel_futures=True)

    # Steps -------------------------------------------------------------------------------------

    def introduce(self) -> None:
        box = self.sandbox
        self.title("whocreated demo: a simulated AWS sandbox account, no credentials needed")
        self.prose(
            f"AWS account {box.account} lives in this process (moto, and a CloudTrail "
            f"LookupEvents stand-in) in {' and '.join(box.regions)}; Slack is a local stand-in "
            "that records what the bot sends, and every click below goes through the real Slack "
            f"app, signed as Slack signs it. It is {box.now:%A %Y-%m-%d %H:%M} UTC in the sandbox."
        )
        self.say("")
        self.say("Who works there:")
        for person in box.people.values():
            slack = f"Slack @{person.key}" if person.slack_user else "has left: not on Slack"
            self.say(f"  {person.aws_name:<19} {person.how:<27} {slack}")
        self.say("")
        self.prose(
            "What they made (whocreated is not told any of this: its answers below come from "
            "CloudTrail, CloudWatch and the resources themselves):"
        )
        self.say(f"  {'NAME':<14} {'KIND':<21} {'REGION':<10} {'OWNER':<6} MADE WITH")
        for made in box.resources.values():
            if made.type == seed.IMAGE:
                continue
            self.say(
                f"  {made.label:<14} {_kind(made.type):<21} {made.region:<10} "
                f"{made.owner or '-':<6} {made.via or made.tool}"
            )

    def lookups(self) -> None:
        self.title("1. /whocreated: who created this?")
        asker = self.person("bob")
        for label, why in LOOKUPS:
            made = self.sandbox.resource(label)
            self.say("")
            self.say(f"$ /whocreated {made.reference}      ({why})")
            response, key = self.requests.command(
                asker, made.reference, channel=seed.FALLBACK_CHANNEL
            )
            if response.status != 200:
                raise RuntimeError(f"/whocreated was refused: HTTP {response.status}")
            answer = self.slack.wait_for_response(key, timeout=WAIT_S)
            self.show(answer.get("blocks") or [], answer.get("text", ""))

    def patrol(self) -> tuple[list[Any], str]:
        self.title("2. A patrol round: what is idle, whose it is, what it costs")
        self.say("$ whocreated scan")
        patrol, self.notifier = build_patrol(self.services)
        result = patrol.run()
        for line in render_scan(result.findings, result.summary()).splitlines():
            self.say(f"  {line}" if line else "")
        return result.findings, result.round_id

    def digests(self, findings: list[Any], round_id: str) -> None:
        self.title("3. The digest each owner receives (one direct message per round)")
        before = len(self.slack.calls_to("chat.postMessage"))
        delivery = self.notifier.deliver(findings, round_id)
        for call in self.slack.calls_to("chat.postMessage")[before:]:
            channel = str(call.params.get("channel"))
            if channel in CHANNEL_NAMES:
                where = f"#{CHANNEL_NAMES[channel]} (owners whocreated could not reach)"
            else:
                where = f"direct message to @{self.names.get(channel, channel)}"
            self.say("")
            self.say(f"→ {where}")
            self.show(_blocks(call.params), str(call.params.get("text", "")))
        summary = delivery.summary()
        self.say("")
        unknown = summary["unknown_owner"]
        self.prose(
            f"{summary['digests_sent']} digests about {summary['resources_nudged']} resources; "
            f"{unknown} {'resource' if unknown == 1 else 'resources'} without an owner on Slack "
            "went to #aws-sandbox."
        )

    def keep(self) -> None:
        self.title(f"4. @{KEEPER} presses Keep… on {KEPT}, and says why")
        user = self.person(KEEPER)
        nudge, message = self.digest_of(KEPT)
        button = _button(message["blocks"], button_value(nudge.id, Action.KEEP))
        opened = len(self.slack.calls_to("views.open"))
        updates = len(self.slack.calls_to("chat.update"))
        self.requests.click(
            user,
            button,
            channel=nudge.channel,
            message_ts=nudge.message_ts,
            blocks=message["blocks"],
        )
        view = _json(self.slack.wait_for_call("views.open", opened + 1, WAIT_S)[-1].params["view"])
        self.say("The modal that opens:")
        self.say(render_view(view, names=self.names, width=self.width, prefix=FRAME))
        self.say("")
        self.prose(f'She picks "For 30 days", writes "{KEEP_REASON}" and presses Keep.')
        reply = self.requests.submit(user, view, _keep_values("30d", KEEP_REASON))
        if reply.status != 200 or reply.body:
            raise RuntimeError(f"the Keep modal was refused: {reply.status} {reply.body}")
        self.slack.wait_for_call("chat.update", updates + 1, WAIT_S)
        self.say("")
        self.say("Her digest now shows, in place of the buttons:")
        self.show(_row(self.slack.message(nudge.channel, nudge.message_ts)["blocks"], nudge.id))
        self.audit_post(f"Keep of {KEPT}")
        kept = self.services.store.active_keep(nudge.key, self.sandbox.now)
        if kept is not None:
            self.say("")
            self.prose(
                f"whocreated remembers the keep until {kept.until:%Y-%m-%d}: patrol rounds leave "
                f"{KEPT} out until then (in dry-run mode no tag is written on it)."
            )

    def terminate(self) -> None:
        self.title(f"5. @{TERMINATOR} presses Terminate on {TERMINATED} (dry run)")
        user = self.person(TERMINATOR)
        nudge, message = self.digest_of(TERMINATED)
        button = _button(message["blocks"], button_value(nudge.id, Action.TERMINATE))
        confirm = button.get("confirm") or {}
        self.say("Slack first asks for confirmation:")
        self.say(f"{FRAME}{_plain(confirm.get('title'))}")
        for line in textwrap.wrap(_plain(confirm.get("text")), self.width - len(FRAME)):
            self.say(f"{FRAME}{line}")
        self.say(f"{FRAME}[ {_plain(confirm.get('deny'))} ] [ {_plain(confirm.get('confirm'))} ]")
        self.say("")
        audits = len(self.audit_calls())
        _, key = self.requests.click(
            user,
            button,
            channel=nudge.channel,
            message_ts=nudge.message_ts,
            blocks=message["blocks"],
        )
        answer = self.slack.wait_for_response(key, timeout=WAIT_S)
        self.say("He confirms; only he sees the answer:")
        self.show(answer.get("blocks") or [], answer.get("text", ""))
        self.wait_for_audit(audits + 1)
        self.audit_post(f"Terminate of {TERMINATED}")
        state = self.instance_state(self.sandbox.resource(TERMINATED))
        self.say("")
        self.prose(
            f"In the sandbox {TERMINATED} is still {state}: actions stay dry runs until the policy "
            'file says [actions] mode = "enabled".'
        )

    def summary(self, seconds: float) -> None:
        self.title("Done")
        calls = dict(self.sandbox.clients.calls) if self.sandbox.clients else {}
        total = sum(calls.values())
        lookups = calls.get("cloudtrail:LookupEvents", 0)
        metrics = calls.get("monitoring:GetMetricData", 0)
        slack_calls = len(self.slack.calls)
        self.prose(
            f"whocreated made {total} AWS calls ({lookups} LookupEvents, {metrics} GetMetricData) "
            f"and {slack_calls} Slack calls, in {seconds:.1f} s. The sandbox lived in memory: "
            "nothing was written to your AWS account, your Slack or whocreated's cache."
        )
        self.say("")
        self.prose(
            "Next: `whocreated demo --serve --owner U…` connects this sandbox to your own Slack "
            "workspace (tokens from .env); the README says how to point whocreated at AWS."
        )

    # Helpers -------------------------------------------------------------------------------------

    def person(self, key: str) -> str:
        user = self.sandbox.people[key].slack_user
        assert user is not None
        return user

    def digest_of(self, label: str) -> tuple[Any, dict[str, Any]]:
        made = self.sandbox.resource(label)
        key = (self.sandbox.account, made.region, made.type, made.id)
        nudge = self.services.store.last_nudge_for(key)
        if nudge is None or not nudge.channel or not nudge.message_ts:
            raise RuntimeError(f"no digest was sent about {label}")
        return nudge, self.slack.message(nudge.channel, nudge.message_ts)

    def audit_calls(self) -> list[Any]:
        return [
            call
            for call in self.slack.calls_to("chat.postMessage")
            if call.params.get("channel") == seed.AUDIT_CHANNEL
        ]

    def wait_for_audit(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while len(self.audit_calls()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError("the audit channel post never came")
            time.sleep(0.02)

    def audit_post(self, what: str) -> None:
        calls = self.audit_calls()
        if not calls:
            return
        self.say("")
        self.say(f"→ #{CHANNEL_NAMES[seed.AUDIT_CHANNEL]} (every decision, for the team):")
        self.show(_blocks(calls[-1].params), what)

    def instance_state(self, made: Seeded) -> str:
        ec2 = self.sandbox.session().client("ec2", region_name=made.region)
        reservations = ec2.describe_instances(InstanceIds=[made.id])["Reservations"]
        return str(reservations[0]["Instances"][0]["State"]["Name"])

    def title(self, text: str) -> None:
        self.out.write(f"\n{text}\n{'─' * min(len(text), self.width)}\n")
        self.out.flush()

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def prose(self, text: str) -> None:
        self.out.write(textwrap.fill(text, self.width, break_on_hyphens=False) + "\n")

    def show(self, blocks: Sequence[Mapping[str, Any]], fallback: str = "") -> None:
        text = (
            render_blocks(blocks, names=self.names, width=self.width, prefix=FRAME)
            if blocks
            else f"{FRAME}{mrkdwn(fallback, self.names)}"
        )
        self.out.write(text + "\n")
        self.out.flush()


# ---------------------------------------------------------------------------------------------


# The sandbox's types the patrol does not inventory; the others are named by their declarations.
_OTHER_NOUNS = {
    "AWS::S3::Bucket": "S3 bucket",
    seed.AUTOSCALING_GROUP: "Auto Scaling group",
    seed.CLOUDFORMATION_STACK: "CloudFormation stack",
}


def _kind(resource_type: str) -> str:
    noun = PATROL.noun(resource_type) or _OTHER_NOUNS.get(resource_type)
    return noun or resource_type.rsplit("::", 1)[-1]


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def _blocks(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks")
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks or [])


def _elements(blocks: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                yield {**element, "block_id": block.get("block_id", "")}


def _button(blocks: Sequence[Mapping[str, Any]], value: str) -> Mapping[str, Any]:
    """The button with this value in a posted message (what the user would click)."""
    for element in _elements(blocks):
        if element.get("value") == value:
            return element
    raise RuntimeError(f"no button {value!r} in the digest")


def _row(blocks: Sequence[Mapping[str, Any]], nudge_id: str) -> list[Mapping[str, Any]]:
    """A resource's row in a digest: its section and, while it has them, its buttons."""
    wanted = {f"res:{nudge_id}", f"res:{nudge_id}:actions"}
    return [block for block in blocks if block.get("block_id") in wanted]


def _plain(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text", ""))
    return str(obj or "")


def _keep_values(choice: str, reason: str) -> dict[str, Any]:
    """The Keep modal's state as Slack sends it on submit."""
    return {
        views.KEEP_CHOICE_BLOCK: {
            views.INPUT: {"type": "radio_buttons", "selected_option": {"value": choice}}
        },
        views.KEEP_DATE_BLOCK: {views.INPUT: {"type": "datepicker", "selected_date": None}},
        views.KEEP_REASON_BLOCK: {views.INPUT: {"type": "plain_text_input", "value": reason}},
    }
