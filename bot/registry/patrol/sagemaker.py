"""SageMaker's patrol types: real-time endpoints and notebook instances.

An endpoint is deleted and its endpoint configuration and model kept, so the same endpoint can be
made again in minutes. A notebook instance is stopped: its ML storage volume (the notebooks on it)
stays. CloudWatch has no activity metrics for notebook instances, so their rule is time in
service since the last start or change (bot/core/idle.py).
"""

from __future__ import annotations

from bot.aws.creation_hints import Reader
from bot.aws.inventory import Lister
from bot.aws.kinds import sagemaker
from bot.aws.operations import Act
from bot.aws.tagging import Writer
from bot.core import costs, idle
from bot.core.actions import Action
from bot.core.kinds import said
from bot.core.policy import LOOKBACK_DAYS
from bot.registry.patrol.spec import PatrolType

K, S, D, N = Action.KEEP, Action.STOP, Action.DELETE, Action.NOT_MINE
TAGS_READ = "sagemaker:ListTags"

ENDPOINT = PatrolType(
    cfn_type=sagemaker.ENDPOINT,
    short="sagemaker_endpoint",
    noun="SageMaker endpoint",
    plural="SageMaker endpoints",
    rule=idle.sagemaker_endpoint,
    idle_when="≤ {max_invocations} invocations over {lookback_days} days",
    limits=(LOOKBACK_DAYS, idle.MAX_INVOCATIONS),
    metrics=idle.SAGEMAKER_ENDPOINT_METRICS,
    series=idle.per_variant,
    price=costs.sagemaker_endpoint,
    buttons={None: (K, D, N)},
    words={D: said("; its endpoint configuration and model stay, so it can be made again")},
    inventory=Lister(
        "sagemaker",
        sagemaker.endpoints,
        (
            "sagemaker:ListEndpoints",
            "sagemaker:DescribeEndpoint",
            "sagemaker:DescribeEndpointConfig",
            TAGS_READ,
        ),
    ),
    actions={
        D: Act(
            sagemaker.delete_endpoint,
            ("sagemaker:DescribeEndpoint", TAGS_READ, "sagemaker:DeleteEndpoint"),
        )
    },
    tagging=Writer("sagemaker", "sagemaker:AddTags", sagemaker.write_endpoint_tags, 1),
    hint=Reader(("sagemaker:DescribeEndpoint", TAGS_READ), sagemaker.read_endpoint),
    iam_resources=("arn:{partition}:sagemaker:*:*:endpoint/*",),
)

NOTEBOOK = PatrolType(
    cfn_type=sagemaker.NOTEBOOK,
    short="sagemaker_notebook",
    noun="SageMaker notebook instance",
    plural="SageMaker notebook instances",
    rule=idle.sagemaker_notebook,
    idle_when=(
        "in service more than {in_service_days} days since it was last started or changed "
        "(CloudWatch has no activity metrics for notebook instances)"
    ),
    limits=(idle.IN_SERVICE_DAYS,),
    price=costs.sagemaker_notebook,
    caveat=costs.notebook_storage,
    buttons={"InService": (K, S, N), None: (K, N)},
    words={S: said("; its ML storage volume stays (and still costs) and it can be started again")},
    inventory=Lister(
        "sagemaker",
        sagemaker.notebooks,
        ("sagemaker:ListNotebookInstances", "sagemaker:DescribeNotebookInstance", TAGS_READ),
    ),
    actions={
        S: Act(
            sagemaker.stop_notebook,
            ("sagemaker:DescribeNotebookInstance", TAGS_READ, "sagemaker:StopNotebookInstance"),
        )
    },
    tagging=Writer("sagemaker", "sagemaker:AddTags", sagemaker.write_notebook_tags, 1),
    hint=Reader(("sagemaker:DescribeNotebookInstance", TAGS_READ), sagemaker.read_notebook),
    iam_resources=("arn:{partition}:sagemaker:*:*:notebook-instance/*",),
)

TYPES = (ENDPOINT, NOTEBOOK)
