"""The declaration of one resource type, and of one way its creation shows in CloudTrail.

A TypeSpec holds what the lookup side needs. A patrolled type's other side (inventory call,
metrics and idle rule, price parts, buttons with their handlers and permissions, parents) is its
PatrolType in bot/registry/patrol/: those declarations reach into bot/core and bot/aws, which read
this package, so they live beside it rather than in it.
"""

from __future__ import annotations

from dataclasses import dataclass

HAND_WRITTEN = "hand-written"
GENERATED = "generated"


@dataclass(frozen=True)
class CreationRule:
    """How one creation event names what it created.

    `paths` start at `responseElements` or `requestParameters`; `[]` walks a list. `lowercased`
    marks services that store identifiers in lower case whatever the caller typed (RDS, …), so a
    reference matches them case-insensitively.
    """

    type: str  # CloudFormation type
    paths: tuple[str, ...]
    lowercased: bool = False
    origin: str = HAND_WRITTEN
    # Made along with what the caller asked for (RunInstances' network interfaces): counted only
    # where the request did not name it, and left out of `created_ids`.
    byproduct: bool = False
    # An upsert (PutParameter): a creation only where the response reports version 1.
    first_version: bool = False
    # For types named by their caller: the ARN format and, per variable, the request path of its
    # value. Every part must be in the request (a v2 stage's CreateStage names an apiId), and an
    # ARN given for the type must agree with each of them.
    arn_format: str | None = None
    arn_from: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TypeSpec:
    """One resource type, declared once: what the lookup side reads about it."""

    cfn_type: str  # AWS::EC2::Instance
    service: str  # IAM prefix, also the ARN's service: ec2
    event_source: str  # CloudTrail's eventSource: ec2.amazonaws.com
    arn_formats: tuple[str, ...] = ()  # arn:${Partition}:ec2:${Region}:${Account}:instance/${…}
    arn_id: str | None = None  # the ARN variable that is the id, where it is not the last one
    id_prefixes: tuple[str, ...] = ()  # EC2-style ids: "i" for i-0abc…
    identifier: tuple[str, ...] = ()  # CloudFormation primaryIdentifier properties
    named_by_caller: bool = False  # the caller chooses the identifier (a table's name)
    case_insensitive: bool = False  # its ids compare without case (RDS, IAM)
    home_regions: tuple[tuple[str, str], ...] = ()  # partition → region, for global services
    creation: tuple[tuple[str, str, CreationRule], ...] = ()  # (eventSource, eventName, rule)
    origin: str = HAND_WRITTEN  # of its creation rules

    @property
    def id_patterns(self) -> tuple[str, ...]:
        """Regular expressions of the type's own ids (EC2 style: a prefix and 8 or 17 hex)."""
        return tuple(f"^{prefix}-(?:[0-9a-f]{{8}}|[0-9a-f]{{17}})$" for prefix in self.id_prefixes)

    def home_region(self, partition: str = "aws") -> str | None:
        return dict(self.home_regions).get(partition)

    @property
    def creation_events(self) -> tuple[tuple[str, str], ...]:
        return tuple(dict.fromkeys((source, name) for source, name, _ in self.creation))
