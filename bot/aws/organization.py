"""The accounts of an AWS Organization, as `[accounts] source = "organizations"` selects them.

Listed with the credentials' own account, which must be the management account or a delegated
administrator: the whole organization (ListAccounts), or the accounts under the given OUs and
every OU below them (ListAccountsForParent, ListOrganizationalUnitsForParent), each paged. Then
`include` adds accounts from elsewhere in the organization (a union, as StackSets call it) and
`exclude` takes accounts out (always wins). Only ACTIVE accounts are kept; the others (suspended,
closing) are named in notes so a round can say why they were skipped.

The listing is cached: lookups read a list at most LISTING_TTL old, and each patrol round lists
again (`fresh=True`). When listing fails the last good list is used, with a note; without one,
the selection is empty and the note says why. Never fatal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code
from bot.core.policy import Accounts

logger = logging.getLogger(__name__)

LISTING_TTL = 15 * 60  # seconds a listing serves lookups; rounds always list again
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class Selection:
    """The organization's accounts to visit, in listing order, and what was left out and why."""

    accounts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    listed: bool = True  # False: the organization could not be listed at all


class OrganizationUnavailable(Exception):
    """Listing the organization failed (denied, not in an organization, unreachable)."""


def select(client: Any, accounts: Accounts, *, page_size: int | None = None) -> Selection:
    """The ACTIVE accounts the policy selects; raises OrganizationUnavailable when the
    organization cannot be listed. An OU that does not exist is a note, not a failure."""
    pages = {"PageSize": page_size} if page_size else {}
    notes: list[str] = []
    try:
        if accounts.ous:
            found = _under_ous(client, accounts.ous, pages, notes)
            if accounts.include:
                everyone = {entry["Id"]: entry for entry in _paged(client, "list_accounts", pages)}
                for account in accounts.include:
                    if account in everyone:
                        found.setdefault(account, everyone[account])
                    else:
                        notes.append(
                            f"{account}: listed in [accounts] include but not a member of the "
                            "organization; skipped"
                        )
        else:
            found = {entry["Id"]: entry for entry in _paged(client, "list_accounts", pages)}
    except ClientError as error:
        raise OrganizationUnavailable(
            f"could not list the organization's accounts ({error_code(error)}): the credentials "
            "must be the management account's or a delegated administrator's, with "
            "organizations:ListAccounts"
        ) from error
    except BotoCoreError as error:
        raise OrganizationUnavailable(
            f"could not list the organization's accounts ({error})"
        ) from error
    chosen: list[str] = []
    for account, entry in found.items():
        if account in accounts.exclude:
            continue
        state = str(entry.get("State") or entry.get("Status") or "UNKNOWN")
        if state != ACTIVE:
            name = entry.get("Name")
            label = f"{account} ({name})" if name else account
            notes.append(f"{label}: {state} in the organization; skipped")
            continue
        chosen.append(account)
    return Selection(tuple(chosen), tuple(notes))


def _under_ous(
    client: Any, ous: tuple[str, ...], pages: dict[str, int], notes: list[str]
) -> dict[str, dict[str, Any]]:
    """Accounts directly under each OU and under every OU below it, each OU read once."""
    found: dict[str, dict[str, Any]] = {}
    queue = list(ous)
    seen: set[str] = set()
    while queue:
        parent = queue.pop(0)
        if parent in seen:
            continue
        seen.add(parent)
        try:
            for entry in _paged(client, "list_accounts_for_parent", pages, ParentId=parent):
                found.setdefault(entry["Id"], entry)
            queue.extend(
                unit["Id"]
                for unit in _paged(
                    client, "list_organizational_units_for_parent", pages, ParentId=parent
                )
            )
        except ClientError as error:
            if error_code(error) not in ("ParentNotFoundException", "InvalidInputException"):
                raise
            notes.append(f"[accounts] ous: {parent} is not in the organization; skipped")
    return found


def _paged(client: Any, operation: str, pages: dict[str, int], **request: Any) -> Iterator[Any]:
    key = "OrganizationalUnits" if "organizational_units" in operation else "Accounts"
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(**request, PaginationConfig=pages):
        yield from page.get(key, [])


class OrganizationAccounts:
    """`selection(fresh=...)`: the policy's accounts of the organization, cached (thread-safe)."""

    def __init__(
        self,
        client: Callable[[], Any],
        accounts: Accounts,
        *,
        ttl: float = LISTING_TTL,
        monotonic: Callable[[], float] = time.monotonic,
        page_size: int | None = None,
    ) -> None:
        self._client = client  # the own account's Organizations client
        self._accounts = accounts
        self._ttl = ttl
        self._monotonic = monotonic
        self._page_size = page_size
        self._lock = threading.Lock()
        self._last: tuple[float, Selection] | None = None

    def selection(self, *, fresh: bool = False) -> Selection:
        with self._lock:
            last = self._last
            if last is not None and not fresh and self._monotonic() - last[0] < self._ttl:
                return last[1]
            try:
                chosen = select(self._client(), self._accounts, page_size=self._page_size)
            except OrganizationUnavailable as error:
                logger.warning("%s", error)
                if last is None:
                    return Selection((), (f"{error}; no account of it is visited",), listed=False)
                minutes = int((self._monotonic() - last[0]) // 60)
                why = f"{error}; the list read {minutes} minutes ago is used"
                return Selection(last[1].accounts, (*last[1].notes, why))
            self._last = (self._monotonic(), chosen)
            logger.info(
                "organization: %d accounts selected, %d left out",
                len(chosen.accounts),
                len(chosen.notes),
            )
            return chosen
