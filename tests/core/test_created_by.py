"""The whocreated:created-by tag value: written within AWS's limit, read back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.core.created_by import (
    TAG_VALUE_LIMIT,
    CreatedBy,
    created_by_tag,
    format_created_by,
    parse_created_by,
)

WHEN = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)


def test_round_trip() -> None:
    value = format_created_by("alice@example.com", WHEN, "RunInstances")
    assert value == "alice@example.com 2024-03-01T12:00:05Z RunInstances"
    assert parse_created_by(value) == CreatedBy("alice@example.com", WHEN, "RunInstances")


def test_times_are_written_in_utc() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=2)))
    assert (
        format_created_by("bob", local, "CreateVolume") == "bob 2024-03-01T12:00:05Z CreateVolume"
    )


def test_a_long_name_is_shortened_and_the_time_and_event_kept() -> None:
    value = format_created_by("x" * 400, WHEN, "CreateDBInstance")
    assert len(value) == TAG_VALUE_LIMIT
    parsed = parse_created_by(value)
    assert parsed is not None and parsed.complete and parsed.event_name == "CreateDBInstance"


def test_hand_written_values_are_a_name_alone() -> None:
    assert parse_created_by("alice") == CreatedBy("alice")
    assert parse_created_by("Alice Smith") == CreatedBy("Alice Smith")
    assert parse_created_by("alice yesterday RunInstances") == CreatedBy(
        "alice yesterday RunInstances"
    )
    assert not CreatedBy("alice").complete
    assert parse_created_by("  ") is None


def test_the_tag_is_found_whatever_the_key_case() -> None:
    tags = {"Name": "web", "WhoCreated:Created-By": "carol 2024-01-02T03:04:05Z RunInstances"}
    found = created_by_tag(tags)
    assert found is not None and found.name == "carol"
    assert created_by_tag({"Owner": "dave"}) is None
