"""`whocreated check`: what is in place and what is missing, with the exit codes of DESIGN §3.

AWS is moto with the CloudTrail stand-in at the wire, and IAM's policy simulator (which moto
lacks) answered by tests/iam_simulator.py; Slack is the fake Web API."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws
from slack_sdk import WebClient

from bot.checks import configured_features, run_checks
from bot.config import Settings
from bot.core.policy import Accounts, Actions, Archive, Policy, SlackPolicy
from bot.permissions import IAM, SLACK_BOT_SCOPES, Feature, iam_for
from bot.sandbox.cloudtrail_api import CloudTrailServer
from bot.wiring import AwsClients
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.iam_simulator import SimulatedIam

APP_TOKEN = "xapp-1-A0TEST-123-abc"
REGION = "us-east-1"


@pytest.fixture
def trail(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudTrailServer]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with CloudTrailServer() as server, mock_aws():
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    api = FakeSlack()
    api.app_token = APP_TOKEN
    yield api
    api.close()


def every_permission() -> set[str]:
    return {action for feature in Feature for action in IAM[feature]}


def check(
    slack: FakeSlack,
    trail: CloudTrailServer,
    iam: SimulatedIam | None = None,
    *,
    aws: Any = None,
    **settings: Any,
) -> tuple[int, str]:
    values = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "aws_region": REGION,
        **settings,
    }
    clients = aws or AwsClients(boto3.Session(), endpoints={"cloudtrail": trail.endpoint_url})
    (iam or SimulatedIam(every_permission())).attach(clients("iam", REGION))
    out = io.StringIO()
    code = run_checks(
        Settings(**values),
        out,
        aws=clients,
        web_client=WebClient(token=BOT_TOKEN, base_url=slack.url),
    )
    return code, out.getvalue()


def policy(**parts: Any) -> Policy:
    return replace(Policy(), **parts)


# Everything in place --------------------------------------------------------------------------


def test_everything_in_place(slack: FakeSlack, trail: CloudTrailServer) -> None:
    code, report = check(slack, trail)
    assert code == 0, report
    assert "ok    Slack auth.test: bot whocreated in Sandbox" in report
    assert "ok    Slack scopes: all granted" in report
    assert "ok    Slack Socket Mode: apps.connections.open accepted the app token" in report
    lookups = len(IAM[Feature.LOOKUPS])
    assert "ok    AWS permissions: checked with iam:SimulatePrincipalPolicy" in report
    assert f"ok    AWS lookups: {lookups} of {lookups} permissions allowed\n" in report
    assert "ok    AWS patrol:" in report and "ok    AWS tags:" in report
    assert "everything whocreated needs is in place" in report


def test_the_simulation_asks_for_every_permission_the_features_need(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    iam = SimulatedIam(every_permission())
    settings = Settings(policy=policy(actions=Actions(mode="enabled")))
    check(slack, trail, iam, policy=settings.policy)
    asked = {name for request in iam.requests for name in request["ActionNames"]}
    assert asked == set(iam_for(configured_features(settings)))
    assert {Feature.ACTIONS, Feature.SNAPSHOTS, Feature.TAGS} <= set(configured_features(settings))
    # Changes are simulated on resources of their kind, never on "*".
    stop = next(r for r in iam.requests if "ec2:StopInstances" in r["ActionNames"])
    assert stop["ResourceArns"] == ["arn:aws:ec2:us-east-1:123456789012:instance/whocreated-check"]


# Slack ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        ({"slack_bot_token": "xoxb-"}, "SLACK_BOT_TOKEN is only the placeholder 'xoxb-'"),
        ({"slack_app_token": "xapp-"}, "SLACK_APP_TOKEN is only the placeholder 'xapp-'"),
        ({"slack_app_token": BOT_TOKEN}, "SLACK_APP_TOKEN must be an app-level token"),
    ],
)
def test_a_placeholder_token_is_exit_2_and_never_sent(
    slack: FakeSlack, trail: CloudTrailServer, tokens: dict[str, str], says: str
) -> None:
    code, report = check(slack, trail, **tokens)
    assert code == 2
    assert f"FAIL  Slack settings: {says}" in report
    assert "apps.connections.open" not in slack.methods()
    if "slack_bot_token" in tokens:
        assert slack.methods() == []


def test_a_refused_bot_token_is_exit_3(slack: FakeSlack, trail: CloudTrailServer) -> None:
    slack.fail_next("auth.test", "invalid_auth")
    code, report = check(slack, trail)
    assert code == 3
    assert "FAIL  Slack auth.test: Slack refused the bot token: invalid_auth" in report


def test_a_refused_app_token_is_exit_3(slack: FakeSlack, trail: CloudTrailServer) -> None:
    code, report = check(slack, trail, slack_app_token="xapp-1-A0TEST-123-revoked")
    assert code == 3
    assert (
        "FAIL  Slack Socket Mode: Slack refused the app token for Socket Mode (invalid_auth)"
        in report
    )
    [call] = slack.calls_to("apps.connections.open")
    assert call.headers["authorization"] == "Bearer xapp-1-A0TEST-123-revoked"


def test_missing_scopes_are_named(trail: CloudTrailServer) -> None:
    granted = [s for s in SLACK_BOT_SCOPES if s not in ("im:history", "usergroups:read")]
    slack = FakeSlack()
    slack.scopes = tuple(granted)
    try:
        code, report = check(slack, trail, slack_app_token=None, slack_signing_secret="s")
    finally:
        slack.close()
    assert code == 3
    assert "FAIL  Slack scopes: missing usergroups:read, im:history: reinstall the app" in report


def test_the_bot_must_be_in_each_configured_channel(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    slack.add_channel("C0FALLBACK", "aws-sandbox")
    slack.add_channel("C0AUDIT", "whocreated-audit", member=False)
    slack.add_channel("G0SUMMARY", "finops", member=False, private=True)
    channels = SlackPolicy(
        fallback_channel="C0FALLBACK", audit_channel="C0AUDIT", summary_channel="G0SUMMARY"
    )
    code, report = check(slack, trail, policy=policy(slack=channels))
    assert code == 3
    assert "ok    Slack fallback_channel C0FALLBACK: the bot is a member of #aws-sandbox" in report
    assert (
        "FAIL  Slack audit_channel C0AUDIT: the bot is not a member of #whocreated-audit: "
        "/invite @whocreated there" in report
    )
    assert "FAIL  Slack summary_channel G0SUMMARY: not found, or private without the bot" in report


def test_without_the_read_scopes_membership_is_a_warning(trail: CloudTrailServer) -> None:
    slack = FakeSlack()
    slack.scopes = tuple(s for s in SLACK_BOT_SCOPES if s not in ("channels:read", "groups:read"))
    slack.add_channel("C0FALLBACK", "aws-sandbox")
    try:
        code, report = check(
            slack,
            trail,
            slack_app_token=None,
            slack_signing_secret="s",
            policy=policy(slack=SlackPolicy(fallback_channel="C0FALLBACK")),
        )
    finally:
        slack.close()
    assert code == 0, report
    assert "warn  Slack scopes for check: missing channels:read, groups:read" in report
    assert "warn  Slack fallback_channel C0FALLBACK: cannot tell" in report


# AWS --------------------------------------------------------------------------------------------


def test_a_denied_optional_permission_is_a_warning(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    iam = SimulatedIam(every_permission() - {"ec2:DescribeAddresses"})
    code, report = check(slack, trail, iam)
    assert code == 0, report
    assert "warn  ec2:DescribeAddresses: denied: optional, for patrol" in report
    patrol = len(IAM[Feature.PATROL])
    assert f"warn  AWS patrol: {patrol - 1} of {patrol} permissions allowed" in report


def test_a_denied_required_permission_is_exit_3(slack: FakeSlack, trail: CloudTrailServer) -> None:
    iam = SimulatedIam(every_permission() - {"cloudwatch:GetMetricData"})
    code, report = check(slack, trail, iam)
    assert code == 3
    assert "FAIL  cloudwatch:GetMetricData: denied: needed for patrol" in report


def test_enabled_actions_need_their_permissions(slack: FakeSlack, trail: CloudTrailServer) -> None:
    tag = ["aws:ResourceTag/Environment"]
    writes = ["ec2:StopInstances", "rds:DeleteDBInstance", "rds:StopDBInstance"]
    iam = SimulatedIam(
        every_permission() - {"ec2:TerminateInstances", *writes},
        conditional={action: tag for action in writes},
    )
    code, report = check(slack, trail, iam, policy=policy(actions=Actions(mode="enabled")))
    assert code == 3
    assert "FAIL  ec2:TerminateInstances: denied: needed for actions" in report
    assert "3 only under the policy's conditions (depends on aws:ResourceTag/Environment)" in report


def test_dry_run_says_the_buttons_are_not_checked(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    iam = SimulatedIam(every_permission())
    code, report = check(slack, trail, iam)
    assert code == 0
    assert "ok    AWS actions: dry-run: the buttons change nothing (set [actions] mode" in report
    asked = {name for request in iam.requests for name in request["ActionNames"]}
    assert "ec2:TerminateInstances" not in asked


def test_without_the_simulator_harmless_calls_tell_and_the_rest_is_named(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    iam = SimulatedIam(refuse="AccessDenied")
    code, report = check(slack, trail, iam, policy=policy(actions=Actions(mode="enabled")))
    assert code == 0, report
    assert (
        "warn  AWS permissions: checked with harmless calls, since iam:SimulatePrincipalPolicy "
        "denied (AccessDenied)" in report
    )
    actions = re.search(r"warn  AWS actions: (.*)", report)
    assert actions, report
    # EC2 changes answer DryRunOperation; RDS and ELB changes have no dry run.
    assert "not verified: " in actions[1]
    unverified = actions[1].split("not verified: ")[1].split(", ")
    assert "rds:DeleteDBInstance" in unverified
    assert "elasticloadbalancing:DeleteLoadBalancer" in unverified
    assert "ec2:TerminateInstances" not in unverified


def test_lookup_events_denied_is_exit_3_and_named(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    trail.deny(REGION)
    code, report = check(slack, trail, SimulatedIam(refuse="AccessDenied"))
    assert code == 3
    assert re.search(r"FAIL  cloudtrail:LookupEvents: AccessDenied\w*: needed for lookups", report)


def test_other_accounts_are_entered_through_the_role(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    accounts = Accounts(ids=("111111111111", "222222222222"), role_name="WhoCreatedMember")
    code, report = check(slack, trail, policy=policy(accounts=accounts))
    assert code == 0, report
    assert (
        "ok    AWS account 111111111111: arn:aws:iam::111111111111:role/WhoCreatedMember "
        "assumed" in report
    )
    assert "ok    AWS account 222222222222" in report


def test_the_organizations_accounts_are_listed_and_entered(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]
    accounts = Accounts(source="organizations", role_name="WhoCreatedMember")
    assert Feature.ORGANIZATIONS in configured_features(Settings(policy=policy(accounts=accounts)))

    code, report = check(slack, trail, policy=policy(accounts=accounts))

    assert code == 0, report
    assert "ok    AWS organization: 2 active accounts in the whole organization" in report
    assert f"ok    AWS account {member['AccountId']}: arn:aws:iam::" in report
    assert re.search(r"ok    AWS organizations: 4 of 4 permissions allowed", report), report


def archive_clients(trail: CloudTrailServer, partitions: list[str]) -> AwsClients:
    """moto's Athena; Glue's GetTable from a Stubber (moto's Glue needs a library we do not
    install) with the table's partition keys."""
    clients = AwsClients(boto3.Session(), endpoints={"cloudtrail": trail.endpoint_url})
    glue = Stubber(clients("glue", REGION))
    glue.add_response(
        "get_table",
        {
            "Table": {
                "Name": "org_trail",
                "PartitionKeys": [{"Name": name, "Type": "string"} for name in partitions],
            }
        },
        {"DatabaseName": "cloudtrail", "Name": "org_trail"},
    )
    glue.activate()
    return clients


ARCHIVE = Archive(
    database="cloudtrail", table="org_trail", earliest=date(2023, 1, 1), workgroup="whocreated"
)


def test_the_archive_workgroup_limit_and_table_are_checked(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    boto3.client("athena", region_name=REGION).create_work_group(
        Name="whocreated",
        Configuration={
            "BytesScannedCutoffPerQuery": 20 * 10**9,
            "ResultConfiguration": {"OutputLocation": "s3://results/whocreated/"},
        },
    )
    clients = archive_clients(trail, ["account", "region", "timestamp"])
    assert Feature.ARCHIVE in configured_features(Settings(policy=policy(archive=ARCHIVE)))

    code, report = check(slack, trail, aws=clients, policy=policy(archive=ARCHIVE))

    assert code == 0, report
    assert (
        "ok    AWS archive: workgroup whocreated, results to s3://results/whocreated/; a query "
        "stops at 20.0 GB scanned (its per-query limit)" in report
    )
    assert (
        "ok    AWS archive table: cloudtrail.org_trail, partitioned by account, region, "
        "timestamp" in report
    )
    assert re.search(r"ok    AWS archive: \d+ of 17 permissions allowed", report), report


def test_an_archive_without_limit_results_or_partitions_is_named(
    slack: FakeSlack, trail: CloudTrailServer
) -> None:
    boto3.client("athena", region_name=REGION).create_work_group(
        Name="whocreated", Configuration={}
    )
    clients = archive_clients(trail, ["dt"])

    code, report = check(slack, trail, aws=clients, policy=policy(archive=ARCHIVE))

    assert code == 2, report
    assert "FAIL  AWS archive: workgroup whocreated has no query result location" in report
    assert "warn  AWS archive: workgroup whocreated sets no per-query bytes scanned limit" in report
    assert (
        "FAIL  AWS archive table: cloudtrail.org_trail has no partition account, region, "
        "timestamp" in report
    )


def test_unreachable_aws_is_one_line_and_exit_3(slack: FakeSlack, trail: CloudTrailServer) -> None:
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1)
    nowhere = {"sts": "http://127.0.0.1:9", "iam": "http://127.0.0.1:9"}
    unreachable = AwsClients(boto3.Session(), endpoints=nowhere, config=config)
    code, report = check(slack, trail, aws=unreachable)
    assert code == 3
    [line] = [line for line in report.splitlines() if "AWS" in line and "region" not in line]
    assert line.startswith("FAIL  AWS credentials: AWS is unreachable: Could not connect")


def test_missing_configuration_is_exit_2(slack: FakeSlack, trail: CloudTrailServer) -> None:
    code, report = check(slack, trail, aws_region=None, slack_app_token=None)
    assert code == 2
    assert "FAIL  AWS region" in report
    assert "SLACK_SIGNING_SECRET" in report
