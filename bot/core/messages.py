"""Block Kit messages: the lookup answer, usage, errors and the raw-event modal.

Pure: values in, `slack_sdk.models.blocks` objects out (validated by `to_dict()`); no clients, no
clock (callers pass `now`). Every string that came from AWS goes through `escape_mrkdwn` before it
is shown, and every text is clipped to Block Kit's limits, so a tag value `<!channel>` pings nobody
and a 10 KB user agent cannot make Slack reject the whole message.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.answers import LookupAnswer, ParentAnswer, Reason, Source, explain
from bot.core.events import Actor, CreationFact

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
FIELDS_LIMIT = 10
CONTEXT_ELEMENTS_LIMIT = 10
MESSAGE_BLOCKS_LIMIT = 50
MODAL_BLOCKS_LIMIT = 100
MODAL_TITLE_LIMIT = 24
BUTTON_VALUE_LIMIT = 2000

# Our own budgets, well inside the limits, so one long value never crowds out the rest.
NAME_LIMIT = 200
ARN_LIMIT = 400
USER_AGENT_LIMIT = 300
NOTE_LIMIT = 500
LISTED_IDS_LIMIT = 10
TAGS_LIMIT = 10
RAW_CHUNK_LIMIT = 2900  # escaped JSON per section, inside ``` fences
RAW_CHUNKS_LIMIT = 40  # ~115 KB of JSON in a modal: far more than any creation record needs

SHOW_RAW_EVENT = "show_raw_event"
OPEN_CLOUDTRAIL = "open_cloudtrail_console"
USAGE = "/whocreated <resource-id> [share] [region=R] [account=ID]"
ARCHIVE_SEARCHING = (
    "CloudTrail's 90 days of history do not hold its creation: I'm searching the trail archive "
    "(this can take a minute), and will answer here."
)

_MENTIONABLE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_mrkdwn(text: object) -> str:
    """Escape `&`, `<` and `>` so Slack shows the text as typed: no mentions, links or pings."""
    return "".join(_ESCAPES.get(ch, ch) for ch in str(text))


def escape_clip(text: object, limit: int) -> str:
    """Escape, then cut to at most `limit` characters (ending in …) without splitting an entity."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    used = 0
    for ch in str(text):
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > limit - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


def code(text: object, limit: int = NAME_LIMIT) -> str:
    """AWS text as inline code; backticks inside would end the span, so they are replaced."""
    return f"`{escape_clip(str(text).replace('`', 'ˋ'), limit)}`"


def describe_age(then: datetime, now: datetime) -> str:
    """'just now', '5 minutes ago', '2 hours ago', '3 days ago', '4 months ago', '2 years ago'."""
    seconds = (_aware(now) - _aware(then)).total_seconds()
    if seconds < 60:
        return "just now"  # also for clocks slightly behind the event
    for size, unit in ((365 * 86400, "year"), (30 * 86400, "month"), (86400, "day")):
        # Months from 60 days and years from 2 years on: "45 days ago" reads better than "1 month".
        if seconds >= 2 * size or (unit == "day" and seconds >= size):
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    if seconds >= 3600:
        count = int(seconds // 3600)
        return f"{count} hour{'s' if count != 1 else ''} ago"
    count = int(seconds // 60)
    return f"{count} minute{'s' if count != 1 else ''} ago"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def slack_date(moment: datetime) -> str:
    """A date Slack shows in the reader's own time zone, with a UTC fallback."""
    moment = _aware(moment).astimezone(UTC)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def console_url(region: str | None, event_id: str | None) -> str | None:
    """The event in the CloudTrail console, in the console domain of the region's partition."""
    if not region or not event_id or not _REGION.match(region):
        return None
    if region.startswith("cn-"):
        domain = "console.amazonaws.cn"
    elif region.startswith("us-gov-"):
        domain = "console.amazonaws-us-gov.com"
    else:
        domain = "console.aws.amazon.com"
    event = quote(event_id, safe="-")
    return f"https://{region}.{domain}/cloudtrailv2/home?region={region}#/events/{event}"


# ---------------------------------------------------------------------------------------------
# The lookup answer


def lookup_answer(
    answer: LookupAnswer,
    *,
    slack_user_id: str | None,
    now: datetime,
    parent_slack_user_id: str | None = None,
    show_source_ip: bool = False,
) -> list[Block]:
    """The whole answer to `/whocreated`: found (who, when, how, where…) or why not, in words.
    `parent_slack_user_id` is the Slack user of `answer.person_behind()`'s creator. The event's
    source IP is shown only with `show_source_ip`: for whoever may see the unredacted raw event,
    in an answer nobody else sees."""
    blocks = (
        _found_blocks(answer, answer.fact, slack_user_id, now, parent_slack_user_id, show_source_ip)
        if answer.fact is not None
        else _not_found_blocks(answer, now)
    )
    blocks.extend(_owner_tags_blocks(answer.owner_tags))
    blocks.extend(_notes_blocks(answer.notes))
    blocks.append(_source_block(answer))
    return blocks[:MESSAGE_BLOCKS_LIMIT]


def fallback_text(answer: LookupAnswer) -> str:
    """The plain `text` Slack shows in notifications and to screen readers (escaped, no mention)."""
    resource = escape_clip(answer.ref.given.strip(), NAME_LIMIT)
    fact = answer.fact
    if fact is not None:
        who = escape_clip(actor_name(fact.actor), NAME_LIMIT)
        when = _aware(fact.event_time).strftime("%Y-%m-%d")
        event = escape_clip(fact.event_name, NAME_LIMIT)
        text = f"{resource} was created by {who} on {when} ({event})"
        behind = answer.person_behind()
        if behind is not None and behind.answer.fact is not None:
            person = escape_clip(actor_name(behind.answer.fact.actor), NAME_LIMIT)
            text += f", for {escape_clip(behind.words, NAME_LIMIT)}, created by {person}"
        return text
    why = escape_clip(explain(answer) or "no creation event found", NOTE_LIMIT)
    return f"Couldn't find who created {resource}: {why}"


def actor_name(actor: Actor) -> str:
    return actor.name or actor.arn or actor.invoked_by or "an unknown identity"


def _found_blocks(
    answer: LookupAnswer,
    fact: CreationFact,
    slack_user_id: str | None,
    now: datetime,
    parent_slack_user_id: str | None = None,
    show_source_ip: bool = False,
) -> list[Block]:
    actor = fact.actor
    who = _who(actor, slack_user_id)
    age = describe_age(fact.event_time, now)
    headline = f"{code(answer.ref.given.strip())} was created by {who} {age}."
    behind = answer.person_behind()
    if behind is not None and behind.answer.fact is not None:
        parent_fact = behind.answer.fact
        headline += (
            f" It was made for {escape_clip(behind.kind_words, NAME_LIMIT)} "
            f"{code(behind.name)}, which {_who(parent_fact.actor, parent_slack_user_id)} created "
            f"{describe_age(parent_fact.event_time, now)}."
        )
    fields = [
        _field("Who", _identity_text(actor, who)),
        _field("When", f"{slack_date(fact.event_time)} ({age})"),
        _field("How", escape_clip(fact.tool, NAME_LIMIT) if fact.tool else "unknown tool"),
        _field("Event", f"{code(fact.event_name)} ({escape_clip(fact.event_source, NAME_LIMIT)})"),
        _field("Where", _where_text(fact.account or answer.account, fact.region)),
    ]
    if fact.source_ip and show_source_ip:
        fields.append(_field("Source IP", code(fact.source_ip)))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_fit(headline))),
        SectionBlock(fields=fields[:FIELDS_LIMIT]),
    ]
    parents = answer.parents()
    if parents:
        lines = [_parent_line(parent, now) for parent in parents]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_fit("\n".join(lines)))))
    if fact.user_agent:
        blocks.append(_context([f"User agent: {code(fact.user_agent, USER_AGENT_LIMIT)}"]))
    others = _resources_text(fact)
    if others:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_fit(others))))
    actions = _actions(answer, fact)
    if actions is not None:
        blocks.append(actions)
    return blocks


def _who(actor: Actor, slack_user_id: str | None) -> str:
    name = escape_clip(actor_name(actor), NAME_LIMIT)
    if slack_user_id and _MENTIONABLE.match(slack_user_id):
        return f"<@{slack_user_id}> ({name})"
    return f"*{name}*"


def _parent_line(parent: ParentAnswer, now: datetime) -> str:
    """One step up: the parent, and who created it when, with what; or why that is unknown."""
    kind = f"*For* {escape_clip(parent.kind_words, NAME_LIMIT)} {code(parent.name)}"
    fact = parent.answer.fact
    notes = [f"_{escape_clip(note, NOTE_LIMIT)}_" for note in parent.notes]
    if fact is None:
        why = explain(parent.answer) or "no creation event found"
        unknown = f"{kind}: who created it is unknown ({escape_clip(why, NOTE_LIMIT)})"
        return " · ".join([unknown, *notes])
    how = [escape_clip(fact.tool, NAME_LIMIT)] if fact.tool else []
    return " · ".join(
        [
            f"{kind}: created by *{escape_clip(actor_name(fact.actor), NAME_LIMIT)}* "
            f"{describe_age(fact.event_time, now)}",
            *how,
            code(fact.event_name),
            *notes,
        ]
    )


def _field(title: str, body: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=_fit(f"*{title}*\n{body}", FIELD_TEXT_LIMIT))


def _identity_text(actor: Actor, who: str) -> str:
    lines = [who, escape_clip(actor.identity_type or "unknown identity type", NAME_LIMIT)]
    if actor.arn:
        lines.append(code(actor.arn, ARN_LIMIT))
    if actor.role:
        lines.append(f"role {code(actor.role)}")
    if actor.invoked_by:
        lines.append(f"invoked by {code(actor.invoked_by)}")
    return "\n".join(lines)


def _where_text(account: str | None, region: str | None) -> str:
    account_text = f"account {code(account)}" if account else "account unknown"
    region_text = code(region) if region else "region unknown"
    return f"{account_text}\n{region_text}"


def _resources_text(fact: CreationFact) -> str:
    created = [item for item in fact.created if item != fact.resource_id]
    lines = []
    if created:
        lines.append(f"*Also created by this event:* {_id_list(created)}")
    if fact.related:
        lines.append(f"*Used or named by this event:* {_id_list(fact.related)}")
    return "\n".join(lines)


def _id_list(ids: Sequence[str]) -> str:
    shown = ", ".join(code(item) for item in ids[:LISTED_IDS_LIMIT])
    extra = len(ids) - LISTED_IDS_LIMIT
    return f"{shown} and {extra} more" if extra > 0 else shown


def _actions(answer: LookupAnswer, fact: CreationFact) -> ActionsBlock | None:
    elements: list[ButtonElement] = []
    value = raw_event_button_value(answer.ref.given, fact)
    if value is not None and fact.record:
        elements.append(ButtonElement(text="Show raw event", action_id=SHOW_RAW_EVENT, value=value))
    url = console_url(fact.region, fact.event_id)
    if url:
        elements.append(
            ButtonElement(text="Open in CloudTrail", action_id=OPEN_CLOUDTRAIL, url=url)
        )
    return ActionsBlock(elements=elements) if elements else None


def raw_event_button_value(given: str, fact: CreationFact) -> str | None:
    """What the button carries: the reference, event id and region, never the record itself.

    The listener finds the record again from the creators cache, or by looking the reference up
    again (cached ids cost no AWS call). None when it would not fit Slack's 2,000 characters.
    """
    value = json.dumps(
        {"ref": given.strip(), "event": fact.event_id, "region": fact.region},
        separators=(",", ":"),
    )
    return value if len(value) <= BUTTON_VALUE_LIMIT else None


def parse_raw_event_button_value(value: str) -> tuple[str, str | None, str | None]:
    """(reference, event id, region) from a button value; ValueError when it is not ours."""
    if not isinstance(value, str):
        raise ValueError("not a show-raw-event button value")
    data = json.loads(value)
    if not isinstance(data, dict) or not isinstance(data.get("ref"), str):
        raise ValueError("not a show-raw-event button value")
    event, region = data.get("event"), data.get("region")
    return (
        data["ref"],
        event if isinstance(event, str) else None,
        region if isinstance(region, str) else None,
    )


# ---------------------------------------------------------------------------------------------
# Not found, in plain words


def reason_text(answer: LookupAnswer, now: datetime) -> str:
    """Why the creation was not found and what to do next, in mrkdwn (AWS strings escaped)."""
    reason = answer.reason
    resource = code(answer.ref.given.strip())
    regions = ", ".join(code(region) for region in answer.regions_searched[:20]) or "none"
    if reason is Reason.NOT_IN_WINDOW:
        if answer.source is Source.TRAIL_LOGS:
            return "It was created before the oldest event in the logs given: add older logs."
        return (
            "It was created more than 90 days ago, before CloudTrail's event history begins. "
            "If your organisation keeps a trail in S3, look further from a terminal with "
            f"`whocreated lookup {escape_clip(answer.ref.given.strip(), NAME_LIMIT)} "
            "--trail-logs PATH`."
        )
    if reason is Reason.TOO_NEW:
        hint = ""
        if isinstance(answer.created_at_hint, datetime):
            hint = f" AWS says it was created {describe_age(answer.created_at_hint, now)}."
        return (
            "It is newer than CloudTrail's event history: CloudTrail delivers events in about "
            f"5 to 15 minutes.{hint} Try again in a few minutes."
        )
    if reason is Reason.NOT_IN_REGIONS:
        return (
            f"No event created {resource} in the regions searched: {regions}. If it lives in "
            "another region, add it: `/whocreated ID region=eu-west-1`."
        )
    if reason is Reason.ONLY_MENTIONED:
        return (
            f"CloudTrail mentions {resource}, but no event in its history created it: it may be "
            "older than 90 days, or made by an AWS service on its own."
            + _first_seen_text(answer.first_seen)
        )
    if reason is Reason.DENIED:
        return (
            "AWS denied the bot's request, so it could not search. The bot's role needs "
            "`cloudtrail:LookupEvents` (and `ec2:DescribeRegions` to search every enabled "
            f"region). Regions tried: {regions}. Run `whocreated check` to see what is missing."
        )
    return f"No event that created {resource} was found. Regions searched: {regions}."


def _first_seen_text(first_seen: Mapping[str, Any] | None) -> str:
    if not first_seen:
        return ""
    name = first_seen.get("name") or "an event"
    parts = [f"\n*First event seen:* {code(name)}"]
    if first_seen.get("source"):
        parts.append(f"({escape_clip(first_seen['source'], NAME_LIMIT)})")
    actor = first_seen.get("actor")
    if isinstance(actor, Actor):
        actor = actor_name(actor)
    elif isinstance(actor, Mapping):
        actor = actor.get("name") or actor.get("arn")
    if actor:
        parts.append(f"by {escape_clip(actor, NAME_LIMIT)}")
    moment = first_seen.get("time")
    if isinstance(moment, str):
        with contextlib.suppress(ValueError):  # else shown as given, escaped
            moment = datetime.fromisoformat(moment)  # events.summary: "2023-07-10T11:55:21Z"
    if isinstance(moment, datetime):
        parts.append(f"on {slack_date(moment)}")
    elif moment:
        parts.append(f"at {escape_clip(moment, 40)}")
    if first_seen.get("region"):
        parts.append(f"in {code(first_seen['region'])}")
    event_id = first_seen.get("event_id") or first_seen.get("id")
    if event_id:
        parts.append(f"(event {code(event_id)})")
    return " ".join(parts) + "."


def _not_found_blocks(answer: LookupAnswer, now: datetime) -> list[Block]:
    headline = f"I couldn't find who created {code(answer.ref.given.strip())}."
    return [
        SectionBlock(text=MarkdownTextObject(text=_fit(headline))),
        SectionBlock(text=MarkdownTextObject(text=_fit(reason_text(answer, now)))),
    ]


# ---------------------------------------------------------------------------------------------
# Shared parts


def _owner_tags_blocks(tags: Mapping[str, str]) -> list[Block]:
    if not tags:
        return []
    items = list(tags.items())
    shown = ", ".join(
        f"tagged {code(key)} = {escape_clip(value, NAME_LIMIT)}"
        for key, value in items[:TAGS_LIMIT]
    )
    if len(items) > TAGS_LIMIT:
        shown += f" and {len(items) - TAGS_LIMIT} more"
    # Anyone allowed to tag the resource could have written them (DESIGN.md §4, Trust).
    return [
        SectionBlock(text=MarkdownTextObject(text=_fit(f"*Owner tags (not verified):* {shown}")))
    ]


def _notes_blocks(notes: Iterable[str]) -> list[Block]:
    texts = [f"Note: {escape_clip(note, NOTE_LIMIT)}" for note in notes if note]
    return [_context(texts[:CONTEXT_ELEMENTS_LIMIT])] if texts else []


_SOURCE_WORDS = {
    Source.CACHE: "the bot's cache (found in CloudTrail earlier)",
    Source.CLOUDTRAIL: "CloudTrail event history",
    Source.TRAIL_LOGS: "CloudTrail log files",
    Source.TAG: "the whocreated:created-by tag, written earlier from CloudTrail",
    Source.ARCHIVE: "the trail archive (the organization trail in Athena, beyond CloudTrail's "
    "90 days)",
}


def _source_block(answer: LookupAnswer) -> ContextBlock:
    text = f"Source: {_SOURCE_WORDS.get(answer.source, escape_mrkdwn(answer.source))}"
    if answer.regions_searched and answer.source is not Source.CACHE:
        regions = ", ".join(escape_clip(region, 40) for region in answer.regions_searched[:30])
        more = len(answer.regions_searched) - 30
        text += f" · regions searched: {regions}" + (f" and {more} more" if more > 0 else "")
    if len(answer.accounts_searched) == 1 and not answer.found:
        text += f" · account {escape_clip(answer.accounts_searched[0], 20)}"
    if len(answer.accounts_searched) > 1 and answer.source is not Source.CACHE:
        accounts = ", ".join(escape_clip(account, 20) for account in answer.accounts_searched[:20])
        more = len(answer.accounts_searched) - 20
        text += f" · accounts searched: {accounts}" + (f" and {more} more" if more > 0 else "")
    return _context([text])


def _context(texts: Sequence[str]) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_fit(text)) for text in texts])


def _fit(mrkdwn: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    """Last-resort cut of assembled mrkdwn, backing off so no entity or <…> token is split."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    amp, semi = cut.rfind("&"), cut.rfind(";")
    if amp > semi:
        cut = cut[:amp]
    left, right = cut.rfind("<"), cut.rfind(">")
    if left > right:
        cut = cut[:left]
    return cut + "…"


# ---------------------------------------------------------------------------------------------
# Usage and errors


def usage_blocks() -> list[Block]:
    text = (
        f"*Usage:* `{escape_mrkdwn(USAGE)}`\n"
        "• `/whocreated i-0abc1234567890def`: who launched this EC2 instance\n"
        "• `/whocreated arn:aws:rds:eu-west-1:123456789012:db:orders`: any ARN\n"
        "• `/whocreated my-bucket`: a name (bucket, function, role…)\n"
        "Add `share` to post the answer in the channel, `region=eu-west-1` to search one region, "
        "`account=123456789012` to search one account (an ARN names its own)."
    )
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def usage_text() -> str:
    return f"Usage: {escape_mrkdwn(USAGE)}"


def error_blocks(message: str) -> list[Block]:
    """A plain-language problem; the message is shown as text (escaped), never as markup."""
    return [SectionBlock(text=MarkdownTextObject(text=f":warning: {escape_clip(message, 2900)}"))]


# ---------------------------------------------------------------------------------------------
# The raw event modal


# What the raw event shows only to admins (or to everyone when the policy says so): access key
# ids, where calls came from, and anything named like a secret, whether the name is the field's
# own key (`{"DB_PASSWORD": …}`) or a sibling's value in a name/value pair: ECS environment
# `{"name": "DB_PASSWORD", "value": …}`, CloudFormation `{"parameterKey": …, "parameterValue": …}`,
# tags and filters `{"Key": …, "Value": …}`.
_PRIVATE_KEYS = frozenset({"accesskeyid", "sourceipaddress"})
_SECRET_LIKE = re.compile(r"secret|token|password|passwd|credential|private.?key|signature", re.I)
_NAME_SUFFIXES = ("name", "key")  # name, Key, parameterKey, OptionName, tagKey…
HIDDEN = "(hidden: only admins see this)"


def _private_name(name: str) -> bool:
    return name.lower() in _PRIVATE_KEYS or bool(_SECRET_LIKE.search(name))


def _hidden_values(record: Mapping[Any, Any]) -> frozenset[str]:
    """The (lower-cased) keys of the values whose names, given by sibling fields, look private:
    `value` and `<prefix>value(s)` beside a `<prefix>name` or `<prefix>key` naming a secret."""
    hidden: set[str] = set()
    for key, name in record.items():
        if not isinstance(key, str) or not isinstance(name, str) or not _private_name(name):
            continue
        lowered = key.lower()
        for suffix in _NAME_SUFFIXES:
            if lowered.endswith(suffix):
                prefix = lowered[: -len(suffix)]
                hidden.update((f"{prefix}value", f"{prefix}values", "value", "values"))
    return frozenset(hidden)


def redacted(record: Any) -> Any:
    """The record with access key ids, source IPs and secret-like fields replaced by HIDDEN:
    fields whose own key looks private, and values whose sibling name/key field names a secret."""
    if isinstance(record, Mapping):
        named = _hidden_values(record)
        return {
            key: HIDDEN
            if isinstance(key, str)
            and (_private_name(key) or key.lower() in named)
            and value not in (None, "", {}, [])
            else redacted(value)
            for key, value in record.items()
        }
    if isinstance(record, list):
        return [redacted(item) for item in record]
    return record


def raw_event_view(record: Mapping[str, Any], *, full: bool = False) -> View:
    """A modal with the record as pretty JSON, in code blocks within every Block Kit limit;
    unless `full` (admins, or the policy's slack.unredacted_raw_event), private fields hidden."""
    shown = record if full else redacted(record)
    pretty = json.dumps(shown, indent=2, ensure_ascii=False, default=str)
    chunks = _escaped_chunks(pretty.splitlines(), RAW_CHUNK_LIMIT)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"```\n{c}\n```"))
        for c in chunks[:RAW_CHUNKS_LIMIT]
    ]
    if len(chunks) > RAW_CHUNKS_LIMIT:
        blocks.append(
            _context(
                [
                    f"Trimmed: {len(chunks) - RAW_CHUNKS_LIMIT} more parts not shown. "
                    "`whocreated lookup ID --json` prints the whole event."
                ]
            )
        )
    if not blocks:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="The record is empty.")))
    return View(
        type="modal",
        callback_id="raw_event",
        title="Raw CloudTrail event",
        close="Close",
        blocks=blocks[:MODAL_BLOCKS_LIMIT],
    )


def loading_view(resource: str) -> View:
    """Opened at once while the record is fetched, so the 3-second trigger_id is never missed."""
    return View(
        type="modal",
        callback_id="raw_event",
        title="Raw CloudTrail event",
        close="Close",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=f"Fetching the creation event of {code(resource)}…")
            )
        ],
    )


def message_view(text: str) -> View:
    """A modal holding one plain-language message (escaped)."""
    return View(
        type="modal",
        callback_id="raw_event",
        title="Raw CloudTrail event",
        close="Close",
        blocks=error_blocks(text),
    )


def _escaped_chunks(lines: Iterable[str], limit: int) -> list[str]:
    """Escape lines and pack them into chunks of at most `limit`; long lines are split safely."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for piece in _split_escaped(line, limit):
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                chunks.append("\n".join(current))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        chunks.append("\n".join(current))
    return chunks


def _split_escaped(line: str, limit: int) -> list[str]:
    """One escaped line as pieces of at most `limit`, never cutting an `&amp;`-style entity."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        piece = _ESCAPES.get(ch, ch)
        if size + len(piece) > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece)
    pieces.append("".join(current))
    return pieces
