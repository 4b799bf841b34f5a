import boto3
from moto import mock_aws

from bot.aws.accounts import AccountClients, visit
from bot.core.policy import Accounts
from bot.wiring import AwsClients


def _clients(session: boto3.Session) -> AwsClients:
    return AwsClients(session)


@mock_aws
def test_own_account_by_default() -> None:
    own = AwsClients(boto3.Session(region_name="us-east-1"))
    [access] = visit(Accounts(), own, "123456789012", "us-east-1", make_clients=_clients)
    assert access.account == "123456789012" and access.clients is own


@mock_aws
def test_other_accounts_through_the_assumed_role() -> None:
    own = AwsClients(boto3.Session(region_name="us-east-1"))
    accounts = Accounts(ids=("123456789012", "210987654321"), role_name="whocreated-patrol")
    visits = visit(accounts, own, "123456789012", "us-east-1", make_clients=_clients)
    assert [v.account for v in visits] == ["123456789012", "210987654321"]
    other = visits[1].clients
    assert other is not None and other is not own
    identity = other("sts", "us-east-1").get_caller_identity()
    assert identity["Account"] == "210987654321"
    assert "whocreated-patrol" in identity["Arn"]


@mock_aws
def test_without_a_role_other_accounts_are_skipped_with_a_note() -> None:
    own = AwsClients(boto3.Session(region_name="us-east-1"))
    visits = visit(
        Accounts(ids=("210987654321",)), own, "123456789012", "us-east-1", make_clients=_clients
    )
    assert visits[0].clients is None
    assert "role_name" in visits[0].note


@mock_aws
def test_account_clients_serve_buttons_for_any_patrolled_account() -> None:
    own = AwsClients(boto3.Session(region_name="us-east-1"))
    clients = AccountClients(
        Accounts(ids=("210987654321",), role_name="whocreated-patrol"),
        own,
        lambda: "123456789012",
        "us-east-1",
        make_clients=_clients,
    )
    assert clients("123456789012") is own  # the own account, even if not patrolled
    other = clients("210987654321")
    assert other is not None
    assert clients("210987654321") is other  # assumed once, reused
    assert other("sts", "us-east-1").get_caller_identity()["Account"] == "210987654321"
