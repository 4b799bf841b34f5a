"""Every Slack text the bot builds, fed AWS strings written by an attacker: none of their
mentions, channel pings or links survive (DESIGN.md §4: AWS text is data, escaped for mrkdwn),
in blocks, modals, confirm dialogs and the notification `text` fallbacks alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core import decision_views as views
from bot.core import digests, messages
from bot.core.answers import LookupAnswer, ParentAnswer, Reason
from bot.core.decisions import Action
from bot.core.events import Actor, CreationFact
from bot.core.policy import Actions
from bot.core.refs import parse
from bot.core.resources import EC2_INSTANCE, Cost, Finding, Owner, Resource, Verdict
from bot.registry.patrol import PATROL

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> <!here|here> <@U0EVIL01> <#C0EVIL01> <https://evil.example|Keep it> & x"
# What must never reach Slack unescaped: the attacker's mentions, pings and links.
FORBIDDEN = ("<!channel", "<!here", "<@U0EVIL", "<#C0EVIL", "<https://evil", "<mailto")

RESOURCE = Resource(
    type=EC2_INSTANCE,
    id="i-0abc1234def567890",
    region="eu-west-1",
    account="123456789012",
    name=HOSTILE,
    state="running",
    created_at=NOW - timedelta(days=40),
    size=HOSTILE,
    tags={"Name": HOSTILE, "Owner": HOSTILE, HOSTILE: HOSTILE},
    details={"attached_volumes": [{"id": "vol-1", "gib": 8, "type": HOSTILE}]},
)
ACTOR = Actor(
    identity_type="AssumedRole",
    arn=f"arn:aws:sts::123456789012:assumed-role/{HOSTILE}/{HOSTILE}",
    name=HOSTILE,
    account="123456789012",
    role=HOSTILE,
    invoked_by=HOSTILE,
)
FACT = CreationFact(
    resource_id=RESOURCE.id,
    created=(RESOURCE.id, HOSTILE),
    related=(HOSTILE,),
    actor=ACTOR,
    event_name=HOSTILE,
    event_source=HOSTILE,
    event_time=NOW - timedelta(days=40),
    region="eu-west-1",
    event_id=HOSTILE,
    source_ip=HOSTILE,
    user_agent=HOSTILE,
    tool=HOSTILE,
    account="123456789012",
    record={"eventName": HOSTILE, "userIdentity": {"arn": HOSTILE}},
)
FINDING = Finding(
    resource=RESOURCE,
    verdict=Verdict(idle=True, reasons=(HOSTILE,), series=(0.1, 0.2)),
    owner=Owner(aws_name=HOSTILE, source=f"tag:{HOSTILE}", slack_user="U0OWNER01", fact=FACT),
    cost=Cost(12.5, HOSTILE),
    actions=("keep", "stop", "terminate", "not_mine"),
)
VERIFIED = Finding(
    resource=RESOURCE,
    verdict=FINDING.verdict,
    owner=Owner(HOSTILE, "cloudtrail", "U0OWNER01", FACT, verified=True),
    cost=FINDING.cost,
    actions=FINDING.actions,
)


def answer(**changes: Any) -> LookupAnswer:
    base = LookupAnswer(
        ref=parse(RESOURCE.id),
        fact=FACT,
        regions_searched=("eu-west-1",),
        notes=(HOSTILE,),
        owner_tags={"Owner": HOSTILE, "CreatedBy": HOSTILE},
        account="123456789012",
    )
    return LookupAnswer(**{**base.__dict__, **changes})


PARENT = ParentAnswer("AWS::AutoScaling::AutoScalingGroup", HOSTILE, HOSTILE, answer())

BUILDERS: dict[str, Callable[[], Any]] = {
    "lookup answer": lambda: messages.lookup_answer(
        answer(), slack_user_id=None, now=NOW, show_source_ip=True
    ),
    "lookup answer with a parent": lambda: messages.lookup_answer(
        answer(parent=PARENT), slack_user_id="U0OK", now=NOW, parent_slack_user_id="U0OK"
    ),
    "lookup answer, not found": lambda: messages.lookup_answer(
        answer(fact=None, reason=Reason.ONLY_MENTIONED, first_seen={"name": HOSTILE}),
        slack_user_id=None,
        now=NOW,
    ),
    "lookup fallback text": lambda: messages.fallback_text(answer(parent=PARENT)),
    "lookup fallback text, not found": lambda: messages.fallback_text(
        answer(fact=None, reason=Reason.NOT_IN_WINDOW)
    ),
    "error": lambda: messages.error_blocks(HOSTILE),
    "raw event": lambda: messages.raw_event_view(FACT.record, full=True),
    "loading": lambda: messages.loading_view(HOSTILE),
    "message view": lambda: messages.message_view(HOSTILE),
    "digest": lambda: digests.digest_blocks(
        HOSTILE,
        [("n1", VERIFIED), ("n2", FINDING)],
        now=NOW,
        dry_run=False,
        auto_stop_notice={"n1": NOW + timedelta(days=2)},
        max_items=1,
        actions=Actions(mode="enabled"),
        kinds=PATROL,
    ),
    "digest text": lambda: digests.digest_text(HOSTILE, [("n1", VERIFIED)]),
    "home": lambda: digests.home_view(
        [("n1", VERIFIED, "open"), ("n2", FINDING, "kept")], now=NOW, dry_run=True, kinds=PATROL
    ),
    "escalation": lambda: digests.escalation_blocks(
        HOSTILE, [("n1", VERIFIED)], 3, NOW, kinds=PATROL
    ),
    "unknown owners": lambda: digests.unknown_owner_blocks([(FINDING, HOSTILE)], NOW, kinds=PATROL),
    "outcome row": lambda: [
        digests.resource_outcome_section(
            "n1", HOSTILE, by_user="U0OWNER01", now=NOW, resource=RESOURCE, kinds=PATROL
        )
    ],
    "keep modal": lambda: views.keep_modal(
        RESOURCE, views.Origin("n1"), dry_run=True, kinds=PATROL
    ),
    "not mine modal": lambda: views.not_mine_modal(
        RESOURCE, views.Origin("n1"), fallback_channel="C0FALLBACK", kinds=PATROL
    ),
    "passed on": lambda: [views.passed_on_intro("U0OWNER01", HOSTILE, to_channel=True)],
    "audit": lambda: views.audit_blocks(
        user="U0OWNER01",
        action=Action.TERMINATE,
        resource=RESOURCE,
        owner="U0OWNER01",
        outcome_kind=HOSTILE,
        summary=HOSTILE,
        now=NOW,
        kinds=PATROL,
    ),
    "audit text": lambda: views.audit_text("U0OWNER01", Action.STOP, RESOURCE, HOSTILE),
    "confirm text": lambda: digests.confirm_text(
        Action.TERMINATE, RESOURCE, dry_run=False, actions=Actions(mode="enabled"), kinds=PATROL
    ),
}


# Fields Slack hands back to the bot and never shows: button values, modal metadata.
UNSHOWN = frozenset({"value", "private_metadata"})


def shown(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: shown(item) for key, item in data.items() if key not in UNSHOWN}
    if isinstance(data, list):
        return [shown(item) for item in data]
    return data


def rendered(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, View):
        return json.dumps(shown(value.to_dict()))
    dicts = [block.to_dict() if isinstance(block, Block) else block for block in value]
    return json.dumps(shown(dicts))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_no_hostile_markup_survives(name: str) -> None:
    text = rendered(BUILDERS[name]())
    for marker in FORBIDDEN:
        assert marker not in text, f"{name}: {marker} reached Slack"
    assert "&lt;" in text or "evil" not in text  # it was shown, escaped, or not at all


def test_the_builders_still_mention_whom_they_mean() -> None:
    """Escaping hits AWS text only: the bot's own mentions stay mentions."""
    assert "<@U0OK>" in rendered(BUILDERS["lookup answer with a parent"]())
    assert "<@U0OWNER01>" in rendered(BUILDERS["audit"]())
