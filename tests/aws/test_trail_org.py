"""An organization trail: the same names created in two accounts, asked by ARN and by name.

Through `whocreated lookup --json` as a user runs it, so the account in each answer is checked
where people read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.aws import org_trail
from tests.aws.org_trail import A, B, C


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return org_trail.write(tmp_path_factory.mktemp("trail"))


def _lookup(capsys: pytest.CaptureFixture, trail: Path, *ids: str) -> list[dict[str, Any]]:
    code = main(["lookup", *ids, "--trail-logs", str(trail), "--json"])
    out = capsys.readouterr().out
    answers = [json.loads(line) for line in out.splitlines()]
    assert code == (0 if all(answer["found"] for answer in answers) else 1)
    return answers


@pytest.mark.parametrize(
    ("arns", "creator"),
    [
        (
            [
                f"arn:aws:iam::{A}:role/admin",
                f"arn:aws:lambda:us-east-1:{A}:function:orders-api",
                f"arn:aws:rds:eu-west-1:{A}:db:orders",
            ],
            "alice",
        ),
        (
            [
                f"arn:aws:iam::{B}:role/admin",
                f"arn:aws:lambda:us-east-1:{B}:function:orders-api",
                f"arn:aws:rds:eu-west-1:{B}:db:orders",
            ],
            "bob",
        ),
    ],
)
def test_an_arn_is_answered_by_its_own_accounts_creator(
    capsys: pytest.CaptureFixture, trail: Path, arns: list[str], creator: str
) -> None:
    for arn, answer in zip(arns, _lookup(capsys, trail, *arns), strict=True):
        account = arn.split(":")[4]
        assert answer["found"], arn
        assert answer["creator"]["name"] == creator, arn
        assert answer["creator"]["account"] == account
        assert answer["resource"]["account"] == account
        assert "also created" not in (answer["note"] or "")


def test_an_arn_elsewhere_is_not_answered_by_another_accounts_record(
    capsys: pytest.CaptureFixture, trail: Path
) -> None:
    wrong_region, no_such_account, only_read = _lookup(
        capsys,
        trail,
        f"arn:aws:rds:us-east-1:{A}:db:orders",  # A's orders is in eu-west-1
        "arn:aws:iam::444444444444:role/admin",
        f"arn:aws:iam::{C}:role/admin",  # C only read B's role
    )
    assert wrong_region["reason"] == "not_in_window"
    assert no_such_account["reason"] == "not_in_window"
    assert only_read["reason"] == "only_mentioned"
    assert "GetRole" in only_read["note"]


def test_a_bare_name_gets_the_newest_creation_its_account_and_the_others(
    capsys: pytest.CaptureFixture, trail: Path
) -> None:
    role, function, database = _lookup(capsys, trail, "admin", "orders-api", "orders")
    for answer in (role, function, database):
        assert answer["creator"]["name"] == "bob"
        assert answer["resource"]["account"] == B
        note = answer["note"]
        assert "2 resources named" in note
        assert f"newest (account {B}" in note
        assert f"also created in account {A}, " in note
        assert "by alice at 2024-03-04T09:30:00Z" in note
        assert "ask by ARN" in note
    assert database["resource"]["region"] == "eu-west-1"


def test_account_keeps_only_that_accounts_records(
    capsys: pytest.CaptureFixture, trail: Path
) -> None:
    code = main(["lookup", "admin", "orders", "--account", A, "--trail-logs", str(trail), "--json"])
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    # Without --account a bare name is B's newer creation; with it, A's own.
    assert [answer["creator"]["name"] for answer in answers] == ["alice", "alice"]
    assert {answer["resource"]["account"] for answer in answers} == {A}
