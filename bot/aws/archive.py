"""One Athena query on the organization trail's archive: start it, wait for it with backoff up to
a timeout (then stop it), and read its rows back as CloudTrail records.

What a query may cost is the workgroup's business: its per-query bytes scanned limit makes Athena
cancel a query that reads more, and that is reported as "query cancelled: scan limit" in plain
words. Nothing raises for AWS trouble: the result says what went wrong, in words fit for anyone
who asked (they reach Slack): the kind of failure, e.g. "the archive query failed (Athena: table
not found, user error)", never Athena's own text, which quotes the query, the catalog and its
tables. That text is logged at WARNING with the query's id.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from bot.aws.errors import error_code, is_denied
from bot.core.archive_query import ArchiveQuery, columns_of, query_text, records_from_rows
from bot.core.policy import Archive

logger = logging.getLogger(__name__)

FIRST_POLL_S = 0.5
POLL_GROWTH = 1.6
LONGEST_POLL_S = 5.0
PAGE_ROWS = 1000  # GetQueryResults' largest page
DONE = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
SCAN_LIMIT_WORDS = "bytes scanned limit"  # what Athena's reason says when the limit stops one
# Athena's error catalog: AthenaError.ErrorCategory.
ERROR_CATEGORIES = {1: "system error", 2: "user error", 3: "other error"}
# The error name a query engine's reason starts with: "TABLE_NOT_FOUND: line 28:6: …".
ERROR_NAME = re.compile(r"^\s*([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s*:")


@dataclass(frozen=True)
class ArchiveResult:
    """What one query gave: its text, the records read, or why there are none."""

    query: str
    records: tuple[dict[str, Any], ...] = ()
    failure: str | None = None  # plain words, e.g. "query cancelled: scan limit: …"; no
    # text of Athena's own (it is logged)
    execution_id: str | None = None
    scanned_bytes: int | None = None
    seconds: float = 0.0
    scan_limited: bool = field(default=False)

    @property
    def ok(self) -> bool:
        return self.failure is None


class TrailArchive:
    """`search(query)` → ArchiveResult, with the archive's database, table and workgroup."""

    def __init__(
        self,
        athena: Callable[[], Any],
        archive: Archive,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._athena = athena  # an Athena client in the archive's region
        self.archive = archive
        self._sleep = sleep
        self._monotonic = monotonic

    def search(self, query: ArchiveQuery) -> ArchiveResult:
        text = query_text(self.archive, query)
        started = self._monotonic()
        client = self._athena()
        try:
            execution_id = self._start(client, text)
        except ClientError as error:
            return ArchiveResult(text, failure=_refused("StartQueryExecution", error))
        except BotoCoreError as error:
            return ArchiveResult(text, failure=_unreachable("StartQueryExecution", error))
        begun = ArchiveResult(text, execution_id=execution_id)
        try:
            status, statistics = self._wait(client, execution_id, started)
        except ClientError as error:
            return replace(begun, failure=_refused("GetQueryExecution", error))
        except BotoCoreError as error:
            return replace(begun, failure=_unreachable("GetQueryExecution", error))
        ran = replace(
            begun,
            scanned_bytes=statistics.get("DataScannedInBytes"),
            seconds=self._monotonic() - started,
        )
        state = status.get("State")
        logger.info(
            "archive query %s in workgroup %s: %s, %s bytes scanned, %.1f s",
            execution_id,
            self.archive.workgroup,
            state or "stopped unfinished",
            ran.scanned_bytes,
            ran.seconds,
        )
        if state is None:
            return replace(
                ran,
                failure=f"the archive query did not finish within {self.archive.timeout_s} s "
                "and was stopped",
            )
        if state != "SUCCEEDED":
            failure, limited = self._failure(execution_id, state, status)
            return replace(ran, failure=failure, scan_limited=limited)
        try:
            return replace(ran, records=tuple(self._records(client, execution_id)))
        except ClientError as error:
            return replace(ran, failure=_refused("GetQueryResults", error))
        except BotoCoreError as error:
            return replace(ran, failure=_unreachable("GetQueryResults", error))

    # Steps ---------------------------------------------------------------------------------

    def _start(self, client: Any, text: str) -> str:
        request: dict[str, Any] = {
            "QueryString": text,
            "QueryExecutionContext": {
                "Database": self.archive.database,
                "Catalog": self.archive.catalog,
            },
            "WorkGroup": self.archive.workgroup,
        }
        if self.archive.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.archive.output_location}
        return str(client.start_query_execution(**request)["QueryExecutionId"])

    def _wait(
        self, client: Any, execution_id: str, started: float
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(Status, Statistics) once done; Status without State when it timed out (stopped)."""
        delay = FIRST_POLL_S
        while True:
            execution = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution.get("Status") or {}
            if status.get("State") in DONE:
                return status, execution.get("Statistics") or {}
            left = self.archive.timeout_s - (self._monotonic() - started)
            if left <= 0:
                self._stop_query(client, execution_id)
                return {}, execution.get("Statistics") or {}
            self._sleep(min(delay, left))
            delay = min(delay * POLL_GROWTH, LONGEST_POLL_S)

    def _stop_query(self, client: Any, execution_id: str) -> None:
        """Stop what still runs: it would go on scanning (and costing) with nobody waiting."""
        try:
            client.stop_query_execution(QueryExecutionId=execution_id)
        except (ClientError, BotoCoreError):
            logger.exception("could not stop archive query %s", execution_id)

    def _failure(self, execution_id: str, state: str, status: dict[str, Any]) -> tuple[str, bool]:
        """(Plain words, whether the scan limit stopped it); Athena's own reason goes to the log."""
        error = status.get("AthenaError") or {}
        reason = str(status.get("StateChangeReason") or error.get("ErrorMessage") or "")
        logger.warning(
            "archive query %s in workgroup %s %s: %s (Athena error category %s, type %s)",
            execution_id,
            self.archive.workgroup,
            state,
            reason or "no reason given",
            error.get("ErrorCategory"),
            error.get("ErrorType"),
        )
        if SCAN_LIMIT_WORDS in reason.lower():
            return (
                f"query cancelled: scan limit: the workgroup {self.archive.workgroup} stops a "
                "query at its per-query bytes scanned limit; ask by ARN or with account= and "
                "region=, or set a later [athena] earliest",
                True,
            )
        what = "was cancelled" if state == "CANCELLED" else "failed"
        return f"the archive query {what} (Athena: {athena_kind(reason, error)})", False

    def _records(self, client: Any, execution_id: str) -> list[dict[str, Any]]:
        columns: list[str] = []
        rows: list[list[str | None]] = []
        pages = client.get_paginator("get_query_results").paginate(
            QueryExecutionId=execution_id, PaginationConfig={"PageSize": PAGE_ROWS}
        )
        for number, page in enumerate(pages):
            result = page.get("ResultSet") or {}
            if not columns:
                columns = columns_of(result.get("ResultSetMetadata") or {})
            page_rows = [
                [cell.get("VarCharValue") for cell in row.get("Data", [])]
                for row in result.get("Rows", [])
            ]
            # A SELECT's first row holds the column names.
            if number == 0 and page_rows and page_rows[0] == columns:
                page_rows = page_rows[1:]
            rows.extend(page_rows)
        return records_from_rows(columns, rows)


def athena_kind(reason: str, error: dict[str, Any]) -> str:
    """The kind of a query's failure, in words: the error name its reason starts with
    (`TABLE_NOT_FOUND` → "table not found"), and the error catalog's category and type."""
    kinds: list[str] = []
    named = ERROR_NAME.match(reason)
    if named:
        kinds.append(named.group(1).lower().replace("_", " "))
    category = error.get("ErrorCategory")
    if category in ERROR_CATEGORIES:
        kinds.append(ERROR_CATEGORIES[category])
    kind = error.get("ErrorType")
    if isinstance(kind, int) and not isinstance(kind, bool):
        kinds.append(f"error type {kind}")
    return ", ".join(kinds) or "no reason given"


def _refused(operation: str, error: ClientError) -> str:
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message") or "")
    logger.warning("Athena refused %s (%s): %s", operation, code, message[:1000])
    if is_denied(error):
        return (
            f"athena:{operation} denied ({code}): the credentials need the archive permissions "
            "(deploy/iam/archive.json; whocreated check lists them)"
        )
    return f"Athena refused {operation} ({code})"


def _unreachable(operation: str, error: BotoCoreError) -> str:
    logger.warning("Athena %s failed: %s", operation, error)
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
        return "Athena could not be reached"
    if isinstance(error, ReadTimeoutError):
        return "Athena did not answer in time"
    return f"the Athena call failed ({type(error).__name__})"
