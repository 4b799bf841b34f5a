"""Lookups in any account (moto for the accounts, EC2 and STS; LookupEvents at the wire, each
caller answered from its own account's history): an ARN in its own account, an account asked
for, a bare id searched in every account side by side until one finds it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.iam.models import get_account_id_from

from bot.aws.account_search import AccountSearch, _combined
from bot.aws.accounts import AccountClients, UnknownAccount
from bot.aws.limiter import RegionRateLimiter
from bot.aws.trail import TrailFinder
from bot.core.answers import LookupAnswer, Reason
from bot.core.policy import Accounts
from bot.core.refs import in_account, parse
from bot.registry.patrol import HINTS
from bot.sandbox import records
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.wiring import AwsClients
from tests.aws.test_organization import deny_assume_role

REGION = "eu-west-1"
OWN = "123456789012"  # moto's
A, B = "111111111111", "222222222222"
ROLE = "WhoCreatedMember"
AMI = "ami-12c6146b"


@dataclass
class World:
    trail: CloudTrailServer
    own: AwsClients
    now: datetime


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[World]:
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with (
        mock_aws(),
        CloudTrailServer(throttle_rate=None, account_of=get_account_id_from) as trail,
    ):
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
        yield World(trail, AwsClients(), datetime.now(UTC))


def search(world: World, *, max_parallel: int = 4) -> tuple[AccountSearch, AccountClients]:
    accounts = AccountClients(
        Accounts(ids=(A, B), role_name=ROLE),
        world.own,
        lambda: OWN,
        REGION,
        make_clients=AwsClients,
    )
    limiter = RegionRateLimiter()  # the real one: 2 calls a second per account and region

    def finder(account: str, client_for: object) -> TrailFinder:
        return TrailFinder(
            client_for,  # type: ignore[arg-type]
            limiter,
            default_regions=(REGION,),
            clock=lambda: world.now,
            account_id=lambda: account,
            hints=HINTS,
        )

    own = TrailFinder(
        world.own,
        limiter,
        default_regions=(REGION,),
        clock=lambda: world.now,
        account_id=lambda: OWN,
        hints=HINTS,
    )
    search = AccountSearch(accounts, own, finder, hints=HINTS, max_parallel=max_parallel)
    return search, accounts


def ec2_in(account: str) -> object:
    sts = boto3.client("sts", region_name=REGION)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.client(
        "ec2",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_an_arn_is_answered_from_its_own_accounts_cloudtrail(world: World) -> None:
    when = world.now - timedelta(days=3)
    for account, user in ((OWN, "olivia"), (A, "alice"), (B, "bob")):
        who = records.iam_user(user, account=account)
        world.trail.add(records.create_role("admin", when, who, agent=records.CLI, account=account))
    finder, _ = search(world)

    answer = finder.find(parse(f"arn:aws:iam::{B}:role/admin"))

    assert answer.found and answer.fact is not None
    assert answer.fact.actor.name == "bob" and answer.fact.account == B
    assert answer.account == B and answer.accounts_searched == (B,)
    assert world.trail.calls(account=B) >= 1
    assert world.trail.calls(account=A) == 0 and world.trail.calls(account=OWN) == 0


def test_an_account_asked_for_is_the_only_one_searched(world: World) -> None:
    when = world.now - timedelta(days=3)
    for account, user in ((A, "alice"), (B, "bob")):
        who = records.iam_user(user, account=account)
        world.trail.add(records.create_role("admin", when, who, agent=records.CLI, account=account))
    finder, _ = search(world)

    answer = finder.find(in_account(parse("admin"), A), "us-east-1")

    assert answer.fact is not None and answer.fact.actor.name == "alice"
    assert world.trail.calls(account=B) == 0


def test_a_bare_id_found_in_the_second_of_three_accounts_stops_the_others(world: World) -> None:
    instance = ec2_in(A).run_instances(ImageId=AMI, MinCount=1, MaxCount=1)  # type: ignore[attr-defined]
    instance_id = instance["Instances"][0]["InstanceId"]
    who = records.iam_user("alice", account=A)
    world.trail.add(
        records.run_instances(
            instance_id,
            world.now - timedelta(minutes=1),
            who,
            region=REGION,
            agent=records.CLI,
            image_id=AMI,
            instance_type="t3.micro",
            account=A,
        )
    )
    # The own account's history mentions the id 200 times over 90 days (a monitoring tool that
    # describes it): finding that it holds no creation would take a bisection, ~15 calls at
    # LookupEvents' 2 a second.
    monitoring = records.iam_user("monitoring", account=OWN)
    step = timedelta(days=89) / 200
    for n in range(200):
        world.trail.add(
            records.describe_instances(
                instance_id, world.now - step * n, monitoring, region=REGION, agent=records.CLI
            ),
            account=OWN,
        )
    finder, accounts = search(world, max_parallel=2)
    assert accounts.searchable() == (OWN, A, B)

    answer = finder.find(parse(instance_id), REGION)

    assert answer.fact is not None and answer.fact.actor.name == "alice"
    assert answer.account == A and answer.fact.account == A
    assert world.trail.calls(account=A) == 1  # the instance's launch time: one narrow window
    assert world.trail.calls(account=OWN) < 6  # stopped after A answered, long before ~15
    assert world.trail.calls(account=B) == 0  # never started: at most two accounts at a time
    assert answer.accounts_searched == (A,)
    assert any(note.startswith(f"found in account {A}, of 3 accounts") for note in answer.notes)


def test_nowhere_says_which_accounts_were_searched_and_which_could_not_be(world: World) -> None:
    deny_assume_role(world.own, B, REGION)
    finder, _ = search(world)

    answer = finder.find(parse("i-0fedcba9876543210"), REGION)

    # The region was given, so "nowhere in it" reads as older than the history (as in one account).
    assert not answer.found and answer.reason is Reason.NOT_IN_WINDOW
    assert answer.accounts_searched == (OWN, A, B)
    assert f"not searched, denied: account {B}" in answer.notes
    assert f"searched accounts {OWN}, {A}, {B}" in answer.notes
    assert answer.account is None  # several accounts: none of them is the answer's


def test_an_account_lookups_may_not_search_is_refused_before_any_call(world: World) -> None:
    finder, _ = search(world)
    with pytest.raises(UnknownAccount, match="account 333333333333 is not one whocreated"):
        finder.find(parse("arn:aws:iam::333333333333:role/admin"))
    assert world.trail.calls() == 0


def test_an_account_whose_role_is_refused_is_a_denied_answer(world: World) -> None:
    deny_assume_role(world.own, A, REGION)
    finder, _ = search(world)

    answer = finder.find(parse(f"arn:aws:iam::{A}:role/admin"))

    assert answer.reason is Reason.DENIED and answer.account == A
    assert answer.notes == (
        f"account {A} could not be searched: {A}: cannot assume "
        f"arn:aws:iam::{A}:role/{ROLE} (AccessDeniedException); skipped",
    )


def test_a_failed_account_is_noted_by_the_kind_of_failure_only() -> None:
    refused = ClientError(
        {"Error": {"Code": "InternalFailure", "Message": "db.internal.example:5432 said no"}},
        "LookupEvents",
    )
    ref, c = parse("i-0aaaaaaaaaaaaaaa1"), "333333333333"
    answer = _combined(
        ref,
        (A, B, c),
        {c: LookupAnswer(ref=ref, reason=Reason.NOT_IN_REGIONS, regions_searched=(REGION,))},
        {A: refused, B: RuntimeError("secret host name")},
    )
    assert answer.notes[:2] == (
        f"account {A} could not be searched (InternalFailure)",
        f"account {B} could not be searched (RuntimeError)",
    )
    assert "db.internal" not in " ".join(answer.notes) and "secret" not in " ".join(answer.notes)
