"""Whatever a Slack payload holds (a forged one, an old app version's, a changed field), the
readers of button values, modal metadata, modal forms and command text answer with their own
clear error or a value of the right shape: never another exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import decision_views as views
from bot.core import messages
from bot.core.decisions import Action, parse_button_value
from bot.slack.listeners import CommandError, read_command

# JSON-like values, as a payload's fields may hold anything JSON can.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
# Form state: Slack's block id → action id → element state, with anything in the leaves.
BLOCKS = (
    views.KEEP_CHOICE_BLOCK,
    views.KEEP_DATE_BLOCK,
    views.KEEP_REASON_BLOCK,
    views.NEW_OWNER_BLOCK,
    views.NOTE_BLOCK,
    "other",
)
FIELDS = ("selected_option", "selected_date", "value", "selected_user")
state_values = st.dictionaries(
    st.sampled_from(BLOCKS),
    json_values
    | st.fixed_dictionaries(
        {views.INPUT: json_values | st.dictionaries(st.sampled_from(FIELDS), json_values)}
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(st.text() | json_values)
def test_button_values_are_ours_or_a_value_error(value: Any) -> None:
    try:
        nudge_id, action = parse_button_value(value)
    except ValueError:
        return
    assert isinstance(nudge_id, str) and 0 < len(nudge_id) <= 64 and isinstance(action, Action)


@settings(max_examples=300, deadline=None)
@given(st.text() | json_values.map(json.dumps))
def test_raw_event_button_values_are_ours_or_a_value_error(value: str) -> None:
    try:
        ref, event, region = messages.parse_raw_event_button_value(value)
    except ValueError:
        return
    assert isinstance(ref, str)
    assert event is None or isinstance(event, str)
    assert region is None or isinstance(region, str)


@settings(max_examples=300, deadline=None)
@given(st.text() | json_values.map(json.dumps))
def test_modal_metadata_is_ours_or_a_value_error(text: str) -> None:
    try:
        origin = views.Origin.from_metadata(text)
    except ValueError:
        return
    assert isinstance(origin.nudge_id, str) and origin.nudge_id
    assert origin.channel is None or isinstance(origin.channel, str)
    assert origin.message_ts is None or isinstance(origin.message_ts, str)
    assert isinstance(origin.home, bool)


@settings(max_examples=300, deadline=None)
@given(state_values)
def test_forms_read_whatever_state_comes(values: dict[str, Any]) -> None:
    keep = views.read_keep_form(values)
    assert keep.choice is None or isinstance(keep.choice, str)
    assert keep.reason is None or isinstance(keep.reason, str)
    passed = views.read_not_mine_form(values)
    assert passed.new_owner is None or isinstance(passed.new_owner, str)
    assert passed.note is None or isinstance(passed.note, str)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_command_text_reads_or_says_why(text: str) -> None:
    try:
        command = read_command(text)
    except CommandError:
        return
    assert command.reference is None or isinstance(command.reference, str)
    assert command.region is None or isinstance(command.region, str)
