"""What `whocreated types` shows: every type a lookup can answer, its events and its rule."""

from __future__ import annotations

from typing import Any

from bot.registry.catalog import all_specs, answerable_by_arn, registry
from bot.registry.spec import HAND_WRITTEN


def coverage() -> list[dict[str, Any]]:
    """One row per type with creation events, by CloudFormation type (the `--json` objects)."""
    rows = []
    for spec in sorted(all_specs(), key=lambda s: s.cfn_type):
        if not spec.creation:
            continue
        rows.append(
            {
                "cfn_type": spec.cfn_type,
                "service": spec.service,
                "arn_formats": list(spec.arn_formats),
                "id_patterns": list(spec.id_patterns),
                "events": [{"source": s, "name": n} for s, n in spec.creation_events],
                "rule": spec.origin,
                "answerable_by_arn": answerable_by_arn(spec),
            }
        )
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    hand = sum(1 for row in rows if row["rule"] == HAND_WRITTEN)
    by_arn = sum(1 for row in rows if row["answerable_by_arn"])
    sources = ", ".join(f"{name} {version}" for name, version in sorted(registry().sources.items()))
    return (
        f"{len(rows):,} types answered: {hand} by hand-written rules, {len(rows) - hand:,} by "
        f"generated ones; {by_arn:,} answerable by ARN. Generated from {sources}."
    )


def render(rows: list[dict[str, Any]]) -> str:
    """A plain table: type, rule, ARN or not, events."""
    width = max((len(row["cfn_type"]) for row in rows), default=4)
    lines = [f"{'TYPE':<{width}}  {'RULE':<12}  ARN  EVENTS"]
    for row in rows:
        events = ", ".join(event["name"] for event in row["events"])
        arn = "yes" if row["answerable_by_arn"] else "no"
        lines.append(f"{row['cfn_type']:<{width}}  {row['rule']:<12}  {arn:<3}  {events}")
    lines.append("")
    lines.append(summary(rows))
    return "\n".join(lines)
