"""Accounts from AWS Organizations (moto): the whole organization or OUs with every OU below them,
include and exclude, only active accounts, paging, a failed listing, and entering each account
through the assumed role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.aws.accounts import AccountClients, UnknownAccount
from bot.aws.organization import OrganizationAccounts, OrganizationUnavailable, select
from bot.core.policy import Accounts
from bot.wiring import AwsClients

MANAGEMENT = "123456789012"  # moto's own account, where the organization is made
ROLE = "WhoCreatedMember"


@dataclass
class Org:
    """root ─ sandboxes ─ team-a ─ deep           prod
              │           └ a1, a2 (a2 closed)    └ p1
              └ s1                  └ d1
    and r1 directly under the root (with the management account)."""

    client: Any
    root: str
    ous: dict[str, str]
    ids: dict[str, str]


def make_account(client: Any, name: str, parent: str, root: str) -> str:
    status = client.create_account(Email=f"{name}@example.com", AccountName=name)
    account = status["CreateAccountStatus"]["AccountId"]
    if parent != root:
        client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
    return str(account)


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]

        def unit(name: str, parent: str) -> str:
            made = client.create_organizational_unit(ParentId=parent, Name=name)
            return str(made["OrganizationalUnit"]["Id"])

        ous = {"sandboxes": unit("sandboxes", root), "prod": unit("prod", root)}
        ous["team-a"] = unit("team-a", ous["sandboxes"])
        ous["deep"] = unit("deep", ous["team-a"])
        ids = {
            "s1": make_account(client, "s1", ous["sandboxes"], root),
            "a1": make_account(client, "a1", ous["team-a"], root),
            "a2": make_account(client, "a2", ous["team-a"], root),
            "d1": make_account(client, "d1", ous["deep"], root),
            "p1": make_account(client, "p1", ous["prod"], root),
            "r1": make_account(client, "r1", root, root),
        }
        client.close_account(AccountId=ids["a2"])  # SUSPENDED from now on
        yield Org(client, root, ous, ids)


def policy(**changes: Any) -> Accounts:
    return Accounts(source="organizations", role_name=ROLE, **changes)


def test_the_whole_organization_is_its_active_accounts(org: Org) -> None:
    chosen = select(org.client, policy(), page_size=2)  # paged: two accounts a page
    expected = {MANAGEMENT, *(org.ids[n] for n in ("s1", "a1", "d1", "p1", "r1"))}
    assert set(chosen.accounts) == expected and len(chosen.accounts) == len(expected)
    assert chosen.notes == (f"{org.ids['a2']} (a2): SUSPENDED in the organization; skipped",)


def test_ous_take_every_ou_below_them(org: Org) -> None:
    chosen = select(org.client, policy(ous=(org.ous["sandboxes"],)), page_size=1)
    assert sorted(chosen.accounts) == sorted(org.ids[n] for n in ("s1", "a1", "d1"))
    assert [note.split(" ", 1)[0] for note in chosen.notes] == [org.ids["a2"]]


def test_include_adds_and_exclude_takes_away(org: Org) -> None:
    chosen = select(
        org.client,
        policy(
            ous=(org.ous["team-a"],),
            include=(org.ids["p1"], "999999999999"),
            exclude=(org.ids["d1"], org.ids["a2"]),
        ),
    )
    assert sorted(chosen.accounts) == sorted([org.ids["a1"], org.ids["p1"]])
    # An excluded account is not mentioned at all, even when it is suspended.
    assert chosen.notes == (
        "999999999999: listed in [accounts] include but not a member of the organization; skipped",
    )


def test_an_ou_not_in_the_organization_is_a_note(org: Org) -> None:
    chosen = select(org.client, policy(ous=("ou-zzzz-zzzzzzzz", org.ous["prod"])))
    assert chosen.accounts == (org.ids["p1"],)
    assert chosen.notes == ("[accounts] ous: ou-zzzz-zzzzzzzz is not in the organization; skipped",)


def test_a_refused_listing_is_unavailable_never_a_crash(org: Org) -> None:
    org.client.meta.events.register("before-call.organizations.ListAccounts", _denied)
    with pytest.raises(OrganizationUnavailable, match="AccessDeniedException"):
        select(org.client, policy())
    empty = OrganizationAccounts(lambda: org.client, policy()).selection()
    assert empty.accounts == () and not empty.listed
    assert empty.notes == (
        "could not list the organization's accounts (AccessDeniedException): the credentials "
        "must be the management account's or a delegated administrator's, with "
        "organizations:ListAccounts; no account of it is visited",
    )


def test_the_listing_is_cached_for_lookups_and_read_again_by_rounds(org: Org) -> None:
    now = [0.0]
    calls: list[str] = []
    org.client.meta.events.register(
        "before-call.organizations.ListAccounts", lambda **_: calls.append("ListAccounts")
    )
    listing = OrganizationAccounts(lambda: org.client, policy(), monotonic=lambda: now[0])

    first = listing.selection()
    listing.selection()  # within 15 minutes: the same list
    now[0] += 16 * 60
    listing.selection()  # older than that: listed again
    listing.selection(fresh=True)  # a round: always listed again
    assert len(calls) == 3

    # Listing fails now: the last good list goes on, and says so.
    org.client.meta.events.register("before-call.organizations.ListAccounts", _denied)
    now[0] += 5 * 60
    fallback = listing.selection(fresh=True)
    assert fallback.accounts == first.accounts
    assert "AccessDenied" in fallback.notes[-1] and "5 minutes ago" in fallback.notes[-1]


def _denied(**_: Any) -> tuple[Any, dict[str, Any]]:
    """A before-call answer: AWS refusing the call (as a missing permission or an SCP would)."""
    error = {"Error": {"Code": "AccessDeniedException", "Message": "denied"}}
    return _Http(400), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}


def deny_assume_role(clients: AwsClients, account: str, region: str = "us-east-1") -> None:
    """STS refuses AssumeRole into `account` (its role does not trust us, or an SCP says no)."""

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        # before-call sees the serialized request: the query protocol's form fields.
        if f"::{account}:role/" in str(params.get("body")):
            return _denied()
        return None

    clients("sts", region).meta.events.register("before-call.sts.AssumeRole", refuse)


def test_a_round_enters_each_account_and_reports_those_it_cannot(org: Org) -> None:
    own = AwsClients(boto3.Session(region_name="us-east-1"))
    deny_assume_role(own, org.ids["a1"])
    clients = AccountClients(
        policy(ous=(org.ous["sandboxes"],)),
        own,
        lambda: MANAGEMENT,
        "us-east-1",
        make_clients=AwsClients,
    )

    visits = {access.account: access for access in clients.visit()}

    assert set(visits) == {org.ids[n] for n in ("s1", "a1", "a2", "d1")}
    for name in ("s1", "d1"):
        entered = visits[org.ids[name]].clients
        assert entered is not None
        identity = entered("sts", "us-east-1").get_caller_identity()
        assert identity["Account"] == org.ids[name] and ROLE in identity["Arn"]
    denied, suspended = visits[org.ids["a1"]], visits[org.ids["a2"]]
    assert denied.clients is None and suspended.clients is None
    assert denied.note == (
        f"{org.ids['a1']}: cannot assume arn:aws:iam::{org.ids['a1']}:role/{ROLE} "
        "(AccessDeniedException); skipped"
    )
    assert suspended.note is not None and "SUSPENDED" in suspended.note


def test_lookups_may_search_the_own_and_the_selected_accounts_only(org: Org) -> None:
    own = AwsClients(boto3.Session(region_name="us-east-1"))
    clients = AccountClients(
        policy(ous=(org.ous["prod"],)),
        own,
        lambda: MANAGEMENT,
        "us-east-1",
        make_clients=AwsClients,
    )
    assert clients.searchable() == (MANAGEMENT, org.ids["p1"])
    clients.check(org.ids["p1"])
    clients.check(MANAGEMENT)
    with pytest.raises(UnknownAccount) as outside:
        clients.check(org.ids["s1"])
    assert str(outside.value) == (
        f"account {org.ids['s1']} is not one whocreated searches: the own account or the "
        f"organization's accounts [accounts] selects ({MANAGEMENT}, {org.ids['p1']})"
    )
    with pytest.raises(UnknownAccount, match="12-digit"):
        clients.check("12345")
