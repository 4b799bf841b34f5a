"""Owners named by a side, checked against the seeder's truth rather than counted.

The seeder knows who made every resource, and for one made by a service on someone's behalf (an
Auto Scaling group's instances) whose parent it was: that person is the owner a patrol must name.
A side reports resource id → the owner's AWS name it found (None: it found none); the parent
process, which alone holds the truth, compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

EXAMPLES = 3  # wrong answers shown in the line, to see what went wrong without a rerun


def expected_owners(made: Iterable[Any]) -> dict[str, str]:
    """Idle resource id → the AWS name of its owner, from the seeder's records (`Seeded`)."""
    from bot.sandbox.fleet import BY_KEY

    return {
        seeded.id: BY_KEY[seeded.owner].aws_name
        for seeded in made
        if seeded.idle and seeded.owner is not None
    }


def check_owners(
    named: Mapping[str, str | None],
    expected: Mapping[str, str],
    checked: Iterable[str] | None = None,
) -> dict[str, Any]:
    """owners_correct / _wrong / _missing over `checked` (default: every idle resource).

    Missing: an idle resource the side named no owner for, or did not report at all. Named
    resources that are not idle in truth are counted apart (`named_not_idle`).
    """
    scope = list(expected if checked is None else checked)
    correct = wrong = missing = 0
    examples: list[str] = []
    for resource_id in scope:
        want, got = expected.get(resource_id), named.get(resource_id)
        if want is None:
            continue  # not idle in truth: counted below
        if got is None:
            missing += 1
        elif got == want:
            correct += 1
        else:
            wrong += 1
            if len(examples) < EXAMPLES:
                examples.append(f"{resource_id}: named {got}, owner {want}")
    return {
        "owners_checked": len(scope),
        "owners_correct": correct,
        "owners_wrong": wrong,
        "owners_missing": missing,
        "named_not_idle": sum(1 for resource_id in named if resource_id not in expected),
        "owners_wrong_examples": examples,
    }
