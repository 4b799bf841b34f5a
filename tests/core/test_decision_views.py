"""The Keep and Not mine modals, reading them back, and the audit post (pure)."""

from datetime import UTC, date, datetime

import pytest

from bot.core import decision_views as views
from bot.core import resources as rt
from bot.core.decisions import Action
from bot.core.resources import Resource
from bot.registry.patrol import PATROL
from tests.slack.conftest import all_text, assert_valid_blocks

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NASTY = Resource(
    type=rt.EC2_INSTANCE,
    id="i-0abc",
    region="eu-west-1",
    account="123456789012",
    name="<!channel> & co",
)


def test_origin_round_trips() -> None:
    for origin in (
        views.Origin("n1", "D0ABC", "1700000000.000100"),
        views.Origin("n2", home=True),
    ):
        assert views.Origin.from_metadata(origin.to_metadata()) == origin


@pytest.mark.parametrize("text", ["", "{}", "[1]", "not json", '{"c": "D1"}'])
def test_foreign_metadata_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        views.Origin.from_metadata(text)


def test_keep_modal_is_valid_and_escapes_names() -> None:
    view = views.keep_modal(
        NASTY, views.Origin("n1", "D1", "1.2"), dry_run=True, kinds=PATROL
    ).to_dict()
    assert view["callback_id"] == views.KEEP_CALLBACK
    assert view["private_metadata"] == views.Origin("n1", "D1", "1.2").to_metadata()
    assert_valid_blocks(view["blocks"], limit=100)
    text = all_text(view["blocks"])
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; co" in text
    assert "dry-run mode" in text
    ids = [block.get("block_id") for block in view["blocks"]]
    assert ids[1:4] == [views.KEEP_CHOICE_BLOCK, views.KEEP_DATE_BLOCK, views.KEEP_REASON_BLOCK]


def test_read_keep_form() -> None:
    values = {
        views.KEEP_CHOICE_BLOCK: {views.INPUT: {"selected_option": {"value": "date"}}},
        views.KEEP_DATE_BLOCK: {views.INPUT: {"selected_date": "2026-04-01"}},
        views.KEEP_REASON_BLOCK: {views.INPUT: {"value": "  demo  "}},
    }
    assert views.read_keep_form(values) == views.KeepForm("date", date(2026, 4, 1), "demo")
    assert views.read_keep_form({}) == views.KeepForm(None, None, None)
    broken = {views.KEEP_DATE_BLOCK: {views.INPUT: {"selected_date": "soon"}}}
    assert views.read_keep_form(broken).until is None


def test_not_mine_modal_and_form() -> None:
    view = views.not_mine_modal(
        NASTY, views.Origin("n1"), fallback_channel="C0FALL", kinds=PATROL
    ).to_dict()
    assert_valid_blocks(view["blocks"], limit=100)
    assert "<#C0FALL>" in all_text(view["blocks"])
    without = views.not_mine_modal(
        NASTY, views.Origin("n1"), fallback_channel=None, kinds=PATROL
    ).to_dict()
    assert "no fallback channel" in all_text(without["blocks"])
    values = {
        views.NEW_OWNER_BLOCK: {views.INPUT: {"selected_user": "U0BOB"}},
        views.NOTE_BLOCK: {views.INPUT: {"value": ""}},
    }
    assert views.read_not_mine_form(values) == views.NotMineForm("U0BOB", None)


def test_audit_post_escapes_what_came_from_aws() -> None:
    blocks = [
        block.to_dict()
        for block in views.audit_blocks(
            user="U0A",
            action=Action.TERMINATE,
            resource=NASTY,
            owner="U0B",
            outcome_kind="done",
            summary="Terminated <!channel> & co (i-0abc)",
            now=NOW,
            kinds=PATROL,
        )
    ]
    assert_valid_blocks(blocks)
    text = all_text(blocks)
    assert "<!channel>" not in text
    assert "<@U0A> chose *Terminate*" in text and "(owner <@U0B>)" in text
    assert views.audit_text("U0A", Action.STOP, NASTY, "done") == (
        "<@U0A> chose Stop for &lt;!channel&gt; &amp; co (i-0abc): done"
    )
