"""/whocreated end to end through the real Bolt app: signed HTTP in, fake Slack Web API out."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import json
import logging
import re
import socket
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from sqlalchemy.exc import OperationalError

from bot.config import Settings
from bot.core import messages
from bot.core.answers import LookupAnswer, Reason, Source
from bot.core.policy import Policy, SlackPolicy
from bot.core.refs import parse
from bot.serve import health
from bot.slack.app import new_app, wsgi_app
from bot.store import Store
from bot.wiring import build
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.conftest import (
    ACCOUNT,
    ASKER,
    BERT_JAN_SLACK,
    INSTANCE,
    FakeLookups,
    Harness,
    all_text,
    assert_valid_blocks,
    bert_jan_fact,
    fetch,
    no_aws,
    serving,
    slack_settings,
)


def found(**changes: object) -> LookupAnswer:
    answer = LookupAnswer(
        ref=parse(INSTANCE),
        fact=bert_jan_fact(),
        regions_searched=("us-east-1",),
        account=ACCOUNT,
    )
    return dataclasses.replace(answer, **changes)


# The slash command ---------------------------------------------------------------------------


def test_ack_comes_before_the_slow_lookup_finishes(harness: Harness) -> None:
    harness.lookups.add(found())
    harness.lookups.gate = threading.Event()

    reply, key = harness.command(INSTANCE)

    assert reply.status == 200  # while the lookup is held back: the ack never waits for it
    assert reply.body.startswith("Looking up `i-0dbc91f429e48eeed`")
    assert harness.lookups.started.wait(5), "the lookup never started"
    assert harness.fake.responses.get(key) is None  # the lookup is still blocked
    harness.lookups.gate.set()
    sent = harness.fake.wait_for_response(key)
    assert sent["response_type"] == "ephemeral"
    assert_valid_blocks(sent["blocks"])
    # The slow part ran on our executor, not on one of Bolt's listener threads.
    assert harness.lookups.threads == ["whocreated-lookup_0"]


def test_when_the_lookups_lane_is_closed_the_user_is_told(harness: Harness) -> None:
    harness.services.executor.close()  # shutting down

    reply, key = harness.command(INSTANCE)

    assert reply.status == 200
    told = all_text(harness.fake.wait_for_response(key)["blocks"])
    assert "restarting, try again in a minute" in told
    assert harness.lookups.calls == []


def test_answer_names_and_mentions_the_creator(harness: Harness) -> None:
    harness.lookups.add(found())

    _, key = harness.command(INSTANCE)
    sent = harness.fake.wait_for_response(key)

    blocks = assert_valid_blocks(sent["blocks"])
    text = all_text(sent["blocks"])
    assert f"<@{BERT_JAN_SLACK}>" in text  # bert-jan → bert-jan@example.com → users.lookupByEmail
    for expected in ("bert-jan", "IAMUser", "RunInstances", "Terraform", ACCOUNT, "us-east-1"):
        assert expected in text
    assert "subnet-0ed352584ab4aa265" in text  # a resource the same event used
    assert "cloudtrailv2/home?region=us-east-1#/events/86eac0ac" in text
    assert any(getattr(block, "type", "") == "actions" for block in blocks)
    assert sent["text"].startswith(f"{INSTANCE} was created by bert-jan")
    [call] = harness.fake.calls_to("users.lookupByEmail")
    assert call.params["email"] == "bert-jan@example.com"
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"


def test_aws_strings_are_escaped_so_nobody_is_pinged(harness: Harness) -> None:
    harness.lookups.add(found(owner_tags={"owner": "<!channel>", "team": "a&b <@U0OTHER01>"}))

    _, key = harness.command(INSTANCE)
    sent = harness.fake.wait_for_response(key)

    assert_valid_blocks(sent["blocks"])
    raw = json.dumps(sent)
    assert "<!channel>" not in raw
    assert "<@U0OTHER01>" not in raw
    assert "&lt;!channel&gt;" in raw
    assert "a&amp;b" in raw


def test_share_posts_in_the_channel(harness: Harness) -> None:
    harness.lookups.add(found())

    _, key = harness.command(f"{INSTANCE} share")

    assert harness.fake.wait_for_response(key)["response_type"] == "in_channel"


def test_region_token_is_passed_to_the_lookup(harness: Harness) -> None:
    _, key = harness.command(f"region=eu-west-1 {INSTANCE}")
    harness.fake.wait_for_response(key)
    _, key = harness.command(f"{INSTANCE} --region ap-south-1")
    harness.fake.wait_for_response(key)

    assert [region for _, region in harness.lookups.calls] == ["eu-west-1", "ap-south-1"]


def test_not_found_says_why_in_words(harness: Harness) -> None:
    _, key = harness.command("vol-0123456789abcdef0")  # the fake answers not_in_regions
    sent = harness.fake.wait_for_response(key)

    assert_valid_blocks(sent["blocks"])
    text = all_text(sent["blocks"])
    assert "couldn't find who created" in text
    assert "regions searched" in text and "us-east-1" in text
    assert sent["text"].startswith("Couldn't find who created vol-0123456789abcdef0")


@pytest.mark.parametrize(
    "text",
    ["i-12345", "not a reference", "arn:aws:bogus", "i-0dbc91f429e48eeed region=mars-1"],
)
def test_a_bad_reference_is_explained_in_the_ack_without_a_lookup(
    harness: Harness, text: str
) -> None:
    reply, key = harness.command(text)

    assert reply.status == 200
    body = reply.json()
    assert_valid_blocks(body["blocks"])
    assert body.get("response_type", "ephemeral") == "ephemeral"
    rendered = all_text(body["blocks"])
    assert ":warning:" in rendered
    assert "Usage" in rendered
    assert harness.lookups.calls == []
    assert harness.fake.responses.get(key) is None


@pytest.mark.parametrize("text", ["", "help", "  HELP  ", "share"])
def test_help_shows_usage(harness: Harness, text: str) -> None:
    reply, _ = harness.command(text)

    body = reply.json()
    assert_valid_blocks(body["blocks"])
    assert "/whocreated &lt;resource-id&gt;" in all_text(body["blocks"])
    assert harness.lookups.calls == []


def test_a_failing_lookup_gets_a_plain_reply_and_a_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.lookups.error = RuntimeError("the <!here> database melted")

    _, key = harness.command(INSTANCE)
    sent = harness.fake.wait_for_response(key)

    assert sent["response_type"] == "ephemeral"
    text = all_text(sent["blocks"])
    assert f"Something went wrong looking up {INSTANCE}" in text
    assert "an unexpected error (the details are in the bot's log)" in text
    assert "melted" not in json.dumps(sent)  # the error's own text stays in the log
    assert any(
        record.exc_info and INSTANCE in record.getMessage() and "U0ASKER01" in record.getMessage()
        for record in caplog.records
    )


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            OperationalError("SELECT * FROM nudges", {}, Exception("no such table: nudges")),
            "the bot's database is not answering",
        ),
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "arn:aws:iam::1"}}, "X"),
            "AWS denied the bot's role (AccessDenied)",
        ),
        (EndpointConnectionError(endpoint_url="https://ec2.internal:443"), "AWS could not be"),
    ],
)
def test_errors_are_told_by_kind_never_by_driver_text(
    harness: Harness, error: Exception, words: str
) -> None:
    harness.lookups.error = error

    _, key = harness.command(INSTANCE)
    text = json.dumps(harness.fake.wait_for_response(key))

    assert words in text
    for leak in ("nudges", "SELECT", "arn:aws:iam", "ec2.internal", "OperationalError"):
        assert leak not in text


def test_a_reply_slack_refuses_is_logged_not_lost(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.lookups.add(found())
    key = harness.new_key()
    harness.fake.refuse_responses(key, 404, "expired_url")

    harness.command(INSTANCE, key=key)
    first = harness.fake.wait_for_response(key, count=1)
    second = harness.fake.wait_for_response(key, count=2)  # the error reply is tried too
    harness.services.executor.shutdown(wait=True)

    assert first["blocks"] and "Something went wrong" in all_text(second["blocks"])
    assert "expired_url" in caplog.text
    assert "could not tell the user" in caplog.text


# Signatures ----------------------------------------------------------------------------------


def test_a_forged_signature_is_refused_before_any_lookup(harness: Harness) -> None:
    reply, key = harness.command(INSTANCE, secret="not-the-signing-secret")

    assert reply.status == 401
    harness.services.executor.shutdown(wait=True)  # any (wrongly) started lookup has finished
    assert harness.lookups.calls == []
    assert harness.fake.responses.get(key) is None


def test_a_stale_timestamp_is_refused_before_any_lookup(harness: Harness) -> None:
    reply, key = harness.command(INSTANCE, timestamp=int(time.time()) - 6 * 60)

    assert reply.status == 401
    harness.services.executor.shutdown(wait=True)
    assert harness.lookups.calls == []
    assert harness.fake.responses.get(key) is None


# Show raw event -------------------------------------------------------------------------------


def _raw_button_value(harness: Harness) -> str:
    _, key = harness.command(INSTANCE)
    sent = harness.fake.wait_for_response(key)
    for block in sent["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == messages.SHOW_RAW_EVENT:
                return element["value"]
    raise AssertionError("no Show raw event button")


def test_show_raw_event_opens_the_record_from_the_cache(harness: Harness) -> None:
    fact = bert_jan_fact()
    harness.lookups.add(found())
    harness.services.store.put_fact(
        partition="aws",
        account=ACCOUNT,
        region="us-east-1",
        resource_type="AWS::EC2::Instance",
        fact=fact,
    )
    value = _raw_button_value(harness)
    assert len(value) <= 2000 and "responseElements" not in value
    calls_before = len(harness.lookups.calls)

    reply, _ = harness.action(messages.SHOW_RAW_EVENT, value)

    assert reply.status == 200
    [call] = harness.fake.wait_for_call("views.open")
    assert call.params["trigger_id"] == "1234.5678.trigger"
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    View(**view).to_dict()  # validates title length and block count
    assert_valid_blocks(view["blocks"], limit=100)
    assert "86eac0ac-8521-4126-aa32-a22f2b74d02e" in all_text(view["blocks"])
    assert len(harness.lookups.calls) == calls_before  # no second lookup needed


def test_show_raw_event_hides_the_access_key_and_ip_from_non_admins(
    fake_slack: FakeSlack,
) -> None:
    """The asker is no admin: the modal shows the event without its caller's key id or IP; the
    same click by an admin shows them."""
    for admins, visible in (((), False), ((ASKER,), True)):
        policy = Policy(slack=SlackPolicy(admins=admins))
        services = build(
            slack_settings(fake_slack, policy=policy),
            store=Store.in_memory(),
            lookups=FakeLookups(),
            aws=no_aws,
            account_id=lambda: ACCOUNT,
        )
        with serving(services) as base_url:
            harness = Harness(fake_slack, services, services.lookups, base_url)
            harness.lookups.add(found())
            services.store.put_fact(
                partition="aws",
                account=ACCOUNT,
                region="us-east-1",
                resource_type="AWS::EC2::Instance",
                fact=bert_jan_fact(),
            )
            before = len(fake_slack.calls_to("views.open"))
            harness.action(messages.SHOW_RAW_EVENT, _raw_button_value(harness))
            opened = eventually_calls(fake_slack, "views.open", before + 1)[-1]
        text = json.dumps(opened.params["view"])
        assert ("AKIATFQR7NSC8Q4X20BJ" in text) is visible
        assert ("192.168.10.20" in text) is visible
        assert "86eac0ac-8521-4126-aa32-a22f2b74d02e" in text


@pytest.mark.parametrize(
    ("admins", "unredacted", "share", "visible"),
    [
        ((), False, False, False),  # a member, answered privately
        ((), False, True, False),  # …or in the channel
        ((ASKER,), False, False, True),  # an admin, privately
        ((ASKER,), False, True, False),  # an admin sharing: the channel is not all admins
        ((), True, False, True),  # slack.unredacted_raw_event shows it to all, privately
        ((), True, True, False),  # …but never in a shared answer
    ],
)
def test_the_source_ip_is_shown_only_to_whom_the_raw_event_shows_it(
    fake_slack: FakeSlack,
    admins: tuple[str, ...],
    unredacted: bool,
    share: bool,
    visible: bool,
) -> None:
    """The answer follows the raw-event modal: the caller's IP for admins (or everyone when the
    policy says so), and never in an answer posted for the whole channel."""
    policy = Policy(slack=SlackPolicy(admins=admins, unredacted_raw_event=unredacted))
    services = build(
        slack_settings(fake_slack, policy=policy),
        store=Store.in_memory(),
        lookups=FakeLookups(),
        aws=no_aws,
        account_id=lambda: ACCOUNT,
    )
    with serving(services) as base_url:
        harness = Harness(fake_slack, services, services.lookups, base_url)
        harness.lookups.add(found())
        _, key = harness.command(f"{INSTANCE} share" if share else INSTANCE)
        sent = harness.fake.wait_for_response(key)

    assert sent["response_type"] == ("in_channel" if share else "ephemeral")
    assert_valid_blocks(sent["blocks"])
    text = json.dumps(sent)
    assert ("192.168.10.20" in text) is visible
    assert ("Source IP" in text) is visible
    assert "bert-jan" in text and "RunInstances" in text  # the rest of the answer is there


def eventually_calls(fake: FakeSlack, method: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while len(calls := fake.calls_to(method)) < count:
        assert time.monotonic() < deadline, f"{method} was not called"
        time.sleep(0.02)
    return calls


def test_show_raw_event_fetches_in_the_background_when_not_cached(harness: Harness) -> None:
    harness.lookups.add(found())
    value = _raw_button_value(harness)

    reply, _ = harness.action(messages.SHOW_RAW_EVENT, value)

    assert reply.status == 200
    [opened] = harness.fake.wait_for_call("views.open")
    assert "Fetching" in json.dumps(opened.params["view"])
    [updated] = harness.fake.wait_for_call("views.update")
    view = updated.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert updated.params["view_id"] == "V00000001"
    assert_valid_blocks(view["blocks"], limit=100)
    assert "stratus-red-team-ec2-steal-credentials-instance" in all_text(view["blocks"])


def test_show_raw_event_with_a_bad_value_says_so(harness: Harness) -> None:
    reply, key = harness.action(messages.SHOW_RAW_EVENT, "{not json")

    assert reply.status == 200
    sent = harness.fake.wait_for_response(key)
    assert "out of date" in all_text(sent["blocks"])
    assert harness.fake.calls_to("views.open") == []


def test_show_raw_event_retries_a_rate_limited_views_open(harness: Harness) -> None:
    harness.lookups.add(found())
    harness.services.store.put_fact(
        partition="aws",
        account=ACCOUNT,
        region="us-east-1",
        resource_type="AWS::EC2::Instance",
        fact=bert_jan_fact(),
    )
    value = _raw_button_value(harness)
    harness.fake.rate_limit_once("views.open")

    reply, _ = harness.action(messages.SHOW_RAW_EVENT, value)

    assert reply.status == 200
    first, retry = harness.fake.wait_for_call("views.open", count=2)  # the 429, then the retry
    assert retry.params["view"] == first.params["view"]


def test_the_console_link_button_is_acknowledged(harness: Harness) -> None:
    reply, _ = harness.action(messages.OPEN_CLOUDTRAIL, None)

    assert reply.status == 200


def test_refused_signatures_are_logged_once_a_minute_with_the_clock_skew(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A server clock 10 minutes off: every request is refused. That must be loud in the log and
    in /healthz, not INFO lines nobody reads."""
    with caplog.at_level(logging.WARNING, logger="bot.slack.signature_watch"):
        for _ in range(3):
            reply, _ = harness.command(INSTANCE, timestamp=int(time.time()) - 600)
            assert reply.status == 401

    [warning] = [r for r in caplog.records if r.name == "bot.slack.signature_watch"]
    assert warning.levelno == logging.WARNING
    assert re.search(r"signed 60\d s behind this server's clock", warning.getMessage())
    assert "NTP" in warning.getMessage()
    health = fetch(f"{harness.base_url}/healthz")
    assert health.status == 503
    assert health.json()["error"] == "clock_skew" and abs(health.json()["skew_s"] + 600) <= 2


def test_health_names_a_suspected_clock_skew(harness: Harness) -> None:
    harness.command(INSTANCE, timestamp=int(time.time()) + 900)
    port = int(harness.base_url.rsplit(":", 1)[1])
    out = io.StringIO()

    code = health(Settings(port=port), out)

    assert code == 3
    assert re.search(r"signed (899|900) s off this server's clock", out.getvalue())


def test_a_wrong_secret_within_the_window_is_not_called_a_clock_problem(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.slack.signature_watch"):
        harness.command(INSTANCE, secret="not-the-signing-secret")
    assert "check SLACK_SIGNING_SECRET" in caplog.text
    assert fetch(f"{harness.base_url}/healthz").status == 200


def raw_post(base_url: str, head: bytes, body: bytes) -> bytes:
    """Send a request's head and part of its body on a raw socket; the reply."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + body)
        return sock.recv(4096)


def test_a_large_unsigned_body_is_refused_before_it_is_read(harness: Harness) -> None:
    """5 MiB declared, 1 KiB sent: the answer comes at once (the rest is never waited for)."""
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 5242880\r\n\r\n"
    )
    reply = raw_post(harness.base_url, head, b"a" * 1024)

    # The answer came though 5 MiB were never sent: a server waiting for them times the recv out.
    assert reply.startswith(b"HTTP/1.1 413"), reply[:80]
    assert harness.lookups.calls == []


def test_a_large_chunked_body_is_cut_off_at_the_limit(harness: Harness) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"a" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20))  # 1.25 MiB

    reply = raw_post(harness.base_url, head, body)

    assert reply.startswith(b"HTTP/1.1 413"), reply[:80]


# The app and its HTTP surface ------------------------------------------------------------------


def test_healthz_and_unknown_paths(harness: Harness) -> None:
    health = fetch(f"{harness.base_url}/healthz")
    assert (health.status, health.json()) == (200, {"ok": True})
    assert fetch(f"{harness.base_url}/nothing-here").status == 404
    assert fetch(f"{harness.base_url}/slack/events").status == 404  # GET


def test_start_up_auth_test_goes_to_the_configured_api_url(harness: Harness) -> None:
    [call] = harness.fake.calls_to("auth.test")
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert harness.services.app.client.base_url == harness.fake.url


def test_a_given_web_client_is_used(fake_slack: FakeSlack) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    services = build(
        slack_settings(fake_slack, slack_api_url=None),
        store=Store.in_memory(),
        lookups=object(),
        aws=no_aws,
        account_id=lambda: ACCOUNT,
        web_client=client,
    )
    try:
        assert services.app.client is client
        assert fake_slack.methods() == ["auth.test"]
    finally:
        services.executor.shutdown()


def test_a_refused_token_fails_at_start_up_with_slacks_error(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", "invalid_auth")
    services = build(
        slack_settings(fake_slack),
        store=Store.in_memory(),
        lookups=object(),
        aws=no_aws,
        account_id=lambda: ACCOUNT,
        with_app=False,
    )
    try:
        with pytest.raises(SlackApiError) as raised:
            new_app(services.settings)
        assert raised.value.response["error"] == "invalid_auth"
    finally:
        services.executor.shutdown()


def test_without_a_signing_secret_no_http_request_is_accepted(fake_slack: FakeSlack) -> None:
    services = build(
        slack_settings(fake_slack, slack_signing_secret=None, slack_app_token="xapp-1"),
        store=Store.in_memory(),
        lookups=object(),
        aws=no_aws,
        account_id=lambda: ACCOUNT,
    )
    try:
        body = b"command=%2Fwhocreated&text=help"
        # An empty-key HMAC is what a forger would try first.
        ts = str(int(time.time()))
        digest = hmac.new(b"", f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        signature = f"v0={digest}"
        status = _call_wsgi(
            wsgi_app(services.app),
            body,
            {"HTTP_X_SLACK_SIGNATURE": signature, "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts},
        )
        assert status.startswith("401")
    finally:
        services.executor.shutdown()


def _call_wsgi(application, body: bytes, headers: dict[str, str]) -> str:
    import io

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **headers,
    }
    statuses: list[str] = []
    b"".join(application(environ, lambda status, _headers: statuses.append(status)))
    return statuses[0]


def test_answer_found_from_cache_says_so(harness: Harness) -> None:
    harness.lookups.add(found(source=Source.CACHE))
    _, key = harness.command(INSTANCE)
    text = all_text(harness.fake.wait_for_response(key)["blocks"])
    assert "cache" in text


def test_only_mentioned_shows_the_first_event_seen(harness: Harness) -> None:
    ref = parse("sg-0b233157065b7d5e2")
    harness.lookups.add(
        LookupAnswer(
            ref=ref,
            reason=Reason.ONLY_MENTIONED,
            regions_searched=("us-east-1",),
            first_seen={
                "name": "RunInstances",
                "source": "ec2.amazonaws.com",
                "time": "2023-07-10T11:55:21Z",
                "actor": "bert-jan",
                "region": "us-east-1",
                "id": "86eac0ac-8521-4126-aa32-a22f2b74d02e",
            },
        )
    )
    _, key = harness.command("sg-0b233157065b7d5e2")
    sent = harness.fake.wait_for_response(key)
    assert_valid_blocks(sent["blocks"])
    text = all_text(sent["blocks"])
    assert "First event seen" in text and "RunInstances" in text and "bert-jan" in text


# Trust: a session name is not a person ------------------------------------------------------


def assumed_role_answer(role: str, session: str, issuer_path: str = "/") -> LookupAnswer:
    """bert-jan's RunInstances record, made by a role session instead (as CloudTrail logs it)."""
    record = json.loads(json.dumps(bert_jan_fact().record))
    record["userIdentity"] = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{ACCOUNT}:role{issuer_path}{role}",
                "userName": role,
            }
        },
    }
    return found(fact=bert_jan_fact(record))


@pytest.mark.parametrize(
    ("role", "issuer_path", "mentioned"),
    [
        ("ci-deployer", "/", False),  # anyone who may assume it names the session
        ("AWSReservedSSO_Admin_0123", "/", False),  # only named like Identity Center
        ("AWSReservedSSO_Admin_0123", "/aws-reserved/sso.amazonaws.com/eu-west-1/", True),
    ],
)
def test_a_session_named_after_someone_is_not_them_in_the_answer(
    fake_slack: FakeSlack, role: str, issuer_path: str, mentioned: bool
) -> None:
    fake_slack.add_user("ceo@example.com", "U0THECEO1", "The CEO")
    services = build(
        slack_settings(fake_slack),
        store=Store.in_memory(),
        lookups=FakeLookups(),
        aws=no_aws,
        account_id=lambda: ACCOUNT,
    )
    with serving(services) as base_url:
        harness = Harness(fake_slack, services, services.lookups, base_url)
        harness.lookups.add(assumed_role_answer(role, "ceo@example.com", issuer_path))
        _, key = harness.command(f"{INSTANCE} share")
        sent = harness.fake.wait_for_response(key)

    text = json.dumps(sent)
    assert "ceo@example.com" in text  # shown as the name CloudTrail recorded
    assert ("<@U0THECEO1>" in text) is mentioned
    assert bool(fake_slack.calls_to("users.lookupByEmail")) is mentioned
