"""The permissions table is the one place permissions and scopes live: the code's own tables name
the same permissions, every AWS call the product makes is in the table for its feature (and each
button makes exactly the calls the table lists), and manifest.yml asks for exactly its scopes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from bot.aws.operations import Operations
from bot.core import resources as rt
from bot.core.created_by import TagSigner
from bot.core.decisions import Action
from bot.core.policy import Actions
from bot.iam_documents import WRITE_RESOURCES
from bot.permissions import (
    ACTIONS,
    IAM,
    INVENTORY,
    LOOKUP_HINTS,
    SCOPE_PURPOSE,
    SLACK_APP_SCOPES,
    SLACK_BOT_SCOPES,
    SNAPSHOTS,
    TAGGING,
    Feature,
    action_words,
    iam_for,
    is_read,
)
from bot.registry.patrol import PATROL, PATROLLED_TYPES, READERS
from tests.moto_fleet import REGION, Fleet
from tests.permission_calls import iam_name

ROOT = Path(__file__).parents[1]


# The permissions table is made from the type registry's declarations ---------------------------


def test_every_button_a_type_offers_has_its_permissions_in_the_table() -> None:
    for kind in PATROL.declared:
        offered = {a for row in kind.buttons.values() for a in row} - {Action.KEEP, Action.NOT_MINE}
        assert {(kind.cfn_type, action) for action in offered} <= set(ACTIONS), kind.cfn_type
    assert set(ACTIONS) == {(t.cfn_type, a) for t in PATROL.declared for a in t.actions}
    assert set(SNAPSHOTS) <= set(ACTIONS)


def test_tag_writers_name_the_tables_permission() -> None:
    writers = {t.cfn_type: t.tagging for t in PATROL.declared if t.tagging is not None}
    assert set(TAGGING) == set(writers)
    for resource_type, writer in writers.items():
        assert TAGGING[resource_type] == (writer.permission,)


def test_lookup_hints_name_the_tables_permission() -> None:
    assert set(LOOKUP_HINTS) == set(READERS)
    for resource_type, reader in READERS.items():
        assert reader.permission == LOOKUP_HINTS[resource_type][0]


def test_every_patrolled_type_has_its_describes() -> None:
    assert set(INVENTORY) == set(PATROLLED_TYPES)
    assert all(INVENTORY[kind] for kind in PATROLLED_TYPES)


def test_every_write_names_the_resources_it_may_touch() -> None:
    writes = {action for feature in Feature for action in IAM[feature] if not is_read(action)}
    assert writes - {"ec2:CreateTags"} <= set(WRITE_RESOURCES)
    assert all(WRITE_RESOURCES[action] for action in writes if action in WRITE_RESOURCES)


def test_read_only_features_only_read() -> None:
    for feature in (Feature.LOOKUPS, Feature.PATROL, Feature.ORGANIZATIONS, Feature.CHECK):
        assert [a for a in IAM[feature] if not is_read(a)] == [], feature
    assert "rds:CreateDBSnapshot" in IAM[Feature.SNAPSHOTS]


def test_features_needing_a_permission_are_named_together() -> None:
    needed = iam_for([Feature.LOOKUPS, Feature.PATROL])
    assert needed["cloudtrail:LookupEvents"] == (Feature.LOOKUPS, Feature.PATROL)
    assert needed["cloudwatch:GetMetricData"] == (Feature.PATROL,)


def test_a_refused_button_names_the_call_that_failed_else_every_change() -> None:
    assert action_words(rt.EC2_INSTANCE, Action.STOP, "StopInstances") == "ec2:StopInstances"
    assert action_words(rt.EC2_INSTANCE, Action.TERMINATE, "CreateSnapshot") == "ec2:CreateSnapshot"
    assert action_words(rt.RDS_INSTANCE, Action.DELETE, None) == (
        "rds:DeleteDBInstance and rds:CreateDBSnapshot"
    )


# Each button makes exactly the calls the table lists ------------------------------------------


# Permissions IAM checks that are not calls of their own: tags given in CreateSnapshot, and the
# final snapshots of DeleteDBInstance, DeleteCacheCluster and DeleteCluster.
IMPLIED = {
    "ec2:CreateTags",
    "rds:CreateDBSnapshot",
    "elasticache:CreateSnapshot",
    "redshift:CreateClusterSnapshot",
}


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    with mock_aws():
        yield Fleet()


def recording(fleet: Fleet) -> tuple[Callable[[str, str], Any], list[str]]:
    """A client factory whose clients record each call as its IAM name."""
    calls: list[str] = []
    made: dict[tuple[str, str], Any] = {}

    def client_for(service: str, region: str) -> Any:
        if (service, region) not in made:
            client = boto3.client(service, region_name=region)
            client.meta.events.register(
                "before-call",
                lambda model, **_: calls.append(
                    iam_name(f"{model.service_model.endpoint_prefix}:{model.name}")
                ),
            )
            made[(service, region)] = client
        return made[(service, region)]

    return client_for, calls


def make(fleet: Fleet, resource_type: str) -> str:
    makers: dict[str, Callable[[], str]] = {
        rt.EC2_INSTANCE: lambda: fleet.instance("web-1"),
        rt.EBS_VOLUME: lambda: fleet.volume(),
        rt.ELASTIC_IP: lambda: fleet.address()[0],
        rt.NAT_GATEWAY: fleet.nat,
        rt.LOAD_BALANCER: fleet.load_balancer,
        rt.CLASSIC_LOAD_BALANCER: fleet.classic_load_balancer,
        rt.RDS_INSTANCE: lambda: fleet.database(),
        "AWS::EC2::Snapshot": fleet.orphan_snapshot,
        "AWS::EC2::Image": fleet.image,
        "AWS::SageMaker::Endpoint": fleet.endpoint,
        "AWS::SageMaker::NotebookInstance": fleet.notebook,
        "AWS::OpenSearchService::Domain": fleet.domain,
        "AWS::ElastiCache::CacheCluster": fleet.cache,
        "AWS::Redshift::Cluster": fleet.warehouse,
        "AWS::EMR::Cluster": fleet.emr_cluster,
        "AWS::DynamoDB::Table": fleet.table,
    }
    return makers[resource_type]()


def born(fleet: Fleet, resource_type: str, resource_id: str) -> Any:
    """The creation time a nudge records for a resource named by a reusable name."""
    if PATROL.unique_ids(resource_type):
        return None
    return fleet.created_at(resource_type, resource_id)


@pytest.mark.parametrize(("resource_type", "action"), list(ACTIONS), ids=str)
@pytest.mark.parametrize("snapshots", [True, False], ids=["snapshots", "no-snapshots"])
def test_each_button_makes_exactly_the_calls_the_table_lists(
    fleet: Fleet, resource_type: str, action: Action, snapshots: bool
) -> None:
    resource_id = make(fleet, resource_type)
    client_for, calls = recording(fleet)
    policy = Actions(mode="enabled", snapshot_before_delete=snapshots)
    outcome = Operations(client_for, policy, PATROL.by_type, sleep=lambda _: None).perform(
        action,
        ("123456789012", REGION, resource_type, resource_id),
        dry_run=False,
        created_at=born(fleet, resource_type, resource_id),
    )
    assert outcome.done, outcome.summary
    listed = set(ACTIONS[(resource_type, action)])
    if snapshots:
        listed |= set(SNAPSHOTS.get((resource_type, action), ()))
    assert set(calls) == listed - IMPLIED


@pytest.mark.parametrize("resource_type", sorted(set(TAGGING) - {rt.EKS_CLUSTER}))
def test_keep_writes_its_tag_with_the_tables_permission(fleet: Fleet, resource_type: str) -> None:
    resource_id = make(fleet, resource_type)
    client_for, calls = recording(fleet)
    signer = TagSigner(b"permissions-test-key-0123456789ab")
    outcome = Operations(
        client_for, Actions(mode="enabled"), PATROL.by_type, signer=signer
    ).perform(
        Action.KEEP,
        ("123456789012", REGION, resource_type, resource_id),
        dry_run=False,
        keep_until=datetime(2030, 1, 1, tzinfo=UTC),
        created_at=born(fleet, resource_type, resource_id),
    )
    assert outcome.done and "Tagged" in outcome.summary, outcome.summary
    writes = [call for call in calls if not is_read(call)]
    assert writes == list(TAGGING[resource_type])
    assert set(calls) - set(writes) <= set(IAM[Feature.PATROL])  # any read first is a patrol read


# Slack ------------------------------------------------------------------------------------------


def test_the_manifest_asks_for_exactly_the_tables_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert manifest["oauth_config"]["scopes"]["bot"] == list(SLACK_BOT_SCOPES)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]


def test_every_scope_says_what_it_is_for() -> None:
    assert set(SCOPE_PURPOSE) == {*SLACK_BOT_SCOPES, *SLACK_APP_SCOPES}
