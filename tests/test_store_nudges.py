"""Nudges, keeps and the audit trail in the store: SQLite and a real PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, Resource
from bot.store import Store
from tests.postgres import store_on

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACCOUNT = "123456789012"

WEB = Resource(
    type=EC2_INSTANCE,
    id="i-0abc1234567890def",
    region="eu-west-1",
    account=ACCOUNT,
    name="web-1",
    state="running",
    created_at=datetime(2026, 1, 5, tzinfo=UTC),
    size="t3.large",
    tags={"Name": "web-1", "team": "<!channel>"},
    details={"attached_volumes": [{"id": "vol-1", "gib": 8, "type": "gp3"}]},
)
DISK = Resource(type=EBS_VOLUME, id="vol-0123", region="eu-west-1", account=ACCOUNT, size="100 GiB")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_on(request.param, tmp_path / "state" / "whocreated.sqlite3") as opened:
        yield opened


def test_a_nudge_round_trips_with_its_resource(store: Store) -> None:
    nudge = store.create_nudge(
        WEB,
        owner_slack_user="U0ALICE",
        sent_at=NOW,
        round_id="round-1",
        monthly_cost=61.32,
        details={"reasons": ["max CPU 0.4 % over 7 days"]},
    )
    assert 8 <= len(nudge.id) <= 32 and ":" not in nudge.id
    found = store.get_nudge(nudge.id)
    assert found == nudge
    assert found.status == "open" and found.is_open and found.times_sent == 1
    assert found.first_sent_at == NOW and found.first_sent_at.tzinfo is not None
    assert found.key == WEB.key
    assert found.resource_label == "web-1 (i-0abc1234567890def)"
    assert found.details["reasons"] == ["max CPU 0.4 % over 7 days"]
    assert found.resource() == WEB  # everything a button needs, without trusting the payload


def test_ids_are_unique(store: Store) -> None:
    ids = set()
    for _ in range(20):
        nudge = store.create_nudge(DISK, owner_slack_user="U0A", sent_at=NOW)
        store.decide(nudge.id, "kept", by="U0A", at=NOW)  # one open nudge a resource at a time
        ids.add(nudge.id)
    assert len(ids) == 20


def test_unknown_nudge_is_none(store: Store) -> None:
    assert store.get_nudge("nope") is None
    assert store.update_nudge("nope", status="kept") is None
    assert store.decide("nope", "kept", by="U0A", at=NOW) is False


def test_times_are_stored_in_utc_whatever_zone_they_came_in(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    nudge = store.create_nudge(DISK, owner_slack_user="U0A", sent_at=NOW.astimezone(paris))
    assert store.get_nudge(nudge.id).first_sent_at == NOW
    store.put_keep(DISK.key, until=(NOW + timedelta(hours=1)).astimezone(paris), reason=None,
                   by="U0A", at=NOW)  # fmt: skip
    assert store.active_keep(DISK.key, NOW + timedelta(minutes=59)) is not None
    assert store.active_keep(DISK.key, NOW + timedelta(minutes=61)) is None


def test_update_message_and_re_sends(store: Store) -> None:
    first = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    second = store.create_nudge(DISK, owner_slack_user="U0A", sent_at=NOW)
    store.set_message([first.id, second.id], "D0ALICE", "1700000000.000100")
    assert {n.id for n in store.nudges_in_message("D0ALICE", "1700000000.000100")} == {
        first.id,
        second.id,
    }
    later = NOW + timedelta(days=3)
    store.mark_sent(first.id, later, round_id="round-2")
    again = store.get_nudge(first.id)
    assert (again.times_sent, again.last_sent_at, again.round_id) == (2, later, "round-2")
    assert again.first_sent_at == NOW
    updated = store.update_nudge(first.id, details={"note": "x"}, monthly_cost=5.0)
    assert updated.details == {"note": "x"} and updated.monthly_cost == 5.0


def test_update_nudge_refuses_unknown_fields_and_statuses(store: Store) -> None:
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    with pytest.raises(ValueError, match="resource_id"):
        store.update_nudge(nudge.id, resource_id="i-other")
    with pytest.raises(ValueError, match="unknown nudge status"):
        store.update_nudge(nudge.id, status="maybe")


def test_decide_lets_exactly_one_click_win(store: Store) -> None:
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    assert store.decide(nudge.id, "terminated", by="U0A", at=NOW) is True
    assert store.decide(nudge.id, "terminated", by="U0ADMIN", at=NOW) is False
    decided = store.get_nudge(nudge.id)
    assert (decided.status, decided.decided_by, decided.decided_at) == ("terminated", "U0A", NOW)
    assert store.reopen(nudge.id, from_status="stopped") is False  # only from what it is
    assert store.reopen(nudge.id, from_status="terminated") is True
    reopened = store.get_nudge(nudge.id)
    assert reopened.is_open and reopened.decided_by is None


def test_open_nudges_for_an_owner_most_expensive_first(store: Store) -> None:
    cheap = store.create_nudge(DISK, owner_slack_user="U0A", sent_at=NOW, monthly_cost=8.0)
    unpriced = store.create_nudge(
        Resource(type=EBS_VOLUME, id="vol-9", region="eu-west-1", account=ACCOUNT),
        owner_slack_user="U0A",
        sent_at=NOW,
    )
    done = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW, monthly_cost=99.0)
    store.decide(done.id, "kept", by="U0A", at=NOW)
    dear = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW, monthly_cost=61.0)
    other = Resource(type=EC2_INSTANCE, id="i-0other", region="eu-west-1", account=ACCOUNT)
    store.create_nudge(other, owner_slack_user="U0B", sent_at=NOW, monthly_cost=70.0)
    assert [n.id for n in store.open_nudges_for("U0A")] == [dear.id, cheap.id, unpriced.id]
    assert len(store.open_nudges()) == 4


def test_last_nudge_for_a_resource(store: Store) -> None:
    assert store.last_nudge_for(WEB.key) is None
    older = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    store.decide(older.id, "kept", by="U0A", at=NOW)
    newer = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW + timedelta(days=3))
    store.create_nudge(DISK, owner_slack_user="U0A", sent_at=NOW + timedelta(days=4))
    other_region = Resource(type=EC2_INSTANCE, id=WEB.id, region="us-east-1", account=ACCOUNT)
    store.create_nudge(other_region, owner_slack_user="U0A", sent_at=NOW + timedelta(days=5))
    assert store.last_nudge_for(WEB.key).id == newer.id


def test_keeps_are_active_until_they_end(store: Store) -> None:
    store.put_keep(WEB.key, until=NOW + timedelta(days=7), reason="demo", by="U0A", at=NOW)
    store.put_keep(WEB.key, until=NOW + timedelta(days=30), reason="longer", by="U0B", at=NOW)
    store.put_keep(DISK.key, until=NOW - timedelta(days=1), reason="old", by="U0A", at=NOW)
    keep = store.active_keep(WEB.key, NOW + timedelta(days=8))
    assert keep is not None and (keep.reason, keep.by) == ("longer", "U0B")
    assert store.active_keep(WEB.key, NOW + timedelta(days=31)) is None
    assert store.active_keep(DISK.key, NOW) is None
    assert set(store.active_keeps(NOW)) == {WEB.key}
    assert store.active_keeps(NOW)[WEB.key].reason == "longer"


def test_a_keep_marks_the_nudge_and_writes_the_keep_together(store: Store) -> None:
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    until = NOW + timedelta(days=30)

    keep = store.keep_nudge(nudge.id, WEB.key, until=until, reason="demo", by="U0A", at=NOW)
    again = store.keep_nudge(nudge.id, WEB.key, until=until, reason="twice", by="U0B", at=NOW)

    assert keep is not None and again is None  # a second click writes nothing
    assert store.get_nudge(nudge.id).status == "kept"
    active = store.active_keep(WEB.key, NOW)
    assert active is not None and (active.reason, active.nudge_id) == ("demo", nudge.id)


def test_a_keep_that_cannot_be_written_leaves_the_nudge_open(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'whocreated.sqlite3'}")
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    with store.engine.begin() as conn:  # the keep's insert fails after the nudge's update
        conn.exec_driver_sql("ALTER TABLE keeps RENAME TO keeps_elsewhere")

    with pytest.raises(OperationalError):
        store.keep_nudge(nudge.id, WEB.key, until=NOW, reason=None, by="U0A", at=NOW)

    assert store.get_nudge(nudge.id).is_open


def test_audit_rows_since_a_time(store: Store) -> None:
    store.add_audit(
        at=NOW - timedelta(days=8),
        slack_user="U0A",
        action="stop",
        key=WEB.key,
        dry_run=False,
        outcome="done",
    )
    row = store.add_audit(
        at=NOW,
        slack_user="U0A",
        action="terminate",
        key=WEB.key,
        dry_run=True,
        outcome="dry-run",
        detail="would terminate i-0abc…",
        nudge_id="n1",
    )
    assert store.audit_since(NOW - timedelta(days=7)) == [row]
    assert row.dry_run is True and row.key == WEB.key


def test_keeps_and_decisions_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    first = Store.open(url)
    nudge = first.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    first.decide(nudge.id, "kept", by="U0A", at=NOW)
    first.put_keep(WEB.key, until=NOW + timedelta(days=7), reason="demo", by="U0A", at=NOW)
    first.engine.dispose()
    again = Store.open(url)
    assert again.get_nudge(nudge.id).status == "kept"
    assert again.active_keep(WEB.key, NOW) is not None


def test_a_nudge_becomes_a_finding_for_app_home(store: Store) -> None:
    nudge = store.create_nudge(
        WEB,
        owner_slack_user="U0ALICE",
        sent_at=NOW,
        monthly_cost=61.32,
        details={
            "reasons": ["max CPU 0.4 % over 7 days"],
            "owner_source": "cloudtrail",
            "owner_name": "alice",
            "actions": ["keep", "stop", "terminate", "not_mine"],
            "idle_since": "2026-02-20T00:00:00+00:00",
            "series": [0.1, 0.4],
        },
    )
    finding = store.get_nudge(nudge.id).finding()
    assert finding.resource == WEB
    assert finding.verdict.idle and finding.verdict.reasons == ("max CPU 0.4 % over 7 days",)
    assert finding.verdict.idle_since == datetime(2026, 2, 20, tzinfo=UTC)
    assert finding.verdict.series == (0.1, 0.4)
    assert (finding.owner.aws_name, finding.owner.source) == ("alice", "cloudtrail")
    assert finding.owner.slack_user == "U0ALICE"
    assert finding.cost.monthly_usd == 61.32
    assert finding.actions == ("keep", "stop", "terminate", "not_mine")
    # Without stored actions, the type and state decide them.
    bare = store.create_nudge(DISK, owner_slack_user=None, sent_at=NOW).finding()
    assert bare.actions == ("keep", "delete", "not_mine") and bare.cost.monthly_usd is None
