"""The accounts a patrol round visits: the credentials' own, and others through an assumed role."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code
from bot.core.policy import Accounts

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]
SESSION_NAME = "whocreated-patrol"


@dataclass(frozen=True)
class AccountAccess:
    account: str
    clients: ClientFactory | None  # None: could not get in
    note: str | None = None


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
    """Client factories by account id, shared by the patrol, owner look-ups, tagging and buttons:
    the credentials' own account as they are, others through the policy's role (assumed once,
    again when the session nears its end)."""

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
    ) -> None:
        self.accounts = accounts
        self.own_clients = own_clients
        self.own_account = own_account
        self.region = region
        self.make_clients = make_clients
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._assumed: dict[str, tuple[float, AccountAccess]] = {}

    def __call__(self, account: str) -> ClientFactory | None:
        return self.access(account).clients

    def access(self, account: str) -> AccountAccess:
        own = self.own_account()
        if account in (own, "unknown") or (not self.accounts.ids and own is None):
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

    def visit(self) -> list[AccountAccess]:
        """One entry per account to patrol: the own account by default, else the policy's list."""
        if not self.accounts.ids:
            return [AccountAccess(self.own_account() or "unknown", self.own_clients)]
        return [self.access(account) for account in self.accounts.ids]
