"""Listeners on their own: the command grammar, and a handler called without Bolt."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

from bot.config import Settings
from bot.core.answers import LookupAnswer
from bot.core.refs import parse
from bot.slack.listeners import Command, CommandError, Listeners, read_command
from tests.slack.conftest import INSTANCE, FakeLookups, bert_jan_fact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command(reference=None)),
        ("help", Command(reference=None)),
        (f"{INSTANCE} help", Command(reference=None)),
        (INSTANCE, Command(reference=INSTANCE)),
        (f"  {INSTANCE}  share ", Command(reference=INSTANCE, share=True)),
        (f"SHARE {INSTANCE}", Command(reference=INSTANCE, share=True)),
        (f"{INSTANCE} region=eu-west-1", Command(reference=INSTANCE, region="eu-west-1")),
        (f"{INSTANCE} --region EU-WEST-1", Command(reference=INSTANCE, region="eu-west-1")),
        (f"--region=us-gov-west-1 {INSTANCE}", Command(reference=INSTANCE, region="us-gov-west-1")),
        ("arn:aws:s3:::a&amp;b", Command(reference="arn:aws:s3:::a&b")),  # Slack's escaping undone
        (f"{INSTANCE} account=123456789012", Command(reference=INSTANCE, account="123456789012")),
        (
            f"--account 210987654321 {INSTANCE} share",
            Command(reference=INSTANCE, account="210987654321", share=True),
        ),
        (f"{INSTANCE} --account=123456789012", Command(reference=INSTANCE, account="123456789012")),
    ],
)
def test_read_command(text: str, expected: Command) -> None:
    assert read_command(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"{INSTANCE} vol-0123456789abcdef0", "one resource at a time"),
        (f"{INSTANCE} --region", "--region needs a region name"),
        (f"{INSTANCE} region=moon-1", "unknown AWS region"),
        (f"{INSTANCE} account=1234", "an account must be a 12-digit AWS account id"),
        (f"{INSTANCE} --account", "--account needs an account id"),
    ],
)
def test_read_command_errors(text: str, words: str) -> None:
    with pytest.raises(CommandError, match=words):
        read_command(text)


class InlineExecutor:
    """A lane that runs work at once (what it would tell on shutdown is never needed)."""

    def submit(self, work: Any, *args: Any, unfinished: Any = None) -> Future[None]:
        future: Future[None] = Future()
        future.set_result(work(*args))
        return future


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, text: str = "", **kwargs: Any) -> Any:
        self.calls.append({"text": text, **kwargs})
        return type("Response", (), {"status_code": 200, "body": "ok"})()


def test_the_command_handler_works_without_bolt() -> None:
    lookups = FakeLookups()
    lookups.add(LookupAnswer(ref=parse(INSTANCE), fact=bert_jan_fact()))

    class Directory:
        def slack_user(self, actor: Any) -> str | None:
            return "U0BERTJAN" if actor.name == "bert-jan" else None

    services = type(
        "S",
        (),
        {
            "lookups": lookups,
            "directory": Directory(),
            "executor": InlineExecutor(),
            "archive_lane": None,
            "clock": staticmethod(lambda: bert_jan_fact().event_time),
            "settings": Settings(),
        },
    )()
    ack, respond = Recorder(), Recorder()

    Listeners(services).whocreated(  # type: ignore[arg-type]
        ack=ack, command={"text": f"{INSTANCE} share", "user_id": "U1"}, respond=respond
    )

    assert ack.calls[0]["text"].startswith("Looking up")
    [reply] = respond.calls
    assert reply["response_type"] == "in_channel"
    assert "<@U0BERTJAN>" in str([block.to_dict() for block in reply["blocks"]])
    assert "just now" in str([block.to_dict() for block in reply["blocks"]])
