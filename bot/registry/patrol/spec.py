"""A patrol type, declared once: what core reads of it (PatrolKind) and the shell's parts.

A declaration joins a pure rule and price parts from bot/core with the functions in
bot/aws/kinds/ that list the type, act on it, tag it and read its creation time. This package
imports both; nothing in bot/core or bot/aws imports it: they are handed the declarations
(`PATROL`, or its `by_type` table) by whoever builds them (bot/wiring.py, the patrol round).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core.actions import Action
from bot.core.events import CreationFact
from bot.core.kinds import KEEP_AND_NOT_MINE, Kinds, PatrolKind
from bot.core.parents import CLOUDFORMATION_STACK
from bot.core.resources import Resource


@dataclass(frozen=True, kw_only=True, eq=False)
class PatrolType(PatrolKind):
    """One patrol type: its PatrolKind (names, rule, limits, metrics, price, buttons, words),
    and how the shell lists it, acts on it, tags it and reads its creation time."""

    inventory: Lister  # its describe calls, and their permissions
    actions: Mapping[Action, Act] = field(default_factory=dict)  # each button's AWS handler
    tagging: Writer | None = None  # how whocreated:* tags are written on it
    hint: Reader | None = None  # its creation time and owner tags, for lookups and keeps
    # Its IAM resource ARNs ({partition} filled in by the generated policies): what its buttons
    # and tag writes may touch, so no write gets Resource "*".
    iam_resources: tuple[str, ...] = ()
    # Parents it may belong to (bot/core/parents.py types): the owner chain follows only these.
    parents: tuple[str, ...] = (CLOUDFORMATION_STACK,)
    # What its creation event may call it (default: its ARN and id), and any further check an
    # event must pass to be its creation (a classic and a v2 load balancer share an event name).
    creation_names: Callable[[Resource], tuple[str, ...]] | None = None
    accepts_creation: Callable[[CreationFact], bool] | None = None

    def __post_init__(self) -> None:
        # Every button it may offer does something: a handler, or Keep and Not mine.
        offered = {action for row in self.buttons.values() for action in row}
        missing = offered - set(self.actions) - set(KEEP_AND_NOT_MINE)
        if missing:
            names = ", ".join(sorted(missing))
            raise ValueError(f"{self.cfn_type} offers {names} without a handler")

    def names_in_creation(self, resource: Resource) -> tuple[str, ...]:
        if self.creation_names is not None:
            return self.creation_names(resource)
        return tuple(name for name in (resource.arn, resource.id) if name)


class PatrolTypes(Kinds):
    """Every declared patrol type, in the order a round inventories them."""

    def __init__(self, types: Iterable[PatrolType]) -> None:
        self.declared: tuple[PatrolType, ...] = tuple(types)
        super().__init__(self.declared)
        self.by_type: Mapping[str, PatrolType] = {t.cfn_type: t for t in self.declared}
        self.by_short: Mapping[str, PatrolType] = {t.short: t for t in self.declared}
        if len(self.by_short) != len(self.declared):
            raise ValueError("two patrol types share a short name")

    def declaration(self, resource_type: str) -> PatrolType | None:
        return self.by_type.get(resource_type)
