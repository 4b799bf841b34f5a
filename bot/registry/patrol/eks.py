"""EKS's patrol type: clusters. Deleting one takes its node groups, add-ons and load balancers
with it, too broad for one button: Keep and Not mine only."""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import eks
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.policy import LOOKBACK_DAYS
from bot.core.resources import EKS_CLUSTER
from bot.registry.patrol.spec import PatrolType

CLUSTER = PatrolType(
    cfn_type=EKS_CLUSTER,
    short="eks_cluster",
    noun="EKS cluster",
    plural="EKS clusters",
    rule=idle.eks_cluster,
    idle_when="no nodes (node groups or Fargate profiles), older than {lookback_days} days",
    limits=(LOOKBACK_DAYS,),
    price=costs.eks_cluster,
    caveat=costs.fixed("standard support rate; versions in extended support cost more"),
    inventory=Lister(
        "eks",
        eks.clusters,
        (
            "eks:ListClusters",
            "eks:DescribeCluster",
            "eks:ListNodegroups",
            "eks:DescribeNodegroup",
            "eks:ListFargateProfiles",
            "ec2:DescribeInstances",  # self-managed nodes
        ),
    ),
    tagging=Writer("eks", "eks:TagResource", eks.write_tags, 1),
    hint=Reader(("eks:DescribeCluster",), eks.read_cluster),
    iam_resources=("arn:{partition}:eks:*:*:cluster/*",),
)

TYPES = (CLUSTER,)
