"""Write tags on a patrolled resource: `Tagger(client_for).tag(resource, tags) -> bool`.

One table maps a resource type to the call that tags it. Tagging is a courtesy (it keeps answers
past CloudTrail's 90 days), so it never raises: denied is False and one warning per kind of
permission, any other failure is False and a logged error.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied
from bot.core.resources import (
    CLASSIC_LOAD_BALANCER,
    EBS_VOLUME,
    EC2_INSTANCE,
    EKS_CLUSTER,
    ELASTIC_IP,
    LOAD_BALANCER,
    NAT_GATEWAY,
    RDS_INSTANCE,
    Resource,
)

logger = logging.getLogger(__name__)

ClientFor = Callable[[str, str], Any]
TagWriter = Callable[[Any, Resource, dict[str, str]], None]

KEY_LIMIT = 128
VALUE_LIMIT = 256
# What every service here accepts in tag keys and values (EKS and RDS are the strictest).
_NOT_ALLOWED = re.compile(r"[^\w\s+\-=.:/@]")


def _aws_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _ec2(client: Any, resource: Resource, tags: dict[str, str]) -> None:
    client.create_tags(Resources=[resource.id], Tags=_aws_tags(tags))


def _rds(client: Any, resource: Resource, tags: dict[str, str]) -> None:
    client.add_tags_to_resource(ResourceName=_arn(resource, "rds", "db:"), Tags=_aws_tags(tags))


def _elbv2(client: Any, resource: Resource, tags: dict[str, str]) -> None:
    client.add_tags(ResourceArns=[resource.arn or resource.id], Tags=_aws_tags(tags))


def _elb(client: Any, resource: Resource, tags: dict[str, str]) -> None:
    client.add_tags(LoadBalancerNames=[resource.id], Tags=_aws_tags(tags))


def _eks(client: Any, resource: Resource, tags: dict[str, str]) -> None:
    client.tag_resource(resourceArn=_arn(resource, "eks", "cluster/"), tags=dict(tags))


# Resource type → (boto3 service, the IAM permission, the call).
WRITERS: dict[str, tuple[str, str, TagWriter]] = {
    EC2_INSTANCE: ("ec2", "ec2:CreateTags", _ec2),
    EBS_VOLUME: ("ec2", "ec2:CreateTags", _ec2),
    ELASTIC_IP: ("ec2", "ec2:CreateTags", _ec2),
    NAT_GATEWAY: ("ec2", "ec2:CreateTags", _ec2),
    RDS_INSTANCE: ("rds", "rds:AddTagsToResource", _rds),
    LOAD_BALANCER: ("elbv2", "elasticloadbalancing:AddTags", _elbv2),
    CLASSIC_LOAD_BALANCER: ("elb", "elasticloadbalancing:AddTags", _elb),
    EKS_CLUSTER: ("eks", "eks:TagResource", _eks),
}


class Tagger:
    """Tags through `client_for` (the credentials' own account).

    For resources in other accounts, give `account_id` (our own) and `clients_for_account`
    (e.g. from bot.aws.accounts.visit); without them such a resource is not tagged.
    """

    def __init__(
        self,
        client_for: ClientFor,
        *,
        account_id: Callable[[], str | None] | None = None,
        clients_for_account: Callable[[str], ClientFor | None] | None = None,
    ) -> None:
        self._client_for = client_for
        self._account_id = account_id or (lambda: None)
        self._clients_for_account = clients_for_account
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def tag(self, resource: Resource, tags: Mapping[str, str]) -> bool:
        """Add (or overwrite) these tags on the resource; False when it could not be done."""
        writer = WRITERS.get(resource.type)
        if writer is None:
            logger.debug("no way to tag %s (%s)", resource.id, resource.type)
            return False
        service, permission, write = writer
        clients = self._clients(resource.account)
        if clients is None:
            self._warn_once(
                f"account {resource.account}",
                f"no clients for account {resource.account}: its resources are not tagged",
            )
            return False
        clean = {_clip(key, KEY_LIMIT): _clip(value, VALUE_LIMIT) for key, value in tags.items()}
        try:
            write(clients(service, resource.region), resource, clean)
        except ClientError as error:
            if is_denied(error):
                self._warn_once(
                    permission,
                    f"{permission} denied (first on {resource.id} in {resource.region}): "
                    "resolved creators are not written back as tags",
                )
            else:
                logger.error(
                    "tagging %s in %s failed (%s): %s",
                    resource.id,
                    resource.region,
                    error_code(error),
                    error,
                )
            return False
        except BotoCoreError:
            logger.exception("tagging %s in %s failed", resource.id, resource.region)
            return False
        return True

    def _clients(self, account: str) -> ClientFor | None:
        own = self._account_id()
        if own is None or account == own:
            return self._client_for
        return self._clients_for_account(account) if self._clients_for_account else None

    def _warn_once(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        logger.warning(message)


def _clip(text: str, limit: int) -> str:
    return _NOT_ALLOWED.sub("_", text)[:limit]


def _arn(resource: Resource, service: str, kind: str) -> str:
    """The resource's ARN, or one built from where it lives (RDS and EKS tag by ARN)."""
    if resource.arn:
        return resource.arn
    partition = next(
        (name for prefix, name in _PARTITIONS if resource.region.startswith(prefix)), "aws"
    )
    return f"arn:{partition}:{service}:{resource.region}:{resource.account}:{kind}{resource.id}"


_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))
