"""CloudTrail record → CreationFact. Which event created what, who the actor was, which tool.

Pure: values in, values out. The create-event table (the type registry's, bot/registry) maps an
event to the types it creates and the paths of their ids; anything else the record names is only
mentioned (used, read, passed as a parameter). Types must agree: a reference that names its type
(an ARN, an i-… id) is answered only by an event that created that type.

Every function here takes records as they come from CloudTrail files, LookupEvents or hand-edited
fixtures, so none of them trusts a field's type: a missing, null or oddly shaped field reads as
"not there", never as an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot import registry
from bot.registry import CreationRule  # declared in the registry, still importable from here

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who made a call, named for humans as DESIGN.md §3 says."""

    identity_type: str | None
    arn: str | None
    name: str | None
    account: str | None
    role: str | None = None
    invoked_by: str | None = None
    # The assumed role's own ARN (sessionContext.sessionIssuer.arn): its path tells an IAM Identity
    # Center role (/aws-reserved/sso.amazonaws.com/) from one anybody could name AWSReservedSSO_….
    issuer_arn: str | None = None


@dataclass(frozen=True)
class CreationFact:
    """The event that created a resource, and what it tells about who and how."""

    resource_id: str  # the created id or name that matched the reference
    created: tuple[str, ...]  # every id the event created
    related: tuple[str, ...]  # other resources the event used or named (AMI, subnet, SG, …)
    actor: Actor
    event_name: str
    event_source: str
    event_time: datetime  # timezone-aware UTC
    region: str | None
    event_id: str | None
    source_ip: str | None
    user_agent: str | None
    tool: str | None
    account: str | None  # recipientAccountId
    record: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)


# ---------------------------------------------------------------------------------------------
# The create-event table: the type registry's (bot/registry), hand-written rules over generated
# ---------------------------------------------------------------------------------------------

# (eventSource, eventName) → the rules that read what the event created. Built by the registry on
# first use, so importing this module stays cheap.
CREATION_EVENTS: dict[tuple[str, str], tuple[CreationRule, ...]]


def __getattr__(name: str) -> Any:
    if name == "CREATION_EVENTS":
        return registry.registry().events
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def creation_event_names(resource_type: str | None) -> tuple[tuple[str, str], ...]:
    """(eventSource, eventName) pairs that create `resource_type`; every pair for None."""
    if resource_type is None:
        return tuple(registry.registry().events)
    spec = registry.spec(resource_type)
    return spec.creation_events if spec else ()


# ---------------------------------------------------------------------------------------------
# Record basics
# ---------------------------------------------------------------------------------------------

_READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup")
# Values AWS writes where it hides data; never an id or a name.
_REDACTED = frozenset({"HIDDEN_DUE_TO_SECURITY_REASONS", "<sensitiveDataRemoved>"})


def is_failed(record: Record) -> bool:
    """True when CloudTrail recorded an error: the call created nothing."""
    return isinstance(record, Mapping) and bool(record.get("errorCode"))


def is_read_only(record: Record) -> bool:
    """CloudTrail's readOnly flag; when a record lacks it, judge by the event name's verb."""
    if not isinstance(record, Mapping):
        return False
    flag = record.get("readOnly")
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, str) and flag.lower() in ("true", "false"):
        return flag.lower() == "true"
    return _text(record.get("eventName")).startswith(_READ_ONLY_PREFIXES)


def event_time(record: Record) -> datetime | None:
    """eventTime as a timezone-aware UTC datetime; None when absent or unreadable."""
    if not isinstance(record, Mapping):
        return None
    value = record.get("eventTime")
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str) and value.strip():
            moment = datetime.fromisoformat(value.strip())
        else:
            return None
        # CloudTrail writes UTC with a Z; a time without an offset is UTC too.
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one that cannot be shown in UTC
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value not in _REDACTED else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------------------------------------
# What an event created
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Made:
    """One id, name or ARN a creation event made, and of which type."""

    value: str
    type: str
    lowercased: bool
    byproduct: bool
    # For a type its caller names in parts (a log stream in its group): ARN variable → the
    # request's value, to hold an ARN given for it to every part, not only the last.
    parts: tuple[tuple[str, str], ...] = ()


def created_ids(record: Record) -> tuple[str, ...]:
    """The ids, names and ARNs a successful creation event was asked to create; () for anything
    else. What it made along the way (RunInstances' network interfaces) is matched by
    creation_fact but not listed here."""
    return tuple(made.value for made in _created(record) if not made.byproduct)


def _created(record: Record) -> list[_Made]:
    """Everything the event made, in table order, without duplicates."""
    rules = _rules_for(record)
    if not rules or is_failed(record) or is_read_only(record):
        return []
    found: list[_Made] = []
    seen: set[str] = set()
    requested: frozenset[str] | None = None
    for rule in rules:
        parts = _arn_parts(record, rule)
        if parts is None or (rule.first_version and not _first_version(record)):
            continue  # another type's call, or an upsert that overwrote: not this creation
        values = [value for path in rule.paths for value in _rule_path(record, rule, path)]
        if rule.byproduct:
            # A by-product the caller handed over (an existing network interface) was used.
            requested = _request_strings(record) if requested is None else requested
            values = [value for value in values if value not in requested]
        for value in values:
            key = value.casefold() if rule.lowercased else value
            if key not in seen:
                seen.add(key)
                found.append(_Made(value, rule.type, rule.lowercased, rule.byproduct, parts))
    return found


def _rule_path(record: Record, rule: CreationRule, path: str) -> list[str]:
    values = _resolve(record, path)
    if rule.origin != registry.GENERATED:
        return values
    if not values and path.startswith("requestParameters.") and path.count(".") == 1:
        # Some services wrap the request's body (API Gateway: createStageInput.stageName).
        values = _find_key(_section(record, "requestParameters"), path.split(".", 1)[1])
    # A generated path is read from the shapes, not from records: an ARN found there must be
    # the rule's own type, never a parent's or a neighbour's.
    return [value for value in values if _arn_type_agrees(value, rule.type)]


def _arn_type_agrees(value: str, cfn_type: str) -> bool:
    if not value.startswith("arn:"):
        return True
    parts = registry.parse_arn(value)
    return parts is None or parts.cfn_type in (None, cfn_type)


def _arn_parts(record: Record, rule: CreationRule) -> tuple[tuple[str, str], ...] | None:
    """The rule's ARN variables from the request; None when one is missing (another type's
    call, such as API Gateway v1's CreateStage for a v2 stage), () for rules without any."""
    parts = []
    for variable, path in rule.arn_from:
        found = _rule_path(record, rule, path)
        if len(found) != 1:
            return None
        parts.append((variable, found[0]))
    return tuple(parts)


def _find_key(root: Any, key: str, depth: int = 3) -> list[str]:
    """The first string under `key` (any case) in `root` and its nested mappings, shallowest
    first."""
    level = [root]
    folded = key.casefold()
    for _ in range(depth):
        deeper = []
        for node in level:
            if not isinstance(node, Mapping):
                continue
            for name, value in node.items():
                if isinstance(name, str) and name.casefold() == folded and isinstance(value, str):
                    return [value] if value.strip() and value not in _REDACTED else []
                deeper.append(value)
        level = deeper
    return []


def _first_version(record: Record) -> bool:
    response = _section(record, "responseElements")
    version = _child(response, "version") if isinstance(response, Mapping) else None
    return version == 1 or version == "1"


def _request_strings(record: Record) -> frozenset[str]:
    return frozenset(value for _, value in _string_leaves(record.get("requestParameters")))


def _rules_for(record: Record) -> tuple[CreationRule, ...]:
    if not isinstance(record, Mapping):
        return ()
    return registry.rules_for(_text(record.get("eventSource")), _text(record.get("eventName")))


def _resolve(record: Record, path: str) -> list[str]:
    """The non-empty strings at `path` ("responseElements.a.b[].c") in the record."""
    section, *steps = path.split(".")
    nodes: list[Any] = [_section(record, section)]
    for step in steps:
        many = step.endswith("[]")
        key = step.removesuffix("[]")
        children = (_child(node, key) for node in nodes if isinstance(node, Mapping))
        nodes = []
        for child in children:
            if child is None:
                continue
            # XML-shaped records give one item as a dict where the JSON shape has a list.
            nodes.extend(child if many and isinstance(child, list) else [child])
    values: list[str] = []
    for node in nodes:
        for value in node if isinstance(node, list) else [node]:
            if isinstance(value, str) and value.strip() and value not in _REDACTED:
                values.append(value)
    return values


def _section(record: Record, section: str) -> Any:
    """requestParameters or responseElements, unwrapped from the XML-style envelope.

    Some EC2 records (CreateNatGateway, CreateFlowLogs, CreateLaunchTemplate…) nest everything
    under "<EventName>Response" / "<EventName>Request" with capitalised keys.
    """
    value = record.get(section)
    if not isinstance(value, Mapping):
        return None
    suffix = "Response" if section == "responseElements" else "Request"
    wrapped = _child(value, _text(record.get("eventName")) + suffix)
    return wrapped if isinstance(wrapped, Mapping) else value


# XML-shaped records spell a list "item" where the JSON shape says "items".
_KEY_ALIASES = {"items": "item"}


def _child(node: Mapping[str, Any], key: str) -> Any:
    if key in node:
        return node[key]
    alias = _KEY_ALIASES.get(key)
    if alias is not None and alias in node:
        return node[alias]
    # The XML-shaped records capitalise keys (AllocationId); match them case-insensitively.
    folded = key.casefold()
    for candidate, value in node.items():
        if isinstance(candidate, str) and candidate.casefold() == folded:
            return value
    return None


# ---------------------------------------------------------------------------------------------
# What an event mentioned
# ---------------------------------------------------------------------------------------------

# EC2-family ids: a lowercase prefix (possibly hyphenated: vpc-cidr-assoc) and 8 or 17 hex digits.
_EC2_ID = re.compile(r"^[a-z]+(?:-[a-z]+)*-(?:[0-9a-f]{17}|[0-9a-f]{8})$")
_ARN = re.compile(r"^arn:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[a-z0-9-]*:\S+$")
_LONGEST_REFERENCE = 2048

# Keys whose value names a resource that has no id of the EC2 or ARN shape.
NAME_FIELDS = frozenset(
    {
        "autoScalingGroupName",
        "bucketName",
        "cacheClusterId",
        "clusterIdentifier",
        "clusterName",
        "dBClusterIdentifier",
        "dBClusterSnapshotIdentifier",
        "dBInstanceIdentifier",
        "dBSnapshotIdentifier",
        "dBSubnetGroupName",
        "functionName",
        "instanceProfileName",
        "keyName",
        "launchConfigurationName",
        "launchTemplateName",
        "loadBalancerName",
        "logGroupName",
        "nodegroupName",
        "notebookInstanceName",
        "queueName",
        "queueUrl",
        "replicationGroupId",
        "repositoryName",
        "roleName",
        "s3BucketName",
        "secretId",
        "serviceName",
        "sourceDBInstanceIdentifier",
        "stackName",
        "streamName",
        "tableName",
        "targetDBInstanceIdentifier",
        "targetGroupName",
        "userName",
    }
)


def referenced_ids(record: Record) -> tuple[str, ...]:
    """Every id, ARN and named resource in the request, response and resources, first seen first.

    What the event created is included too (some created names live in fields not listed above).
    """
    return tuple(_references(record, typed=False))


def _references(record: Record, *, typed: bool = True) -> dict[str, str | None]:
    """referenced_ids, each with its type where the record tells it (an ARN's, an id prefix's,
    the type its service names by that field, or the type a creation made)."""
    if not isinstance(record, Mapping):
        return {}
    source = _text(record.get("eventSource"))
    fields = registry.registry().name_fields if typed else {}
    found: dict[str, str | None] = {}
    for section in ("requestParameters", "responseElements", "resources"):
        for key, value in _string_leaves(record.get(section)):
            if value in found or not _looks_like_reference(key, value):
                continue
            named = fields.get((source, key.casefold())) if key else None
            found[value] = (registry.type_of_reference(value) or named) if typed else None
    for made in _created(record):
        if not made.byproduct and found.get(made.value) is None:
            found[made.value] = made.type
    return found


# ---------------------------------------------------------------------------------------------
# Matching a mention: each service's case rules, types kept apart
# ---------------------------------------------------------------------------------------------

# (type, "=" exact or "~" case-folded, value). A typed name meets mentions of its own type and of
# no known type; a bare name meets any mention; each compares as the mentioned type's service
# stores it, so "Test" (an SSM document) never meets "test" (a DynamoDB table).
MatchKey = tuple[str, str, str]
_ANY_TYPE, _NO_TYPE = "*", "?"


def name_keys(names: Iterable[str], resource_type: str | None = None) -> frozenset[MatchKey]:
    """Keys of the names a reference is searched by; meets `mention_keys` of a record that
    mentions it (`name_keys(...) & mention_keys(record)`)."""
    if isinstance(names, str):
        names = (names,)
    wanted = [name for name in names if isinstance(name, str) and name]
    types = {resource_type} if resource_type else _types_named(wanted)
    keys: set[MatchKey] = set()
    for name in wanted:
        if not types:
            keys.update({(_ANY_TYPE, "=", name), (_ANY_TYPE, "~", name.casefold())})
        for rtype in types:
            how, value = _compared(name, rtype)
            keys.update({(rtype, how, value), (_NO_TYPE, how, value), (_NO_TYPE, "=", name)})
    return frozenset(keys)


def mention_keys(record: Record) -> frozenset[MatchKey]:
    """Keys of everything the record mentions or created (see name_keys)."""
    keys: set[MatchKey] = set()
    for value, rtype in _references(record).items():
        how, compared = _compared(value, rtype)
        keys.update({(rtype or _NO_TYPE, how, compared), (_ANY_TYPE, how, compared)})
        if rtype is None:
            keys.add((_NO_TYPE, "~", value.casefold()))
    return frozenset(keys)


def _compared(value: str, rtype: str | None) -> tuple[str, str]:
    """How a value of this type compares: EC2 ids and lowercased services' ids in any case."""
    spec = registry.spec(rtype)
    if _EC2_ID.match(value.lower()) or (spec is not None and spec.case_insensitive):
        return "~", value.casefold()
    return "=", value


def _looks_like_reference(key: str | None, value: str) -> bool:
    if not value or len(value) > _LONGEST_REFERENCE or value in _REDACTED:
        return False
    return bool(_EC2_ID.match(value) or _ARN.match(value) or key in NAME_FIELDS)


def _string_leaves(root: Any) -> Iterator[tuple[str | None, str]]:
    """(key, string) pairs in document order; iterative, so deep nesting cannot overflow."""
    stack: list[tuple[str | None, Any]] = [(None, root)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, str):
            yield key, node
        elif isinstance(node, Mapping):
            items = [(k if isinstance(k, str) else None, v) for k, v in node.items()]
            stack.extend(reversed(items))
        elif isinstance(node, list):
            # List elements inherit the key of the list (subnetIds: ["subnet-…", …]).
            stack.extend((key, item) for item in reversed(node))


# ---------------------------------------------------------------------------------------------
# Who: actor naming (DESIGN.md §3 creator.name)
# ---------------------------------------------------------------------------------------------

# Session names that tools make up; the role name says more than they do.
_MACHINE_SESSION = re.compile(
    r"^(?:i-(?:[0-9a-f]{17}|[0-9a-f]{8})|botocore-session-.*|aws-go-sdk-.*|\d+)$",
    re.IGNORECASE,
)
_SSO_ROLE_PREFIX = "AWSReservedSSO_"
_SERVICE_LINKED_ROLE_PREFIX = "AWSServiceRoleFor"
_ASSUMED_ROLE_ARN = re.compile(r":assumed-role/(?P<role>[^/]+)/(?P<session>.+)$")


def actor_of(record: Record) -> Actor:
    """The caller, with the name a person would recognise (DESIGN.md §3 creator.name)."""
    identity = _mapping(record.get("userIdentity")) if isinstance(record, Mapping) else {}
    identity_type = _optional_text(identity.get("type"))
    role = _issuer_role(identity) if identity_type == "AssumedRole" else None
    return Actor(
        identity_type=identity_type,
        # An empty ARN (some sign-in events) is no ARN.
        arn=_optional_text(identity.get("arn")),
        name=_actor_name(identity, identity_type, role),
        account=_optional_text(identity.get("accountId")),
        role=role,
        invoked_by=_optional_text(identity.get("invokedBy")),
        issuer_arn=issuer_arn(record) if identity_type == "AssumedRole" else None,
    )


def _actor_name(
    identity: Mapping[str, Any], identity_type: str | None, role: str | None
) -> str | None:
    if _is_service_acting(identity, identity_type, role):
        return _optional_text(identity.get("invokedBy")) or role or _fallback_name(identity)
    namer = _NAMERS.get(identity_type or "")
    return namer(identity, role) if namer else _fallback_name(identity)


def _is_service_acting(
    identity: Mapping[str, Any], identity_type: str | None, role: str | None
) -> bool:
    """A service-linked role, an AWSService identity, or a bare {invokedBy} with no principal."""
    if identity_type == "AWSService":
        return True
    if role and role.startswith(_SERVICE_LINKED_ROLE_PREFIX):
        return True
    issuer_arn = _text(
        _mapping(_mapping(identity.get("sessionContext")).get("sessionIssuer")).get("arn")
    )
    if identity_type == "AssumedRole" and ":role/aws-service-role/" in issuer_arn:
        return True
    return (
        identity_type is None and bool(identity.get("invokedBy")) and not _has_principal(identity)
    )


def _has_principal(identity: Mapping[str, Any]) -> bool:
    return any(_optional_text(identity.get(key)) for key in ("userName", "arn", "principalId"))


def _iam_user_name(identity: Mapping[str, Any], role: str | None) -> str | None:
    return _optional_text(identity.get("userName")) or _fallback_name(identity)


def _assumed_role_name(identity: Mapping[str, Any], role: str | None) -> str | None:
    session = _session_name(identity)
    if role and role.startswith(_SSO_ROLE_PREFIX):
        return session or role  # the session name is the person's sign-in, usually an email
    if session and not _MACHINE_SESSION.match(session):
        return session
    return role or session or _fallback_name(identity)


def _root_name(identity: Mapping[str, Any], role: str | None) -> str | None:
    return "root"


def _federated_name(identity: Mapping[str, Any], role: str | None) -> str | None:
    arn = _text(identity.get("arn"))
    if "federated-user/" in arn:
        return arn.split("federated-user/", 1)[1] or None
    principal = _text(identity.get("principalId"))
    if ":" in principal:
        return principal.split(":", 1)[1] or None
    return _fallback_name(identity)


_NAMERS: dict[str, Callable[[Mapping[str, Any], str | None], str | None]] = {
    "IAMUser": _iam_user_name,
    "AssumedRole": _assumed_role_name,
    "Root": _root_name,
    "FederatedUser": _federated_name,
}


def _fallback_name(identity: Mapping[str, Any]) -> str | None:
    """Any other identity: userName, else the last part of the ARN, else principalId."""
    user_name = _optional_text(identity.get("userName"))
    if user_name:
        return user_name
    arn = _text(identity.get("arn"))
    if arn:
        last = arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        if last:
            return last
    return _optional_text(identity.get("principalId"))


def _session_name(identity: Mapping[str, Any]) -> str | None:
    """The role session name: from the assumed-role ARN, else after the colon in principalId."""
    match = _ASSUMED_ROLE_ARN.search(_text(identity.get("arn")))
    if match:
        return match["session"]
    principal = _text(identity.get("principalId"))
    if ":" in principal:
        return principal.split(":", 1)[1] or None
    return None


def issuer_arn(record: Record) -> str | None:
    """The ARN of the role an assumed-role session came from, as the record names it."""
    identity = _mapping(record.get("userIdentity")) if isinstance(record, Mapping) else {}
    issuer = _mapping(_mapping(identity.get("sessionContext")).get("sessionIssuer"))
    return _optional_text(issuer.get("arn"))


def _issuer_role(identity: Mapping[str, Any]) -> str | None:
    """The assumed role's name: sessionIssuer.userName, else its ARN, else the session ARN."""
    issuer = _mapping(_mapping(identity.get("sessionContext")).get("sessionIssuer"))
    name = _optional_text(issuer.get("userName"))
    if name:
        return name
    issuer_arn = _text(issuer.get("arn"))
    if ":role/" in issuer_arn:
        return issuer_arn.rsplit("/", 1)[-1] or None
    match = _ASSUMED_ROLE_ARN.search(_text(identity.get("arn")))
    return match["role"] if match else None


# ---------------------------------------------------------------------------------------------
# How: the tool, from the user agent (DESIGN.md §3 event.tool)
# ---------------------------------------------------------------------------------------------

_CLOUDFORMATION_HOST = "cloudformation.amazonaws.com"
_AWS_HOST = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$", re.IGNORECASE)


def _ua_matches(pattern: str) -> Callable[[str, str], bool]:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda agent, invoked_by: bool(compiled.search(agent))


def _is_cloudformation(agent: str, invoked_by: str) -> bool:
    return "cloudformation" in agent.lower() or invoked_by.lower() == _CLOUDFORMATION_HOST


_CONSOLE_AGENT = re.compile(r"console|signin\.amazonaws\.com|mozilla/", re.IGNORECASE)


def _is_console(agent: str, invoked_by: str) -> bool:
    # "AWS Internal" alone is what the console's own back end records (the records carry
    # sessionCredentialFromConsole); the same agent with invokedBy is AWS acting by itself.
    if agent == "AWS Internal":
        return not invoked_by
    return bool(_CONSOLE_AGENT.search(agent))


def _is_aws_service(agent: str, invoked_by: str) -> bool:
    # The agent decides; only a record with no agent at all falls back on invokedBy.
    return bool(_AWS_HOST.match(agent or invoked_by))


# First match wins, so the order is the contract: Terraform's agent also says aws-sdk-go, the
# CLI's says botocore, the console's back ends say aws-sdk-java.
_TOOLS: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("Terraform", _ua_matches(r"terraform|hashicorp")),
    ("Pulumi", _ua_matches(r"pulumi")),
    ("CDK", _ua_matches(r"aws-cdk|(?:^|[\s/\[(])cdk/")),
    ("eksctl", _ua_matches(r"eksctl")),
    ("CloudFormation", _is_cloudformation),
    ("Console", _is_console),
    ("AWS CLI", _ua_matches(r"aws-cli/|^aws cli/")),
    ("SDK", _ua_matches(r"boto3|botocore|aws-sdk-")),
    ("AWS service", _is_aws_service),
)


def tool_of(user_agent: str | None, invoked_by: str | None) -> str | None:
    """The tool that made the call, by DESIGN.md §3 event.tool; None when the agent says nothing."""
    # Some agents come bracketed: "[S3Console/0.4, aws-internal/3 …]".
    agent = _text(user_agent).strip().strip("[]").strip()
    by = _text(invoked_by).strip()
    for tool, matches in _TOOLS:
        if matches(agent, by):
            return tool
    return None


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


def creation_fact(
    record: Record, names: Iterable[str], *, resource_type: str | None = None
) -> CreationFact | None:
    """The CreationFact when this record created one of `names`, else None.

    Types must agree: an ARN or a typed id among `names` (or `resource_type`, where the caller
    knows it) is never answered by an event that created another type, however alike the names.
    """
    if isinstance(names, str):  # a lone name, not an iterable of characters
        names = (names,)
    made = _created(record)
    when = event_time(record)
    if not made or when is None:
        return None
    wanted = [n for n in names if isinstance(n, str) and n]
    expected = {resource_type} if resource_type else _types_named(wanted)
    given = [p for p in map(registry.parse_arn, wanted) if p is not None and p.cfn_type]
    match = _first_match(
        wanted,
        [m for m in made if (not expected or m.type in expected) and _agrees(m, given)],
    )
    if match is None:
        return None
    actor = actor_of(record)
    user_agent = _optional_text(record.get("userAgent"))
    return CreationFact(
        resource_id=match.value,
        created=tuple(m.value for m in made),
        related=tuple(
            ref
            for ref in referenced_ids(record)
            if not _same_id(ref, match.value, match.lowercased)
        ),
        actor=actor,
        event_name=_text(record.get("eventName")),
        event_source=_text(record.get("eventSource")),
        event_time=when,
        region=_optional_text(record.get("awsRegion")),
        event_id=_optional_text(record.get("eventID")),
        source_ip=_optional_text(record.get("sourceIPAddress")),
        user_agent=user_agent,
        tool=tool_of(user_agent, actor.invoked_by),
        account=_optional_text(record.get("recipientAccountId")) or actor.account,
        record=record,
    )


def _types_named(names: Iterable[str]) -> set[str]:
    """The types the ARNs and typed ids among `names` name; empty for bare names."""
    return {rtype for rtype in map(registry.type_of_reference, names) if rtype}


def _agrees(made: _Made, given: list[registry.ArnParts]) -> bool:
    """False when an ARN given for this type names other parts than the record (a stream of
    the same name in another group)."""
    for arn in given:
        if arn.cfn_type != made.type:
            continue
        for variable, value in made.parts:
            theirs = arn.variables.get(variable)
            if theirs is not None and theirs.lstrip("/") != value.lstrip("/"):
                return False
    return True


def _first_match(names: list[str], made: list[_Made]) -> _Made | None:
    """What was made matching the first name that matches (most specific first)."""
    for name in names:
        for candidate in made:
            if _same_id(name, candidate.value, candidate.lowercased):
                return candidate
    return None


def _same_id(a: str, b: str, lowercased: bool) -> bool:
    """Equal as AWS compares them: EC2 ids and lowercased services' names ignore case."""
    if a == b:
        return True
    if a.casefold() != b.casefold():
        return False
    return lowercased or bool(_EC2_ID.match(a.lower()) and _EC2_ID.match(b.lower()))


def summary(record: Record) -> dict[str, Any]:
    """A small description of an event, for "first event seen" notes."""
    if not isinstance(record, Mapping):
        record = {}
    when = event_time(record)
    return {
        "name": _optional_text(record.get("eventName")),
        "source": _optional_text(record.get("eventSource")),
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None,
        "actor": actor_of(record).name,
        "region": _optional_text(record.get("awsRegion")),
        "id": _optional_text(record.get("eventID")),
    }
