"""What keeps work from being lost or doubled, in the store: leases, the one-open-nudge key, the
digest outbox and decisions in progress; the schema migration; and a store that cannot be used
refused with the reason. SQLite and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot import store as store_module
from bot.core.resources import EBS_VOLUME, EC2_INSTANCE, Resource
from bot.leases import Lease
from bot.migrations import prepare
from bot.schema import digests_table, leases
from bot.store import CarriedElsewhere, Store, StoreUnavailable, nudge_row
from tests.postgres import POSTGRES_URL, postgres_or_skip, store_on

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
MINUTE = timedelta(minutes=1)
WEB = Resource(EC2_INSTANCE, "i-0abc1234567890def", "eu-west-1", ACCOUNT, name="web-1")
DISK = Resource(EBS_VOLUME, "vol-0123", "eu-west-1", ACCOUNT)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_on(request.param, tmp_path / "whocreated.sqlite3") as opened:
        yield opened


# Leases --------------------------------------------------------------------------------------


def test_a_lease_is_held_by_one_until_it_expires_or_is_released(store: Store) -> None:
    assert store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE)
    assert not store.claim_lease("patrol-round", "b", now=NOW + timedelta(seconds=30), ttl=MINUTE)
    assert store.renew_lease("patrol-round", "a", now=NOW + timedelta(seconds=50), ttl=MINUTE)
    # Renewed at :50, so still a's at 1:30; a holder killed -9 stops renewing: b gets it at 2:00.
    assert not store.claim_lease("patrol-round", "b", now=NOW + timedelta(seconds=90), ttl=MINUTE)
    assert store.claim_lease("patrol-round", "b", now=NOW + timedelta(seconds=120), ttl=MINUTE)
    assert not store.renew_lease("patrol-round", "a", now=NOW + timedelta(seconds=121), ttl=MINUTE)
    store.release_lease("patrol-round", "b", now=NOW + timedelta(seconds=130), finished=False)
    assert store.claim_lease("patrol-round", "a", now=NOW + timedelta(seconds=131), ttl=MINUTE)
    assert store.get_lease("patrol-round").holder == "a"


def test_a_lease_that_expired_while_nobody_took_it_is_still_its_holders(store: Store) -> None:
    """A database outage or a pause longer than the ttl: the holder renews it as soon as it can,
    and from then on nobody else may take it."""
    assert store.claim_lease("instance:a", "a", now=NOW, ttl=MINUTE)
    later = NOW + 5 * MINUTE
    assert store.renew_lease("instance:a", "a", now=later, ttl=MINUTE)
    assert not store.claim_lease("instance:a", "b", now=later + timedelta(seconds=10), ttl=MINUTE)
    assert store.live_leases("instance:", later + timedelta(seconds=10)) == {"instance:a"}


def test_a_released_lease_is_not_revived_by_its_renewer(store: Store) -> None:
    clock = FixedClock(NOW)
    lease = Lease.claim(store, "patrol-round", "a", ttl=MINUTE, clock=clock)
    assert lease is not None
    lease.release(finished=False)
    clock.now = NOW + timedelta(seconds=30)
    assert lease.still_held()  # ours to the end; nothing renewed
    assert store.claim_lease("patrol-round", "b", now=clock.now, ttl=MINUTE)


def test_a_slot_that_ran_to_its_end_does_not_run_again(store: Store) -> None:
    assert store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE, slot="09:00")
    store.release_lease("patrol-round", "a", now=NOW + timedelta(seconds=5), finished=True)
    # b's scheduler fired a few seconds late, for the same slot: nothing to do.
    later = NOW + timedelta(seconds=8)
    assert not store.claim_lease("patrol-round", "b", now=later, ttl=MINUTE, slot="09:00")
    assert store.claim_lease("patrol-round", "b", now=later, ttl=MINUTE, slot="10:00")


def test_many_claimants_at_once_one_wins(store: Store) -> None:
    winners: list[str] = []
    start = threading.Barrier(8)

    def claim(holder: str) -> None:
        start.wait()
        if store.claim_lease("patrol-round", holder, now=NOW, ttl=MINUTE, slot="09:00"):
            winners.append(holder)

    threads = [threading.Thread(target=claim, args=(f"h{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_each_slot_keeps_its_own_record_whatever_claims_the_lease_after_it(store: Store) -> None:
    hour = timedelta(hours=1)
    assert store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE, slot="09:00")
    store.release_lease("patrol-round", "a", now=NOW + MINUTE, finished=True)
    assert store.claim_lease("patrol-round", "a", now=NOW + hour, ttl=MINUTE, slot="10:00")
    store.release_lease("patrol-round", "a", now=NOW + hour, finished=False)  # a restart
    # A `scan --notify` runs to its end afterwards: the lease's own row is now about it.
    on_demand = "on-demand 2026-03-02T10:01:00 b"
    assert store.claim_lease(
        "patrol-round", "b", now=NOW + hour + MINUTE, ttl=MINUTE, slot=on_demand
    )
    store.release_lease("patrol-round", "b", now=NOW + hour + 2 * MINUTE, finished=True)

    assert store.slot_finished("patrol-round", "09:00")
    assert store.slot_finished("patrol-round", on_demand)
    assert not store.slot_finished("patrol-round", "10:00")
    later = NOW + hour + 3 * MINUTE
    assert not store.claim_lease("patrol-round", "c", now=later, ttl=MINUTE, slot="09:00")
    assert store.claim_lease("patrol-round", "c", now=later, ttl=MINUTE, slot="10:00")


def test_a_holder_that_lost_its_lease_records_no_slot(store: Store) -> None:
    assert store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE, slot="09:00")
    # a was paused past its lease; b took the slot over and is still running it.
    assert store.claim_lease("patrol-round", "b", now=NOW + 2 * MINUTE, ttl=MINUTE, slot="09:00")
    store.release_lease("patrol-round", "a", now=NOW + 2 * MINUTE, finished=True)
    assert not store.slot_finished("patrol-round", "09:00")
    store.release_lease("patrol-round", "b", now=NOW + 3 * MINUTE, finished=True)
    assert store.slot_finished("patrol-round", "09:00")


def test_a_claim_without_a_slot_that_finished_holds_back_no_slot(store: Store) -> None:
    assert store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE)
    store.release_lease("patrol-round", "a", now=NOW + MINUTE, finished=True)
    assert store.claim_lease("patrol-round", "b", now=NOW + MINUTE, ttl=MINUTE, slot="09:00")


def test_claims_racing_the_end_of_their_slot_never_run_it_again(store: Store) -> None:
    """Whichever comes first, the slot's end or a claim, no claimant gets the slot: before the
    end the lease is held, after it the slot is recorded, and a claim reads the record only once
    it has taken the lease (so after the end's transaction)."""
    assert store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE, slot="09:00")
    winners: list[str] = []
    start = threading.Barrier(9)

    def claim(holder: str) -> None:
        start.wait()
        if store.claim_lease("patrol-round", holder, now=NOW, ttl=MINUTE, slot="09:00"):
            winners.append(holder)

    def finish() -> None:
        start.wait()
        store.release_lease("patrol-round", "a", now=NOW, finished=True)

    threads = [threading.Thread(target=claim, args=(f"h{n}",)) for n in range(8)]
    threads.append(threading.Thread(target=finish))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners == []
    assert store.slot_finished("patrol-round", "09:00")


def test_a_slot_an_older_version_finished_gets_its_own_record(store: Store) -> None:
    # What a version before finished_slots leaves: the slot's end only in the lease's own row.
    with store.engine.begin() as conn:
        conn.execute(
            leases.insert().values(
                name="patrol-round",
                holder="old",
                slot="09:00",
                acquired_at=NOW,
                expires_at=NOW + MINUTE,
                finished_at=NOW + MINUTE,
            )
        )
    prepare(store.engine)  # the new version starts
    prepare(store.engine)  # and again: nothing more to copy, no error
    later = NOW + 2 * MINUTE
    assert store.claim_lease("patrol-round", "b", now=later, ttl=MINUTE, slot="on-demand b")
    store.release_lease("patrol-round", "b", now=later, finished=True)
    assert store.slot_finished("patrol-round", "09:00")
    assert not store.claim_lease("patrol-round", "c", now=later, ttl=MINUTE, slot="09:00")


def test_live_leases_by_prefix(store: Store) -> None:
    store.claim_lease("instance:a", "a", now=NOW, ttl=MINUTE)
    store.claim_lease("instance:b", "b", now=NOW - 2 * MINUTE, ttl=MINUTE)
    store.claim_lease("patrol-round", "a", now=NOW, ttl=MINUTE)
    assert store.live_leases("instance:", NOW) == {"instance:a"}


# One open nudge a resource -------------------------------------------------------------------


def test_a_resource_cannot_have_two_open_nudges(store: Store) -> None:
    first = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    with pytest.raises(IntegrityError):
        store.create_nudge(WEB, owner_slack_user="U0B", sent_at=NOW)
    assert store.begin_decision(first.id, "stop", by="U0A", holder="h", now=NOW) is not None
    with pytest.raises(IntegrityError):  # acting counts as open: a round cannot slip one in
        store.create_nudge(WEB, owner_slack_user="U0B", sent_at=NOW)
    store.decide(first.id, "kept", by="U0A", at=NOW, expected=("acting",))
    assert store.create_nudge(WEB, owner_slack_user="U0B", sent_at=NOW).is_open


def test_a_digest_whose_nudge_collides_writes_nothing(store: Store) -> None:
    store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    rows = [
        nudge_row(DISK, owner_slack_user="U0B", sent_at=NOW),
        nudge_row(WEB, owner_slack_user="U0B", sent_at=NOW),
    ]
    with pytest.raises(IntegrityError):
        store.queue_digest(
            kind="digest", target="U0B", text="t", blocks=[], now=NOW, new_nudges=rows
        )
    assert store.pending_digests() == []
    assert store.last_nudge_for(DISK.key) is None


# The outbox ----------------------------------------------------------------------------------


def test_a_digest_is_pending_then_sent_with_its_nudges(store: Store) -> None:
    carried = store.create_nudge(DISK, owner_slack_user="U0A", sent_at=NOW - timedelta(days=3))
    row = nudge_row(WEB, owner_slack_user="U0A", sent_at=NOW)
    digest_id = store.queue_digest(
        kind="digest",
        target="U0A",
        owner_slack_user="U0A",
        text="2 idle",
        blocks=[{"type": "divider"}],
        now=NOW,
        round_id="r1",
        new_nudges=[row],
        carried=[carried],
    )
    [pending] = store.pending_digests()
    assert (pending.id, pending.status, pending.attempts, pending.blocks) == (
        digest_id,
        "pending",
        0,
        [{"type": "divider"}],
    )
    fresh = store.get_nudge(row["id"])
    assert fresh.is_open and fresh.times_sent == 0 and fresh.digest_id == digest_id

    assert store.claim_digest(digest_id, attempts=0, now=NOW)
    assert not store.claim_digest(digest_id, attempts=0, now=NOW)  # a second sender loses
    assert store.digest_sent(digest_id, channel="D0A", ts="1.5", now=NOW + MINUTE)
    assert not store.digest_sent(digest_id, channel="D0A", ts="1.5", now=NOW + MINUTE)
    assert store.pending_digests() == []
    assert store.get_digest(digest_id).status == "sent"
    assert store.digest_channel("U0A") == "D0A"
    fresh, again = store.get_nudge(row["id"]), store.get_nudge(carried.id)
    assert (fresh.channel, fresh.message_ts, fresh.times_sent) == ("D0A", "1.5", 1)
    assert (again.message_ts, again.times_sent, again.last_sent_at) == ("1.5", 2, NOW + MINUTE)


def test_a_nudge_is_carried_only_as_it_was_read(store: Store) -> None:
    """Two rounds planned a re-nudge from the same reading: the second digest writes nothing."""
    seen = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW - timedelta(days=4))
    new = nudge_row(DISK, owner_slack_user="U0A", sent_at=NOW)

    def digest(round_id: str, **kwargs: Any) -> str:
        return store.queue_digest(
            kind="digest", target="U0A", text="t", blocks=[], now=NOW, round_id=round_id, **kwargs
        )

    first = digest("r2", carried=[seen])
    with pytest.raises(CarriedElsewhere):
        digest("r3", carried=[seen], new_nudges=[new])
    assert [d.id for d in store.pending_digests()] == [first]
    assert store.get_nudge(seen.id).digest_id == first
    assert store.last_nudge_for(DISK.key) is None  # rolled back with it

    # Sent since it was read (same digest, a newer last sending): carrying it would nudge twice.
    store.digest_sent(first, channel="D0A", ts="1.5", now=NOW)
    with pytest.raises(CarriedElsewhere):
        digest("r3", carried=[dataclasses.replace(seen, digest_id=first)])
    assert digest("r4", carried=[store.get_nudge(seen.id)])  # read afresh: carried


def test_two_writers_carrying_one_nudge_at_once_one_wins(store: Store) -> None:
    seen = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW - timedelta(days=4))
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def carry(round_id: str) -> None:
        start.wait()
        try:
            store.queue_digest(
                kind="digest",
                target="U0A",
                text="t",
                blocks=[],
                now=NOW,
                round_id=round_id,
                carried=[seen],
            )
            outcomes.append("written")
        except CarriedElsewhere:
            outcomes.append("left")

    threads = [threading.Thread(target=carry, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["left", "left", "left", "written"]
    assert len(store.pending_digests()) == 1


def test_an_unsent_digest_is_superseded_and_its_nudges_freed(store: Store) -> None:
    row = nudge_row(WEB, owner_slack_user="U0A", sent_at=NOW)
    waiting = store.queue_digest(
        kind="digest", target="U0A", text="t", blocks=[], now=NOW, new_nudges=[row]
    )
    tried = store.queue_digest(kind="digest", target="U0A", text="t", blocks=[], now=NOW)
    store.claim_digest(tried, attempts=0, now=NOW)
    assert store.supersede_unsent("U0A") == [waiting]
    assert store.get_digest(waiting).status == "superseded"
    assert store.get_digest(tried).status == "pending"  # tried: it may have arrived
    assert store.get_nudge(row["id"]).digest_id is None


def test_a_digest_given_up_is_failed_and_lets_its_nudges_go(store: Store) -> None:
    row = nudge_row(WEB, owner_slack_user="U0A", sent_at=NOW)
    doomed = store.queue_digest(
        kind="digest", target="U0A", text="t", blocks=[], now=NOW, new_nudges=[row]
    )
    store.claim_digest(doomed, attempts=0, now=NOW)
    assert store.failed_since_sent("U0A") is None

    gone = NOW + MINUTE
    assert store.give_up_digest(doomed, failure="account_inactive", error="x", now=gone) == 1
    assert store.give_up_digest(doomed, failure="undecided", error="y", now=gone) is None  # once
    assert store.pending_digests() == []
    failed = store.get_digest(doomed)
    assert (failed.status, failed.failure, failed.failed_at, failed.last_error) == (
        "failed",
        "account_inactive",
        gone,
        "x",
    )
    nudge = store.get_nudge(row["id"])
    assert nudge.is_open and nudge.digest_id is None  # free for the next round
    assert store.failed_since_sent("U0A") == failed

    later = store.queue_digest(kind="digest", target="U0A", text="t", blocks=[], now=NOW)
    store.digest_sent(later, channel="D0A", ts="2.5", now=gone + MINUTE)
    assert store.failed_since_sent("U0A") is None  # reached since


def test_a_digest_of_the_same_round_is_not_superseded(store: Store) -> None:
    """Two processes delivering one round: neither cancels the other's digest (only the one
    whose nudges got in posts it; the other finds them open and leaves them)."""
    row = nudge_row(WEB, owner_slack_user="U0A", sent_at=NOW)
    ours = store.queue_digest(
        kind="digest", target="U0A", text="t", blocks=[], now=NOW, new_nudges=[row], round_id="r2"
    )
    assert store.supersede_unsent("U0A", newer_round="r2") == []
    assert store.get_digest(ours).status == "pending"
    assert store.supersede_unsent("U0A", newer_round="r3") == [ours]


# Decisions -----------------------------------------------------------------------------------


def test_a_decision_is_acting_then_done_with_its_audit_row(store: Store) -> None:
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    decision = store.begin_decision(
        nudge.id, "terminate", by="U0A", holder="h1", now=NOW, tell_channel="D0A"
    )
    assert decision is not None and decision.state == "acting"
    assert store.get_nudge(nudge.id).status == "acting"
    assert store.begin_decision(nudge.id, "stop", by="U0A", holder="h2", now=NOW) is None
    assert [d.id for d in store.acting_decisions()] == [decision.id]

    audit_row = {
        "at": NOW,
        "slack_user": "U0A",
        "action": "terminate",
        "account": ACCOUNT,
        "region": "eu-west-1",
        "resource_type": EC2_INSTANCE,
        "resource_id": WEB.id,
        "nudge_id": nudge.id,
        "dry_run": False,
        "outcome": "done",
        "detail": "Terminated web-1.",
    }
    store.finish_decision(
        decision,
        nudge_status="terminated",
        outcome="done",
        detail="Terminated web-1.",
        now=NOW,
        audit_row=audit_row,
    )
    assert store.get_nudge(nudge.id).status == "terminated"
    [settled] = store.decisions_for(nudge.id)
    assert (settled.state, settled.outcome, settled.finished_at) == ("done", "done", NOW)
    assert [row.outcome for row in store.audit_since(NOW)] == ["done"]
    assert store.acting_decisions() == []


def test_a_failed_decision_opens_the_nudge_again(store: Store) -> None:
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    decision = store.begin_decision(nudge.id, "stop", by="U0A", holder="h", now=NOW)
    store.finish_decision(decision, nudge_status=None, outcome="failed", detail="x", now=NOW)
    assert store.get_nudge(nudge.id).is_open
    assert store.decisions_for(nudge.id)[0].state == "failed"


def _audit(nudge_id: str, outcome: str) -> dict[str, object]:
    return {
        "at": NOW,
        "slack_user": "U0A",
        "action": "terminate",
        "account": ACCOUNT,
        "region": "eu-west-1",
        "resource_type": EC2_INSTANCE,
        "resource_id": WEB.id,
        "nudge_id": nudge_id,
        "dry_run": False,
        "outcome": outcome,
        "detail": outcome,
    }


def test_two_settlers_write_one_outcome(store: Store) -> None:
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    decision = store.begin_decision(nudge.id, "terminate", by="U0A", holder="gone", now=NOW)
    assert decision is not None
    settle = {"nudge_status": None, "outcome": "failed", "detail": "did not finish", "now": NOW}

    first = store.finish_decision(
        decision, **settle, audit_row=_audit(nudge.id, "failed"), settling=True
    )
    second = store.finish_decision(
        decision, **settle, audit_row=_audit(nudge.id, "failed"), settling=True
    )

    assert (first, second) == (True, False)
    assert [row.outcome for row in store.audit_since(NOW)] == ["failed"]


def test_the_real_outcome_wins_over_a_settlers_guess(store: Store) -> None:
    """The acting process was paused past its lease; a start settled its decision as not done
    and opened the nudge; then the terminate it had sent came back done."""
    nudge = store.create_nudge(WEB, owner_slack_user="U0A", sent_at=NOW)
    decision = store.begin_decision(nudge.id, "terminate", by="U0A", holder="paused", now=NOW)
    assert decision is not None
    store.finish_decision(
        decision,
        nudge_status=None,
        outcome="failed",
        detail="did not finish",
        now=NOW,
        audit_row=_audit(nudge.id, "failed"),
        settling=True,
    )
    assert store.get_nudge(nudge.id).is_open

    assert store.finish_decision(
        decision,
        nudge_status="terminated",
        outcome="done",
        detail="Terminated web-1.",
        now=NOW + MINUTE,
        audit_row=_audit(nudge.id, "done"),
    )

    assert store.get_nudge(nudge.id).status == "terminated"
    [settled] = store.decisions_for(nudge.id)
    assert (settled.state, settled.outcome) == ("done", "done")
    assert [row.outcome for row in store.audit_since(NOW)] == ["failed", "done"]


# Migration -----------------------------------------------------------------------------------

OLD_NUDGES = """
CREATE TABLE nudges (
    id VARCHAR(32) NOT NULL PRIMARY KEY, account VARCHAR(12) NOT NULL,
    region VARCHAR(32) NOT NULL, resource_type VARCHAR(128) NOT NULL,
    resource_id VARCHAR(2048) NOT NULL, resource_label VARCHAR(512) NOT NULL,
    owner_slack_user VARCHAR(32), channel VARCHAR(32), message_ts VARCHAR(32),
    round_id VARCHAR(64), first_sent_at DATETIME NOT NULL, last_sent_at DATETIME NOT NULL,
    times_sent INTEGER NOT NULL, status VARCHAR(16) NOT NULL, monthly_cost FLOAT,
    details TEXT NOT NULL, decided_by VARCHAR(32), decided_at DATETIME)
"""


def test_an_existing_sqlite_store_is_migrated_and_its_duplicates_settled(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_NUDGES)
        for nudge_id, sent in (("older", "2026-03-01 09:00:00"), ("newer", "2026-03-02 09:00:00")):
            conn.execute(
                "INSERT INTO nudges VALUES (?, ?, 'eu-west-1', ?, ?, 'web', 'U0A', NULL, NULL,"
                " NULL, ?, ?, 1, 'open', NULL, '{}', NULL, NULL)",
                (nudge_id, ACCOUNT, EC2_INSTANCE, WEB.id, sent, sent),
            )

    store = Store.open(f"sqlite:///{path}")

    assert store.get_nudge("newer").status == "open"
    assert store.get_nudge("older").status == "superseded"
    assert store.get_nudge("newer").digest_id is None
    with pytest.raises(IntegrityError):
        store.create_nudge(WEB, owner_slack_user="U0B", sent_at=NOW)
    Store.open(f"sqlite:///{path}")  # again: nothing left to do, no error


def _store_before_digests_could_fail(url: str) -> None:
    """The digests table as it was before a digest could be given up."""
    old = sa.MetaData()
    columns = [
        sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in digests_table.columns
        if c.name not in ("failure", "failed_at")
    ]
    sa.Table(digests_table.name, old, *columns)
    engine = sa.create_engine(url)
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO digests (id, kind, target, status, created_at, attempts, text, blocks)"
                " VALUES ('d1', 'digest', 'U0A', 'pending', :at, 1, 't', '[]')"
            ),
            {"at": NOW},
        )
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_existing_store_gets_the_columns_of_a_given_up_digest(
    backend: str, tmp_path: Path
) -> None:
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
        else:
            url = stack.enter_context(postgres_or_skip())
        _store_before_digests_could_fail(url)

        store = Store.open(url)
        [pending] = store.pending_digests()
        assert (pending.id, pending.failure, pending.failed_at) == ("d1", None, None)
        assert store.give_up_digest("d1", failure="expired", error="e", now=NOW) == 0
        assert store.failed_since_sent("U0A").failed_at == NOW  # a time with its zone
        store.engine.dispose()
        Store.open(url).engine.dispose()  # again: nothing left to do, no error


# A store that cannot be used -----------------------------------------------------------------


def test_a_locked_sqlite_store_is_refused_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "busy.sqlite3"
    Store.open(f"sqlite:///{path}")
    monkeypatch.setattr(store_module, "SQLITE_BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="cannot be used: locked by another process"):
            Store.open(f"sqlite:///{path}")
    finally:
        holder.rollback()
        holder.close()


def test_a_corrupt_sqlite_store_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"this is not a database, it is a text file " * 100)
    with pytest.raises(StoreUnavailable, match="cannot be used: corrupt"):
        Store.open(f"sqlite:///{path}")


def test_an_unreachable_postgresql_is_refused_without_its_password() -> None:
    url = "postgresql+psycopg://whocreated:s3cret@127.0.0.1:1/whocreated?connect_timeout=2"
    with pytest.raises(StoreUnavailable) as refused:
        Store.open(url)
    message = str(refused.value)
    assert "s3cret" not in message and "***" in message
    assert message.endswith("cannot be used: unreachable (connection refused)")


def test_ping_says_when_the_store_stops_answering(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'ok.sqlite3'}")
    assert store.ping() is None
    if not POSTGRES_URL:
        return
    down = Store(sa.create_engine("postgresql+psycopg://x:y@127.0.0.1:1/z?connect_timeout=2"))
    assert down.ping() == "unreachable (connection refused)"
