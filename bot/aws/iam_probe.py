"""Does the role we run as have these IAM permissions? For `whocreated check`.

First choice: iam:SimulatePrincipalPolicy on our own principal, which answers for every action at
once without touching anything. Reads are simulated on any resource; each change on a resource of
the kind it acts on (an instance ARN for ec2:StopInstances…), since the generated policies name
resources for changes. A decision that hangs on a condition the simulation cannot know (a
resource's tag, the tag keys of a request) is CONDITIONAL.

When the simulation is not possible (denied, root credentials, no principal to simulate), each
permission is tried with a harmless call instead: a read with a page of one, or of an id that
does not exist (IAM answers before the service looks), and EC2 changes with DryRun=True. A change
that has no dry run (RDS, ELB, EKS) is UNVERIFIED: nothing is ever changed to find out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied, is_throttled
from bot.iam_documents import WRITE_RESOURCES
from bot.permissions import is_read

logger = logging.getLogger(__name__)

ClientFor = Callable[[str, str], Any]


class Verdict(StrEnum):
    ALLOWED = "allowed"
    CONDITIONAL = "allowed under conditions"
    DENIED = "denied"
    UNVERIFIED = "not verified"


@dataclass(frozen=True)
class Probed:
    """Each action's verdict, how they were found, and words for each (an error code, the
    condition keys a decision hangs on, why it could not be verified)."""

    verdicts: Mapping[str, Verdict]
    method: str  # "iam:SimulatePrincipalPolicy" or "harmless calls"
    why_not_simulated: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


def probe(
    actions: Sequence[str],
    client_for: ClientFor,
    region: str,
    caller_arn: str,
    account: str,
) -> Probed:
    """Verdicts for `actions` for the principal behind `caller_arn` (GetCallerIdentity's Arn)."""
    iam = client_for("iam", region)
    principal, why = _principal(caller_arn, iam)
    if principal is not None:
        try:
            verdicts, details = _simulate(iam, principal, actions, region, account)
            return Probed(verdicts, "iam:SimulatePrincipalPolicy", None, details)
        except ClientError as error:
            outcome = "denied" if is_denied(error) else "failed"
            why = f"iam:SimulatePrincipalPolicy {outcome} ({error_code(error)})"
        except (BotoCoreError, NotImplementedError) as error:
            why = f"iam:SimulatePrincipalPolicy failed ({type(error).__name__})"
    verdicts, details = _try_calls(actions, client_for, region)
    return Probed(verdicts, "harmless calls", why, details)


# Simulation ------------------------------------------------------------------------------------


def _principal(caller_arn: str, iam: Any) -> tuple[str | None, str | None]:
    """The IAM user or role to simulate, or None and why not."""
    parts = caller_arn.split(":", 5)
    if len(parts) != 6:
        return None, f"cannot read the caller {caller_arn!r}"
    resource = parts[5]
    if resource.startswith("user/"):
        return caller_arn, None
    if resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        try:
            return str(iam.get_role(RoleName=role_name)["Role"]["Arn"]), None
        except ClientError as error:
            return None, f"iam:GetRole on our own role {role_name} {error_code(error)}"
        except BotoCoreError as error:
            return None, f"iam:GetRole on our own role failed ({type(error).__name__})"
    if resource == "root":
        return None, "root credentials cannot be simulated (and should not run whocreated)"
    return None, f"{caller_arn} is not a user or role that can be simulated"


def _simulate(
    iam: Any, principal: str, actions: Sequence[str], region: str, account: str
) -> tuple[dict[str, Verdict], dict[str, str]]:
    # Reads in one call on any resource; changes grouped by the resources they act on.
    groups: dict[tuple[str, ...], list[str]] = {}
    for action in actions:
        resources = () if is_read(action) else _sample_resources(action, region, account)
        groups.setdefault(resources, []).append(action)
    verdicts: dict[str, Verdict] = {}
    details: dict[str, str] = {}
    for resources, names in groups.items():
        request: dict[str, Any] = {"PolicySourceArn": principal, "ActionNames": names}
        if resources:
            request["ResourceArns"] = list(resources)
        for page in iam.get_paginator("simulate_principal_policy").paginate(**request):
            for result in page.get("EvaluationResults", []):
                name = result["EvalActionName"]
                verdict, missing = _verdict(result)
                if verdicts.get(name) in (None, Verdict.ALLOWED) or verdict is Verdict.DENIED:
                    verdicts[name] = verdict
                if missing:
                    details[name] = "depends on " + ", ".join(missing)
    for name in actions:  # an action the simulator said nothing about is not verified
        verdicts.setdefault(name, Verdict.UNVERIFIED)
    return {name: verdicts[name] for name in actions}, details


def _verdict(result: Mapping[str, Any]) -> tuple[Verdict, list[str]]:
    missing = sorted(set(result.get("MissingContextValues") or ()))
    for specific in result.get("ResourceSpecificResults") or ():
        missing.extend(k for k in specific.get("MissingContextValues") or () if k not in missing)
    if result.get("EvalDecision") == "allowed":
        return Verdict.ALLOWED, []
    if missing and result.get("EvalDecision") != "explicitDeny":
        return Verdict.CONDITIONAL, missing
    return Verdict.DENIED, []


def _sample_resources(action: str, region: str, account: str) -> tuple[str, ...]:
    """One made-up ARN of each kind `action` acts on, in this region and account."""
    samples = []
    for pattern in WRITE_RESOURCES.get(action, ()):
        arn = pattern.format(partition=_partition(region), member_role="whocreated-check")
        service = arn.split(":")[2]
        prefix, _, rest = arn.rpartition(":")
        if service == "iam":
            samples.append(arn.replace("iam::*:", f"iam::{account}:"))
            continue
        head = prefix.replace(":*:*", f":{region}:{account}").replace(":*:", f":{region}:")
        samples.append(f"{head}:{rest.replace('*', 'whocreated-check')}")
    return tuple(samples)


def _partition(region: str) -> str:
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov")):
        if region.startswith(prefix):
            return partition
    return "aws"


# Harmless calls --------------------------------------------------------------------------------

_NONE = "whocreated-check"  # a name nothing has, for calls that need one
_INSTANCE, _VOLUME = "i-0000000000000000f", "vol-0000000000000000f"


def _an_hour_of_nothing() -> dict[str, Any]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    metric = {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization"}
    return {
        "MetricDataQueries": [
            {"Id": "q", "MetricStat": {"Metric": metric, "Period": 3600, "Stat": "Maximum"}}
        ],
        "StartTime": end - timedelta(hours=1),
        "EndTime": end,
    }


def _lb_arn(region: str) -> str:
    return (
        f"arn:{_partition(region)}:elasticloadbalancing:{region}:000000000000:"
        f"loadbalancer/app/{_NONE}/0000000000000000"
    )


# IAM action → (boto3 service, the call). Reads only, and EC2 changes with DryRun=True.
_CALLS: Mapping[str, tuple[str, Callable[[Any, str], Any]]] = {
    "cloudtrail:LookupEvents": ("cloudtrail", lambda c, r: c.lookup_events(MaxResults=1)),
    "sts:GetCallerIdentity": ("sts", lambda c, r: c.get_caller_identity()),
    "ec2:DescribeRegions": ("ec2", lambda c, r: c.describe_regions()),
    "ec2:DescribeInstances": ("ec2", lambda c, r: c.describe_instances(MaxResults=5)),
    "ec2:DescribeVolumes": ("ec2", lambda c, r: c.describe_volumes(MaxResults=5)),
    "ec2:DescribeSnapshots": (
        "ec2",
        lambda c, r: c.describe_snapshots(OwnerIds=["self"], MaxResults=5),
    ),
    "ec2:DescribeImages": ("ec2", lambda c, r: c.describe_images(Owners=["self"], MaxResults=5)),
    "ec2:DescribeNatGateways": ("ec2", lambda c, r: c.describe_nat_gateways(MaxResults=5)),
    "ec2:DescribeAddresses": ("ec2", lambda c, r: c.describe_addresses(DryRun=True)),
    "ec2:DescribeInstanceAttribute": (
        "ec2",
        lambda c, r: c.describe_instance_attribute(
            InstanceId=_INSTANCE, Attribute="disableApiTermination", DryRun=True
        ),
    ),
    "elasticloadbalancing:DescribeLoadBalancers": (
        "elbv2",
        lambda c, r: c.describe_load_balancers(PageSize=1),
    ),
    "elasticloadbalancing:DescribeTags": (
        "elbv2",
        lambda c, r: c.describe_tags(ResourceArns=[_lb_arn(r)]),
    ),
    "elasticloadbalancing:DescribeLoadBalancerAttributes": (
        "elbv2",
        lambda c, r: c.describe_load_balancer_attributes(LoadBalancerArn=_lb_arn(r)),
    ),
    "rds:DescribeDBInstances": ("rds", lambda c, r: c.describe_db_instances(MaxRecords=20)),
    "eks:ListClusters": ("eks", lambda c, r: c.list_clusters(maxResults=1)),
    "eks:DescribeCluster": ("eks", lambda c, r: c.describe_cluster(name=_NONE)),
    "eks:ListNodegroups": ("eks", lambda c, r: c.list_nodegroups(clusterName=_NONE)),
    "eks:DescribeNodegroup": (
        "eks",
        lambda c, r: c.describe_nodegroup(clusterName=_NONE, nodegroupName=_NONE),
    ),
    "eks:ListFargateProfiles": ("eks", lambda c, r: c.list_fargate_profiles(clusterName=_NONE)),
    "autoscaling:DescribeAutoScalingGroups": (
        "autoscaling",
        lambda c, r: c.describe_auto_scaling_groups(MaxRecords=1),
    ),
    "cloudformation:DescribeStacks": (
        "cloudformation",
        lambda c, r: c.describe_stacks(StackName=_NONE),
    ),
    "lambda:GetFunction": ("lambda", lambda c, r: c.get_function(FunctionName=_NONE)),
    "s3:ListAllMyBuckets": ("s3", lambda c, r: c.list_buckets(MaxBuckets=1)),
    "iam:GetRole": ("iam", lambda c, r: c.get_role(RoleName=_NONE)),
    "iam:GetUser": ("iam", lambda c, r: c.get_user(UserName=_NONE)),
    "cloudwatch:GetMetricData": (
        "cloudwatch",
        lambda c, r: c.get_metric_data(**_an_hour_of_nothing()),
    ),
    "pricing:GetProducts": (
        "pricing",
        lambda c, r: c.get_products(ServiceCode="AmazonEC2", MaxResults=1),
    ),
    "organizations:DescribeOrganization": (
        "organizations",
        lambda c, r: c.describe_organization(),
    ),
    "organizations:ListAccounts": ("organizations", lambda c, r: c.list_accounts(MaxResults=1)),
    "ec2:StopInstances": (
        "ec2",
        lambda c, r: c.stop_instances(InstanceIds=[_INSTANCE], DryRun=True),
    ),
    "ec2:TerminateInstances": (
        "ec2",
        lambda c, r: c.terminate_instances(InstanceIds=[_INSTANCE], DryRun=True),
    ),
    "ec2:DeleteVolume": ("ec2", lambda c, r: c.delete_volume(VolumeId=_VOLUME, DryRun=True)),
    "ec2:ReleaseAddress": (
        "ec2",
        lambda c, r: c.release_address(AllocationId="eipalloc-0000000000000000f", DryRun=True),
    ),
    "ec2:CreateSnapshot": ("ec2", lambda c, r: c.create_snapshot(VolumeId=_VOLUME, DryRun=True)),
    "ec2:CreateTags": (
        "ec2",
        lambda c, r: c.create_tags(
            Resources=[_INSTANCE],
            Tags=[{"Key": "whocreated:check", "Value": "dry-run"}],
            DryRun=True,
        ),
    ),
}

# Services whose API lives in one region only.
_HOME_REGION = {"pricing": "us-east-1", "organizations": "us-east-1", "iam": "us-east-1"}


def _try_calls(
    actions: Iterable[str], client_for: ClientFor, region: str
) -> tuple[dict[str, Verdict], dict[str, str]]:
    verdicts: dict[str, Verdict] = {}
    details: dict[str, str] = {}
    for action in actions:
        known = _CALLS.get(action)
        if known is None:
            verdicts[action] = Verdict.UNVERIFIED
            details[action] = "no harmless call proves it"
            continue
        service, call = known
        where = _HOME_REGION.get(service, region) if not region.startswith("cn-") else region
        verdict, detail = _outcome(action, call, client_for(service, where), region)
        verdicts[action] = verdict
        if detail:
            details[action] = detail
    return verdicts, details


def _outcome(
    action: str, call: Callable[[Any, str], Any], client: Any, region: str
) -> tuple[Verdict, str | None]:
    try:
        call(client, region)
    except ClientError as error:
        code = error_code(error)
        if code == "DryRunOperation":
            return Verdict.ALLOWED, None
        if is_denied(error):
            return Verdict.DENIED, code
        if is_throttled(error):
            return Verdict.UNVERIFIED, code
        # IAM answers before the service looks: any other error means IAM let the read through.
        # A change's dry run may stop at the made-up id first, so it proves nothing.
        if is_read(action):
            return Verdict.ALLOWED, None
        return Verdict.UNVERIFIED, f"the dry run answered {code}"
    except BotoCoreError:
        raise
    except Exception as error:  # a probe must never stop the check
        logger.debug("probing %s failed", action, exc_info=True)
        return Verdict.UNVERIFIED, f"the probe failed ({type(error).__name__})"
    return Verdict.ALLOWED, None
