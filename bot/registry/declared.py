"""The hand-written declarations: types the bot knows best, and the creation table.

Tables, not if/else chains (Cloud Custodian style). A type declared here keeps its own creation
rules; the generated catalog (bot/registry/data/catalog.json) fills in every other type and the
fields left out here (CloudFormation identifier, ARN formats from the Service Authorization
Reference).
"""

from __future__ import annotations

from dataclasses import dataclass

# Services whose identifiers compare without case: stored in lower case whatever the caller typed
# (RDS, ElastiCache, Redshift, DAX), or unique regardless of case (IAM: "Admin" and "ADMIN" are
# one role name).
LOWERCASED_SERVICES = frozenset({"rds", "elasticache", "redshift", "dax", "iam"})

# Services whose resources live in one home region per partition (ARNs carry no region).
GLOBAL_SERVICE_HOME: dict[str, dict[str, str]] = {
    "iam": {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"},
    "cloudfront": {"aws": "us-east-1"},
    "route53": {"aws": "us-east-1"},
    "organizations": {"aws": "us-east-1"},
    "globalaccelerator": {"aws": "us-west-2"},
    "waf": {"aws": "us-east-1"},
}


@dataclass(frozen=True)
class Declared:
    """What is known of a type beyond its creation rows: its service, ARN resource parts (after
    `arn:PARTITION:SERVICE:REGION:ACCOUNT:`), the ARN variable that is its id where that is not
    the last one, and the prefixes of its EC2-style ids."""

    cfn_type: str
    service: str
    arns: tuple[str, ...] = ()
    arn_id: str | None = None
    id_prefixes: tuple[str, ...] = ()
    regional: bool = True  # False: its ARNs carry no region (IAM, S3, CloudFront)


def _ec2(cfn_type: str, kind: str, variable: str, *prefixes: str) -> Declared:
    return Declared(cfn_type, "ec2", (f"{kind}/${{{variable}}}",), id_prefixes=prefixes)


TYPES: tuple[Declared, ...] = (
    _ec2("AWS::EC2::Instance", "instance", "InstanceId", "i"),
    _ec2("AWS::EC2::Volume", "volume", "VolumeId", "vol"),
    _ec2("AWS::EC2::Snapshot", "snapshot", "SnapshotId", "snap"),
    _ec2("AWS::EC2::Image", "image", "ImageId", "ami"),
    _ec2("AWS::EC2::SecurityGroup", "security-group", "SecurityGroupId", "sg"),
    _ec2("AWS::EC2::NetworkInterface", "network-interface", "NetworkInterfaceId", "eni"),
    _ec2("AWS::EC2::EIP", "elastic-ip", "AllocationId", "eipalloc"),
    _ec2("AWS::EC2::NatGateway", "natgateway", "NatGatewayId", "nat"),
    _ec2("AWS::EC2::VPC", "vpc", "VpcId", "vpc"),
    _ec2("AWS::EC2::Subnet", "subnet", "SubnetId", "subnet"),
    _ec2("AWS::EC2::InternetGateway", "internet-gateway", "InternetGatewayId", "igw"),
    _ec2("AWS::EC2::RouteTable", "route-table", "RouteTableId", "rtb"),
    _ec2("AWS::EC2::LaunchTemplate", "launch-template", "LaunchTemplateId", "lt"),
    _ec2("AWS::EC2::NetworkAcl", "network-acl", "NaclId", "acl"),
    _ec2(
        "AWS::EC2::EgressOnlyInternetGateway",
        "egress-only-internet-gateway",
        "EgressOnlyInternetGatewayId",
        "eigw",
    ),
    _ec2("AWS::EC2::VPCEndpoint", "vpc-endpoint", "VpcEndpointId", "vpce"),
    _ec2(
        "AWS::EC2::VPCPeeringConnection",
        "vpc-peering-connection",
        "VpcPeeringConnectionId",
        "pcx",
    ),
    _ec2("AWS::EC2::TransitGateway", "transit-gateway", "TransitGatewayId", "tgw"),
    _ec2(
        "AWS::EC2::TransitGatewayAttachment",
        "transit-gateway-attachment",
        "TransitGatewayAttachmentId",
        "tgw-attach",
    ),
    _ec2("AWS::EC2::KeyPair", "key-pair", "KeyPairId", "key"),
    _ec2("AWS::EC2::DHCPOptions", "dhcp-options", "DhcpOptionsId", "dopt"),
    _ec2("AWS::EC2::VPNGateway", "vpn-gateway", "VpnGatewayId", "vgw"),
    _ec2("AWS::EC2::CustomerGateway", "customer-gateway", "CustomerGatewayId", "cgw"),
    _ec2("AWS::EC2::VPNConnection", "vpn-connection", "VpnConnectionId", "vpn"),
    _ec2("AWS::EC2::Reservation", "reservation", "ReservationId", "r"),  # made by RunInstances
    Declared(
        "AWS::EFS::FileSystem",
        "elasticfilesystem",
        ("file-system/${FileSystemId}",),
        id_prefixes=("fs",),
    ),
    Declared(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "elasticloadbalancing",
        tuple(
            f"loadbalancer/{kind}/${{LoadBalancerName}}/${{LoadBalancerId}}"
            for kind in ("app", "net", "gwy")
        ),
        arn_id="LoadBalancerName",
    ),
    Declared(
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "elasticloadbalancing",
        ("loadbalancer/${LoadBalancerName}",),
    ),
    Declared(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "elasticloadbalancing",
        ("targetgroup/${TargetGroupName}/${TargetGroupId}",),
        arn_id="TargetGroupName",
    ),
    Declared("AWS::RDS::DBInstance", "rds", ("db:${DbInstanceIdentifier}",)),
    # The catalog gives an EMR cluster's ARN to its instance fleet configurations too.
    Declared("AWS::EMR::Cluster", "elasticmapreduce", ("cluster/${ClusterId}",)),
    Declared("AWS::RDS::DBCluster", "rds", ("cluster:${DbClusterIdentifier}",)),
    Declared("AWS::RDS::DBSnapshot", "rds", ("snapshot:${SnapshotName}",)),
    Declared("AWS::RDS::DBClusterSnapshot", "rds", ("cluster-snapshot:${ClusterSnapshotName}",)),
    Declared("AWS::RDS::DBSubnetGroup", "rds", ("subgrp:${SubnetGroupName}",)),
    Declared(
        "AWS::Lambda::Function",
        "lambda",
        # A version or alias qualifier names the same function.
        ("function:${FunctionName}", "function:${FunctionName}:${Qualifier}"),
        arn_id="FunctionName",
    ),
    # An object's ARN names its bucket too.
    Declared(
        "AWS::S3::Bucket",
        "s3",
        ("${BucketName}", "${BucketName}/${ObjectName}"),
        arn_id="BucketName",
        regional=False,
    ),
    Declared("AWS::EKS::Cluster", "eks", ("cluster/${ClusterName}",)),
    Declared(
        "AWS::EKS::Nodegroup",
        "eks",
        ("nodegroup/${ClusterName}/${NodegroupName}/${NodegroupId}",),
        arn_id="NodegroupName",
    ),
    Declared(
        "AWS::EKS::FargateProfile",
        "eks",
        ("fargateprofile/${ClusterName}/${FargateProfileName}/${FargateProfileId}",),
        arn_id="FargateProfileName",
    ),
    Declared("AWS::ECS::Cluster", "ecs", ("cluster/${ClusterName}",)),
    Declared(
        "AWS::ECS::Service",
        "ecs",
        ("service/${ClusterName}/${ServiceName}", "service/${ServiceName}"),
        arn_id="ServiceName",
    ),
    Declared("AWS::ECS::TaskDefinition", "ecs", ("task-definition/${TaskDefinition}",)),
    Declared("AWS::ECR::Repository", "ecr", ("repository/${RepositoryName}",)),
    Declared("AWS::DynamoDB::Table", "dynamodb", ("table/${TableName}",)),
    Declared("AWS::DAX::Cluster", "dax", ("cache/${ClusterName}",)),
    Declared("AWS::Redshift::Cluster", "redshift", ("cluster:${ClusterName}",)),
    Declared("AWS::IAM::Role", "iam", ("role/${RoleNameWithPath}",), regional=False),
    Declared("AWS::IAM::User", "iam", ("user/${UserNameWithPath}",), regional=False),
    Declared("AWS::IAM::ManagedPolicy", "iam", ("policy/${PolicyNameWithPath}",), regional=False),
    Declared(
        "AWS::IAM::InstanceProfile",
        "iam",
        ("instance-profile/${InstanceProfileNameWithPath}",),
        regional=False,
    ),
    Declared("AWS::IAM::Group", "iam", ("group/${GroupNameWithPath}",), regional=False),
    Declared("AWS::IAM::AccessKey", "iam", regional=False),
    Declared(
        "AWS::IAM::OIDCProvider", "iam", ("oidc-provider/${OidcProviderName}",), regional=False
    ),
    Declared(
        "AWS::IAM::SAMLProvider", "iam", ("saml-provider/${SamlProviderName}",), regional=False
    ),
    Declared("AWS::SQS::Queue", "sqs", ("${QueueName}",)),
    Declared("AWS::SNS::Topic", "sns", ("${TopicName}",)),
    Declared("AWS::ElastiCache::CacheCluster", "elasticache", ("cluster:${CacheClusterId}",)),
    Declared(
        "AWS::ElastiCache::ReplicationGroup",
        "elasticache",
        ("replicationgroup:${ReplicationGroupId}",),
    ),
    Declared(
        "AWS::CloudFormation::Stack",
        "cloudformation",
        ("stack/${StackName}/${Id}",),
        arn_id="StackName",
    ),
    Declared(
        "AWS::AutoScaling::AutoScalingGroup",
        "autoscaling",
        ("autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName}",),
    ),
    Declared("AWS::SecretsManager::Secret", "secretsmanager", ("secret:${SecretId}",)),
    Declared("AWS::KMS::Key", "kms", ("key/${KeyId}",)),
    Declared(
        "AWS::Logs::LogGroup",
        "logs",
        # Many tools write a group's ARN with a trailing ":*".
        ("log-group:${LogGroupName}", "log-group:${LogGroupName}:*"),
        arn_id="LogGroupName",
    ),
    Declared(
        "AWS::CloudFront::Distribution",
        "cloudfront",
        ("distribution/${DistributionId}",),
        regional=False,
    ),
)

# One row per (service, eventName): the type it creates and where the new ids are, as
# space-separated paths ("res." = responseElements, "req." = requestParameters, "[]" walks a list).
# Response paths come first, so the form AWS stored (an ARN, a lowercased name) is reported first.
ROWS: tuple[tuple[str, str, str, str], ...] = (
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


# What an event makes besides what it was asked for, as rows like the ones above. The network
# interfaces RunInstances makes for its instances (those the request did not hand over).
BYPRODUCT_ROWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "ec2",
        "RunInstances",
        "AWS::EC2::NetworkInterface",
        "res.instancesSet.items[].networkInterfaceSet.items[].networkInterfaceId",
    ),
)
