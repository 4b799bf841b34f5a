"""IAM action names in words: which only read, and what a refused call needed. Pure."""

from __future__ import annotations

from collections.abc import Sequence

_READ_VERBS = ("Describe", "List", "Get", "Lookup", "Simulate")


def is_read(action: str) -> bool:
    """Reads change nothing: Describe*, List*, Get*, LookupEvents, SimulatePrincipalPolicy."""
    return action.split(":", 1)[1].startswith(_READ_VERBS)


def needed_words(listed: Sequence[str], failed_operation: str | None) -> str:
    """The permission a button needs, for "my role needs …": the one whose call failed when
    it is listed, else every change the button makes."""
    if failed_operation:
        named = [name for name in listed if name.split(":", 1)[1] == failed_operation]
        if named:
            return named[0]
    changes = list(dict.fromkeys(name for name in listed if not is_read(name)))
    if not changes:
        return "the permission for it"
    return ", ".join(changes[:-1]) + " and " + changes[-1] if len(changes) > 1 else changes[0]
