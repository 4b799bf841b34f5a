"""The accounts a patrol round visits: the credentials' own, and others through an assumed role."""

from __future__ import annotations

import logging
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
    if not accounts.ids:
        return [AccountAccess(own_account or "unknown", own_clients)]
    visits = []
    for account in accounts.ids:
        if account == own_account:
            visits.append(AccountAccess(account, own_clients))
        elif not accounts.role_name:
            note = f"{account}: set [accounts] role_name to patrol other accounts; skipped"
            visits.append(AccountAccess(account, None, note))
        else:
            visits.append(_assume(accounts, account, own_clients, region, make_clients))
    return visits


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
