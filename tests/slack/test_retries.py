"""The bot's WebClient sends a failed call again only when that cannot double a message: a post
whose answer was lost (Slack may have taken it) is left to the outbox, which asks the history."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.error import URLError

import pytest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings
from bot.outbox import Outbox
from bot.slack.app import build_web_client
from bot.slack.retries import ConnectionRetry
from bot.store import Store
from tests.fake_slack import BOT_TOKEN


class LosesFirstAnswers(BaseHTTPRequestHandler):
    """Takes every call; the first answer of each method is lost (the connection is cut)."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        method = self.path.rsplit("/", 1)[-1]
        params = json.loads(body) if body.startswith("{") else dict(urllib.parse.parse_qsl(body))
        self.calls.append((method, params))
        if [name for name, _ in self.calls].count(method) == 1:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        answer: dict[str, Any] = {"ok": True, "channel": "D0ALICE", "ts": "1700000000.000100"}
        if method == "conversations.history":
            answer = {"ok": True, "messages": [], "has_more": False}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slack_url() -> Iterator[str]:
    LosesFirstAnswers.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), LosesFirstAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    server.server_close()


def _client(url: str) -> Any:
    return build_web_client(Settings(slack_bot_token=BOT_TOKEN, slack_api_url=url))


def test_a_digest_whose_answer_was_lost_is_not_posted_again_by_the_client(slack_url: str) -> None:
    store = Store.in_memory()
    outbox = Outbox(store, _client(slack_url), lambda: datetime.now(UTC))
    digest = outbox.queue(kind="digest", target="U0ALICE01", text="idle things")

    with pytest.raises((URLError, ConnectionError)):
        outbox.send(digest)

    assert [name for name, _ in LosesFirstAnswers.calls] == ["chat.postMessage"]


def test_a_read_whose_answer_was_lost_is_asked_again(slack_url: str) -> None:
    client = _client(slack_url)
    assert client.conversations_history(channel="D0ALICE")["ok"]
    names = [name for name, _ in LosesFirstAnswers.calls]
    assert names == ["conversations.history", "conversations.history"]


@pytest.mark.parametrize(
    ("method", "error", "again"),
    [
        ("chat.postMessage", URLError(ConnectionRefusedError(111, "refused")), True),
        ("chat.postMessage", URLError(socket.gaierror(-2, "no such name")), True),
        ("chat.postMessage", ConnectionResetError(104, "reset"), False),
        ("chat.postMessage", URLError(ConnectionResetError(104, "reset")), False),
        ("chat.postEphemeral", ConnectionResetError(104, "reset"), False),
        ("chat.update", ConnectionResetError(104, "reset"), True),
        ("users.info", URLError(ConnectionResetError(104, "reset")), True),
    ],
)
def test_a_post_is_sent_again_only_when_it_never_reached_slack(
    method: str, error: Exception, again: bool
) -> None:
    request = HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})
    retry = ConnectionRetry()
    assert retry.can_retry(state=RetryState(), request=request, error=error) is again
