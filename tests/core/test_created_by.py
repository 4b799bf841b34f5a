"""The tags whocreated writes: within AWS's limits, read back exactly, and trusted only when the
bot's own key signed them for the very resource they are on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.created_by import (
    TAG_VALUE_LIMIT,
    CreatedBy,
    TagSigner,
    created_by_value,
    keep_until_value,
    parse_unsigned,
)
from bot.core.resources import EC2_INSTANCE, RDS_INSTANCE
from bot.registry.patrol import tag_subject as subject

WHEN = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)
INSTANCE = ("123456789012", "eu-west-1", EC2_INSTANCE, "i-0abc1234def567890")
OTHER_INSTANCE = ("123456789012", "eu-west-1", EC2_INSTANCE, "i-0fff1234def567890")
SIGNER = TagSigner(b"k" * 32)
# What AWS accepts in tag values (EC2, RDS, ELB, EKS): letters, digits, spaces, _ . : / = + - @
TAG_SAFE = re.compile(r"^[\w\s.:/=+\-@]*$")


def test_a_signed_value_reads_back_with_its_person() -> None:
    value = SIGNER.created_by(INSTANCE, "alice@example.com", WHEN, "RunInstances", "U0ALICE01")

    assert value.startswith("alice@example.com 2024-03-01T12:00:05Z RunInstances U0ALICE01 wc1.")
    assert TAG_SAFE.match(value) and len(value) <= TAG_VALUE_LIMIT
    assert SIGNER.read_created_by(INSTANCE, value) == CreatedBy(
        "alice@example.com", WHEN, "RunInstances", slack_user="U0ALICE01", signed=True
    )


def test_times_are_written_in_utc() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=2)))
    value = SIGNER.created_by(INSTANCE, "bob", local, "CreateVolume", None)
    assert value.startswith("bob 2024-03-01T12:00:05Z CreateVolume - wc1.")
    read = SIGNER.read_created_by(INSTANCE, value)
    assert read is not None and read.signed and read.slack_user is None


def test_a_long_name_is_shortened_and_the_rest_kept() -> None:
    value = SIGNER.created_by(INSTANCE, "x" * 400, WHEN, "CreateDBInstance", "U0ALICE01")
    assert len(value) <= TAG_VALUE_LIMIT
    read = SIGNER.read_created_by(INSTANCE, value)
    assert read is not None and read.signed and read.complete
    assert read.event_name == "CreateDBInstance" and read.slack_user == "U0ALICE01"


@pytest.mark.parametrize(
    "forge",
    [
        lambda v: v.replace("U0ALICE01", "U0MALLORY"),  # someone else's Slack id
        lambda v: v.replace("alice", "mallory"),  # another name
        lambda v: v.replace("2024-03-01", "2024-03-02"),  # another time
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # a guessed signature
    ],
)
def test_an_edited_value_is_only_a_claim(forge) -> None:  # type: ignore[no-untyped-def]
    value = forge(SIGNER.created_by(INSTANCE, "alice", WHEN, "RunInstances", "U0ALICE01"))
    read = SIGNER.read_created_by(INSTANCE, value)
    assert read is not None and not read.signed and read.slack_user is None


def test_a_value_copied_onto_another_resource_does_not_verify() -> None:
    mine = SIGNER.created_by(OTHER_INSTANCE, "mallory", WHEN, "RunInstances", "U0MALLORY")
    read = SIGNER.read_created_by(INSTANCE, mine)
    assert read is not None and not read.signed and read.slack_user is None


def test_another_key_does_not_verify() -> None:
    value = TagSigner(b"m" * 32).created_by(INSTANCE, "mallory", WHEN, "RunInstances", "U0MAL0001")
    read = SIGNER.read_created_by(INSTANCE, value)
    assert read is not None and not read.signed


def test_a_reused_name_is_another_subject() -> None:
    """An RDS id comes back after deletion: its creation time is part of what is signed."""
    key = ("123456789012", "eu-west-1", RDS_INSTANCE, "orders")
    first, second = subject(key, WHEN), subject(key, WHEN + timedelta(days=30))
    value = SIGNER.created_by(first, "alice", WHEN, "CreateDBInstance", "U0ALICE01")

    assert SIGNER.read_created_by(first, value).signed  # type: ignore[union-attr]
    assert not SIGNER.read_created_by(second, value).signed  # type: ignore[union-attr]
    assert subject(INSTANCE, WHEN) == subject(INSTANCE, None) == INSTANCE  # ids never reused


def test_hand_written_values_are_claims_with_their_words() -> None:
    assert parse_unsigned("alice") == CreatedBy("alice")
    assert parse_unsigned("Alice Smith") == CreatedBy("Alice Smith")
    old = SIGNER.read_created_by(INSTANCE, "carol 2024-01-02T03:04:05Z RunInstances")
    assert old == CreatedBy("carol", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "RunInstances")
    assert old is not None and not old.signed
    assert SIGNER.read_created_by(INSTANCE, "  ") is None


def test_keep_until_is_signed_for_its_resource() -> None:
    until = WHEN + timedelta(days=30)
    value = SIGNER.keep_until(INSTANCE, until)

    assert TAG_SAFE.match(value)
    assert SIGNER.read_keep_until(INSTANCE, value) == until
    assert SIGNER.read_keep_until(OTHER_INSTANCE, value) is None
    assert SIGNER.read_keep_until(INSTANCE, "2099-01-01T00:00:00Z") is None  # hand-written
    assert SIGNER.read_keep_until(INSTANCE, value.replace("2024-03-31", "2099-03-31")) is None


def test_the_tags_are_found_whatever_the_key_case() -> None:
    tags = {"Name": "web", "WhoCreated:Created-By": "x", "WHOCREATED:KEEP-UNTIL": "y"}
    assert created_by_value(tags) == "x" and keep_until_value(tags) == "y"
    assert created_by_value({"Owner": "dave"}) is None


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        TagSigner(b"short")
