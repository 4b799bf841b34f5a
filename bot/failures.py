"""What went wrong, in words a Slack user can act on: the kind of failure, never a driver's or
SQL's own text (which can name tables, hosts or queries). The log keeps the whole exception."""

from __future__ import annotations

import socket
from collections.abc import Callable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot.aws.errors import error_code, is_denied


def _aws_refused(error: BaseException) -> str:
    assert isinstance(error, ClientError)
    code = error_code(error)
    if is_denied(error):
        return f"AWS denied the bot's role ({code})"
    return f"AWS refused the request ({code})"


def _slack_refused(error: BaseException) -> str:
    assert isinstance(error, SlackApiError)
    return f"Slack refused the request ({error.response.get('error', 'unknown error')})"


# The first class the error is an instance of wins: specific before general.
_WORDS: tuple[tuple[type[BaseException], Callable[[BaseException], str]], ...] = (
    (SQLAlchemyError, lambda _: "the bot's database is not answering"),
    (NoCredentialsError, lambda _: "the bot has no AWS credentials"),
    (ClientError, _aws_refused),
    (EndpointConnectionError, lambda _: "AWS could not be reached"),
    (ConnectTimeoutError, lambda _: "AWS could not be reached in time"),
    (ReadTimeoutError, lambda _: "AWS did not answer in time"),
    (BotoCoreError, lambda _: "the AWS call failed"),
    (SlackApiError, _slack_refused),
    (SlackClientError, lambda _: "Slack could not be reached"),
    (TimeoutError, lambda _: "it took too long"),
    (socket.timeout, lambda _: "it took too long"),
    (ConnectionError, lambda _: "a connection failed"),
)


def plain_words(error: BaseException) -> str:
    """A few words for the user; the details are in the bot's log."""
    for kind, words in _WORDS:
        if isinstance(error, kind):
            return words(error)
    return "an unexpected error (the details are in the bot's log)"
