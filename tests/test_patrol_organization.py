"""A patrol round over an AWS Organization: the accounts under an OU (and the OU below it), each
entered through the member role, each with its own CloudTrail history and LookupEvents limiter;
an account whose role cannot be assumed and a suspended one are reported, the rest answered.

moto holds the organization and every account's EC2 and CloudWatch (it tells accounts apart by
the keys its STS hands out); LookupEvents is the stand-in, told accounts apart the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.iam.models import get_account_id_from

from bot.config import Settings
from bot.core.policy import Accounts, Policy
from bot.core.resources import EC2_INSTANCE
from bot.sandbox import records
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.store import Store
from bot.wiring import AwsClients, build, build_patrol
from tests.aws.test_organization import deny_assume_role, make_account
from tests.test_patrol import AMI, PriceTable, put_cpu

REGION = "eu-west-1"
ROLE = "WhoCreatedMember"
MANAGEMENT = "123456789012"


@dataclass
class World:
    accounts: dict[str, str]  # label → account id
    instances: dict[str, str]  # label → instance id
    trail: CloudTrailServer
    now: datetime
    ou: str


def session_in(account: str) -> boto3.Session:
    sts = boto3.client("sts", region_name=REGION)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[World]:
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "WHOCREATED_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    created = datetime.now(UTC)  # moto launches the instances now: idle a week from then
    now = created + timedelta(days=8)
    with (
        mock_aws(),
        CloudTrailServer(
            clock=lambda: now, throttle_rate=None, account_of=get_account_id_from
        ) as trail,
    ):
        # Every session, the assumed roles' too, reaches the stand-in for CloudTrail.
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.endpoint_url)
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        ou = org.create_organizational_unit(ParentId=root, Name="sandboxes")
        sandboxes = ou["OrganizationalUnit"]["Id"]
        team = org.create_organizational_unit(ParentId=sandboxes, Name="team")
        team_ou = team["OrganizationalUnit"]["Id"]
        accounts = {
            "alice's": make_account(org, "alice", sandboxes, root),
            "bob's": make_account(org, "bob", team_ou, root),
            "locked": make_account(org, "locked", sandboxes, root),
            "closed": make_account(org, "closed", team_ou, root),
            "prod": make_account(org, "prod", root, root),  # not under the OU: never visited
        }
        org.close_account(AccountId=accounts["closed"])
        instances = {}
        for label, user in (("alice's", "alice"), ("bob's", "bob"), ("prod", "carol")):
            account = accounts[label]
            member = session_in(account)
            instance = member.client("ec2").run_instances(ImageId=AMI, MinCount=1, MaxCount=1)[
                "Instances"
            ][0]["InstanceId"]
            instances[label] = instance
            put_cpu(member.client("cloudwatch"), instance, 0.3, now)
            trail.add(
                records.run_instances(
                    instance,
                    created,
                    records.iam_user(user, account=account),
                    region=REGION,
                    agent=records.CLI,
                    image_id=AMI,
                    instance_type="t3.micro",
                    account=account,
                )
            )
        yield World(accounts, instances, trail, now, sandboxes)


def test_a_round_over_the_organization_reports_what_it_cannot_enter(world: World) -> None:
    own = AwsClients()
    deny_assume_role(own, world.accounts["locked"], REGION)
    settings = Settings(
        aws_region=REGION,
        policy=Policy(
            accounts=Accounts(source="organizations", role_name=ROLE, ous=(world.ou,)),
            regions=(REGION,),
        ),
    )
    services = build(
        settings,
        aws=own,
        store=Store.in_memory(),
        clock=lambda: world.now,
        account_id=lambda: MANAGEMENT,
        with_app=False,
    )
    patrol, _ = build_patrol(services)
    patrol.prices = PriceTable()

    result = patrol.run()

    owners = {
        (f.resource.account, f.resource.id): f.owner.aws_name
        for f in result.findings
        if f.resource.type == EC2_INSTANCE
    }
    assert owners == {
        (world.accounts["alice's"], world.instances["alice's"]): "alice",
        (world.accounts["bob's"], world.instances["bob's"]): "bob",
    }
    locked, closed = world.accounts["locked"], world.accounts["closed"]
    assert (
        f"{locked}: cannot assume arn:aws:iam::{locked}:role/{ROLE} (AccessDeniedException); "
        "skipped"
    ) in result.notes
    assert f"{closed} (closed): SUSPENDED in the organization; skipped" in result.notes
    # Accounts × regions: each entered account's region was patrolled, its own history read
    # under its own limiter; the locked, closed and prod accounts' never.
    assert result.regions == [REGION, REGION]
    for label in ("alice's", "bob's"):
        account = world.accounts[label]
        assert world.trail.calls(account=account) >= 1
        assert services.limiter.granted(account=account, region=REGION) >= 1
    for label in ("locked", "closed", "prod"):
        assert world.trail.calls(account=world.accounts[label]) == 0
