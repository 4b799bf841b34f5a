"""`/whocreated` when the trail archive is asked: the person is told at once, the archive runs on
its own lane (lookups never wait behind it), and the answer comes through the response_url."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import date

import pytest

from bot.core.answers import LookupAnswer, Reason, Source
from bot.core.policy import Archive, Policy
from bot.core.refs import parse
from bot.store import Store
from bot.wiring import build
from tests.fake_slack import FakeSlack
from tests.slack.conftest import (
    ACCOUNT,
    INSTANCE,
    FakeLookups,
    Harness,
    all_text,
    assert_valid_blocks,
    bert_jan_fact,
    no_aws,
    serving,
    slack_settings,
)

OLD = "vol-0123456789abcdef0"
ARCHIVE = Archive(database="cloudtrail", table="org_trail", earliest=date(2023, 1, 1))


class GatedArchive(FakeLookups):
    """FakeLookups whose archive search waits for the test."""

    def __init__(self) -> None:
        super().__init__()
        self.archive_gate = threading.Event()
        self.archive_started = threading.Event()
        self.archive_error: Exception | None = None

    def from_archive(
        self, answer: LookupAnswer, region: str | None = None, *, interactive: bool = True
    ) -> LookupAnswer:
        self.archive_started.set()
        if not self.archive_gate.wait(10):
            raise TimeoutError("the test never released the archive")
        if self.archive_error is not None:
            raise self.archive_error
        return super().from_archive(answer, region, interactive=interactive)


@pytest.fixture
def archived(fake_slack: FakeSlack) -> Iterator[Harness]:
    lookups = GatedArchive()
    services = build(
        slack_settings(fake_slack, policy=Policy(archive=ARCHIVE)),
        store=Store.in_memory(),
        lookups=lookups,
        aws=no_aws,
        account_id=lambda: ACCOUNT,
    )
    with serving(services) as base_url:
        yield Harness(fake_slack, services, lookups, base_url)
        lookups.archive_gate.set()
        assert services.archive_lane is not None
        services.archive_lane.shutdown(wait=True, cancel_futures=True)


def test_told_at_once_answered_later_and_lookups_never_wait_behind_it(archived: Harness) -> None:
    lookups = archived.lookups
    assert isinstance(lookups, GatedArchive)
    ref = parse(OLD)
    lookups.add(LookupAnswer(ref=ref, reason=Reason.NOT_IN_WINDOW, regions_searched=("eu-west-1",)))
    fact = dataclasses.replace(bert_jan_fact(), resource_id=OLD)
    lookups.archived[OLD] = LookupAnswer(ref=ref, fact=fact, source=Source.ARCHIVE)
    lookups.add(LookupAnswer(ref=parse(INSTANCE), fact=bert_jan_fact()))

    _, key = archived.command(OLD)
    notice = archived.fake.wait_for_response(key)
    assert notice["text"].startswith("CloudTrail's 90 days of history do not hold its creation")
    assert lookups.archive_started.wait(5)

    # The archive is still searching; another lookup is answered meanwhile.
    _, other = archived.command(INSTANCE)
    assert "bert-jan" in all_text(archived.fake.wait_for_response(other)["blocks"])

    lookups.archive_gate.set()
    sent = archived.fake.wait_for_response(key, 2)
    assert_valid_blocks(sent["blocks"])
    assert "Source: the trail archive" in all_text(sent["blocks"])
    assert lookups.archive_threads == ["whocreated-archive_0"]


def test_an_archive_search_that_breaks_is_told_in_plain_words(archived: Harness) -> None:
    lookups = archived.lookups
    assert isinstance(lookups, GatedArchive)
    ref = parse(OLD)
    lookups.add(LookupAnswer(ref=ref, reason=Reason.ONLY_MENTIONED))
    lookups.archived[OLD] = LookupAnswer(ref=ref)
    lookups.archive_error = RuntimeError("the <!here> archive melted")
    lookups.archive_gate.set()

    _, key = archived.command(OLD)
    sent = archived.fake.wait_for_response(key, 2)

    text = all_text(sent["blocks"])
    assert f"Something went wrong searching the trail archive for {OLD}" in text
    assert "melted" not in text  # the error's own words stay in the log


def test_without_an_archive_nothing_waits(harness: Harness) -> None:
    assert harness.services.archive_lane is None
    _, key = harness.command(OLD)  # the fake answers not_in_regions
    assert "couldn't find who created" in all_text(harness.fake.wait_for_response(key)["blocks"])
