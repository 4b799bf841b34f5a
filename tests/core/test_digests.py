"""Patrol Block Kit: digests, escalations, outcomes, App Home, the weekly summary, within limits."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core import digests
from bot.core.decisions import Action
from bot.core.policy import Actions
from bot.core.resources import (
    EBS_VOLUME,
    EC2_INSTANCE,
    EKS_CLUSTER,
    ELASTIC_IP,
    RDS_INSTANCE,
    Cost,
    Finding,
    Owner,
    Resource,
    Verdict,
)
from bot.registry.patrol import PATROL, actions_for

NOW = datetime(2024, 6, 12, 9, 0, tzinfo=UTC)
PING = "<!channel>"
DESTRUCTIVE = {"nudge_stop", "nudge_terminate", "nudge_delete", "nudge_release"}


def finding(
    index: int = 1,
    cost: float | None = 10.0,
    *,
    type: str = EC2_INSTANCE,
    state: str | None = "running",
    name: str | None = None,
    reasons: tuple[str, ...] = ("max CPU 0.4 % over 7 days", "12 KB network in 7 days"),
    series: tuple[float, ...] = (0.1, 0.4, 0.2),
    idle: bool = True,
    tags: dict[str, str] | None = None,
    actions: tuple[str, ...] | None = None,
    owner: Owner | None = None,
    note: str | None = None,
) -> Finding:
    resource = Resource(
        type=type,
        id=f"i-{index:017x}" if type == EC2_INSTANCE else f"res-{index}",
        region="eu-west-1",
        account="123456789012",
        name=name if name is not None else f"web-{index}",
        state=state,
        size="t3.large",
        tags=tags or {"Name": f"web-{index}"},
    )
    verdict = Verdict(idle=idle, reasons=reasons, idle_since=NOW - timedelta(days=9), series=series)
    return Finding(
        resource=resource,
        verdict=verdict,
        owner=owner or Owner(aws_name="alice", source="cloudtrail", verified=True),
        cost=Cost(cost, note=note),
        actions=actions_for(type, state) if actions is None else actions,
    )


def pairs(*findings: Finding) -> list[tuple[str, Finding]]:
    return [(f"n{i}", item) for i, item in enumerate(findings)]


def huge_fleet(count: int = 200) -> list[tuple[str, Finding]]:
    """Names, tags, reasons and notes far past every limit, full of Slack markup."""
    huge = (PING + " & <@U0123ABCDE> `tick` *bold* ") * 400
    types = (EC2_INSTANCE, EBS_VOLUME, ELASTIC_IP, RDS_INSTANCE, EKS_CLUSTER)
    fleet = []
    for i in range(count):
        kind = types[i % len(types)]
        state = "available" if kind == RDS_INSTANCE else "running"
        fleet.append(
            (
                f"nudge{i:04d}",
                finding(
                    i,
                    None if i % 7 == 0 else float(i) * 3.5,
                    type=kind,
                    state=state,
                    name=huge,
                    reasons=tuple(huge for _ in range(20)),
                    series=tuple(float(j % 13) for j in range(500)),
                    tags={huge: huge},
                    owner=Owner(aws_name=huge, source=f"tag:{huge}", verified=True),
                    note=huge,
                ),
            )
        )
    return fleet


def walk(node: Any) -> list[dict[str, Any]]:
    """Every dict inside a block tree."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value))
    return found


def check(blocks: Sequence[Block], *, limit: int = 50) -> str:
    """slack_sdk's validators, a parse round trip, and every Block Kit limit; returns the JSON."""
    assert 0 < len(blocks) <= limit
    dicts = [block.to_dict() for block in blocks]
    block_ids = [data["block_id"] for data in dicts if "block_id" in data]
    assert len(block_ids) == len(set(block_ids)), "block ids must be unique in a message"
    for data in dicts:
        parsed = Block.parse(data)
        assert parsed is not None
        assert parsed.to_dict() == data
        assert len(data.get("block_id", "")) <= 255
        if data["type"] == "section":
            assert len(data.get("text", {}).get("text", "")) <= 3000
        if data["type"] == "header":
            assert len(data["text"]["text"]) <= 150
        if data["type"] == "context":
            assert len(data["elements"]) <= 10
        if data["type"] == "actions":
            assert len(data["elements"]) <= 25
            for button in data["elements"]:
                assert len(button["text"]["text"]) <= 75
                assert len(button["value"]) <= 2000
                confirm = button.get("confirm")
                if confirm:
                    assert len(confirm["title"]["text"]) <= 100
                    assert len(confirm["text"]["text"]) <= 300
                    assert len(confirm["confirm"]["text"]) <= 30
    text = json.dumps(dicts, ensure_ascii=False)
    assert PING not in text, "AWS text must never reach Slack unescaped"
    return text


def buttons(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        for element in block.to_dict().get("elements", [])
        if element.get("type") == "button"
    ]


def rows(blocks: Sequence[Block]) -> list[str]:
    """The nudge ids of the resource rows, in order."""
    ids = [block.block_id or "" for block in blocks]
    return [bid[4:] for bid in ids if bid.startswith("res:") and not bid.endswith(":actions")]


def digest(items: Sequence[tuple[str, Finding]], **options: Any) -> list[Block]:
    options.setdefault("now", NOW)
    options.setdefault("dry_run", False)
    options.setdefault("max_items", 15)
    return digests.digest_blocks("U0123ABCDE", items, **options, kinds=PATROL)


# Helpers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (123.45, "$123.45/month"),
        (1234.5, "$1,234.50/month"),
        (0.0, "$0.00/month"),
        (0.001, "under $0.01/month"),
        (None, "no price found"),
        (math.nan, "no price found"),
        (math.inf, "no price found"),
    ],
)
def test_format_cost_never_invents_a_price(amount: float | None, text: str) -> None:
    assert digests.format_cost(Cost(amount)) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (3.4 * 1024, "3.4 KB"),
        (12 * 1024, "12 KB"),
        (1024 * 1024 - 1, "1.0 MB"),
        (5 * 1024**3, "5.0 GB"),
        (-2048, "-2.0 KB"),
        (math.nan, "unknown"),
    ],
)
def test_format_bytes(count: float, text: str) -> None:
    assert digests.format_bytes(count) == text


def test_sparkline_edge_cases() -> None:
    assert digests.sparkline([]) == ""
    assert digests.sparkline([math.nan, math.inf, None]) == ""
    assert digests.sparkline([0.0] * 5) == "▁▁▁▁▁"
    assert digests.sparkline([3.0] * 4) == "████", "steady load is not drawn as idle"
    assert digests.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert digests.sparkline([0.0, math.nan, 7.0]) == "▁█"
    assert digests.sparkline([-1.0, 1.0]) == "▁█"
    assert digests.sparkline([1.0, 2.0], width=0) == ""
    # On a 0-100 % scale an idle instance's CPU stays on the floor, and a busy one climbs.
    assert digests.sparkline([0.4, 0.5, 0.3], ceiling=100.0) == "▁▁▁"
    assert digests.sparkline([0.5, 50.0, 100.0], ceiling=100.0) == "▁▅█"


def test_sparkline_is_short_and_keeps_a_spike() -> None:
    series = [0.1] * 168
    series[100] = 90.0
    line = digests.sparkline(series)
    assert len(line) == digests.SPARK_WIDTH
    assert line.count("█") == 1, "a spike is kept by taking each bucket's maximum"
    assert set(line) <= set(digests.SPARK_BARS)


def test_sparkline_starts_at_zero_so_noise_is_not_load() -> None:
    assert digests.sparkline([0.3, 0.4]) == "▆█"  # min-max scaling would draw "▁█"
    assert digests.sparkline([0.0, 0.4]) == "▁█"


# The digest --------------------------------------------------------------------------------------


def test_digest_with_200_huge_findings_stays_within_every_limit() -> None:
    blocks = digest(huge_fleet(), dry_run=True, auto_stop_notice={"nudge0001": NOW})
    text = check(blocks)
    assert "&lt;!channel&gt;" in text
    assert len(rows(blocks)) == 15
    assert "…and 185 more idle resources costing" in text


def test_digest_is_sorted_by_cost_with_unknown_cost_last() -> None:
    items = pairs(finding(1, 5.0), finding(2, None), finding(3, 300.0), finding(4, 40.0))
    blocks = digest(items)
    check(blocks)
    assert rows(blocks) == ["n2", "n3", "n0", "n1"]


def test_digest_header_totals_the_known_costs_and_counts_the_unpriced() -> None:
    blocks = digest(pairs(finding(1, 100.0), finding(2, 23.45), finding(3, None)))
    data = [block.to_dict() for block in blocks]
    assert data[0]["type"] == "header"
    assert data[0]["text"]["text"] == "3 idle AWS resources: $123.45/month"
    assert "$123.45/month (1 without a price)" in data[1]["text"]["text"]


def test_digest_shows_what_where_since_why_cost_and_activity() -> None:
    item = finding(1, 12.5, series=(0.0, 0.2, 0.4))
    section = digest(pairs(item))[3].to_dict()
    text = section["text"]["text"]
    assert section["block_id"] == "res:n0"
    assert "*EC2 instance* `web-1 (i-00000000000000001)` · t3.large · running" in text
    assert "in `eu-west-1`, account `123456789012`" in text
    assert "Idle since <!date^" in text and "(9 days ago)" in text
    assert "Why: max CPU 0.4 % over 7 days; 12 KB network in 7 days" in text
    assert "Cost: *$12.50/month*" in text
    assert "CPU: `▁▁▁` (peak 0.4 %)" in text  # 0.4 % of a 100 % scale: on the floor
    assert "Yours because: created by *alice*" in text


def test_digest_says_no_price_found_and_draws_no_sparkline_without_a_series() -> None:
    item = finding(1, None, series=(), note="no on-demand price for t3.weird")
    text = check(digest(pairs(item)))
    assert "Cost: no price found (no on-demand price for t3.weird)" in text
    assert "$0.00" not in text
    assert "CPU:" not in text
    assert "1 idle AWS resource, no price found" in text


def test_the_rest_line_counts_and_sums_what_is_not_shown() -> None:
    items = pairs(*(finding(i, float(i)) for i in range(1, 31)), finding(99, None))
    blocks = digest(items, max_items=5)
    text = check(blocks)
    assert len(rows(blocks)) == 5
    rest = sum(range(1, 26))  # the 25 cheapest priced ones are not shown
    assert f"…and 26 more idle resources costing ${rest:,.2f}/month (1 without a price)" in text
    assert "see App Home" in text


def test_max_items_is_capped_by_the_50_blocks() -> None:
    blocks = digest(pairs(*(finding(i, float(i)) for i in range(40))), max_items=100)
    check(blocks)
    assert len(rows(blocks)) == 15


def test_buttons_fit_each_type_and_carry_only_the_nudge_id() -> None:
    items = [
        ("a", finding(1, 9.0, type=EC2_INSTANCE, state="running")),
        ("b", finding(2, 8.0, type=EBS_VOLUME, state="available")),
        ("c", finding(3, 7.0, type=ELASTIC_IP, state=None)),
        ("d", finding(4, 6.0, type=EKS_CLUSTER, state="ACTIVE")),
    ]
    blocks = digest(items)
    check(blocks)
    by_row: dict[str, list[str]] = {}
    for block in blocks:
        data = block.to_dict()
        if data["type"] == "actions":
            assert data["block_id"].endswith(":actions")
            by_row[data["block_id"]] = [b["action_id"] for b in data["elements"]]
            for button in data["elements"]:
                nudge_id, action = button["value"].rsplit(":", 1)
                assert f"res:{nudge_id}:actions" == data["block_id"]
                assert button["action_id"] == f"nudge_{action}"
    assert by_row == {
        "res:a:actions": ["nudge_keep", "nudge_stop", "nudge_terminate", "nudge_not_mine"],
        "res:b:actions": ["nudge_keep", "nudge_delete", "nudge_not_mine"],
        "res:c:actions": ["nudge_keep", "nudge_release", "nudge_not_mine"],
        "res:d:actions": ["nudge_keep", "nudge_not_mine"],
    }


def test_confirm_on_destructive_buttons_only() -> None:
    items = pairs(finding(1, type=EC2_INSTANCE), finding(2, type=EBS_VOLUME, state="available"))
    items.append(("eip", finding(3, type=ELASTIC_IP, state=None)))
    for button in buttons(digest(items)):
        if button["action_id"] in DESTRUCTIVE:
            assert button.get("confirm"), button["action_id"]
        else:
            assert "confirm" not in button, button["action_id"]
    labels = {b["action_id"]: b["text"]["text"] for b in buttons(digest(items))}
    assert labels["nudge_keep"] == "Keep…"
    assert labels["nudge_not_mine"] == "Not mine"


def test_dry_run_wording_on_every_confirm_and_in_the_digest() -> None:
    items = pairs(finding(1), finding(2, type=EBS_VOLUME, state="available"))
    dry = digest(items, dry_run=True)
    confirms = [b["confirm"] for b in buttons(dry) if "confirm" in b]
    assert len(confirms) == 3
    for confirm in confirms:
        assert confirm["text"]["text"].endswith("(dry run: nothing will change).")
        assert "cannot be undone" not in confirm["text"]["text"]
    assert "Dry run: the buttons say what they would do" in check(dry)

    live = digest(items, dry_run=False)
    text = check(live)
    assert "dry run" not in text.lower()
    words = {b["action_id"]: b["confirm"]["text"]["text"] for b in buttons(live) if "confirm" in b}
    assert words["nudge_terminate"].startswith("Terminate the EC2 instance web-1")
    assert words["nudge_terminate"].endswith("This cannot be undone.")
    assert "can be started again" in words["nudge_stop"]
    assert "snapshot" in words["nudge_delete"]


def test_confirm_follows_the_snapshot_policy() -> None:
    items = pairs(finding(1, type=EBS_VOLUME, state="available"))
    off = Actions(snapshot_before_delete=False)
    [button] = [b for b in buttons(digest(items, actions=off)) if b["action_id"] == "nudge_delete"]
    assert "without a snapshot" in button["confirm"]["text"]["text"]


def test_confirm_keeps_the_consequences_and_dry_run_words_for_a_huge_name() -> None:
    item = finding(1, name=(PING + " x") * 500, type=EBS_VOLUME, state="available")
    blocks = digest(pairs(item), dry_run=True)
    text = check(blocks)
    [confirm] = [b["confirm"]["text"]["text"] for b in buttons(blocks) if "confirm" in b]
    assert confirm.startswith("Delete the EBS volume &lt;!channel&gt; x")
    assert confirm.endswith("after taking a snapshot of it (dry run: nothing will change).")
    assert "&lt;!channel&gt;" in text


def test_tag_and_name_markup_is_escaped_everywhere() -> None:
    item = finding(
        1,
        name=PING,
        tags={"Owner": PING},
        reasons=(f"tagged {PING}",),
        owner=Owner(aws_name=PING, source="tag:Owner"),
    )
    text = check(digest(pairs(item), dry_run=True))
    assert "`&lt;!channel&gt; (i-00000000000000001)`" in text
    assert "Why: tagged &lt;!channel&gt;" in text
    assert "tagged `Owner` = *&lt;!channel&gt;* (not verified)" in text
    assert PING not in digests.digest_text(PING, [item])


def test_a_claimed_owner_gets_the_row_without_buttons_and_is_told_why() -> None:
    """An owner tag routes the digest but grants nothing (DESIGN.md §4, Trust)."""
    claimed = finding(1, owner=Owner(aws_name="mallory", source="tag:Owner", slack_user="U0MAL1"))
    trusted = finding(2, owner=Owner("alice", "tag:Owner", "U0ALICE1", verified=True))

    claimed_text = check(digest(pairs(claimed)))
    assert "tagged `Owner` = *mallory* (not verified)" in claimed_text
    assert "Only an admin can stop or delete it" in claimed_text
    assert buttons(digest(pairs(claimed))) == []
    trusted_text = check(digest(pairs(trusted)))
    assert "tag `Owner` = *alice*" in trusted_text and "not verified" not in trusted_text
    assert buttons(digest(pairs(trusted)))


def test_auto_stop_is_announced_ahead_of_time() -> None:
    when = NOW + timedelta(days=2)
    items = pairs(finding(1, 50.0), finding(2, 1.0))
    text = check(digest(items, auto_stop_notice={"n1": when}))
    stamp = int(when.timestamp())
    assert f"Will be stopped on <!date^{stamp}^" in text
    assert "if nobody answers (never terminated)" in text
    assert "If nobody answers, 1 resource will be stopped" in text


def test_auto_stop_of_a_resource_in_the_rest_line_is_still_announced() -> None:
    items = pairs(finding(1, 50.0), finding(2, 1.0))
    text = check(digest(items, max_items=1, auto_stop_notice={"n1": NOW + timedelta(days=1)}))
    assert "1 resource of these will be stopped on" in text


def test_repeated_nudge_ids_are_shown_once() -> None:
    blocks = digest([("same", finding(1, 2.0)), ("same", finding(2, 1.0))])
    check(blocks)
    assert rows(blocks) == ["same"]


def test_an_overlong_nudge_id_is_refused() -> None:
    with pytest.raises(ValueError, match="nudge id"):
        digest([("x" * 65, finding(1))])


def test_unknown_actions_get_no_button() -> None:
    blocks = digest(pairs(finding(1, actions=("keep", "explode"))))
    assert [b["action_id"] for b in buttons(blocks)] == ["nudge_keep"]


def test_digest_text_names_the_most_expensive_first() -> None:
    items = pairs(finding(1, 1.0), finding(2, 99.0), finding(3, None), finding(4, 5.0))
    text = digests.digest_text("U0123ABCDE", items)
    assert text.startswith("<@U0123ABCDE>: 4 idle AWS resources costing $105.00/month")
    assert text.endswith(
        "web-2 (i-00000000000000002), web-4 (i-00000000000000004), "
        "web-1 (i-00000000000000001) and 1 more"
    )
    assert digests.digest_text("alice", []) == "alice: nothing of yours looks idle."


# The fallback channel ----------------------------------------------------------------------------


def test_escalation_mentions_the_owner_and_lists_everything_within_limits() -> None:
    fleet = huge_fleet()
    blocks = digests.escalation_blocks("U0123ABCDE", fleet, 3, NOW, kinds=PATROL)
    text = check(blocks)
    assert text.count("<@U0123ABCDE> has not answered 3 nudges about 200 idle AWS resources") == 1
    more = re.search(r"…and (\d+) more not listed here", text)
    assert more is not None
    listed = text.count("• *")
    assert listed + int(more.group(1)) == 200
    assert not buttons(blocks)


def test_escalation_without_a_slack_user_names_them_escaped() -> None:
    text = check(digests.escalation_blocks(PING, [finding(1, 4.0)], 1, NOW, kinds=PATROL))
    assert "*&lt;!channel&gt;* has not answered 1 nudge about 1 idle AWS resource costing" in text
    assert "$4.00/month" in text


def test_unknown_owner_blocks_give_the_reason_for_each_resource() -> None:
    no_owner = Owner(aws_name=None, source="none", reason="created more than 90 days ago")
    items = [
        (finding(1, 9.0), f"only {PING} mentioned it"),
        (finding(2, 3.0, owner=no_owner), None),
        (finding(3, None, owner=Owner(aws_name=None, source="none")), None),
    ]
    text = check(digests.unknown_owner_blocks(items, NOW, kinds=PATROL))
    assert "3 idle AWS resources costing $12.00/month (1 without a price)" in text
    assert "_No owner:_ only &lt;!channel&gt; mentioned it" in text
    assert "_No owner:_ created more than 90 days ago" in text
    assert "_No owner:_ no owner tag and no creation event found" in text
    assert text.index("web-1") < text.index("web-2") < text.index("web-3")


def test_unknown_owner_blocks_with_200_huge_findings_stay_within_limits() -> None:
    items = [(item, "x" * 5000) for _, item in huge_fleet()]
    check(digests.unknown_owner_blocks(items, NOW, kinds=PATROL))


# After a button ----------------------------------------------------------------------------------


def slack_echo(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """The blocks as a block_actions payload carries them back (Slack adds a few fields)."""
    echoed = json.loads(json.dumps([block.to_dict() for block in blocks]))
    for node in walk(echoed):
        if node.get("type") == "mrkdwn":
            node["verbatim"] = False
    return echoed


def test_outcome_replaces_only_that_resources_row() -> None:
    items = pairs(finding(1, 3.0), finding(2, 2.0), finding(3, 1.0))
    original = digest(items)
    resource = items[1][1].resource
    updated = digests.outcome_blocks(
        slack_echo(original),
        "n1",
        "Stopped",
        by_user="U0123ABCDE",
        now=NOW,
        resource=resource,
        kinds=PATROL,
    )
    text = check(updated)
    ids = [block.block_id for block in updated]
    assert "res:n1:actions" not in ids
    assert "res:n0:actions" in ids and "res:n2:actions" in ids
    assert len(updated) == len(original) - 1
    line = next(block for block in updated if block.block_id == "res:n1").to_dict()
    what, result = line["text"]["text"].split("\n")
    assert what == "*EC2 instance* `web-2 (i-00000000000000002)`"
    assert result.startswith("Stopped by <@U0123ABCDE> on <!date^")
    assert "web-1" in text and "web-3" in text


def test_a_second_outcome_replaces_the_first_and_still_names_the_resource() -> None:
    original = digest(pairs(finding(1)))
    once = digests.outcome_blocks(
        original, "n0", "Would have stopped", by_user=None, now=NOW, kinds=PATROL
    )
    twice = digests.outcome_blocks(
        slack_echo(once), "n0", "Kept", by_user="U0123ABCDE", now=NOW, kinds=PATROL
    )
    check(twice)
    rows_now = [b.to_dict()["text"]["text"] for b in twice if b.block_id == "res:n0"]
    assert len(rows_now) == 1
    what, result = rows_now[0].split("\n")
    assert what == "*EC2 instance* `web-1 (i-00000000000000001)`"
    assert result.startswith("Kept by <@U0123ABCDE> on")
    assert "Would have stopped" not in json.dumps([b.to_dict() for b in twice])


def test_outcome_for_a_row_not_in_the_message_is_appended_and_escaped() -> None:
    original = digest(pairs(finding(1)))
    updated = digests.outcome_blocks(
        original, "gone", f"Deleted {PING}", by_user=PING, now=NOW, resource=None, kinds=PATROL
    )
    text = check(updated)
    assert updated[-1].block_id == "res:gone"
    assert updated[-1].to_dict()["text"]["text"].startswith("Deleted &lt;!channel&gt; by *&lt;")
    assert len(updated) == len(original) + 1
    assert "Deleted &lt;!channel&gt; by *&lt;!channel&gt;*" in text


# App Home ----------------------------------------------------------------------------------------


def home_check(view: View) -> str:
    data = view.to_dict()  # View's validators: 1 to 100 blocks, type
    assert data["type"] == "home"
    return check(view.blocks, limit=100)


def test_home_empty_state_says_so() -> None:
    view = digests.home_view([], now=NOW, dry_run=False, kinds=PATROL)
    text = home_check(view)
    assert "Nothing of yours was found idle in the last patrol round" in text
    assert not buttons(view.blocks)


def test_home_lists_idle_open_ones_first_with_their_buttons() -> None:
    items = [
        ("busy", finding(1, 500.0, idle=False), "open"),
        ("kept", finding(2, 400.0), "kept"),
        ("cheap", finding(3, 1.0), "open"),
        ("dear", finding(4, 90.0), "open"),
        ("moved", finding(5, 80.0), "reassigned"),
    ]
    view = digests.home_view(items, now=NOW, dry_run=True, kinds=PATROL)
    text = home_check(view)
    assert rows(view.blocks) == ["dear", "cheap", "kept", "moved", "busy"]
    with_buttons = {b["value"].split(":")[0] for b in buttons(view.blocks)}
    assert with_buttons == {"dear", "cheap"}
    assert "2 resources of yours look idle, costing $91.00/month." in text
    assert "Status: waiting for your answer" in text
    assert "Status: kept" in text
    assert "Status: passed on (not mine)" in text
    assert "Not idle in the last round" in text
    confirms = [b["confirm"]["text"]["text"] for b in buttons(view.blocks) if "confirm" in b]
    assert confirms and all(c.endswith("(dry run: nothing will change).") for c in confirms)


def test_home_with_200_huge_items_stays_within_100_blocks() -> None:
    items = [(nudge_id, item, "open") for nudge_id, item in huge_fleet()]
    view = digests.home_view(items, now=NOW, dry_run=False, kinds=PATROL)
    text = home_check(view)
    assert len(view.blocks) <= 100
    shown = len(rows(view.blocks))
    assert f"…and {200 - shown} more not shown here, {200 - shown} of them idle" in text


# The weekly summary ------------------------------------------------------------------------------


def test_weekly_summary_counts_decisions_and_cost_removed() -> None:
    stats = digests.WeeklyStats(
        done={"stop": 3, "terminate": 1, "keep": 2, "release": 1},
        monthly_usd_removed=412.5,
        unpriced_removed=1,
        still_idle=4,
        still_idle_usd=88.0,
    )
    blocks = digests.weekly_summary_blocks(stats, since=NOW - timedelta(days=7), now=NOW)
    text = check(blocks)
    assert "*Done:* 3 stopped, 1 terminated, 1 released, 2 kept." in text
    assert "*Monthly cost removed:* $412.50/month plus 1 without a price." in text
    assert "*Still waiting for an answer:* 4 resources, costing $88.00/month." in text


def test_weekly_summary_in_dry_run_and_for_a_quiet_week() -> None:
    dry = digests.WeeklyStats(dry_run={Action.DELETE.value: 2}, dry_run_monthly_usd=30.0)
    text = check(digests.weekly_summary_blocks(dry, since=NOW - timedelta(days=7), now=NOW))
    assert "*Dry run, would have been:* 2 deleted." in text
    assert "*Would have removed:* $30.00/month" in text
    assert "Monthly cost removed" not in text

    quiet = digests.weekly_summary_blocks(
        digests.WeeklyStats(), since=NOW - timedelta(days=7), now=NOW
    )
    assert "Nothing was stopped, removed or kept this week." in check(quiet)


def test_kept_only_week_claims_no_cost_removed() -> None:
    stats = digests.WeeklyStats(done={"keep": 2})
    text = check(digests.weekly_summary_blocks(stats, since=NOW - timedelta(days=7), now=NOW))
    assert "2 kept" in text
    assert "Monthly cost removed" not in text


def test_a_stopped_instance_is_idle_since_it_stopped_and_its_owner_basis_is_shown() -> None:
    stopped = NOW - timedelta(days=30)
    base = finding(1, 4.0, state="stopped", series=())
    item = Finding(
        resource=dataclasses.replace(base.resource, state_since=stopped),
        verdict=Verdict(idle=True, reasons=("stopped for 30 days",)),
        owner=Owner(
            aws_name="bob",
            source="parent:AWS::AutoScaling::AutoScalingGroup web-asg",
            verified=True,
        ),
        cost=base.cost,
        actions=base.actions,
    )
    text = check(digest(pairs(item)))
    assert f"Idle since <!date^{int(stopped.timestamp())}^{{date_short}}|2024-05-13>" in text
    assert "(30 days ago)" in text
    assert (
        "Yours because: created by *bob* through `AWS::AutoScaling::AutoScalingGroup web-asg`"
        in (text)
    )
    assert [b["action_id"] for b in buttons(digest(pairs(item)))] == [
        "nudge_keep",
        "nudge_terminate",
        "nudge_not_mine",
    ]
