"""What core reads about a patrol type: its names, idle rule, price parts, buttons and their words.

A patrol type is declared once, in bot/registry/patrol/: its declaration (a PatrolType) is a
PatrolKind plus the shell's parts (inventory call, AWS handlers, tag writer, permissions). Core
never imports those declarations: a caller hands them in, as `kinds` (every type, looked up by
CloudFormation type) or as the one `kind` a function needs. Pure: values and functions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.actions import Action
from bot.core.costs import Caveat, Component, Pricer, Unpriced
from bot.core.idle import MetricSpec, Observations, Rule, own_id, unknown_type
from bot.core.policy import LOOKBACK_DAYS, Actions, Limit, Thresholds
from bot.core.resources import Resource, Verdict

# What a button does beyond its verb, in words: "; its volumes stay (and still cost)".
Words = Callable[[Resource, Actions, datetime | None], str]

KEEP_AND_NOT_MINE = (Action.KEEP, Action.NOT_MINE)


def said(text: str) -> Words:
    """Words that are the same for every resource of the type."""
    return lambda _resource, _actions, _until: text


@dataclass(frozen=True, kw_only=True, eq=False)
class PatrolKind:
    """One patrol type as core reads it (DESIGN.md §1: resource types are declared once)."""

    cfn_type: str  # AWS::EC2::Instance
    short: str  # ec2_instance: its [idle.<short>] table in the policy file
    noun: str  # "EC2 instance": how a message names one
    plural: str  # "EC2 instances": how a note names them all
    rule: Rule  # the idle rule (bot/core/idle.py)
    idle_when: str  # the rule in words, for the README: "{max_cpu_percent} … over {lookback_days}"
    limits: tuple[Limit, ...] = ()  # what its rule reads, besides `enabled`
    metrics: tuple[MetricSpec, ...] = ()  # CloudWatch metrics its rule reads
    dimension: Callable[[Resource], str | None] = own_id  # the metrics' dimension value
    # Every series of a metric where CloudWatch splits it by more dimensions (an endpoint's
    # variants, a cache's nodes): one {name: value} each, summed into the metric's alias.
    # None: the one series {metric.dimension: dimension(resource)}.
    series: Callable[[Resource, MetricSpec], Sequence[Mapping[str, str]]] | None = None
    price: Pricer  # its price parts (bot/core/costs.py)
    caveat: Caveat | None = None  # what its price leaves out
    # The buttons a digest offers, in order, by the resource's state; the row for None serves
    # every state not listed. Keep and Not mine at least.
    buttons: Mapping[str | None, tuple[Action, ...]] = field(
        default_factory=lambda: {None: KEEP_AND_NOT_MINE}
    )
    words: Mapping[Action, Words] = field(default_factory=dict)  # what each does, beyond the verb
    # AWS never gives its id to another resource (instance and volume ids, a v2 load balancer's
    # ARN); False where the id is a name that comes back after deletion, so press-time identity
    # and signed tags compare creation times too.
    unique_ids: bool = False
    label: Callable[[Resource], str] | None = None  # how a message names one; else its label
    activity: str | None = None  # the sparkline's name, for a rule that draws one ("CPU")

    def buttons_for(self, resource: Resource) -> tuple[Action, ...]:
        return self.buttons.get(resource.state) or self.buttons.get(None) or KEEP_AND_NOT_MINE

    def metrics_for(self, resource: Resource) -> tuple[MetricSpec, ...]:
        """The metrics this resource is judged by (a v2 load balancer's depend on its kind)."""
        return tuple(
            spec
            for spec in self.metrics
            if spec.when is None or resource.details.get(spec.when[0]) == spec.when[1]
        )

    def series_of(self, resource: Resource, spec: MetricSpec) -> Sequence[Mapping[str, str]]:
        """The CloudWatch series (dimension sets) of one metric of this resource."""
        if self.series is not None:
            return self.series(resource, spec)
        value = self.dimension(resource)
        return [{spec.dimension: value}] if value is not None else []

    def judge(
        self, resource: Resource, observations: Observations, thresholds: Thresholds, now: datetime
    ) -> Verdict:
        return self.rule(resource, observations, thresholds, now)

    def parts(self, resource: Resource) -> Sequence[Component] | Unpriced:
        return self.price(resource)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key its `[idle.<short>]` table takes."""
        return ("enabled", *(limit.key for limit in self.limits))

    def idle_words(self) -> str:
        """Its rule in words with the default of each limit: "max CPU ≤ 2 % … over 7 days";
        a limit of zero reads "no": "no requests over 7 days"."""
        values = {limit.key: _default_words(limit) for limit in (*self.limits, LOOKBACK_DAYS)}
        return re.sub(r"≤ 0 (?=\D)", "no ", self.idle_when.format(**values))


def _default_words(limit: Limit) -> str:
    value = limit.default
    if limit.unit == "bytes":
        for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
            if value >= size and value % size == 0:
                return f"{value // size:g} {unit}"
        return f"{value:g} bytes"
    return f"{value:g}"


class Kinds:
    """The patrol types, by CloudFormation type, in declaration order."""

    def __init__(self, kinds: Iterable[PatrolKind]) -> None:
        self._kinds: dict[str, PatrolKind] = {}
        for kind in kinds:
            if kind.cfn_type in self._kinds:
                raise ValueError(f"{kind.cfn_type} is declared twice")
            self._kinds[kind.cfn_type] = kind

    def of(self, resource_type: str) -> PatrolKind | None:
        return self._kinds.get(resource_type)

    def __iter__(self) -> Iterator[PatrolKind]:
        return iter(self._kinds.values())

    def __contains__(self, resource_type: object) -> bool:
        return resource_type in self._kinds

    def __len__(self) -> int:
        return len(self._kinds)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    # What core asks of a type it may not know ------------------------------------------------

    def noun(self, resource_type: str) -> str | None:
        kind = self.of(resource_type)
        return kind.noun if kind else None

    def buttons(self, resource: Resource) -> tuple[Action, ...]:
        """The buttons a resource gets (Keep and Not mine at least)."""
        kind = self.of(resource.type)
        return kind.buttons_for(resource) if kind else KEEP_AND_NOT_MINE

    def unique_ids(self, resource_type: str) -> bool:
        kind = self.of(resource_type)
        return kind.unique_ids if kind else False

    def evaluate(
        self, resource: Resource, observations: Observations, thresholds: Thresholds, now: datetime
    ) -> Verdict:
        """Judge one resource. Never idle on missing knowledge: unknown=True says so instead."""
        kind = self.of(resource.type)
        if kind is None:
            return unknown_type(resource)
        return kind.judge(resource, observations, thresholds, now)

    def metrics_for(self, resource: Resource) -> tuple[MetricSpec, ...]:
        kind = self.of(resource.type)
        return kind.metrics_for(resource) if kind else ()

    def dimension_value(self, resource: Resource) -> str | None:
        """The value of the resource's CloudWatch dimension; None when the type has no metrics."""
        kind = self.of(resource.type)
        return kind.dimension(resource) if kind and kind.metrics else None

    def series_of(self, resource: Resource, spec: MetricSpec) -> Sequence[Mapping[str, str]]:
        kind = self.of(resource.type)
        return kind.series_of(resource, spec) if kind else []

    def parts(self, resource: Resource) -> Sequence[Component] | Unpriced:
        kind = self.of(resource.type)
        return kind.parts(resource) if kind else Unpriced(f"no pricing for {resource.type}")

    def caveat(self, resource: Resource) -> Caveat | None:
        kind = self.of(resource.type)
        return kind.caveat if kind else None
