"""Block Kit for the idle-resource patrol: the nudge digest, escalations, unknown owners, outcomes,
App Home and the weekly summary.

Pure, like messages.py: values in, `slack_sdk.models.blocks` objects out (validated by
`to_dict()`); no clients, no clock (callers pass `now`). Every string that came from AWS (names,
tags, reasons, notes) is escaped, and every text is clipped to Block Kit's limits, so a Name tag
`<!channel>` pings nobody and 200 idle resources still make one valid message.

A resource's row in a digest or App Home is a section with block_id `res:<nudge id>` followed by
its buttons in an actions block `res:<nudge id>:actions`; `outcome_blocks` swaps both for one
result line after a button, leaving the other rows as they were.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.decisions import (
    BUTTON_LABELS,
    BUTTON_STYLES,
    PAST_TENSE,
    STATUS_AFTER,
    Action,
    action_id,
    button_value,
    confirmation,
    describe,
    is_destructive,
    is_reversible,
)
from bot.core.kinds import Kinds
from bot.core.messages import (
    MESSAGE_BLOCKS_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    SECTION_TEXT_LIMIT,
    _fit,
    code,
    describe_age,
    escape_clip,
)
from bot.core.policy import Actions
from bot.core.resources import Cost, Finding, Owner, Resource

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks) beyond messages.py's.
HOME_BLOCKS_LIMIT = 100
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
ACTIONS_ELEMENTS_LIMIT = 25
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
CONFIRM_BUTTON_LIMIT = 30
BLOCK_ID_LIMIT = 255

# Our own budgets, so one long value never crowds out the rest of a row.
NUDGE_ID_LIMIT = 64  # as decisions.parse_button_value; `res:<id>:actions` fits a block_id
SIZE_LIMIT = 80
REASONS_LIMIT = 6
REASON_LIMIT = 250
STATUS_LIMIT = 200
LIST_LIMIT = 40  # lines in an escalation or unknown-owner list before "and N more"
LIST_NAMES_IN_TEXT = 3
SPARK_WIDTH = 24
SPARK_BARS = "▁▂▃▄▅▆▇█"
DRY_RUN_SUFFIX = " (dry run: nothing will change)"

# Buttons, their values and their words come from bot/core/decisions.py (one source of truth):
# Action, action_id, button_value, BUTTON_LABELS, BUTTON_STYLES, is_destructive, describe.


def confirm_text(
    action: Action, resource: Resource, *, dry_run: bool, actions: Actions, kinds: Kinds
) -> str:
    """The confirm dialog's words: decisions.describe, escaped, then what follows, never cut.

    Escaped although the dialog is plain text: Slack decodes `&amp;`, `&lt;`, `&gt;` in every
    text, and no raw `<!channel>` from AWS should reach Slack in any field.
    """
    if dry_run:
        tail = DRY_RUN_SUFFIX + "."
    elif is_destructive(action) and not is_reversible(action):
        tail = ". This cannot be undone."
    else:
        tail = "."
    words = describe(action, _short(resource), actions, kinds)
    words = words[:1].upper() + words[1:]
    return escape_clip(words, CONFIRM_TEXT_LIMIT - len(tail)) + tail


def _short(resource: Resource) -> Resource:
    """The resource with its name and id cut, so the consequences after them fit the dialog."""
    name = _cut(resource.name, 60) if resource.name else resource.name
    return replace(resource, name=name, id=_cut(resource.id, 90))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Small helpers: words, numbers and the sparkline


def type_words(resource_type: str, kinds: Kinds) -> str:
    """`EC2 instance` for `AWS::EC2::Instance` (its declared noun, capitalised); an unknown type is
    shown as it is (unescaped)."""
    noun = kinds.noun(resource_type)
    return noun[:1].upper() + noun[1:] if noun else resource_type


def format_cost(cost: Cost) -> str:
    """`$1,234.56/month`, `under $0.01/month`, or `no price found`: never a made-up number."""
    amount = cost.monthly_usd
    if amount is None or not math.isfinite(amount):
        return "no price found"
    return f"{_usd(amount)}/month"


def _usd(amount: float) -> str:
    if 0 < amount < 0.005:
        return "under $0.01"  # "$0.00" would read as free
    return f"${amount:,.2f}"


def format_bytes(count: float) -> str:
    """`0 B`, `512 B`, `3.4 KB`, `12 KB`, `1.5 GB` (1 KB = 1,024 bytes)."""
    if not math.isfinite(count):
        return "unknown"
    sign = "-" if count < 0 else ""
    value = abs(float(count))
    if value < 1024:
        return f"{sign}{int(value)} B"
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        shown = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
        if float(shown) < 1024:  # 1023.9 KB reads as "1 MB", not "1024 KB"
            return f"{sign}{shown} {unit}"
    return f"{sign}{value / 1024:,.0f} PB"


def sparkline(
    values: Iterable[float | None], width: int = SPARK_WIDTH, ceiling: float | None = None
) -> str:
    """A line of `▁▂▃▄▅▆▇█`, at most `width` long; "" when there is no usable value.

    NaN, infinities and None are dropped. Bars start at zero (not at the lowest value) so the noise
    of an idle resource does not look like load; a flat line sits on the floor, or at the top when
    it is a steady non-zero value. Longer series are cut into `width` buckets and each shows its
    highest value: idleness is about peaks, and a spike must not be averaged away. A `ceiling`
    (100 for a percentage) is the top of the scale, so 0.5 % CPU draws low, not full height.
    """
    points = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not points or width <= 0:
        return ""
    points = _bucket_max(points, width)
    low, high = min(0.0, *points), max(*points, ceiling if ceiling is not None else -math.inf)
    if high == low:
        return SPARK_BARS[0] * len(points)
    top = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[int((p - low) / (high - low) * top + 0.5)] for p in points)


def _bucket_max(points: list[float], width: int) -> list[float]:
    if len(points) <= width:
        return points
    size = len(points)
    return [max(points[i * size // width : (i + 1) * size // width]) for i in range(width)]


_USER_ID = re.compile(r"^[UW][A-Z0-9]{8,}$")  # Slack user ids: U0123ABCD, W…


def _mention_or_name(who: str | None) -> str:
    """A Slack user id (U…/W…) or `<@U…>` becomes a mention; anything else is escaped text."""
    if not who:
        return "someone"
    text = who.strip()
    if text.startswith("<@") and text.endswith(">") and _is_user_id(text[2:-1]):
        return text
    if _is_user_id(text):
        return f"<@{text}>"
    return f"*{escape_clip(text, NAME_LIMIT)}*"


def _is_user_id(text: str) -> bool:
    return _USER_ID.match(text) is not None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _slack_time(moment: datetime, *, with_time: bool) -> str:
    """`Jun 3, 2024 at 14:02` in the reader's time zone, with a UTC fallback; never `today`,
    which would be wrong once the message is a week old."""
    moment = _aware(moment).astimezone(UTC)
    if with_time:
        token, fallback = "{date_short} at {time}", moment.strftime("%Y-%m-%d %H:%M UTC")
    else:
        token, fallback = "{date_short}", moment.strftime("%Y-%m-%d")
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _known_costs(findings: Iterable[Finding]) -> tuple[float, int]:
    """(sum of known monthly costs, how many have no price)."""
    total, unpriced = 0.0, 0
    for finding in findings:
        amount = finding.cost.monthly_usd
        if amount is None or not math.isfinite(amount):
            unpriced += 1
        else:
            total += amount
    return total, unpriced


def _total_words(findings: Sequence[Finding]) -> str:
    """`$340.00/month`, `$340.00/month (2 without a price)`, or `no price found`."""
    total, unpriced = _known_costs(findings)
    if unpriced == len(findings):
        return "no price found"
    text = format_cost(Cost(total))
    return f"{text} ({unpriced} without a price)" if unpriced else text


def _cost_key(finding: Finding) -> tuple[bool, float, str]:
    """Most expensive first, unknown cost last, then by label so the order is stable."""
    amount = finding.cost.monthly_usd
    known = amount is not None and math.isfinite(amount)
    return (not known, -(amount or 0.0) if known else 0.0, finding.resource.label)


_Row = TypeVar("_Row", bound=tuple[Any, ...])


def _first_per_id(items: Iterable[_Row]) -> list[_Row]:
    """Items whose first element (the nudge id) was not seen before: Slack rejects a message
    whose block ids repeat."""
    seen: set[str] = set()
    unique = []
    for item in items:
        if item[0] not in seen:
            seen.add(item[0])
            unique.append(item)
    return unique


def sort_by_cost(items: Sequence[tuple[str, Finding]]) -> list[tuple[str, Finding]]:
    """(nudge id, finding) pairs, the most expensive first, unknown cost last, one per id."""
    return sorted(_first_per_id(items), key=lambda item: _cost_key(item[1]))


FindingItem = Finding | tuple[str, Finding]


def _finding(item: FindingItem) -> Finding:
    return item[1] if isinstance(item, tuple) else item


# ---------------------------------------------------------------------------------------------
# One resource: what, where, since when, why, cost, activity, owner


def row_block_id(nudge_id: str) -> str:
    """`res:<nudge id>`: the block id of a resource's section (its buttons: `…:actions`)."""
    if not nudge_id or len(nudge_id) > NUDGE_ID_LIMIT:
        raise ValueError(f"a nudge id must be 1 to {NUDGE_ID_LIMIT} characters")
    return f"res:{nudge_id}"


def actions_block_id(nudge_id: str) -> str:
    return f"{row_block_id(nudge_id)}:actions"


def _what_line(resource: Resource, kinds: Kinds) -> str:
    parts = [_name_line(resource, kinds)]
    if resource.size:
        parts.append(escape_clip(resource.size, SIZE_LIMIT))
    if resource.state:
        parts.append(escape_clip(resource.state, 40))
    extra = _details_words(resource)
    if extra:
        parts.append(extra)
    return " · ".join(parts)


def _details_words(resource: Resource) -> str | None:
    """A few facts that help recognise it: the public IP, the engine, how many nodes."""
    details = resource.details
    words = []
    if details.get("public_ip"):
        words.append(f"IP {code(details['public_ip'], 60)}")
    if details.get("engine"):
        words.append(escape_clip(details["engine"], 40))
    volumes = details.get("attached_volumes")
    if isinstance(volumes, Sequence) and volumes:
        gib = sum(
            v.get("gib") or 0 for v in volumes if isinstance(v, Mapping) and _number(v.get("gib"))
        )
        words.append(f"{_plural(len(volumes), 'volume')}" + (f", {gib:g} GiB" if gib else ""))
    if _number(details.get("node_count")):  # a cluster's nodes
        words.append(_plural(int(details["node_count"]), "node"))
    return ", ".join(words) or None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _where_line(resource: Resource) -> str:
    return f"in {code(resource.region, 40)}, account {code(resource.account, 40)}"


def _since_line(finding: Finding, now: datetime) -> str | None:
    since = finding.verdict.idle_since or finding.resource.state_since
    if since is None:
        return None
    return f"Idle since {_slack_time(since, with_time=False)} ({describe_age(since, now)})"


def _why_line(finding: Finding) -> str | None:
    reasons = [r for r in finding.verdict.reasons if r]
    if not reasons:
        return None
    shown = "; ".join(escape_clip(reason, REASON_LIMIT) for reason in reasons[:REASONS_LIMIT])
    more = len(reasons) - REASONS_LIMIT
    return f"Why: {shown}" + (f"; and {more} more" if more > 0 else "")


def _cost_line(cost: Cost) -> str:
    if cost.monthly_usd is None or not math.isfinite(cost.monthly_usd):
        note = f" ({escape_clip(cost.note, NOTE_LIMIT)})" if cost.note else ""
        return f"Cost: no price found{note}"
    return f"Cost: *{format_cost(cost)}*"


def _activity_line(finding: Finding, kinds: Kinds) -> str | None:
    points = [v for v in finding.verdict.series if math.isfinite(v)]
    kind = kinds.of(finding.resource.type)
    is_cpu = kind is not None and kind.activity == "CPU"
    line = sparkline(points, ceiling=100.0 if is_cpu else None)
    if not line:
        return None
    peak = max(points)
    if is_cpu:
        return f"CPU: `{line}` (peak {peak:.1f} %)"
    return f"Activity: `{line}` (peak {peak:g})"


def owner_basis(owner: Owner) -> str | None:
    """How we know whose it is: `tag Owner = alice`, `created by alice with Terraform`, …"""
    name = f"*{escape_clip(owner.aws_name, NAME_LIMIT)}*" if owner.aws_name else "someone"
    source = owner.source or ""
    if source.startswith("tag:") and not owner.verified:
        return f"tagged {code(source[4:], 100)} = {name} (not verified)"
    if source.startswith("tag:"):
        return f"tag {code(source[4:], 100)} = {name}"
    if source.startswith("parent:"):
        return f"created by {name} through {code(source[7:], 300)}"
    if source in ("cache", "cloudtrail", "archive"):
        tool = owner.fact.tool if owner.fact else None
        return f"created by {name}" + (f" with {escape_clip(tool, 60)}" if tool else "")
    return None


# A claimed owner (DESIGN.md §4, Trust) is told, without buttons that would not obey them.
_CLAIM_LINE = (
    ":lock: Only an admin can stop or delete it: whocreated found no creator to confirm it is "
    "yours, and anyone allowed to tag it could have written that tag."
)


def _auto_stop_line(when: datetime | None) -> str | None:
    if when is None:
        return None
    return (
        f":alarm_clock: Will be stopped on {_slack_time(when, with_time=True)} "
        "if nobody answers (never terminated)."
    )


def resource_text(
    finding: Finding,
    *,
    now: datetime,
    auto_stop_at: datetime | None = None,
    status: str | None = None,
    kinds: Kinds,
) -> str:
    """A resource's section text (mrkdwn, at most 3,000 characters)."""
    resource = finding.resource
    basis = owner_basis(finding.owner)
    lines = [
        _what_line(resource, kinds),
        _where_line(resource),
        _since_line(finding, now) if finding.verdict.idle else "Not idle in the last round",
        _why_line(finding),
        _cost_line(finding.cost),
        _activity_line(finding, kinds),
        f"Yours because: {basis}" if basis else None,
        None if finding.owner.verified else _CLAIM_LINE if finding.owner.slack_user else None,
        f"Status: {escape_clip(status, STATUS_LIMIT)}" if status else None,
        _auto_stop_line(auto_stop_at),
    ]
    return _fit("\n".join(line for line in lines if line))


def _confirm(
    action: Action, resource: Resource, *, dry_run: bool, actions: Actions, kinds: Kinds
) -> ConfirmObject:
    words = confirmation(action, resource, actions, kinds)  # title and buttons; the text is ours
    text = confirm_text(action, resource, dry_run=dry_run, actions=actions, kinds=kinds)
    return ConfirmObject(
        title=PlainTextObject(text=escape_clip(words.title, CONFIRM_TITLE_LIMIT)),
        text=PlainTextObject(text=text),
        confirm=PlainTextObject(text=escape_clip(words.confirm, CONFIRM_BUTTON_LIMIT)),
        deny=PlainTextObject(text=escape_clip(words.deny, CONFIRM_BUTTON_LIMIT)),
        style="danger" if BUTTON_STYLES.get(action) == "danger" else "primary",
    )


def _offered(finding: Finding) -> list[Action]:
    """The finding's actions we know, once each, in decisions' order (Keep first, Not mine last);
    an unknown action gets no button, since nothing could say what it does."""
    offered = {str(action) for action in finding.actions}
    return [action for action in Action if action.value in offered]


def resource_buttons(
    nudge_id: str,
    finding: Finding,
    *,
    dry_run: bool,
    actions: Actions | None = None,
    kinds: Kinds,
) -> ActionsBlock | None:
    """The buttons a finding offers, a confirm dialog on every destructive one."""
    policy = actions or Actions()
    elements = []
    for action in _offered(finding)[:ACTIONS_ELEMENTS_LIMIT]:
        confirm = (
            _confirm(action, finding.resource, dry_run=dry_run, actions=policy, kinds=kinds)
            if is_destructive(action)
            else None
        )
        elements.append(
            ButtonElement(
                text=BUTTON_LABELS[action][:BUTTON_TEXT_LIMIT],
                action_id=action_id(action),
                value=button_value(nudge_id, action),  # ≤ 64 + 10 characters: see row_block_id
                style=BUTTON_STYLES.get(action),
                confirm=confirm,
            )
        )
    if not elements:
        return None
    return ActionsBlock(block_id=actions_block_id(nudge_id), elements=elements)


def resource_blocks(
    nudge_id: str,
    finding: Finding,
    *,
    now: datetime,
    dry_run: bool,
    buttons: bool = True,
    auto_stop_at: datetime | None = None,
    status: str | None = None,
    actions: Actions | None = None,
    kinds: Kinds,
) -> list[Block]:
    """One row: a section `res:<nudge id>` and, when it offers any, its buttons."""
    text = resource_text(finding, now=now, auto_stop_at=auto_stop_at, status=status, kinds=kinds)
    blocks: list[Block] = [
        SectionBlock(block_id=row_block_id(nudge_id), text=MarkdownTextObject(text=text))
    ]
    # Buttons only where they obey the person who sees them: a claimed owner gets none.
    row_buttons = (
        resource_buttons(nudge_id, finding, dry_run=dry_run, actions=actions, kinds=kinds)
        if buttons and finding.owner.verified
        else None
    )
    if row_buttons is not None:
        blocks.append(row_buttons)
    return blocks


# ---------------------------------------------------------------------------------------------
# The digest DM


_ROW_BLOCKS = 3  # divider, section, actions
SKIPPED_LIMIT = 3  # lines about what the round could not ask (a context block holds 10)


def digest_blocks(
    owner_label: str,
    findings: Sequence[tuple[str, Finding]],
    *,
    now: datetime,
    dry_run: bool,
    auto_stop_notice: Mapping[str, datetime] | None = None,
    max_items: int,
    actions: Actions | None = None,
    skipped: Sequence[str] = (),
    kinds: Kinds,
) -> list[Block]:
    """One owner's digest for one round: the most expensive first, a line for the rest.

    `findings` are (nudge id, finding) pairs; `auto_stop_notice` maps a nudge id to when that
    resource will be stopped if nobody answers (the optional auto-stop, announced ahead of time);
    `skipped` says what the round could not ask (a failing AWS service), one line each.
    """
    items = sort_by_cost(findings)
    auto_stop = dict(auto_stop_notice or {})
    all_findings = [finding for _, finding in items]
    blocks: list[Block] = [
        HeaderBlock(text=_digest_header(all_findings)),
        SectionBlock(text=MarkdownTextObject(text=_digest_intro(owner_label, all_findings))),
    ]
    notes = _digest_notes(items, auto_stop, dry_run=dry_run)
    notes += [f":warning: {escape_clip(note, NOTE_LIMIT)}" for note in skipped[:SKIPPED_LIMIT]]
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_fit(n)) for n in notes]))
    room = (MESSAGE_BLOCKS_LIMIT - len(blocks) - 2) // _ROW_BLOCKS  # 2: the rest line, footer
    count = max(0, min(max_items, room))
    shown, rest = items[:count], items[count:]
    for nudge_id, finding in shown:
        blocks.append(DividerBlock())
        blocks.extend(
            resource_blocks(
                nudge_id,
                finding,
                now=now,
                dry_run=dry_run,
                auto_stop_at=auto_stop.get(nudge_id),
                actions=actions,
                kinds=kinds,
            )
        )
    if rest:
        blocks.append(_rest_section(rest, auto_stop))
    blocks.append(_footer(now))
    return blocks[:MESSAGE_BLOCKS_LIMIT]


def _digest_header(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No idle AWS resources"
    total, unpriced = _known_costs(findings)
    count = _plural(len(findings), "idle AWS resource")
    if unpriced == len(findings):
        return f"{count}, no price found"[:HEADER_TEXT_LIMIT]
    return f"{count}: {format_cost(Cost(total))}"[:HEADER_TEXT_LIMIT]


def _digest_intro(owner_label: str, findings: Sequence[Finding]) -> str:
    who = _mention_or_name(owner_label)
    if not findings:
        return f"Hi {who}: nothing of yours looks idle this round."
    one = len(findings) == 1
    _, unpriced = _known_costs(findings)
    if unpriced == len(findings):
        cost = f"I could not find a price for {'it' if one else 'any of them'}."
    else:
        cost = f"{'It costs' if one else 'Together they cost'} about *{_total_words(findings)}*."
    return _fit(
        f"Hi {who}: {_plural(len(findings), 'AWS resource')} of yours "
        f"{'looks' if one else 'look'} idle. {cost} "
        "Keep what you still need; stop or remove the rest."
    )


def _digest_notes(
    items: Sequence[tuple[str, Finding]], auto_stop: Mapping[str, datetime], *, dry_run: bool
) -> list[str]:
    notes = []
    if dry_run:
        notes.append(
            ":test_tube: Dry run: the buttons say what they would do, and nothing in AWS changes."
        )
    pending = [auto_stop[nudge_id] for nudge_id, _ in items if nudge_id in auto_stop]
    if pending:
        first = min(pending, key=_aware)
        notes.append(
            f":alarm_clock: If nobody answers, {_plural(len(pending), 'resource')} will be "
            f"stopped (never terminated), the first on {_slack_time(first, with_time=True)}."
        )
    return notes


def _rest_section(rest: Sequence[tuple[str, Finding]], auto_stop: Mapping[str, datetime]) -> Block:
    findings = [finding for _, finding in rest]
    count = len(findings)
    cost = _total_words(findings)
    costing = " (no price found)" if cost == "no price found" else f" costing {cost}"
    text = f"…and {count} more idle resource{'' if count == 1 else 's'}{costing}: see App Home."
    stopping = [auto_stop[nudge_id] for nudge_id, _ in rest if nudge_id in auto_stop]
    if stopping:
        first = min(stopping, key=_aware)
        text += (
            f" {_plural(len(stopping), 'resource')} of these will be stopped on "
            f"{_slack_time(first, with_time=True)} or later if nobody answers."
        )
    return SectionBlock(text=MarkdownTextObject(text=_fit(text)))


def _footer(now: datetime) -> ContextBlock:
    text = (
        f"Found by the idle-resource patrol on {_slack_time(now, with_time=True)}. "
        "Kept resources are skipped until their keep ends."
    )
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def digest_text(owner_label: str, findings: Sequence[FindingItem]) -> str:
    """The notification text: how many, what they cost, the first few names (escaped)."""
    chosen = [_finding(item) for item in findings]
    chosen.sort(key=_cost_key)
    who = _mention_or_name(owner_label).strip("*")
    if not chosen:
        return f"{who}: nothing of yours looks idle."
    names = ", ".join(escape_clip(f.resource.label, 60) for f in chosen[:LIST_NAMES_IN_TEXT])
    more = len(chosen) - LIST_NAMES_IN_TEXT
    if more > 0:
        names += f" and {more} more"
    count = _plural(len(chosen), "idle AWS resource")
    return f"{who}: {count} costing {_total_words(chosen)}: {names}"


# ---------------------------------------------------------------------------------------------
# The fallback channel: escalations and unknown owners


def brief_line(finding: Finding, now: datetime, kinds: Kinds) -> str:
    """One line per resource in a list: what, where, cost, since when, the first reason."""
    resource = finding.resource
    parts = [
        f"• *{escape_clip(type_words(resource.type, kinds), 60)}* {code(resource.label)}",
        _where_line(resource),
        format_cost(finding.cost),
    ]
    since = finding.verdict.idle_since or resource.state_since
    if since is not None:
        parts.append(f"idle since {_slack_time(since, with_time=False)}")
    if finding.verdict.reasons:
        parts.append(escape_clip(finding.verdict.reasons[0], REASON_LIMIT))
    return " · ".join(parts)


def _list_blocks(lines: Sequence[str], room: int) -> list[Block]:
    """Lines packed into sections of at most 3,000 characters, in at most `room` blocks, then a
    line saying how many were left out."""
    sections: list[list[str]] = []
    size = 0
    for line in (_fit(line) for line in lines[:LIST_LIMIT]):
        if sections and size + 1 + len(line) <= SECTION_TEXT_LIMIT:
            sections[-1].append(line)
            size += 1 + len(line)
        else:
            sections.append([line])
            size = len(line)
    sections = sections[: room - 1]
    listed = sum(len(section) for section in sections)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(section))) for section in sections
    ]
    if len(lines) > listed:
        more = f"…and {len(lines) - listed} more not listed here."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=more)))
    return blocks


def escalation_blocks(
    owner_label_or_mention: str,
    findings: Sequence[FindingItem],
    times_nudged: int,
    now: datetime,
    *,
    kinds: Kinds,
) -> list[Block]:
    """For the fallback channel: an owner has not answered `times_nudged` nudges."""
    chosen = sorted((_finding(item) for item in findings), key=_cost_key)
    who = _mention_or_name(owner_label_or_mention)
    intro = (
        f":rotating_light: {who} has not answered {_plural(times_nudged, 'nudge')} about "
        f"{_plural(len(chosen), 'idle AWS resource')} costing {_total_words(chosen)}."
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_fit(intro)))]
    lines = [brief_line(finding, now, kinds) for finding in chosen]
    blocks.extend(_list_blocks(lines, MESSAGE_BLOCKS_LIMIT - 2))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="They can still answer in their direct message or in the bot's App "
                    f"Home; if it is not theirs, *Not mine* moves it on. "
                    f"{_slack_time(now, with_time=True)}"
                )
            ]
        )
    )
    return blocks


def unknown_owner_blocks(
    findings_with_reasons: Sequence[tuple[Finding, str | None]], now: datetime, *, kinds: Kinds
) -> list[Block]:
    """For the fallback channel: idle resources whose owner could not be found, and why."""
    chosen = sorted(findings_with_reasons, key=lambda item: _cost_key(item[0]))
    findings = [finding for finding, _ in chosen]
    intro = (
        f":mag: {_plural(len(findings), 'idle AWS resource')} costing {_total_words(findings)} "
        "could not be traced to an owner."
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_fit(intro)))]
    lines = [
        f"{brief_line(finding, now, kinds)}\n    _No owner:_ "
        + escape_clip(
            reason or finding.owner.reason or "no owner tag and no creation event found",
            NOTE_LIMIT,
        )
        for finding, reason in chosen
    ]
    blocks.extend(_list_blocks(lines, MESSAGE_BLOCKS_LIMIT - 2))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Add an owner tag to claim one, or `whocreated:ignore` to leave it be. "
                    f"{_slack_time(now, with_time=True)}"
                )
            ]
        )
    )
    return blocks


# ---------------------------------------------------------------------------------------------
# After a button: one row becomes a result line


def resource_outcome_section(
    nudge_id: str,
    outcome: str,
    *,
    by_user: str | None,
    now: datetime,
    resource: Resource | None = None,
    name_line: str | None = None,
    kinds: Kinds,
) -> SectionBlock:
    """The row after a button: which resource, then `Stopped by <@U1> on Jun 3, 2024 at 14:02`.

    It keeps the row's block id, so a later outcome replaces it again. `name_line` is mrkdwn
    already escaped (the first line of the row it replaces) for when `resource` is not given.
    """
    parts = [escape_clip(outcome, NOTE_LIMIT)]
    if by_user:
        parts.append(f"by {_mention_or_name(by_user)}")
    parts.append(f"on {_slack_time(now, with_time=True)}")
    first = _name_line(resource, kinds) if resource is not None else name_line
    text = "\n".join(line for line in (first, " ".join(parts)) if line)
    return SectionBlock(block_id=row_block_id(nudge_id), text=MarkdownTextObject(text=_fit(text)))


def _name_line(resource: Resource, kinds: Kinds) -> str:
    return f"*{escape_clip(type_words(resource.type, kinds), 60)}* {code(resource.label)}"


def outcome_blocks(
    blocks: Sequence[Block | Mapping[str, Any]],
    nudge_id: str,
    outcome: str,
    *,
    by_user: str | None,
    now: datetime,
    resource: Resource | None = None,
    kinds: Kinds,
) -> list[Block]:
    """The message's blocks with one resource's row (section and buttons) replaced by its outcome.

    `blocks` may be the dicts Slack sends back in a block_actions payload. Without `resource`,
    the row's own first line names it. A row not found (an older message layout) gets the outcome
    appended, so the click is never silently lost.
    """
    head, buttons = row_block_id(nudge_id), actions_block_id(nudge_id)
    parsed = [raw if isinstance(raw, Block) else Block.parse(dict(raw)) for raw in blocks]
    kept = [block for block in parsed if block is not None and block.block_id != buttons]
    old = next((block for block in kept if block.block_id == head), None)
    line = resource_outcome_section(
        nudge_id,
        outcome,
        by_user=by_user,
        now=now,
        resource=resource,
        name_line=_first_line(old),
        kinds=kinds,
    )
    if old is None:
        return [*kept[: MESSAGE_BLOCKS_LIMIT - 1], line]
    return [line if block is old else block for block in kept][:MESSAGE_BLOCKS_LIMIT]


def _first_line(block: Block | None) -> str | None:
    """`*EC2 instance* `web-1 (i-0abc)`` from a row, without its size and state (now stale)."""
    text = getattr(block, "text", None)
    body = getattr(text, "text", None)
    if not isinstance(body, str) or not body:
        return None
    first = body.split("\n", 1)[0]
    end = first.find("` · ")  # code() turns backticks in AWS text into ˋ: this ends the label
    return first[: end + 1] if end >= 0 else first


# ---------------------------------------------------------------------------------------------
# App Home

# Store statuses (store.NUDGE_STATUSES) in the reader's words; a status other than "open" means a
# decision was taken (or the resource is gone): the row shows it, without buttons.
_OPEN = "open"
_STATUS_WORDS = {
    _OPEN: "waiting for your answer",
    STATUS_AFTER[Action.NOT_MINE]: "passed on (not mine)",
    "gone": "already gone",
}
_HOME_FIXED = 4  # header, intro, a notes context, the rest line


def _status_words(status: str) -> str:
    return _STATUS_WORDS.get(status, status)


def _actionable(finding: Finding, status: str) -> bool:
    return finding.verdict.idle and status == _OPEN


def _home_key(item: tuple[str, Finding, str]) -> tuple[bool, bool, tuple[bool, float, str]]:
    """Idle and waiting for an answer first, then decided ones, then the busy; by cost within."""
    _, finding, status = item
    return (not finding.verdict.idle, status != _OPEN, _cost_key(finding))


def home_view(
    items: Sequence[tuple[str, Finding, str]],
    *,
    now: datetime,
    dry_run: bool,
    actions: Actions | None = None,
    kinds: Kinds,
) -> View:
    """App Home: the user's resources from the last round, idle ones first, then by cost.

    `items` are (nudge id, finding, status), status as in store.NUDGE_STATUSES. Idle and still
    open come first, with their buttons; decided ones (kept, stopped, …, gone) and resources that
    are not idle follow, showing their status, without buttons.
    """
    ordered = sorted(_first_per_id(items), key=_home_key)
    blocks: list[Block] = [HeaderBlock(text="Your idle AWS resources")]
    if not ordered:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="Nothing of yours was found idle in the last patrol round. :tada:\n"
                    "When something you created sits idle, it shows up here with its cost and "
                    "buttons to keep, stop or remove it."
                )
            )
        )
        blocks.append(_home_footer(now, dry_run))
        return View(type="home", callback_id="home", blocks=blocks)
    idle = [f for _, f, status in ordered if _actionable(f, status)]
    intro = (
        f"{_plural(len(idle), 'resource')} of yours "
        f"{'looks' if len(idle) == 1 else 'look'} idle, costing {_total_words(idle)}."
        if idle
        else "Nothing of yours is waiting for an answer."
    )
    blocks.append(SectionBlock(text=MarkdownTextObject(text=intro)))
    blocks.append(_home_footer(now, dry_run))
    room = (HOME_BLOCKS_LIMIT - _HOME_FIXED) // _ROW_BLOCKS
    for nudge_id, finding, status in ordered[:room]:
        blocks.append(DividerBlock())
        blocks.extend(
            resource_blocks(
                nudge_id,
                finding,
                now=now,
                dry_run=dry_run,
                buttons=_actionable(finding, status),
                status=_status_words(status),
                actions=actions,
                kinds=kinds,
            )
        )
    rest = ordered[room:]
    if rest:
        idle_rest = [f for _, f, status in rest if _actionable(f, status)]
        text = f"…and {len(rest)} more not shown here"
        if idle_rest:
            text += f", {len(idle_rest)} of them idle, costing {_total_words(idle_rest)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text + ".")))
    return View(type="home", callback_id="home", blocks=blocks[:HOME_BLOCKS_LIMIT])


def _home_footer(now: datetime, dry_run: bool) -> ContextBlock:
    text = f"Updated {_slack_time(now, with_time=True)}."
    if dry_run:
        text += " Dry run: the buttons say what they would do, and nothing in AWS changes."
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


# ---------------------------------------------------------------------------------------------
# The weekly summary


@dataclass(frozen=True)
class WeeklyStats:
    """What the week's decisions did, counted by the caller from the audit rows."""

    done: Mapping[str, int] = field(default_factory=dict)  # action → carried out
    dry_run: Mapping[str, int] = field(default_factory=dict)  # action → would have been done
    monthly_usd_removed: float = 0.0  # known monthly cost of what was stopped or removed
    unpriced_removed: int = 0  # stopped or removed with no price found
    dry_run_monthly_usd: float = 0.0  # what the dry-run decisions would have removed
    still_idle: int = 0  # idle resources still waiting for an answer
    still_idle_usd: float | None = None


_REMOVALS = tuple(action for action in Action if is_destructive(action))
_SUMMARY_ORDER = (*_REMOVALS, Action.KEEP, Action.NOT_MINE)


def weekly_summary_blocks(stats: WeeklyStats, *, since: datetime, now: datetime) -> list[Block]:
    """For the summary channel: what was stopped, removed or kept, and the monthly cost removed."""
    period = f"{_slack_time(since, with_time=False)} to {_slack_time(now, with_time=False)}"
    blocks: list[Block] = [
        HeaderBlock(text="Idle AWS resources: the week"),
        ContextBlock(elements=[MarkdownTextObject(text=period)]),
    ]
    done = _counts_words(stats.done)
    would = _counts_words(stats.dry_run)
    lines = []
    if done:
        lines.append(f"*Done:* {done}.")
    if any(stats.done.get(action.value) for action in _REMOVALS) or stats.unpriced_removed:
        lines.append(f"*Monthly cost removed:* {_removed_words(stats)}.")
    if would:
        lines.append(f"*Dry run, would have been:* {would}.")
        if stats.dry_run_monthly_usd:
            saved = format_cost(Cost(stats.dry_run_monthly_usd))
            lines.append(f"*Would have removed:* {saved} (actions are in dry-run mode).")
    if not done and not would:
        lines.append("Nothing was stopped, removed or kept this week.")
    if stats.still_idle:
        cost = (
            f", costing {format_cost(Cost(stats.still_idle_usd))}"
            if stats.still_idle_usd is not None
            else ""
        )
        lines.append(
            f"*Still waiting for an answer:* {_plural(stats.still_idle, 'resource')}{cost}."
        )
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_fit("\n".join(lines)))))
    return blocks


def _counts_words(counts: Mapping[str, int]) -> str:
    words = [
        f"{counts[action]} {PAST_TENSE[action]}"
        for action in _SUMMARY_ORDER
        if counts.get(action.value)
    ]
    return ", ".join(words)


def _removed_words(stats: WeeklyStats) -> str:
    if stats.unpriced_removed and not stats.monthly_usd_removed:
        return f"unknown ({stats.unpriced_removed} without a price)"
    text = format_cost(Cost(stats.monthly_usd_removed))
    if stats.unpriced_removed:
        text += f" plus {stats.unpriced_removed} without a price"
    return text
