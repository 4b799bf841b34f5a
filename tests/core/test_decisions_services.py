"""The words of the new buttons: what Pause, Switch to on-demand, Deregister and the new types'
Delete and Stop say they will do, and which of them can be undone."""

from __future__ import annotations

from bot.core.decisions import Action, confirmation, describe
from bot.core.policy import Actions
from bot.core.resources import Resource
from bot.registry.patrol import PATROL

ENABLED = Actions(mode="enabled")
REGION = "eu-west-1"


def res(kind: str, resource_id: str, **details: object) -> Resource:
    return Resource(kind, resource_id, REGION, "123456789012", details=details)


def test_pause_and_on_demand_say_what_stays_and_can_be_undone() -> None:
    cluster = res("AWS::Redshift::Cluster", "analytics")
    assert describe(Action.PAUSE, cluster, ENABLED, PATROL) == (
        f"pause the Redshift cluster analytics in {REGION}; its storage stays (and still costs) "
        "and it can be resumed"
    )
    table = res("AWS::DynamoDB::Table", "orders")
    assert describe(Action.ON_DEMAND, table, ENABLED, PATROL).startswith(
        f"switch the DynamoDB table orders in {REGION} to on-demand capacity: billed per request"
    )
    for action, resource in ((Action.PAUSE, cluster), (Action.ON_DEMAND, table)):
        words = confirmation(action, resource, ENABLED, PATROL)
        assert "cannot be undone" not in words.text
    assert confirmation(Action.ON_DEMAND, table, ENABLED, PATROL).confirm == (
        "Yes, switch to on-demand"
    )


def test_deregister_and_deletes_say_what_is_kept_and_what_is_lost() -> None:
    image = res("AWS::EC2::Image", "ami-0abc", snapshots=[{"id": "s1"}, {"id": "s2"}])
    words = confirmation(Action.DEREGISTER, image, ENABLED, PATROL)
    assert words.text == (
        f"Deregister the AMI ami-0abc in {REGION}; its 2 snapshots stay (and still cost): delete "
        "them when no longer needed. This cannot be undone."
    )
    endpoint = res("AWS::SageMaker::Endpoint", "churn-model")
    assert describe(Action.DELETE, endpoint, ENABLED, PATROL).endswith(
        "; its endpoint configuration and model stay, so it can be made again"
    )
    memcached = res(
        "AWS::ElastiCache::CacheCluster", "lookups", family="memcached", engine="memcached"
    )
    assert describe(Action.DELETE, memcached, ENABLED, PATROL).endswith(
        " (memcached keeps no snapshot: its data goes with it)"
    )
    redis = res("AWS::ElastiCache::CacheCluster", "sessions", family="redis", engine="redis")
    assert describe(Action.DELETE, redis, ENABLED, PATROL).endswith(" after a final snapshot")
    assert describe(Action.DELETE, redis, Actions(snapshot_before_delete=False), PATROL).endswith(
        " without a final snapshot (snapshots are off)"
    )
