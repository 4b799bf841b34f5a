"""The one place clients are made: build(settings, **overrides) → Services, with the Bolt App.

Everything is made in dependency order: clock, store and signer, the AWS shell, the Slack client,
the Bolt app and the directory, then the Services value, and last the listeners registered on the
app with it. Tests and the demo call build() with fakes (a Slack WebClient pointed at a fake
server, boto3 clients pointed at stand-ins); production calls it with settings alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from bot.config import Settings
from bot.lanes import Lane
from bot.leases import new_holder
from bot.services import ClientFactory, Clock, Services
from bot.store import Store

if TYPE_CHECKING:
    from bot.archive_search import ArchiveSearch

logger = logging.getLogger(__name__)

__all__ = ["AWS_CLIENT_CONFIG", "AwsClients", "Services", "build", "build_patrol"]


def utc_now() -> datetime:
    return datetime.now(UTC)


# Standard retry mode retries throttling (ThrottlingException, 429) with backoff; a lookup that was
# throttled must end in an answer, not in "not found".
AWS_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=20,
    user_agent_appid="whocreated",  # type: ignore[call-arg]  # newer than botocore-stubs
)
# Services asked once per resource in a round, where a failure is better cut short: the round
# stops asking after the first failure (bot/aws/faults.py), so each retry only delays it.
SERVICE_CONFIGS: dict[str, Config] = {
    "pricing": Config(retries={"mode": "standard", "total_max_attempts": 2}, read_timeout=10),
}
ACTION_WORKERS = 4  # buttons, modals and App Home: their own lane, never behind lookups
ARCHIVE_WORKERS = 2  # trail archive queries at once (each waits a minute or more on Athena)


class AwsClients:
    """boto3 clients per (service, region) from one session, made once and shared (thread-safe)."""

    def __init__(
        self,
        session: boto3.Session | None = None,
        endpoints: dict[str, str] | None = None,
        config: Config = AWS_CLIENT_CONFIG,
    ) -> None:
        self._session = session or boto3.Session()
        self._endpoints = endpoints or {}
        self._config = config
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                config = self._config
                if service in SERVICE_CONFIGS:
                    config = config.merge(SERVICE_CONFIGS[service])
                # Any service by name: the typed overloads only know each one by its literal.
                session: Any = self._session
                self._clients[key] = session.client(
                    service,
                    region_name=region,
                    config=config,
                    endpoint_url=self._endpoints.get(service),
                )
                self._clients[key].meta.events.register("before-call", self._count)
            return self._clients[key]

    def _count(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.endpoint_prefix}:{model.name}"
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1


def build(settings: Settings, **overrides: Any) -> Services:
    """Assemble the services.

    Overrides: store, aws, clock, web_client, executor, actions, limiter, account_id, lookups,
    operations, with_app.
    """
    from bot.aws.account_search import AccountSearch
    from bot.aws.accounts import AccountClients
    from bot.aws.limiter import RegionRateLimiter
    from bot.aws.operations import Operations
    from bot.aws.trail import TrailFinder
    from bot.lookups import LookupService
    from bot.registry.patrol import HINTS, PATROL
    from bot.signing_key import tag_signer

    clock: Clock = overrides.get("clock", utc_now)
    store: Store = overrides.get("store") or Store.open(settings.database_url)
    signer = overrides.get("signer") or tag_signer(settings.tag_key, store)
    aws: ClientFactory = overrides.get("aws") or AwsClients()
    limiter = overrides.get("limiter") or RegionRateLimiter()
    account_id = overrides.get("account_id") or _caller_account(aws, settings)
    finder = TrailFinder(
        aws,
        limiter,
        default_regions=settings.fallback_regions,
        clock=clock,
        account_id=account_id,
        hints=HINTS,
    )
    account_clients = AccountClients(
        settings.policy.accounts,
        aws,
        account_id,
        settings.aws_region or "us-east-1",
        make_clients=lambda session: AwsClients(session),
    )
    executor = overrides.get("executor") or Lane("lookup", settings.lookup_workers)
    actions = overrides.get("actions") or Lane("actions", ACTION_WORKERS)
    # Lookups in any account: an ARN's own, or every configured account side by side.
    search = AccountSearch(
        account_clients,
        finder,
        lambda account, client_for: TrailFinder(
            client_for,
            limiter,
            default_regions=settings.fallback_regions,
            clock=clock,
            account_id=lambda: account,
            hints=HINTS,
        ),
        hints=HINTS,
    )
    archive = _archive(settings, aws, clock, account_id)
    lookups = overrides.get("lookups") or LookupService(
        search, store, hints=search.hint, signer=signer, archive=archive
    )
    operations = overrides.get("operations") or Operations(
        aws,
        settings.policy.actions,
        PATROL.by_type,
        clock=clock,
        account_clients=account_clients,
        signer=signer,
    )
    app, directory = None, None
    if overrides.get("with_app", True) and (settings.slack_bot_token or "web_client" in overrides):
        from bot.slack.app import new_app
        from bot.slack.directory import SlackDirectory

        app = new_app(settings, web_client=overrides.get("web_client"))
        directory = SlackDirectory(app.client, settings.directory, clock=clock)
    services = Services(
        settings=settings,
        store=store,
        aws=aws,
        clock=clock,
        signer=signer,
        limiter=limiter,
        account_id=account_id,
        account_clients=account_clients,
        lookups=lookups,
        operations=operations,
        executor=executor,
        actions=actions,
        holder=overrides.get("holder") or new_holder(),
        app=app,
        directory=directory,
        archive=archive,
        archive_lane=Lane("archive", ARCHIVE_WORKERS) if archive is not None else None,
    )
    if app is not None:
        from bot.slack import listeners

        listeners.register(app, services)
    return services


def _archive(
    settings: Settings, aws: ClientFactory, clock: Clock, account_id: Callable[[], str | None]
) -> ArchiveSearch | None:
    """The trail archive in Athena, when the policy file's [athena] names its table."""
    from bot.archive_search import ArchiveSearch
    from bot.aws.archive import TrailArchive

    policy = settings.policy.archive
    if policy is None:
        return None
    region = policy.region or settings.aws_region or "us-east-1"
    trail = TrailArchive(lambda: aws("athena", region), policy)
    return ArchiveSearch(trail, clock=clock, own_account=account_id)


def _caller_account(aws: ClientFactory, settings: Settings) -> Callable[[], str | None]:
    """GetCallerIdentity once, lazily; denied or unreachable only costs the account in answers."""
    lock = threading.Lock()
    known: dict[str, str | None] = {}

    def account_id() -> str | None:
        with lock:
            if "account" not in known:
                try:
                    region = settings.aws_region or "us-east-1"
                    known["account"] = aws("sts", region).get_caller_identity()["Account"]
                except Exception as error:
                    logger.warning("GetCallerIdentity failed (%s); answers may lack it", error)
                    known["account"] = None
            return known["account"]

    return account_id


def build_patrol(services: Services, web_client: Any = None) -> tuple[Any, Any]:
    """The patrol round and its delivery, from the services: (Patrol, Notifier or None).

    `web_client` is Slack for `scan --notify` outside `serve`; without one (and without the app)
    there is no delivery and owners are named from AWS alone. Read-only means read-only: only a
    round that notifies, with actions enabled, writes `whocreated:created-by` tags.
    """
    from bot.archive_owners import ArchiveCreators
    from bot.aws.bulk_trail import BulkCreators
    from bot.aws.pricing import PriceBook
    from bot.aws.tagging import Tagger
    from bot.deciding import Decisions
    from bot.notifier import Notifier
    from bot.owners import OwnerResolver
    from bot.patrol import Patrol
    from bot.registry.patrol import PATROL

    settings, policy = services.settings, services.settings.policy
    client = web_client or (services.app.client if services.app is not None else None)
    directory = services.directory
    if directory is None and client is not None:
        from bot.slack.directory import SlackDirectory

        directory = SlackDirectory(client, settings.directory, clock=services.clock)
    home = settings.aws_region or "us-east-1"
    account_clients = services.account_clients
    writes = client is not None and policy.actions.enabled and policy.actions.write_tags
    owners = OwnerResolver(
        store=services.store,
        bulk=BulkCreators(
            services.aws,
            services.limiter,
            clock=services.clock,
            account_id=services.account_id,
            clients_for_account=account_clients,
        ),
        directory=directory or _NoDirectory(),
        policy=policy,
        clock=services.clock,
        tagger=Tagger(
            services.aws,
            PATROL.by_type,
            account_id=services.account_id,
            clients_for_account=account_clients,
        )
        if writes
        else None,
        signer=services.signer,
        archive=ArchiveCreators(services.archive.archive, clock=services.clock)
        if services.archive is not None
        else None,
    )
    patrol = Patrol(
        policy=policy,
        store=services.store,
        accounts=account_clients.visit,
        owners=owners,
        prices=PriceBook(services.aws, PATROL),
        clock=services.clock,
        default_regions=settings.fallback_regions or (home,),
        signer=services.signer,
    )
    notifier = None
    if client is not None:
        decisions = Decisions.for_services(services, client=lambda: client)
        notifier = Notifier(
            store=services.store,
            client=client,
            policy=policy,
            clock=services.clock,
            auto_stop=decisions.auto_stop,
        )
    return patrol, notifier


class _NoDirectory:
    """Without Slack, nobody maps to a Slack user: owners are named from AWS alone."""

    def slack_user(self, actor: Any) -> str | None:
        return None

    def claimed_user(self, value: str) -> str | None:
        return None
