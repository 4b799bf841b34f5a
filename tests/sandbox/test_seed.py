"""The simulated sandbox: every seeded resource's creator, owner and verdict, as the product finds
them through its real LookupService and patrol round (moto, the CloudTrail stand-in at the wire,
CloudWatch data, the sandbox's price list), plus its clock, regions and isolation."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.core import refs
from bot.core.answers import Reason
from bot.core.resources import EC2_INSTANCE
from bot.sandbox.fleet import BY_KEY
from bot.sandbox.seed import (
    AUDIT_CHANNEL,
    FALLBACK_CHANNEL,
    INSTALL_HINT,
    Sandbox,
    SandboxUnavailable,
    sandbox_now,
)
from bot.sandbox.slack_api import TOKEN, SlackApi
from bot.store import Store
from bot.wiring import Services, build, build_patrol


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def services(sandbox: Sandbox) -> Services:
    return build(
        sandbox.settings(),
        aws=sandbox.clients,
        clock=sandbox.clock,
        store=Store.in_memory(),
        with_app=False,
    )


@pytest.fixture(scope="module")
def slack(sandbox: Sandbox) -> Iterator[SlackApi]:
    with SlackApi() as api:
        for person in sandbox.people.values():
            if person.slack_user:
                api.add_user(
                    person.slack_user,
                    person.key,
                    real_name=person.real_name,
                    email=person.email,
                    tz=person.tz,
                )
        yield api


@pytest.fixture(scope="module")
def round_result(sandbox: Sandbox, slack: SlackApi) -> Any:
    """One patrol round with its own store (no cache from lookups), owners mapped to Slack."""
    services = build(
        sandbox.settings(),
        aws=sandbox.clients,
        clock=sandbox.clock,
        store=Store.in_memory(),
        with_app=False,
    )
    patrol, _ = build_patrol(services, WebClient(token=TOKEN, base_url=slack.url))
    return patrol.run()


def test_the_sandbox_holds_what_the_brief_asks_for(sandbox: Sandbox) -> None:
    made = sandbox.resources.values()
    assert {r.region for r in made} == {"eu-west-1", "us-east-1"}
    assert {r.tool for r in made} >= {
        "Terraform",
        "Console",
        "AWS CLI",
        "CloudFormation",
        "AWS service",
    }
    assert {r.via.split(" ")[0] for r in made if r.via} == {"Auto", "CloudFormation"}
    assert any(r.creator == "carol@example.com" for r in made)  # an SSO session
    assert [r.label for r in made if not r.found] == ["base-image"]
    assert {r.idle for r in made} == {True, False, None}  # idle, busy and not patrolled


@pytest.mark.parametrize(
    "label",
    [
        "web-old",
        "api-1",
        "bob-scratch",
        "carol-ci",
        "gpu-test",
        "web-asg",
        "web-asg-1",
        "web-asg-2",
        "shop-demo",
        "shop-web",
        "bob-old-data",
        "alice-eip",
        "etl-nat-ip",
        "etl-nat",
        "carol-reports",
        "base-image",
        "churn-model",
        "recs",
        "carol-research",
        "bob-scratchpad",
        "app-logs",
        "site-search",
        "sessions",
        "lookups",
        "analytics",
        "nightly-etl",
        "spark-jobs",
        "orders-archive",
        "events",
        "bob-old-backup",
        "bob-old-data-snap",
        "api-golden",
        "web-base",
    ],
)
def test_every_resource_has_the_creator_the_sandbox_says(
    sandbox: Sandbox, services: Services, label: str
) -> None:
    made = sandbox.resource(label)
    answer = services.lookups.lookup(refs.parse(made.reference))
    if not made.found:
        assert answer.fact is None and answer.reason is Reason.ONLY_MENTIONED
        assert answer.first_seen and answer.first_seen["name"] == "RunInstances"
        return
    assert answer.fact is not None, answer
    assert answer.fact.actor.name == made.creator
    assert answer.fact.tool == made.tool
    assert answer.fact.event_name == made.event
    assert answer.fact.region == made.region
    assert answer.fact.account == sandbox.account
    behind = answer.person_behind()
    if made.via is None:
        assert behind is None
        return
    # Launched for a group or stack: the answer names it, and who created it.
    assert behind is not None and behind.words == made.via
    assert behind.answer.fact is not None
    assert behind.answer.fact.actor.name == BY_KEY[str(made.owner)].aws_name
    if made.via.startswith("Auto Scaling group"):  # moto tags the group's instances
        assert answer.parent_tags == {"aws:autoscaling:groupName": "web-asg"}


def test_the_sso_session_is_named_by_its_email_and_role(
    sandbox: Sandbox, services: Services
) -> None:
    answer = services.lookups.lookup(refs.parse("s3://carol-reports"))
    assert answer.fact is not None
    actor = answer.fact.actor
    assert (actor.identity_type, actor.name) == ("AssumedRole", "carol@example.com")
    assert actor.role is not None and actor.role.startswith("AWSReservedSSO_PowerUserAccess_")


def test_the_round_finds_idle_what_the_sandbox_made_idle(
    sandbox: Sandbox, round_result: Any
) -> None:
    patrolled = {r.id: r for r in sandbox.resources.values() if r.idle is not None}
    found = {f.resource.id for f in round_result.findings}
    assert found == {rid for rid, r in patrolled.items() if r.idle}
    busy = {rid for rid, r in patrolled.items() if r.idle is False}
    assert busy and not busy & found
    summary = round_result.summary()
    assert summary["regions"] == ["eu-west-1", "us-east-1"]
    assert summary["not_judged"] == 0  # a week of metrics for everything that needs them
    assert summary["unpriced"] == 0  # the sandbox's price list covers its fleet


def test_the_round_names_each_owner_and_their_slack_user(
    sandbox: Sandbox, round_result: Any
) -> None:
    by_id = {r.id: r for r in sandbox.resources.values()}
    for finding in round_result.findings:
        made = by_id[finding.resource.id]
        person = sandbox.people[made.owner or ""]
        assert finding.owner.aws_name == person.aws_name, made.label
        assert finding.owner.slack_user == person.slack_user, made.label
        if made.via:  # Auto Scaling and CloudFormation: the parent's creator
            assert finding.owner.source.startswith("parent:"), made.label
    gpu = next(
        f for f in round_result.findings if f.resource.id == by_id_label(sandbox, "gpu-test")
    )
    assert gpu.owner.slack_user is None and "dave" in (gpu.owner.reason or "")


def by_id_label(sandbox: Sandbox, label: str) -> str:
    return sandbox.resource(label).id


def test_idle_and_busy_show_in_the_numbers(sandbox: Sandbox, round_result: Any) -> None:
    reasons = {f.resource.id: " ".join(f.verdict.reasons) for f in round_result.findings}
    assert "max CPU 0.5 %" in reasons[sandbox.resource("web-old").id]
    assert "0 B through the gateway" in reasons[sandbox.resource("etl-nat").id]
    assert "stopped for 9 days" in reasons[sandbox.resource("bob-scratch").id]
    assert "unattached, 100 GiB gp3" in reasons[sandbox.resource("bob-old-data").id]
    costs = {f.resource.id: f.cost.monthly_usd for f in round_result.findings}
    # g4dn.xlarge in us-east-1: $0.526/h × 730 h, plus its root volume
    assert costs[sandbox.resource("gpu-test").id] == pytest.approx(384.78, abs=0.01)


NEW_TYPES = {
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::NotebookInstance",
    "AWS::OpenSearchService::Domain",
    "AWS::ElastiCache::CacheCluster",
    "AWS::Redshift::Cluster",
    "AWS::EMR::Cluster",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Snapshot",
    "AWS::EC2::Image",
}


def test_every_new_patrol_type_is_in_the_sandbox_idle_and_not(sandbox: Sandbox) -> None:
    made = [r for r in sandbox.resources.values() if r.type in NEW_TYPES]
    assert {r.type for r in made if r.idle} == NEW_TYPES
    # One not idle of each too (a Redshift cluster is shown idle only).
    assert {r.type for r in made if r.idle is False} == NEW_TYPES - {"AWS::Redshift::Cluster"}


def test_the_new_types_show_their_numbers_owners_prices_and_buttons(
    sandbox: Sandbox, round_result: Any
) -> None:
    by_label = {f.resource.id: f for f in round_result.findings}

    def finding(label: str) -> Any:
        return by_label[sandbox.resource(label).id]

    assert finding("churn-model").verdict.reasons == ("0 invocations in 7 days",)
    assert finding("churn-model").actions == ("keep", "delete", "not_mine")
    # ml.m5.large hosting in eu-west-1: $0.128/h × 730 h
    assert finding("churn-model").cost.monthly_usd == 93.44
    notebook = finding("carol-research")
    assert notebook.verdict.reasons == (
        "in service for 9 days since it was last started or changed",
    )
    assert notebook.actions == ("keep", "stop", "not_mine") and notebook.owner.verified
    assert finding("app-logs").actions == ("keep", "not_mine")  # never deleted from here
    assert finding("sessions").verdict.reasons == ("0 get or set commands in 7 days",)
    analytics = finding("analytics")
    assert analytics.actions == ("keep", "pause", "delete", "not_mine")
    assert analytics.cost.monthly_usd == 1731.56  # 2 × ra3.xlplus at $1.186/h
    etl = finding("nightly-etl")
    assert etl.verdict.reasons == ("0 hours with work running in 7 days (IsIdle)",)
    assert etl.owner.slack_user is None and "dave" in (etl.owner.reason or "")
    table = finding("orders-archive")
    assert table.actions == ("keep", "on_demand", "not_mine")
    assert table.cost.monthly_usd == 16.1  # 50 RCU and 20 WCU past the free tier
    assert finding("bob-old-backup").actions == ("keep", "delete", "not_mine")
    assert "is gone" in finding("bob-old-backup").verdict.reasons[0]
    assert finding("api-golden").actions == ("keep", "deregister", "not_mine")


def test_the_clock_is_a_weekday_noon_days_after_the_fleet_was_made(sandbox: Sandbox) -> None:
    now = sandbox.now
    assert (now.weekday() < 5, now.hour, now.minute) == (True, 12, 0)
    ec2 = sandbox.session().client("ec2", region_name="eu-west-1")
    instance = ec2.describe_instances(InstanceIds=[sandbox.resource("web-old").id])
    launched = instance["Reservations"][0]["Instances"][0]["LaunchTime"]
    assert timedelta(days=9) <= now - launched < timedelta(days=12)
    assert sandbox.trail is not None and sandbox.trail.clock() == now


def test_sandbox_now_skips_the_weekend() -> None:
    friday_evening = sandbox_now_input("2026-03-06T18:00:00+00:00")  # a Friday
    assert sandbox_now(friday_evening, days=0).isoformat() == "2026-03-09T12:00:00+00:00"
    monday_morning = sandbox_now_input("2026-03-02T08:00:00+00:00")
    assert sandbox_now(monday_morning, days=0).isoformat() == "2026-03-02T12:00:00+00:00"


def sandbox_now_input(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_regions_and_prices_are_answered_for_the_sandbox(sandbox: Sandbox) -> None:
    assert sandbox.clients is not None
    regions = sandbox.clients("ec2", "eu-west-1").describe_regions()["Regions"]
    assert [r["RegionName"] for r in regions] == ["eu-west-1", "us-east-1"]
    pricing = sandbox.clients("pricing", "us-east-1")
    products = pricing.get_products(
        ServiceCode="AmazonEC2",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "t3.medium"},
        ],
    )["PriceList"]
    assert len(products) == 1 and '"USD": "0.0456000000"' in products[0]
    assert sandbox.clients.calls["api.pricing:GetProducts"] >= 1  # counted like any AWS call


def test_settings_are_the_sandboxs_own(sandbox: Sandbox) -> None:
    settings = sandbox.settings()
    assert settings.aws_region == "eu-west-1" and settings.policy_path is None
    assert settings.slack_bot_token is None and settings.database_url == "sqlite://"
    assert settings.policy.regions == ("eu-west-1", "us-east-1")
    assert not settings.policy.actions.enabled  # dry run
    assert settings.policy.slack.fallback_channel == FALLBACK_CHANNEL
    assert settings.policy.slack.audit_channel == AUDIT_CHANNEL
    assert settings.directory.users["sso:carol@example.com"] == "U0CAROL001"  # an SSO session
    assert settings.directory.users["alice"] == "U0ALICE001"  # an IAM user
    assert "dave" not in settings.directory.users


def test_a_hostile_environment_is_shut_out_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nonexistent")
    monkeypatch.setenv("AWS_REGION", "mars-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with Sandbox(regions=("us-east-1",), instances=5) as box:
        assert "AWS_PROFILE" not in os.environ and "AWS_ENDPOINT_URL" not in os.environ
        fleet = [r for r in box.resources.values() if r.label.startswith("fleet-")]
        assert len(fleet) == 5 and {r.type for r in fleet} == {EC2_INSTANCE}
        assert [r.idle for r in fleet] == [True, False, True, False, True]
        assert {r.region for r in box.resources.values()} == {"us-east-1"}
        services = build(
            box.settings(), aws=box.clients, clock=box.clock, store=Store.in_memory(),
            with_app=False,
        )  # fmt: skip
        answer = services.lookups.lookup(refs.parse(fleet[1].reference))
        assert answer.fact is not None and answer.fact.actor.name == fleet[1].creator
    assert os.environ["AWS_PROFILE"] == "nonexistent"
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"


def test_without_moto_the_sandbox_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # import moto → ImportError
    with pytest.raises(SandboxUnavailable) as raised, Sandbox():
        pass
    assert INSTALL_HINT in str(raised.value)
