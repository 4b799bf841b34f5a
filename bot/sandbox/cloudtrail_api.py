"""A CloudTrail LookupEvents stand-in: a loopback HTTP server speaking AWS's JSON 1.1 protocol.

boto3 reaches it through ``endpoint_url`` (or ``AWS_ENDPOINT_URL_CLOUDTRAIL``), so boto3's own
signing, parsing, paging and retries run against it, as they would against AWS. It serves the tests,
the demo and the benchmarks, and behaves like the real service where the product depends on it:

- exactly one LookupAttribute (or none: every event); more → ``InvalidLookupAttributesException``;
- StartTime/EndTime inclusive, MaxResults 1..50 (default 50), opaque NextToken paging, newest first;
- only the last 90 days, measured on the server's clock (injectable, so tests can set "now");
- the region is taken from each request's SigV4 credential scope, as AWS routes by endpoint;
- the account, when asked for (``account_of``), from the request's access key, as AWS answers
  each caller from its own account's event history: given a function from access key id to
  account id (moto's ``moto.iam.models.get_account_id_from`` knows the keys its STS handed out
  for an assumed role), records are kept per ``recipientAccountId`` and a caller sees only its
  account's; without one, every caller sees every record (one account);
- ``ThrottlingException`` above 2 requests per second per account and region (sliding window;
  configurable);
- optional per-call latency, a per-region (or per-account and region) ``AccessDeniedException``
  switch, and a thread-safe counter of calls per account, region and operation, so tests and
  benchmarks can assert call counts.

Which events a ResourceName matches is an ASSUMPTION. Real CloudTrail builds each event's resource
list itself, per event type, and matches ResourceName against that list. This stand-in matches every
id, name and ARN referenced anywhere in the event's ``requestParameters``, ``responseElements``
and ``resources`` (every string value without whitespace, plus the last part of each ARN). That is
broader than AWS, and deliberately independent of ``bot.core.events``: the code under test must
decide which event created a resource on its own, never by sharing this module's matching table.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.sandbox.loopback import CountingServer, request_headers

logger = logging.getLogger(__name__)

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
LOOKUP_EVENTS = "LookupEvents"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
RETENTION = timedelta(days=90)
MAX_PAGE = 50

LOOKUP_ATTRIBUTES = (
    "ResourceName",
    "EventName",
    "EventId",
    "Username",
    "EventSource",
    "ReadOnly",
    "ResourceType",
    "AccessKeyId",
)
_ALL = ("*", "*")  # index key of every event in a region (a lookup without attributes)
ANY_ACCOUNT = "*"  # the one account of a stand-in that does not tell accounts apart
_CREDENTIAL = re.compile(r"Credential=(?P<akid>[^/,\s]+)/\d{8}/(?P<region>[^/,\s]+)/[^/,\s]+/")
# A few id prefixes, only to fill each event's Resources list the way the real API shows it.
_RESOURCE_TYPES = {
    "i": "AWS::EC2::Instance",
    "vol": "AWS::EC2::Volume",
    "snap": "AWS::EC2::Snapshot",
    "ami": "AWS::EC2::Ami",
    "sg": "AWS::EC2::SecurityGroup",
    "eni": "AWS::EC2::NetworkInterface",
    "subnet": "AWS::EC2::Subnet",
    "vpc": "AWS::EC2::VPC",
    "nat": "AWS::EC2::NatGateway",
    "eipalloc": "AWS::EC2::EIP",
}
_ID_SHAPE = re.compile(r"^(?P<prefix>[a-z]+)-[0-9a-f]{8,17}$")
_READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Lookup", "Head", "Search")
_MAX_INDEXED_LENGTH = 1600  # names and ARNs are shorter; skip policy documents and the like


class ApiError(Exception):
    """An error answered the way AWS JSON 1.1 services do: a status and a ``__type``."""

    def __init__(self, code: str, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class _Stored:
    """One event as the API returns it, plus its sort key."""

    time: float
    seq: int
    api: Mapping[str, Any]


class EventStore:
    """Events per account and region, indexed by every lookup attribute value → events sorted
    by time.

    A lookup is two binary searches in one sorted list, so thousands of events per resource and
    tens of thousands of resources stay fast. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[int, _Stored] = {}
        self._index: dict[tuple[str, str], dict[tuple[str, str], list[tuple[float, int]]]] = {}
        self._ids: set[tuple[str, str, str]] = set()
        self._seq = 0

    def add(
        self, record: Mapping[str, Any], region: str | None = None, account: str = ANY_ACCOUNT
    ) -> bool:
        """Store a CloudTrail record; False when its (account, region, eventID) is stored."""
        region = region or record.get("awsRegion")
        if not region:
            raise ValueError("record has no awsRegion; pass region=")
        when = _parse_time(record.get("eventTime"))
        event_id = str(record.get("eventID") or uuid.uuid4())
        api = _api_event(record, event_id, when)
        keys = _lookup_keys(record, api)
        with self._lock:
            if (account, region, event_id) in self._ids:
                return False
            self._ids.add((account, region, event_id))
            self._seq += 1
            stored = _Stored(when, self._seq, api)
            self._events[stored.seq] = stored
            by_key = self._index.setdefault((account, region), {})
            for key in (*keys, _ALL):
                bisect.insort(by_key.setdefault(key, []), (stored.time, stored.seq))
        return True

    def query(
        self,
        region: str,
        key: tuple[str, str],
        start: float,
        end: float,
        limit: int,
        before: tuple[float, int] | None = None,
        account: str = ANY_ACCOUNT,
    ) -> tuple[list[Mapping[str, Any]], tuple[float, int] | None]:
        """Events for `key` with start <= time <= end, newest first, older than `before`.

        Returns the page and the cursor of its last event when more remain.
        """
        with self._lock:
            keys = self._index.get((account, region), {}).get(key, [])
            low = bisect.bisect_left(keys, (start, -1))
            high = bisect.bisect_right(keys, (end, float("inf")))
            if before is not None:
                high = min(high, bisect.bisect_left(keys, before))
            chosen = keys[max(low, high - limit) : high][::-1]
            page = [self._events[seq].api for _, seq in chosen]
            more = high - limit > low
        return page, (chosen[-1] if more and chosen else None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


class _SlidingWindow:
    """At most `limit` accepted requests in any `period` seconds, per key. Thread-safe."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._accepted: dict[str, deque[float]] = {}

    def admit(self, key: str, limit: float, period: float) -> bool:
        with self._lock:
            now = self._monotonic()
            accepted = self._accepted.setdefault(key, deque())
            while accepted and accepted[0] <= now - period:
                accepted.popleft()
            if len(accepted) >= limit:
                return False  # a throttled request does not use up capacity, as with AWS
            accepted.append(now)
            return True


class CloudTrailServer(CountingServer):
    """LookupEvents on 127.0.0.1; use as a context manager, point boto3 at `endpoint_url`.

    >>> with CloudTrailServer(clock=lambda: now) as trail:
    ...     trail.add(record)
    ...     boto3.client("cloudtrail", endpoint_url=trail.endpoint_url, region_name="us-east-1")

    Settings can be changed while it runs: `throttle_rate` (requests per `throttle_period` seconds
    per account and region; None disables throttling), `latency` (seconds added to each call),
    `delivery_delay` (events younger than this are not visible yet, as CloudTrail takes minutes
    to deliver). `account_of` (access key id → account id) makes it tell accounts apart.
    """

    thread_name = "cloudtrail-standin"
    counter_prefix = "cloudtrail:"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        throttle_rate: float | None = 2,
        throttle_period: float = 1.0,
        latency: float = 0.0,
        delivery_delay: timedelta = timedelta(0),
        retention: timedelta = RETENTION,
        host: str = "127.0.0.1",
        port: int = 0,
        account_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.account_of = account_of
        self.throttle_rate = throttle_rate
        self.throttle_period = throttle_period
        self.latency = latency
        self.delivery_delay = delivery_delay
        self.retention = retention
        self.store = EventStore()
        self._window = _SlidingWindow(monotonic)
        self._denied: set[tuple[str, str]] = set()  # (account or ANY_ACCOUNT, region)
        self._counts: Counter[tuple[str, str]] = Counter()
        self._account_counts: Counter[tuple[str, str, str]] = Counter()
        self._throttled: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._http = _HttpServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # Data and switches -----------------------------------------------------------------------

    def add(
        self, record: Mapping[str, Any], region: str | None = None, account: str | None = None
    ) -> bool:
        """Store one CloudTrail record in `region` (default: its awsRegion) and, when the stand-in
        tells accounts apart, in `account` (default: its recipientAccountId)."""
        return self.store.add(record, region, self._account_for(record, account))

    def add_many(
        self,
        records: Iterable[Mapping[str, Any]],
        region: str | None = None,
        account: str | None = None,
    ) -> int:
        """Store records; returns how many were new."""
        return sum(self.add(record, region, account) for record in records)

    def _account_for(self, record: Mapping[str, Any], account: str | None) -> str:
        if self.account_of is None:
            return ANY_ACCOUNT
        chosen = account or record.get("recipientAccountId")
        if not isinstance(chosen, str) or not chosen:
            raise ValueError("record has no recipientAccountId; pass account=")
        return chosen

    def deny(self, region: str, account: str | None = None) -> None:
        """Answer AccessDeniedException to every call in `region` (an SCP, a missing permission),
        of every account or of one."""
        with self._lock:
            self._denied.add((account or ANY_ACCOUNT, region))

    def allow(self, region: str, account: str | None = None) -> None:
        with self._lock:
            self._denied.discard((account or ANY_ACCOUNT, region))

    # Counters ---------------------------------------------------------------------------------

    def calls(
        self,
        region: str | None = None,
        operation: str | None = LOOKUP_EVENTS,
        account: str | None = None,
    ) -> int:
        """Requests received (throttled and denied ones included), filtered by region, operation
        and, when the stand-in tells accounts apart, the caller's account."""
        if account is None:
            return self._requests(region, operation)
        with self._lock:
            return sum(
                count
                for (acc, reg, op), count in self._account_counts.items()
                if acc == account
                and (region is None or reg == region)
                and (operation is None or op == operation)
            )

    def throttled(self, region: str | None = None) -> int:
        """Requests answered with ThrottlingException."""
        with self._lock:
            if region is None:
                return sum(self._throttled.values())
            return self._throttled[region]

    def reset_counts(self) -> None:
        super().reset_counts()
        with self._lock:
            self._throttled.clear()
            self._account_counts.clear()

    # Request handling -------------------------------------------------------------------------

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """One JSON 1.1 request → (status, response body); errors become AWS-shaped bodies."""
        try:
            return HTTPStatus.OK, self._dispatch(headers, body)
        except ApiError as error:
            return error.status, {"__type": error.code, "message": error.message}
        except Exception:
            # A bug here must show as a failed call (boto3 retries, then raises), not a hang.
            logger.exception("cloudtrail stand-in failed on a request")
            error_body = {"__type": "InternalFailure", "message": "stand-in error"}
            return HTTPStatus.INTERNAL_SERVER_ERROR, error_body

    def _dispatch(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        target = headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        credential = _CREDENTIAL.search(headers.get("Authorization", ""))
        if credential is None:
            raise ApiError(
                "MissingAuthenticationTokenException",
                "Request is missing a SigV4 Authorization header",
                HTTPStatus.FORBIDDEN,
            )
        region, access_key = credential["region"], credential["akid"]
        account = self._caller_account(access_key)
        with self._lock:
            self._counts[(region, operation or target or "unknown")] += 1
            self._account_counts[(account, region, operation or target or "unknown")] += 1
            denied = bool({(ANY_ACCOUNT, region), (account, region)} & self._denied)
        if self.latency > 0:
            time.sleep(self.latency)
        if operation != LOOKUP_EVENTS:
            raise ApiError(
                "UnknownOperationException", f"This stand-in serves only {LOOKUP_EVENTS}"
            )
        if denied:
            raise ApiError(
                "AccessDeniedException",
                f"User with access key {access_key} is not authorized to perform: "
                f"cloudtrail:LookupEvents in {region}",
            )
        rate = self.throttle_rate
        if rate is not None and not self._window.admit(
            f"{account}/{region}", rate, self.throttle_period
        ):
            with self._lock:
                self._throttled[region] += 1
            raise ApiError("ThrottlingException", "Rate exceeded")
        try:
            params = json.loads(body or b"{}")
        except ValueError as error:
            raise ApiError("SerializationException", f"body is not JSON: {error}") from error
        if not isinstance(params, dict):
            raise ApiError("SerializationException", "body must be a JSON object")
        return self._lookup_events(region, params, account)

    def _caller_account(self, access_key: str) -> str:
        if self.account_of is None:
            return ANY_ACCOUNT
        return self.account_of(access_key) or ANY_ACCOUNT

    def _lookup_events(
        self, region: str, params: Mapping[str, Any], account: str = ANY_ACCOUNT
    ) -> dict[str, Any]:
        key = _lookup_key(params.get("LookupAttributes") or [])
        now = self.clock().timestamp()
        oldest = now - self.retention.total_seconds()
        newest = now - self.delivery_delay.total_seconds()
        start = _number(params, "StartTime", oldest)
        end = _number(params, "EndTime", now)
        if start > end:
            raise ApiError("InvalidTimeRangeException", "StartTime must be before EndTime")
        limit = params.get("MaxResults", MAX_PAGE)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise ApiError("InvalidMaxResultsException", f"MaxResults must be 1..{MAX_PAGE}")
        category = params.get("EventCategory")
        if category not in (None, "insight"):
            raise ApiError("InvalidEventCategoryException", f"unknown EventCategory {category!r}")
        if category == "insight":
            return {"Events": []}  # the stand-in records no Insights events
        # Defaults are left out: a default EndTime (now) moves between pages.
        fingerprint = _fingerprint(key, params.get("StartTime"), params.get("EndTime"))
        before = _decode_token(params["NextToken"], fingerprint) if "NextToken" in params else None
        events, cursor = self.store.query(
            region, key, max(start, oldest), min(end, newest), limit, before, account
        )
        answer: dict[str, Any] = {"Events": events}
        if cursor is not None:
            answer["NextToken"] = _encode_token(cursor, fingerprint)
        return answer


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, app: CloudTrailServer) -> None:
        super().__init__(address, handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms delayed-ACK stall
    server: _HttpServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, answer = self.server.app.handle(request_headers(self), body)
        self._reply(status, answer)

    def do_GET(self) -> None:
        self._reply(HTTPStatus.NOT_FOUND, {"__type": "UnknownOperationException", "message": ""})

    def _reply(self, status: int, answer: Mapping[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("cloudtrail stand-in: " + format, *args)


# Record → API event --------------------------------------------------------------------------


def _api_event(record: Mapping[str, Any], event_id: str, when: float) -> dict[str, Any]:
    identity = record.get("userIdentity") or {}
    read_only = record.get("readOnly")
    if read_only is None:
        read_only = str(record.get("eventName", "")).startswith(_READ_ONLY_PREFIXES)
    event: dict[str, Any] = {
        "EventId": event_id,
        "EventName": record.get("eventName"),
        "ReadOnly": "true" if read_only else "false",
        "AccessKeyId": identity.get("accessKeyId"),
        "EventTime": when,
        "EventSource": record.get("eventSource"),
        "Username": _username(identity),
        "Resources": _resources(record),
        "CloudTrailEvent": json.dumps(record, default=str),
    }
    return {name: value for name, value in event.items() if value is not None}


def _username(identity: Mapping[str, Any]) -> str | None:
    """What the console's "User name" column shows: userName, else the session or ARN tail."""
    if identity.get("userName"):
        return str(identity["userName"])
    if identity.get("type") == "Root":
        return "root"
    arn = identity.get("arn")
    if isinstance(arn, str) and "/" in arn:
        return arn.rsplit("/", 1)[-1]
    return identity.get("invokedBy") or identity.get("principalId")


def _resources(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """A plausible Resources list: the record's own resources plus id-shaped references."""
    found: dict[str, str] = {}
    for item in record.get("resources") or []:
        if isinstance(item, Mapping) and item.get("ARN"):
            found[str(item["ARN"])] = str(item.get("type") or "")
    for value in _referenced(record):
        match = _ID_SHAPE.match(value)
        if match and match["prefix"] in _RESOURCE_TYPES:
            found.setdefault(value, _RESOURCE_TYPES[match["prefix"]])
    return [
        {"ResourceType": rtype, "ResourceName": name} if rtype else {"ResourceName": name}
        for name, rtype in found.items()
    ]


def _lookup_keys(record: Mapping[str, Any], api: Mapping[str, Any]) -> set[tuple[str, str]]:
    keys = {("ResourceName", name) for name in _referenced(record)}
    keys |= {
        ("ResourceType", item["ResourceType"])
        for item in api["Resources"]
        if "ResourceType" in item
    }
    for attribute in ("EventName", "EventId", "Username", "EventSource", "ReadOnly", "AccessKeyId"):
        if api.get(attribute) is not None:
            keys.add((attribute, str(api[attribute])))
    return keys


def _referenced(record: Mapping[str, Any]) -> set[str]:
    """Every id, name and ARN the record names (see the module docstring: an assumption)."""
    names: set[str] = set()
    for part in ("requestParameters", "responseElements", "resources"):
        for value in _strings(record.get(part)):
            if not value or len(value) > _MAX_INDEXED_LENGTH or any(c.isspace() for c in value):
                continue
            names.add(value)
            if value.startswith("arn:"):
                tail = re.split(r"[/:]", value)[-1]
                if tail:
                    names.add(tail)
    return names


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _parse_time(value: Any) -> float:
    if not isinstance(value, str):
        raise ValueError(f"record has no eventTime string: {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


# Request parsing -----------------------------------------------------------------------------


def _lookup_key(attributes: Any) -> tuple[str, str]:
    if not isinstance(attributes, list) or len(attributes) > 1:
        raise ApiError(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        )
    if not attributes:
        return _ALL
    attribute = attributes[0] if isinstance(attributes[0], dict) else {}
    name, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
    if name not in LOOKUP_ATTRIBUTES or not isinstance(value, str) or not value:
        raise ApiError(
            "InvalidLookupAttributesException",
            f"AttributeKey must be one of {', '.join(LOOKUP_ATTRIBUTES)} with a non-empty value",
        )
    return name, value


def _number(params: Mapping[str, Any], name: str, default: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError("SerializationException", f"{name} must be epoch seconds")
    return float(value)


def _fingerprint(key: tuple[str, str], start: Any, end: Any) -> str:
    return hashlib.sha256(json.dumps([*key, start, end]).encode()).hexdigest()[:16]


def _encode_token(cursor: tuple[float, int], fingerprint: str) -> str:
    raw = json.dumps({"t": cursor[0], "s": cursor[1], "q": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, fingerprint: str) -> tuple[float, int]:
    """A token is valid only for the query that made it, as with AWS."""
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if data["q"] != fingerprint:
            raise ValueError("token belongs to another query")
        return float(data["t"]), int(data["s"])
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError("InvalidNextTokenException", "Invalid NextToken") from error
