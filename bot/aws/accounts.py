"""The accounts a patrol round visits and lookups may search: the credentials' own, and others
through an assumed role, listed in the policy (`ids`) or by AWS Organizations."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code
from bot.aws.organization import OrganizationAccounts, Selection
from bot.core.policy import Accounts

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]
SESSION_NAME = "whocreated-patrol"
ASSUME_WORKERS = 8  # AssumeRole calls side by side when a round enters many accounts


@dataclass(frozen=True)
class AccountAccess:
    account: str
    clients: ClientFactory | None  # None: could not get in
    note: str | None = None


class UnknownAccount(ValueError):
    """An account lookups may not search; the message says which ones they may."""


def visit(
    accounts: Accounts,
    own_clients: ClientFactory,
    own_account: str | None,
    region: str,
    *,
    make_clients: Callable[[boto3.Session], ClientFactory],
) -> list[AccountAccess]:
    """One entry per account to patrol; an account we cannot enter says why, the rest go on."""
    return AccountClients(
        accounts, own_clients, lambda: own_account, region, make_clients=make_clients
    ).visit()


def _assume(
    accounts: Accounts,
    account: str,
    own_clients: ClientFactory,
    region: str,
    make_clients: Callable[[boto3.Session], ClientFactory],
) -> AccountAccess:
    role_arn = f"arn:aws:iam::{account}:role/{accounts.role_name}"
    request: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
    if accounts.external_id:
        request["ExternalId"] = accounts.external_id
    try:
        credentials = own_clients("sts", region).assume_role(**request)["Credentials"]
    except ClientError as error:
        note = f"{account}: cannot assume {role_arn} ({error_code(error)}); skipped"
        logger.warning(note)
        return AccountAccess(account, None, note)
    except BotoCoreError as error:
        note = f"{account}: cannot assume {role_arn} ({error}); skipped"
        logger.warning(note)
        return AccountAccess(account, None, note)
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return AccountAccess(account, make_clients(session))


class AccountClients:
    """Client factories by account id, shared by the patrol, lookups, owner look-ups, tagging and
    buttons: the credentials' own account as they are, others through the policy's role (assumed
    once, again when the session nears its end).

    Which accounts there are: the policy's `ids`, or with `source = "organizations"` the
    organization's selected accounts (`organization`), listed again by every round and at most
    every 15 minutes for lookups."""

    SESSION_LIFETIME = 50 * 60  # AssumeRole's default session lasts an hour

    def __init__(
        self,
        accounts: Accounts,
        own_clients: ClientFactory,
        own_account: Callable[[], str | None],
        region: str,
        *,
        make_clients: Callable[[boto3.Session], ClientFactory],
        monotonic: Callable[[], float] = time.monotonic,
        organization: OrganizationAccounts | None = None,
    ) -> None:
        self.accounts = accounts
        self.own_clients = own_clients
        self.own_account = own_account
        self.region = region
        self.make_clients = make_clients
        self.monotonic = monotonic
        self.organization = organization
        if accounts.from_organization and organization is None:
            self.organization = OrganizationAccounts(
                lambda: own_clients("organizations", region), accounts, monotonic=monotonic
            )
        self._lock = threading.Lock()
        self._assumed: dict[str, tuple[float, AccountAccess]] = {}

    def __call__(self, account: str) -> ClientFactory | None:
        return self.access(account).clients

    @property
    def several(self) -> bool:
        """Whether other accounts than the own one are configured at all."""
        return bool(self.accounts.ids) or self.organization is not None

    def access(self, account: str) -> AccountAccess:
        own = self.own_account()
        if account in (own, "unknown") or (not self.several and own is None):
            return AccountAccess(account, self.own_clients)
        if not self.accounts.role_name:
            return AccountAccess(account, None, f"{account}: no [accounts] role_name to assume")
        with self._lock:
            cached = self._assumed.get(account)
            if cached and self.monotonic() - cached[0] < self.SESSION_LIFETIME:
                return cached[1]
        entered = _assume(self.accounts, account, self.own_clients, self.region, self.make_clients)
        if entered.clients is not None:
            with self._lock:
                self._assumed[account] = (self.monotonic(), entered)
        return entered

    def configured(self, *, fresh: bool = False) -> Selection:
        """The accounts the policy names (or the organization's), besides the own one."""
        if self.organization is not None:
            return self.organization.selection(fresh=fresh)
        return Selection(self.accounts.ids)

    def visit(self) -> list[AccountAccess]:
        """One entry per account to patrol: the own account by default, else the policy's list or
        the organization's accounts (listed afresh). Accounts that cannot be entered, and those
        the organization lists as not active, come with a note and no clients."""
        if not self.several:
            return [AccountAccess(self.own_account() or "unknown", self.own_clients)]
        selection = self.configured(fresh=True)
        ids = selection.accounts
        with ThreadPoolExecutor(
            max_workers=max(1, min(ASSUME_WORKERS, len(ids))),
            thread_name_prefix="whocreated-accounts",
        ) as pool:
            entered = list(pool.map(self.access, ids))
        left_out = [AccountAccess(_account_of(note), None, note) for note in selection.notes]
        return [*entered, *left_out]

    def searchable(self) -> tuple[str, ...]:
        """The accounts a lookup may search: the own account first, then the configured ones."""
        own = self.own_account()
        others = self.configured().accounts if self.several else ()
        return tuple(dict.fromkeys([*([own] if own else []), *others]))

    def check(self, account: str) -> None:
        """Raise UnknownAccount unless lookups may search `account`."""
        if not account.isdigit() or len(account) != 12:
            raise UnknownAccount(f"account {account!r} must be a 12-digit AWS account id")
        allowed = self.searchable()
        if account in allowed:
            return
        if not self.several and self.own_account() is None:
            return  # the own account is unknown: nothing to tell it from; AWS will answer
        where = (
            "the organization's accounts [accounts] selects"
            if self.organization is not None
            else "[accounts] ids"
        )
        shown = ", ".join(allowed[:10]) + (
            f" and {len(allowed) - 10} more" if len(allowed) > 10 else ""
        )
        raise UnknownAccount(
            f"account {account} is not one whocreated searches: the own account or {where} "
            f"({shown or 'none'})"
        )


def _account_of(note: str) -> str:
    """The account id a selection note starts with ("222222222222 (name): SUSPENDED …")."""
    head = note.split(":", 1)[0].split(" ", 1)[0]
    return head if head.isdigit() else "organization"
