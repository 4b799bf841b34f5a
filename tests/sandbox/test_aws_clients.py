"""The sandbox's clients: local answers where moto has none, parsed by botocore as AWS's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bot.sandbox.aws_clients import SandboxClients

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/shop/1f6ab0d0"


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxClients]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        made = SandboxClients(
            boto3.Session(region_name="us-east-1"),
            {},
            enabled_regions=("us-east-1", "eu-west-1"),
            price_regions=("us-east-1",),
        )
        made.add_stack(
            "us-east-1",
            {
                "StackName": "shop",
                "StackId": STACK_ID,
                "CreationTime": datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                "StackStatus": "CREATE_COMPLETE",
            },
        )
        yield made


def test_describe_stacks_by_name_or_id_and_per_region(clients: SandboxClients) -> None:
    here = clients("cloudformation", "us-east-1")

    by_name = here.describe_stacks(StackName="shop")["Stacks"]
    by_id = here.describe_stacks(StackName=STACK_ID)["Stacks"]
    elsewhere = clients("cloudformation", "eu-west-1").describe_stacks()["Stacks"]

    assert [s["StackId"] for s in by_name] == [STACK_ID] == [s["StackId"] for s in by_id]
    assert by_name[0]["CreationTime"] == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert elsewhere == []
    assert clients.calls["cloudformation:DescribeStacks"] == 3


def test_a_missing_stack_is_cloudformations_validation_error(clients: SandboxClients) -> None:
    with pytest.raises(ClientError) as missing:
        clients("cloudformation", "us-east-1").describe_stacks(StackName="gone")

    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "Stack with id gone does not exist" in str(missing.value)
