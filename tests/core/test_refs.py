import pytest

from bot.core.refs import (
    MAX_REFERENCE_LENGTH,
    InvalidReference,
    in_known_region,
    in_region,
    parse,
)


@pytest.mark.parametrize(
    ("text", "rtype"),
    [
        ("i-0dbc91f429e48eeed", "AWS::EC2::Instance"),
        ("i-12345678", "AWS::EC2::Instance"),
        ("vol-0123456789abcdef0", "AWS::EC2::Volume"),
        ("snap-0123456789abcdef0", "AWS::EC2::Snapshot"),
        ("ami-029eb80bc237bec6f", "AWS::EC2::Image"),
        ("sg-0b233157065b7d5e2", "AWS::EC2::SecurityGroup"),
        ("eni-076fa9fb98a2500a7", "AWS::EC2::NetworkInterface"),
        ("eipalloc-0123456789abcdef0", "AWS::EC2::EIP"),
        ("nat-0123456789abcdef0", "AWS::EC2::NatGateway"),
        ("vpc-06fe1a64761a0f720", "AWS::EC2::VPC"),
        ("subnet-0ed352584ab4aa265", "AWS::EC2::Subnet"),
        ("igw-0123456789abcdef0", "AWS::EC2::InternetGateway"),
        ("rtb-0123456789abcdef0", "AWS::EC2::RouteTable"),
        ("lt-0123456789abcdef0", "AWS::EC2::LaunchTemplate"),
    ],
)
def test_ids_are_typed_by_prefix(text: str, rtype: str) -> None:
    ref = parse(text)
    assert ref.type == rtype
    assert ref.id == text
    assert ref.region is None
    assert ref.search_names == (text,)
    assert ref.has_unique_id


def test_upper_case_ids_are_normalised_but_echoed_as_given() -> None:
    ref = parse("I-0DBC91F429E48EEED")
    assert ref.id == "i-0dbc91f429e48eeed"
    assert ref.given == "I-0DBC91F429E48EEED"


def test_id_with_wrong_number_of_hex_digits_is_explained() -> None:
    with pytest.raises(InvalidReference, match="8 or 17 hex digits"):
        parse("i-0abc")


@pytest.mark.parametrize(
    ("arn", "rtype", "rid", "region", "account"),
    [
        (
            "arn:aws:ec2:us-east-1:123837392027:instance/i-0dbc91f429e48eeed",
            "AWS::EC2::Instance",
            "i-0dbc91f429e48eeed",
            "us-east-1",
            "123837392027",
        ),
        (
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188",
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "web",
            "eu-west-1",
            "111122223333",
        ),
        (
            "arn:aws:rds:us-east-1:123837392027:db:stratus-red-team-db",
            "AWS::RDS::DBInstance",
            "stratus-red-team-db",
            "us-east-1",
            "123837392027",
        ),
        (
            "arn:aws:lambda:us-west-2:111122223333:function:my-fn:PROD",
            "AWS::Lambda::Function",
            "my-fn",
            "us-west-2",
            "111122223333",
        ),
        (
            "arn:aws:eks:us-east-1:111122223333:cluster/sandbox",
            "AWS::EKS::Cluster",
            "sandbox",
            "us-east-1",
            "111122223333",
        ),
        (
            "arn:aws:iam::111122223333:role/service-role/deployer",
            "AWS::IAM::Role",
            "deployer",
            None,
            "111122223333",
        ),
        ("arn:aws:s3:::my-bucket", "AWS::S3::Bucket", "my-bucket", None, None),
    ],
)
def test_arns_give_service_region_account_and_id(
    arn: str, rtype: str, rid: str, region: str | None, account: str | None
) -> None:
    ref = parse(arn)
    assert (ref.type, ref.id, ref.region, ref.account, ref.arn) == (
        rtype,
        rid,
        region,
        account,
        arn,
    )
    # Name-like resources are searched by ARN first, then by name.
    assert ref.search_names[0] == arn


def test_global_services_are_searched_in_their_home_region() -> None:
    assert parse("arn:aws:iam::111122223333:role/deployer").home_region == "us-east-1"
    assert parse("arn:aws-cn:iam::111122223333:role/deployer").home_region == "cn-north-1"
    assert parse("arn:aws:s3:::my-bucket").home_region is None  # asked of S3 itself


def test_bare_names_are_searched_as_they_are() -> None:
    ref = parse("terraform-state-bucket")
    assert ref.type is None
    assert ref.search_names == ("terraform-state-bucket",)
    assert not ref.has_unique_id


def test_s3_url_names_a_bucket() -> None:
    ref = parse("s3://logs.example.com/prefix/key")
    assert (ref.type, ref.id) == ("AWS::S3::Bucket", "logs.example.com")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no resource given"),
        ("   ", "no resource given"),
        ("i-0abc\x07def", "control characters"),
        ("i-0abc def", "whitespace"),
        ("x" * (MAX_REFERENCE_LENGTH + 1), "characters long"),
        ("arn:aws:ec2", "not a valid ARN"),
        ("<!channel>", "not an AWS id"),
        ("arn:aws:ec2:us-east-1:123456789012:instance/", "names no resource"),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/", "names no resource"),
        ("arn:aws:iam::123456789012:role/", "names no resource"),
        ("arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:", "names no resource"),
    ],
)
def test_bad_input_gets_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(InvalidReference, match=message):
        parse(text)


def test_an_arn_in_another_region_than_the_one_asked_is_a_mistake() -> None:
    arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0dbc91f429e48eeed"
    with pytest.raises(InvalidReference, match="names region eu-west-1, but region us-east-1"):
        in_region(parse(arn), "us-east-1")
    assert in_region(parse(arn), "eu-west-1").region == "eu-west-1"
    assert in_region(parse(arn), None).region == "eu-west-1"
    # Ids and global ARNs name no region: any region given is theirs.
    assert in_region(parse("i-0dbc91f429e48eeed"), "us-east-1").region is None
    assert in_region(parse("arn:aws:iam::123456789012:role/admin"), "us-east-1").region is None


def test_an_arns_region_is_checked_only_where_aws_is_asked() -> None:
    """Trail logs hold what they hold (test data names made-up regions); AWS has a list."""
    ref = parse("arn:aws:ec2:mars-1:123456789012:instance/i-0dbc91f429e48eeed")
    assert ref.region == "mars-1"
    with pytest.raises(InvalidReference, match="unknown AWS region 'mars-1'"):
        in_known_region(ref)
    assert in_known_region(parse("arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a1b2c3d")).region
