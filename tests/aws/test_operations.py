"""Operations against moto: the AWS state after each action, protection, idempotence, dry-run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from bot.aws.operations import KEEP_REASON_TAG, Operations, Outcome
from bot.core import resources as rt
from bot.core.created_by import KEEP_UNTIL_TAG, TagSigner
from bot.core.decisions import Action
from bot.core.policy import Actions
from bot.registry.patrol import PATROL
from bot.registry.patrol import tag_subject as subject
from tests.moto_fleet import REGION, Fleet

ACCOUNT = "123456789012"
ENABLED = Actions(mode="enabled")
UNTIL = datetime(2026, 4, 1, 23, 59, 59, tzinfo=UTC)
SIGNER = TagSigner(b"operations-test-key-0123456789ab")


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    with mock_aws():
        yield Fleet()


def ops(fleet: Fleet, actions: Actions = ENABLED) -> Operations:
    return Operations(
        fleet.client_for, actions, PATROL.by_type, sleep=lambda _: None, signer=SIGNER
    )


def key(resource_type: str, resource_id: str) -> tuple[str, str, str, str]:
    return (ACCOUNT, REGION, resource_type, resource_id)


def record_calls(client: Any) -> list[str]:
    """The operation names a boto3 client makes, in order."""
    calls: list[str] = []
    client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return calls


# EC2 instances ----------------------------------------------------------------------------------


def test_stop_an_instance_then_again(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    first = ops(fleet).perform(Action.STOP, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert first.done and not first.already and first.kind == "done"
    assert first.summary.startswith(f"Stopped web-1 ({instance}) in {REGION}.")
    assert fleet.instance_state(instance) == "stopped"
    second = ops(fleet).perform(Action.STOP, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert second.already and not second.done and second.kind == "already"
    assert "already stopped" in second.summary


def test_dry_run_stop_changes_nothing_and_says_what_it_would_do(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    calls = record_calls(fleet.ec2)
    outcome = ops(fleet, Actions()).perform(
        Action.STOP, key(rt.EC2_INSTANCE, instance), dry_run=True
    )
    assert outcome.dry_run and not outcome.done and outcome.kind == "dry-run"
    assert outcome.summary == (
        f"Dry run: I would have stopped web-1 ({instance}) in {REGION}. "
        "Nothing was changed (actions are in dry-run mode)."
    )
    assert calls == ["DescribeInstances"]  # reads only
    assert fleet.instance_state(instance) == "running"


def test_terminate_snapshots_the_volumes_termination_deletes_first(fleet: Fleet) -> None:
    instance = fleet.instance("web-1", volumes=2)
    volumes = fleet.instance_volumes(instance)
    calls = record_calls(fleet.ec2)
    outcome = ops(fleet).perform(Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=False)
    # Snapshots were started, and seen started, before the instance was terminated.
    assert calls == [
        "DescribeInstances",
        "DescribeInstanceAttribute",
        "CreateSnapshot",
        "CreateSnapshot",
        "DescribeSnapshots",
        "TerminateInstances",
    ]
    assert outcome.done, outcome.summary
    assert fleet.instance_state(instance) == "terminated"
    assert len(outcome.snapshots) == 2
    for volume in volumes:
        [snapshot] = fleet.snapshots_of(volume)
        assert snapshot["SnapshotId"] in outcome.snapshots
        assert {"Key": "whocreated:snapshot-of", "Value": volume} in snapshot["Tags"]
        assert f"{volume} ({snapshot['SnapshotId']})" in outcome.summary
    assert outcome.summary.startswith(f"Terminated web-1 ({instance}) in {REGION} after snapshot")


def test_terminate_leaves_volumes_that_outlive_the_instance(fleet: Fleet) -> None:
    instance = fleet.instance("web-1", volumes=1, delete_on_termination=False)
    [volume] = fleet.instance_volumes(instance)
    outcome = ops(fleet).perform(Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert outcome.done and outcome.snapshots == []
    assert f"{volume} is kept" in outcome.summary
    assert fleet.snapshots_of(volume) == []


def test_terminate_without_snapshots_when_the_policy_says_so(fleet: Fleet) -> None:
    instance = fleet.instance("web-1", volumes=1)
    [volume] = fleet.instance_volumes(instance)
    outcome = ops(fleet, Actions(mode="enabled", snapshot_before_delete=False)).perform(
        Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=False
    )
    assert outcome.done and outcome.snapshots == [] and fleet.snapshots_of(volume) == []
    assert "without snapshots (snapshots are off)" in outcome.summary


def test_terminate_dry_run_takes_no_snapshot(fleet: Fleet) -> None:
    instance = fleet.instance("web-1", volumes=1)
    [volume] = fleet.instance_volumes(instance)
    outcome = ops(fleet).perform(Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=True)
    assert outcome.kind == "dry-run"
    assert f"would have terminated web-1 ({instance}) in {REGION} after snapshotting {volume}" in (
        outcome.summary
    )
    assert fleet.instance_state(instance) == "running" and fleet.snapshots_of(volume) == []


def test_termination_protection_is_respected(fleet: Fleet) -> None:
    instance = fleet.instance("db-box", protected=True)
    [volume] = fleet.instance_volumes(instance)
    for dry_run in (True, False):
        outcome = ops(fleet).perform(
            Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=dry_run
        )
        assert outcome.refused and not outcome.done and outcome.kind == "refused"
        assert "termination protection" in outcome.summary
    assert fleet.instance_state(instance) == "running" and fleet.snapshots_of(volume) == []


@pytest.mark.parametrize("action", [Action.STOP, Action.TERMINATE])
def test_protected_tags_are_respected(fleet: Fleet, action: Action) -> None:
    instance = fleet.instance("web-1", tags={"DoNotDelete": "yes"})
    outcome = ops(fleet).perform(action, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert outcome.refused and "protected tag DoNotDelete" in outcome.summary
    assert fleet.instance_state(instance) == "running"


def test_terminate_twice_and_unknown_instances_are_calm(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    ops(fleet).perform(Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=False)
    again = ops(fleet).perform(Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert again.already and again.gone and "already terminated" in again.summary
    stop = ops(fleet).perform(Action.STOP, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert stop.already and stop.gone
    unknown = ops(fleet).perform(
        Action.STOP, key(rt.EC2_INSTANCE, "i-0123456789abcdef0"), dry_run=False
    )
    assert unknown == Outcome(
        done=False,
        already=True,
        gone=True,
        summary="i-0123456789abcdef0 is already gone: nothing to do.",
    )


# EBS volumes ------------------------------------------------------------------------------------


def test_delete_a_volume_after_a_snapshot(fleet: Fleet) -> None:
    volume = fleet.volume(tags={"Name": "scratch"})
    calls = record_calls(fleet.ec2)
    outcome = ops(fleet).perform(Action.DELETE, key(rt.EBS_VOLUME, volume), dry_run=False)
    assert calls == ["DescribeVolumes", "CreateSnapshot", "DescribeSnapshots", "DeleteVolume"]
    assert outcome.done, outcome.summary
    assert not fleet.volume_exists(volume)
    [snapshot] = fleet.snapshots_of(volume)
    assert outcome.snapshots == [snapshot["SnapshotId"]]
    assert outcome.summary == (
        f"Deleted scratch ({volume}) (100 GiB gp3) in {REGION} after taking snapshot "
        f"{snapshot['SnapshotId']} (kept: delete it when no longer needed)."
    )
    again = ops(fleet).perform(Action.DELETE, key(rt.EBS_VOLUME, volume), dry_run=False)
    assert again.already and again.gone and len(fleet.snapshots_of(volume)) == 1


def test_delete_a_volume_without_snapshot_when_off(fleet: Fleet) -> None:
    volume = fleet.volume()
    outcome = ops(fleet, Actions(mode="enabled", snapshot_before_delete=False)).perform(
        Action.DELETE, key(rt.EBS_VOLUME, volume), dry_run=False
    )
    assert outcome.done and not fleet.volume_exists(volume) and fleet.snapshots_of(volume) == []


def test_a_volume_attached_again_is_left_alone(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    [volume] = fleet.instance_volumes(instance)
    outcome = ops(fleet).perform(Action.DELETE, key(rt.EBS_VOLUME, volume), dry_run=False)
    assert outcome.refused and f"attached to {instance}" in outcome.summary
    assert fleet.volume_exists(volume) and fleet.snapshots_of(volume) == []


def test_dry_run_volume_delete(fleet: Fleet) -> None:
    volume = fleet.volume()
    outcome = ops(fleet).perform(Action.DELETE, key(rt.EBS_VOLUME, volume), dry_run=True)
    assert "I would have deleted" in outcome.summary and "after taking a snapshot" in (
        outcome.summary
    )
    assert fleet.volume_exists(volume) and fleet.snapshots_of(volume) == []


class SnapshotsFail:
    """An EC2 client whose snapshots end in `error` (or never show up): nothing is deleted."""

    def __init__(self, state: str | None) -> None:
        self.state = state
        self.deleted: list[str] = []

    def describe_volumes(self, VolumeIds: list[str]) -> dict[str, Any]:
        return {"Volumes": [{"VolumeId": VolumeIds[0], "State": "available", "Size": 8}]}

    def create_snapshot(self, **_: Any) -> dict[str, Any]:
        return {"SnapshotId": "snap-1", "State": "pending"}

    def describe_snapshots(self, SnapshotIds: list[str]) -> dict[str, Any]:
        found = [{"SnapshotId": "snap-1", "State": self.state}] if self.state else []
        return {"Snapshots": found}

    def delete_volume(self, VolumeId: str) -> None:
        self.deleted.append(VolumeId)


@pytest.mark.parametrize(("state", "words"), [("error", "failed"), (None, "did not start")])
def test_a_snapshot_that_fails_stops_the_delete(state: str | None, words: str) -> None:
    ec2 = SnapshotsFail(state)
    operations = Operations(
        lambda service, region: ec2,
        ENABLED,
        PATROL.by_type,
        snapshot_timeout=0,
        sleep=lambda _: None,
    )
    outcome = operations.perform(Action.DELETE, key(rt.EBS_VOLUME, "vol-1"), dry_run=False)
    assert not outcome.done and outcome.kind == "failed" and words in outcome.summary
    assert "did not delete anything" in outcome.summary
    assert ec2.deleted == []


# Elastic IPs, NAT gateways, load balancers -------------------------------------------------------


def test_release_an_address(fleet: Fleet) -> None:
    allocation, ip = fleet.address()
    outcome = ops(fleet).perform(Action.RELEASE, key(rt.ELASTIC_IP, allocation), dry_run=False)
    assert outcome.done and outcome.summary == (
        f"Released the Elastic IP {ip} ({allocation}) in {REGION}."
    )
    assert not fleet.address_exists(allocation)
    again = ops(fleet).perform(Action.RELEASE, key(rt.ELASTIC_IP, allocation), dry_run=False)
    assert again.already and "already released" in again.summary


def test_an_associated_address_is_left_alone(fleet: Fleet) -> None:
    allocation, _ = fleet.address()
    instance = fleet.instance("web-1")
    fleet.ec2.associate_address(AllocationId=allocation, InstanceId=instance)
    outcome = ops(fleet).perform(Action.RELEASE, key(rt.ELASTIC_IP, allocation), dry_run=False)
    assert outcome.refused and instance in outcome.summary
    assert fleet.address_exists(allocation)


def test_delete_a_nat_gateway(fleet: Fleet) -> None:
    nat = fleet.nat()
    dry = ops(fleet).perform(Action.DELETE, key(rt.NAT_GATEWAY, nat), dry_run=True)
    assert dry.kind == "dry-run" and fleet.nat_state(nat) == "available"
    outcome = ops(fleet).perform(Action.DELETE, key(rt.NAT_GATEWAY, nat), dry_run=False)
    assert outcome.done and "stays allocated" in outcome.summary
    assert fleet.nat_state(nat) in ("deleting", "deleted")
    again = ops(fleet).perform(Action.DELETE, key(rt.NAT_GATEWAY, nat), dry_run=False)
    assert again.already
    unknown = ops(fleet).perform(
        Action.DELETE, key(rt.NAT_GATEWAY, "nat-0123456789abcdef0"), dry_run=False
    )
    assert unknown.already and unknown.gone


def test_delete_a_load_balancer(fleet: Fleet) -> None:
    arn = fleet.load_balancer("shop")
    outcome = ops(fleet).perform(Action.DELETE, key(rt.LOAD_BALANCER, arn), dry_run=False)
    assert outcome.done and outcome.summary.startswith(
        f"Deleted the load balancer shop in {REGION}"
    )
    assert not fleet.load_balancer_exists(arn)
    again = ops(fleet).perform(Action.DELETE, key(rt.LOAD_BALANCER, arn), dry_run=False)
    assert again.already and again.gone


def test_load_balancer_deletion_protection_is_respected(fleet: Fleet) -> None:
    # moto itself would delete it anyway: the check is ours.
    arn = fleet.load_balancer("shop", protected=True)
    outcome = ops(fleet).perform(Action.DELETE, key(rt.LOAD_BALANCER, arn), dry_run=False)
    assert outcome.refused and "deletion protection" in outcome.summary
    assert fleet.load_balancer_exists(arn)


def test_delete_a_classic_load_balancer(fleet: Fleet) -> None:
    name = fleet.classic_load_balancer()
    born = fleet.created_at(rt.CLASSIC_LOAD_BALANCER, name)
    where = key(rt.CLASSIC_LOAD_BALANCER, name)
    outcome = ops(fleet).perform(Action.DELETE, where, dry_run=False, created_at=born)
    assert outcome.done and not fleet.classic_exists(name)
    again = ops(fleet).perform(Action.DELETE, where, dry_run=False, created_at=born)
    assert again.already


# RDS --------------------------------------------------------------------------------------------


def db_perform(operations: Operations, fleet: Fleet, action: Action, db: str) -> Outcome:
    """An action on the database the nudge was about: its creation time as recorded then."""
    born = fleet.created_at(rt.RDS_INSTANCE, db)
    return operations.perform(action, key(rt.RDS_INSTANCE, db), dry_run=False, created_at=born)


def test_stop_a_database_then_again(fleet: Fleet) -> None:
    db = fleet.database("orders")
    outcome = db_perform(ops(fleet), fleet, Action.STOP, db)
    assert outcome.done and fleet.database_status(db) == "stopped"
    assert "starts it again by itself after 7 days" in outcome.summary
    again = db_perform(ops(fleet), fleet, Action.STOP, db)
    assert again.already and "already stopped" in again.summary


def test_delete_a_database_with_a_final_snapshot(fleet: Fleet) -> None:
    db = fleet.database("orders")
    clock = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    operations = Operations(fleet.client_for, ENABLED, PATROL.by_type, clock=lambda: clock)
    born = fleet.created_at(rt.RDS_INSTANCE, db)
    where = key(rt.RDS_INSTANCE, db)
    outcome = operations.perform(Action.DELETE, where, dry_run=False, created_at=born)
    assert outcome.done and outcome.snapshots == ["whocreated-final-orders-202603020930"]
    assert fleet.db_snapshots() == ["whocreated-final-orders-202603020930"]
    assert fleet.database_status(db) in (None, "deleting")
    again = operations.perform(Action.DELETE, where, dry_run=False, created_at=born)
    assert again.already and again.gone


def test_delete_a_database_without_snapshot_when_off(fleet: Fleet) -> None:
    db = fleet.database("orders")
    operations = ops(fleet, Actions(mode="enabled", snapshot_before_delete=False))
    outcome = db_perform(operations, fleet, Action.DELETE, db)
    assert outcome.done and outcome.snapshots == [] and fleet.db_snapshots() == []


def test_database_deletion_protection_and_tags_are_respected(fleet: Fleet) -> None:
    protected = fleet.database("orders", protected=True)
    tagged = fleet.database("billing", tags={"whocreated:protected": "true"})
    one = db_perform(ops(fleet), fleet, Action.DELETE, protected)
    two = db_perform(ops(fleet), fleet, Action.DELETE, tagged)
    assert one.refused and "deletion protection" in one.summary
    assert two.refused and "protected tag whocreated:protected" in two.summary
    assert fleet.database_status(protected) == fleet.database_status(tagged) == "available"
    assert fleet.db_snapshots() == []


# Press-time identity -----------------------------------------------------------------------------

EARLIER = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # when the nudged resource of that name was made


def test_a_reused_database_name_is_not_deleted_by_an_old_button(fleet: Fleet) -> None:
    """The nudge was about `orders` made in January; the `orders` there now is bob's new one."""
    db = fleet.database("orders")
    outcome = ops(fleet).perform(
        Action.DELETE, key(rt.RDS_INSTANCE, db), dry_run=False, created_at=EARLIER
    )

    assert outcome.different and outcome.gone and not outcome.done
    assert outcome.kind == "different"
    assert "is a different resource now" in outcome.summary
    assert fleet.database_status(db) == "available" and fleet.db_snapshots() == []


@pytest.mark.parametrize("action", [Action.STOP, Action.KEEP])
def test_every_action_on_a_reused_database_name_is_refused(fleet: Fleet, action: Action) -> None:
    db = fleet.database("orders")
    outcome = ops(fleet).perform(
        action, key(rt.RDS_INSTANCE, db), dry_run=False, created_at=EARLIER, keep_until=UNTIL
    )
    assert outcome.different
    assert fleet.database_status(db) == "available" and KEEP_UNTIL_TAG not in fleet.db_tags(db)


def test_a_reused_classic_load_balancer_name_is_not_deleted(fleet: Fleet) -> None:
    name = fleet.classic_load_balancer()
    outcome = ops(fleet).perform(
        Action.DELETE, key(rt.CLASSIC_LOAD_BALANCER, name), dry_run=False, created_at=EARLIER
    )
    assert outcome.different and fleet.classic_exists(name)


def test_a_name_without_a_recorded_creation_time_is_left_alone(fleet: Fleet) -> None:
    db = fleet.database("orders")
    outcome = ops(fleet).perform(Action.DELETE, key(rt.RDS_INSTANCE, db), dry_run=False)
    assert outcome.refused and "cannot tell" in outcome.summary
    assert fleet.database_status(db) == "available"


def test_unique_ids_need_no_creation_time(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    outcome = ops(fleet).perform(
        Action.STOP, key(rt.EC2_INSTANCE, instance), dry_run=False, created_at=EARLIER
    )
    assert outcome.done and fleet.instance_state(instance) in ("stopping", "stopped")


# Protected tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "tags", "protected"),
    [
        (("env=prod",), {"env": "prod"}, True),
        (("env=prod",), {"Env": "Prod"}, True),
        (("env=prod",), {"env": "dev"}, False),
        (("protected",), {"Protected": "yes"}, True),
        (("DoNotDelete",), {"donotdelete": ""}, True),
        (("protected",), {"unprotected": "x"}, False),
    ],
)
def test_protected_tags_are_keys_or_key_values_without_case(
    fleet: Fleet, rules: tuple[str, ...], tags: dict[str, str], protected: bool
) -> None:
    instance = fleet.instance("web-1", tags=tags)
    operations = ops(fleet, Actions(mode="enabled", protected_tags=rules))
    outcome = operations.perform(Action.TERMINATE, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert outcome.refused is protected
    assert (fleet.instance_state(instance) == "running") is protected


# Keep -------------------------------------------------------------------------------------------


def test_keep_tags_an_instance(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    outcome = ops(fleet).perform(
        Action.KEEP,
        key(rt.EC2_INSTANCE, instance),
        dry_run=False,
        keep_until=UNTIL,
        keep_reason="demo for <!channel> & friends\nnext week",
    )
    assert outcome.done and outcome.summary.startswith(f"Kept {instance} until 2026-04-01.")
    tags = fleet.tags_of(instance)
    where = key(rt.EC2_INSTANCE, instance)
    assert SIGNER.read_keep_until(where, tags[KEEP_UNTIL_TAG]) == UNTIL  # signed for it
    assert tags[KEEP_UNTIL_TAG].startswith("2026-04-01T23:59:59Z wc1.")
    assert tags[KEEP_REASON_TAG] == "demo for channel friends next week"


def test_keep_tags_a_database(fleet: Fleet) -> None:
    db = fleet.database("orders")
    born = fleet.created_at(rt.RDS_INSTANCE, db)
    outcome = ops(fleet).perform(
        Action.KEEP,
        key(rt.RDS_INSTANCE, db),
        dry_run=False,
        keep_until=UNTIL,
        keep_reason="x",
        created_at=born,
    )
    assert outcome.done
    value = fleet.db_tags(db)[KEEP_UNTIL_TAG]
    # Signed for this database: its name and its creation time (names come back).
    assert SIGNER.read_keep_until(subject(key(rt.RDS_INSTANCE, db), born), value) == UNTIL


def test_keep_in_dry_run_writes_no_tag(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    outcome = ops(fleet).perform(
        Action.KEEP, key(rt.EC2_INSTANCE, instance), dry_run=True, keep_until=UNTIL
    )
    assert outcome.done and outcome.dry_run and "tag was not written" in outcome.summary
    assert KEEP_UNTIL_TAG not in fleet.tags_of(instance)


class Denied:
    """Any call is AccessDenied."""

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, name)

        return call


def test_a_denied_keep_tag_still_keeps(caplog: pytest.LogCaptureFixture) -> None:
    operations = Operations(
        lambda service, region: Denied(), ENABLED, PATROL.by_type, signer=SIGNER
    )
    with caplog.at_level(logging.WARNING, logger="bot.aws.operations"):
        outcome = operations.perform(
            Action.KEEP, key(rt.EC2_INSTANCE, "i-0abc"), dry_run=False, keep_until=UNTIL
        )
    assert outcome.done
    assert "could not tag it (UnauthorizedOperation), but I remember the keep" in outcome.summary
    assert "i-0abc" in caplog.text


# Errors -----------------------------------------------------------------------------------------


def test_denied_actions_name_the_permission(caplog: pytest.LogCaptureFixture) -> None:
    operations = Operations(lambda service, region: Denied(), ENABLED, PATROL.by_type)
    with caplog.at_level(logging.ERROR, logger="bot.aws.operations"):
        outcome = operations.perform(Action.STOP, key(rt.EC2_INSTANCE, "i-0abc"), dry_run=False)
    assert not outcome.done and outcome.kind == "failed"
    assert outcome.summary == (
        "AWS did not let me stop i-0abc (UnauthorizedOperation): my role needs "
        "ec2:StopInstances. Nothing was changed."
    )
    assert "stop of AWS::EC2::Instance i-0abc in eu-west-1" in caplog.text


class Unreachable:
    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://ec2.eu-west-1.amazonaws.com")

        return call


def test_unreachable_aws_is_words() -> None:
    operations = Operations(lambda service, region: Unreachable(), ENABLED, PATROL.by_type)
    outcome = operations.perform(Action.TERMINATE, key(rt.EC2_INSTANCE, "i-0abc"), dry_run=False)
    assert not outcome.done and "could not reach AWS to terminate i-0abc" in outcome.summary


def test_what_a_button_cannot_do_is_refused() -> None:
    operations = Operations(lambda service, region: Denied(), ENABLED, PATROL.by_type)
    outcome = operations.perform(Action.DELETE, key(rt.EKS_CLUSTER, "dev"), dry_run=False)
    assert outcome.refused and "cannot delete" in outcome.summary
    assert operations.perform(Action.NOT_MINE, key(rt.EKS_CLUSTER, "dev"), dry_run=False).done


# Accounts ---------------------------------------------------------------------------------------


def test_each_account_gets_its_own_clients(fleet: Fleet) -> None:
    instance = fleet.instance("web-1")
    asked: list[str] = []

    def account_clients(account: str) -> Any:
        asked.append(account)
        return fleet.client_for if account == ACCOUNT else None

    operations = Operations(
        lambda service, region: Denied(), ENABLED, PATROL.by_type, account_clients=account_clients
    )
    outcome = operations.perform(Action.STOP, key(rt.EC2_INSTANCE, instance), dry_run=False)
    assert outcome.done and fleet.instance_state(instance) == "stopped"
    other = operations.perform(
        Action.STOP, ("210987654321", REGION, rt.EC2_INSTANCE, instance), dry_run=False
    )
    assert not other.done and not other.already  # never "gone" for want of a way in
    assert "cannot get into account 210987654321" in other.summary
    assert asked == [ACCOUNT, "210987654321"]
