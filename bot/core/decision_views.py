"""Block Kit for decisions: the Keep and Not mine modals, reading them back, and the audit post.

Pure, like messages.py and digests.py: values in, `slack_sdk` objects out; no clients, no clock.
Every AWS string is escaped before it is shown. A modal carries in `private_metadata` only where
the click came from (nudge id, message channel and ts, or the App Home): what the resource is
comes from the store again on submit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.decisions import (
    BUTTON_LABELS,
    KEEP_LABELS,
    Action,
    KeepChoice,
)
from bot.core.kinds import Kinds
from bot.core.messages import NOTE_LIMIT, code, escape_clip, slack_date
from bot.core.resources import Resource

KEEP_CALLBACK = "nudge_keep_modal"
NOT_MINE_CALLBACK = "nudge_not_mine_modal"

KEEP_CHOICE_BLOCK = "keep_choice"
KEEP_DATE_BLOCK = "keep_date"
KEEP_REASON_BLOCK = "keep_reason"
NEW_OWNER_BLOCK = "new_owner"
NOTE_BLOCK = "note"
# One action id per input, read back from view.state.values[block_id][INPUT].
INPUT = "value"

REASON_LIMIT = 500  # kept in the store and the audit; the tag takes the first 256


# ---------------------------------------------------------------------------------------------
# Where a modal came from


@dataclass(frozen=True)
class Origin:
    """Where the button was clicked: a message (channel, ts) or the App Home."""

    nudge_id: str
    channel: str | None = None
    message_ts: str | None = None
    home: bool = False

    def to_metadata(self) -> str:
        return json.dumps(
            {"n": self.nudge_id, "c": self.channel, "t": self.message_ts, "h": self.home},
            separators=(",", ":"),
        )

    @classmethod
    def from_metadata(cls, text: str) -> Origin:
        """ValueError when it is not ours (a modal from an older version, say)."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"not a decision modal's metadata: {str(text)[:80]!r}") from error
        nudge_id = data.get("n") if isinstance(data, dict) else None
        channel, ts = (data.get("c"), data.get("t")) if isinstance(data, dict) else (None, None)
        if not isinstance(nudge_id, str) or not nudge_id or len(nudge_id) > 64:
            raise ValueError(f"not a decision modal's metadata: {str(text)[:80]!r}")
        if not all(value is None or isinstance(value, str) for value in (channel, ts)):
            raise ValueError(f"not a decision modal's metadata: {str(text)[:80]!r}")
        return cls(nudge_id=nudge_id, channel=channel, message_ts=ts, home=data.get("h") is True)


def _what(resource: Resource, kinds: Kinds) -> str:
    noun = kinds.noun(resource.type) or "resource"
    return f"the {noun} {code(resource.label)} in {code(resource.region, 40)}"


# ---------------------------------------------------------------------------------------------
# Keep


def keep_modal(resource: Resource, origin: Origin, *, dry_run: bool, kinds: Kinds) -> View:
    """Keep for 7 days, 30 days, or until a date, with a reason."""
    options = [
        Option(value=choice.value, text=PlainTextObject(text=KEEP_LABELS[choice]))
        for choice in KeepChoice
    ]
    intro = (
        f"Keep {_what(resource, kinds)}: I stop asking about it until then. "
        "The keep is written on it as a `whocreated:keep-until` tag where AWS allows."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=intro)),
        InputBlock(
            block_id=KEEP_CHOICE_BLOCK,
            label="For how long",
            element=RadioButtonsElement(
                action_id=INPUT, options=options, initial_option=options[0]
            ),
        ),
        InputBlock(
            block_id=KEEP_DATE_BLOCK,
            label="Until (for “Until a date”)",
            element=DatePickerElement(action_id=INPUT, placeholder="Pick a date"),
            optional=True,
        ),
        InputBlock(
            block_id=KEEP_REASON_BLOCK,
            label="Why is it still needed?",
            element=PlainTextInputElement(
                action_id=INPUT,
                multiline=True,
                max_length=REASON_LIMIT,
                placeholder="e.g. the demo on Friday",
            ),
            optional=True,
        ),
    ]
    if dry_run:
        blocks.append(_dry_run_note("the keep is remembered, but no tag is written"))
    return View(
        type="modal",
        callback_id=KEEP_CALLBACK,
        title="Keep it",
        submit="Keep",
        close="Cancel",
        private_metadata=origin.to_metadata(),
        blocks=blocks,
    )


@dataclass(frozen=True)
class KeepForm:
    choice: str | None
    until: date | None
    reason: str | None


def read_keep_form(values: Mapping[str, Any]) -> KeepForm:
    """view.state.values → what was chosen (validation is decisions.keep_until's)."""
    option = _input(values, KEEP_CHOICE_BLOCK).get("selected_option")
    choice = _text(option.get("value")) if isinstance(option, Mapping) else None
    picked = _text(_input(values, KEEP_DATE_BLOCK).get("selected_date"))
    try:
        until = date.fromisoformat(picked) if picked else None
    except ValueError:
        until = None
    reason = (_text(_input(values, KEEP_REASON_BLOCK).get("value")) or "").strip()
    return KeepForm(choice=choice, until=until, reason=reason[:REASON_LIMIT] or None)


# ---------------------------------------------------------------------------------------------
# Not mine


def not_mine_modal(
    resource: Resource, origin: Origin, *, fallback_channel: str | None, kinds: Kinds
) -> View:
    """Who does it belong to? A person, or (left empty) the fallback channel."""
    empty = (
        f"Leave it empty and I ask in <#{fallback_channel}>."
        if fallback_channel
        else "Pick someone: no fallback channel is configured to ask instead."
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Not yours? Tell me whose {_what(resource, kinds)} is and I pass it on. "
                f"{empty}"
            )
        ),
        InputBlock(
            block_id=NEW_OWNER_BLOCK,
            label="It belongs to",
            element=UserSelectElement(action_id=INPUT, placeholder="Choose a person"),
            optional=True,
        ),
        InputBlock(
            block_id=NOTE_BLOCK,
            label="A note for them",
            element=PlainTextInputElement(action_id=INPUT, max_length=REASON_LIMIT),
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=NOT_MINE_CALLBACK,
        title="Not mine",
        submit="Pass it on",
        close="Cancel",
        private_metadata=origin.to_metadata(),
        blocks=blocks,
    )


@dataclass(frozen=True)
class NotMineForm:
    new_owner: str | None
    note: str | None


def read_not_mine_form(values: Mapping[str, Any]) -> NotMineForm:
    owner = _text(_input(values, NEW_OWNER_BLOCK).get("selected_user"))
    note = (_text(_input(values, NOTE_BLOCK).get("value")) or "").strip()
    return NotMineForm(new_owner=owner or None, note=note[:REASON_LIMIT] or None)


def passed_on_intro(from_user: str, note: str | None, *, to_channel: bool) -> SectionBlock:
    """The line above a nudge passed on by Not mine."""
    if to_channel:
        text = (
            f":wave: <@{from_user}> says this is not theirs. Whose is it? An admin can act on it."
        )
    else:
        text = f":wave: <@{from_user}> says this AWS resource is yours."
    if note:
        text += f"\n>{escape_clip(note, NOTE_LIMIT)}"
    return SectionBlock(text=MarkdownTextObject(text=text))


# ---------------------------------------------------------------------------------------------
# The audit channel


_OUTCOME_ICONS = {
    "done": ":white_check_mark:",
    "already": ":ballot_box_with_check:",
    "dry-run": ":test_tube:",
    "refused": ":no_entry:",
    "failed": ":warning:",
}


def audit_blocks(
    *,
    user: str,
    action: Action,
    resource: Resource,
    owner: str | None,
    outcome_kind: str,
    summary: str,
    now: datetime,
    kinds: Kinds,
) -> list[Block]:
    """One decision for the audit channel: who chose what for which resource, and what happened."""
    icon = _OUTCOME_ICONS.get(outcome_kind, ":grey_question:")
    whose = f" (owner <@{owner}>)" if owner and owner != user else ""
    head = (
        f"{icon} <@{user}> chose *{_ACTION_WORDS[action]}* for {_what(resource, kinds)}, account "
        f"{code(resource.account, 40)}{whose}"
    )
    dry = " (dry run)" if outcome_kind == "dry-run" else ""
    kind = escape_clip(outcome_kind, 40)
    return [
        SectionBlock(text=MarkdownTextObject(text=f"{head}\n{escape_clip(summary, 2500)}")),
        ContextBlock(elements=[MarkdownTextObject(text=f"{kind}{dry} · {slack_date(now)}")]),
    ]


def audit_text(user: str, action: Action, resource: Resource, outcome_kind: str) -> str:
    return (
        f"<@{user}> chose {_ACTION_WORDS[action]} for {escape_clip(resource.label, 200)}: "
        f"{escape_clip(outcome_kind, 40)}"
    )


# The button's own label, without the dots of "Keep…".
_ACTION_WORDS = {action: label.rstrip("…") for action, label in BUTTON_LABELS.items()}


def _dry_run_note(what: str) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=f":test_tube: Actions are in dry-run mode: {what}.")]
    )


def _input(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    """One input's state; anything not shaped as Slack sends it reads as empty."""
    block = values.get(block_id) if isinstance(values, Mapping) else None
    found = block.get(INPUT) if isinstance(block, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
