"""Which failed Slack calls the WebClient may send again by itself.

slack_sdk's default retries a call whose connection failed, whatever the call. For a post that is a
second message when Slack took the first and only its answer was lost (a proxy reset, a dropped
connection): a digest DMed twice. A post is sent again only when it never reached Slack (connection
refused, name not resolved); otherwise the caller hears of the failure, and the outbox asks the
DM's history before anything is posted again.
"""

from __future__ import annotations

import socket
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Methods that make a new message each time they are called.
POSTING = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage"})


class ConnectionRetry(ConnectionErrorRetryHandler):
    """slack_sdk's connection retry, except for a post that may have arrived."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return method_of(request.url) not in POSTING or never_sent(error)


def method_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def never_sent(error: Exception | None) -> bool:
    """True when the request cannot have reached Slack: no connection was made."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)
