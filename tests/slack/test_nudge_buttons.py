"""The nudge's buttons through the real Bolt app: signed block_actions and view_submission payloads,
a fake Slack Web API on 127.0.0.1, and AWS in moto. Each test checks what the clicker was told,
the digest row, the store, the audit trail, and the AWS state afterwards.

moto patches botocore's HTTP, not urllib (which slack_sdk and these tests use): both work at once,
as test_moto_and_the_fake_slack_coexist shows on its own.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from bot.aws.operations import KEEP_REASON_TAG, KEEP_UNTIL_TAG
from bot.core import decision_views as views
from bot.core import digests
from bot.core import resources as rt
from bot.core.decisions import Action, action_id, button_value, is_destructive
from bot.core.policy import Actions, Policy, SlackPolicy
from bot.core.resources import Cost, Finding, Owner, Resource, Verdict
from bot.registry.patrol import PATROL, actions_for
from bot.slack.nudges import STALE
from bot.store import Nudge, Store
from bot.wiring import Services, build
from tests.fake_slack import FakeSlack
from tests.moto_fleet import REGION, Fleet
from tests.slack.conftest import (
    FakeLookups,
    Harness,
    Reply,
    all_text,
    assert_valid_blocks,
    serving,
    slack_settings,
)

ACCOUNT = "123456789012"  # moto's
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWNER = "U0OWNER01"
ADMIN = "U0ADMIN01"
GROUP_ADMIN = "U0GROUPA1"
STRANGER = "U0STRANGE"
NEW_OWNER = "U0NEWOWN1"
ADMIN_GROUP = "S0ADMINS1"
AUDIT = "C0AUDIT01"
FALLBACK = "C0FALLBK1"


@dataclass(frozen=True)
class Posted:
    nudge_id: str
    channel: str
    ts: str


@dataclass
class World:
    harness: Harness
    fleet: Fleet
    services: Services

    @property
    def fake(self) -> FakeSlack:
        return self.harness.fake

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def policy(self) -> Policy:
        return self.services.settings.policy

    # Set-up ------------------------------------------------------------------------------------

    def instance(self, name: str = "web-1", **kw: Any) -> Resource:
        instance_id = self.fleet.instance(name, **kw)
        volumes = [
            {"id": v, "gib": 8, "type": "gp3"} for v in self.fleet.instance_volumes(instance_id)
        ]
        return Resource(
            type=rt.EC2_INSTANCE,
            id=instance_id,
            region=REGION,
            account=ACCOUNT,
            name=name,
            state="running",
            size="t3.micro",
            details={"attached_volumes": volumes},
        )

    def database(self, name: str = "orders", **kw: Any) -> Resource:
        """A database as the inventory saw it, its creation time included."""
        db = self.fleet.database(name, **kw)
        return Resource(
            type=rt.RDS_INSTANCE,
            id=db,
            region=REGION,
            account=ACCOUNT,
            state="available",
            created_at=self.fleet.created_at(rt.RDS_INSTANCE, db),
        )

    def digest(
        self,
        *resources: Resource,
        owner: str | None = OWNER,
        cost: float = 40.0,
        verified: bool = True,
    ) -> list[Posted]:
        """Nudge rows and one digest message with their buttons, as the notifier posts them."""
        pairs = []
        for n, resource in enumerate(resources):
            finding = Finding(
                resource=resource,
                verdict=Verdict(idle=True, reasons=("max CPU 0.4 % over 7 days",)),
                owner=Owner(
                    "alice",
                    "cloudtrail" if verified else "tag:Owner",
                    slack_user=owner,
                    verified=verified,
                ),
                cost=Cost(cost + n),
                actions=tuple(a.value for a in actions_for(resource.type, resource.state)),
            )
            nudge = self.store.create_nudge(
                resource,
                owner_slack_user=owner,
                sent_at=NOW,
                monthly_cost=cost + n,
                details={
                    "reasons": list(finding.verdict.reasons),
                    "owner_source": finding.owner.source,
                    "owner_name": "alice",
                    "owner_verified": verified,
                    "actions": list(finding.actions),
                },
            )
            pairs.append((nudge.id, finding))
        blocks = digests.digest_blocks(
            owner or "nobody",
            pairs,
            now=NOW,
            dry_run=not self.policy.actions.enabled,
            max_items=15,
            actions=self.policy.actions,
            kinds=PATROL,
        )
        posted = self.services.app.client.chat_postMessage(
            channel=owner or FALLBACK, blocks=[b.to_dict() for b in blocks], text="idle resources"
        )
        ids = [nudge_id for nudge_id, _ in pairs]
        self.store.set_message(ids, posted["channel"], posted["ts"])
        return [Posted(nudge_id, posted["channel"], posted["ts"]) for nudge_id in ids]

    # Clicks ------------------------------------------------------------------------------------

    def click(
        self, action: Action, posted: Posted, *, user: str = OWNER, value: str | None = None
    ) -> tuple[Reply, str]:
        reply, key = self.harness.click(
            action_id(action),
            value if value is not None else button_value(posted.nudge_id, action),
            user=user,
            channel=posted.channel,
            message_ts=posted.ts,
            blocks=self.fake.message(posted.channel, posted.ts)["blocks"],
        )
        # Acked before the AWS work: test_the_click_is_acked_before_aws_is_touched holds it back.
        assert reply.status == 200, reply.body
        return reply, key

    def told(self, key: str) -> str:
        """What the clicker was told (ephemeral, through the response_url)."""
        answer = self.fake.wait_for_response(key, timeout=15)
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        assert_valid_blocks(answer["blocks"])
        return str(answer["text"])

    def row(self, posted: Posted) -> tuple[str | None, bool]:
        """(the row's text, whether its buttons are still there) in the message as it is now."""
        blocks = self.fake.message(posted.channel, posted.ts)["blocks"]
        assert_valid_blocks(blocks)
        text = next(
            (b["text"]["text"] for b in blocks if b.get("block_id") == f"res:{posted.nudge_id}"),
            None,
        )
        buttons = any(b.get("block_id") == f"res:{posted.nudge_id}:actions" for b in blocks)
        return text, buttons

    def nudge(self, posted: Posted) -> Nudge:
        found = self.store.get_nudge(posted.nudge_id)
        assert found is not None
        return found

    def audit_posts(self) -> list[dict[str, Any]]:
        posts = [c.params for c in self.fake.calls_to("chat.postMessage")]
        return [p for p in posts if p.get("channel") == AUDIT]


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.02)


@pytest.fixture
def make_world(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Callable[..., World]]:
    """make_world(mode="enabled", audit_channel=AUDIT, fallback_channel=FALLBACK) → World."""
    stack: list[Any] = []
    fake_slack.add_usergroup(ADMIN_GROUP, [GROUP_ADMIN])
    for user in (OWNER, ADMIN, GROUP_ADMIN, STRANGER, NEW_OWNER):  # every clicker is a member
        fake_slack.add_user(f"{user.lower()}@example.com", user, user.lower())

    def make(
        mode: str = "enabled",
        *,
        audit_channel: str | None = AUDIT,
        fallback_channel: str | None = FALLBACK,
        snapshots: bool = True,
        protected_tags: tuple[str, ...] | None = None,
    ) -> World:
        mock = mock_aws()
        mock.start()
        stack.append(mock.stop)
        fleet = Fleet()
        policy = Policy(
            slack=SlackPolicy(
                admins=(ADMIN,),
                admin_group=ADMIN_GROUP,
                audit_channel=audit_channel,
                fallback_channel=fallback_channel,
            ),
            actions=Actions(
                mode=mode,
                snapshot_before_delete=snapshots,
                **({"protected_tags": protected_tags} if protected_tags is not None else {}),
            ),
        )
        services = build(
            slack_settings(fake_slack, policy=policy),
            store=Store.open(f"sqlite:///{tmp_path / 'state.sqlite3'}"),
            lookups=FakeLookups(),
            aws=fleet.client_for,
            account_id=lambda: ACCOUNT,
            clock=lambda: NOW,
        )
        serve = serving(services)
        base_url = serve.__enter__()
        stack.append(lambda: serve.__exit__(None, None, None))
        return World(Harness(fake_slack, services, FakeLookups(), base_url), fleet, services)

    yield make
    for undo in reversed(stack):
        undo()


def audit_rows(world: World, count: int = 1) -> list[Any]:
    return eventually(lambda: len(rows := world.store.audit_since(NOW)) >= count and rows)


# ---------------------------------------------------------------------------------------------
# Stop, Terminate, Delete, Release: enabled


def test_the_owner_stops_an_instance(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    world.click(Action.STOP, posted)

    [row] = audit_rows(world)
    assert (row.slack_user, row.action, row.outcome, row.dry_run) == (OWNER, "stop", "done", False)
    assert row.key == web.key and row.nudge_id == posted.nudge_id
    assert world.fleet.instance_state(web.id) == "stopped"
    nudge = world.nudge(posted)
    assert (nudge.status, nudge.decided_by, nudge.decided_at) == ("stopped", OWNER, NOW)
    # The row now says what happened, and its buttons are gone.
    text, buttons = eventually(lambda: (r := world.row(posted))[0] and "Stopped" in r[0] and r)
    assert not buttons
    assert f"Stopped web-1 ({web.id}) in {REGION}" in text and f"<@{OWNER}>" in text
    # The audit channel hears of it.
    [post] = eventually(world.audit_posts)
    assert_valid_blocks(post["blocks"])
    assert f"<@{OWNER}> chose *Stop*" in all_text(post["blocks"])
    assert "done" in all_text(post["blocks"])


@pytest.mark.parametrize(
    ("make", "action", "check"),
    [
        (
            lambda w: w.instance("web-1", volumes=2),
            Action.TERMINATE,
            lambda w, r: (
                w.fleet.instance_state(r.id) == "terminated"
                and all(
                    len(w.fleet.snapshots_of(v["id"])) == 1 for v in r.details["attached_volumes"]
                )
            ),
        ),
        (
            lambda w: Resource(
                type=rt.EBS_VOLUME,
                id=w.fleet.volume(),
                region=REGION,
                account=ACCOUNT,
                state="available",
                size="100 GiB gp3",
            ),
            Action.DELETE,
            lambda w, r: not w.fleet.volume_exists(r.id) and len(w.fleet.snapshots_of(r.id)) == 1,
        ),
        (
            lambda w: Resource(
                type=rt.ELASTIC_IP,
                id=(address := w.fleet.address())[0],
                region=REGION,
                account=ACCOUNT,
                details={"public_ip": address[1]},
            ),
            Action.RELEASE,
            lambda w, r: not w.fleet.address_exists(r.id),
        ),
        (
            lambda w: w.database("orders"),
            Action.STOP,
            lambda w, r: w.fleet.database_status(r.id) == "stopped",
        ),
        (
            lambda w: w.database("orders"),
            Action.DELETE,
            lambda w, r: (
                w.fleet.database_status(r.id) in (None, "deleting")
                and len(w.fleet.db_snapshots()) == 1
            ),
        ),
        (
            lambda w: Resource(
                type=rt.NAT_GATEWAY, id=w.fleet.nat(), region=REGION, account=ACCOUNT
            ),
            Action.DELETE,
            lambda w, r: w.fleet.nat_state(r.id) in ("deleting", "deleted"),
        ),
        (
            lambda w: Resource(
                type=rt.LOAD_BALANCER,
                id=w.fleet.load_balancer("shop"),
                region=REGION,
                account=ACCOUNT,
                name="shop",
            ),
            Action.DELETE,
            lambda w, r: not w.fleet.load_balancer_exists(r.id),
        ),
    ],
    ids=["terminate-ec2", "delete-ebs", "release-eip", "stop-rds", "delete-rds", "nat", "alb"],
)
def test_each_button_changes_aws(
    make_world: Callable[..., World],
    make: Callable[[World], Resource],
    action: Action,
    check: Callable[[World, Resource], bool],
) -> None:
    world = make_world("enabled")
    resource = make(world)
    [posted] = world.digest(resource)
    world.click(action, posted)
    [row] = audit_rows(world)
    assert row.outcome == "done", row.detail
    assert check(world, resource)
    assert (
        world.nudge(posted).status
        == {
            Action.TERMINATE: "terminated",
            Action.DELETE: "deleted",
            Action.RELEASE: "released",
            Action.STOP: "stopped",
        }[action]
    )
    _, buttons = eventually(lambda: (r := world.row(posted))[0] and "by <@" in r[0] and r)
    assert not buttons


def test_terminate_reports_the_snapshots_taken_first(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1", volumes=2)
    [posted] = world.digest(web)
    world.click(Action.TERMINATE, posted)
    [row] = audit_rows(world)
    for volume in web.details["attached_volumes"]:
        [snapshot] = world.fleet.snapshots_of(volume["id"])
        assert f"{volume['id']} ({snapshot['SnapshotId']})" in row.detail
    text, _ = eventually(lambda: (r := world.row(posted))[0] and "Terminated" in r[0] and r)
    assert "after snapshotting" in text


# ---------------------------------------------------------------------------------------------
# Dry run


def test_dry_run_says_exactly_what_would_be_done_and_changes_nothing(
    make_world: Callable[..., World],
) -> None:
    world = make_world("dry-run")
    web = world.instance("web-1", volumes=1)
    [volume] = [v["id"] for v in web.details["attached_volumes"]]
    [posted] = world.digest(web)
    _, key = world.click(Action.TERMINATE, posted)

    told = world.told(key)
    assert told == (
        f"Dry run: I would have terminated web-1 ({web.id}) in {REGION} after snapshotting "
        f"{volume}. Nothing was changed (actions are in dry-run mode)."
    )
    assert world.fleet.instance_state(web.id) == "running"
    assert world.fleet.snapshots_of(volume) == []
    assert world.nudge(posted).is_open  # still waiting for a real answer
    _, buttons = world.row(posted)
    assert buttons and world.fake.calls_to("chat.update") == []
    [row] = audit_rows(world)
    assert (row.outcome, row.dry_run) == ("dry-run", True)
    [post] = eventually(world.audit_posts)
    assert "dry-run (dry run)" in all_text(post["blocks"])


def test_confirm_dialogs_on_destructive_buttons(make_world: Callable[..., World]) -> None:
    for mode, words in (
        ("dry-run", "dry run: nothing will change"),
        ("enabled", "cannot be undone"),
    ):
        world = make_world(mode)
        [posted] = world.digest(world.instance(f"web-{mode}"))
        blocks = world.fake.message(posted.channel, posted.ts)["blocks"]
        assert_valid_blocks(blocks)
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert {b["action_id"] for b in buttons} == {
            "nudge_keep",
            "nudge_stop",
            "nudge_terminate",
            "nudge_not_mine",
        }
        for button in buttons:
            action = Action(button["action_id"].removeprefix("nudge_"))
            assert button["value"] == button_value(posted.nudge_id, action)
            assert ("confirm" in button) is is_destructive(action)
        terminate = next(b for b in buttons if b["action_id"] == "nudge_terminate")
        assert words in terminate["confirm"]["text"]["text"]


# ---------------------------------------------------------------------------------------------
# Who may press


@pytest.mark.parametrize("admin", [ADMIN, GROUP_ADMIN])
def test_an_admin_may_act_on_anyones_resource(make_world: Callable[..., World], admin: str) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    world.click(Action.STOP, posted, user=admin)
    [row] = audit_rows(world)
    assert (row.slack_user, row.outcome) == (admin, "done")
    assert world.fleet.instance_state(web.id) == "stopped"
    assert world.nudge(posted).decided_by == admin
    [post] = eventually(world.audit_posts)
    assert f"(owner <@{OWNER}>)" in all_text(post["blocks"])


@pytest.mark.parametrize("action", [Action.STOP, Action.TERMINATE, Action.KEEP, Action.NOT_MINE])
def test_a_stranger_is_refused_politely(make_world: Callable[..., World], action: Action) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    _, key = world.click(action, posted, user=STRANGER)
    told = world.told(key)
    assert told.startswith(f"Only <@{OWNER}> or an admin can decide about web-1 ({web.id})")
    assert world.fleet.instance_state(web.id) == "running"
    assert world.nudge(posted).is_open
    assert world.store.audit_since(NOW) == []
    assert world.fake.calls_to("views.open") == [] and world.fake.calls_to("chat.update") == []


# ---------------------------------------------------------------------------------------------
# Calm answers: double clicks, gone resources, stale buttons


def test_a_second_click_is_answered_calmly(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    world.click(Action.STOP, posted)
    audit_rows(world)
    _, key = world.click(Action.STOP, posted, user=ADMIN)
    told = world.told(key)
    assert told.startswith(f"web-1 ({web.id}) was already stopped by <@{OWNER}> on <!date^")
    assert told.endswith(": nothing more to do.")
    assert len(world.store.audit_since(NOW)) == 1


def test_two_clicks_at_once_act_once(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    calls: list[str] = []
    world.fleet.ec2.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    keys: list[str] = []
    start = threading.Barrier(2)

    def click(user: str) -> None:
        start.wait()
        keys.append(world.click(Action.TERMINATE, posted, user=user)[1])

    threads = [threading.Thread(target=click, args=(user,)) for user in (OWNER, ADMIN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    [row] = audit_rows(world)
    assert row.outcome == "done"
    # The second click finds it being handled, or done, depending on when it looked.
    eventually(
        lambda: any(
            "already terminated" in world.told(k) or "already being handled" in world.told(k)
            for k in keys
            if world.fake.responses.get(k)
        )
    )
    assert calls.count("TerminateInstances") == 1
    time.sleep(0.3)  # nothing else arrives late
    assert len(world.store.audit_since(NOW)) == 1


def test_a_resource_already_deleted_is_answered_calmly(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    volume = Resource(
        type=rt.EBS_VOLUME,
        id=world.fleet.volume(),
        region=REGION,
        account=ACCOUNT,
        state="available",
    )
    [posted] = world.digest(volume)
    world.fleet.ec2.delete_volume(VolumeId=volume.id)  # someone was quicker, in the console
    world.click(Action.DELETE, posted)
    [row] = audit_rows(world)
    assert row.outcome == "already"
    assert world.nudge(posted).status == "gone"
    text, buttons = eventually(lambda: (r := world.row(posted))[0] and "already gone" in r[0] and r)
    assert not buttons and f"{volume.id} is already gone: nothing to do." in text
    assert world.fleet.snapshots_of(volume.id) == []


def test_a_protected_resource_is_refused_and_stays_open(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("db-box", protected=True)
    [posted] = world.digest(web)
    _, key = world.click(Action.TERMINATE, posted)
    assert "termination protection on" in world.told(key)
    assert world.fleet.instance_state(web.id) == "running"
    nudge = world.nudge(posted)
    assert nudge.is_open and nudge.decided_by is None  # claimed, then opened again
    assert audit_rows(world)[0].outcome == "refused"
    assert world.row(posted)[1]  # the buttons still stand: Keep is still an answer


@pytest.mark.parametrize(
    ("action_id_", "value"),
    [
        ("nudge_stop", "nosuchnudge1:stop"),  # the store has no such nudge
        ("nudge_stop", "garbage"),
        ("nudge_stop", "{id}:terminate"),  # the action id and the value disagree
        ("nudge_release", "{id}:release"),  # an instance has no Release button
    ],
)
def test_stale_or_forged_buttons(
    make_world: Callable[..., World], action_id_: str, value: str
) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    reply, key = world.harness.click(
        action_id_,
        value.format(id=posted.nudge_id),
        user=OWNER,
        channel=posted.channel,
        message_ts=posted.ts,
    )
    assert reply.status == 200
    assert world.told(key) == STALE
    assert world.fleet.instance_state(web.id) == "running"
    assert world.store.audit_since(NOW) == []


# ---------------------------------------------------------------------------------------------
# Keep


def keep_values(choice: str, day: str | None = None, reason: str | None = None) -> dict[str, Any]:
    return {
        views.KEEP_CHOICE_BLOCK: {
            views.INPUT: {"type": "radio_buttons", "selected_option": {"value": choice}}
        },
        views.KEEP_DATE_BLOCK: {views.INPUT: {"type": "datepicker", "selected_date": day}},
        views.KEEP_REASON_BLOCK: {views.INPUT: {"type": "plain_text_input", "value": reason}},
    }


def open_modal(world: World, action: Action, posted: Posted, user: str = OWNER) -> dict[str, Any]:
    _, key = world.click(action, posted, user=user)
    [call] = world.fake.wait_for_call("views.open")
    assert call.params["trigger_id"] == f"1234.5678.{key}"
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert_valid_blocks(view["blocks"], limit=100)
    return view


def test_keep_opens_a_modal_and_writes_the_store_and_the_tags(
    make_world: Callable[..., World],
) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    view = open_modal(world, Action.KEEP, posted)
    assert view["callback_id"] == views.KEEP_CALLBACK
    assert [o["value"] for o in view["blocks"][1]["element"]["options"]] == ["7d", "30d", "date"]

    reply = world.harness.submit_view(
        views.KEEP_CALLBACK,
        keep_values("date", "2026-04-01", "demo on <!channel> Friday"),
        user=OWNER,
        private_metadata=view["private_metadata"],
    )
    assert reply.status == 200 and reply.body == ""  # closes the modal
    [row] = audit_rows(world)
    assert (row.action, row.outcome, row.slack_user) == ("keep", "done", OWNER)
    keep = world.store.active_keep(web.key, NOW + timedelta(days=20))
    assert keep is not None
    assert keep.until == datetime(2026, 4, 1, 23, 59, 59, tzinfo=UTC)
    assert (keep.reason, keep.by, keep.nudge_id) == (
        "demo on <!channel> Friday",
        OWNER,
        posted.nudge_id,
    )
    assert world.nudge(posted).status == "kept"
    tags = world.fleet.tags_of(web.id)
    until = world.services.signer.read_keep_until(web.key, tags[KEEP_UNTIL_TAG])
    assert until == datetime(2026, 4, 1, 23, 59, 59, tzinfo=UTC)  # signed by the bot, for it
    assert tags[KEEP_REASON_TAG] == "demo on channel Friday"
    text, buttons = eventually(lambda: (r := world.row(posted))[0] and "Kept" in r[0] and r)
    assert not buttons and "&lt;!channel&gt;" in text and "<!channel>" not in text
    [post] = eventually(world.audit_posts)
    assert "<!channel>" not in all_text(post["blocks"])


def test_keep_for_seven_days_in_dry_run_writes_no_tag(make_world: Callable[..., World]) -> None:
    world = make_world("dry-run")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    view = open_modal(world, Action.KEEP, posted)
    world.harness.submit_view(
        views.KEEP_CALLBACK,
        keep_values("7d"),
        user=OWNER,
        private_metadata=view["private_metadata"],
    )
    [row] = audit_rows(world)
    assert (row.outcome, row.dry_run) == ("done", False)  # the keep is real; only tags wait
    keep = world.store.active_keep(web.key, NOW)
    assert keep is not None and keep.until == NOW + timedelta(days=7)
    assert KEEP_UNTIL_TAG not in world.fleet.tags_of(web.id)
    assert "tag was not written" in row.detail


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        (keep_values("date", "2026-03-01"), views.KEEP_DATE_BLOCK, "Pick a date after today."),
        (keep_values("date", None), views.KEEP_DATE_BLOCK, "Pick the date"),
    ],
)
def test_keep_form_errors_are_shown_on_the_field(
    make_world: Callable[..., World], values: dict[str, Any], field: str, words: str
) -> None:
    world = make_world("enabled")
    [posted] = world.digest(world.instance("web-1"))
    view = open_modal(world, Action.KEEP, posted)
    reply = world.harness.submit_view(
        views.KEEP_CALLBACK, values, user=OWNER, private_metadata=view["private_metadata"]
    )
    assert reply.status == 200
    assert reply.json()["response_action"] == "errors"
    assert words in reply.json()["errors"][field]
    assert world.store.active_keeps(NOW) == {} and world.nudge(posted).is_open


# ---------------------------------------------------------------------------------------------
# Not mine


def not_mine_values(user: str | None, note: str | None = None) -> dict[str, Any]:
    return {
        views.NEW_OWNER_BLOCK: {views.INPUT: {"type": "users_select", "selected_user": user}},
        views.NOTE_BLOCK: {views.INPUT: {"type": "plain_text_input", "value": note}},
    }


def test_not_mine_passes_the_nudge_to_its_owner(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    view = open_modal(world, Action.NOT_MINE, posted)
    assert view["callback_id"] == views.NOT_MINE_CALLBACK
    reply = world.harness.submit_view(
        views.NOT_MINE_CALLBACK,
        not_mine_values(NEW_OWNER, "Bob's test box"),
        user=OWNER,
        private_metadata=view["private_metadata"],
    )
    assert reply.status == 200 and reply.body == ""

    [row] = audit_rows(world)
    assert (row.action, row.outcome) == ("not_mine", "done") and NEW_OWNER in row.detail
    old = world.nudge(posted)
    assert (old.status, old.decided_by) == ("reassigned", OWNER)
    dm = eventually(
        lambda: [
            c.params
            for c in world.fake.calls_to("chat.postMessage")
            if c.params["channel"] == NEW_OWNER
        ]
    )[0]
    assert_valid_blocks(dm["blocks"])
    assert f"<@{OWNER}> says this AWS resource is yours" in all_text(dm["blocks"])
    [fresh] = world.store.open_nudges_for(NEW_OWNER)
    assert fresh.key == web.key and fresh.details["reassigned_from"] == posted.nudge_id
    assert fresh.channel == "D" + NEW_OWNER[1:] and fresh.message_ts
    assert button_value(fresh.id, Action.STOP) in all_text(dm["blocks"])
    _, buttons = eventually(lambda: (r := world.row(posted))[0] and "Passed on" in r[0] and r)
    assert not buttons

    # The new owner can act on it now; the old one cannot.
    moved = Posted(fresh.id, fresh.channel, fresh.message_ts)
    _, key = world.click(Action.STOP, moved, user=OWNER)
    assert world.told(key).startswith(f"Only <@{NEW_OWNER}> or an admin")
    world.click(Action.STOP, moved, user=NEW_OWNER)
    eventually(lambda: world.fleet.instance_state(web.id) == "stopped")


def test_not_mine_to_someone_slack_will_not_reach_says_so(
    make_world: Callable[..., World],
) -> None:
    world = make_world("enabled")
    [posted] = world.digest(world.instance("web-1"))
    view = open_modal(world, Action.NOT_MINE, posted)
    world.fake.fail_next("chat.postMessage", "account_inactive")  # the new owner has left
    world.harness.submit_view(
        views.NOT_MINE_CALLBACK,
        not_mine_values(NEW_OWNER),
        user=OWNER,
        private_metadata=view["private_metadata"],
    )

    def told() -> list[str]:
        calls = world.fake.calls_to("chat.postEphemeral") + world.fake.calls_to("chat.postMessage")
        return [
            str(c.params.get("text")) for c in calls if "Passed on" in str(c.params.get("text"))
        ]

    [words] = eventually(told)
    assert "would not let me tell them (account_inactive)" in words
    assert "delayed" not in words  # it is not: it is never sent
    assert world.store.failed_since_sent(NEW_OWNER).failure == "account_inactive"
    assert world.store.pending_digests() == []


def test_not_mine_without_a_name_goes_to_the_fallback_channel(
    make_world: Callable[..., World],
) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    view = open_modal(world, Action.NOT_MINE, posted)
    world.harness.submit_view(
        views.NOT_MINE_CALLBACK,
        not_mine_values(None),
        user=OWNER,
        private_metadata=view["private_metadata"],
    )
    audit_rows(world)
    post = eventually(
        lambda: [
            c.params
            for c in world.fake.calls_to("chat.postMessage")
            if c.params["channel"] == FALLBACK
        ]
    )[0]
    assert f"<@{OWNER}> says this is not theirs" in all_text(post["blocks"])
    [fresh] = [n for n in world.store.open_nudges() if n.id != posted.nudge_id]
    assert fresh.owner_slack_user is None and fresh.channel == FALLBACK
    # Nobody owns it now: only admins may act.
    moved = Posted(fresh.id, FALLBACK, fresh.message_ts)
    _, key = world.click(Action.STOP, moved, user=OWNER)
    assert "Only an admin can decide" in world.told(key)


@pytest.mark.parametrize(
    ("fallback", "user", "words"),
    [
        (None, None, "no fallback channel is configured"),
        (FALLBACK, OWNER, "That is you"),
        (FALLBACK, "OWNER-BY-ADMIN", "already theirs"),
    ],
)
def test_not_mine_form_errors(
    make_world: Callable[..., World], fallback: str | None, user: str | None, words: str
) -> None:
    world = make_world("enabled", fallback_channel=fallback)
    [posted] = world.digest(world.instance("web-1"))
    view = open_modal(world, Action.NOT_MINE, posted, user=ADMIN)
    # An admin passing it to its owner, or the owner passing it to themselves.
    clicker = OWNER if user == OWNER else ADMIN
    reply = world.harness.submit_view(
        views.NOT_MINE_CALLBACK,
        not_mine_values(OWNER if user == "OWNER-BY-ADMIN" else user),
        user=clicker,
        private_metadata=view["private_metadata"],
    )
    assert words in reply.json()["errors"][views.NEW_OWNER_BLOCK]
    assert world.nudge(posted).is_open


# ---------------------------------------------------------------------------------------------
# App Home


def test_app_home_shows_my_open_nudges_with_their_buttons(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    cheap, dear = world.instance("cheap"), world.instance("dear")
    [first] = world.digest(cheap, cost=5.0)
    [second] = world.digest(dear, cost=90.0)
    world.digest(world.instance("someone-elses"), owner=NEW_OWNER)

    reply = world.harness.event(
        {"type": "app_home_opened", "user": OWNER, "channel": "D0X", "tab": "home"}
    )
    assert reply.status == 200
    [call] = world.fake.wait_for_call("views.publish")
    assert call.params["user_id"] == OWNER
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    assert_valid_blocks(view["blocks"], limit=100)
    text = all_text(view["blocks"])
    assert "someone-elses" not in text
    assert text.index("dear") < text.index("cheap")  # the most expensive first
    assert "$90.00/month" in text
    assert button_value(first.nudge_id, Action.STOP) in text
    assert button_value(second.nudge_id, Action.TERMINATE) in text


def test_the_messages_tab_publishes_nothing(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    world.harness.event(
        {"type": "app_home_opened", "user": OWNER, "channel": "D0X", "tab": "messages"}
    )
    time.sleep(0.3)
    assert world.fake.calls_to("views.publish") == []


def test_a_click_in_app_home_acts_and_refreshes_it(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    reply, _ = world.harness.click(
        "nudge_stop",
        button_value(posted.nudge_id, Action.STOP),
        user=OWNER,
        home_view_id="V0HOME001",
    )
    assert reply.status == 200
    eventually(lambda: world.fleet.instance_state(web.id) == "stopped")
    [call] = world.fake.wait_for_call("views.publish")
    assert call.params["user_id"] == OWNER
    assert posted.nudge_id not in json.dumps(call.params["view"])  # no longer waiting
    # The digest in the DM shows the outcome too.
    _, buttons = eventually(lambda: (r := world.row(posted))[0] and "Stopped" in r[0] and r)
    assert not buttons


# ---------------------------------------------------------------------------------------------
# Audit without a channel, and two rows of one digest


def test_without_an_audit_channel_the_row_is_still_written(
    make_world: Callable[..., World],
) -> None:
    world = make_world("enabled", audit_channel=None)
    [posted] = world.digest(world.instance("web-1"))
    world.click(Action.STOP, posted)
    assert audit_rows(world)[0].outcome == "done"
    assert world.audit_posts() == []


def test_two_decisions_in_one_digest_both_stay(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    one, two = world.instance("one"), world.instance("two")
    first, second = world.digest(one, two)
    world.click(Action.STOP, first)
    eventually(lambda: "Stopped" in (world.row(first)[0] or ""))
    world.click(Action.TERMINATE, second)
    eventually(lambda: "Terminated" in (world.row(second)[0] or ""))
    assert "Stopped" in (world.row(first)[0] or "")


# ---------------------------------------------------------------------------------------------
# moto and the fake Slack side by side


def test_moto_and_the_fake_slack_coexist(fake_slack: FakeSlack) -> None:
    with mock_aws():
        fleet = Fleet()
        instance = fleet.instance("web-1")  # botocore → moto
        request = urllib.request.Request(
            f"{fake_slack.url}auth.test",
            data=b"token=xoxb-test",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # urllib → 127.0.0.1
            assert json.loads(response.read())["ok"] is True
        assert fleet.instance_state(instance) == "running"
    assert fake_slack.methods() == ["auth.test"]


def test_the_click_is_acked_before_aws_is_touched(
    make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    operations = world.services.operations
    real = operations.perform
    gate, threads = threading.Event(), []

    def slow(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        assert gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(operations, "perform", slow)
    reply, _ = world.click(Action.STOP, posted)  # returns while AWS waits behind the gate
    assert reply.status == 200 and world.fleet.instance_state(web.id) == "running"
    gate.set()
    assert audit_rows(world)[0].outcome == "done"
    assert threads == [threads[0]] and threads[0].startswith("whocreated-actions")


def test_a_stop_never_waits_behind_slow_lookups(make_world: Callable[..., World]) -> None:
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web)
    lookups = world.services.lookups
    lookups.gate = threading.Event()  # every lookup hangs until released
    try:
        for _ in range(12):
            world.harness.command("i-0dbc91f429e48eeed")
        eventually(lambda: len(lookups.calls) >= 4)  # the lookups lane is full, 8 more queued

        world.click(Action.STOP, posted)

        [row] = audit_rows(world)
        assert (row.action, row.outcome) == ("stop", "done")
        assert not lookups.gate.is_set() and len(lookups.calls) == 4  # still held, all of them
        assert world.fleet.instance_state(web.id) in ("stopping", "stopped")
    finally:
        lookups.gate.set()


# Trust: nobody borrows the bot's power (DESIGN.md §4) -------------------------------------------


def test_an_owner_tag_routes_the_digest_but_the_tagger_cannot_act(
    make_world: Callable[..., World],
) -> None:
    """mallory tagged Owner=<@mallory> on an instance whose creator CloudTrail no longer has:
    the digest reaches her without buttons, and a forged click is refused; an admin may act."""
    world = make_world("enabled")
    web = world.instance("web-1")
    [posted] = world.digest(web, owner=STRANGER, verified=False)
    text, buttons = world.row(posted)
    assert text is not None and "not verified" in text and not buttons

    _, key = world.click(Action.TERMINATE, posted, user=STRANGER)

    assert "Only an admin can decide" in world.told(key)
    assert world.fleet.instance_state(web.id) == "running"
    assert world.nudge(posted).is_open
    assert world.store.audit_since(NOW - timedelta(days=1)) == []
    world.click(Action.TERMINATE, posted, user=ADMIN)
    eventually(lambda: world.fleet.instance_state(web.id) in ("shutting-down", "terminated"))


def test_a_stale_delete_on_a_reused_database_name_deletes_nothing(
    make_world: Callable[..., World],
) -> None:
    """The nudge was about alice's `orders`; it was deleted and bob made a new `orders`."""
    world = make_world("enabled")
    old = dataclasses.replace(world.database("orders"), created_at=NOW - timedelta(days=60))
    [posted] = world.digest(old)

    _, key = world.click(Action.DELETE, posted)

    assert "is a different resource now" in world.told(key)
    assert world.fleet.database_status("orders") == "available"
    assert world.fleet.db_snapshots() == []
    [row] = audit_rows(world)
    assert row.outcome == "different"
    assert world.nudge(posted).status == "gone"


@pytest.mark.parametrize("tag", [{"env": "prod"}, {"Env": "Prod"}, {"ENV": "prod"}])
def test_a_key_value_protected_tag_protects_whatever_its_case(
    make_world: Callable[..., World], tag: dict[str, str]
) -> None:
    world = make_world("enabled", protected_tags=("env=prod",))
    web = world.instance("web-1", tags=tag)
    [posted] = world.digest(web)

    _, key = world.click(Action.TERMINATE, posted)

    assert "protected tag env=prod" in world.told(key)
    assert world.fleet.instance_state(web.id) == "running"
    assert world.nudge(posted).is_open


def _named(world: World, kind: str, name: str, state: str) -> Resource:
    """A resource named by a reusable name, with its creation time, as the inventory saw it."""
    return Resource(
        type=kind,
        id=name,
        region=REGION,
        account=ACCOUNT,
        name=name,
        state=state,
        created_at=world.fleet.created_at(kind, name),
    )


@pytest.mark.parametrize(
    ("make", "action", "check", "status"),
    [
        (
            lambda w: _named(w, "AWS::Redshift::Cluster", w.fleet.warehouse(), "available"),
            Action.PAUSE,
            lambda w, r: (
                w.fleet.client_for("redshift", REGION).describe_clusters(ClusterIdentifier=r.id)[
                    "Clusters"
                ][0]["ClusterStatus"]
                == "paused"
            ),
            "paused",
        ),
        (
            lambda w: _named(w, "AWS::DynamoDB::Table", w.fleet.table(), "ACTIVE"),
            Action.ON_DEMAND,
            lambda w, r: (
                w.fleet.client_for("dynamodb", REGION).describe_table(TableName=r.id)["Table"][
                    "BillingModeSummary"
                ]["BillingMode"]
                == "PAY_PER_REQUEST"
            ),
            "switched",
        ),
        (
            lambda w: Resource(
                type="AWS::EC2::Image",
                id=w.fleet.image("golden"),
                region=REGION,
                account=ACCOUNT,
                state="available",
                details={"snapshots": [{"id": "snap-1", "gib": 8}]},
            ),
            Action.DEREGISTER,
            lambda w, r: w.fleet.image_state(r.id) is None,
            "deregistered",
        ),
    ],
    ids=["pause-redshift", "on-demand-dynamodb", "deregister-ami"],
)
def test_the_new_buttons_change_aws_through_slack(
    make_world: Callable[..., World],
    make: Callable[[World], Resource],
    action: Action,
    check: Callable[[World, Resource], bool],
    status: str,
) -> None:
    world = make_world("enabled")
    resource = make(world)
    [posted] = world.digest(resource)
    world.click(action, posted)
    [row] = audit_rows(world)
    assert row.outcome == "done", row.detail
    assert check(world, resource)
    assert world.nudge(posted).status == status
    _, buttons = eventually(lambda: (r := world.row(posted))[0] and "by <@" in r[0] and r)
    assert not buttons
