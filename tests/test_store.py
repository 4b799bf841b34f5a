import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import store as store_module
from bot.core.events import Actor, CreationFact
from bot.store import FactPlace, Store, StoreUnavailable, default_database_url
from tests.postgres import store_on


def _fact(resource_id: str, when: datetime, who: str) -> CreationFact:
    return CreationFact(
        resource_id=resource_id,
        created=(resource_id,),
        related=("subnet-0ed352584ab4aa265",),
        actor=Actor("IAMUser", f"arn:aws:iam::123837392027:user/{who}", who, "123837392027"),
        event_name="CreateBucket",
        event_source="s3.amazonaws.com",
        event_time=when,
        region="us-east-1",
        event_id=str(uuid.uuid4()),
        source_ip="192.0.2.1",
        user_agent="aws-cli/2.13.0",
        tool="AWS CLI",
        account="123837392027",
        record={"eventName": "CreateBucket"},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_on(request.param, tmp_path / "state" / "whocreated.sqlite3") as opened:
        yield opened


def _put(store: Store, fact: CreationFact) -> None:
    store.put_fact(
        partition="aws",
        account="123837392027",
        region="us-east-1",
        resource_type="AWS::S3::Bucket",
        fact=fact,
    )


def test_a_fact_round_trips(store: Store) -> None:
    fact = _fact("logs-bucket", datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC), "alice")
    _put(store, fact)
    [found] = store.find_facts(["logs-bucket"], account="123837392027", region="us-east-1")
    assert found == fact
    assert found.record == {"eventName": "CreateBucket"}


def test_a_reused_name_keeps_both_creations_newest_first(store: Store) -> None:
    old = _fact("logs-bucket", datetime(2023, 1, 1, tzinfo=UTC), "alice")
    new = _fact("logs-bucket", datetime(2023, 6, 1, tzinfo=UTC), "bob")
    _put(store, old)
    _put(store, new)
    _put(store, new)  # storing the same creation twice is harmless
    assert [f.actor.name for f in store.find_facts(["logs-bucket"])] == ["bob", "alice"]


def test_filters_by_account_and_region(store: Store) -> None:
    _put(store, _fact("logs-bucket", datetime(2023, 1, 1, tzinfo=UTC), "alice"))
    assert store.find_facts(["logs-bucket"], account="999999999999") == []
    assert store.find_facts(["logs-bucket"], region="eu-west-1") == []
    assert store.find_facts(["other"]) == []


def test_sqlite_state_persists_across_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'whocreated.sqlite3'}"
    _put(Store.open(url), _fact("b", datetime(2023, 1, 1, tzinfo=UTC), "alice"))
    assert Store.open(url).find_facts(["b"])


def test_an_unwritable_store_is_refused_and_only_lookups_fall_back_to_memory(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'sub' / 'db.sqlite3'}"
    with pytest.raises(StoreUnavailable, match="cannot be used: not writable"):
        Store.open(url)
    store = Store.open_or_memory(url)
    assert store.warning and "cannot be used" in store.warning
    _put(store, _fact("b", datetime(2023, 1, 1, tzinfo=UTC), "alice"))
    assert store.find_facts(["b"])  # still answers, in memory


def test_default_location_follows_xdg_state_home() -> None:
    url = default_database_url({"XDG_STATE_HOME": "/srv/state"})
    assert url == "sqlite:////srv/state/whocreated/whocreated.sqlite3"


def test_many_facts_in_one_write_skip_those_already_cached(store: Store) -> None:
    when = datetime(2023, 7, 10, tzinfo=UTC)
    earlier = _fact("bucket-0", when, "alice")
    _put(store, earlier)
    places = [
        FactPlace("aws", "123837392027", "us-east-1", "AWS::S3::Bucket", fact)
        for fact in [_fact(f"bucket-{n}", when, "bob") for n in range(300)]
    ]

    store.put_facts(places)
    store.put_facts(places[:10])  # again: harmless

    found = store.find_facts([f"bucket-{n}" for n in range(300)])
    assert len(found) == 300
    by_id = {fact.resource_id: fact.actor.name for fact in found}
    assert by_id["bucket-0"] == "alice"  # the fact cached first stays
    assert {by_id[f"bucket-{n}"] for n in range(1, 300)} == {"bob"}


def test_without_on_conflict_the_rows_go_one_by_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A dialect without INSERT … ON CONFLICT: the batch fails on the cached row, then each row
    # is written on its own.
    monkeypatch.setattr(
        "bot.store._insert_new", lambda dialect: store_module.creation_facts.insert()
    )
    when = datetime(2023, 7, 10, tzinfo=UTC)
    _put(store, _fact("bucket-1", when, "alice"))
    facts = [_fact(f"bucket-{n}", when, "bob") for n in range(3)]

    store.put_facts(
        [FactPlace("aws", "123837392027", "us-east-1", "AWS::S3::Bucket", f) for f in facts]
    )

    found = {
        f.resource_id: f.actor.name for f in store.find_facts(["bucket-0", "bucket-1", "bucket-2"])
    }
    assert found == {"bucket-0": "bob", "bucket-1": "alice", "bucket-2": "bob"}


def test_a_row_the_database_refuses_costs_only_itself(store: Store) -> None:
    when = datetime(2023, 7, 10, tzinfo=UTC)
    good = [
        FactPlace(
            "aws", "123837392027", "us-east-1", "AWS::S3::Bucket", _fact(f"ok-{n}", when, "bob")
        )
        for n in range(3)
    ]
    # An account id longer than the column: PostgreSQL refuses it (SQLite does not check).
    bad = FactPlace("aws", "1" * 40, "us-east-1", "AWS::S3::Bucket", _fact("bad", when, "eve"))

    store.put_facts([*good, bad])

    assert {f.resource_id for f in store.find_facts(["ok-0", "ok-1", "ok-2"])} == {
        "ok-0",
        "ok-1",
        "ok-2",
    }


def test_facts_are_written_a_batch_at_a_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "FACT_BATCH", 7)
    when = datetime(2023, 7, 10, tzinfo=UTC)
    places = [
        FactPlace(
            "aws", "123837392027", "us-east-1", "AWS::S3::Bucket", _fact(f"b-{n}", when, "bob")
        )
        for n in range(50)
    ]
    statements: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda *args: statements.append(str(args[2]))
    )

    store.put_facts(places)

    assert len(store.find_facts([f"b-{n}" for n in range(50)])) == 50
    assert sum(1 for sql in statements if sql.lstrip().upper().startswith("INSERT")) == 8


def test_a_store_whose_driver_is_missing_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # not installed
    with pytest.raises(StoreUnavailable, match="driver is not installed") as raised:
        Store.open("postgresql+psycopg://app:s3cret@127.0.0.1:9/w")
    assert "s3cret" not in str(raised.value)
