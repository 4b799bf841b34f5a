"""`whocreated demo --serve`: the simulated sandbox behind a real Slack workspace.

A team can try the Slack side (the slash command, the digest, its buttons and modals) before giving
whocreated any AWS access. Slack's settings come from the environment and `.env` as for `serve`
(SLACK_BOT_TOKEN, SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET for HTTP, SLACK_API_URL,
PORT); nothing else is read: no AWS settings, no policy file. Every sandbox person maps to one
Slack user (`--owner`, else the user Slack's auth.test names when that is a person, which it is
not for a bot token), who is also the admin, so every digest and button is theirs. One patrol round
runs at start and its digests go out at once; then the app serves until Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from dotenv import dotenv_values

from bot.config import ConfigError, DirectorySettings, Settings, load_settings
from bot.core.policy import SlackPolicy
from bot.sandbox.seed import Sandbox
from bot.services import Services
from bot.store import Store
from bot.wiring import build, build_patrol

logger = logging.getLogger(__name__)

SLACK_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "PORT",
)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
NO_OWNER = (
    "demo --serve needs --owner U… (your Slack member ID: profile → ⋮ → Copy member ID), "
    "who gets every digest: Slack's auth.test names the bot, not who installed it"
)


def slack_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Slack's settings alone, from the environment, then `.env` in `cwd`; checked as for serve.

    AWS variables, WHOCREATED_CONFIG and the policy file are not read.
    """
    env = os.environ if environ is None else environ
    values = {name: env[name] for name in SLACK_VARIABLES if env.get(name)}
    dotenv = (cwd or Path.cwd()) / ".env"
    if dotenv.is_file():
        for name, value in dotenv_values(dotenv).items():
            if name in SLACK_VARIABLES and value:
                values.setdefault(name, value)
    with tempfile.TemporaryDirectory() as empty:  # a folder without a policy file
        settings = load_settings(values, cwd=Path(empty), use_dotenv=False)
    settings.require_slack()
    return settings


class ServedDemo:
    """The sandbox's services with the Slack app; `start` runs the first round and delivers."""

    def __init__(self, sandbox: Sandbox, services: Services, owner: str) -> None:
        self.sandbox = sandbox
        self.services = services
        self.owner = owner
        self.delivered: dict[str, Any] = {}

    @classmethod
    def start(
        cls,
        sandbox: Sandbox,
        slack: Settings,
        owner: str | None,
        *,
        web_client: Any = None,
    ) -> ServedDemo:
        from slack_sdk.errors import SlackApiError, SlackClientError

        from bot.errors import Unavailable
        from bot.slack.app import build_web_client

        settings = sandbox.settings(
            slack_bot_token=slack.slack_bot_token,
            slack_app_token=slack.slack_app_token,
            slack_signing_secret=slack.slack_signing_secret,
            slack_api_url=slack.slack_api_url,
            port=slack.port,
        )
        client = web_client if web_client is not None else build_web_client(settings)
        try:
            owner = owner or _person_behind_token(client)
            if owner is None:
                raise ConfigError(NO_OWNER)
            if not _USER_ID.match(owner):
                raise ConfigError(
                    f"--owner must be a Slack member id like U012AB3CD (got {owner!r})"
                )
            # Everyone in the sandbox is the owner on Slack, who may press every button.
            settings = dataclasses.replace(
                settings,
                directory=DirectorySettings(
                    users={person.mapping_key: owner for person in sandbox.people.values()}
                ),
                policy=dataclasses.replace(settings.policy, slack=SlackPolicy(admins=(owner,))),
            )
            services = build(
                settings,
                web_client=client,
                aws=sandbox.clients,
                clock=sandbox.clock,
                store=Store.in_memory(),  # the sandbox's answers never enter the live cache
                account_id=lambda: sandbox.account,
            )
        except SlackApiError as error:
            raise Unavailable(
                f"Slack refused the bot token ({error.response.get('error')}): "
                "check SLACK_BOT_TOKEN"
            ) from error
        except (SlackClientError, OSError) as error:
            raise Unavailable(f"Slack is unreachable: {error}") from error
        demo = cls(sandbox, services, owner)
        demo.first_round()
        return demo

    def first_round(self) -> None:
        patrol, notifier = build_patrol(self.services)
        result = patrol.run()
        assert notifier is not None
        # The sandbox's noon is not the owner's: the first digest goes out now, whatever the hour.
        delivery = notifier.deliver(result.findings, result.round_id, respect_hours=False)
        self.delivered = {**result.summary(), **delivery.summary()}

    def describe(self, out: TextIO) -> None:
        box, summary = self.sandbox, self.delivered
        out.write(
            f"Sandbox account {box.account} ({', '.join(box.regions)}), connected to your Slack "
            f"workspace. Every sandbox person is <@{self.owner}> on Slack.\n"
            f"Patrol round: {summary.get('idle', 0)} idle of {summary.get('scanned', 0)} "
            f"resources; sent {summary.get('digests_sent', 0)} digest(s) to {self.owner}. "
            "Buttons are dry runs.\n\nTry in Slack:\n"
        )
        for made in box.resources.values():
            if made.type.startswith("AWS::EC2::") or made.type == "AWS::S3::Bucket":
                out.write(f"  /whocreated {made.reference:<24} ({made.label}, {made.region})\n")
        out.write("\nServing until Ctrl-C.\n")
        out.flush()

    def serve_forever(self) -> None:
        from bot.slack.app import serve_http, serve_socket_mode

        settings = self.services.settings
        if settings.socket_mode:
            assert settings.slack_app_token is not None
            serve_socket_mode(self.services.bolt, settings.slack_app_token)
        else:
            serve_http(self.services.bolt, settings.port)


def serve_demo(
    out: TextIO,
    *,
    owner: str | None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    web_client: Any = None,
    serve: bool = True,
) -> int:
    """Check Slack's settings, start the sandbox, run the first round, then serve."""
    slack = slack_settings(environ, cwd)
    with Sandbox() as sandbox:
        demo = ServedDemo.start(sandbox, slack, owner, web_client=web_client)
        demo.describe(out)
        try:
            if serve:
                demo.serve_forever()
        finally:
            demo.services.executor.shutdown(wait=False, cancel_futures=True)
    return 0


def _person_behind_token(client: Any) -> str | None:
    """The user auth.test names, when that is a person (a user token); a bot token names the
    bot, and then nobody can be told. A refused token raises (SlackApiError)."""
    user = client.auth_test().get("user_id")
    if not user:
        return None
    try:
        found = client.users_info(user=user).get("user") or {}
    except Exception:  # cannot tell whether it is a person: the caller asks for --owner
        logger.warning("could not tell whether %s is a person", user, exc_info=True)
        return None
    return None if found.get("is_bot") or found.get("deleted") else str(user)
