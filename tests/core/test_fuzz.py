"""Property tests: what users type and what CloudTrail hands over never crash the readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import events, refs

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cloudtrail"
SLICE = json.loads((FIXTURES / "invictus_slice.json").read_text())

# Text like what a user pastes: ARNs of real services, ids, names, and anything else.
_ARN_PARTS = st.sampled_from(
    ["arn", "aws", "aws-cn", "ec2", "logs", "apigateway", "iam", "s3", "ssm", "", "::", "/", ":"]
)
references = st.one_of(
    st.text(),
    st.text(alphabet="arn:aws-ec2iam/slog*0123456789abcdef${}", max_size=80),
    st.lists(_ARN_PARTS, max_size=12).map(":".join),
    st.builds(
        lambda service, region, account, resource: (
            f"arn:aws:{service}:{region}:{account}:{resource}"
        ),
        st.sampled_from(["ec2", "logs", "apigateway", "iam", "s3", "ssm", "lambda", "rds", "x"]),
        st.sampled_from(["", "us-east-1", "cn-north-1"]),
        st.sampled_from(["", "123456789012", "aws", "1"]),
        st.text(max_size=60),
    ),
)


@given(references)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_parse_raises_nothing_but_invalid_reference(text: str) -> None:
    try:
        ref = refs.parse(text)
    except refs.InvalidReference:
        return
    assert ref.given == text
    assert isinstance(ref.id, str)
    assert ref.search_names
    ref.home_region  # noqa: B018 - reading it must not raise either


# JSON-like values: what a record's fields can hold, nested.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
# Keys a real record has, so the generated dicts reach the readers' interesting paths.
_KEYS = [
    "eventSource",
    "eventName",
    "eventTime",
    "errorCode",
    "readOnly",
    "userIdentity",
    "requestParameters",
    "responseElements",
    "resources",
    "awsRegion",
    "recipientAccountId",
    "userAgent",
]
_SOURCES = st.sampled_from(
    ["ec2.amazonaws.com", "ssm.amazonaws.com", "logs.amazonaws.com", "apigateway.amazonaws.com"]
)
_NAMES = st.sampled_from(
    ["RunInstances", "PutParameter", "CreateLogStream", "CreateStage", "CreateRestApi", "x"]
)
records = st.one_of(
    st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), json_values, max_size=10),
    st.fixed_dictionaries(
        {
            "eventSource": _SOURCES,
            "eventName": _NAMES,
            "eventTime": st.sampled_from(["2024-05-01T10:00:00Z", "", None, 7]),
            "requestParameters": json_values,
            "responseElements": json_values,
            "userIdentity": json_values,
        }
    ),
    st.builds(
        lambda record, key, value: {**record, key: value},
        st.sampled_from(SLICE),
        st.sampled_from(_KEYS),
        json_values,
    ),
)


@given(records, st.lists(st.text(max_size=30), max_size=3))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_the_record_readers_raise_nothing(record: dict[str, Any], names: list[str]) -> None:
    created = events.created_ids(record)
    mentioned = events.referenced_ids(record)
    actor = events.actor_of(record)
    assert isinstance(actor, events.Actor)
    for wanted in (names, list(created), list(mentioned[:3])):
        fact = events.creation_fact(record, wanted)
        assert fact is None or fact.resource_id
    assert set(created) <= set(mentioned)
    events.mention_keys(record)
    events.name_keys(names)
