"""Plain-text answers for the terminal (`whocreated lookup` without --json)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.answers import LookupAnswer, explain, note_text
from bot.core.events import CreationFact
from bot.core.resources import Finding

SOURCE_WORDS = {
    "cloudtrail": "CloudTrail",
    "cache": "cache",
    "trail-logs": "trail logs",
    "tag": "the whocreated:created-by tag, written earlier from CloudTrail",
    "archive": "the trail archive (Athena)",
}


def render_answer(answer: LookupAnswer, *, now: datetime) -> str:
    ref, fact = answer.ref, answer.fact
    kind = f"  ({ref.type})" if ref.type else ""
    lines = [f"{ref.given}{kind}"]
    if fact is None:
        lines.append(f"  not found   {explain(answer) or 'no creation event'}")
        if answer.regions_searched:
            lines.append(f"  searched    {', '.join(answer.regions_searched)}")
        if len(answer.accounts_searched) == 1:
            lines.append(f"  account     {answer.accounts_searched[0]}")
        elif answer.accounts_searched:
            lines.append(f"  accounts    {', '.join(answer.accounts_searched)}")
    else:
        lines.extend(_found_lines(fact, now))
        lines.extend(_parent_lines(answer, now))
        lines.append(f"  source      {SOURCE_WORDS.get(answer.source.value, answer.source.value)}")
    note = note_text(answer, with_parents=False)  # the parents have lines of their own
    if note:
        lines.append(f"  note        {note}")
    return "\n".join(lines)


def _found_lines(fact: CreationFact, now: datetime) -> list[str]:
    actor = fact.actor
    who = actor.name or "unknown"
    identity = ", ".join(part for part in (actor.identity_type, actor.arn) if part)
    lines = [f"  created by  {who}" + (f" ({identity})" if identity else "")]
    if actor.invoked_by and actor.invoked_by != who:
        lines.append(f"  invoked by  {actor.invoked_by}")
    when = f"{fact.event_time:%Y-%m-%d %H:%M:%S} UTC"
    lines.append(f"  when        {when} ({age(fact.event_time, now)})")
    how = fact.tool or "unknown tool"
    if fact.source_ip:
        how += f", from {fact.source_ip}"
    lines.append(f"  how         {how}: {fact.event_name} ({fact.event_source})")
    if fact.user_agent:
        lines.append(f"  user agent  {_clip(fact.user_agent, 160)}")
    where = ", ".join(part for part in (_account(fact), fact.region) if part)
    lines.append(f"  where       {where or 'unknown'}")
    others = [name for name in (*fact.created, *fact.related) if name != fact.resource_id]
    if others:
        shown = ", ".join(others[:6]) + (f" and {len(others) - 6} more" if len(others) > 6 else "")
        lines.append(f"  same event  {shown}")
    if fact.event_id:
        lines.append(f"  event id    {fact.event_id}")
    return lines


def _parent_lines(answer: LookupAnswer, now: datetime) -> list[str]:
    """The parents a service made it for, nearest first, and who created each."""
    lines = []
    for parent in answer.parents():
        fact = parent.answer.fact
        if fact is None:
            why = explain(parent.answer) or "no creation event"
            lines.append(f"  for         {parent.words}: who created it is unknown ({why})")
            lines.extend(f"              {note}" for note in parent.notes)
            continue
        how = ", ".join(part for part in (fact.tool, fact.event_name) if part)
        lines.append(
            f"  for         {parent.words}: created by {fact.actor.name or 'unknown'} "
            f"on {fact.event_time:%Y-%m-%d %H:%M} UTC ({age(fact.event_time, now)}; {how})"
        )
        lines.extend(f"              {note}" for note in parent.notes)
    return lines


def _account(fact: CreationFact) -> str | None:
    return f"account {fact.account}" if fact.account else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def age(then: datetime, now: datetime) -> str:
    """'3 days ago', '2 hours ago', 'just now'."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def finding_json(finding: Finding) -> dict[str, Any]:
    """One `scan --json` line: the idle resource, its owner, why, what it costs, which buttons."""
    resource, owner = finding.resource, finding.owner
    return {
        "resource": {
            "id": resource.id,
            "type": resource.type,
            "name": resource.name,
            "region": resource.region,
            "account": resource.account,
            "state": resource.state,
            "size": resource.size,
        },
        "owner": {
            "name": owner.aws_name,
            "slack_user": owner.slack_user,
            "source": owner.source,
            "reason": owner.reason,
        },
        "reasons": list(finding.verdict.reasons),
        "monthly_cost": finding.cost.monthly_usd,
        "cost_note": finding.cost.note,
        "actions": list(finding.actions),
    }


def render_scan(findings: Sequence[Finding], summary: Mapping[str, Any]) -> str:
    """A table of idle resources, most expensive first, then the round's summary."""
    rows = [("RESOURCE", "TYPE", "REGION", "OWNER", "$/MONTH", "WHY")]
    for finding in findings:
        resource, owner = finding.resource, finding.owner
        cost = finding.cost.monthly_usd
        rows.append(
            (
                _clip(resource.label, 40),
                resource.type.rsplit("::", 1)[-1],
                resource.region,
                _clip(owner.aws_name or f"unknown ({owner.reason or 'no owner found'})", 40),
                f"{cost:,.2f}" if cost is not None else "no price",
                _clip("; ".join(finding.verdict.reasons), 70),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    ]
    if not findings:
        lines = ["Nothing idle found."]
    total = summary.get("monthly_cost_usd", 0)
    lines.append("")
    lines.append(
        f"{summary.get('idle', 0)} idle of {summary.get('scanned', 0)} resources scanned in "
        f"{_count(len(summary.get('regions', [])), 'region')}; ${total:,.2f}/month where priced"
        + (f", {summary['unpriced']} without a price" if summary.get("unpriced") else "")
        + f"; {summary.get('kept', 0)} kept, {summary.get('excluded', 0)} excluded, "
        f"{summary.get('not_judged', 0)} too new or without data to judge."
    )
    for note in summary.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
