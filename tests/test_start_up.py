"""A first start that tells the truth: `serve` says in one line each what is missing in AWS, and a
Socket Mode app token Slack refuses is exit 3 with one line, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bot.checks import aws_warnings
from bot.cli import main
from bot.config import Settings
from tests.fake_slack import BOT_TOKEN, FakeSlack

APP_TOKEN = "xapp-1-A0TEST-123-abc"


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "GetCallerIdentity")


def test_nothing_to_say_when_aws_is_in_place() -> None:
    settings = Settings(aws_region="eu-west-1")
    assert aws_warnings(settings, credentials=lambda: object(), caller=lambda: {}) == []


def test_no_region_and_no_credentials_are_one_line_each() -> None:
    warnings = aws_warnings(Settings(), credentials=lambda: None)
    assert len(warnings) == 2
    assert warnings[0].startswith("no AWS region configured: us-east-1 is assumed; set AWS_REGION")
    assert warnings[1].startswith("no AWS credentials found: lookups and patrol rounds will fail")


def test_refused_credentials_are_named() -> None:
    def caller() -> None:
        raise refused("InvalidClientTokenId")

    [warning] = aws_warnings(
        Settings(aws_region="eu-west-1"), credentials=lambda: object(), caller=caller
    )
    assert warning.startswith("AWS refused the credentials (InvalidClientTokenId)")


def test_unreachable_aws_is_one_line() -> None:
    def caller() -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")

    [warning] = aws_warnings(
        Settings(aws_region="eu-west-1"), credentials=lambda: object(), caller=caller
    )
    assert warning == (
        'AWS is unreachable (Could not connect to the endpoint URL: "http://127.0.0.1:9/"): '
        "lookups and patrol rounds will fail"
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory and an environment with nothing of the developer's in it."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("WHOCREATED_CONFIG", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def test_serve_with_a_refused_app_token_is_exit_3_with_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slack = FakeSlack()
    slack.app_token = APP_TOKEN
    try:
        monkeypatch.setenv("SLACK_API_URL", slack.url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0TEST-123-revoked")
        # AWS as a first start often has it: keys, but nothing answers.
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        code = main(["serve", "--no-scheduler"])
    finally:
        slack.close()
    err = capsys.readouterr().err
    assert code == 3
    assert "Traceback" not in err
    assert err.splitlines() == [
        "WARNING bot.checks: AWS is unreachable (Could not connect to the endpoint URL: "
        '"http://127.0.0.1:9/"): lookups and patrol rounds will fail',
        "whocreated: Slack refused the app token for Socket Mode (invalid_auth): check "
        "SLACK_APP_TOKEN (an app-level token with connections:write)",
    ]


@pytest.mark.parametrize(
    ("env_file", "says"),
    [
        (None, "SLACK_BOT_TOKEN is not set"),  # .env.example copied as it is
        (
            f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_APP_TOKEN=xapp-\n",
            "SLACK_APP_TOKEN is only the placeholder 'xapp-'",
        ),
    ],
)
def test_serve_with_placeholders_is_exit_2_with_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], env_file: str | None, says: str
) -> None:
    example = Path(__file__).parents[1] / ".env.example"
    (workdir / ".env").write_text(env_file if env_file is not None else example.read_text())
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"whocreated: {says}")
    assert err.count("\n") == 1
