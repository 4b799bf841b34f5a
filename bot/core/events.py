"""CloudTrail record → CreationFact. Which event created what, who the actor was, which tool.

Pure: values in, values out. The create-event table maps an event to the paths of the ids it
creates; anything else the record names is only mentioned (used, read, passed as a parameter).

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
# The create-event table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreationRule:
    """How one creation event names what it created.

    `paths` start at `responseElements` or `requestParameters`; `[]` walks a list. `lowercased`
    marks services that store identifiers in lower case whatever the caller typed (RDS, …), so a
    reference matches them case-insensitively.
    """

    type: str  # CloudFormation-style type, as in bot.core.refs
    paths: tuple[str, ...]
    lowercased: bool = False


# One row per (service, eventName): the type it creates and where the new ids are, as
# space-separated paths ("res." = responseElements, "req." = requestParameters, "[]" walks a list).
# Response paths come first, so the form AWS stored (an ARN, a lowercased name) is reported first.
_ROWS: tuple[tuple[str, str, str, str], ...] = (
    # EC2, EBS and VPC: ids are generated, so only the response knows them.
    ("ec2", "RunInstances", "AWS::EC2::Instance", "res.instancesSet.items[].instanceId"),
    ("ec2", "CreateVolume", "AWS::EC2::Volume", "res.volumeId"),
    ("ec2", "CreateSnapshot", "AWS::EC2::Snapshot", "res.snapshotId"),
    ("ec2", "CreateSnapshots", "AWS::EC2::Snapshot", "res.snapshotSet.items[].snapshotId"),
    ("ec2", "CopySnapshot", "AWS::EC2::Snapshot", "res.snapshotId"),
    ("ebs", "StartSnapshot", "AWS::EC2::Snapshot", "res.snapshotId"),
    ("ec2", "CreateImage", "AWS::EC2::Image", "res.imageId"),
    ("ec2", "RegisterImage", "AWS::EC2::Image", "res.imageId"),
    ("ec2", "CopyImage", "AWS::EC2::Image", "res.imageId"),
    ("ec2", "CreateSecurityGroup", "AWS::EC2::SecurityGroup", "res.groupId res.securityGroupArn"),
    (
        "ec2",
        "CreateNetworkInterface",
        "AWS::EC2::NetworkInterface",
        "res.networkInterface.networkInterfaceId",
    ),
    ("ec2", "AllocateAddress", "AWS::EC2::EIP", "res.allocationId"),
    ("ec2", "CreateNatGateway", "AWS::EC2::NatGateway", "res.natGateway.natGatewayId"),
    ("ec2", "CreateVpc", "AWS::EC2::VPC", "res.vpc.vpcId"),
    ("ec2", "CreateDefaultVpc", "AWS::EC2::VPC", "res.vpc.vpcId"),
    ("ec2", "CreateSubnet", "AWS::EC2::Subnet", "res.subnet.subnetId res.subnet.subnetArn"),
    ("ec2", "CreateDefaultSubnet", "AWS::EC2::Subnet", "res.subnet.subnetId res.subnet.subnetArn"),
    (
        "ec2",
        "CreateInternetGateway",
        "AWS::EC2::InternetGateway",
        "res.internetGateway.internetGatewayId",
    ),
    (
        "ec2",
        "CreateEgressOnlyInternetGateway",
        "AWS::EC2::EgressOnlyInternetGateway",
        "res.egressOnlyInternetGateway.egressOnlyInternetGatewayId",
    ),
    ("ec2", "CreateRouteTable", "AWS::EC2::RouteTable", "res.routeTable.routeTableId"),
    ("ec2", "CreateNetworkAcl", "AWS::EC2::NetworkAcl", "res.networkAcl.networkAclId"),
    (
        "ec2",
        "CreateLaunchTemplate",
        "AWS::EC2::LaunchTemplate",
        "res.launchTemplate.launchTemplateId res.launchTemplate.launchTemplateName",
    ),
    ("ec2", "CreateKeyPair", "AWS::EC2::KeyPair", "res.keyPairId res.keyName req.keyName"),
    ("ec2", "ImportKeyPair", "AWS::EC2::KeyPair", "res.keyPairId res.keyName req.keyName"),
    ("ec2", "CreateVpcEndpoint", "AWS::EC2::VPCEndpoint", "res.vpcEndpoint.vpcEndpointId"),
    (
        "ec2",
        "CreateVpcPeeringConnection",
        "AWS::EC2::VPCPeeringConnection",
        "res.vpcPeeringConnection.vpcPeeringConnectionId",
    ),
    (
        "ec2",
        "CreateTransitGateway",
        "AWS::EC2::TransitGateway",
        "res.transitGateway.transitGatewayId res.transitGateway.transitGatewayArn",
    ),
    (
        "ec2",
        "CreateTransitGatewayVpcAttachment",
        "AWS::EC2::TransitGatewayAttachment",
        "res.transitGatewayVpcAttachment.transitGatewayAttachmentId",
    ),
    ("ec2", "CreateDhcpOptions", "AWS::EC2::DHCPOptions", "res.dhcpOptions.dhcpOptionsId"),
    ("ec2", "CreateVpnGateway", "AWS::EC2::VPNGateway", "res.vpnGateway.vpnGatewayId"),
    (
        "ec2",
        "CreateCustomerGateway",
        "AWS::EC2::CustomerGateway",
        "res.customerGateway.customerGatewayId",
    ),
    ("ec2", "CreateVpnConnection", "AWS::EC2::VPNConnection", "res.vpnConnection.vpnConnectionId"),
    ("ec2", "CreateFlowLogs", "AWS::EC2::FlowLog", "res.flowLogIdSet.items[]"),
    # Elastic Load Balancing: v1 and v2 share eventSource and eventName. A v2 record answers with
    # a list of load balancers; a v1 record names its load balancer only in the request.
    (
        "elasticloadbalancing",
        "CreateLoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "res.loadBalancers[].loadBalancerArn res.loadBalancers[].loadBalancerName",
    ),
    (
        "elasticloadbalancing",
        "CreateLoadBalancer",
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "req.loadBalancerName",
    ),
    (
        "elasticloadbalancing",
        "CreateTargetGroup",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "res.targetGroups[].targetGroupArn res.targetGroups[].targetGroupName",
    ),
    (
        "elasticloadbalancing",
        "CreateListener",
        "AWS::ElasticLoadBalancingV2::Listener",
        "res.listeners[].listenerArn",
    ),
    # RDS
    (
        "rds",
        "CreateDBInstance",
        "AWS::RDS::DBInstance",
        "res.dBInstanceArn res.dBInstanceIdentifier req.dBInstanceIdentifier",
    ),
    (
        "rds",
        "CreateDBInstanceReadReplica",
        "AWS::RDS::DBInstance",
        "res.dBInstanceArn res.dBInstanceIdentifier req.dBInstanceIdentifier",
    ),
    (
        "rds",
        "RestoreDBInstanceFromDBSnapshot",
        "AWS::RDS::DBInstance",
        "res.dBInstanceArn res.dBInstanceIdentifier req.dBInstanceIdentifier",
    ),
    (
        "rds",
        "RestoreDBInstanceFromS3",
        "AWS::RDS::DBInstance",
        "res.dBInstanceArn res.dBInstanceIdentifier req.dBInstanceIdentifier",
    ),
    (
        "rds",
        "RestoreDBInstanceToPointInTime",
        "AWS::RDS::DBInstance",
        "res.dBInstanceArn res.dBInstanceIdentifier req.targetDBInstanceIdentifier",
    ),
    (
        "rds",
        "CreateDBCluster",
        "AWS::RDS::DBCluster",
        "res.dBClusterArn res.dBClusterIdentifier req.dBClusterIdentifier",
    ),
    (
        "rds",
        "RestoreDBClusterFromSnapshot",
        "AWS::RDS::DBCluster",
        "res.dBClusterArn res.dBClusterIdentifier req.dBClusterIdentifier",
    ),
    (
        "rds",
        "RestoreDBClusterToPointInTime",
        "AWS::RDS::DBCluster",
        "res.dBClusterArn res.dBClusterIdentifier req.dBClusterIdentifier",
    ),
    (
        "rds",
        "CreateDBSnapshot",
        "AWS::RDS::DBSnapshot",
        "res.dBSnapshotArn res.dBSnapshotIdentifier req.dBSnapshotIdentifier",
    ),
    (
        "rds",
        "CopyDBSnapshot",
        "AWS::RDS::DBSnapshot",
        "res.dBSnapshotArn res.dBSnapshotIdentifier req.targetDBSnapshotIdentifier",
    ),
    (
        "rds",
        "CreateDBClusterSnapshot",
        "AWS::RDS::DBClusterSnapshot",
        "res.dBClusterSnapshotArn res.dBClusterSnapshotIdentifier req.dBClusterSnapshotIdentifier",
    ),
    (
        "rds",
        "CreateDBSubnetGroup",
        "AWS::RDS::DBSubnetGroup",
        "res.dBSubnetGroupArn res.dBSubnetGroupName req.dBSubnetGroupName",
    ),
    # Lambda event names carry an API version suffix; see _base_event_name.
    (
        "lambda",
        "CreateFunction20150331",
        "AWS::Lambda::Function",
        "res.functionArn res.functionName req.functionName",
    ),
    ("s3", "CreateBucket", "AWS::S3::Bucket", "req.bucketName"),
    # Containers
    (
        "eks",
        "CreateCluster",
        "AWS::EKS::Cluster",
        "res.cluster.arn res.cluster.name req.name req.clusterName",
    ),
    (
        "eks",
        "CreateNodegroup",
        "AWS::EKS::Nodegroup",
        "res.nodegroup.nodegroupArn res.nodegroup.nodegroupName req.nodegroupName",
    ),
    (
        "eks",
        "CreateFargateProfile",
        "AWS::EKS::FargateProfile",
        "res.fargateProfile.fargateProfileArn res.fargateProfile.fargateProfileName",
    ),
    (
        "ecs",
        "CreateCluster",
        "AWS::ECS::Cluster",
        "res.cluster.clusterArn res.cluster.clusterName req.clusterName",
    ),
    (
        "ecs",
        "CreateService",
        "AWS::ECS::Service",
        "res.service.serviceArn res.service.serviceName req.serviceName",
    ),
    (
        "ecs",
        "RegisterTaskDefinition",
        "AWS::ECS::TaskDefinition",
        "res.taskDefinition.taskDefinitionArn",
    ),
    (
        "ecr",
        "CreateRepository",
        "AWS::ECR::Repository",
        "res.repository.repositoryArn res.repository.repositoryName req.repositoryName",
    ),
    # Databases, caches, search
    (
        "dynamodb",
        "CreateTable",
        "AWS::DynamoDB::Table",
        "res.tableDescription.tableArn res.tableDescription.tableName req.tableName",
    ),
    (
        "dax",
        "CreateCluster",
        "AWS::DAX::Cluster",
        "res.cluster.clusterArn res.cluster.clusterName req.clusterName",
    ),
    (
        "redshift",
        "CreateCluster",
        "AWS::Redshift::Cluster",
        "res.clusterIdentifier req.clusterIdentifier",
    ),
    (
        "elasticache",
        "CreateCacheCluster",
        "AWS::ElastiCache::CacheCluster",
        "res.aRN res.cacheClusterId req.cacheClusterId",
    ),
    (
        "elasticache",
        "CreateReplicationGroup",
        "AWS::ElastiCache::ReplicationGroup",
        "res.aRN res.replicationGroupId req.replicationGroupId",
    ),
    (
        "es",
        "CreateDomain",
        "AWS::OpenSearchService::Domain",
        "res.domainStatus.aRN res.domainStatus.domainName req.domainName",
    ),
    (
        "es",
        "CreateElasticsearchDomain",
        "AWS::Elasticsearch::Domain",
        "res.domainStatus.aRN res.domainStatus.domainName req.domainName",
    ),
    # IAM and IAM Roles Anywhere
    ("iam", "CreateRole", "AWS::IAM::Role", "res.role.arn res.role.roleName"),
    ("iam", "CreateServiceLinkedRole", "AWS::IAM::Role", "res.role.arn res.role.roleName"),
    ("iam", "CreateUser", "AWS::IAM::User", "res.user.arn res.user.userName"),
    ("iam", "CreateGroup", "AWS::IAM::Group", "res.group.arn res.group.groupName"),
    ("iam", "CreatePolicy", "AWS::IAM::ManagedPolicy", "res.policy.arn res.policy.policyName"),
    (
        "iam",
        "CreateInstanceProfile",
        "AWS::IAM::InstanceProfile",
        "res.instanceProfile.arn res.instanceProfile.instanceProfileName",
    ),
    # The key belongs to an existing user: only the key id is new, never accessKey.userName.
    ("iam", "CreateAccessKey", "AWS::IAM::AccessKey", "res.accessKey.accessKeyId"),
    (
        "iam",
        "CreateOpenIDConnectProvider",
        "AWS::IAM::OIDCProvider",
        "res.openIDConnectProviderArn",
    ),
    ("iam", "CreateSAMLProvider", "AWS::IAM::SAMLProvider", "res.sAMLProviderArn"),
    (
        "rolesanywhere",
        "CreateTrustAnchor",
        "AWS::RolesAnywhere::TrustAnchor",
        "res.trustAnchor.trustAnchorArn res.trustAnchor.trustAnchorId",
    ),
    (
        "rolesanywhere",
        "CreateProfile",
        "AWS::RolesAnywhere::Profile",
        "res.profile.profileArn res.profile.profileId",
    ),
    # Messaging, orchestration, secrets, keys, logs
    ("sqs", "CreateQueue", "AWS::SQS::Queue", "res.queueUrl req.queueName"),
    ("sns", "CreateTopic", "AWS::SNS::Topic", "res.topicArn req.name"),
    ("kinesis", "CreateStream", "AWS::Kinesis::Stream", "req.streamName"),
    (
        "states",
        "CreateStateMachine",
        "AWS::StepFunctions::StateMachine",
        "res.stateMachineArn req.name",
    ),
    ("cloudformation", "CreateStack", "AWS::CloudFormation::Stack", "res.stackId req.stackName"),
    (
        "autoscaling",
        "CreateAutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        "req.autoScalingGroupName",
    ),
    (
        "autoscaling",
        "CreateLaunchConfiguration",
        "AWS::AutoScaling::LaunchConfiguration",
        "req.launchConfigurationName",
    ),
    ("secretsmanager", "CreateSecret", "AWS::SecretsManager::Secret", "res.arn res.name req.name"),
    ("kms", "CreateKey", "AWS::KMS::Key", "res.keyMetadata.arn res.keyMetadata.keyId"),
    ("kms", "CreateAlias", "AWS::KMS::Alias", "req.aliasName"),
    ("logs", "CreateLogGroup", "AWS::Logs::LogGroup", "req.logGroupName"),
    ("cloudtrail", "CreateTrail", "AWS::CloudTrail::Trail", "res.trailARN res.name"),
    # Storage, CDN, analytics, ML
    (
        "elasticfilesystem",
        "CreateFileSystem",
        "AWS::EFS::FileSystem",
        "res.fileSystemArn res.fileSystemId",
    ),
    ("elasticfilesystem", "CreateMountTarget", "AWS::EFS::MountTarget", "res.mountTargetId"),
    (
        "cloudfront",
        "CreateDistribution",
        "AWS::CloudFront::Distribution",
        "res.distribution.aRN res.distribution.id",
    ),
    (
        "sagemaker",
        "CreateNotebookInstance",
        "AWS::SageMaker::NotebookInstance",
        "res.notebookInstanceArn req.notebookInstanceName",
    ),
    ("elasticmapreduce", "RunJobFlow", "AWS::EMR::Cluster", "res.clusterArn res.jobFlowId"),
)

# Services that store identifiers in lower case whatever the caller typed.
_LOWERCASED_SERVICES = frozenset({"rds", "elasticache", "redshift", "dax"})
_SECTIONS = {"res": "responseElements", "req": "requestParameters"}


def _build_table(
    rows: Iterable[tuple[str, str, str, str]],
) -> dict[tuple[str, str], tuple[CreationRule, ...]]:
    table: dict[tuple[str, str], tuple[CreationRule, ...]] = {}
    for service, name, rtype, paths in rows:
        full_paths = tuple(
            _SECTIONS[section] + "." + rest
            for section, rest in (path.split(".", 1) for path in paths.split())
        )
        rule = CreationRule(rtype, full_paths, lowercased=service in _LOWERCASED_SERVICES)
        key = (f"{service}.amazonaws.com", name)
        table[key] = (*table.get(key, ()), rule)
    return table


# (eventSource, eventName) → the rules that read what the event created.
CREATION_EVENTS: dict[tuple[str, str], tuple[CreationRule, ...]] = _build_table(_ROWS)

# Some services version their event names (Lambda: CreateFunction20150331, …20150331v2;
# CloudFront once: CreateDistribution2019_03_26). Match on the name without the version.
_API_VERSION_SUFFIX = re.compile(r"(?:\d{8}|\d{4}_\d{2}_\d{2})(?:v\d+)?$")


def _base_event_name(name: str) -> str:
    return _API_VERSION_SUFFIX.sub("", name)


_RULES_BY_BASE_NAME: dict[tuple[str, str], tuple[CreationRule, ...]] = {
    (source, _base_event_name(name)): rules for (source, name), rules in CREATION_EVENTS.items()
}


def creation_event_names(resource_type: str | None) -> tuple[tuple[str, str], ...]:
    """(eventSource, eventName) pairs that create `resource_type`; every pair for None."""
    return tuple(
        key
        for key, rules in CREATION_EVENTS.items()
        if resource_type is None or any(rule.type == resource_type for rule in rules)
    )


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


def created_ids(record: Record) -> tuple[str, ...]:
    """The ids, names and ARNs a successful creation event created; () for anything else."""
    return tuple(value for value, _ in _created(record))


def _created(record: Record) -> list[tuple[str, bool]]:
    """(id, lowercased) pairs, in table order, without duplicates."""
    rules = _rules_for(record)
    if not rules or is_failed(record) or is_read_only(record):
        return []
    found: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for rule in rules:
        for path in rule.paths:
            for value in _resolve(record, path):
                key = value.casefold() if rule.lowercased else value
                if key not in seen:
                    seen.add(key)
                    found.append((value, rule.lowercased))
    return found


def _rules_for(record: Record) -> tuple[CreationRule, ...]:
    if not isinstance(record, Mapping):
        return ()
    source, name = _text(record.get("eventSource")), _text(record.get("eventName"))
    exact = CREATION_EVENTS.get((source, name))
    if exact is not None:
        return exact
    return _RULES_BY_BASE_NAME.get((source, _base_event_name(name)), ())


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
    if not isinstance(record, Mapping):
        return ()
    found: dict[str, None] = {}
    for section in ("requestParameters", "responseElements", "resources"):
        for key, value in _string_leaves(record.get(section)):
            if _looks_like_reference(key, value):
                found.setdefault(value, None)
    for value in created_ids(record):
        found.setdefault(value, None)
    return tuple(found)


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


def creation_fact(record: Record, names: Iterable[str]) -> CreationFact | None:
    """The CreationFact when this record created one of `names`, else None."""
    if isinstance(names, str):  # a lone name, not an iterable of characters
        names = (names,)
    created = _created(record)
    when = event_time(record)
    if not created or when is None:
        return None
    match = _first_match([n for n in names if isinstance(n, str) and n], created)
    if match is None:
        return None
    matched, lowercased = match
    actor = actor_of(record)
    user_agent = _optional_text(record.get("userAgent"))
    return CreationFact(
        resource_id=matched,
        created=tuple(value for value, _ in created),
        related=tuple(
            ref for ref in referenced_ids(record) if not _same_id(ref, matched, lowercased)
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


def _first_match(names: list[str], created: list[tuple[str, bool]]) -> tuple[str, bool] | None:
    """The created (id, lowercased) matching the first name that matches (most specific first)."""
    for name in names:
        for value, lowercased in created:
            if _same_id(name, value, lowercased):
                return value, lowercased
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
