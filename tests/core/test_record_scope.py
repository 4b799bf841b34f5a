"""An ARN is answered only by records of its partition, account and region."""

from datetime import UTC, datetime

from bot.core import events
from bot.core.record_scope import (
    Place,
    creation_is_in_place,
    place_of_arn,
    place_of_record,
    record_is_in_place,
)
from bot.core.refs import parse
from bot.sandbox.records import CLI, create_db_instance, create_role, iam_user

WHEN = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
A, B = "111111111111", "222222222222"


def test_places_read_from_arns_and_records() -> None:
    assert place_of_arn("arn:aws-cn:rds:cn-north-1:111111111111:db:orders") == Place(
        "aws-cn", A, "cn-north-1"
    )
    assert place_of_arn("arn:aws:s3:::bucket") == Place("aws", None, None)
    assert place_of_arn("arn:aws:lambda:us-east-1::runtime:abc") == Place("aws", None, "us-east-1")
    assert place_of_arn("not an arn") == Place()
    role = create_role("admin", WHEN, iam_user("alice", account=A), agent=CLI, account=A)
    assert place_of_record(role) == Place("aws", A, "us-east-1")
    assert place_of_record({"eventName": "X", "recipientAccountId": 12}) == Place()


def test_an_arn_matches_only_its_own_account_and_region() -> None:
    in_b = create_db_instance(
        "orders", WHEN, iam_user("bob", account=B), region="eu-west-1", agent=CLI, account=B
    )
    assert record_is_in_place(parse("arn:aws:rds:eu-west-1:222222222222:db:orders"), in_b)
    assert not record_is_in_place(parse("arn:aws:rds:eu-west-1:111111111111:db:orders"), in_b)
    assert not record_is_in_place(parse("arn:aws:rds:us-east-1:222222222222:db:orders"), in_b)
    assert not record_is_in_place(parse("arn:aws-cn:rds:eu-west-1:222222222222:db:orders"), in_b)
    # Ids and bare names carry no place: any record may answer them.
    assert record_is_in_place(parse("orders"), in_b)


def test_a_created_arn_tells_accounts_apart_when_the_record_does_not() -> None:
    role = create_role("admin", WHEN, iam_user("bob", account=B), agent=CLI, account=B)
    del role["recipientAccountId"]
    del role["userIdentity"]["arn"]
    ref = parse("arn:aws:iam::111111111111:role/admin")
    fact = events.creation_fact(role, ref.search_names)
    assert fact is not None and fact.resource_id == "admin"  # the name alone matches
    assert record_is_in_place(ref, role)  # nothing in the record itself says otherwise
    assert not creation_is_in_place(ref, role, fact)
    own = parse("arn:aws:iam::222222222222:role/admin")
    assert creation_is_in_place(own, role, events.creation_fact(role, own.search_names))
