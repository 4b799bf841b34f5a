"""`--trail-logs s3://bucket/prefix`: an organization trail read in place from S3 (moto), mixed
with local folders, and every way S3 can say no, each a one-line message and its exit code."""

from __future__ import annotations

import gzip
import json
import os
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from moto.core import enable_iam_authentication

from bot.aws.trail_files import TrailLogsUnavailable, find_in_logs
from bot.cli import main
from bot.core.refs import parse
from bot.sandbox.records import CLI, describe_instances, iam_user, record
from tests.aws import org_trail
from tests.aws.org_trail import ALICE_AT, ORG, A, B

BUCKET = "org-trail-logs"
PREFIX = f"AWSLogs/{ORG}/"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("AWS_", "WHOCREATED_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # not the bucket's: S3 finds its way
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.chdir(tmp_path)


def _fill_bucket(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    for key, records in org_trail.records_by_file():
        s3.put_object(Bucket=BUCKET, Key=key, Body=org_trail.log_bytes(records))
    digest = f"AWSLogs/{ORG}/{A}/CloudTrail-Digest/us-east-1/2024/03/04/digest.json.gz"
    s3.put_object(Bucket=BUCKET, Key=digest, Body=gzip.compress(b'{"digestStartTime": "x"}'))
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ORG}/README.txt", Body=b"hello")
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ORG}/{A}/", Body=b"")  # a console folder
    s3.put_object(Bucket=BUCKET, Key="elsewhere/config.json", Body=b'{"key": "value"}')


@pytest.fixture
def bucket(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        _fill_bucket(s3)
        yield s3


def _lookup(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["lookup", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_an_organization_trail_read_from_s3(capsys: pytest.CaptureFixture, bucket: Any) -> None:
    code, answers, _ = _lookup(
        capsys,
        f"arn:aws:iam::{A}:role/admin",
        f"arn:aws:rds:eu-west-1:{B}:db:orders",
        "orders-api",
        "--trail-logs",
        f"s3://{BUCKET}/{PREFIX}",
    )
    assert code == 0
    role, database, function = answers
    assert (role["creator"]["name"], role["resource"]["account"]) == ("alice", A)
    assert (database["creator"]["name"], database["resource"]["account"]) == ("bob", B)
    assert function["creator"]["name"] == "bob"
    assert f"also created in account {A}" in function["note"]


def test_a_prefix_is_a_folder_and_a_key_is_a_file(
    capsys: pytest.CaptureFixture, bucket: Any
) -> None:
    # AWSLogs/o-…/111111111111 holds account A's files only: B's bob is not seen.
    code, [answer], _ = _lookup(capsys, "admin", "--trail-logs", f"s3://{BUCKET}/{PREFIX}{A}")
    assert (code, answer["creator"]["name"]) == (0, "alice")
    assert "also created" not in (answer["note"] or "")
    # A key prefix that is not a folder of the trail holds nothing.
    code, _, err = _lookup(capsys, "admin", "--trail-logs", f"s3://{BUCKET}/{PREFIX}{A[:-1]}")
    assert code == 2 and "no objects under this prefix" in err
    # One object named exactly is a file named on the command line: its format is checked.
    code, out, err = _lookup(
        capsys, "admin", "--trail-logs", f"s3://{BUCKET}/elsewhere/config.json"
    )
    assert (code, out) == (2, [])
    assert f"s3://{BUCKET}/elsewhere/config.json: not a CloudTrail log" in err


def test_local_folders_and_s3_prefixes_together(
    capsys: pytest.CaptureFixture, bucket: Any, tmp_path: Path
) -> None:
    # Account A's logs synced to disk, account B's still in the bucket.
    local = tmp_path / "synced"
    for key, records in org_trail.records_by_file():
        if f"/{A}/" in key:
            path = local / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(org_trail.log_bytes(records))
    code, [answer], _ = _lookup(
        capsys, "admin", "--trail-logs", str(local), f"s3://{BUCKET}/{PREFIX}{B}/"
    )
    assert code == 0
    assert (answer["creator"]["name"], answer["resource"]["account"]) == ("bob", B)
    assert f"also created in account {A}" in answer["note"]


def test_objects_are_streamed_once_unless_large_and_naming_an_id(bucket: Any) -> None:
    # A large log (over one 1 MiB chunk of JSON) that names orders-api in its last record.
    who = iam_user("monitoring", account=A)
    filler = [
        describe_instances(f"i-{n:017x}", ALICE_AT, who, region="us-east-1", agent=CLI)
        for n in range(2_000)
    ]
    mention = record(
        "GetFunction20150331v2",
        ALICE_AT,
        who,
        region="us-east-1",
        agent=CLI,
        source="lambda.amazonaws.com",
        request={"functionName": "orders-api"},
        read_only=True,
        account=A,
    )
    large = f"{PREFIX}{A}/CloudTrail/us-east-1/2024/03/05/large.json.gz"
    bucket.put_object(Bucket=BUCKET, Key=large, Body=org_trail.log_bytes([*filler, mention]))
    calls: Counter[str] = Counter()

    def client() -> Any:
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.meta.events.register(
            "before-parameter-build.s3.GetObject", lambda params, **_: calls.update([params["Key"]])
        )
        return s3

    [answer], stats = find_in_logs(
        [parse(f"arn:aws:lambda:us-east-1:{A}:function:orders-api")],
        [f"s3://{BUCKET}/{PREFIX}"],
        s3_client=client,
    )
    assert answer.fact is not None and answer.fact.actor.name == "alice"
    # Three files name orders-api (A's and B's CreateFunction, the large one's GetFunction):
    # parsed; three do not: only searched. A small file is fetched once whatever happens to it;
    # the large one twice, searched as a stream then parsed as one. The digest, README and
    # folder object are never fetched.
    assert (stats.files_read, stats.files_parsed) == (6, 3)
    assert calls.pop(large) == 2
    assert sorted(calls.values()) == [1] * 5
    assert not [key for key in calls if "Digest" in key or not key.endswith(".json.gz")]
    assert stats.skipped == {"digest files": 1, "not .json or .json.gz": 1}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://no-such-trail-bucket/AWSLogs/", "s3://no-such-trail-bucket: no such bucket"),
        (f"s3://{BUCKET}/AWSLogs/o-nothing/", "no objects under this prefix"),
        ("s3:///AWSLogs/", "needs a bucket"),
    ],
)
def test_bad_s3_locations_are_exit_2_in_one_line(
    capsys: pytest.CaptureFixture, bucket: Any, url: str, message: str
) -> None:
    code, out, err = _lookup(capsys, "admin", "--trail-logs", url)
    assert (code, out) == (2, [])
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _user_with_policy(actions: list[str]) -> dict[str, str]:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="reader")
    if actions:
        statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        iam.put_user_policy(
            UserName="reader",
            PolicyName="logs",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
    return iam.create_access_key(UserName="reader")["AccessKey"]


@pytest.mark.parametrize(
    ("actions", "action_denied"),
    # AWS authorizes ListObjectsV2 as s3:ListBucket; moto 5.2.6 asks for s3:ListObjectsV2.
    [([], "s3:ListBucket"), (["s3:ListBucket", "s3:ListObjectsV2"], "s3:GetObject")],
)
def test_denied_is_exit_3_and_names_what_was_refused(
    capsys: pytest.CaptureFixture,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    actions: list[str],
    action_denied: str,
) -> None:
    @mock_aws
    def run() -> tuple[int, list[dict[str, Any]], str]:
        # Set up as the account's root; only the lookup runs under the reader's policy.
        _fill_bucket(boto3.client("s3", region_name="us-east-1"))
        key = _user_with_policy(actions)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        with enable_iam_authentication():
            return _lookup(capsys, "admin", "--trail-logs", f"s3://{BUCKET}/{PREFIX}")

    code, out, err = run()
    assert (code, out) == (3, [])
    assert f"access denied ({action_denied})" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_credentials_is_exit_3_before_any_call(
    capsys: pytest.CaptureFixture, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = _lookup(capsys, "admin", "--trail-logs", f"s3://{BUCKET}/{PREFIX}")
    assert (code, out) == (3, [])
    assert "no AWS credentials found" in err


def test_unreachable_s3_is_unavailable(aws_env: None) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(TrailLogsUnavailable, match=f"s3://{BUCKET}/AWSLogs/: S3 is unreachable"):
        find_in_logs([parse("admin")], [f"s3://{BUCKET}/AWSLogs/"], s3_client=lambda: client)
