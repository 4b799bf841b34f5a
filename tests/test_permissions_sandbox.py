"""Every AWS call a lookup and a patrol round make, in the simulated sandbox, is in the permissions
table for its feature: a new call without its permission in the table fails here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import refs
from bot.permissions import IAM, Feature
from bot.sandbox.seed import Sandbox
from bot.store import Store
from bot.wiring import build, build_patrol
from tests.permission_calls import iam_name


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def test_every_call_of_a_lookup_is_a_lookups_permission(sandbox: Sandbox) -> None:
    assert sandbox.clients is not None
    services = build(
        sandbox.settings(),
        aws=sandbox.clients,
        clock=sandbox.clock,
        store=Store.in_memory(),
        with_app=False,
    )
    sandbox.clients.calls.clear()
    for made in sandbox.resources.values():
        services.lookups.lookup(refs.parse(made.reference))
    called = {iam_name(call) for call in sandbox.clients.calls}
    assert "cloudtrail:LookupEvents" in called
    assert called - set(IAM[Feature.LOOKUPS]) == set()


def test_every_call_of_a_patrol_round_is_a_patrol_or_tags_permission(sandbox: Sandbox) -> None:
    assert sandbox.clients is not None
    services = build(
        sandbox.settings(),
        aws=sandbox.clients,
        clock=sandbox.clock,
        store=Store.in_memory(),
        with_app=False,
    )
    patrol, _ = build_patrol(services)
    sandbox.clients.calls.clear()
    result = patrol.run()
    assert result.findings
    called = {iam_name(call) for call in sandbox.clients.calls}
    assert {"cloudwatch:GetMetricData", "pricing:GetProducts", "ec2:DescribeAddresses"} <= called
    assert called - set(IAM[Feature.PATROL]) - set(IAM[Feature.TAGS]) == set()
