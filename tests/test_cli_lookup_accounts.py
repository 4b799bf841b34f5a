"""`whocreated lookup` across accounts, as a user runs it: an ARN in its account, `--account`, a
bare id found in another account, and the accounts it may not search. moto holds the accounts
(its STS hands out each account's keys), LookupEvents is the stand-in answering each caller from
its own account's history; config, wiring, the finder and the CLI are the real ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.iam.models import get_account_id_from

from bot.cli import main
from bot.sandbox import records
from bot.sandbox.cloudtrail_api import CloudTrailServer

A, B = "111111111111", "222222222222"
ROLE = "WhoCreatedMember"
AMI = "ami-12c6146b"


@pytest.fixture
def trail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CloudTrailServer]:
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'whocreated.sqlite3'}")
    policy = tmp_path / "whocreated.toml"
    policy.write_text(
        f'[accounts]\nids = ["{A}", "{B}"]\nrole_name = "{ROLE}"\n[aws]\nregions = ["us-east-1"]\n'
    )
    monkeypatch.setenv("WHOCREATED_CONFIG", str(policy))
    monkeypatch.chdir(tmp_path)
    with CloudTrailServer(account_of=get_account_id_from) as server, mock_aws():
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", server.endpoint_url)
        when = datetime.now(UTC) - timedelta(days=3)
        for account, user in ((A, "alice"), (B, "bob")):
            who = records.iam_user(user, account=account)
            server.add(records.create_role("admin", when, who, agent=records.CLI, account=account))
        yield server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_arn_is_answered_in_its_account(
    trail: CloudTrailServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "lookup", f"arn:aws:iam::{B}:role/admin", "--json")
    answer = json.loads(out)
    assert code == 0
    assert answer["resource"]["account"] == B
    assert answer["creator"]["name"] == "bob" and answer["creator"]["account"] == B
    assert trail.calls(account=A) == 0


def test_account_names_the_one_account_searched(
    trail: CloudTrailServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "lookup", "admin", "--account", A)
    assert code == 0
    assert "created by  alice" in out
    assert f"where       account {A}, us-east-1" in out
    assert trail.calls(account=B) == 0


def test_a_bare_id_found_in_another_account_says_which(
    trail: CloudTrailServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    keys = sts.assume_role(RoleArn=f"arn:aws:iam::{B}:role/{ROLE}", RoleSessionName="setup")
    credentials = keys["Credentials"]
    ec2 = boto3.client(
        "ec2",
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]
    launched = instance["NetworkInterfaces"][0]["Attachment"]["AttachTime"].astimezone(UTC)
    trail.add(
        records.run_instances(
            instance["InstanceId"],
            launched,
            records.iam_user("bob", account=B),
            region="us-east-1",
            agent=records.CLI,
            image_id=AMI,
            instance_type="t3.micro",
            account=B,
        )
    )

    code, out, _ = run(capsys, "lookup", instance["InstanceId"], "--region", "us-east-1", "--json")
    answer = json.loads(out)
    assert code == 0
    assert answer["resource"]["account"] == B
    assert answer["creator"]["name"] == "bob"
    assert f"found in account {B}, of 3 accounts searched" in answer["note"]

    code, out, _ = run(capsys, "lookup", instance["InstanceId"])  # from the cache
    assert f"where       account {B}, us-east-1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["admin", "--account", "12345"],
            "whocreated: an account must be a 12-digit AWS account id, e.g. 123456789012 "
            "(got '12345')\n",
        ),
        (
            ["admin", "--account", "333333333333"],
            "whocreated: account 333333333333 is not one whocreated searches: the own account or "
            f"[accounts] ids (123456789012, {A}, {B})\n",
        ),
        (
            ["arn:aws:iam::444444444444:role/admin"],
            "whocreated: account 444444444444 is not one whocreated searches: the own account or "
            f"[accounts] ids (123456789012, {A}, {B})\n",
        ),
        (
            [f"arn:aws:iam::{A}:role/admin", "--account", B],
            f"whocreated: arn:aws:iam::{A}:role/admin names account {A}, but account {B} was "
            "asked for\n",
        ),
    ],
)
def test_an_account_it_may_not_search_is_exit_2_in_one_line(
    trail: CloudTrailServer,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, "lookup", *argv)
    assert (code, out, err) == (2, "", message)
    assert trail.calls() == 0
