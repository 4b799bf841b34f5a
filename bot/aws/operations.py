"""What the nudge buttons do in AWS: each type's handlers, and keep (tags).

`Operations.perform(action, key, dry_run=...)` finds the button's handler in the type's
declaration (bot/registry/patrol/; the handlers are in bot/aws/kinds/), which reads the resource's
live state first, then acts; it always returns an `Outcome` in plain words, never raises:
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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.creation_hints import Reader
from bot.aws.errors import error_code, is_denied
from bot.aws.tagging import Writer, clean_tags
from bot.core import tag_rules
from bot.core.created_by import KEEP_UNTIL_TAG, TagSigner, subject
from bot.core.decisions import Action, verb
from bot.core.iam_names import needed_words
from bot.core.policy import Actions
from bot.core.refs import ResourceRef
from bot.core.resources import Resource

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]
ResourceKey = tuple[str, str, str, str]  # (account, region, type, id), as Resource.key

KEEP_REASON_TAG = "whocreated:keep-reason"
SNAPSHOT_OF_TAG = "whocreated:snapshot-of"
TAG_VALUE_LIMIT = 256

# Codes that mean "no such resource": the thing is already gone. A kind's handlers add their
# service's own (raise_if_gone(..., codes=)).
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
    unique_id: bool = False  # its id is never reused (its type's declaration says)

    def client(self, service: str) -> Any:
        return self.clients(service, self.region)

    @property
    def key(self) -> ResourceKey:
        return (self.account, self.region, self.type, self.id)


Handler = Callable[["Operations", Target, bool], Outcome]  # (operations, target, dry_run)


@dataclass(frozen=True)
class Act:
    """What one button does to one type: its handler and the IAM actions it needs."""

    handler: Handler
    permissions: tuple[str, ...]  # its calls, the live read first
    snapshots: tuple[str, ...] = ()  # taken first when the policy keeps snapshots on
    # The IAM resources its changes touch, for the generated policies ({partition} filled in):
    # snapshot permissions act on what they create too (a volume and its snapshot).
    snapshot_resources: tuple[str, ...] = ()


class Acted(Protocol):
    """What operations read of a type's declaration."""

    @property
    def actions(self) -> Mapping[Action, Act]: ...

    @property
    def unique_ids(self) -> bool: ...

    @property
    def tagging(self) -> Writer | None: ...

    @property
    def hint(self) -> Reader | None: ...


class Stop(Exception):
    """Ends an operation early with this outcome (gone, already, refused)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.summary)
        self.outcome = outcome


class Operations:
    """Carries out decisions; `client_for(service, region)` gives boto3 clients, `types` are the
    declared patrol types by CloudFormation type (bot.registry.patrol.PATROL.by_type)."""

    def __init__(
        self,
        client_for: ClientFactory,
        actions_policy: Actions,
        types: Mapping[str, Acted],
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
        self.types = types
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
        declared = self.types.get(resource_type)
        unique = declared.unique_ids if declared is not None else False
        target = Target(account, region, resource_type, resource_id, clients, created_at, unique)
        if action is Action.NOT_MINE:
            return Outcome(done=True, summary="Nothing to do in AWS.")
        if action is Action.KEEP:
            try:
                return self._keep(target, declared, keep_until, keep_reason, dry_run)
            except Stop as stop:
                return stop.outcome
        act = declared.actions.get(action) if declared is not None else None
        if act is None:
            return Outcome(
                done=False,
                refused=True,
                summary=f"I cannot {verb(action)} a {target.type} from Slack: do it in AWS.",
            )
        try:
            return act.handler(self, target, dry_run)
        except Stop as stop:
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
            return Outcome(done=False, summary=_error_words(action, act, target, error))
        except BotoCoreError as error:
            logger.exception(
                "%s of %s in %s: AWS unreachable", action.value, target.id, target.region
            )
            return Outcome(
                done=False,
                summary=f"I could not reach AWS to {verb(action)} {target.id}: {error}. "
                "Nothing was changed; try again later.",
            )

    def _enter(self, account: str) -> ClientFactory | None:
        assert self.account_clients is not None
        try:
            return self.account_clients(account)
        except Exception:
            logger.exception("could not get clients for account %s", account)
            return None

    # Keep ---------------------------------------------------------------------------------------

    def _keep(
        self,
        target: Target,
        declared: Acted | None,
        until: datetime | None,
        reason: str | None,
        dry_run: bool,
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
        writer = declared.tagging if declared is not None else None
        if self.signer is None or writer is None:
            return Outcome(done=True, summary=kept)
        signed = self.signer.keep_until(
            subject(target.key, target.created_at, unique_id=target.unique_id), until
        )
        tags = {KEEP_UNTIL_TAG: signed}
        if reason and reason.strip():
            tags[KEEP_REASON_TAG] = _tag_value(reason)
        try:
            if not target.unique_id:  # a reused name may belong to a newer resource by now
                self.check_identity(target, self._live_creation(target, declared))
            resource = Resource(target.type, target.id, target.region, target.account)
            writer.write(target.client(writer.service), [resource], clean_tags(tags))
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

    def _live_creation(self, target: Target, declared: Acted | None) -> datetime | None:
        """The live resource's creation time, as its type's creation-time reader says."""
        reader = declared.hint if declared is not None else None
        if reader is None:
            return None
        ref = ResourceRef(
            given=target.id,
            id=target.id,
            type=target.type,
            region=target.region,
            account=target.account,
        )
        return reader.ask(target.clients, target.region, ref).created_at

    # Shared -------------------------------------------------------------------------------------

    def check_identity(self, target: Target, live_created_at: Any) -> None:
        """Stop unless the live resource is the nudged one (DESIGN.md §4, Trust): a name that AWS
        lets be reused may belong to a resource made after the nudge, by someone else."""
        if target.unique_id:
            return  # the id itself is the identity
        live = _utc(live_created_at)
        if target.created_at is None or live is None:
            raise Stop(
                refused(
                    f"I cannot tell that {target.id} is still the resource I told you about "
                    "(no creation time to compare), so I leave it alone."
                )
            )
        if abs(live - _utc_required(target.created_at)) > IDENTITY_TOLERANCE:
            raise Stop(
                Outcome(
                    done=False,
                    gone=True,
                    different=True,
                    summary=f"{target.id} is a different resource now: the one I told you about "
                    f"is gone, and another was created with its name on {live:%Y-%m-%d %H:%M} "
                    "UTC. Nothing was done.",
                )
            )

    def check_tags(self, label: str, tags: Mapping[str, str]) -> None:
        rule = tag_rules.first_match(self.policy.protected_tags, tags)
        if rule is not None:
            raise Stop(
                refused(
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


# ---------------------------------------------------------------------------------------------
# Words


def gone(resource_id: str, how: str = "already gone") -> Outcome:
    return Outcome(
        done=False, already=True, gone=True, summary=f"{resource_id} is {how}: nothing to do."
    )


def already(summary: str, *, gone: bool = False) -> Outcome:
    return Outcome(done=False, already=True, gone=gone, summary=summary)


def refused(summary: str) -> Outcome:
    return Outcome(done=False, refused=True, summary=summary)


def dry(what: str) -> Outcome:
    return Outcome(
        done=False,
        dry_run=True,
        summary=f"Dry run: I would have {what}. Nothing was changed (actions are in dry-run mode).",
    )


def raise_if_gone(
    error: ClientError,
    resource_id: str,
    how: str = "already gone",
    *,
    codes: Collection[str] = (),
) -> None:
    """Stop with "already gone" when the error says there is no such resource."""
    if error_code(error) in NOT_FOUND_CODES or error_code(error) in codes:
        raise Stop(gone(resource_id, how)) from error


def _error_words(action: Action, act: Act, target: Target, error: ClientError) -> str:
    code = error_code(error)
    if is_denied(error):
        # What the role lacks comes from the button's declared permissions.
        failed = getattr(error, "operation_name", None)
        needed = needed_words((*act.permissions, *act.snapshots), failed)
        return (
            f"AWS did not let me {verb(action)} {target.id} ({code}): my role needs {needed}. "
            "Nothing was changed."
        )
    message = str(error.response.get("Error", {}).get("Message") or "")[:200]
    return f"AWS refused to {verb(action)} {target.id}: {code}: {message}".rstrip(": ") + "."


def first_tags(descriptions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, str]]:
    return list(descriptions[0].get("Tags", [])) if descriptions else []


def label_of(resource_id: str, tags: Mapping[str, str]) -> str:
    name = tags.get("Name")
    return f"{name} ({resource_id})" if name and name != resource_id else resource_id


def listed(ids: Sequence[str]) -> str:
    if len(ids) <= 1:
        return "".join(ids)
    return ", ".join(ids[:-1]) + f" and {ids[-1]}"


def pairs(volume_ids: Sequence[str], snapshot_ids: Sequence[str]) -> str:
    return listed([f"{v} ({s})" for v, s in zip(volume_ids, snapshot_ids, strict=True)])


# Most services allow only letters, digits, spaces and _ . : / = + - @ in tag values.
_TAG_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]", re.UNICODE)


def _tag_value(text: str) -> str:
    return " ".join(_TAG_UNSAFE.sub(" ", text).split())[:TAG_VALUE_LIMIT]
