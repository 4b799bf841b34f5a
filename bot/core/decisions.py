"""What the buttons on a nudge may do: which are offered, who may press them, what they will do.

Pure: values in, values and plain words out. The words are plain text (not mrkdwn): a caller that
puts them in mrkdwn escapes them with `messages.escape_mrkdwn`, and Slack `plain_text` needs no
escaping. A button's value is only `"<nudge id>:<action>"`: the handler reads everything else about
the resource from the store, never from the payload.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.core.actions import Action
from bot.core.kinds import Kinds, Words
from bot.core.policy import Actions
from bot.core.resources import Resource

ACTION_ID_PREFIX = "nudge_"


def action_id(action: Action) -> str:
    """The Block Kit action_id of a nudge button: `nudge_keep`, `nudge_stop`, …"""
    return f"{ACTION_ID_PREFIX}{action.value}"


ACTION_IDS: Mapping[Action, str] = {action: action_id(action) for action in Action}

# Everything that changes the resource in AWS asks for confirmation first. Stop is in: it
# interrupts whatever runs there, even though it can be undone.
DESTRUCTIVE = frozenset(set(Action) - {Action.KEEP, Action.NOT_MINE})
# Changes that can be undone (started, resumed, switched back): no "cannot be undone" for them.
REVERSIBLE = frozenset({Action.STOP, Action.PAUSE, Action.ON_DEMAND})


def is_destructive(action: Action) -> bool:
    return action in DESTRUCTIVE


def is_reversible(action: Action) -> bool:
    return action in REVERSIBLE


# The nudge status a decision leaves behind (store.NUDGE_STATUSES).
STATUS_AFTER: Mapping[Action, str] = {
    Action.KEEP: "kept",
    Action.STOP: "stopped",
    Action.PAUSE: "paused",
    Action.ON_DEMAND: "switched",
    Action.TERMINATE: "terminated",
    Action.DELETE: "deleted",
    Action.RELEASE: "released",
    Action.DEREGISTER: "deregistered",
    Action.NOT_MINE: "reassigned",
}

BUTTON_LABELS: Mapping[Action, str] = {
    Action.KEEP: "Keep…",
    Action.STOP: "Stop",
    Action.PAUSE: "Pause",
    Action.ON_DEMAND: "Switch to on-demand",
    Action.TERMINATE: "Terminate",
    Action.DELETE: "Delete",
    Action.RELEASE: "Release",
    Action.DEREGISTER: "Deregister",
    Action.NOT_MINE: "Not mine",
}

# Block Kit button styles: "danger" for what cannot be undone.
BUTTON_STYLES: Mapping[Action, str | None] = {
    Action.KEEP: "primary",
    Action.STOP: None,
    Action.PAUSE: None,
    Action.ON_DEMAND: None,
    Action.TERMINATE: "danger",
    Action.DELETE: "danger",
    Action.RELEASE: "danger",
    Action.DEREGISTER: "danger",
    Action.NOT_MINE: None,
}

PAST_TENSE: Mapping[Action, str] = {
    Action.KEEP: "kept",
    Action.STOP: "stopped",
    Action.PAUSE: "paused",
    Action.ON_DEMAND: "switched to on-demand",
    Action.TERMINATE: "terminated",
    Action.DELETE: "deleted",
    Action.RELEASE: "released",
    Action.DEREGISTER: "deregistered",
    Action.NOT_MINE: "passed on",
}


# ---------------------------------------------------------------------------------------------
# Button values


def button_value(nudge_id: str, action: Action) -> str:
    return f"{nudge_id}:{action.value}"


def parse_button_value(value: str) -> tuple[str, Action]:
    """`"<nudge id>:<action>"` → (nudge id, Action); ValueError when it is not one of ours."""
    if not isinstance(value, str):
        raise ValueError("not a nudge button value")
    nudge_id, sep, name = value.rpartition(":")
    if not sep or not nudge_id or len(nudge_id) > 64:
        raise ValueError(f"not a nudge button value: {value[:80]!r}")
    return nudge_id, Action(name)


# ---------------------------------------------------------------------------------------------
# Who may press


def may_act(
    user: str | None,
    owner: str | None,
    admins: Collection[str] = (),
    admin_group_members: Collection[str] = (),
) -> bool:
    """The nudge's owner, a configured admin, or a member of the admin user group; nobody else.

    A nudge without an owner (the fallback channel) is for admins only.
    """
    if not user:
        return False
    return user == owner or user in admins or user in admin_group_members


# ---------------------------------------------------------------------------------------------
# Keep: for how long


class KeepChoice(StrEnum):
    WEEK = "7d"
    MONTH = "30d"
    DATE = "date"


KEEP_DAYS: Mapping[KeepChoice, int] = {KeepChoice.WEEK: 7, KeepChoice.MONTH: 30}
KEEP_LABELS: Mapping[KeepChoice, str] = {
    KeepChoice.WEEK: "For 7 days",
    KeepChoice.MONTH: "For 30 days",
    KeepChoice.DATE: "Until a date",
}
MAX_KEEP_DAYS = 366


class KeepInvalid(ValueError):
    """The keep form cannot be used; `field` names the input that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def keep_until(
    choice: str | None, until: date | None, now: datetime, *, max_days: int = MAX_KEEP_DAYS
) -> datetime:
    """When a keep ends: now + 7 or 30 days, or the end of the chosen day (UTC).

    A date today or in the past, or more than `max_days` ahead (the policy's
    `ownership.max_keep_days`), is a KeepInvalid naming the date field.
    """
    try:
        picked = KeepChoice(choice or "")
    except ValueError:
        raise KeepInvalid("choice", "Choose how long to keep it.") from None
    if picked in KEEP_DAYS:
        if KEEP_DAYS[picked] > max_days:
            raise KeepInvalid("choice", f"Keeps last at most {max_days} days here: pick a date.")
        return now + timedelta(days=KEEP_DAYS[picked])
    if until is None:
        raise KeepInvalid("date", "Pick the date until which to keep it.")
    if until <= now.astimezone(UTC).date():
        raise KeepInvalid("date", "Pick a date after today.")
    if until > (now + timedelta(days=max_days)).date():
        raise KeepInvalid("date", f"Pick a date within {max_days} days.")
    return datetime.combine(until, time(23, 59, 59), tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# What an action will do, in words


@dataclass(frozen=True)
class Confirmation:
    """The words of a Slack `confirm` dialog (plain text, within Block Kit's lengths)."""

    title: str  # ≤ 100
    text: str  # ≤ 300
    confirm: str  # ≤ 30
    deny: str = "Cancel"


def what_it_is(resource: Resource, kinds: Kinds) -> str:
    """`the EC2 instance web-1 (i-0abc)`, `the Elastic IP 203.0.113.5 (eipalloc-1)`."""
    kind = kinds.of(resource.type)
    noun = kind.noun if kind else "resource"
    label = kind.label(resource) if kind and kind.label else resource.label
    return f"the {noun} {label}"


def describe(
    action: Action,
    resource: Resource,
    actions: Actions,
    kinds: Kinds,
    *,
    until: datetime | None = None,
) -> str:
    """What pressing the button will do: `terminate the EC2 instance web-1 (i-0abc) in eu-west-1
    after snapshotting its 2 volumes`. Plain words, lower case first, no full stop."""
    where = f"{what_it_is(resource, kinds)} in {resource.region}"
    kind = kinds.of(resource.type)
    consequence = (kind.words.get(action) if kind else None) or _DEFAULT_CONSEQUENCES.get(action)
    extra = consequence(resource, actions, until) if consequence else ""
    verb = _VERBS[action]
    return f"{verb} {where}{extra}"


def confirmation(
    action: Action, resource: Resource, actions: Actions, kinds: Kinds
) -> Confirmation:
    """The confirm dialog for a destructive button (dry-run mode says nothing will change)."""
    text = describe(action, resource, actions, kinds)
    text = text[0].upper() + text[1:] + "."
    if not actions.enabled:
        text += " Actions are in dry-run mode: nothing will change; you will see what would have."
    elif not is_reversible(action):
        text += " This cannot be undone."
    title = f"{BUTTON_LABELS[action]} {resource.id}?"
    return Confirmation(
        title=_clip(title, 100),
        text=_clip(text, 300),
        confirm=_clip(f"Yes, {BUTTON_LABELS[action].lower()}", 30),
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_VERBS: Mapping[Action, str] = {
    Action.KEEP: "keep",
    Action.STOP: "stop",
    Action.PAUSE: "pause",
    Action.ON_DEMAND: "switch",  # "switch the DynamoDB table t … to on-demand capacity"
    Action.TERMINATE: "terminate",
    Action.DELETE: "delete",
    Action.RELEASE: "release",
    Action.DEREGISTER: "deregister",
    Action.NOT_MINE: "pass on",
}


def verb(action: Action) -> str:
    """How a sentence says the action: "stop", "switch" (to on-demand), "pass on"."""
    return _VERBS[action]


def _volumes(resource: Resource) -> Sequence[Mapping[str, Any]]:
    return list(resource.details.get("attached_volumes") or ())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def terminate_instance_words(resource: Resource, actions: Actions, _until: datetime | None) -> str:
    volumes = _volumes(resource)
    if not volumes:
        return ""
    if actions.snapshot_before_delete:
        return f" after snapshotting its {_plural(len(volumes), 'volume')}"
    return f" without snapshotting its {_plural(len(volumes), 'volume')} (snapshots are off)"


def delete_volume_words(resource: Resource, actions: Actions, _until: datetime | None) -> str:
    size = f" ({resource.size})" if resource.size else ""
    if actions.snapshot_before_delete:
        return f"{size} after taking a snapshot of it"
    return f"{size} without a snapshot (snapshots are off)"


def final_snapshot_words(resource: Resource, actions: Actions, _until: datetime | None) -> str:
    """A delete that takes a final snapshot first, unless the policy turns snapshots off."""
    if actions.snapshot_before_delete:
        return " after a final snapshot"
    return " without a final snapshot (snapshots are off)"


def _keep_words(resource: Resource, actions: Actions, until: datetime | None) -> str:
    if until is None:
        return " and stop asking about it for a while"
    return f" until {until.astimezone(UTC):%Y-%m-%d} and stop asking about it until then"


def _not_mine_words(resource: Resource, actions: Actions, _until: datetime | None) -> str:
    return " to whoever it belongs to"


_DEFAULT_CONSEQUENCES: Mapping[Action, Words] = {
    Action.KEEP: _keep_words,
    Action.NOT_MINE: _not_mine_words,
}
