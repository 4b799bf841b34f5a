"""The patrol types in the README's words: the table of idle rules, generated from the
declarations (`python -m bot.policies --write .` writes it; a test fails when it differs)."""

from __future__ import annotations

from bot.core.actions import Action
from bot.core.decisions import BUTTON_LABELS
from bot.registry.patrol import PATROL
from bot.registry.patrol.spec import PatrolType

_ALWAYS = (Action.KEEP, Action.NOT_MINE)


def buttons(kind: PatrolType) -> list[Action]:
    """Every button the type may offer in some state, in the order buttons are shown."""
    offered = {action for row in kind.buttons.values() for action in row}
    return [action for action in Action if action in offered]


def idle_table() -> str:
    rows = [
        "| resource | policy table | idle when (defaults) | buttons besides Keep and Not mine |",
        "|---|---|---|---|",
    ]
    for kind in PATROL.declared:
        extra = [BUTTON_LABELS[a] for a in buttons(kind) if a not in _ALWAYS]
        noun = kind.noun[:1].upper() + kind.noun[1:]
        rows.append(
            f"| {noun} | `[idle.{kind.short}]` | {kind.idle_words()} | {', '.join(extra) or '—'} |"
        )
    return "\n".join(rows)
