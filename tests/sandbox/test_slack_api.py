"""The recording Slack Web API the demo talks to: answers as Slack does, and keeps what it got."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack_api import BOT_ID, BOT_USER_ID, TOKEN, SlackApi


@pytest.fixture
def api() -> Iterator[SlackApi]:
    with SlackApi() as running:
        running.add_user(
            "U0ALICE001", "alice", real_name="Alice", email="Alice@Example.com", tz="Europe/Paris"
        )
        yield running


def test_the_bot_token_is_required(api: SlackApi) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxb-wrong", base_url=api.url).auth_test()
    assert WebClient(token=TOKEN, base_url=api.url).auth_test()["user_id"] == BOT_USER_ID


def test_users_by_email_and_id_and_the_bot_is_a_bot(api: SlackApi) -> None:
    client = WebClient(token=TOKEN, base_url=api.url)
    assert client.users_lookupByEmail(email="alice@example.com")["user"]["id"] == "U0ALICE001"
    assert client.users_info(user="U0ALICE001")["user"]["tz"] == "Europe/Paris"
    assert client.users_info(user=BOT_USER_ID)["user"]["is_bot"] is True
    with pytest.raises(SlackApiError, match="users_not_found"):
        client.users_lookupByEmail(email="nobody@example.com")


def test_a_dm_is_kept_updated_and_read_back(api: SlackApi) -> None:
    client = WebClient(token=TOKEN, base_url=api.url)
    posted = client.chat_postMessage(channel="U0ALICE001", text="hi", blocks=[{"type": "divider"}])
    assert posted["channel"] == api.dm_channel("U0ALICE001") == "D0ALICE001"
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="bye", blocks=[])
    assert api.message(posted["channel"], posted["ts"]) == {
        "ts": posted["ts"],
        "text": "bye",
        "blocks": [],
    }
    history = client.conversations_history(
        channel=posted["channel"], latest=posted["ts"], inclusive=True
    )
    assert [m["text"] for m in history["messages"]] == ["bye"]
    assert [call.method for call in api.calls] == [
        "chat.postMessage",
        "chat.update",
        "conversations.history",
    ]
    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("files.upload")


def test_response_url_posts_are_recorded(api: SlackApi) -> None:
    body = json.dumps({"text": "only you", "response_type": "ephemeral"}).encode()
    request = urllib.request.Request(
        api.response_url("r1"), data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.status == 200
    assert api.wait_for_response("r1", timeout=1)["text"] == "only you"
    with pytest.raises(TimeoutError):
        api.wait_for_response("r2", timeout=0.05)


def test_faults_answer_as_slack_does_once(api: SlackApi) -> None:
    client = WebClient(token=TOKEN, base_url=api.url)
    api.fail_next("chat.postMessage", "channel_not_found")
    api.rate_limit_once("users.info")

    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C0NOWHERE", text="hello")
    with pytest.raises(SlackApiError) as limited:
        client.users_info(user="U0ALICE001")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "0"
    assert client.chat_postMessage(channel="C0NOWHERE", text="again")["ok"] is True
    assert client.users_info(user="U0ALICE001")["ok"] is True
    assert api.methods() == ["chat.postMessage", "users.info"] * 2


def test_an_expired_response_url_is_refused_but_recorded(api: SlackApi) -> None:
    api.refuse_responses("old")
    request = urllib.request.Request(
        api.response_url("old"),
        data=json.dumps({"text": "too late"}).encode(),
        headers={"Content-Type": "application/json"},
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)

    assert refused.value.code == 404
    assert refused.value.read() == b"expired_url"
    assert api.wait_for_response("old")["text"] == "too late"


def test_metadata_is_kept_and_read_back_only_when_asked(api: SlackApi) -> None:
    client = WebClient(token=TOKEN, base_url=api.url)
    digest = {"event_type": "whocreated_digest", "event_payload": {"digest_id": "d1"}}
    first = client.chat_postMessage(channel="U0ALICE001", text="one", metadata=digest)
    second = client.chat_postMessage(channel="U0ALICE001", text="two")
    channel = client.conversations_open(users="U0ALICE001")["channel"]["id"]
    assert channel == first["channel"] == "D0ALICE001"

    plain = client.conversations_history(channel=channel)
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]  # newest first
    assert all("metadata" not in m for m in plain["messages"])
    full = client.conversations_history(channel=channel, include_all_metadata=True)
    assert [m.get("metadata") for m in full["messages"]] == [None, digest]
    assert {m["bot_id"] for m in full["messages"]} == {BOT_ID}

    # oldest and latest are exclusive unless inclusive; limit pages with a cursor.
    after = client.conversations_history(channel=channel, oldest=first["ts"])
    assert [m["ts"] for m in after["messages"]] == [second["ts"]]
    both = client.conversations_history(channel=channel, oldest=first["ts"], inclusive=True)
    assert len(both["messages"]) == 2
    page = client.conversations_history(channel=channel, limit=1)
    assert page["has_more"] is True and [m["text"] for m in page["messages"]] == ["two"]
    rest = client.conversations_history(
        channel=channel, limit=1, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["one"] and rest["has_more"] is False
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_history(channel="C0NOWHERE")


def test_a_stalled_post_is_accepted_though_the_client_times_out(api: SlackApi) -> None:
    impatient = WebClient(token=TOKEN, base_url=api.url, timeout=0.3)
    api.stall_next("chat.postMessage", 1.0)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="U0ALICE001", text="accepted, answer lost")
    assert [m["text"] for m in api.messages.values()] == ["accepted, answer lost"]
    assert impatient.chat_postMessage(channel="U0ALICE001", text="next")["ok"] is True
