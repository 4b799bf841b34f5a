"""The trail archive for tests: rows as Athena returns them for a CloudTrail record, queued in
moto's Athena (which runs no SQL: a test says what a query answers), and the queries it ran.

A row is what AWS's documented CloudTrail table gives for a record: struct fields read one by
one, request and response as their JSON text, readOnly as "true"/"false", NULL for what the
record lacks; GetQueryResults' first row holds the column names, as for any SELECT.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from moto.athena.models import QueryResults, athena_backends

from bot.core.policy import Archive

ARCHIVE = Archive(
    database="cloudtrail",
    table="org_trail",
    earliest=date(2023, 1, 1),
    workgroup="whocreated",
    output_location="s3://athena-results-bucket/whocreated/",
)


def _get(record: Mapping[str, Any], *path: str) -> Any:
    node: Any = record
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def athena_row(record: Mapping[str, Any]) -> dict[str, str | None]:
    """The query's columns for one record, as Athena reads them from the trail's JSON."""
    identity = ("userIdentity",)
    session = (*identity, "sessionContext")
    issuer = (*session, "sessionIssuer")
    return {
        "eventversion": _text(_get(record, "eventVersion")),
        "identity_type": _text(_get(record, *identity, "type")),
        "identity_principalid": _text(_get(record, *identity, "principalId")),
        "identity_arn": _text(_get(record, *identity, "arn")),
        "identity_accountid": _text(_get(record, *identity, "accountId")),
        "identity_invokedby": _text(_get(record, *identity, "invokedBy")),
        "identity_accesskeyid": _text(_get(record, *identity, "accessKeyId")),
        "identity_username": _text(_get(record, *identity, "userName")),
        "session_creationdate": _text(_get(record, *session, "attributes", "creationDate")),
        "session_mfaauthenticated": _text(_get(record, *session, "attributes", "mfaAuthenticated")),
        "issuer_type": _text(_get(record, *issuer, "type")),
        "issuer_principalid": _text(_get(record, *issuer, "principalId")),
        "issuer_arn": _text(_get(record, *issuer, "arn")),
        "issuer_accountid": _text(_get(record, *issuer, "accountId")),
        "issuer_username": _text(_get(record, *issuer, "userName")),
        "eventtime": _text(record.get("eventTime")),
        "eventsource": _text(record.get("eventSource")),
        "eventname": _text(record.get("eventName")),
        "awsregion": _text(record.get("awsRegion")),
        "sourceipaddress": _text(record.get("sourceIPAddress")),
        "useragent": _text(record.get("userAgent")),
        "errorcode": _text(record.get("errorCode")),
        "requestparameters": _text(record.get("requestParameters")),
        "responseelements": _text(record.get("responseElements")),
        "requestid": _text(record.get("requestID")),
        "eventid": _text(record.get("eventID")),
        "readonly": _text(record.get("readOnly")),
        "eventtype": _text(record.get("eventType")),
        "recipientaccountid": _text(record.get("recipientAccountId")),
    }


def result_set(records: Iterable[Mapping[str, Any]]) -> tuple[list[dict], list[dict]]:
    """(Rows, ColumnInfo) of GetQueryResults: the header row, then one row per record."""
    rows = [athena_row(record) for record in records]
    names = list(athena_row({}))
    column_info = [{"Name": name, "Label": name, "Type": "varchar"} for name in names]
    data = [{"Data": [{"VarCharValue": name} for name in names]}]
    for row in rows:
        data.append(
            {"Data": [{} if row[name] is None else {"VarCharValue": row[name]} for name in names]}
        )
    return data, column_info


def queue_results(account: str, region: str, *answers: Iterable[Mapping[str, Any]]) -> None:
    """What moto's Athena answers to the next queries started in this account and region, one
    answer (records) per query, in order."""
    backend = athena_backends[account][region]
    for records in answers:
        rows, column_info = result_set(records)
        backend.query_results_queue.append(QueryResults(rows=rows, column_info=column_info))


def executed(account: str, region: str) -> list[Any]:
    """The executions moto's Athena received: each has .query, .context, .config, .workgroup."""
    return list(athena_backends[account][region].executions.values())
