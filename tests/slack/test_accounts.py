"""`/whocreated ID account=…`: the account reaches the lookup, and one lookups may not search is
told in words, with no lookup made."""

from __future__ import annotations

from bot.core.answers import LookupAnswer
from bot.core.refs import parse
from tests.slack.conftest import (
    ACCOUNT,
    INSTANCE,
    Harness,
    all_text,
    assert_valid_blocks,
    bert_jan_fact,
)


def test_the_account_asked_for_reaches_the_lookup(harness: Harness) -> None:
    harness.lookups.add(LookupAnswer(ref=parse(INSTANCE), fact=bert_jan_fact(), account=ACCOUNT))

    reply, key = harness.command(f"{INSTANCE} account={ACCOUNT}")
    sent = harness.fake.wait_for_response(key)

    assert reply.body == f"Looking up `{INSTANCE}` in account {ACCOUNT}…"
    [(ref, _)] = harness.lookups.calls
    assert ref.account == ACCOUNT
    assert f"account `{ACCOUNT}`" in all_text(sent["blocks"])


def test_an_account_lookups_may_not_search_is_told_without_a_lookup(harness: Harness) -> None:
    _, key = harness.command(f"{INSTANCE} account=999999999999")
    sent = harness.fake.wait_for_response(key)

    assert_valid_blocks(sent["blocks"])
    assert (
        f"account 999999999999 is not one whocreated searches: the own account or [accounts] "
        f"ids ({ACCOUNT})" in all_text(sent["blocks"])
    )
    assert harness.lookups.calls == []


def test_an_arn_of_another_account_than_the_one_asked_for_is_refused_in_the_ack(
    harness: Harness,
) -> None:
    reply, _ = harness.command(f"arn:aws:iam::{ACCOUNT}:role/admin account=210987654321")

    rendered = all_text(reply.json()["blocks"])
    assert f"names account {ACCOUNT}, but account 210987654321 was asked for" in rendered
    assert harness.lookups.calls == []
