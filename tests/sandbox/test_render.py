"""Block Kit as the demo prints it: the product's own messages, and mrkdwn's entities."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import decision_views as views
from bot.core import digests
from bot.core import resources as rt
from bot.core.messages import slack_date
from bot.core.policy import Actions
from bot.core.resources import Cost, Finding, Owner, Resource, Verdict
from bot.registry.patrol import PATROL, actions_for
from bot.sandbox.render import mrkdwn, render_blocks, render_view

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NAMES = {"U0ALICE001": "alice", "C0AUDIT001": "whocreated-audit"}


def test_mentions_channels_dates_and_links_read_as_slack_shows_them() -> None:
    text = (
        f"<@U0ALICE001> kept it on {slack_date(NOW)} in <#C0AUDIT001>, see "
        "<https://console.aws.amazon.com/|the console> or <https://example.com/x>; "
        "<@U0NOBODY1> and <!here>"
    )
    assert mrkdwn(text, NAMES) == (
        "@alice kept it on 2026-03-02 12:00 UTC in #whocreated-audit, see the console or "
        "https://example.com/x; @U0NOBODY1 and @here"
    )


def test_escaped_text_is_shown_as_typed_and_never_becomes_a_mention() -> None:
    # A tag value "<!channel> & co" arrives escaped; it must read as typed, not as @channel.
    assert mrkdwn("tag `&lt;!channel&gt; &amp; co`", NAMES) == "tag `<!channel> & co`"


def test_bold_and_code_are_kept_and_known_emoji_become_symbols() -> None:
    assert mrkdwn(":test_tube: *Dry run* for `i-0abc` :unknown_emoji:") == (
        "🧪 *Dry run* for `i-0abc` :unknown_emoji:"
    )


def finding(resource: Resource) -> Finding:
    return Finding(
        resource=resource,
        verdict=Verdict(idle=True, reasons=("max CPU 0.4 % over 7 days",), idle_since=NOW),
        owner=Owner("alice", "cloudtrail", "U0ALICE001", verified=True),
        cost=Cost(34.17, "t3.medium"),
        actions=tuple(a.value for a in actions_for(resource.type, resource.state)),
    )


def web_old() -> Resource:
    return Resource(
        type=rt.EC2_INSTANCE,
        id="i-0123456789abcdef0",
        region="eu-west-1",
        account="123456789012",
        name="web-old",
        state="running",
        size="t3.medium",
    )


def test_a_digest_reads_header_rows_buttons_and_footer() -> None:
    blocks = digests.digest_blocks(
        "U0ALICE001",
        [("n1", finding(web_old()))],
        now=NOW,
        dry_run=True,
        max_items=15,
        actions=Actions(),
        kinds=PATROL,
    )
    text = render_blocks([b.to_dict() for b in blocks], names=NAMES, width=100, prefix="│ ")
    lines = text.splitlines()
    assert lines[0] == "│ 1 idle AWS resource: $34.17/month"
    assert set(lines[1].removeprefix("│ ")) == {"═"}  # the header is underlined
    assert "│ Hi @alice: 1 AWS resource of yours looks idle." in text
    assert "│ [ Keep… ] [ Stop ] [ Terminate ] [ Not mine ]" in lines
    assert "*EC2 instance* `web-old (i-0123456789abcdef0)`" in text
    assert "Why: max CPU 0.4 % over 7 days" in text
    assert "│   🧪 Dry run" in text  # context is indented under the message
    assert "<@" not in text and "<!date" not in text
    assert all(len(line) <= 100 for line in lines)


def test_section_fields_read_title_then_value() -> None:
    blocks = [
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Who*\n<@U0ALICE001> (alice)\nIAMUser"},
                {"type": "mrkdwn", "text": "*How*\nTerraform"},
            ],
        }
    ]
    assert render_blocks(blocks, names=NAMES).splitlines() == [
        "  Who         @alice (alice)",
        "              IAMUser",
        "  How         Terraform",
    ]


def test_long_lines_wrap_inside_the_width() -> None:
    words = " ".join(["idle"] * 60)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": words}}]
    lines = render_blocks(blocks, width=40, prefix="  │ ").splitlines()
    assert len(lines) > 5 and all(len(line) <= 40 for line in lines)
    assert all(line.startswith("  │ idle") for line in lines)


def test_the_keep_modal_shows_its_choices_inputs_and_buttons() -> None:
    origin = views.Origin("n1", "D0ALICE001", "1700000000.000100")
    view = views.keep_modal(web_old(), origin, dry_run=True, kinds=PATROL).to_dict()
    text = render_view(view, names=NAMES)
    assert text.splitlines()[0] == "Keep it"
    assert "  (•) For 7 days" in text and "  ( ) For 30 days" in text
    assert "  [ Pick a date ]" in text
    assert "Why is it still needed? (optional)" in text
    assert text.splitlines()[-1] == "[ Cancel ] [ Keep ]"


def test_unknown_blocks_are_skipped_and_images_show_their_text() -> None:
    blocks = [
        {"type": "video", "title": {"type": "plain_text", "text": "x"}},
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a chart"},
        {"type": "divider"},
    ]
    assert render_blocks(blocks, width=30).splitlines() == ["[image: a chart]", "─" * 30]
