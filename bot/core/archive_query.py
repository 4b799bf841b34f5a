"""The Athena query that looks for creations in the organization trail's archive, and the
CloudTrail records read back from its rows.

The table is the one AWS documents for CloudTrail logs with partition projection, partitioned by
account, region and day (see the README, "Beyond 90 days"). A query names the partitions it
needs, so Athena reads only those objects: the account (always), the region (when known), and
either the few days around a creation time the service reported (a hint), or every day from the
configured earliest one. Rows are then narrowed to the creation events of the resource's type,
without an error, that name the id or name in their request or response. The workgroup's
per-query bytes scanned limit is what bounds a query's cost; nothing here can.

Pure: values in, text and records out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.core.policy import Archive

# Around a creation time the service reported: the create call is logged before it, clocks
# differ a little, and a log file lands in the folder of the day it was delivered (up to about
# 15 minutes after the call), so a call just before midnight may be in the next day's.
HINT_BEFORE = timedelta(hours=1)
HINT_AFTER = timedelta(minutes=45)
ROWS_PER_NAME = 50  # a name can be created again and again; enough for any real history
MAX_ROWS = 100_000

# What the query selects, and where each value goes in the rebuilt CloudTrail record. The
# columns are those of AWS's documented CloudTrail table (struct fields in lower case).
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("eventversion", "eventversion", ("eventVersion",)),
    ("useridentity.type", "identity_type", ("userIdentity", "type")),
    ("useridentity.principalid", "identity_principalid", ("userIdentity", "principalId")),
    ("useridentity.arn", "identity_arn", ("userIdentity", "arn")),
    ("useridentity.accountid", "identity_accountid", ("userIdentity", "accountId")),
    ("useridentity.invokedby", "identity_invokedby", ("userIdentity", "invokedBy")),
    ("useridentity.accesskeyid", "identity_accesskeyid", ("userIdentity", "accessKeyId")),
    ("useridentity.username", "identity_username", ("userIdentity", "userName")),
    (
        "useridentity.sessioncontext.attributes.creationdate",
        "session_creationdate",
        ("userIdentity", "sessionContext", "attributes", "creationDate"),
    ),
    (
        "useridentity.sessioncontext.attributes.mfaauthenticated",
        "session_mfaauthenticated",
        ("userIdentity", "sessionContext", "attributes", "mfaAuthenticated"),
    ),
    (
        "useridentity.sessioncontext.sessionissuer.type",
        "issuer_type",
        ("userIdentity", "sessionContext", "sessionIssuer", "type"),
    ),
    (
        "useridentity.sessioncontext.sessionissuer.principalid",
        "issuer_principalid",
        ("userIdentity", "sessionContext", "sessionIssuer", "principalId"),
    ),
    (
        "useridentity.sessioncontext.sessionissuer.arn",
        "issuer_arn",
        ("userIdentity", "sessionContext", "sessionIssuer", "arn"),
    ),
    (
        "useridentity.sessioncontext.sessionissuer.accountid",
        "issuer_accountid",
        ("userIdentity", "sessionContext", "sessionIssuer", "accountId"),
    ),
    (
        "useridentity.sessioncontext.sessionissuer.username",
        "issuer_username",
        ("userIdentity", "sessionContext", "sessionIssuer", "userName"),
    ),
    ("eventtime", "eventtime", ("eventTime",)),
    ("eventsource", "eventsource", ("eventSource",)),
    ("eventname", "eventname", ("eventName",)),
    ("awsregion", "awsregion", ("awsRegion",)),
    ("sourceipaddress", "sourceipaddress", ("sourceIPAddress",)),
    ("useragent", "useragent", ("userAgent",)),
    ("errorcode", "errorcode", ("errorCode",)),
    ("requestparameters", "requestparameters", ("requestParameters",)),
    ("responseelements", "responseelements", ("responseElements",)),
    ("requestid", "requestid", ("requestID",)),
    ("eventid", "eventid", ("eventID",)),
    ("readonly", "readonly", ("readOnly",)),
    ("eventtype", "eventtype", ("eventType",)),
    ("recipientaccountid", "recipientaccountid", ("recipientAccountId",)),
)
_JSON_FIELDS = frozenset({"requestparameters", "responseelements"})
_REGEX_SPECIALS = frozenset("\\^$.|?*+()[]{}")


@dataclass(frozen=True)
class ArchiveQuery:
    """One search: the accounts (and region) whose partitions are read, the ids and names to
    find, the events that create them, and the days: a hint's few, else since…until."""

    accounts: tuple[str, ...]
    region: str | None
    names: tuple[str, ...]
    event_names: tuple[str, ...]
    days: tuple[date, ...] = ()
    since: date | None = None
    until: date | None = None

    @property
    def limit(self) -> int:
        return min(MAX_ROWS, max(1000, ROWS_PER_NAME * len(self.names)))


def days_around(moments: Iterable[datetime]) -> tuple[date, ...]:
    """The days whose partitions may hold the creation of something made at each moment."""
    days: set[date] = set()
    for moment in moments:
        day, last = (moment - HINT_BEFORE).date(), (moment + HINT_AFTER).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return tuple(sorted(days))


def query_text(archive: Archive, query: ArchiveQuery) -> str:
    """The SQL (Athena engine 3) for `query` on the archive's table."""
    if not query.accounts or not query.names or not query.event_names:
        raise ValueError("an archive query needs accounts, names and event names")
    if not query.days and (query.since is None or query.until is None):
        raise ValueError("an archive query needs days, or since and until")
    where = [_equals_or_in(archive.account_partition, query.accounts)]
    if query.region:
        where.append(f"{_name(archive.region_partition)} = {_literal(query.region)}")
    day = _name(archive.date_partition)
    if query.days:
        days = ", ".join(_literal(_spelled(d, archive.date_format)) for d in query.days)
        where.append(f"{day} IN ({days})")
    else:
        assert query.since is not None and query.until is not None
        where.append(f"{day} >= {_literal(_spelled(query.since, archive.date_format))}")
        where.append(f"{day} <= {_literal(_spelled(query.until, archive.date_format))}")
    events = ", ".join(_literal(name) for name in dict.fromkeys(query.event_names))
    where.append(f"eventname IN ({events})")
    where.append("errorcode IS NULL")
    pattern = _literal("(?i)" + "|".join(_regex(name) for name in dict.fromkeys(query.names)))
    where.append(
        f"(regexp_like(responseelements, {pattern}) OR regexp_like(requestparameters, {pattern}))"
    )
    columns = ",\n  ".join(
        expression if expression == alias else f"{expression} AS {alias}"
        for expression, alias, _ in COLUMNS
    )
    return (
        f"SELECT\n  {columns}\n"
        f"FROM {_name(archive.database)}.{_name(archive.table)}\n"
        f"WHERE " + "\n  AND ".join(where) + "\n"
        f"ORDER BY eventtime DESC\n"
        f"LIMIT {query.limit}"
    )


def records_from_rows(
    columns: Sequence[str], rows: Iterable[Sequence[str | None]]
) -> list[dict[str, Any]]:
    """CloudTrail records, as a trail writes them, from the query's rows (None: SQL NULL).
    A request or response that is not JSON stays the text it was (no creation is read from it)."""
    index = {alias: position for position, alias in enumerate(columns)}
    records = []
    for row in rows:
        record: dict[str, Any] = {}
        for _, alias, path in COLUMNS:
            position = index.get(alias)
            value = row[position] if position is not None and position < len(row) else None
            if value is None:
                continue
            _put(record, path, _value(alias, value))
        if record:
            records.append(record)
    return records


def _value(alias: str, value: str) -> Any:
    if alias in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if alias == "readonly":
        return value.lower() == "true"
    return value


def _put(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = record
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _equals_or_in(column: str, values: Sequence[str]) -> str:
    unique = list(dict.fromkeys(values))
    if len(unique) == 1:
        return f"{_name(column)} = {_literal(unique[0])}"
    return f"{_name(column)} IN ({', '.join(_literal(value) for value in unique)})"


def _name(identifier: str) -> str:
    """A quoted identifier ("timestamp" is a reserved word in Athena's SQL)."""
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _regex(name: str) -> str:
    """`name` matched as it is in a regular expression."""
    return "".join(f"\\{ch}" if ch in _REGEX_SPECIALS else ch for ch in name)


def _spelled(day: date, date_format: str) -> str:
    return day.strftime("%Y-%m-%d" if date_format == "yyyy-MM-dd" else "%Y/%m/%d")


def columns_of(metadata: Mapping[str, Any]) -> list[str]:
    """Column names from GetQueryResults' ResultSetMetadata."""
    return [
        str(info.get("Name") or info.get("Label") or "") for info in metadata.get("ColumnInfo", [])
    ]
