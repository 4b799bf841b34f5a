"""Tag rules of the policy file (`protected_tags`, `exclude.tags`): `key` or `key=value`.

Keys and values are compared without case: `Protected`, `PROTECTED` and `protected` are one tag to
the person who wrote the rule, and a rule that protects must not miss by a capital letter.
Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def matches(rule: str, tags: Mapping[str, str]) -> bool:
    """`key` matches the tag whatever its value; `key=value` only with that value."""
    key, has_value, value = rule.partition("=")
    wanted_key, wanted_value = key.strip().casefold(), value.strip().casefold()
    for tag_key, tag_value in tags.items():
        if tag_key.strip().casefold() != wanted_key:
            continue
        if not has_value or (tag_value or "").strip().casefold() == wanted_value:
            return True
    return False


def first_match(rules: Iterable[str], tags: Mapping[str, str]) -> str | None:
    """The first rule these tags match, or None."""
    return next((rule for rule in rules if matches(rule, tags)), None)
