"""The real Bolt app, built by wiring.build, served by waitress on 127.0.0.1 and talking to a fake
Slack Web API; requests are signed like Slack signs them. Lookups come from a small fake service
answering with facts made from a real CloudTrail record."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock
from slack_sdk.signature import SignatureVerifier
from waitress import wasyncore

from bot.config import DirectorySettings, Settings
from bot.core import events
from bot.core.answers import LookupAnswer, Reason
from bot.core.events import CreationFact
from bot.core.refs import ResourceRef
from bot.slack.app import http_server
from bot.store import Store
from bot.wiring import Services, build
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
INSTANCE = "i-0dbc91f429e48eeed"
ACCOUNT = "123837392027"
BERT_JAN_SLACK = "U0BERTJAN"
ASKER = "U0ASKER01"
CHANNEL = "C0CHAN001"


def run_instances_record() -> dict[str, Any]:
    """RunInstances of i-0dbc91f429e48eeed by bert-jan (invictus-ir/aws_dataset, MIT)."""
    return json.loads((FIXTURES / "run_instances_bert_jan.json").read_text())


def bert_jan_fact(record: Mapping[str, Any] | None = None) -> CreationFact:
    fact = events.creation_fact(record or run_instances_record(), [INSTANCE])
    assert fact is not None
    return fact


class FakeLookups:
    """Stands in for LookupService: answers from a table, records calls, can block or fail."""

    def __init__(self) -> None:
        self.answers: dict[str, LookupAnswer] = {}
        self.calls: list[tuple[ResourceRef, str | None]] = []
        self.threads: list[str] = []
        self.started = threading.Event()
        self.gate: threading.Event | None = None
        self.error: Exception | None = None
        self.archived: dict[str, LookupAnswer] = {}  # what the trail archive answers, by id
        self.archive_threads: list[str] = []

    def add(self, answer: LookupAnswer) -> None:
        self.answers[answer.ref.id] = answer

    def lookup(
        self,
        ref: ResourceRef,
        region: str | None = None,
        *,
        interactive: bool = True,
        archive: bool = True,
    ) -> LookupAnswer:
        self.calls.append((ref, region))
        self.threads.append(threading.current_thread().name)
        self.started.set()
        if self.gate is not None and not self.gate.wait(10):
            raise TimeoutError("the test never released the lookup")
        if self.error is not None:
            raise self.error
        answer = self.answers.get(ref.id)
        if answer is None:
            return LookupAnswer(
                ref=ref, reason=Reason.NOT_IN_REGIONS, regions_searched=("us-east-1",)
            )
        return dataclasses.replace(answer, ref=ref)

    def archive_applies(self, answer: LookupAnswer) -> bool:
        return answer.ref.id in self.archived

    def from_archive(
        self, answer: LookupAnswer, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        self.archive_threads.append(threading.current_thread().name)
        return dataclasses.replace(self.archived[answer.ref.id], ref=answer.ref)


@dataclass
class Reply:
    status: int
    body: str
    elapsed: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Harness:
    fake: FakeSlack
    services: Services
    lookups: FakeLookups
    base_url: str
    _keys: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(1))

    def new_key(self) -> str:
        return f"r{next(self._keys)}"

    def command(
        self,
        text: str,
        *,
        key: str | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> tuple[Reply, str]:
        """POST /whocreated as Slack would; returns the HTTP reply and the response_url key."""
        return self.command_as(ASKER, text, key=key, secret=secret, timestamp=timestamp)

    def command_as(
        self,
        user: str,
        text: str,
        *,
        channel: str = CHANNEL,
        key: str | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> tuple[Reply, str]:
        """POST /whocreated typed by `user` in `channel`."""
        key = key or self.new_key()
        form = {
            "token": "legacy-verification-token",
            "team_id": "T0TEST001",
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "sandbox",
            "user_id": user,
            "user_name": "asker",
            "command": "/whocreated",
            "text": text,
            "api_app_id": "A0TEST001",
            "response_url": self.fake.response_url(key),
            "trigger_id": "1234.5678.abcdef",
        }
        body = urlencode(form)
        return self.post(body, "application/x-www-form-urlencoded", secret, timestamp), key

    def action(
        self, action_id: str, value: str | None, *, key: str | None = None
    ) -> tuple[Reply, str]:
        """POST a block_actions payload for a button click."""
        key = key or self.new_key()
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "b1",
            "type": "button",
            "text": {"type": "plain_text", "text": "Show raw event"},
            "action_ts": "1700000000.000200",
        }
        if value is not None:
            action["value"] = value
        payload = {
            "type": "block_actions",
            "team": {"id": "T0TEST001", "domain": "test"},
            "user": {"id": ASKER, "username": "asker", "team_id": "T0TEST001"},
            "api_app_id": "A0TEST001",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "is_ephemeral": True,
            },
            "trigger_id": "1234.5678.trigger",
            "channel": {"id": CHANNEL, "name": "sandbox"},
            "response_url": self.fake.response_url(key),
            "actions": [action],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", SECRET, None), key

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str | None = None,
        message_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        home_view_id: str | None = None,
        key: str | None = None,
    ) -> tuple[Reply, str]:
        """A signed block_actions payload for a button in a message (or, with home_view_id, in
        App Home, which has no response_url and no channel)."""
        key = key or self.new_key()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0TEST001",
            "token": "legacy-verification-token",
            "trigger_id": f"1234.5678.{key}",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "type": "button",
                    "value": value,
                    "text": {"type": "plain_text", "text": action_id},
                    "action_ts": "1700000001.000200",
                }
            ],
        }
        if home_view_id is not None:
            payload["container"] = {"type": "view", "view_id": home_view_id}
            payload["view"] = {"id": home_view_id, "type": "home", "blocks": blocks or []}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["message"] = {"type": "message", "ts": message_ts, "blocks": blocks or []}
            payload["response_url"] = self.fake.response_url(key)
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", SECRET, None), key

    def submit_view(
        self,
        callback_id: str,
        values: dict[str, Any],
        *,
        user: str,
        private_metadata: str,
    ) -> Reply:
        """A signed view_submission payload for a modal's form."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0TEST001",
            "token": "legacy-verification-token",
            "trigger_id": "1234.5678.submit",
            "view": {
                "id": "V0MODAL01",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": "hash-1",
                "blocks": [],
            },
        }
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", SECRET, None)

    def event(self, event: dict[str, Any]) -> Reply:
        """A signed Events API callback (JSON), e.g. app_home_opened."""
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": "A0TEST001",
                "type": "event_callback",
                "event_id": f"Ev{self.new_key()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self.post(body, "application/json", SECRET, None)

    def post(self, body: str, content_type: str, secret: str, timestamp: int | None) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = SignatureVerifier(secret).generate_signature(
            timestamp=str(timestamp), body=body
        )
        request = urllib.request.Request(
            f"{self.base_url}/slack/events",
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": signature,
            },
        )
        return fetch(request)


def fetch(request: urllib.request.Request | str) -> Reply:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.read().decode(), time.monotonic() - start)
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode(), time.monotonic() - start)


def slack_settings(fake: FakeSlack, **changes: Any) -> Settings:
    defaults: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.url,
        "directory": DirectorySettings(email_domain="example.com"),
        "lookup_workers": 4,
    }
    return Settings(**{**defaults, **changes})


def no_aws(service: str, region: str) -> Any:
    raise AssertionError(f"Slack tests must not make AWS clients ({service} in {region})")


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("bert-jan@example.com", BERT_JAN_SLACK, "Bert-Jan")
    fake.add_user("asker@example.com", ASKER, "Asker")  # whoever types the commands
    yield fake
    fake.close()


@pytest.fixture
def harness(fake_slack: FakeSlack) -> Iterator[Harness]:
    lookups = FakeLookups()
    services = build(
        slack_settings(fake_slack),
        store=Store.in_memory(),
        lookups=lookups,
        aws=no_aws,
        account_id=lambda: ACCOUNT,
    )
    with serving(services) as base_url:
        yield Harness(fake_slack, services, lookups, base_url)
        if lookups.gate is not None:
            lookups.gate.set()


@contextlib.contextmanager
def serving(services: Services) -> Iterator[str]:
    """The app on waitress at 127.0.0.1 (a free port), closed with its executor afterwards."""
    server = http_server(services.app, 0, host="127.0.0.1")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close the server from its own loop thread (closing it from here races its select()).
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            server.close()  # the loop already closed its trigger: nothing left to race
        thread.join(5)
        server.task_dispatcher.shutdown()
        services.executor.shutdown(wait=True, cancel_futures=True)


# Block Kit limits, checked on what was actually sent.
def assert_valid_blocks(blocks: list[dict[str, Any]], *, limit: int = 50) -> list[Block]:
    assert 0 < len(blocks) <= limit
    parsed = []
    for data in blocks:
        block = Block.parse(data)
        assert block is not None, data
        block.to_dict()  # runs slack_sdk's validators (lengths, counts)
        if isinstance(block, SectionBlock):
            assert block.text is None or len(block.text.text) <= 3000
            assert len(block.fields or []) <= 10
            assert all(len(field.text) <= 2000 for field in block.fields or [])
        if isinstance(block, ContextBlock):
            assert len(block.elements) <= 10
        parsed.append(block)
    return parsed


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)
