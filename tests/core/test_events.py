"""bot.core.events against real CloudTrail records (tests/fixtures/cloudtrail, see its README)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bot.core import events, refs
from bot.core.events import (
    CREATION_EVENTS,
    actor_of,
    created_ids,
    creation_event_names,
    creation_fact,
    event_time,
    is_failed,
    is_read_only,
    referenced_ids,
    summary,
    tool_of,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cloudtrail"
SHARED = Path(__file__).parents[2] / ".." / "shared" / "cloudtrail"
SHARED_FILES = (
    "source_invictus_aws_dataset.json",
    "source_stratus_detonation_logs.json",
    "source_cloud_custodian_test_events.json",
    "source_awsdocs_examples.json",
)

Record = dict[str, Any]


@cache
def _slice(name: str) -> tuple[Record, ...]:
    return tuple(json.loads((FIXTURES / f"{name}_slice.json").read_text()))


def record(name: str, event_id: str | None = None, **match: str) -> Record:
    """The one record of a slice with this eventID (and eventName / identity type, if given)."""
    found = [
        r
        for r in _slice(name)
        if (event_id is None or r.get("eventID") == event_id)
        and all(
            (r.get("userIdentity") or {}).get("type") == value
            if key == "identity"
            else r.get(key) == value
            for key, value in match.items()
        )
    ]
    assert len(found) == 1, f"{name}: {len(found)} records for {event_id} {match}"
    return copy.deepcopy(found[0])  # tests must not share mutations


def invictus(event_id: str) -> Record:
    return record("invictus", event_id)


RUN_INSTANCES = "86eac0ac-8521-4126-aa32-a22f2b74d02e"  # i-0dbc91f429e48eeed, by Terraform
RDS_SLR_ENI = (
    "75f05727-9451-4593-9dd2-921cb841f2c3"  # CreateNetworkInterface by AWSServiceRoleForRDS
)
CREATE_DB_INSTANCE = "fdc74c82-c299-4211-a08e-b5f125ee3b58"
CREATE_NAT_GATEWAY = "dbb3b16e-549e-48bc-bfa6-9ca4c2845e43"  # XML-shaped record
CREATE_FUNCTION = "2e15203f-d196-441a-adeb-794b195b4a28"


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def test_the_table_covers_at_least_forty_creation_events() -> None:
    assert len(CREATION_EVENTS) >= 40
    sources = {source for source, _ in CREATION_EVENTS}
    for service in ("ec2", "elasticloadbalancing", "rds", "lambda", "s3", "eks", "ecs", "iam"):
        assert f"{service}.amazonaws.com" in sources


def test_every_rule_reads_from_the_request_or_the_response_and_names_a_type() -> None:
    for key, rules in CREATION_EVENTS.items():
        assert rules, key
        types = [rule.type for rule in rules]
        assert len(types) == len(set(types)), f"duplicate row for {key}"
        for rule in rules:
            assert rule.type.startswith("AWS::") and rule.type.count("::") == 2, key
            assert rule.paths, key
            for path in rule.paths:
                assert path.split(".", 1)[0] in ("responseElements", "requestParameters"), key


def test_every_type_the_reference_parser_knows_has_a_creation_event() -> None:
    known = set(refs.ID_PREFIXES.values()) | set(refs.ARN_TYPES.values())
    known.discard("AWS::EC2::Reservation")  # a reservation is a by-product of RunInstances
    assert [rtype for rtype in sorted(known) if not creation_event_names(rtype)] == []


@pytest.mark.parametrize(
    ("rtype", "expected"),
    [
        ("AWS::EC2::Instance", {("ec2.amazonaws.com", "RunInstances")}),
        (
            "AWS::EC2::Snapshot",
            {
                ("ec2.amazonaws.com", "CreateSnapshot"),
                ("ec2.amazonaws.com", "CreateSnapshots"),
                ("ec2.amazonaws.com", "CopySnapshot"),
                ("ebs.amazonaws.com", "StartSnapshot"),
            },
        ),
        ("AWS::Lambda::Function", {("lambda.amazonaws.com", "CreateFunction20150331")}),
        (
            "AWS::ElasticLoadBalancing::LoadBalancer",
            {("elasticloadbalancing.amazonaws.com", "CreateLoadBalancer")},
        ),
        (
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            {("elasticloadbalancing.amazonaws.com", "CreateLoadBalancer")},
        ),
        ("AWS::EKS::Cluster", {("eks.amazonaws.com", "CreateCluster")}),
        ("AWS::ECS::Cluster", {("ecs.amazonaws.com", "CreateCluster")}),
        ("AWS::No::Such", set()),
    ],
)
def test_creation_event_names_by_type(rtype: str, expected: set[tuple[str, str]]) -> None:
    assert set(creation_event_names(rtype)) == expected


def test_creation_event_names_without_a_type_lists_every_event_once() -> None:
    names = creation_event_names(None)
    assert names == tuple(CREATION_EVENTS)
    assert len(names) == len(set(names))
    assert ("rds.amazonaws.com", "RestoreDBInstanceFromDBSnapshot") in names


# ---------------------------------------------------------------------------------------------
# What each creation event in the sources created
# ---------------------------------------------------------------------------------------------

# eventID → exactly what created_ids must return, for one record of every kind of creation event
# in the four shared files (and a few more).
INVICTUS_CREATED = {
    "a4ff516f-8f9a-4c36-9700-b31a883c1a6e": ("eipalloc-08a083beb7e83dbc0",),
    "f5e4b2d3-a4a2-4a78-b81f-9036f12b623e": ("vpc-06fe1a64761a0f720",),
    "078ad2dc-a2bf-46ee-90dc-f524fb5fe1f1": (
        "subnet-01ed430875cff578d",
        "arn:aws:ec2:us-east-1:123837392027:subnet/subnet-01ed430875cff578d",
    ),
    "dc024e51-15e4-4829-a971-7e17d4be43be": ("rtb-0c7c2f4aff3677054",),
    "16034e79-0235-4886-9566-19d4a4ca1d72": ("eni-076fa9fb98a2500a7",),
    "30f9bf7b-a5dd-4661-8c97-d288ef5680a1": (
        "arn:aws:secretsmanager:us-east-1:123837392027:secret:stratus-red-team-retrieve-secret-0-xehWok",
        "stratus-red-team-retrieve-secret-0",
    ),
    "ff709962-49b6-494d-8198-cdf0f7e8e666": (
        "arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role",
        "stratus-red-team-ec2-get-password-data-role",
    ),
    "96347fdd-6466-41af-8d6c-df066e2a1a20": (
        "arn:aws:iam::123837392027:instance-profile/stratus-red-team-ec2-steal-credentials-instance",
        "stratus-red-team-ec2-steal-credentials-instance",
    ),
    CREATE_NAT_GATEWAY: ("nat-03575abbac42080d9",),
    "e40431f7-07bc-4d9a-a5cb-07e28107babb": ("igw-02a84e4222d62e16b",),
    RUN_INSTANCES: ("i-0dbc91f429e48eeed",),
    "8c9d5d59-f65e-4d38-a71b-6d712487cd91": ("i-05c30218156bcc246",),
    "68c99c97-c191-4329-b210-82ca8631066d": ("stratus-red-team-ctlr-bucket-zqfsvooxqj",),
    "3a1acb39-c13b-4e73-a0e3-dcd8ce5c1a3a": (
        "arn:aws:cloudtrail:us-east-1:123837392027:trail/stratus-red-team-ctlr-trail-zqfsvooxqj",
        "stratus-red-team-ctlr-trail-zqfsvooxqj",
    ),
    "a3fbe842-f8df-4bb3-accf-1407cc925cbd": ("fl-064ed3a785e4a37ef",),
    "a46276b9-dd85-4736-b9df-6210c69aa8e7": ("/stratus-red-team/vpc-flow-logs",),
    "19373fa4-d15d-4c49-9e19-f19faa16e2ca": (
        "arn:aws:iam::123837392027:policy/stratus-red-team-ec2lui-policy-pcccexdthk",
        "stratus-red-team-ec2lui-policy-pcccexdthk",
    ),
    "9eede385-5c6d-405e-9dda-fd10950e9069": ("snap-083d3b857c13988bc",),
    "fa0d7aad-7d72-46c4-a0cf-230834779e81": ("ami-0aa1d83d0b0985c86",),
    "7475937c-a863-44ce-9878-81e8a268e966": ("sg-04cfb7a4712d75b00",),
    "396f94bc-78ec-4b64-917d-aadc2260c81d": ("vol-0a2e548958718390d",),
    "726b9d86-35ea-49a3-b87a-2c44f9b5ddad": (
        "arn:aws:rds:us-east-1:123837392027:subgrp:stratus-red-team-share-snap-vpc",
        "stratus-red-team-share-snap-vpc",
    ),
    CREATE_DB_INSTANCE: (
        "arn:aws:rds:us-east-1:123837392027:db:terraform-20230710121504061500000001",
        "terraform-20230710121504061500000001",
    ),
    "0516b66a-77ec-4479-a82d-0cda54d3fc5d": (
        "arn:aws:rds:us-east-1:123837392027:snapshot:exfiltration",
        "exfiltration",
    ),
    "2950830a-24ae-4565-bfab-74d3be4ad0d0": (
        "arn:aws:rolesanywhere:us-east-1:123837392027:trust-anchor/49e25ec3-bdfe-4150-8683-b4ea4ee85cfd",
        "49e25ec3-bdfe-4150-8683-b4ea4ee85cfd",
    ),
    "66d008e1-12cf-4a45-99e7-0be67fc70d71": (
        "arn:aws:iam::123837392027:user/stratus-red-team-nmfalu-gfjyeaypjt",
        "stratus-red-team-nmfalu-gfjyeaypjt",
    ),
    "64b7de64-bf53-47ae-b7e3-d30cb1b5136e": ("AKIATFQR7NSC3ZO6PKAZ",),
    CREATE_FUNCTION: (
        "arn:aws:lambda:us-east-1:123837392027:function:stratus-red-team-backdoor-f-func",
        "stratus-red-team-backdoor-f-func",
    ),
    "782bc4f5-53eb-4072-ac09-070425df6eef": (
        "arn:aws:rolesanywhere:us-east-1:123837392027:profile/ac4e09d1-a150-4924-bb76-23b00fa7c34a",
        "ac4e09d1-a150-4924-bb76-23b00fa7c34a",
    ),
    RDS_SLR_ENI: ("eni-0938d805949b4e134",),
}


@pytest.mark.parametrize(("event_id", "expected"), INVICTUS_CREATED.items())
def test_invictus_creation_events_yield_exactly_what_they_created(
    event_id: str, expected: tuple[str, ...]
) -> None:
    assert created_ids(invictus(event_id)) == expected


@pytest.mark.parametrize(
    ("name", "event_id", "match", "expected"),
    [
        (
            "stratus",
            "c64c4ded-ef03-4e5c-81eb-153b118d72f2",
            {},
            ("AKIAL80DWDVKKM0UXEER",),
        ),
        (
            "stratus",
            "3346344c-5a3e-429e-8405-420f98f75d6e",
            {},
            ("arn:aws:iam::229654561268:user/malicious-iam-user", "malicious-iam-user"),
        ),
        (
            "stratus",
            "d2905ac3-9898-433f-b10d-9302abe4e208",
            {},
            (
                "arn:aws:iam::609418236337:role/stratus-red-team-malicious-iam-role",
                "stratus-red-team-malicious-iam-role",
            ),
        ),
        (
            "stratus",
            "aebbe7b5-7cfb-4b00-a30c-48078fedffd8",
            {},
            (
                "arn:aws:rolesanywhere:cn-northsouth-3r:791182566784:profile/910042eb-8463-427d-8095-6fd60ac303d9",
                "910042eb-8463-427d-8095-6fd60ac303d9",
            ),
        ),
        (
            "cloud_custodian",
            "c4fa3db1-2303-40e4-bde0-3b7246bdbf0b",
            {},
            ("custodian-create-bucket-v4",),
        ),
        ("cloud_custodian", "bf3b3e3a-07f5-452a-a76d-991b839ef854", {}, ("onenessdb",)),
        (
            "cloud_custodian",
            "a1474634-7457-45e1-bc0f-d47e7ad72f79",
            {},
            ("arn:aws:cloudfront::012345678912:distribution/E53370FUHBNLK", "E53370FUHBNLK"),
        ),
        (
            "cloud_custodian",
            "ffeeb98c-2a0b-4e5d-bdf4-8e9909ca5763",
            {},
            ("fsmt-0fcbb40c868d404e8",),
        ),
        ("cloud_custodian", "59e2b117-e1dd-466b-a6f3-5c027f0af0f2", {}, ("vol-97c02b3e",)),
        (
            "cloud_custodian",
            "6589a9eb-59b7-4895-b7ab-962ed3cc257c",
            {"identity": "AssumedRole"},
            ("i-0f7c711dc84bedda0",),
        ),
        (
            "cloud_custodian",
            "6da8b953-741f-4273-be3f-289b92b4d1fc",
            {},
            ("i-784cdacd", "i-7b4cdace"),  # one RunInstances, two instances
        ),
        ("cloud_custodian", "80486b96-9f31-441e-b4e2-b85a4e520a07", {}, ("cwe-test",)),
        ("awsdocs", None, {"eventName": "CreateKeyPair"}, ("mykeypair",)),
        (
            "awsdocs",
            None,
            {"eventName": "CreateUser"},
            ("arn:aws:iam::123456789012:user/Bob", "Bob"),
        ),
        (
            "awsdocs",
            "797163d3-5726-441d-80a7-6eeb7464acd4",
            {},
            ("arn:aws:rds:us-east-1:123456789012:db:test-instance", "test-instance"),
        ),
        (
            "awsdocs",
            "eab22523-174a-499c-9dd6-91e7be3ff8e3",  # EKS; the guide's {arn-aws} placeholder
            {},
            ("{arn-aws}eks:region-code:111122223333:cluster/test", "test"),
        ),
        ("awsdocs", "6e12345-2a4e-417c-aa78-7594fEXAMPLE", {}, ("snap-123456789012",)),
        (
            "awsdocs",
            "29158945-28da-4e32-88e1-56d1b90c1a0c",  # DAX CreateCluster, not EKS or ECS
            {},
            ("arn:aws:dax:us-west-2:111122223333:cache/daxcluster", "daxcluster"),
        ),
        (
            "awsdocs",
            "0987g654-32f1-09e8-d765-c4f3fb2109fa",
            {},
            ("https://sqs.us-east-2.amazon.com/123456789012/MyQueue", "MyQueue"),
        ),
        (
            "awsdocs",
            "3fcfb182-98f8-4744-bd45-b38835ab61cb",
            {},
            ("launch_configuration_1",),
        ),
        (
            "awsdocs",
            "e3c6f4ce-EXAMPLE",  # ECS CreateCluster
            {},
            ("arn:aws:ecs:us-east-1:123456789012:cluster/default", "default"),
        ),
    ],
)
def test_creation_events_in_the_other_sources(
    name: str, event_id: str | None, match: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert created_ids(record(name, event_id, **match)) == expected


def test_every_creation_record_in_the_slices_is_listed_above() -> None:
    # A new row in the table that starts matching fixture records must come with expectations.
    creating = [r.get("eventID") for r in _slice("invictus") if created_ids(r)]
    assert sorted(creating) == sorted(INVICTUS_CREATED)


def test_run_instances_creates_the_instance_not_what_it_used() -> None:
    run = invictus(RUN_INSTANCES)
    created = created_ids(run)
    mentioned = referenced_ids(run)
    for used in (
        "ami-029eb80bc237bec6f",
        "subnet-0ed352584ab4aa265",
        "sg-0b233157065b7d5e2",
        "eni-076fa9fb98a2500a7",
        "vpc-06fe1a64761a0f720",
    ):
        assert used in mentioned
        assert used not in created


def test_create_access_key_does_not_claim_the_user_it_belongs_to() -> None:
    key = invictus("64b7de64-bf53-47ae-b7e3-d30cb1b5136e")
    assert "stratus-red-team-backdoor-u-user" not in created_ids(key)
    assert "stratus-red-team-backdoor-u-user" in referenced_ids(key)


def test_xml_shaped_records_are_read_like_json_shaped_ones() -> None:
    nat = invictus(CREATE_NAT_GATEWAY)
    assert "CreateNatGatewayResponse" in nat["responseElements"]
    assert created_ids(nat) == ("nat-03575abbac42080d9",)
    assert referenced_ids(nat)[:2] == ("eipalloc-08a083beb7e83dbc0", "subnet-01ed430875cff578d")


def test_elb_v1_and_v2_share_an_event_name_but_not_a_shape() -> None:
    base = {
        "eventSource": "elasticloadbalancing.amazonaws.com",
        "eventName": "CreateLoadBalancer",
        "eventTime": "2024-05-01T10:00:00Z",
    }
    # Shapes as the ELB APIs return them; no such records are in the shared sources.
    v1 = {**base, "requestParameters": {"loadBalancerName": "web"}, "responseElements": {}}
    arn = (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    )
    v2 = {
        **base,
        "requestParameters": {"name": "web", "type": "application"},
        "responseElements": {
            "loadBalancers": [{"loadBalancerArn": arn, "loadBalancerName": "web"}]
        },
    }
    assert created_ids(v1) == ("web",)
    assert created_ids(v2) == (arn, "web")


def test_lambda_event_names_match_whatever_api_version_they_carry() -> None:
    function = invictus(CREATE_FUNCTION)
    function["eventName"] = "CreateFunction20150331v2"
    assert created_ids(function)[1] == "stratus-red-team-backdoor-f-func"


def test_same_event_name_in_another_service_reads_that_service() -> None:
    ecs = record("awsdocs", "e3c6f4ce-EXAMPLE")
    assert ecs["eventName"] == "CreateCluster"
    ecs["eventSource"] = "cloudhsm.amazonaws.com"  # CreateCluster too, but not in the table
    assert created_ids(ecs) == ()


# ---------------------------------------------------------------------------------------------
# Failed, read-only and non-creating events create nothing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "event_id"),
    [
        ("invictus", "4a131b73-a4cd-44ce-8757-e3ad55c22e43"),  # RunInstances, InvalidParameterValue
        ("invictus", "456eabea-fbb5-4e3f-a461-0fde7dfc8a16"),  # CreateVpc, VpcLimitExceeded
        ("invictus", "2b7c36ee-1525-45a4-b58a-dc1a828d2c7f"),  # CreateFunction20150331
        ("stratus", "1a4debbb-12e9-4bde-b8c7-ea29002bb2a7"),  # RunInstances, UnauthorizedOperation
    ],
)
def test_failed_creation_calls_create_nothing(name: str, event_id: str) -> None:
    failed = record(name, event_id)
    assert is_failed(failed)
    assert (failed["eventSource"], failed["eventName"]) in CREATION_EVENTS
    assert created_ids(failed) == ()
    assert creation_fact(failed, referenced_ids(failed)) is None


def test_a_creation_record_stops_counting_once_it_carries_an_error() -> None:
    run = invictus(RUN_INSTANCES)
    run["errorCode"] = "Client.InsufficientInstanceCapacity"
    assert created_ids(run) == ()
    assert creation_fact(run, ["i-0dbc91f429e48eeed"]) is None


@pytest.mark.parametrize(
    "event_id",
    [
        "6445452c-c6df-4ebf-a1ed-2890f5aa7107",  # CreateRoute: a route is no resource of its own
        "166db627-7c52-4552-ac56-5aad1d09bde8",  # CreateTags on an AMI
        "f0d7bb15-75c8-4770-a500-92d1f71b948c",  # CreateLoginProfile for an existing user
        "6c1eed73-00ee-4810-8009-c9ce5990c100",  # PutRolePolicy
        "99b46479-d5c7-4384-b342-006ece8c36a0",  # SendCommand to i-0dbc91f429e48eeed
    ],
)
def test_events_that_only_use_resources_create_nothing(event_id: str) -> None:
    used = invictus(event_id)
    assert not is_failed(used)
    assert not is_read_only(used)
    assert created_ids(used) == ()
    assert referenced_ids(used)


def test_read_only_events_create_nothing_but_mention() -> None:
    describe = invictus("f5e30609-5aa4-4a95-9454-31e4f60dfe9b")
    assert describe["readOnly"] is True
    assert is_read_only(describe)
    assert referenced_ids(describe) == ("i-0dbc91f429e48eeed",)
    assert creation_fact(describe, ["i-0dbc91f429e48eeed"]) is None


def test_read_only_flag_wins_over_the_name_and_the_name_decides_when_it_is_absent() -> None:
    describe = record("awsdocs", "a58572a8-e81b-4100-8e00-1797ed19d172")  # DescribeCacheClusters
    assert "readOnly" not in describe
    assert is_read_only(describe)
    assert not is_read_only(record("awsdocs", None, eventName="CreateKeyPair"))
    run = invictus(RUN_INSTANCES)
    run["readOnly"] = True
    assert is_read_only(run)
    assert created_ids(run) == ()
    get = {"eventName": "GetObject", "readOnly": False}
    assert not is_read_only(get)
    assert is_read_only({"eventName": "ListBuckets", "readOnly": "true"})


# ---------------------------------------------------------------------------------------------
# referenced_ids
# ---------------------------------------------------------------------------------------------


def test_referenced_ids_are_deduplicated_in_first_seen_order() -> None:
    assert referenced_ids(invictus(RUN_INSTANCES)) == (
        "ami-029eb80bc237bec6f",
        "eni-076fa9fb98a2500a7",
        "r-0ac0088de73525c3c",
        "i-0dbc91f429e48eeed",
        "subnet-0ed352584ab4aa265",
        "vpc-06fe1a64761a0f720",
        "sg-0b233157065b7d5e2",
        "eni-attach-00cac81742e39b87a",
        "arn:aws:iam::123837392027:instance-profile/stratus-red-team-ec2-steal-credentials-instance",
    )


def test_referenced_ids_include_names_and_arns() -> None:
    db = referenced_ids(invictus(CREATE_DB_INSTANCE))
    assert db[:3] == (
        "terraform-20230710121504061500000001",
        "stratus-red-team-share-snap-vpc",  # the DB subnet group, by name
        "arn:aws:rds:us-east-1:123837392027:db:terraform-20230710121504061500000001",
    )
    assert "subnet-0c8a70cf4fd24084f" in db
    flow = referenced_ids(invictus("a3fbe842-f8df-4bb3-accf-1407cc925cbd"))
    assert "arn:aws:iam::123837392027:role/stratus-red-team-remove-flow-logs-role" in flow
    assert "fl-064ed3a785e4a37ef" in flow


def test_referenced_ids_read_the_resources_list() -> None:
    rotate = record("awsdocs", "234f004b-EXAMPLE")  # KMS RotateKey: null request and response
    assert referenced_ids(rotate) == ("arn:aws:kms:us-east-2:123456789012:key/7944f0ec-EXAMPLE",)


def test_referenced_ids_skip_request_ids_tokens_and_redacted_values() -> None:
    mentioned = referenced_ids(invictus(RUN_INSTANCES))
    assert "95b435ce-68af-4a4b-b89c-f653d8946ebc" not in mentioned  # requestId
    assert "D37569A7-CF2F-4BD3-8DDE-F17AB408204D" not in mentioned  # clientToken
    hidden = {"requestParameters": {"userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}}
    assert referenced_ids(hidden) == ()


# ---------------------------------------------------------------------------------------------
# creation_fact
# ---------------------------------------------------------------------------------------------


def test_run_instances_fact_names_bert_jan_and_terraform() -> None:
    fact = creation_fact(invictus(RUN_INSTANCES), ["i-0dbc91f429e48eeed"])
    assert fact is not None
    assert fact.resource_id == "i-0dbc91f429e48eeed"
    assert fact.created == ("i-0dbc91f429e48eeed",)
    assert fact.actor.name == "bert-jan"
    assert fact.actor.identity_type == "IAMUser"
    assert fact.actor.arn == "arn:aws:iam::123837392027:user/bert-jan"
    assert fact.tool == "Terraform"
    assert fact.event_name == "RunInstances"
    assert fact.event_source == "ec2.amazonaws.com"
    assert fact.event_time == datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC)
    assert fact.event_time.utcoffset() is not None
    assert fact.region == "us-east-1"
    assert fact.event_id == RUN_INSTANCES
    assert fact.source_ip == "192.168.10.20"
    assert fact.user_agent is not None and fact.user_agent.startswith("APN/1.0 HashiCorp/1.0")
    assert fact.account == "123837392027"
    assert "i-0dbc91f429e48eeed" not in fact.related
    assert "ami-029eb80bc237bec6f" in fact.related
    assert fact.record["eventID"] == RUN_INSTANCES


@pytest.mark.parametrize(
    "used", ["ami-029eb80bc237bec6f", "subnet-0ed352584ab4aa265", "sg-0b233157065b7d5e2"]
)
def test_resources_a_creation_event_only_used_get_no_fact(used: str) -> None:
    assert creation_fact(invictus(RUN_INSTANCES), [used]) is None


def test_ec2_ids_match_whatever_their_case() -> None:
    fact = creation_fact(invictus(RUN_INSTANCES), ["I-0DBC91F429E48EEED"])
    assert fact is not None
    assert fact.resource_id == "i-0dbc91f429e48eeed"


def test_a_lone_string_is_one_name_not_its_characters() -> None:
    fact = creation_fact(invictus(RUN_INSTANCES), "i-0dbc91f429e48eeed")  # type: ignore[arg-type]
    assert fact is not None
    assert creation_fact(invictus(RUN_INSTANCES), "i") is None  # type: ignore[arg-type]


def test_rds_identifiers_match_in_any_case_other_names_exactly() -> None:
    db = invictus(CREATE_DB_INSTANCE)
    upper = creation_fact(db, ["Terraform-20230710121504061500000001"])
    assert upper is not None
    assert upper.resource_id == "terraform-20230710121504061500000001"
    assert upper.related[0] != "terraform-20230710121504061500000001"
    custodian = creation_fact(
        record("cloud_custodian", "bf3b3e3a-07f5-452a-a76d-991b839ef854"), ["OnenessDB"]
    )
    assert custodian is not None and custodian.resource_id == "onenessdb"
    function = invictus(CREATE_FUNCTION)
    assert creation_fact(function, ["Stratus-Red-Team-Backdoor-F-Func"]) is None
    assert creation_fact(function, ["stratus-red-team-backdoor-f-func"]) is not None


def test_an_arn_matches_the_created_arn() -> None:
    arn = "arn:aws:lambda:us-east-1:123837392027:function:stratus-red-team-backdoor-f-func"
    fact = creation_fact(invictus(CREATE_FUNCTION), [arn])
    assert fact is not None
    assert fact.resource_id == arn
    assert fact.related[0] == "stratus-red-team-backdoor-f-func"


def test_search_names_from_the_reference_parser_find_the_creation() -> None:
    ref = refs.parse("arn:aws:rds:us-east-1:123837392027:db:terraform-20230710121504061500000001")
    fact = creation_fact(invictus(CREATE_DB_INSTANCE), ref.search_names)
    assert fact is not None
    assert fact.resource_id == ref.arn  # the most specific name wins
    bucket = refs.parse("s3://stratus-red-team-ctlr-bucket-zqfsvooxqj")
    assert creation_fact(invictus("68c99c97-c191-4329-b210-82ca8631066d"), bucket.search_names)


def test_service_linked_role_creation_names_the_service() -> None:
    fact = creation_fact(invictus(RDS_SLR_ENI), ["eni-0938d805949b4e134"])
    assert fact is not None
    assert fact.actor.name == "rds.amazonaws.com"
    assert fact.actor.role == "AWSServiceRoleForRDS"
    assert fact.actor.invoked_by == "rds.amazonaws.com"
    assert fact.tool == "AWS service"


def test_cloudformation_creation_through_an_assumed_role() -> None:
    db = record("cloud_custodian", "bf3b3e3a-07f5-452a-a76d-991b839ef854")
    fact = creation_fact(db, ["onenessdb"])
    assert fact is not None
    assert fact.tool == "CloudFormation"
    assert fact.actor.name == "userid"
    assert fact.actor.role == "DeveloperRole"


def test_account_falls_back_to_the_callers_account() -> None:
    queue = record("awsdocs", "0987g654-32f1-09e8-d765-c4f3fb2109fa")
    assert "recipientAccountId" not in queue
    fact = creation_fact(queue, ["MyQueue"])
    assert fact is not None
    assert fact.account == "123456789012"
    assert fact.tool == "Console"


def test_no_fact_without_a_time() -> None:
    run = invictus(RUN_INSTANCES)
    run["eventTime"] = "not a time"
    assert created_ids(run) == ("i-0dbc91f429e48eeed",)
    assert creation_fact(run, ["i-0dbc91f429e48eeed"]) is None


# ---------------------------------------------------------------------------------------------
# actor_of: DESIGN.md §3 creator.name, one identity type at a time
# ---------------------------------------------------------------------------------------------


def test_iam_user_is_named_by_user_name() -> None:
    actor = actor_of(invictus(RUN_INSTANCES))
    assert actor.identity_type == "IAMUser"
    assert actor.name == "bert-jan"
    assert actor.account == "123837392027"
    assert actor.role is None
    assert actor.invoked_by is None


def test_iam_user_without_user_name_falls_back_to_the_arn() -> None:
    robot = actor_of(record("cloud_custodian", "3fa01fd9-3537-4cc0-88b0-a2dc297b5839"))
    assert robot.name == "robot"  # arn:aws:iam::00000:robot


def test_iam_user_keeps_user_name_even_with_an_assumed_role_arn() -> None:
    # Hand-edited Cloud Custodian record: type IAMUser, userName AWS_DCS_DEV, assumed-role ARN.
    actor = actor_of(record("cloud_custodian", "59e2b117-e1dd-466b-a6f3-5c027f0af0f2"))
    assert actor.name == "AWS_DCS_DEV"
    assert actor.role is None


def test_a_redacted_user_name_is_no_name() -> None:
    actor = actor_of(record("awsdocs", "a7654656-0417-45c6-9386-ea8231385051"))
    assert actor.name is None


@pytest.mark.parametrize(
    ("name", "event_id", "identity", "expected_name", "expected_role"),
    [
        # a person's session name
        (
            "cloud_custodian",
            "6589a9eb-59b7-4895-b7ab-962ed3cc257c",
            "AssumedRole",
            "Radiant",
            "GR_Dev_Developer",
        ),
        ("stratus", "4031b2d2-5e47-4d71-9eda-4f22702c45f3", None, "cli", "test-role"),
        # the instance id an instance profile uses as session name → the role
        (
            "invictus",
            "6bf8950b-f1ed-439d-8fc8-211645bfbe0f",
            None,
            "stratus-red-team-ec2-steal-credentials-role",
            "stratus-red-team-ec2-steal-credentials-role",
        ),
        # aws-go-sdk-<number> → the role
        (
            "invictus",
            "fbd91225-39aa-4c00-822c-9f0b96e7758f",
            None,
            "stratus-red-team-ec2-get-password-data-role",
            "stratus-red-team-ec2-get-password-data-role",
        ),
        # a bare account number as principal → the role
        ("awsdocs", "714fafex-2eam-42pl-913e-926d4example", None, "Admin", "Admin"),
    ],
)
def test_assumed_roles_are_named_by_session_unless_machine_made(
    name: str,
    event_id: str,
    identity: str | None,
    expected_name: str,
    expected_role: str,
) -> None:
    match = {"identity": identity} if identity else {}
    actor = actor_of(record(name, event_id, **match))
    assert actor.identity_type == "AssumedRole"
    assert actor.name == expected_name
    assert actor.role == expected_role


@pytest.mark.parametrize(
    "session", ["botocore-session-1688990082", "1688990082523", "i-0dbc91f429e48eeed"]
)
def test_more_machine_made_session_names_give_the_role(session: str) -> None:
    # Built from the invictus identity shape; only the session name differs.
    identity = invictus("6bf8950b-f1ed-439d-8fc8-211645bfbe0f")["userIdentity"]
    identity["arn"] = f"arn:aws:sts::123837392027:assumed-role/builder/{session}"
    identity["principalId"] = f"AROATFQR7NSC6Q6YRQ2Q7:{session}"
    identity["sessionContext"]["sessionIssuer"]["userName"] = "builder"
    assert actor_of({"userIdentity": identity}).name == "builder"


def test_sso_role_is_named_by_the_session_email() -> None:
    actor = actor_of(record("stratus", "37ba412b-f943-44f2-ae48-4527f6e789d9"))
    assert actor.role is not None and actor.role.startswith("AWSReservedSSO_account-admin")
    # The anonymised ARN has lost its role/session separator: the principalId still has it.
    assert actor.name == "randomca0L529zwNAY@gmail.com"


@pytest.mark.parametrize(
    ("name", "event_id", "expected_name", "expected_role"),
    [
        ("invictus", RDS_SLR_ENI, "rds.amazonaws.com", "AWSServiceRoleForRDS"),
        (
            "invictus",
            "3bcc9d61-5936-429a-8b49-d5cb8e7b0e06",
            "inspector2.amazonaws.com",
            "AWSServiceRoleForAmazonInspector2",
        ),
        (
            "awsdocs",
            "11111111-2222-3333-4444-abcdef123456",
            "eks-nodegroup.amazonaws.com",
            "AWSServiceRoleForAmazonEKSNodegroup",
        ),
    ],
)
def test_service_linked_roles_are_named_by_the_service(
    name: str, event_id: str, expected_name: str, expected_role: str
) -> None:
    actor = actor_of(record(name, event_id))
    assert actor.identity_type == "AssumedRole"
    assert actor.name == expected_name
    assert actor.role == expected_role


def test_service_linked_role_without_invoked_by_is_named_by_the_role() -> None:
    slr = invictus(RDS_SLR_ENI)
    del slr["userIdentity"]["invokedBy"]
    assert actor_of(slr).name == "AWSServiceRoleForRDS"


@pytest.mark.parametrize(
    ("name", "event_id", "identity_type", "expected"),
    [
        (
            "invictus",
            "a4a7b25e-c2d5-436f-8a7e-ea89f50541ab",
            "AWSService",
            "inspector2.amazonaws.com",
        ),
        ("awsdocs", "e3c436e9-ebca-494e-9457-8123a1f5e979", "AWSService", "dynamodb.amazonaws.com"),
        ("invictus", "d2ba211c-a040-45b6-86d0-33249cc21647", None, "secretsmanager.amazonaws.com"),
        ("awsdocs", "234f004b-EXAMPLE", None, "AWS Internal"),
    ],
)
def test_aws_services_acting_alone_are_named_by_invoked_by(
    name: str, event_id: str, identity_type: str | None, expected: str
) -> None:
    actor = actor_of(record(name, event_id))
    assert actor.identity_type == identity_type
    assert actor.name == expected
    assert actor.invoked_by == expected
    assert actor.arn is None


@pytest.mark.parametrize(
    ("name", "event_id"),
    [
        ("awsdocs", "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0"),  # ConsoleLogin
        ("cloud_custodian", "c4fa3db1-2303-40e4-bde0-3b7246bdbf0b"),  # CreateBucket
        ("cloud_custodian", "6da8b953-741f-4273-be3f-289b92b4d1fc"),  # via autoscaling
    ],
)
def test_root_is_root(name: str, event_id: str) -> None:
    actor = actor_of(record(name, event_id))
    assert actor.identity_type == "Root"
    assert actor.name == "root"
    assert actor.role is None


def test_root_launching_through_auto_scaling_keeps_the_service_as_invoked_by() -> None:
    actor = actor_of(record("cloud_custodian", "6da8b953-741f-4273-be3f-289b92b4d1fc"))
    assert actor.invoked_by == "autoscaling.amazonaws.com"


def test_federated_user_is_named_after_federated_user() -> None:
    actor = actor_of(record("stratus", "91529247-c4c4-4793-afc8-d70bbcfe9d19"))
    assert actor.identity_type == "FederatedUser"
    assert actor.name == "stratus_red_team"
    assert actor.role is None  # its session issuer is an IAM user, not a role


@pytest.mark.parametrize(
    ("event_id", "identity_type", "expected_name", "expected_arn"),
    [
        ("27ea7725-c1fd-4355-bdba-d0e628e0e604", "Unknown", "user1", None),  # arn ""
        ("09a6e1a9-50e5-45c0-9f08-e6ef5089b262", "Unknown", "bobsmith@example.com", None),
        ("dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE", "AWSAccount", "AIDAQRSTUVWXYZEXAMPLE", None),
    ],
)
def test_other_identity_types_use_user_name_then_arn_then_principal(
    event_id: str, identity_type: str, expected_name: str, expected_arn: str | None
) -> None:
    actor = actor_of(record("awsdocs", event_id))
    assert actor.identity_type == identity_type
    assert actor.name == expected_name
    assert actor.arn == expected_arn


def test_identity_center_user_without_user_name_uses_the_arn() -> None:
    identity = {
        "type": "IdentityCenterUser",
        "arn": "arn:aws:identitystore::123456789012:user/9067c5c8-1234-4d5e-9f0a-1b2c3d4e5f6a",
        "accountId": "123456789012",
    }
    actor = actor_of({"userIdentity": identity})
    assert actor.name == "9067c5c8-1234-4d5e-9f0a-1b2c3d4e5f6a"
    assert actor.account == "123456789012"


# ---------------------------------------------------------------------------------------------
# tool_of: DESIGN.md §3 event.tool, in order
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "invoked_by", "expected"),
    [
        # real agents from the shared records
        (
            "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) "
            "terraform-provider-aws/3.76.1 "
            "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.44.157 "
            "(go1.19.3; linux; amd64)",
            None,
            "Terraform",
        ),
        ("cloudformation.amazonaws.com", "cloudformation.amazonaws.com", "CloudFormation"),
        ("console.amazonaws.com", None, "Console"),
        ("console.aws.amazon.com", None, "Console"),
        ("signin.amazonaws.com", "signin.amazonaws.com", "Console"),
        ("[S3Console/0.4]", None, "Console"),
        (
            "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.184-153.731.amzn2int."
            "x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation "
            "cfg/retry-mode/standard]",
            None,
            "Console",
        ),
        (
            "RDS Console, aws-internal/3 aws-sdk-java/1.11.975 "
            "Linux/5.4.247-168.349.amzn2int.x86_64",
            None,
            "Console",
        ),
        ("EC2ConsoleBackend, aws-sdk-java/Linux/x.xx.fleetxen", None, "Console"),
        ("AWS Internal", None, "Console"),  # the console back end, sessionCredentialFromConsole
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
            None,
            "Console",
        ),
        ("aws-cli/1.7.36 Python/2.6.6 Linux/2.6.32-573.8.1.el6.x86_64", None, "AWS CLI"),
        (
            "aws-cli/1.16.304 Python/3.6.9 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 "
            "botocore/1.13.40",
            None,
            "AWS CLI",
        ),
        (
            "aws-cli/2.9.8 Python/3.9.11 Windows/10 exe/AMD64 prompt/off "
            "command/ecs.put-account-setting-default",
            None,
            "AWS CLI",
        ),
        (
            "[aws-cli/1.11.10 Python/2.7.8 Linux/3.2.45-0.6.wd.865.49.315.metal1.x86_64]",
            None,
            "AWS CLI",
        ),
        ("[Boto3/1.26.165 Python/3.10.6 Linux/5.19.0-46-generic Botocore/1.29.165]", None, "SDK"),
        (
            "CloudCustodian(net-change-encryption)/0.9.2 Python/3.8.3 Linux/4.14.165-102.205.amzn2."
            "x86_64 exec-env/AWS_Lambda_python3.8 Botocore/1.15.49",
            None,
            "SDK",
        ),
        ("aws-sdk-go/1.41.4 (go1.18.3; linux; amd64) amazon-ssm-agent/", None, "SDK"),
        (
            "aws-sdk-go-v2/1.32.3 os/linux lang/go#1.23.1 md/GOOS#linux md/GOARCH#amd64 "
            "exec-env/grimoire_095724e3-1fa0-4e3e-b68a-e8581d194380 api/sts#1.26.2",
            None,
            "SDK",
        ),
        ("rds.amazonaws.com", "rds.amazonaws.com", "AWS service"),
        ("autoscaling.amazonaws.com", None, "AWS service"),
        ("eks-nodegroup.amazonaws.com", "eks-nodegroup.amazonaws.com", "AWS service"),
        (None, "rds.amazonaws.com", "AWS service"),  # no agent recorded: invokedBy speaks
        ("AWS Internal", "AWS Internal", None),  # AWS acting by itself (KMS RotateKey, Decrypt)
        ("stratus-red-team_6a7ec681-49a5-4403-99a2-d3c1229e8063", None, None),
        ("PostmanRuntime/7.28.0", None, None),
        ("Coral/Jakarta", None, None),
        (None, None, None),
        ("", None, None),
        # agents the tools document; no such records are in the shared sources
        (
            "APN/1.0 Pulumi/1.0 Pulumi-Aws/4.17.0 (+https://www.pulumi.com) aws-sdk-go/1.40.20 "
            "(go1.16.4; darwin; amd64)",
            None,
            "Pulumi",
        ),
        ("aws-sdk-js/2.1450.0 linux/v18.17.1 exec-env/AWS_ECS_EC2 aws-cdk/2.96.2", None, "CDK"),
        ("aws-sdk-go/1.44.294 (go1.20.5; darwin; arm64) eksctl/0.149.0", None, "eksctl"),
        ("aws-sdk-java/1.12.400 Linux/5.10", "cloudformation.amazonaws.com", "CloudFormation"),
    ],
)
def test_tool_from_user_agent(
    user_agent: str | None, invoked_by: str | None, expected: str | None
) -> None:
    assert tool_of(user_agent, invoked_by) == expected


def test_tool_order_is_the_contract() -> None:
    # Terraform's agent also names the Go SDK; the CLI's names botocore; the console's, Java.
    assert tool_of("Terraform/1.5.0 aws-sdk-go/1.44", None) == "Terraform"
    assert tool_of("aws-cli/2.13.0 botocore/2.0", None) == "AWS CLI"
    assert tool_of("S3Console/0.4 aws-sdk-java/1.12", None) == "Console"
    # CloudFormation's host is an AWS service host too, but CloudFormation comes first.
    assert tool_of("cloudformation.amazonaws.com", None) == "CloudFormation"
    # Terraform run by CloudFormation is still Terraform's agent.
    assert tool_of("Terraform/1.5.0", "cloudformation.amazonaws.com") == "Terraform"


def test_tools_across_the_invictus_slice() -> None:
    tools = Counter(tool_of(r.get("userAgent"), actor_of(r).invoked_by) for r in _slice("invictus"))
    # Terraform set the account up; Stratus's own agent names no tool; the rest are the console,
    # Boto3 and the SSM agent's Go SDK, and AWS services (RDS, Inspector, Secrets Manager).
    assert tools == {"Terraform": 33, None: 7, "AWS service": 4, "Console": 4, "SDK": 3}


# ---------------------------------------------------------------------------------------------
# event_time and summary
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-07-10T11:55:21Z", datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC)),
        ("2023-07-10T11:55:21.123Z", datetime(2023, 7, 10, 11, 55, 21, 123000, tzinfo=UTC)),
        ("2023-07-10T13:55:21+02:00", datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC)),
        ("2023-07-10T11:55:21", datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC)),
        (
            datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC),
            datetime(2023, 7, 10, 11, 55, 21, tzinfo=UTC),
        ),
        ("yesterday", None),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 once in UTC
        ("", None),
        (None, None),
        (1688990121, None),
    ],
)
def test_event_time(value: Any, expected: datetime | None) -> None:
    parsed = event_time({"eventTime": value})
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


def test_summary_of_a_first_event_seen() -> None:
    assert summary(invictus("99b46479-d5c7-4384-b342-006ece8c36a0")) == {
        "name": "SendCommand",
        "source": "ssm.amazonaws.com",
        "time": "2023-07-10T11:57:16Z",
        "actor": "bert-jan",
        "region": "us-east-1",
        "id": "99b46479-d5c7-4384-b342-006ece8c36a0",
    }
    assert summary(invictus(RUN_INSTANCES))["time"] == "2023-07-10T11:55:21Z"
    assert summary({}) == {
        "name": None,
        "source": None,
        "time": None,
        "actor": None,
        "region": None,
        "id": None,
    }


# ---------------------------------------------------------------------------------------------
# Robustness: nothing raises, whatever the record looks like
# ---------------------------------------------------------------------------------------------


def _all_functions(rec: Any) -> None:
    created = created_ids(rec)
    mentioned = referenced_ids(rec)
    actor = actor_of(rec)
    tool_of(rec.get("userAgent") if isinstance(rec, dict) else None, actor.invoked_by)
    creation_fact(rec, created + mentioned[:3] + ("i-0dbc91f429e48eeed",))
    is_failed(rec)
    is_read_only(rec)
    event_time(rec)
    summary(rec)
    assert all(isinstance(value, str) and value for value in created)
    assert all(isinstance(value, str) and value for value in mentioned)
    assert set(created) <= set(mentioned)


@pytest.mark.parametrize("junk", [None, "RunInstances", 7, [], [{}], {}, {"eventName": None}])
def test_things_that_are_not_records_give_empty_answers(junk: Any) -> None:
    assert created_ids(junk) == ()
    assert referenced_ids(junk) == ()
    assert actor_of(junk) == events.Actor(None, None, None, None)
    assert creation_fact(junk, ["x"]) is None
    assert summary(junk)["name"] is None


def _paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 4) -> Iterator[tuple[Any, ...]]:
    if depth == 0:
        return
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key), depth - 1)


def _replaced(rec: Record, path: tuple[Any, ...], value: Any) -> Record:
    clone = copy.deepcopy(rec)
    node: Any = clone
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return clone


@pytest.mark.parametrize("name", ["invictus", "stratus", "cloud_custodian", "awsdocs"])
def test_any_field_replaced_by_null_text_number_or_list_never_raises(name: str) -> None:
    swaps = (None, "", "x", 0, True, [], [None], {}, {"items": "x"})
    for rec in _slice(name):
        for path in _paths(rec):
            for swap in swaps:
                _all_functions(_replaced(rec, path, swap))


def test_a_deeply_nested_record_does_not_overflow() -> None:
    deep: Any = "vpc-06fe1a64761a0f720"
    for _ in range(5000):
        deep = {"a": [deep]}
    rec = {"eventSource": "ec2.amazonaws.com", "eventName": "CreateVpc", "requestParameters": deep}
    assert referenced_ids(rec) == ("vpc-06fe1a64761a0f720",)


# ---------------------------------------------------------------------------------------------
# Every record of the four shared files (where the shared folder is present)
# ---------------------------------------------------------------------------------------------


def _shared(name: str) -> list[Any]:
    path = SHARED / name
    if not path.exists():
        pytest.skip(
            f"shared CloudTrail records not present at {path} (tests/fixtures cover the rest)"
        )
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", SHARED_FILES)
def test_every_shared_record_reads_without_an_exception(name: str) -> None:
    for rec in _shared(name):
        _all_functions(rec)


@pytest.mark.parametrize("name", SHARED_FILES)
def test_created_ids_in_shared_records_come_from_successful_table_events_and_the_record(
    name: str,
) -> None:
    for rec in _shared(name):
        created = created_ids(rec)
        if not created:
            continue
        assert not is_failed(rec) and not is_read_only(rec)
        text = json.dumps(rec)
        for value in created:
            assert json.dumps(value) in text  # read from the record, never made up


EXPECTED_SHARED_CREATIONS = {
    "source_invictus_aws_dataset.json": {
        "AllocateAddress": 3,
        "CreateAccessKey": 2,
        "CreateBucket": 5,
        "CreateDBInstance": 1,
        "CreateDBSnapshot": 1,
        "CreateDBSubnetGroup": 1,
        "CreateFlowLogs": 1,
        "CreateFunction20150331": 2,
        "CreateInstanceProfile": 3,
        "CreateInternetGateway": 4,
        "CreateLogGroup": 1,
        "CreateNatGateway": 2,
        "CreateNetworkInterface": 3,
        "CreatePolicy": 2,
        "CreateProfile": 1,
        "CreateRole": 13,
        "CreateRouteTable": 10,
        "CreateSecret": 20,
        "CreateSecurityGroup": 1,
        "CreateSnapshot": 2,
        "CreateSubnet": 10,
        "CreateTrail": 2,
        "CreateTrustAnchor": 1,
        "CreateUser": 4,
        "CreateVolume": 2,
        "CreateVpc": 7,
        "RegisterImage": 1,
        "RunInstances": 2,
        # Generated rule (registry catalog): version 1 of a parameter is its creation.
        "PutParameter": 42,
    },
    "source_stratus_detonation_logs.json": {
        "CreateAccessKey": 2,
        "CreateProfile": 1,
        "CreateRole": 1,
        "CreateTrustAnchor": 1,
        "CreateUser": 1,
    },
    "source_cloud_custodian_test_events.json": {
        "CreateBucket": 2,
        "CreateDBInstance": 1,
        "CreateDistribution": 1,
        "CreateMountTarget": 1,
        "CreateVolume": 1,
        "RunInstances": 3,
        # Generated rules (registry catalog), from CloudFormation's schemas.
        "CreateCluster": 1,  # CloudHSM
        "CreateMesh": 1,
        "CreateVirtualGateway": 1,
        "CreateVirtualNode": 1,
        "CreateStage": 1,  # API Gateway v1
    },
    "source_awsdocs_examples.json": {
        "CreateCluster": 3,
        "CreateDBInstance": 1,
        "CreateKeyPair": 1,
        "CreateLaunchConfiguration": 1,
        "CreateQueue": 1,
        "CreateUser": 1,
        "StartSnapshot": 1,
    },
}


@pytest.mark.parametrize("name", SHARED_FILES)
def test_each_shared_file_has_the_expected_creation_events(name: str) -> None:
    found = Counter(rec["eventName"] for rec in _shared(name) if created_ids(rec))
    assert found == EXPECTED_SHARED_CREATIONS[name]


def test_the_shared_run_instances_is_bert_jans_through_terraform() -> None:
    records = _shared("source_invictus_aws_dataset.json")
    facts = [f for f in (creation_fact(r, ["i-0dbc91f429e48eeed"]) for r in records) if f]
    assert [(f.event_id, f.actor.name, f.tool) for f in facts] == [
        (RUN_INSTANCES, "bert-jan", "Terraform")
    ]
    mentions = [r for r in records if "i-0dbc91f429e48eeed" in referenced_ids(r)]
    assert len(mentions) > 1  # mentioned by many events, created by one
