"""Lookups in any account: an ARN's (or the one asked for) through its clients, and a bare id or
name in every account lookups may search, side by side.

An account's CloudTrail answers only for that account, so a reference that names its account
(an ARN, `account=`, `--account`) is searched there: the own account with the credentials as
they are, another through `[accounts] role_name`. A reference that does not (i-0abc…, a bucket
name) is searched in the own account and every configured or organization account at once, at
most MAX_PARALLEL at a time: the first creation found wins, searches still running stop before
their next LookupEvents call, and accounts not yet started never are. The answer names its
account (`LookupAnswer.account`, the event's `recipientAccountId`) and the accounts searched.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from botocore.exceptions import ClientError

from bot.aws.accounts import AccountClients
from bot.aws.creation_hints import Hint, Hints
from bot.aws.errors import error_code
from bot.aws.trail import TrailFinder
from bot.core.answers import LookupAnswer, Reason
from bot.core.refs import ResourceRef

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]
MAX_PARALLEL = 4  # accounts searched at once; each searches its regions side by side too

# When no account found the creation, the answer most worth giving: the resource exists and is
# too new or too old, then CloudTrail saw it, then it was nowhere, and denied only when every
# account was.
_REASON_ORDER = (
    Reason.TOO_NEW,
    Reason.NOT_IN_WINDOW,
    Reason.ONLY_MENTIONED,
    Reason.NOT_IN_REGIONS,
    Reason.DENIED,
)


class _NoAccess(Exception):
    """The account's clients could not be had (its role could not be assumed)."""


class AccountSearch:
    """A lookup Finder over accounts (see the module docstring). Thread-safe."""

    def __init__(
        self,
        accounts: AccountClients,
        own: TrailFinder,
        finder_for: Callable[[str, ClientFactory], TrailFinder],
        *,
        hints: Hints,
        max_parallel: int = MAX_PARALLEL,
    ) -> None:
        self._accounts = accounts
        self._hints = hints  # each type's creation-time reader (the registry's)
        self._own = own
        self._finder_for = finder_for  # (account, its client factory) → its TrailFinder
        self._max_parallel = max(1, max_parallel)
        self._lock = threading.Lock()
        self._finders: dict[str, TrailFinder] = {}

    # Finder ------------------------------------------------------------------------------------

    def find(
        self, ref: ResourceRef, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        if ref.account:
            self._accounts.check(ref.account)  # UnknownAccount: the caller says so
            return self._find_in(ref.account, ref, region, interactive, None)
        accounts = self._accounts.searchable()
        if len(accounts) <= 1:
            return self._own.find(ref, region, interactive=interactive)
        return self._find_anywhere(accounts, ref, region, interactive)

    def hint(self, ref: ResourceRef, region: str) -> Hint:
        """What the service of the reference's account says about it (the own account when the
        reference names none)."""
        clients = self._clients(ref.account) if ref.account else None
        return self._hints.ask(ref, clients or self._accounts.own_clients, region)

    # One account ---------------------------------------------------------------------------

    def _find_in(
        self,
        account: str,
        ref: ResourceRef,
        region: str | None,
        interactive: bool,
        cancel: threading.Event | None,
    ) -> LookupAnswer:
        try:
            finder = self._finder(account)
        except _NoAccess as error:
            return LookupAnswer(
                ref=ref,
                reason=Reason.DENIED,
                notes=(f"account {account} could not be searched: {error}",),
                account=account,
                accounts_searched=(account,),
            )
        answer = finder.find(ref, region, interactive=interactive, cancel=cancel)
        return dataclasses.replace(
            answer, account=answer.account or account, accounts_searched=(account,)
        )

    def _finder(self, account: str) -> TrailFinder:
        own = self._accounts.own_account()
        if account == own or not self._accounts.several:
            return self._own
        access = self._accounts.access(account)
        if access.clients is None:
            raise _NoAccess(access.note or f"no way into account {account}")
        with self._lock:
            finder = self._finders.get(account)
            if finder is None:
                # Clients are asked for at each call: the role is assumed again when its
                # session nears its end, and the finder always uses the current one.
                finder = self._finder_for(account, self._account_client(account))
                self._finders[account] = finder
            return finder

    def _account_client(self, account: str) -> ClientFactory:
        def client_for(service: str, region: str) -> Any:
            clients = self._clients(account)
            if clients is None:
                raise _NoAccess(f"the role in account {account} can no longer be assumed")
            return clients(service, region)

        return client_for

    def _clients(self, account: str) -> ClientFactory | None:
        return self._accounts(account)

    # Every account ---------------------------------------------------------------------------

    def _find_anywhere(
        self,
        accounts: tuple[str, ...],
        ref: ResourceRef,
        region: str | None,
        interactive: bool,
    ) -> LookupAnswer:
        cancel = threading.Event()
        pool = ThreadPoolExecutor(
            max_workers=min(self._max_parallel, len(accounts)),
            thread_name_prefix="whocreated-accounts",
        )
        searches: dict[Future[LookupAnswer], str] = {
            pool.submit(self._find_in, account, ref, region, interactive, cancel): account
            for account in accounts
        }
        answers: dict[str, LookupAnswer] = {}
        failures: dict[str, Exception] = {}
        pending = set(searches)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    account = searches[future]
                    if future.cancelled():
                        continue
                    error = future.exception()
                    if isinstance(error, Exception):
                        logger.warning(
                            "lookup of %s in account %s failed: %s", ref.id, account, error
                        )
                        failures[account] = error
                    elif error is None:
                        answers[account] = future.result()
                if any(answer.found for answer in answers.values()):
                    break
        finally:
            cancel.set()  # running searches stop before their next call
            pool.shutdown(wait=False, cancel_futures=True)  # queued ones never start
        return _combined(ref, accounts, answers, failures)


def _combined(
    ref: ResourceRef,
    accounts: tuple[str, ...],
    answers: dict[str, LookupAnswer],
    failures: dict[str, Exception],
) -> LookupAnswer:
    """One answer from every account's: the creation where it was found, else the most telling
    reason, with which accounts were searched, stopped or could not be."""
    searched = tuple(account for account in accounts if account in answers)
    found = next(
        (answers[account] for account in accounts if account in answers and answers[account].found),
        None,
    )
    notes: list[str] = []
    for account, error in failures.items():
        # The kind only: the error's own text (AWS's or a driver's) is in the log, not for Slack.
        notes.append(f"account {account} could not be searched ({_kind(error)})")
    if found is not None:
        stopped = [a for a in accounts if a not in answers and a not in failures]
        where = f"found in account {found.account}, of {len(accounts)} accounts searched"
        if stopped:
            where += f" (stopped before finishing: {', '.join(stopped)})"
        return dataclasses.replace(
            found, notes=(*found.notes, where, *notes), accounts_searched=searched
        )
    if not answers:
        first = next(iter(failures.values()), None)
        if first is not None:
            raise first
        return LookupAnswer(ref=ref, reason=Reason.NOT_IN_REGIONS, accounts_searched=())
    best = min(
        answers.values(),
        key=lambda answer: (
            _REASON_ORDER.index(answer.reason)
            if answer.reason in _REASON_ORDER
            else len(_REASON_ORDER)
        ),
    )
    denied = [a for a, answer in answers.items() if answer.reason is Reason.DENIED]
    if denied and best.reason is not Reason.DENIED:
        notes.append(f"not searched, denied: account {', '.join(denied)}")
    notes.append(f"searched accounts {', '.join(searched)}")
    regions = tuple(
        dict.fromkeys(r for answer in answers.values() for r in answer.regions_searched)
    )
    return dataclasses.replace(
        best,
        notes=(*best.notes, *notes),
        account=best.account if len(searched) == 1 else None,
        regions_searched=regions,
        accounts_searched=searched,
    )


def _kind(error: Exception) -> str:
    return error_code(error) if isinstance(error, ClientError) else type(error).__name__
