"""The answers issue 10 found missing or wrong, each through a general rule of the registry.

Records are real ones from tests/fixtures/cloudtrail (see its README) where the sources have the
event, else shaped as CloudTrail writes that call (request and response members as botocore's
models name them, first letter lower case), with only the names changed.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bot.aws.trail_files import find_in_logs
from bot.core import refs
from bot.core.events import created_ids, creation_fact, mention_keys, name_keys

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cloudtrail"
Record = dict[str, Any]


@cache
def _slice(name: str) -> tuple[Record, ...]:
    return tuple(json.loads((FIXTURES / f"{name}_slice.json").read_text()))


def real(name: str, event_id: str) -> Record:
    [found] = [r for r in _slice(name) if r.get("eventID") == event_id]
    return copy.deepcopy(found)


def shaped(source: str, name: str, request: Any, response: Any, **extra: Any) -> Record:
    """A record as CloudTrail writes one, around a request and a response."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "accountId": "123456789012",
            "userName": "alice",
        },
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": request,
        "responseElements": response,
        "eventID": f"{name}-example",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        **extra,
    }


def answer_from_logs(tmp_path: Path, records: list[Record], reference: str) -> Any:
    logs = tmp_path / "trail.json"
    logs.write_text(json.dumps(records))
    [answer], _ = find_in_logs([refs.parse(reference)], [logs])
    return answer


# ---------------------------------------------------------------------------------------------
# The network interfaces RunInstances made (a by-product, unless the request handed one over)
# ---------------------------------------------------------------------------------------------

CUSTODIAN_TWO_INSTANCES = "6da8b953-741f-4273-be3f-289b92b4d1fc"  # eni-6a08d837, eni-6508d838
INVICTUS_RUN_INSTANCES = "86eac0ac-8521-4126-aa32-a22f2b74d02e"  # hands over eni-076fa9fb…


@pytest.mark.parametrize("eni", ["eni-6a08d837", "eni-6508d838"])
def test_the_network_interfaces_run_instances_made_are_answered_by_it(eni: str) -> None:
    run = real("cloud_custodian", CUSTODIAN_TWO_INSTANCES)
    fact = creation_fact(run, refs.parse(eni).search_names)
    assert fact is not None
    assert (fact.event_name, fact.resource_id) == ("RunInstances", eni)
    assert eni in fact.created
    assert eni not in created_ids(run)  # what was asked for: the instances
    assert created_ids(run) == ("i-784cdacd", "i-7b4cdace")


def test_a_network_interface_the_request_handed_over_was_only_used() -> None:
    run = real("invictus", INVICTUS_RUN_INSTANCES)
    assert creation_fact(run, ["eni-076fa9fb98a2500a7"]) is None
    assert creation_fact(run, ["i-0dbc91f429e48eeed"]) is not None


def test_the_network_interface_is_found_in_trail_logs(tmp_path: Path) -> None:
    answer = answer_from_logs(
        tmp_path, [real("cloud_custodian", CUSTODIAN_TWO_INSTANCES)], "eni-6508d838"
    )
    assert answer.found
    assert answer.fact.event_name == "RunInstances"


# ---------------------------------------------------------------------------------------------
# A role named only in the request
# ---------------------------------------------------------------------------------------------

CREATE_ROLE = "ff709962-49b6-494d-8198-cdf0f7e8e666"
ROLE = "stratus-red-team-ec2-get-password-data-role"


def test_a_role_whose_response_lacks_its_name_is_found_by_the_name_in_the_request() -> None:
    role = real("invictus", CREATE_ROLE)
    del role["responseElements"]["role"]["roleName"]
    assert role["requestParameters"]["roleName"] == ROLE
    fact = creation_fact(role, refs.parse(ROLE).search_names)
    assert fact is not None and fact.resource_id == ROLE
    arn = f"arn:aws:iam::123837392027:role/{ROLE}"
    by_arn = creation_fact(role, refs.parse(arn).search_names)
    assert by_arn is not None and by_arn.resource_id == arn


def test_another_roles_name_is_not_answered_by_that_create_role() -> None:
    role = real("invictus", CREATE_ROLE)
    del role["responseElements"]["role"]["roleName"]
    assert creation_fact(role, ["stratus-red-team-some-other-role"]) is None


# ---------------------------------------------------------------------------------------------
# CloudWatch Logs log streams
# ---------------------------------------------------------------------------------------------

GROUP = "/aws/lambda/orders"
STREAM = "2024/05/01/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0"
STREAM_ARN = f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:log-stream:{STREAM}"


def create_log_stream(group: str = GROUP, stream: str = STREAM) -> Record:
    # CloudTrail logs CreateLogStream with the two names and no response.
    return shaped("logs", "CreateLogStream", {"logGroupName": group, "logStreamName": stream}, None)


def test_a_log_stream_arn_is_a_stream_of_its_group() -> None:
    ref = refs.parse(STREAM_ARN)
    assert (ref.type, ref.id, ref.service, ref.region) == (
        "AWS::Logs::LogStream",
        STREAM,
        "logs",
        "us-east-1",
    )
    group = refs.parse(f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:*")
    assert (group.type, group.id) == ("AWS::Logs::LogGroup", GROUP)


def test_create_log_stream_answers_the_stream_by_arn_and_by_name() -> None:
    fact = creation_fact(create_log_stream(), refs.parse(STREAM_ARN).search_names)
    assert fact is not None and fact.resource_id == STREAM
    assert created_ids(create_log_stream()) == (STREAM,)


def test_a_stream_of_the_same_name_in_another_group_is_not_this_one() -> None:
    elsewhere = create_log_stream(group="/aws/lambda/payments")
    assert creation_fact(elsewhere, refs.parse(STREAM_ARN).search_names) is None


def test_the_group_is_not_created_by_create_log_stream() -> None:
    group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}"
    assert creation_fact(create_log_stream(), refs.parse(group_arn).search_names) is None


# ---------------------------------------------------------------------------------------------
# API Gateway v1 (REST APIs) and v2 (HTTP and WebSocket APIs)
# ---------------------------------------------------------------------------------------------


def create_rest_api(api_id: str) -> Record:
    # v1's members as its REST model names them: id, name, createdDate, …
    return shaped(
        "apigateway",
        "CreateRestApi",
        {"name": "orders", "endpointConfiguration": {"types": ["REGIONAL"]}},
        {"id": api_id, "name": "orders", "createdDate": "May 1, 2024 10:00:00 AM"},
    )


def create_api(api_id: str) -> Record:
    # v2's wire names: apiId, apiEndpoint, protocolType, …
    return shaped(
        "apigateway",
        "CreateApi",
        {"name": "orders", "protocolType": "HTTP"},
        {
            "apiId": api_id,
            "apiEndpoint": f"https://{api_id}.execute-api.us-east-1.amazonaws.com",
            "name": "orders",
            "protocolType": "HTTP",
        },
    )


def test_api_gateway_arns_parse_to_v1_and_v2_without_a_leading_slash() -> None:
    v2 = refs.parse("arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5")
    v1 = refs.parse("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5")
    assert (v2.type, v2.id) == ("AWS::ApiGatewayV2::Api", "a1b2c3d4e5")
    assert (v1.type, v1.id) == ("AWS::ApiGateway::RestApi", "a1b2c3d4e5")


def test_create_rest_api_and_create_api_answer_their_own_version_only() -> None:
    v1_arn = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5"
    v2_arn = "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5"
    rest, http = create_rest_api("a1b2c3d4e5"), create_api("a1b2c3d4e5")
    assert creation_fact(rest, refs.parse(v1_arn).search_names) is not None
    assert creation_fact(http, refs.parse(v2_arn).search_names) is not None
    assert creation_fact(rest, refs.parse(v2_arn).search_names) is None
    assert creation_fact(http, refs.parse(v1_arn).search_names) is None


CREATE_STAGE = "62a841f9-7601-4345-9181-dd5f31ec75ab"  # a v1 stage "latest" of API abcdef74gh


def test_a_real_v1_create_stage_answers_its_stage_and_not_a_v2_one() -> None:
    stage = real("registry", CREATE_STAGE)
    v1 = "arn:aws:apigateway:us-east-1::/restapis/abcdef74gh/stages/latest"
    v2 = "arn:aws:apigateway:us-east-1::/apis/abcdef74gh/stages/latest"
    fact = creation_fact(stage, refs.parse(v1).search_names)
    assert fact is not None and fact.resource_id == "latest"
    assert creation_fact(stage, refs.parse(v2).search_names) is None
    other_api = "arn:aws:apigateway:us-east-1::/restapis/zzzzzz99zz/stages/latest"
    assert creation_fact(stage, refs.parse(other_api).search_names) is None


# ---------------------------------------------------------------------------------------------
# SSM documents, and a mention never crosses types or case rules
# ---------------------------------------------------------------------------------------------

DOCUMENT_ARN = "arn:aws:ssm:us-east-1:123456789012:document/Test"


def create_document(name: str = "Test") -> Record:
    return shaped(
        "ssm",
        "CreateDocument",
        {"content": "HIDDEN_DUE_TO_SECURITY_REASONS", "name": name, "documentType": "Command"},
        {
            "documentDescription": {
                "name": name,
                "documentType": "Command",
                "status": "Creating",
                "documentVersion": "1",
            }
        },
    )


def create_table(name: str) -> Record:
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    return shaped(
        "dynamodb",
        "CreateTable",
        {"tableName": name, "billingMode": "PAY_PER_REQUEST"},
        {"tableDescription": {"tableName": name, "tableArn": arn, "tableStatus": "CREATING"}},
    )


def test_create_document_answers_the_document() -> None:
    fact = creation_fact(create_document(), refs.parse(DOCUMENT_ARN).search_names)
    assert fact is not None
    assert (fact.event_name, fact.resource_id) == ("CreateDocument", "Test")
    assert creation_fact(create_document("test"), refs.parse(DOCUMENT_ARN).search_names) is None


def test_a_document_is_not_first_seen_in_a_create_table_of_a_table_named_alike(
    tmp_path: Path,
) -> None:
    answer = answer_from_logs(tmp_path, [create_table("test")], DOCUMENT_ARN)
    assert not answer.found
    assert answer.first_seen is None  # no mention of it at all
    assert not name_keys(refs.parse(DOCUMENT_ARN).search_names) & mention_keys(create_table("test"))


def test_a_mention_of_its_own_type_and_case_is_still_one(tmp_path: Path) -> None:
    describe = shaped(
        "ssm",
        "UpdateDocumentDefaultVersion",
        {"name": "Test", "documentVersion": "2"},
        None,
        resources=[{"ARN": DOCUMENT_ARN}],
    )
    answer = answer_from_logs(tmp_path, [describe], DOCUMENT_ARN)
    assert not answer.found
    assert answer.first_seen is not None
    assert answer.first_seen["name"] == "UpdateDocumentDefaultVersion"


def test_rds_names_still_meet_mentions_in_any_case() -> None:
    db = real("invictus", "fdc74c82-c299-4211-a08e-b5f125ee3b58")
    wanted = name_keys(["Terraform-20230710121504061500000001"])
    assert wanted & mention_keys(db)


def test_a_table_arn_is_not_answered_by_a_secret_of_the_same_name() -> None:
    secret = real("invictus", "30f9bf7b-a5dd-4661-8c97-d288ef5680a1")
    secret["requestParameters"]["name"] = "test"
    secret["responseElements"]["arn"] = (
        "arn:aws:secretsmanager:us-east-1:123837392027:secret:test-xehWok"
    )
    table = refs.parse("arn:aws:dynamodb:us-east-1:123837392027:table/test")
    assert creation_fact(secret, table.search_names) is None
    assert creation_fact(create_table("test"), table.search_names) is not None
    assert creation_fact(secret, ["test"]) is not None  # a bare name says no type


# ---------------------------------------------------------------------------------------------
# SSM parameters: version 1 is the creation, later versions modify it
# ---------------------------------------------------------------------------------------------

PUT_PARAMETER = "93e58a50-11f0-4859-8f1c-472dd35a1aeb"
PARAMETER = "/credentials/stratus-red-team/credentials-34"
PARAMETER_ARN = (
    "arn:aws:ssm:us-east-1:123837392027:parameter/credentials/stratus-red-team/credentials-34"
)


def test_put_parameter_version_one_is_the_creation() -> None:
    put = real("registry", PUT_PARAMETER)
    assert put["responseElements"]["version"] == 1
    ref = refs.parse(PARAMETER_ARN)
    assert (ref.type, ref.id) == ("AWS::SSM::Parameter", PARAMETER)
    fact = creation_fact(put, ref.search_names)
    assert fact is not None
    assert (fact.resource_id, fact.actor.name, fact.tool) == (PARAMETER, "bert-jan", "Terraform")


def test_a_later_version_is_a_modification(tmp_path: Path) -> None:
    first = real("registry", PUT_PARAMETER)
    overwrite = copy.deepcopy(first)
    overwrite.update(eventID="overwrite", eventTime="2023-07-11T09:00:00Z")
    overwrite["requestParameters"]["overwrite"] = True
    overwrite["responseElements"]["version"] = 2
    assert created_ids(overwrite) == ()
    assert creation_fact(overwrite, [PARAMETER]) is None
    answer = answer_from_logs(tmp_path, [overwrite, first], PARAMETER_ARN)
    assert answer.found and answer.fact.event_id == PUT_PARAMETER
