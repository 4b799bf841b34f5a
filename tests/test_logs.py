"""One line per failure: `logger.exception` prints the message and the exception's words, and the
traceback only at --log-level debug; tokens never reach a log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.error import URLError

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from slack_sdk import WebClient

from bot import logs
from bot.cli import main

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("bot")
    slack_sdk = logging.getLogger(logs.SLACK_SDK_REQUESTS)
    handlers, levels = list(root.handlers), (root.level, ours.level, slack_sdk.level)
    yield
    root.handlers[:] = handlers
    for logger, level in zip((root, ours, slack_sdk), levels, strict=True):
        logger.setLevel(level)


def unreachable_aws_error() -> EndpointConnectionError:
    client = boto3.client(
        "sts",
        region_name="eu-west-1",
        endpoint_url=UNREACHABLE,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(EndpointConnectionError) as caught:
        client.get_caller_identity()
    return caught.value


def log_failure(error: Exception) -> None:
    try:
        raise error
    except EndpointConnectionError:
        logging.getLogger("bot.aws.regions").exception("DescribeRegions failed")


@pytest.mark.parametrize("level", ["info", "warning", "error"])
def test_an_unreachable_aws_is_one_line_below_debug(
    level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    error = unreachable_aws_error()
    logs.configure("text", level)
    log_failure(error)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "ERROR bot.aws.regions: DescribeRegions failed: EndpointConnectionError: Could not "
        f'connect to the endpoint URL: "{UNREACHABLE}/"'
    ]


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    error = unreachable_aws_error()
    logs.configure("text", "debug")
    log_failure(error)
    err = capsys.readouterr().err
    assert err.startswith("ERROR bot.aws.regions: DescribeRegions failed\nTraceback")
    assert "ConnectionRefusedError" in err


def test_json_lines_carry_the_error_and_the_traceback_only_at_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = unreachable_aws_error()
    logs.configure("json", "info")
    log_failure(error)
    logs.configure("json", "debug")
    log_failure(error)
    short, full = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert short["error"].startswith("EndpointConnectionError: Could not connect")
    assert "exception" not in short
    assert full["error"] == short["error"]
    assert "Traceback" in full["exception"]


def test_other_handlers_still_get_the_whole_record(caplog: pytest.LogCaptureFixture) -> None:
    logs.configure("text", "info")
    logging.getLogger().addHandler(caplog.handler)
    log_failure(unreachable_aws_error())
    assert caplog.records[-1].exc_info is not None


def test_a_token_in_an_exception_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("text", "info")
    try:
        raise ValueError("bad token xoxb-1234-5678-abcdef in the request")
    except ValueError:
        logging.getLogger("bot.slack").exception("auth.test failed")
    err = capsys.readouterr().err
    assert "xoxb-1234" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "bot_level"),
    [
        (["lookup", "not a resource id!"], logging.INFO),
        (["--log-level", "debug", "lookup", "not a resource id!"], logging.DEBUG),
        (["lookup", "not a resource id!", "--log-level", "warning"], logging.WARNING),
        (["--log-level", "error", "lookup", "not a resource id!"], logging.ERROR),
    ],
)
def test_log_level_before_or_after_the_command(argv: list[str], bot_level: int) -> None:
    assert main(argv) == 2
    assert logging.getLogger("bot").level == bot_level
    assert logging.getLogger().level == max(logging.WARNING, bot_level)


@pytest.mark.parametrize(("level", "sdk_shown"), [("info", False), ("debug", True)])
def test_an_unreachable_slack_is_said_once_by_us(
    level: str, sdk_shown: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("text", level)
    client = WebClient(token="xoxb-1-2-abc", base_url=f"{UNREACHABLE}/api/", timeout=2)
    with pytest.raises(URLError):
        client.auth_test()
    logging.getLogger("bot.checks").warning("Slack is unreachable")
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "WARNING bot.checks: Slack is unreachable"
    # slack_sdk's own line for each attempt (it retries a refused connection) only at debug.
    assert any(line.startswith("ERROR slack_sdk") for line in lines) is sdk_shown
    assert "xoxb-1-2-abc" not in "\n".join(lines)
