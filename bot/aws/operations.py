"""What the nudge buttons do in AWS: stop, terminate, delete, release, and keep (tags).

`Operations.perform(action, key, dry_run=...)` reads the resource's live state first, then acts,
and always returns an `Outcome` in plain words, never raises:
- idempotent: a resource already stopped, terminated or gone is `already=True`, said calmly;
- protected tags, termination protection and deletion protection are refused, with the reason;
- EBS volumes (and the volumes an instance's termination deletes) are snapshotted first, and RDS
  instances get a final snapshot, unless the policy turns snapshots off;
- dry-run reads but changes nothing, and says exactly what would have been done;
- every AWS error is logged with its context and becomes words.

Summaries are plain text holding AWS strings (names, tags): escape them before showing as mrkdwn.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.core import resources as rt
from bot.core import tag_rules
from bot.core.created_by import KEEP_UNTIL_TAG, TagSigner, subject
from bot.core.decisions import Action
from bot.core.policy import Actions
from bot.permissions import action_words

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]
ResourceKey = tuple[str, str, str, str]  # (account, region, type, id), as Resource.key

KEEP_REASON_TAG = "whocreated:keep-reason"
SNAPSHOT_OF_TAG = "whocreated:snapshot-of"
TAG_VALUE_LIMIT = 256

# Codes that mean "no such resource": the thing is already gone.
NOT_FOUND_CODES = frozenset(
    {
        "InvalidInstanceID.NotFound",
        "InvalidVolume.NotFound",
        "InvalidAllocationID.NotFound",
        "InvalidAddress.NotFound",
        "NatGatewayNotFound",
        "NatGatewayNotFoundException",
        "LoadBalancerNotFound",
        "AccessPointNotFound",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "ResourceNotFoundException",
    }
)


@dataclass(frozen=True)
class Outcome:
    done: bool  # the action happened (or, for keep, is in force)
    summary: str  # one or two plain sentences for the person and the audit channel
    snapshots: list[str] = field(default_factory=list)  # snapshot ids taken first
    already: bool = False  # nothing to do: already in the wanted state, or gone
    gone: bool = False  # the resource no longer exists
    refused: bool = False  # not done on purpose: protection, tags, state
    dry_run: bool = False  # nothing was changed: the summary says what would have been
    different: bool = False  # another resource has the nudged one's name now: nothing was done

    @property
    def kind(self) -> str:
        """For the audit trail: different, already, refused, dry-run, done or failed."""
        if self.different:
            return "different"
        if self.already:
            return "already"
        if self.refused:
            return "refused"
        if self.dry_run and not self.done:
            return "dry-run"
        return "done" if self.done else "failed"


@dataclass(frozen=True)
class Target:
    account: str
    region: str
    type: str
    id: str
    clients: ClientFactory
    created_at: datetime | None = None  # the nudged resource's creation time, as recorded

    def client(self, service: str) -> Any:
        return self.clients(service, self.region)


class _Stop(Exception):
    """Ends an operation early with this outcome (gone, already, refused)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.summary)
        self.outcome = outcome


class Operations:
    """Carries out decisions; `client_for(service, region)` gives boto3 clients."""

    def __init__(
        self,
        client_for: ClientFactory,
        actions_policy: Actions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        snapshot_timeout: float = 120.0,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        account_clients: Callable[[str], ClientFactory | None] | None = None,
        signer: TagSigner | None = None,
    ) -> None:
        """`account_clients(account)` gives the factory for a patrolled account (an assumed role)
        or None when it cannot be entered; without it every action uses `client_for`, the
        credentials' own account."""
        self.client_for = client_for
        self.account_clients = account_clients
        self.policy = actions_policy
        self.clock = clock
        self.snapshot_timeout = snapshot_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.signer = signer  # without one, the keep-until tag is not written

    def perform(
        self,
        action: Action,
        key: ResourceKey,
        *,
        dry_run: bool,
        keep_until: datetime | None = None,
        keep_reason: str | None = None,
        created_at: datetime | None = None,
    ) -> Outcome:
        """Do `action` to the resource `key` names, if it is still the one that was nudged:
        `created_at` is the creation time recorded then, compared with the live resource's where
        its id is a name AWS lets be reused (DB ids, classic LB and cluster names)."""
        account, region, resource_type, resource_id = key
        clients = self.client_for if self.account_clients is None else self._enter(account)
        if clients is None:
            return Outcome(
                done=False,
                summary=f"I cannot get into account {account} to {action.value} {resource_id} "
                "right now. Nothing was changed; try again later.",
            )
        target = Target(account, region, resource_type, resource_id, clients, created_at)
        if action is Action.NOT_MINE:
            return Outcome(done=True, summary="Nothing to do in AWS.")
        if action is Action.KEEP:
            try:
                return self._keep(target, keep_until, keep_reason, dry_run)
            except _Stop as stop:
                return stop.outcome
        handler = _HANDLERS.get((target.type, action))
        if handler is None:
            return Outcome(
                done=False,
                refused=True,
                summary=f"I cannot {action.value} a {target.type} from Slack: do it in AWS.",
            )
        try:
            return handler(self, target, dry_run)
        except _Stop as stop:
            return stop.outcome
        except ClientError as error:
            logger.exception(
                "%s of %s %s in %s (account %s) failed",
                action.value,
                target.type,
                target.id,
                target.region,
                target.account,
            )
            return Outcome(done=False, summary=_error_words(action, target, error))
        except BotoCoreError as error:
            logger.exception(
                "%s of %s in %s: AWS unreachable", action.value, target.id, target.region
            )
            return Outcome(
                done=False,
                summary=f"I could not reach AWS to {action.value} {target.id}: {error}. "
                "Nothing was changed; try again later.",
            )

    def _enter(self, account: str) -> ClientFactory | None:
        assert self.account_clients is not None
        try:
            return self.account_clients(account)
        except Exception:
            logger.exception("could not get clients for account %s", account)
            return None

    # EC2 instances ------------------------------------------------------------------------------

    def _instance(self, target: Target) -> tuple[Any, dict[str, Any], str]:
        ec2 = target.client("ec2")
        try:
            reservations = ec2.describe_instances(InstanceIds=[target.id])["Reservations"]
        except ClientError as error:
            _raise_if_gone(error, target.id)
            raise
        instances = [i for r in reservations for i in r.get("Instances", [])]
        if not instances:
            raise _Stop(_gone(target.id))
        instance = instances[0]
        label = _label(target.id, _tags(instance.get("Tags")))
        state = instance.get("State", {}).get("Name")
        if state in ("terminated", "shutting-down"):
            raise _Stop(_already(f"{label} is already terminated: nothing to do.", gone=True))
        return ec2, instance, label

    def _stop_instance(self, target: Target, dry_run: bool) -> Outcome:
        ec2, instance, label = self._instance(target)
        if instance.get("State", {}).get("Name") in ("stopped", "stopping"):
            return _already(f"{label} is already stopped: nothing to do.")
        self._check_tags(label, _tags(instance.get("Tags")))
        where = f"{label} in {target.region}"
        if dry_run:
            return _dry(f"stopped {where}")
        ec2.stop_instances(InstanceIds=[target.id])
        return Outcome(
            done=True,
            summary=f"Stopped {where}. Its volumes stay (and still cost); it can be started again.",
        )

    def _terminate_instance(self, target: Target, dry_run: bool) -> Outcome:
        ec2, instance, label = self._instance(target)
        self._check_tags(label, _tags(instance.get("Tags")))
        protected = ec2.describe_instance_attribute(
            InstanceId=target.id, Attribute="disableApiTermination"
        )
        if protected.get("DisableApiTermination", {}).get("Value"):
            return _refused(f"{label} has termination protection on, so I leave it alone.")
        # Volumes that termination deletes are snapshotted; the others outlive the instance.
        volumes = [m["Ebs"] for m in instance.get("BlockDeviceMappings", []) if m.get("Ebs")]
        doomed = [v["VolumeId"] for v in volumes if v.get("DeleteOnTermination")]
        kept = [v["VolumeId"] for v in volumes if not v.get("DeleteOnTermination")]
        snapshot = self.policy.snapshot_before_delete and bool(doomed)
        where = f"{label} in {target.region}"
        after = f" after snapshotting {_list(doomed)}" if snapshot else ""
        if doomed and not snapshot:
            after = f", deleting {_list(doomed)} without snapshots (snapshots are off)"
        stays = f" {_list(kept)} {'is' if len(kept) == 1 else 'are'} kept." if kept else ""
        if dry_run:
            return _dry(f"terminated {where}{after}.{stays}".rstrip("."))
        snapshots = (
            self._snapshots(ec2, target, doomed, f"before terminating {target.id}")
            if snapshot
            else []
        )
        ec2.terminate_instances(InstanceIds=[target.id])
        taken = f" after snapshotting {_pairs(doomed, snapshots)}" if snapshots else after
        return Outcome(done=True, summary=f"Terminated {where}{taken}.{stays}", snapshots=snapshots)

    # EBS volumes --------------------------------------------------------------------------------

    def _delete_volume(self, target: Target, dry_run: bool) -> Outcome:
        ec2 = target.client("ec2")
        try:
            volumes = ec2.describe_volumes(VolumeIds=[target.id])["Volumes"]
        except ClientError as error:
            _raise_if_gone(error, target.id)
            raise
        if not volumes or volumes[0].get("State") in ("deleting", "deleted"):
            return _gone(target.id)
        volume = volumes[0]
        label = _label(target.id, _tags(volume.get("Tags")))
        attached = [a.get("InstanceId") for a in volume.get("Attachments", [])]
        if volume.get("State") == "in-use" or attached:
            return _refused(
                f"{label} is attached to {_list([a for a in attached if a]) or 'an instance'} "
                "now, so it is in use: I leave it alone."
            )
        self._check_tags(label, _tags(volume.get("Tags")))
        size = f" ({volume.get('Size')} GiB {volume.get('VolumeType', '')})".replace(" )", ")")
        where = f"{label}{size} in {target.region}"
        snapshot = self.policy.snapshot_before_delete
        how = " after taking a snapshot of it" if snapshot else " without a snapshot (off)"
        if dry_run:
            return _dry(f"deleted {where}{how}")
        snapshots = (
            self._snapshots(ec2, target, [target.id], "before deleting it") if snapshot else []
        )
        ec2.delete_volume(VolumeId=target.id)
        if snapshots:
            how = f" after taking snapshot {snapshots[0]} (kept: delete it when no longer needed)"
        return Outcome(done=True, summary=f"Deleted {where}{how}.", snapshots=snapshots)

    def _snapshots(
        self, ec2: Any, target: Target, volume_ids: Sequence[str], why: str
    ) -> list[str]:
        """Snapshot each volume and wait until each has started (pending or completed)."""
        taken: list[str] = []
        for volume_id in volume_ids:
            answer = ec2.create_snapshot(
                VolumeId=volume_id,
                Description=f"whocreated: {volume_id} {why}"[:255],
                TagSpecifications=[
                    {
                        "ResourceType": "snapshot",
                        "Tags": [
                            {"Key": SNAPSHOT_OF_TAG, "Value": volume_id},
                            {"Key": "Name", "Value": f"whocreated {why}"[:255]},
                        ],
                    }
                ],
            )
            taken.append(answer["SnapshotId"])
        self._wait_started(ec2, target, taken)
        return taken

    def _wait_started(self, ec2: Any, target: Target, snapshot_ids: list[str]) -> None:
        deadline = time.monotonic() + self.snapshot_timeout
        while True:
            found = ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
            states = {s["SnapshotId"]: s.get("State") for s in found}
            failed = [sid for sid, state in states.items() if state == "error"]
            if failed:
                raise _Stop(
                    Outcome(
                        done=False,
                        snapshots=snapshot_ids,
                        summary=f"The snapshot {_list(failed)} of {target.id} failed, so I did "
                        "not delete anything.",
                    )
                )
            if len(states) == len(snapshot_ids) and all(
                state in ("pending", "completed") for state in states.values()
            ):
                return
            if time.monotonic() >= deadline:
                raise _Stop(
                    Outcome(
                        done=False,
                        snapshots=snapshot_ids,
                        summary=f"The snapshot {_list(snapshot_ids)} of {target.id} did not "
                        "start in time, so I did not delete anything.",
                    )
                )
            self.sleep(self.poll_interval)

    # Elastic IPs and NAT gateways ---------------------------------------------------------------

    def _release_address(self, target: Target, dry_run: bool) -> Outcome:
        ec2 = target.client("ec2")
        by_id = target.id.startswith("eipalloc-")
        ask = {"AllocationIds": [target.id]} if by_id else {"PublicIps": [target.id]}
        try:
            addresses = ec2.describe_addresses(**ask)["Addresses"]
        except ClientError as error:
            _raise_if_gone(error, target.id, "already released")
            raise
        if not addresses:
            return _gone(target.id, "already released")
        address = addresses[0]
        ip = address.get("PublicIp")
        label = _label(
            f"{ip} ({target.id})" if ip and by_id else target.id, _tags(address.get("Tags"))
        )
        user = address.get("InstanceId") or address.get("NetworkInterfaceId")
        if address.get("AssociationId") or user:
            return _refused(f"{label} is now associated with {user or 'something'}: I leave it.")
        self._check_tags(label, _tags(address.get("Tags")))
        where = f"the Elastic IP {label} in {target.region}"
        if dry_run:
            return _dry(f"released {where}")
        if by_id:
            ec2.release_address(AllocationId=target.id)
        else:
            ec2.release_address(PublicIp=target.id)
        return Outcome(done=True, summary=f"Released {where}.")

    def _delete_nat(self, target: Target, dry_run: bool) -> Outcome:
        ec2 = target.client("ec2")
        try:
            found = ec2.describe_nat_gateways(NatGatewayIds=[target.id])["NatGateways"]
        except ClientError as error:
            _raise_if_gone(error, target.id)
            raise
        if not found or found[0].get("State") in ("deleting", "deleted"):
            return _gone(target.id)
        nat = found[0]
        label = _label(target.id, _tags(nat.get("Tags")))
        self._check_tags(label, _tags(nat.get("Tags")))
        where = f"the NAT gateway {label} in {target.region}"
        eips = [
            a["AllocationId"] for a in nat.get("NatGatewayAddresses", []) if a.get("AllocationId")
        ]
        note = (
            f" Its Elastic IP {_list(eips)} stays allocated (and costs): release it too if unused."
            if eips
            else ""
        )
        if dry_run:
            return _dry(f"deleted {where}")
        ec2.delete_nat_gateway(NatGatewayId=target.id)
        return Outcome(done=True, summary=f"Deleting {where} (AWS takes a few minutes).{note}")

    # Load balancers -----------------------------------------------------------------------------

    def _delete_lb(self, target: Target, dry_run: bool) -> Outcome:
        elb = target.client("elbv2")
        is_arn = target.id.startswith("arn:")
        ask = {"LoadBalancerArns": [target.id]} if is_arn else {"Names": [target.id]}
        try:
            found = elb.describe_load_balancers(**ask)["LoadBalancers"]
        except ClientError as error:
            _raise_if_gone(error, target.id)
            raise
        if not found:
            return _gone(target.id)
        arn, name = found[0]["LoadBalancerArn"], found[0].get("LoadBalancerName") or target.id
        if not is_arn:  # found by name, which a newer load balancer may have taken
            self._check_identity(target, found[0].get("CreatedTime"))
        attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
        if any(
            a["Key"] == "deletion_protection.enabled" and str(a.get("Value")).lower() == "true"
            for a in attributes
        ):
            return _refused(f"The load balancer {name} has deletion protection on: I leave it.")
        descriptions = elb.describe_tags(ResourceArns=[arn]).get("TagDescriptions", [])
        self._check_tags(f"The load balancer {name}", _tags(_first_tags(descriptions)))
        where = f"the load balancer {name} in {target.region}"
        if dry_run:
            return _dry(f"deleted {where}")
        elb.delete_load_balancer(LoadBalancerArn=arn)
        return Outcome(
            done=True, summary=f"Deleted {where}. Its target groups and instances are left."
        )

    def _delete_classic_lb(self, target: Target, dry_run: bool) -> Outcome:
        elb = target.client("elb")
        try:
            found = elb.describe_load_balancers(LoadBalancerNames=[target.id])
        except ClientError as error:
            _raise_if_gone(error, target.id)
            raise
        if not found.get("LoadBalancerDescriptions"):
            return _gone(target.id)
        self._check_identity(target, found["LoadBalancerDescriptions"][0].get("CreatedTime"))
        descriptions = elb.describe_tags(LoadBalancerNames=[target.id]).get("TagDescriptions", [])
        self._check_tags(f"The load balancer {target.id}", _tags(_first_tags(descriptions)))
        where = f"the classic load balancer {target.id} in {target.region}"
        if dry_run:
            return _dry(f"deleted {where}")
        elb.delete_load_balancer(LoadBalancerName=target.id)
        return Outcome(done=True, summary=f"Deleted {where}. Its instances are left.")

    # RDS ----------------------------------------------------------------------------------------

    def _db(self, target: Target) -> tuple[Any, dict[str, Any], str]:
        rds = target.client("rds")
        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=target.id)["DBInstances"]
        except ClientError as error:
            _raise_if_gone(error, target.id)
            raise
        if not found or found[0].get("DBInstanceStatus") == "deleting":
            raise _Stop(_gone(target.id))
        db = found[0]
        self._check_identity(target, db.get("InstanceCreateTime"))
        label = f"the database {target.id}"
        if db.get("DBClusterIdentifier"):
            raise _Stop(
                _refused(
                    f"{label.capitalize()} belongs to the Aurora cluster "
                    f"{db['DBClusterIdentifier']}: that is done on the cluster, not from here."
                )
            )
        self._check_tags(label.capitalize(), _tags(db.get("TagList")))
        return rds, db, label

    def _stop_db(self, target: Target, dry_run: bool) -> Outcome:
        rds, db, label = self._db(target)
        status = db.get("DBInstanceStatus")
        if status in ("stopped", "stopping"):
            return _already(f"{label.capitalize()} is already stopped: nothing to do.")
        if status != "available":
            return _refused(f"{label.capitalize()} is {status} right now; try again later.")
        where = f"{label} in {target.region}"
        if dry_run:
            return _dry(f"stopped {where}")
        rds.stop_db_instance(DBInstanceIdentifier=target.id)
        return Outcome(
            done=True,
            summary=f"Stopped {where}. AWS starts it again by itself after 7 days.",
        )

    def _delete_db(self, target: Target, dry_run: bool) -> Outcome:
        rds, db, label = self._db(target)
        if db.get("DeletionProtection"):
            return _refused(f"{label.capitalize()} has deletion protection on: I leave it alone.")
        where = f"{label} in {target.region}"
        snapshot_id = f"whocreated-final-{target.id}-{self.clock():%Y%m%d%H%M}"
        if self.policy.snapshot_before_delete:
            how = f" after a final snapshot {snapshot_id}"
            ask: dict[str, Any] = {"FinalDBSnapshotIdentifier": snapshot_id}
        else:
            how = " without a final snapshot (snapshots are off)"
            ask = {"SkipFinalSnapshot": True}
        if dry_run:
            return _dry(f"deleted {where}{how}")
        rds.delete_db_instance(DBInstanceIdentifier=target.id, **ask)
        taken = [snapshot_id] if self.policy.snapshot_before_delete else []
        return Outcome(done=True, summary=f"Deleting {where}{how}.", snapshots=taken)

    # Keep ---------------------------------------------------------------------------------------

    def _keep(
        self, target: Target, until: datetime | None, reason: str | None, dry_run: bool
    ) -> Outcome:
        """Tag the resource with the keep; a tag that cannot be written costs nothing: the store
        holds the keep, the tag only tells people looking at the console."""
        day = f" until {until.astimezone(UTC):%Y-%m-%d}" if until else ""
        kept = f"Kept {target.id}{day}."
        if not self.policy.write_tags or until is None:
            return Outcome(done=True, summary=kept)
        if dry_run:
            return Outcome(
                done=True,
                dry_run=True,
                summary=f"{kept} (Dry run: the {KEEP_UNTIL_TAG} tag was not written.)",
            )
        if self.signer is None:
            return Outcome(done=True, summary=kept)
        key = (target.account, target.region, target.type, target.id)
        tags = {KEEP_UNTIL_TAG: self.signer.keep_until(subject(key, target.created_at), until)}
        if reason and reason.strip():
            tags[KEEP_REASON_TAG] = _tag_value(reason)
        writer = _TAG_WRITERS.get(target.type)
        if writer is None:
            return Outcome(done=True, summary=kept)
        try:
            writer(self, target, tags)
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            # Not logger.exception: a denied tag is expected in locked-down accounts.
            logger.warning(
                "could not tag %s %s in %s with its keep (%s)",
                target.type,
                target.id,
                target.region,
                code,
            )
            return Outcome(
                done=True,
                summary=f"{kept} I could not tag it ({code}), but I remember the keep myself.",
            )
        return Outcome(done=True, summary=f"{kept} Tagged {KEEP_UNTIL_TAG} on it.")

    def _tag_ec2(self, target: Target, tags: Mapping[str, str]) -> None:
        target.client("ec2").create_tags(
            Resources=[target.id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )

    def _tag_lb(self, target: Target, tags: Mapping[str, str]) -> None:
        target.client("elbv2").add_tags(
            ResourceArns=[target.id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )

    def _tag_classic_lb(self, target: Target, tags: Mapping[str, str]) -> None:
        elb = target.client("elb")
        found = elb.describe_load_balancers(LoadBalancerNames=[target.id])
        described = found.get("LoadBalancerDescriptions") or [{}]
        self._check_identity(target, described[0].get("CreatedTime"))
        elb.add_tags(
            LoadBalancerNames=[target.id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )

    def _tag_db(self, target: Target, tags: Mapping[str, str]) -> None:
        rds = target.client("rds")
        found = rds.describe_db_instances(DBInstanceIdentifier=target.id)["DBInstances"]
        self._check_identity(target, found[0].get("InstanceCreateTime"))
        rds.add_tags_to_resource(
            ResourceName=found[0]["DBInstanceArn"],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )

    def _tag_eks(self, target: Target, tags: Mapping[str, str]) -> None:
        eks = target.client("eks")
        cluster = eks.describe_cluster(name=target.id)["cluster"]
        self._check_identity(target, cluster.get("createdAt"))
        eks.tag_resource(resourceArn=cluster["arn"], tags=dict(tags))

    # Shared -------------------------------------------------------------------------------------

    def _check_identity(self, target: Target, live_created_at: Any) -> None:
        """Stop unless the live resource is the nudged one (DESIGN.md §4, Trust): a name that AWS
        lets be reused may belong to a resource made after the nudge, by someone else."""
        if target.type in rt.UNIQUE_ID_TYPES:
            return  # the id itself is the identity
        live = _utc(live_created_at)
        if target.created_at is None or live is None:
            raise _Stop(
                _refused(
                    f"I cannot tell that {target.id} is still the resource I told you about "
                    "(no creation time to compare), so I leave it alone."
                )
            )
        if abs(live - _utc_required(target.created_at)) > IDENTITY_TOLERANCE:
            raise _Stop(
                Outcome(
                    done=False,
                    gone=True,
                    different=True,
                    summary=f"{target.id} is a different resource now: the one I told you about "
                    f"is gone, and another was created with its name on {live:%Y-%m-%d %H:%M} "
                    "UTC. Nothing was done.",
                )
            )

    def _check_tags(self, label: str, tags: Mapping[str, str]) -> None:
        rule = tag_rules.first_match(self.policy.protected_tags, tags)
        if rule is not None:
            raise _Stop(
                _refused(
                    f"{label[0].upper()}{label[1:]} has the protected tag {rule}, "
                    "so I leave it alone."
                )
            )


# Creation times read back from AWS may lose sub-second digits on the way.
IDENTITY_TOLERANCE = timedelta(seconds=1)


def _utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_required(value: datetime) -> datetime:
    moment = _utc(value)
    assert moment is not None
    return moment


_Handler = Callable[[Operations, Target, bool], Outcome]

_HANDLERS: Mapping[tuple[str, Action], _Handler] = {
    (rt.EC2_INSTANCE, Action.STOP): Operations._stop_instance,
    (rt.EC2_INSTANCE, Action.TERMINATE): Operations._terminate_instance,
    (rt.EBS_VOLUME, Action.DELETE): Operations._delete_volume,
    (rt.ELASTIC_IP, Action.RELEASE): Operations._release_address,
    (rt.NAT_GATEWAY, Action.DELETE): Operations._delete_nat,
    (rt.LOAD_BALANCER, Action.DELETE): Operations._delete_lb,
    (rt.CLASSIC_LOAD_BALANCER, Action.DELETE): Operations._delete_classic_lb,
    (rt.RDS_INSTANCE, Action.STOP): Operations._stop_db,
    (rt.RDS_INSTANCE, Action.DELETE): Operations._delete_db,
}

_TAG_WRITERS: Mapping[str, Callable[[Operations, Target, Mapping[str, str]], None]] = {
    rt.EC2_INSTANCE: Operations._tag_ec2,
    rt.EBS_VOLUME: Operations._tag_ec2,
    rt.ELASTIC_IP: Operations._tag_ec2,
    rt.NAT_GATEWAY: Operations._tag_ec2,
    rt.LOAD_BALANCER: Operations._tag_lb,
    rt.CLASSIC_LOAD_BALANCER: Operations._tag_classic_lb,
    rt.RDS_INSTANCE: Operations._tag_db,
    rt.EKS_CLUSTER: Operations._tag_eks,
}


# ---------------------------------------------------------------------------------------------
# Words


def _gone(resource_id: str, how: str = "already gone") -> Outcome:
    return Outcome(
        done=False, already=True, gone=True, summary=f"{resource_id} is {how}: nothing to do."
    )


def _already(summary: str, *, gone: bool = False) -> Outcome:
    return Outcome(done=False, already=True, gone=gone, summary=summary)


def _refused(summary: str) -> Outcome:
    return Outcome(done=False, refused=True, summary=summary)


def _dry(what: str) -> Outcome:
    return Outcome(
        done=False,
        dry_run=True,
        summary=f"Dry run: I would have {what}. Nothing was changed (actions are in dry-run mode).",
    )


def _raise_if_gone(error: ClientError, resource_id: str, how: str = "already gone") -> None:
    if error_code(error) in NOT_FOUND_CODES:
        raise _Stop(_gone(resource_id, how)) from error


def _error_words(action: Action, target: Target, error: ClientError) -> str:
    code = error_code(error)
    if is_denied(error):
        # What the role lacks comes from the permissions table (bot/permissions.py).
        needed = action_words(target.type, action, getattr(error, "operation_name", None))
        return (
            f"AWS did not let me {action.value} {target.id} ({code}): my role needs {needed}. "
            "Nothing was changed."
        )
    message = str(error.response.get("Error", {}).get("Message") or "")[:200]
    return f"AWS refused to {action.value} {target.id}: {code}: {message}".rstrip(": ") + "."


def _tags(tags: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or () if "Key" in t}


def _first_tags(descriptions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, str]]:
    return list(descriptions[0].get("Tags", [])) if descriptions else []


def _label(resource_id: str, tags: Mapping[str, str]) -> str:
    name = tags.get("Name")
    return f"{name} ({resource_id})" if name and name != resource_id else resource_id


def _list(ids: Sequence[str]) -> str:
    if len(ids) <= 1:
        return "".join(ids)
    return ", ".join(ids[:-1]) + f" and {ids[-1]}"


def _pairs(volume_ids: Sequence[str], snapshot_ids: Sequence[str]) -> str:
    return _list([f"{v} ({s})" for v, s in zip(volume_ids, snapshot_ids, strict=True)])


# Most services allow only letters, digits, spaces and _ . : / = + - @ in tag values.
_TAG_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]", re.UNICODE)


def _tag_value(text: str) -> str:
    return " ".join(_TAG_UNSAFE.sub(" ", text).split())[:TAG_VALUE_LIMIT]
