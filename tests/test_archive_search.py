"""When a lookup asks the trail archive, and what it asks: which answers qualify, the accounts and
region of the query, and the newest creation of a reused name not after the service's own time.
The archive itself is a recorder here (tests/aws/test_archive.py runs the real one on Athena)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.archive_search import ArchiveSearch
from bot.aws.archive import ArchiveResult
from bot.core.answers import LookupAnswer, Reason, Source
from bot.core.archive_query import ArchiveQuery
from bot.core.refs import in_account, parse
from bot.sandbox import records
from tests.archive_support import ARCHIVE

A, B, OWN = "111111111111", "222222222222", "123456789012"
NOW = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)


class RecordingArchive:
    def __init__(self, *found: dict) -> None:
        self.archive = ARCHIVE
        self.queries: list[ArchiveQuery] = []
        self.found = found

    def search(self, query: ArchiveQuery) -> ArchiveResult:
        self.queries.append(query)
        return ArchiveResult("SELECT …", tuple(self.found))


def search(archive: RecordingArchive) -> ArchiveSearch:
    return ArchiveSearch(archive, clock=lambda: NOW, own_account=lambda: OWN)  # type: ignore[arg-type]


def not_found(text: str, reason: Reason = Reason.NOT_IN_WINDOW, **kw: object) -> LookupAnswer:
    return LookupAnswer(ref=parse(text), reason=reason, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "applies"),
    [
        (not_found("i-0abc1234567890def"), True),
        (not_found("i-0abc1234567890def", Reason.ONLY_MENTIONED), True),
        (not_found("i-0abc1234567890def", Reason.NOT_IN_REGIONS), True),
        (
            not_found("i-0abc1234567890def", Reason.TOO_NEW),
            False,
        ),  # CloudTrail will have it in minutes
        (not_found("i-0abc1234567890def", Reason.DENIED), False),
        (not_found("i-0abc1234567890def", source=Source.TRAIL_LOGS), False),
        # The service says it was made before the archive's first day: nothing to read.
        (
            not_found("i-0abc1234567890def", created_at_hint=datetime(2022, 6, 1, tzinfo=UTC)),
            False,
        ),
    ],
)
def test_which_answers_the_archive_is_asked_about(answer: LookupAnswer, applies: bool) -> None:
    assert search(RecordingArchive()).applies(answer) is applies


def test_a_bare_id_searched_in_several_accounts_is_asked_in_all_of_them() -> None:
    archive = RecordingArchive()
    answer = not_found("orders-api", Reason.NOT_IN_REGIONS, accounts_searched=(OWN, A, B))
    search(archive).answer(answer)
    [query] = archive.queries
    assert query.accounts == (OWN, A, B) and query.region is None
    assert (query.since, query.until) == (date(2023, 1, 1), NOW.date())
    assert query.event_names  # every creation event of any type: the name says no type


def test_an_account_asked_for_and_the_region_given_narrow_the_query() -> None:
    archive = RecordingArchive()
    ref = in_account(parse("i-0abc1234567890def"), A)
    hint = datetime(2024, 3, 4, 14, 5, tzinfo=UTC)
    search(archive).answer(
        LookupAnswer(ref=ref, reason=Reason.NOT_IN_WINDOW, created_at_hint=hint), "eu-west-1"
    )
    [query] = archive.queries
    assert (query.accounts, query.region) == ((A,), "eu-west-1")
    assert query.days == (date(2024, 3, 4),) and query.event_names == ("RunInstances",)


def test_of_two_creations_of_one_name_the_one_before_the_services_time_answers() -> None:
    first = records.create_role(
        "admin", datetime(2023, 2, 1, tzinfo=UTC), records.iam_user("alice"), agent=records.CLI
    )
    again = records.create_role(
        "admin", datetime(2024, 9, 1, tzinfo=UTC), records.iam_user("bob"), agent=records.CLI
    )
    archive = RecordingArchive(again, first)
    answer = not_found(
        f"arn:aws:iam::{OWN}:role/admin", created_at_hint=datetime(2023, 2, 1, 0, 0, 5, tzinfo=UTC)
    )
    found = search(archive).answer(answer)
    assert found.fact is not None and found.fact.actor.name == "alice"
    assert found.source is Source.ARCHIVE and found.reason is None
