"""CloudTrail records for the sandbox, shaped like real ones.

The shapes are copied from real records (tests/fixtures/cloudtrail: invictus-ir/aws_dataset for
Terraform's RunInstances, CreateVolume, AllocateAddress and CreateNatGateway; Stratus Red Team for
an AWS IAM Identity Center (SSO) session; Cloud Custodian for the S3 console and Auto Scaling) and
from AWS's CloudTrail documentation: an instance launched by Auto Scaling is a RunInstances by the
AWSServiceRoleForAutoScaling role with invokedBy autoscaling.amazonaws.com and the group's tag in
its request; a resource CloudFormation makes carries the caller's identity with invokedBy
cloudformation.amazonaws.com; the console's own back end records "AWS Internal" as the agent, with
sessionCredentialFromConsole.

Nothing here decides anything: the product reads these records with its own rules.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "123456789012"  # moto's account

TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) "
    "terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.152.0"
)
CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off"
EC2_CONSOLE = (
    "AWS Internal"  # what the console's back end records, with sessionCredentialFromConsole
)
S3_CONSOLE = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.219 OpenJDK_64-Bit]"
CLOUDFORMATION = "cloudformation.amazonaws.com"


@dataclass(frozen=True)
class Identity:
    """Who calls: the userIdentity block, and whether the call came from the console."""

    user_identity: Mapping[str, Any]
    console: bool = False

    def block(self, **extra: Any) -> dict[str, Any]:
        return {**self.user_identity, **extra}


def _key(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:16].upper()


def iam_user(name: str, *, console: bool = False, account: str = ACCOUNT) -> Identity:
    """An IAM user with an access key, or signed in to the console (a temporary ASIA key)."""
    identity: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": _key("AIDA", name),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": _key("ASIA" if console else "AKIA", name),
        "userName": name,
    }
    if console:
        identity["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": "", "mfaAuthenticated": "true"},
        }
    return Identity(identity, console=console)


def sso_session(
    email: str, permission_set: str, *, region: str, console: bool = False, account: str = ACCOUNT
) -> Identity:
    """An IAM Identity Center session: the AWSReservedSSO_ role, the person's email as session."""
    suffix = hashlib.sha256(permission_set.encode()).hexdigest()[:16]
    role = f"AWSReservedSSO_{permission_set}_{suffix}"
    role_id = _key("AROA", role)
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{email}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{email}",
        "accountId": account,
        "accessKeyId": _key("ASIA", email),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": (
                    f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{region}/{role}"
                ),
                "accountId": account,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "", "mfaAuthenticated": "false"},
        },
    }
    return Identity(identity, console=console)


def service_linked(role: str, service: str, account: str = ACCOUNT) -> Identity:
    """A service acting through its service-linked role (Auto Scaling launching instances)."""
    return Identity(
        {
            "type": "AssumedRole",
            "principalId": f"{_key('AROA', role)}:{service.split('.')[0]}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{service.split('.')[0]}",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": _key("AROA", role),
                    "arn": f"arn:aws:iam::{account}:role/aws-service-role/{service}/{role}",
                    "accountId": account,
                    "userName": role,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": "", "mfaAuthenticated": "false"},
            },
            "invokedBy": service,
        }
    )


AUTOSCALING = service_linked("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com")


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    name: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    source: str = "ec2.amazonaws.com",
    request: Mapping[str, Any] | None = None,
    response: Mapping[str, Any] | None = None,
    read_only: bool = False,
    invoked_by: str | None = None,
    source_ip: str = "203.0.113.24",
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """One management event, with the fields a trail writes."""
    identity = who.block(**({"invokedBy": invoked_by} if invoked_by else {}))
    attributes = (identity.get("sessionContext") or {}).get("attributes")
    if attributes is not None:
        identity["sessionContext"] = {
            **identity["sessionContext"],
            "attributes": {**attributes, "creationDate": iso(when)},
        }
    by_service = invoked_by or identity.get("invokedBy")
    request_id = str(uuid.uuid4())
    host = source.replace(".amazonaws.com", f".{region}.amazonaws.com")
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": by_service or source_ip,
        "userAgent": by_service or agent,
        "requestParameters": dict(request) if request is not None else None,
        "responseElements": dict(response) if response is not None else None,
        "requestID": request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if who.console:
        rec["sessionCredentialFromConsole"] = "true"
    if not by_service:
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": host,
        }
    return rec


def _tag_set(resource_type: str, tags: Mapping[str, str]) -> dict[str, Any]:
    return {
        "items": [
            {
                "resourceType": resource_type,
                "tags": [{"key": key, "value": value} for key, value in tags.items()],
            }
        ]
    }


# Creation events ---------------------------------------------------------------------------


def run_instances(
    instance_id: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    image_id: str,
    instance_type: str,
    subnet_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    invoked_by: str | None = None,
    reservation_id: str | None = None,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "instancesSet": {"items": [{"imageId": image_id, "minCount": 1, "maxCount": 1}]},
        "instanceType": instance_type,
        "blockDeviceMapping": {},
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
        "disableApiStop": False,
        "clientToken": str(uuid.uuid4()).upper(),
    }
    if subnet_id:
        request["subnetId"] = subnet_id
    if tags:
        request["tagSpecificationSet"] = _tag_set("instance", tags)
    item: dict[str, Any] = {
        "instanceId": instance_id,
        "imageId": image_id,
        "instanceState": {"code": 0, "name": "pending"},
        "instanceType": instance_type,
        "placement": {"availabilityZone": f"{region}a", "tenancy": "default"},
        "launchTime": int(when.timestamp() * 1000),
    }
    if subnet_id:
        item["subnetId"] = subnet_id
    if tags:
        item["tagSet"] = {"items": [{"key": k, "value": v} for k, v in tags.items()]}
    response = {
        "requestId": str(uuid.uuid4()),
        "reservationId": reservation_id or f"r-{uuid.uuid4().hex[:17]}",
        "ownerId": account,
        "groupSet": {},
        "instancesSet": {"items": [item]},
    }
    return record(
        "RunInstances",
        when,
        who,
        region=region,
        agent=agent,
        request=request,
        response=response,
        invoked_by=invoked_by,
        account=account,
    )


def create_volume(
    volume_id: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    size: int,
    volume_type: str,
    zone: str,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"size": str(size), "zone": zone, "volumeType": volume_type}
    if tags:
        request["tagSpecificationSet"] = _tag_set("volume", tags)
    response = {
        "requestId": str(uuid.uuid4()),
        "volumeId": volume_id,
        "size": str(size),
        "zone": zone,
        "status": "creating",
        "createTime": int(when.timestamp() * 1000),
        "volumeType": volume_type,
        "encrypted": False,
        "multiAttachEnabled": False,
    }
    return record(
        "CreateVolume", when, who, region=region, agent=agent, request=request, response=response
    )


def allocate_address(
    allocation_id: str,
    public_ip: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"domain": "vpc"}
    if tags:
        request["tagSpecificationSet"] = _tag_set("elastic-ip", tags)
    response = {
        "requestId": str(uuid.uuid4()),
        "publicIp": public_ip,
        "domain": "vpc",
        "allocationId": allocation_id,
        "publicIpv4Pool": "amazon",
        "networkBorderGroup": region,
    }
    return record(
        "AllocateAddress", when, who, region=region, agent=agent, request=request, response=response
    )


def create_nat_gateway(
    nat_id: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    subnet_id: str,
    vpc_id: str,
    allocation_id: str,
) -> dict[str, Any]:
    """The XML-shaped form EC2 records for CreateNatGateway (as in the invictus records)."""
    request = {
        "CreateNatGatewayRequest": {
            "ConnectivityType": "public",
            "AllocationId": allocation_id,
            "SubnetId": subnet_id,
            "ClientToken": str(uuid.uuid4()).upper(),
        }
    }
    response = {
        "CreateNatGatewayResponse": {
            "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
            "natGateway": {
                "connectivityType": "public",
                "subnetId": subnet_id,
                "natGatewayAddressSet": {
                    "item": {
                        "isPrimary": True,
                        "allocationId": allocation_id,
                        "status": "associating",
                    }
                },
                "createTime": iso(when).replace("Z", ".000Z"),
                "vpcId": vpc_id,
                "natGatewayId": nat_id,
                "state": "pending",
            },
            "requestId": str(uuid.uuid4()),
        }
    }
    return record(
        "CreateNatGateway",
        when,
        who,
        region=region,
        agent=agent,
        request=request,
        response=response,
    )


def create_bucket(
    bucket: str, when: datetime, who: Identity, *, region: str, agent: str
) -> dict[str, Any]:
    request: dict[str, Any] = {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com"}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {
            "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
            "LocationConstraint": region,
        }
    rec = record(
        "CreateBucket",
        when,
        who,
        region=region,
        agent=agent,
        source="s3.amazonaws.com",
        request=request,
        response=None,
    )
    rec["additionalEventData"] = {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader"}
    return rec


def create_auto_scaling_group(
    name: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    launch_template: str,
    size: int,
) -> dict[str, Any]:
    request = {
        "autoScalingGroupName": name,
        "launchTemplate": {"launchTemplateName": launch_template, "version": "$Default"},
        "minSize": size,
        "maxSize": size,
        "desiredCapacity": size,
        "availabilityZones": [f"{region}a"],
    }
    return record(
        "CreateAutoScalingGroup",
        when,
        who,
        region=region,
        agent=agent,
        source="autoscaling.amazonaws.com",
        request=request,
        response=None,
    )


def create_stack(
    name: str, stack_id: str, when: datetime, who: Identity, *, region: str, agent: str
) -> dict[str, Any]:
    request = {
        "stackName": name,
        "templateURL": f"https://s3.{region}.amazonaws.com/cf-templates-example/{name}.yaml",
        "capabilities": ["CAPABILITY_IAM"],
    }
    return record(
        "CreateStack",
        when,
        who,
        region=region,
        agent=agent,
        source="cloudformation.amazonaws.com",
        request=request,
        response={"stackId": stack_id},
    )


# Mentions: events that name a resource without creating it --------------------------------


def describe_instances(
    instance_id: str, when: datetime, who: Identity, *, region: str, agent: str
) -> dict[str, Any]:
    return record(
        "DescribeInstances",
        when,
        who,
        region=region,
        agent=agent,
        request={"instancesSet": {"items": [{"instanceId": instance_id}]}, "filterSet": {}},
        read_only=True,
    )


def create_tags(
    resource_id: str,
    tags: Mapping[str, str],
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
) -> dict[str, Any]:
    return record(
        "CreateTags",
        when,
        who,
        region=region,
        agent=agent,
        request={
            "resourcesSet": {"items": [{"resourceId": resource_id}]},
            "tagSet": {"items": [{"key": k, "value": v} for k, v in tags.items()]},
        },
        response={"requestId": str(uuid.uuid4()), "_return": True},
    )


def stop_instances(
    instance_id: str, when: datetime, who: Identity, *, region: str, agent: str
) -> dict[str, Any]:
    return record(
        "StopInstances",
        when,
        who,
        region=region,
        agent=agent,
        request={"instancesSet": {"items": [{"instanceId": instance_id}]}, "force": False},
        response={
            "requestId": str(uuid.uuid4()),
            "instancesSet": {
                "items": [
                    {
                        "instanceId": instance_id,
                        "currentState": {"code": 64, "name": "stopping"},
                        "previousState": {"code": 16, "name": "running"},
                    }
                ]
            },
        },
    )


def create_role(
    name: str, when: datetime, who: Identity, *, agent: str, account: str = ACCOUNT
) -> dict[str, Any]:
    """IAM's CreateRole, as the invictus records show it (IAM records land in us-east-1)."""
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        f'"Principal":{{"AWS":"{account}"}},"Action":"sts:AssumeRole"}}]}}'
    )
    request = {"path": "/", "roleName": name, "assumeRolePolicyDocument": trust}
    response = {
        "role": {
            "path": "/",
            "roleName": name,
            "roleId": _key("AROA", f"{account}/{name}"),
            "arn": f"arn:aws:iam::{account}:role/{name}",
            "createDate": when.strftime("%b %d, %Y %I:%M:%S %p"),
            "assumeRolePolicyDocument": trust,
        }
    }
    return record(
        "CreateRole",
        when,
        who,
        region="us-east-1",
        agent=agent,
        source="iam.amazonaws.com",
        request=request,
        response=response,
        account=account,
    )


def create_function(
    name: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """Lambda's CreateFunction20150331, as the invictus records show it."""
    role = f"arn:aws:iam::{account}:role/{name}-role"
    request = {
        "functionName": name,
        "runtime": "python3.12",
        "role": role,
        "handler": "index.handler",
        "code": {},
        "packageType": "Zip",
    }
    response = {
        "functionName": name,
        "functionArn": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "runtime": "python3.12",
        "role": role,
        "handler": "index.handler",
        "version": "$LATEST",
        "state": "Pending",
        "packageType": "Zip",
    }
    return record(
        "CreateFunction20150331",
        when,
        who,
        region=region,
        agent=agent,
        source="lambda.amazonaws.com",
        request=request,
        response=response,
        account=account,
    )


def create_db_instance(
    identifier: str,
    when: datetime,
    who: Identity,
    *,
    region: str,
    agent: str,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """RDS's CreateDBInstance, as the invictus records show it (RDS stores names lowercased)."""
    request = {
        "dBInstanceIdentifier": identifier,
        "engine": "postgres",
        "dBInstanceClass": "db.t3.micro",
        "allocatedStorage": 20,
        "masterUsername": "admin",
        "masterUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS",
    }
    response = {
        "dBInstanceIdentifier": identifier.lower(),
        "dBInstanceArn": f"arn:aws:rds:{region}:{account}:db:{identifier.lower()}",
        "dBInstanceClass": "db.t3.micro",
        "engine": "postgres",
        "dBInstanceStatus": "creating",
        "dbiResourceId": _key("db-", f"{account}/{region}/{identifier}"),
    }
    return record(
        "CreateDBInstance",
        when,
        who,
        region=region,
        agent=agent,
        source="rds.amazonaws.com",
        request=request,
        response=response,
        account=account,
    )


# Histories ---------------------------------------------------------------------------------


def busy_history(
    instance_id: str,
    created: datetime,
    until: datetime,
    count: int,
    who: Identity,
    *,
    region: str,
    image_id: str,
    agent: str = CLI,
    instance_type: str = "t3.micro",
) -> list[dict[str, Any]]:
    """`who` launches the instance at `created`; then `count` - 1 events mention it, spread evenly
    up to `until`: a monitoring user's DescribeInstances, every third one bob's CreateTags. A
    resource with a long CloudTrail history, as a busy sandbox account gives."""
    monitoring, tagger = iam_user("monitoring"), iam_user("bob")
    step = (until - created) / count
    mentions = [
        describe_instances(instance_id, created + step * n, monitoring, region=region, agent=CLI)
        if n % 3
        else create_tags(
            instance_id, {"team": "data"}, created + step * n, tagger, region=region, agent=CLI
        )
        for n in range(1, count)
    ]
    made = run_instances(
        instance_id,
        created,
        who,
        region=region,
        agent=agent,
        image_id=image_id,
        instance_type=instance_type,
    )
    return [made, *mentions]
