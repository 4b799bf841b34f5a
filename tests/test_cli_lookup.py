"""`whocreated lookup` as a user runs it: JSON lines, readable text, exit codes, bad input."""

import json
import os
from pathlib import Path

import pytest

from bot.cli import main, worst

REPO = Path(__file__).parents[1]
SAMPLE = REPO / "examples" / "cloudtrail"
INVICTUS = REPO.parent / "shared" / "cloudtrail" / "source_invictus_aws_dataset.json"


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_in_the_order_given(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(
        capsys,
        "lookup",
        "vol-0a2e548958718390d",
        "i-0dbc91f429e48eeed",
        "--trail-logs",
        str(SAMPLE),
        "--json",
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["resource"]["id"] for line in lines] == [
        "vol-0a2e548958718390d",
        "i-0dbc91f429e48eeed",
    ]
    instance = lines[1]
    assert instance["found"] is True
    assert instance["resource"] == {
        "id": "i-0dbc91f429e48eeed",
        "type": "AWS::EC2::Instance",
        "region": "us-east-1",
        "account": "123837392027",
    }
    assert instance["creator"]["name"] == "bert-jan"
    assert instance["creator"]["arn"] == "arn:aws:iam::123837392027:user/bert-jan"
    assert instance["event"]["name"] == "RunInstances"
    assert instance["event"]["time"] == "2023-07-10T11:55:21Z"
    assert instance["event"]["tool"] == "Terraform"
    assert instance["reason"] is None
    assert set(instance) == {
        "resource",
        "found",
        "creator",
        "event",
        "reason",
        "regions_searched",
        "note",
    }
    assert code == 0


def test_not_found_is_exit_1_with_a_reason(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(
        capsys, "lookup", "ami-029eb80bc237bec6f", "--trail-logs", str(SAMPLE), "--json"
    )
    answer = json.loads(out)
    assert answer["found"] is False
    assert answer["creator"] is None and answer["event"] is None
    assert answer["reason"] == "only_mentioned"
    assert "RunInstances" in answer["note"] or "DescribeImages" in answer["note"]
    assert code == 1


def test_readable_text_without_json(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "lookup", "i-0dbc91f429e48eeed", "--trail-logs", str(SAMPLE))
    assert "created by  bert-jan" in out
    assert "Terraform" in out
    assert "account 123837392027, us-east-1" in out
    assert code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lookup", "i-0abc", "--trail-logs", "x"], "8 or 17 hex digits"),
        (["lookup", "i-0dbc91f429e48eeed", "bad id"], "whitespace"),
        (["lookup", "i-0dbc91f429e48eeed", "--region", "moon-1"], "unknown AWS region"),
        (["lookup", "i-0dbc91f429e48eeed", "--trail-logs", "/nonexistent"], "/nonexistent"),
        (["lookup", "i-0dbc91f429e48eeed", "--region", ""], "unknown AWS region ''"),
        (["lookup", "i-0dbc91f429e48eeed", "--account", ""], "12-digit AWS account id"),
        (
            [
                "lookup",
                "arn:aws:ec2:mars-1:123456789012:instance/i-0dbc91f429e48eeed",
            ],
            "unknown AWS region 'mars-1'",
        ),
        (
            ["lookup", "arn:aws:ec2:us-east-1:123456789012:instance/", "--trail-logs", str(SAMPLE)],
            "names no resource",
        ),
        (
            [
                "lookup",
                "arn:aws:ec2:eu-west-1:123456789012:instance/i-0dbc91f429e48eeed",
                "--region",
                "us-east-1",
                "--trail-logs",
                str(SAMPLE),
            ],
            "names region eu-west-1, but region us-east-1 was asked for",
        ),
    ],
)
def test_bad_input_is_exit_2_one_line_and_nothing_printed(
    capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_valid_id_before_a_bad_one_prints_nothing(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(
        capsys, "lookup", "i-0dbc91f429e48eeed", "vol-12", "--trail-logs", str(SAMPLE)
    )
    assert (code, out) == (2, "")


def test_no_region_is_exit_2_before_any_aws_call(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "WHOCREATED_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "lookup", "i-0dbc91f429e48eeed")
    assert code == 2 and out == ""
    assert "AWS_REGION" in err


def test_exit_code_precedence() -> None:
    assert worst(0, 1, 3) == 3
    assert worst(3, 2, 1) == 2
    assert worst(0, 1) == 1
    assert worst() == 0


# The real account's log: who created what, and what was only mentioned there.
CREATED_IN_INVICTUS = {
    "i-0dbc91f429e48eeed": ("bert-jan", "RunInstances", "Terraform"),
    "i-05c30218156bcc246": ("bert-jan", "RunInstances", "Terraform"),
    "vol-0a2e548958718390d": ("bert-jan", "CreateVolume", "Terraform"),
    "snap-083d3b857c13988bc": ("bert-jan", "CreateSnapshot", "Terraform"),
    "ami-0aa1d83d0b0985c86": ("bert-jan", "RegisterImage", "Terraform"),
    "nat-03575abbac42080d9": ("bert-jan", "CreateNatGateway", "Terraform"),
    "eipalloc-08a083beb7e83dbc0": ("bert-jan", "AllocateAddress", "Terraform"),
    "eni-0938d805949b4e134": ("rds.amazonaws.com", "CreateNetworkInterface", "AWS service"),
    "terraform-20230710121504061500000001": ("bert-jan", "CreateDBInstance", "Terraform"),
    "stratus-red-team-backdoor-f-func": ("bert-jan", "CreateFunction20150331", "Terraform"),
    "arn:aws:lambda:us-east-1:123837392027:function:stratus-red-team-olc-func-xhfgzaowxc": (
        "bert-jan",
        "CreateFunction20150331",
        "Terraform",
    ),
    "stratus-red-team-ctlr-bucket-zqfsvooxqj": ("bert-jan", "CreateBucket", "Terraform"),
    "arn:aws:iam::123837392027:role/stratus-red-team-leave-org-role": (
        "bert-jan",
        "CreateRole",
        "Terraform",
    ),
}
ONLY_MENTIONED_IN_INVICTUS = ["ami-029eb80bc237bec6f"]


@pytest.mark.skipif(not INVICTUS.is_file(), reason="the shared CloudTrail records are not here")
def test_invictus_account_creators(capsys: pytest.CaptureFixture) -> None:
    ids = [*CREATED_IN_INVICTUS, *ONLY_MENTIONED_IN_INVICTUS]
    code, out, _ = _run(capsys, "lookup", *ids, "--trail-logs", str(INVICTUS), "--json")
    answers = {line["resource"]["id"]: line for line in map(json.loads, out.splitlines())}
    for resource, (name, event, tool) in CREATED_IN_INVICTUS.items():
        answer = answers[resource]
        assert answer["found"], resource
        assert (answer["creator"]["name"], answer["event"]["name"], answer["event"]["tool"]) == (
            name,
            event,
            tool,
        ), resource
        assert answer["resource"]["account"] == "123837392027"
    for resource in ONLY_MENTIONED_IN_INVICTUS:
        assert answers[resource]["found"] is False
        assert answers[resource]["reason"] == "only_mentioned"
    assert code == 1


@pytest.mark.parametrize("argv", [["lookup", "i-0dbc91f429e48eeed"], ["scan"]])
def test_no_credentials_is_exit_3_in_one_line(
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    for variable in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role lookup here
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (3, "")
    assert err.strip().splitlines() == [err.strip()]  # one line, no traceback
    assert "no AWS credentials found" in err


@pytest.mark.parametrize("argv", [["lookup", "i-0dbc91f429e48eeed"], ["scan"]])
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://app:s3cret@db/whocreated", "the driver for 'mysql' (MySQLdb) is not installed"),
        ("postgres://app:s3cret@db/whocreated", "unknown scheme 'postgres'"),
        ("notaurl", "DATABASE_URL is not a database URL"),
    ],
)
def test_a_bad_database_url_is_exit_2_in_one_line_before_aws(
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    url: str,
    message: str,
) -> None:
    # No credentials either: that would be exit 3, and a bad setting wins (2 > 3).
    for variable in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("WHOCREATED_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("whocreated: DATABASE_URL") and message in line
    assert "s3cret" not in err


def test_trail_logs_without_a_log_file_is_exit_2_in_one_line(
    capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "other.json").write_text('{"not": "cloudtrail"}')
    code, out, err = _run(capsys, "lookup", "i-0dbc91f429e48eeed", "--trail-logs", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"whocreated: {tmp_path}: no CloudTrail log files "
        "(2 skipped: 1 not .json or .json.gz, 1 not CloudTrail records)"
    ]
