"""Decisions: offered buttons, who may press them, their values, and their words."""

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core import resources as rt
from bot.core.decisions import (
    Action,
    KeepInvalid,
    action_id,
    button_value,
    confirmation,
    describe,
    is_destructive,
    keep_until,
    may_act,
    parse_button_value,
)
from bot.core.policy import Actions
from bot.core.resources import Resource
from bot.registry.patrol import PATROL, actions_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
K, S, T, D, R, N = (
    Action.KEEP,
    Action.STOP,
    Action.TERMINATE,
    Action.DELETE,
    Action.RELEASE,
    Action.NOT_MINE,
)
ENABLED = Actions(mode="enabled")
NO_SNAPSHOTS = Actions(mode="enabled", snapshot_before_delete=False)


def res(resource_type: str, resource_id: str, **kw: object) -> Resource:
    return Resource(
        type=resource_type, id=resource_id, region="eu-west-1", account="123456789012", **kw
    )


WEB = res(
    rt.EC2_INSTANCE,
    "i-0abc",
    name="web-1",
    state="running",
    details={"attached_volumes": [{"id": "vol-1"}, {"id": "vol-2"}]},
)


@pytest.mark.parametrize(
    ("resource_type", "state", "expected"),
    [
        (rt.EC2_INSTANCE, "running", (K, S, T, N)),
        (rt.EC2_INSTANCE, "stopped", (K, T, N)),
        (rt.EBS_VOLUME, "available", (K, D, N)),
        (rt.ELASTIC_IP, None, (K, R, N)),
        (rt.NAT_GATEWAY, "available", (K, D, N)),
        (rt.LOAD_BALANCER, "active", (K, D, N)),
        (rt.CLASSIC_LOAD_BALANCER, None, (K, D, N)),
        (rt.RDS_INSTANCE, "available", (K, S, D, N)),
        (rt.RDS_INSTANCE, "stopped", (K, D, N)),
        (rt.EKS_CLUSTER, "ACTIVE", (K, N)),  # deleting a cluster is too broad for a button
        ("AWS::S3::Bucket", None, (K, N)),
    ],
)
def test_actions_offered(resource_type: str, state: str | None, expected: tuple) -> None:
    assert actions_for(resource_type, state) == expected


def test_destructive_actions() -> None:
    assert {a for a in Action if is_destructive(a)} == {
        S,
        T,
        D,
        R,
        Action.PAUSE,
        Action.ON_DEMAND,
        Action.DEREGISTER,
    }


def test_action_ids() -> None:
    assert [action_id(a) for a in Action] == [
        "nudge_keep",
        "nudge_stop",
        "nudge_pause",
        "nudge_on_demand",
        "nudge_terminate",
        "nudge_delete",
        "nudge_release",
        "nudge_deregister",
        "nudge_not_mine",
    ]


def test_button_values_round_trip() -> None:
    for action in Action:
        assert parse_button_value(button_value("Ab_9-xYz12", action)) == ("Ab_9-xYz12", action)


@pytest.mark.parametrize(
    "value", ["", "nudge", ":stop", "abc:explode", "abc", "x" * 70 + ":stop", "i-0abc:format"]
)
def test_button_values_that_are_not_ours(value: str) -> None:
    with pytest.raises(ValueError):
        parse_button_value(value)


@pytest.mark.parametrize(
    ("user", "owner", "admins", "group", "allowed"),
    [
        ("U0A", "U0A", (), (), True),
        ("U0B", "U0A", (), (), False),
        ("U0B", "U0A", ("U0B",), (), True),
        ("U0B", "U0A", (), ("U0B",), True),
        ("U0B", None, (), (), False),  # fallback-channel nudges: admins only
        ("U0B", None, ("U0B",), (), True),
        (None, None, (), (), False),
        ("", "", (), (), False),
    ],
)
def test_may_act(
    user: str | None, owner: str | None, admins: tuple, group: tuple, allowed: bool
) -> None:
    assert may_act(user, owner, admins, group) is allowed


def test_keep_until() -> None:
    assert keep_until("7d", None, NOW) == NOW + timedelta(days=7)
    assert keep_until("30d", date(2020, 1, 1), NOW) == NOW + timedelta(days=30)
    assert keep_until("date", date(2026, 4, 1), NOW) == datetime(2026, 4, 1, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("choice", "until", "field", "words"),
    [
        (None, None, "choice", "Choose how long"),
        ("forever", None, "choice", "Choose how long"),
        ("date", None, "date", "Pick the date"),
        ("date", date(2026, 3, 1), "date", "after today"),
        ("date", date(2026, 3, 2), "date", "after today"),
        ("date", date(2028, 1, 1), "date", "within 366 days"),
    ],
)
def test_keep_until_refuses(choice: str | None, until: date | None, field: str, words: str) -> None:
    with pytest.raises(KeepInvalid, match=words) as raised:
        keep_until(choice, until, NOW)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("action", "resource", "actions", "words"),
    [
        (
            T,
            WEB,
            ENABLED,
            "terminate the EC2 instance web-1 (i-0abc) in eu-west-1 after snapshotting its "
            "2 volumes",
        ),
        (T, WEB, NO_SNAPSHOTS, "without snapshotting its 2 volumes (snapshots are off)"),
        (S, WEB, ENABLED, "stop the EC2 instance web-1 (i-0abc) in eu-west-1; its volumes stay"),
        (
            D,
            res(rt.EBS_VOLUME, "vol-9", size="100 GiB gp3"),
            ENABLED,
            "delete the EBS volume vol-9 in eu-west-1 (100 GiB gp3) after taking a snapshot of it",
        ),
        (
            D,
            res(rt.EBS_VOLUME, "vol-9"),
            NO_SNAPSHOTS,
            "delete the EBS volume vol-9 in eu-west-1 without a snapshot",
        ),
        (
            R,
            res(rt.ELASTIC_IP, "eipalloc-1", details={"public_ip": "203.0.113.5"}),
            ENABLED,
            "release the Elastic IP 203.0.113.5 (eipalloc-1) in eu-west-1; the address cannot",
        ),
        (D, res(rt.NAT_GATEWAY, "nat-1"), ENABLED, "delete the NAT gateway nat-1 in eu-west-1;"),
        (
            D,
            res(rt.LOAD_BALANCER, "arn:aws:elasticloadbalancing:…/app/shop/1", name="shop"),
            ENABLED,
            "delete the load balancer shop in eu-west-1",
        ),
        (S, res(rt.RDS_INSTANCE, "orders"), ENABLED, "stop the database orders in eu-west-1; AWS"),
        (
            D,
            res(rt.RDS_INSTANCE, "orders"),
            ENABLED,
            "delete the database orders in eu-west-1 after a final snapshot",
        ),
        (N, WEB, ENABLED, "pass on the EC2 instance web-1 (i-0abc) in eu-west-1 to whoever"),
    ],
)
def test_describe(action: Action, resource: Resource, actions: Actions, words: str) -> None:
    assert words in describe(action, resource, actions, PATROL)


def test_describe_keep_with_a_date() -> None:
    until = datetime(2026, 4, 1, 23, 59, 59, tzinfo=UTC)
    assert describe(K, WEB, ENABLED, PATROL, until=until) == (
        "keep the EC2 instance web-1 (i-0abc) in eu-west-1 until 2026-04-01 and stop asking "
        "about it until then"
    )


def test_confirmation_words_fit_slack() -> None:
    long = res(rt.EC2_INSTANCE, "i-0abc", name="x" * 400, details={})
    for actions in (ENABLED, Actions()):
        for action in (S, T, D, R):
            words = confirmation(action, long, actions, PATROL)
            assert len(words.title) <= 100 and len(words.text) <= 300
            assert len(words.confirm) <= 30 and len(words.deny) <= 30


def test_confirmation_says_dry_run_or_final() -> None:
    dry = confirmation(T, WEB, Actions(), PATROL)
    assert dry.title == "Terminate i-0abc?"
    assert dry.text.startswith("Terminate the EC2 instance web-1 (i-0abc) in eu-west-1 after")
    assert "dry-run mode: nothing will change" in dry.text
    assert "cannot be undone" in confirmation(T, WEB, ENABLED, PATROL).text
    assert "cannot be undone" not in confirmation(S, WEB, ENABLED, PATROL).text
    assert confirmation(T, WEB, ENABLED, PATROL).confirm == "Yes, terminate"
