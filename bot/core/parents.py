"""Parents: the Auto Scaling group, CloudFormation stack or EKS node group (or cluster) a
resource was made for, and the services that make resources on a parent's behalf.

When Auto Scaling launches an instance, CloudTrail names Auto Scaling as its creator; the person
to ask is whoever created the group. A resource names its parent in its tags, or in the tags
its creation request set (aws:autoscaling:groupName, aws:cloudformation:stack-name,
eks:nodegroup-name…).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.events import Actor, CreationFact

AUTOSCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
CLOUDFORMATION_STACK = "AWS::CloudFormation::Stack"
EKS_NODEGROUP = "AWS::EKS::Nodegroup"
EKS_CLUSTER = "AWS::EKS::Cluster"

# The services that create resources on a parent's behalf: their creator is the parent's.
PARENT_SERVICES = frozenset(
    {
        "autoscaling.amazonaws.com",
        "cloudformation.amazonaws.com",
        "eks.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
    }
)


# Resource.details keys the inventory fills from a resource's tags, and the tag each comes from.
PARENT_DETAIL_TAGS: Mapping[str, str] = {
    "autoscaling_group": "aws:autoscaling:groupName",
    "cloudformation_stack": "aws:cloudformation:stack-name",
    "eks_nodegroup": "eks:nodegroup-name",
    "eks_cluster": "eks:cluster-name",
}


def written_by_aws(tag_key: str) -> bool:
    """Only AWS may write `aws:` tags; any other tag, whoever may tag the resource can write."""
    return tag_key.lower().startswith("aws:")


@dataclass(frozen=True)
class ParentKind:
    """Where a resource names a parent: Resource.details keys, then tag keys (first wins)."""

    type: str
    words: str
    details: tuple[str, ...]
    tags: tuple[str, ...]


# Most specific first: an EKS node is its node group's (else its cluster's) before its
# Auto Scaling group's, whose creator would be EKS itself.
PARENT_KINDS: tuple[ParentKind, ...] = (
    ParentKind(EKS_NODEGROUP, "EKS node group", ("eks_nodegroup",), ("eks:nodegroup-name",)),
    ParentKind(
        EKS_CLUSTER,
        "EKS cluster",
        ("eks_cluster",),
        ("eks:cluster-name", "aws:eks:cluster-name", "alpha.eksctl.io/cluster-name"),
    ),
    ParentKind(
        CLOUDFORMATION_STACK,
        "CloudFormation stack",
        ("cloudformation_stack",),
        ("aws:cloudformation:stack-id", "aws:cloudformation:stack-name"),
    ),
    ParentKind(
        AUTOSCALING_GROUP,
        "Auto Scaling group",
        ("autoscaling_group",),
        ("aws:autoscaling:groupName",),
    ),
)


PARENT_TAG_KEYS = frozenset(key for kind in PARENT_KINDS for key in kind.tags)


@dataclass(frozen=True)
class NamedParent:
    """A parent a resource names: its type, name, the value as named (an ARN or the name), and
    for an EKS node group its cluster (node group names are unique only within one)."""

    type: str
    name: str
    value: str
    kind_words: str  # "Auto Scaling group"
    cluster: str | None = None
    # The tag that named it when only a tag anyone may write did (its creator is then a claim,
    # not an owner); None when AWS named it: an `aws:` tag, or the creation request of the
    # service that made the resource for its parent.
    named_by_tag: str | None = None

    @property
    def words(self) -> str:
        return f"{self.kind_words} {self.name}"


# The parent's creation is logged before the child's; allow for clock skew between services.
PARENT_SLACK = timedelta(minutes=10)


def is_its_parent(parent: NamedParent, child_created: datetime, parent_fact: CreationFact) -> bool:
    """Whether a creation event found for the parent's name is that parent's: made before the
    child, and for an EKS node group, in the same cluster (names repeat across clusters)."""
    if parent_fact.event_time > child_created + PARENT_SLACK:
        return False  # a later resource with the same name
    if parent.type == EKS_NODEGROUP and parent.cluster:
        cluster = cluster_of(parent_fact.record)
        return cluster is None or cluster == parent.cluster
    return True


def acts_for_a_parent(actor: Actor) -> bool:
    """True when a service made the resource on a parent's behalf (Auto Scaling, CloudFormation,
    EKS): the parent's creator is the one to ask."""
    return (actor.invoked_by or "").lower() in PARENT_SERVICES


def named_parents(
    *,
    own_type: str | None,
    own_id: str,
    details: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    record: Mapping[str, Any] | None = None,
) -> tuple[NamedParent, ...]:
    """The parents a resource names, in its details (the inventory's), its tags, and the tags
    its creation request (`record`) set: those AWS named first, each kind most specific first;
    then those only a writable tag names (a claim: anyone with ec2:CreateTags could add it)."""
    details = details or {}
    by_service = record is not None and _made_by_a_parent_service(record)
    sources: list[tuple[str, str, bool]] = []  # (tag key, value, written by AWS)
    for key, value in record_tags(record) if record else ():
        sources.append((key, value, by_service or written_by_aws(key)))
    for key, value in (tags or {}).items():
        sources.append((key, value, written_by_aws(key)))
    trusted: list[NamedParent] = []
    claimed: list[NamedParent] = []
    values: dict[str, tuple[str, str | None]] = {}
    for kind in PARENT_KINDS:
        candidates: list[tuple[str, str | None]] = []
        for key in kind.details:
            if details.get(key):
                tag = PARENT_DETAIL_TAGS.get(key, key)
                candidates.append((str(details[key]), None if written_by_aws(tag) else tag))
        for key in kind.tags:
            candidates += [
                (value, None if by_aws else key)
                for found, value, by_aws in sources
                if found == key and value
            ]
        # AWS's word first; a writable tag only when AWS names none.
        chosen = next((c for c in candidates if c[1] is None), None) or next(iter(candidates), None)
        if chosen:
            values[kind.type] = chosen
    for kind in PARENT_KINDS:
        found_value = values.get(kind.type)
        if not found_value:
            continue
        value, named_by = found_value
        if kind.type == own_type and short_name(value) == own_id:
            continue
        cluster = values.get(EKS_CLUSTER, (None, None))[0] if kind.type == EKS_NODEGROUP else None
        parent = NamedParent(kind.type, short_name(value), value, kind.words, cluster, named_by)
        (trusted if named_by is None else claimed).append(parent)
    return (*trusted, *claimed)


def _made_by_a_parent_service(record: Mapping[str, Any]) -> bool:
    """The request came from Auto Scaling, CloudFormation or EKS: the tags it set are theirs."""
    identity = record.get("userIdentity")
    invoked_by = identity.get("invokedBy") if isinstance(identity, Mapping) else None
    return str(invoked_by or "").lower() in PARENT_SERVICES


def short_name(value: str) -> str:
    """A stack ARN (arn:…:stack/NAME/UUID) or node group ARN → its name; names as they are."""
    if value.startswith("arn:") and ":stack/" in value:
        return value.split(":stack/", 1)[1].split("/", 1)[0]
    if value.startswith("arn:") and ":nodegroup/" in value:
        parts = value.split(":nodegroup/", 1)[1].split("/")
        return parts[1] if len(parts) > 1 else parts[0]
    if value.startswith("arn:"):
        return value.rsplit("/", 1)[-1]
    return value


def record_tags(record: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Tags a creation request set ({key, value} pairs anywhere in requestParameters, or a
    `tags` map as EKS's APIs take them).

    Auto Scaling launches carry aws:autoscaling:groupName, CloudFormation its stack tags,
    EKS node groups' Auto Scaling groups eks:nodegroup-name and eks:cluster-name.
    """
    stack: list[Any] = [record.get("requestParameters")]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            lowered = {str(k).lower(): v for k, v in node.items()}
            key, value = lowered.get("key"), lowered.get("value")
            if isinstance(key, str) and isinstance(value, str) and value:
                yield key, value
            tags = lowered.get("tags")
            if isinstance(tags, Mapping):
                yield from ((str(k), v) for k, v in tags.items() if isinstance(v, str) and v)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def cluster_of(record: Mapping[str, Any]) -> str | None:
    """The EKS cluster a node group's creation event names."""
    request = record.get("requestParameters") or {}
    response = record.get("responseElements") or {}
    nodegroup = response.get("nodegroup") if isinstance(response, Mapping) else None
    for value in (
        nodegroup.get("clusterName") if isinstance(nodegroup, Mapping) else None,
        request.get("clusterName") if isinstance(request, Mapping) else None,
        request.get("name") if isinstance(request, Mapping) else None,
    ):
        if isinstance(value, str) and value:
            return value
    return None
