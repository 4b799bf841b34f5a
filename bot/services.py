"""What a running whocreated is made of: one value, built by `bot.wiring.build` in dependency
order (clients, store, AWS shell, Slack app), with nothing filled in afterwards.

Slack listeners, the decision service and the command line read it; only wiring makes it, so the
modules that use it never import wiring (and wiring's imports never come back here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.config import Settings
from bot.lanes import Lane
from bot.store import Store

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.archive_search import ArchiveSearch
    from bot.aws.accounts import AccountClients
    from bot.aws.limiter import RegionRateLimiter
    from bot.aws.operations import Operations
    from bot.core.answers import LookupAnswer
    from bot.core.created_by import TagSigner
    from bot.core.refs import ResourceRef
    from bot.slack.directory import SlackDirectory

Clock = Callable[[], datetime]
ClientFactory = Callable[[str, str], Any]  # (service, region) → a boto3 client


class Lookups(Protocol):
    """What the rest needs of bot.lookups.LookupService (tests give a fake)."""

    def lookup(
        self,
        ref: ResourceRef,
        region: str | None = None,
        *,
        interactive: bool = True,
        archive: bool = True,
    ) -> LookupAnswer: ...

    def archive_applies(self, answer: LookupAnswer) -> bool: ...

    def from_archive(
        self, answer: LookupAnswer, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer: ...


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    aws: ClientFactory
    clock: Clock
    signer: TagSigner  # signs and checks the tags the bot writes
    limiter: RegionRateLimiter  # the one LookupEvents limiter of the process
    account_id: Callable[[], str | None]  # the credentials' own account, asked once
    account_clients: AccountClients  # client factories per patrolled account
    lookups: Lookups
    operations: Operations  # what the nudge buttons do in AWS
    executor: Lane  # the lookups lane
    # Buttons, modals and App Home: a lane of their own, so a click never waits behind lookups.
    actions: Lane
    holder: str  # this process, in leases and decisions
    app: App | None = None  # the Bolt app, when Slack is configured
    directory: SlackDirectory | None = None  # AWS identity → Slack user, with the app
    archive: ArchiveSearch | None = None  # the trail archive in Athena, with [athena]
    # Trail archive queries (a minute or more each): a lane of their own, so they never hold
    # up lookups; None without [athena].
    archive_lane: Lane | None = None

    @property
    def bolt(self) -> App:
        """The Bolt app; only for services built with Slack."""
        if self.app is None:
            raise RuntimeError("these services were built without Slack")
        return self.app

    @property
    def slack(self) -> WebClient:
        """The bot's Slack Web API client (the app's); only for services built with Slack."""
        client: WebClient = self.bolt.client
        return client
