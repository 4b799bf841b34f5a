"""Every creation in the four shared files is answered exactly as before the type registry.

tests/fixtures/cloudtrail/shared_answers_before.json was written by the reader as it was before
the registry: for each creation record, what created_ids returned, and the trail-logs answer for
each created id. New rules may answer more; nothing answered before may change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot import registry
from bot.aws.trail_files import find_in_logs
from bot.core import refs
from bot.core.events import created_ids, creation_fact

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cloudtrail" / "shared_answers_before.json"
SHARED = Path(__file__).parents[2] / ".." / "shared" / "cloudtrail"
BEFORE: dict[str, Any] = json.loads(FIXTURE.read_text())["files"]


def _shared(name: str) -> list[Any]:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared CloudTrail records not present at {path}")
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_every_creation_record_still_creates_exactly_what_it_did(name: str) -> None:
    records = _shared(name)
    for row in BEFORE[name]["creations"]:
        record = records[row["index"]]
        assert record.get("eventID") == row["event_id"]
        assert list(created_ids(record)) == row["created"], row["event_name"]
        for value in row["created"]:
            fact = creation_fact(record, [value])
            assert fact is not None and fact.resource_id == value


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_every_created_id_gets_the_same_answer_from_the_logs(name: str) -> None:
    _shared(name)
    expected = BEFORE[name]["answers"]
    answers, _ = find_in_logs([refs.parse(given) for given in expected], [SHARED / name])
    got = {
        a.ref.given: [
            a.found,
            a.fact.event_id if a.fact else None,
            a.fact.resource_id if a.fact else None,
            a.reason.value if a.reason else None,
        ]
        for a in answers
    }
    assert got == expected


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_records_that_create_now_and_did_not_before_are_generated_rules(name: str) -> None:
    records = _shared(name)
    before = {row["index"] for row in BEFORE[name]["creations"]}
    for index, record in enumerate(records):
        if index in before or not created_ids(record):
            continue
        rules = registry.rules_for(record["eventSource"], record["eventName"])
        assert rules and all(rule.origin == registry.GENERATED for rule in rules), record
