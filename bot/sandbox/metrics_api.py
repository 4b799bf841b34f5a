"""A CloudWatch GetMetricData stand-in at the wire, indexed for fleet scale.

moto's get_metric_data scans every stored datapoint for every query, which cannot serve 10,000
resources (DESIGN.md §5). This loopback server keeps each series (region, namespace, metric name,
dimensions) as sorted arrays, so one query is two binary searches and a walk over its own points.

boto3 reaches it through ``endpoint_url`` (or ``AWS_ENDPOINT_URL_CLOUDWATCH``), so boto3's own
signing, validation, parsing and retries run against it. CloudWatch's model lists three protocols
and its ``protocol`` field names ``smithy-rpc-v2-cbor``, but botocore speaks the first one of its
own priority list that the service supports (``service_model.resolved_protocol``): boto3 1.44 sends
AWS JSON 1.0 (``X-Amz-Target: GraniteServiceVersion20100801.GetMetricData``). The stand-in answers
each request in its own protocol: JSON 1.0, and rpc-v2-cbor (``POST /service/
GraniteServiceVersion20100801/operation/<Operation>``) for a botocore that prefers CBOR.
Behaviour follows the real API where the product depends on it:

- GetMetricData: at most 500 MetricDataQueries (``ValidationError`` above), at most 100,800
  datapoints a response (or ``MaxDatapoints`` when smaller), then an opaque ``NextToken``; a query
  cut by the limit is ``PartialData`` and goes on in the next page. Each result has Id, Label
  (the query's, else the metric name), Timestamps, Values and StatusCode; newest first unless
  ``ScanBy=TimestampAscending``; a metric with no data answers empty arrays, ``Complete``.
  ``ReturnData: false`` queries are left out; ``Expression`` queries are not evaluated
  (``ValidationError``: a limit of the stand-in, not of AWS).
- GetMetricStatistics, the naive way (one metric per call): at most 1,440 datapoints a call
  (``InvalidParameterCombination`` above), Statistics or ExtendedStatistics, in time order.
- Stored datapoints are aggregated per Period with the requested statistic: Maximum, Minimum, Sum,
  Average, SampleCount, and percentiles ``pNN`` (nearest rank). Buckets start at StartTime (AWS
  also rounds StartTime to the period's boundary; callers here ask for aligned windows anyway). A
  ``Unit`` in the request filters, as with AWS: a series stored with another unit has no data.
- The region comes from each request's SigV4 credential scope, as AWS routes by endpoint; a
  thread-safe counter per region and ``"monitoring:<Operation>"``; an optional per-call latency.

CBOR is encoded and decoded with cbor2 (in the ``demo`` and ``test`` extras, never a dependency of
``serve``). botocore has a CBOR encoder and decoder too, but only as private, shape-driven helpers
of its client (``_serialize_data_item``, ``_initial_body_parse``) that may change in any release,
and its pure-Python encoder takes about 0.35 s for one full 100,800-point page where cbor2's C
encoder takes 0.05 s: the stand-in's own cost must not blur the benchmarks it serves.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import logging
import math
import re
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import cbor2

from bot.sandbox.loopback import CountingServer, request_headers

logger = logging.getLogger(__name__)

SERVICE = "monitoring"  # CloudWatch's endpoint prefix: counters read "monitoring:GetMetricData"
GET_METRIC_DATA = "GetMetricData"
GET_METRIC_STATISTICS = "GetMetricStatistics"
MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
MAX_STATISTICS_DATAPOINTS = 1_440
CBOR_CONTENT_TYPE = "application/cbor"
DEFAULT_REGION = "us-east-1"

TARGET_PREFIX = "GraniteServiceVersion20100801."
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_CBOR_PATH = re.compile(r"^/service/GraniteServiceVersion20100801/operation/(?P<operation>\w+)$")
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/,\s]+)/[^/,\s]+/")
_QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_PERCENTILE = re.compile(r"^p(?P<rank>\d{1,2}(\.\d{1,2})?|100)$")
_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_HIGH_RESOLUTION_PERIODS = (1, 5, 10, 30)

# {"InstanceId": "i-1"}, [{"Name": "InstanceId", "Value": "i-1"}] or (("InstanceId", "i-1"),)
Dimensions = Mapping[str, str] | Iterable[Mapping[str, str]] | Iterable[tuple[str, str]]
SeriesKey = tuple[str, str, str, tuple[tuple[str, str], ...]]  # region, namespace, metric, dims


class ApiError(Exception):
    """An error as AWS answers it for this query-compatible service: a code and a status."""

    def __init__(self, code: str, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def dimension_key(dimensions: Dimensions) -> tuple[tuple[str, str], ...]:
    """{"InstanceId": "i-1"} or [{"Name": "InstanceId", "Value": "i-1"}] → a sorted tuple.

    CloudWatch matches dimensions exactly and in any order: a metric with two dimensions is not
    found by a query naming one of them.
    """
    if isinstance(dimensions, Mapping):
        pairs = [(str(name), str(value)) for name, value in dimensions.items()]
    else:
        pairs = [
            (str(item["Name"]), str(item["Value"]))
            if isinstance(item, Mapping)
            else (str(item[0]), str(item[1]))
            for item in dimensions
        ]
    return tuple(sorted(pairs))


class _Series:
    """One metric's datapoints, sorted by time; arrays keep millions of points small."""

    __slots__ = ("times", "unit", "values")

    def __init__(self, unit: str) -> None:
        self.times = array("d")
        self.values = array("d")
        self.unit = unit


class MetricStore:
    """(region, namespace, metric, dimensions) → sorted series. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[SeriesKey, _Series] = {}
        self._points = 0

    def put(
        self,
        namespace: str,
        metric: str,
        dimensions: Dimensions,
        timestamps: Sequence[datetime | float],
        values: Sequence[float],
        *,
        region: str = DEFAULT_REGION,
        unit: str | None = None,
    ) -> int:
        """Store datapoints in bulk (datetimes or epoch seconds); returns how many."""
        if len(timestamps) != len(values):
            raise ValueError("timestamps and values differ in length")
        times = [_epoch(moment) for moment in timestamps]
        key = (region, namespace, metric, dimension_key(dimensions))
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series(unit or "None")
            in_order = all(a <= b for a, b in itertools.pairwise(times))
            if in_order and (not series.times or not times or series.times[-1] <= times[0]):
                series.times.extend(times)  # the usual case: newer points appended
                series.values.extend(float(value) for value in values)
            else:
                merged = sorted(
                    zip([*series.times, *times], [*series.values, *map(float, values)], strict=True)
                )
                series.times = array("d", (t for t, _ in merged))
                series.values = array("d", (v for _, v in merged))
            self._points += len(times)
        return len(times)

    def buckets(
        self,
        region: str,
        namespace: str,
        metric: str,
        dimensions: Dimensions,
        window: _Window,
        statistic: str,
        unit: str | None = None,
    ) -> tuple[list[float], list[float]]:
        """(bucket start times, values), oldest first; empty when nothing matches."""
        key = (region, namespace, metric, dimension_key(dimensions))
        with self._lock:
            series = self._series.get(key)
            if series is None or (unit is not None and unit != series.unit):
                return [], []
            return aggregate(series.times, series.values, window, statistic)

    def unit(self, region: str, namespace: str, metric: str, dimensions: Dimensions) -> str | None:
        with self._lock:
            series = self._series.get((region, namespace, metric, dimension_key(dimensions)))
            return series.unit if series else None

    def __len__(self) -> int:
        """Datapoints stored."""
        with self._lock:
            return self._points


@dataclass(frozen=True)
class _Window:
    start: float
    end: float
    period: int


def aggregate(
    times: Sequence[float], values: Sequence[float], window: _Window, statistic: str
) -> tuple[list[float], list[float]]:
    """Datapoints in [start, end) reduced per period with `statistic`; oldest first.

    Times are sorted, so each bucket is one contiguous slice found by binary search: the work is
    per bucket, not per stored point of the whole series.
    """
    reduce = _reducer(statistic)
    start, period = window.start, window.period
    index = bisect.bisect_left(times, start)
    last = bisect.bisect_left(times, window.end)
    stamps: list[float] = []
    found: list[float] = []
    while index < last:
        bucket = start + ((times[index] - start) // period) * period
        upto = bisect.bisect_left(times, bucket + period, index, last)
        stamps.append(bucket)
        found.append(reduce(values[index:upto]))
        index = upto
    return stamps, found


def _reducer(statistic: str) -> Any:
    simple = {
        "Maximum": max,
        "Minimum": min,
        "Sum": math.fsum,
        "SampleCount": lambda points: float(len(points)),
        "Average": lambda points: math.fsum(points) / len(points),
    }
    if statistic in simple:
        return simple[statistic]
    match = _PERCENTILE.match(statistic)
    if match is None:
        raise ValueError(statistic)
    rank = float(match["rank"]) / 100

    def percentile(points: Sequence[float]) -> float:
        ordered = sorted(points)
        return ordered[max(0, math.ceil(rank * len(ordered)) - 1)]

    return percentile


class MetricsServer(CountingServer):
    """GetMetricData and GetMetricStatistics on 127.0.0.1; point boto3 at `endpoint_url`.

    >>> with MetricsServer() as metrics:
    ...     metrics.put("AWS/EC2", "CPUUtilization", {"InstanceId": "i-1"}, times, values)
    ...     boto3.client("cloudwatch", endpoint_url=metrics.endpoint_url, region_name="us-east-1")

    `latency` (seconds added to each call) can be changed while it runs. `deny_after(n)` answers
    every GetMetricData call after the first `n` with AccessDenied, as when the role's policy
    changes in the middle of a round.
    """

    thread_name = "cloudwatch-standin"
    counter_prefix = f"{SERVICE}:"

    def __init__(self, *, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.latency = latency
        self.store = MetricStore()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._allowed: int | None = None  # GetMetricData calls answered before denials
        self._http = _HttpServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # Data and counters ----------------------------------------------------------------------

    def put(
        self,
        namespace: str,
        metric: str,
        dimensions: Dimensions,
        timestamps: Sequence[datetime | float],
        values: Sequence[float],
        *,
        region: str = DEFAULT_REGION,
        unit: str | None = None,
    ) -> int:
        """Store datapoints of one metric in bulk; see MetricStore.put."""
        return self.store.put(
            namespace, metric, dimensions, timestamps, values, region=region, unit=unit
        )

    def deny_after(self, calls: int) -> None:
        """GetMetricData calls after the next `calls` are denied."""
        with self._lock:
            self._allowed = self._requests_unlocked(GET_METRIC_DATA) + calls

    def _requests_unlocked(self, operation: str) -> int:
        return sum(count for (_, op), count in self._counts.items() if op == operation)

    def calls(self, region: str | None = None, operation: str | None = GET_METRIC_DATA) -> int:
        """Requests received (rejected ones included), filtered by region and operation."""
        return self._requests(region, operation)

    # Request handling -------------------------------------------------------------------------

    def handle(
        self, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        """One request → (status, body, headers), in the request's protocol (JSON 1.0 or CBOR)."""
        cbor_route = _CBOR_PATH.match(path)
        protocol: type[_Protocol] = _Cbor if cbor_route else _Json
        target = headers.get("X-Amz-Target", "")
        if cbor_route:
            operation = cbor_route["operation"]
        else:
            operation = target.removeprefix(TARGET_PREFIX) if target else path
        try:
            answer = self._dispatch(operation, headers, body, protocol)
            return HTTPStatus.OK, protocol.encode(answer), protocol.headers()
        except ApiError as error:
            return error.status, *protocol.error(error)
        except Exception:
            # A bug here must show as a failed call (boto3 retries, then raises), not a hang.
            logger.exception("cloudwatch stand-in failed on a request")
            failure = ApiError(
                "InternalServiceError", "stand-in error", HTTPStatus.INTERNAL_SERVER_ERROR
            )
            return failure.status, *protocol.error(failure)

    def _dispatch(
        self, operation: str, headers: Mapping[str, str], body: bytes, protocol: type[_Protocol]
    ) -> dict[str, Any]:
        credential = _CREDENTIAL.search(headers.get("Authorization", ""))
        if credential is None:
            raise ApiError(
                "MissingAuthenticationToken",
                "Request is missing a SigV4 Authorization header",
                HTTPStatus.FORBIDDEN,
            )
        region = credential["region"]
        with self._lock:
            self._counts[(region, operation)] += 1
            denied = (
                operation == GET_METRIC_DATA
                and self._allowed is not None
                and self._requests_unlocked(operation) > self._allowed
            )
        if denied:
            raise ApiError(
                "AccessDenied",
                "User is not authorized to perform: cloudwatch:GetMetricData",
                HTTPStatus.FORBIDDEN,
            )
        if self.latency > 0:
            time.sleep(self.latency)
        params = protocol.decode(body)
        if not isinstance(params, dict):
            raise ApiError("SerializationException", "the body must be an object")
        if operation == GET_METRIC_DATA:
            return self._get_metric_data(region, params)
        if operation == GET_METRIC_STATISTICS:
            return self._get_metric_statistics(region, params)
        raise ApiError(
            "UnknownOperationException",
            f"This stand-in serves only {GET_METRIC_DATA} and {GET_METRIC_STATISTICS}",
        )

    def _get_metric_data(self, region: str, params: Mapping[str, Any]) -> dict[str, Any]:
        queries = params.get("MetricDataQueries")
        if not isinstance(queries, list) or not queries:
            raise ApiError("ValidationError", "MetricDataQueries must hold at least one query")
        if len(queries) > MAX_QUERIES:
            raise ApiError(
                "ValidationError",
                "The collection MetricDataQueries must not have a size greater than "
                f"{MAX_QUERIES}.",
            )
        start, end = _time_range(params, "ValidationError")
        order = params.get("ScanBy", "TimestampDescending")
        if order not in ("TimestampDescending", "TimestampAscending"):
            raise ApiError("ValidationError", f"ScanBy {order!r} is not valid")
        limit = params.get("MaxDatapoints", MAX_DATAPOINTS)
        if not isinstance(limit, int) or limit < 1:
            raise ApiError("ValidationError", "MaxDatapoints must be a positive integer")
        limit = min(limit, MAX_DATAPOINTS)  # a response never holds more, whatever is asked
        checked = _check_queries(queries)
        fingerprint = _fingerprint(params)
        cursor = (0, 0)
        if "NextToken" in params:
            cursor = _decode_token(params["NextToken"], fingerprint, len(checked))
        results, cursor_after = self._page(region, checked, start, end, order, limit, cursor)
        answer: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if cursor_after is not None:
            answer["NextToken"] = _encode_token(cursor_after, fingerprint)
        return answer

    def _page(
        self,
        region: str,
        queries: Sequence[_Query],
        start: float,
        end: float,
        order: str,
        limit: int,
        cursor: tuple[int, int],
    ) -> tuple[list[dict[str, Any]], tuple[int, int] | None]:
        """Results from `cursor` (query index, points already sent) until `limit` points."""
        results: list[dict[str, Any]] = []
        room = limit
        first, offset = cursor
        for index in range(first, len(queries)):
            query = queries[index]
            stamps, values = self.store.buckets(
                region,
                query.namespace,
                query.metric,
                query.dimensions,
                _Window(start, end, query.period),
                query.stat,
                query.unit,
            )
            if order == "TimestampDescending":
                stamps.reverse()
                values.reverse()
            skip = offset if index == first else 0
            left = len(stamps) - skip
            if left > 0 and room == 0:
                return results, (index, skip)
            taken = min(left, room)
            room -= taken
            results.append(
                {
                    "Id": query.id,
                    "Label": query.label,
                    "Timestamps": stamps[skip : skip + taken],
                    "Values": values[skip : skip + taken],
                    "StatusCode": "Complete" if taken == left else "PartialData",
                }
            )
            if taken < left:
                return results, (index, skip + taken)
        return results, None

    def _get_metric_statistics(self, region: str, params: Mapping[str, Any]) -> dict[str, Any]:
        for name in ("Namespace", "MetricName", "StartTime", "EndTime", "Period"):
            if name not in params:
                raise ApiError("MissingParameter", f"The parameter {name} is required.")
        start, end = _time_range(params, "InvalidParameterValue")
        period = _period(params["Period"], "InvalidParameterValue", "Period")
        statistics = list(params.get("Statistics") or [])
        extended = list(params.get("ExtendedStatistics") or [])
        if bool(statistics) == bool(extended):
            raise ApiError(
                "InvalidParameterCombination",
                "Must specify either Statistics or ExtendedStatistics, but not both.",
            )
        for statistic in statistics:
            if statistic not in _STATISTICS:
                raise ApiError("InvalidParameterValue", f"The statistic {statistic} is not valid.")
        for statistic in extended:
            if not _PERCENTILE.match(str(statistic)):
                raise ApiError("InvalidParameterValue", f"The statistic {statistic} is not valid.")
        points = math.ceil((end - start) / period)
        if points > MAX_STATISTICS_DATAPOINTS:
            raise ApiError(
                "InvalidParameterCombination",
                f"You have requested up to {points} datapoints, which exceeds the limit of "
                f"{MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by "
                "increasing Period, or decreasing the time range.",
            )
        namespace, metric = str(params["Namespace"]), str(params["MetricName"])
        dimensions = params.get("Dimensions") or []
        unit = params.get("Unit")
        window = _Window(start, end, period)
        datapoints: dict[float, dict[str, Any]] = {}
        for statistic in [*statistics, *extended]:
            stamps, values = self.store.buckets(
                region, namespace, metric, dimensions, window, statistic, unit
            )
            for stamp, value in zip(stamps, values, strict=True):
                point = datapoints.setdefault(stamp, {"Timestamp": stamp})
                if statistic in _STATISTICS:
                    point[statistic] = value
                else:
                    point.setdefault("ExtendedStatistics", {})[statistic] = value
        stored_unit = self.store.unit(region, namespace, metric, dimensions) or "None"
        for point in datapoints.values():
            point["Unit"] = stored_unit
        return {"Label": metric, "Datapoints": [datapoints[key] for key in sorted(datapoints)]}


@dataclass(frozen=True)
class _Query:
    id: str
    label: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    period: int
    stat: str
    unit: str | None


def _check_queries(queries: Sequence[Any]) -> list[_Query]:
    """Validate every query as AWS does; the ones with ReturnData false are left out."""
    checked: list[_Query] = []
    seen: set[str] = set()
    for number, query in enumerate(queries, start=1):
        where = f"MetricDataQueries.member.{number}"
        if not isinstance(query, dict):
            raise ApiError("ValidationError", f"{where} must be a structure")
        query_id = query.get("Id")
        if not isinstance(query_id, str) or not _QUERY_ID.match(query_id):
            raise ApiError(
                "ValidationError",
                f"The value {query_id!r} for {where}.Id must start with a lowercase letter and "
                "hold only letters, numbers and underscores.",
            )
        if query_id in seen:
            raise ApiError("ValidationError", f"The value {query_id} for {where}.Id is repeated.")
        seen.add(query_id)
        stat = query.get("MetricStat")
        if "Expression" in query or not isinstance(stat, dict):
            raise ApiError(
                "ValidationError",
                f"{where}: this stand-in answers MetricStat queries only, not Expression",
            )
        metric = stat.get("Metric") or {}
        statistic = str(stat.get("Stat", ""))
        try:
            _reducer(statistic)
        except ValueError:
            raise ApiError(
                "ValidationError", f"The value {statistic!r} for {where}.MetricStat.Stat is invalid"
            ) from None
        if query.get("ReturnData", True) is False:
            continue
        checked.append(
            _Query(
                id=query_id,
                label=str(query.get("Label") or metric.get("MetricName", "")),
                namespace=str(metric.get("Namespace", "")),
                metric=str(metric.get("MetricName", "")),
                dimensions=dimension_key(metric.get("Dimensions") or []),
                period=_period(stat.get("Period"), "ValidationError", f"{where}.MetricStat.Period"),
                stat=statistic,
                unit=stat.get("Unit"),
            )
        )
    return checked


def _time_range(params: Mapping[str, Any], code: str) -> tuple[float, float]:
    start, end = params.get("StartTime"), params.get("EndTime")
    if not isinstance(start, datetime | int | float) or not isinstance(end, datetime | int | float):
        raise ApiError(code, "StartTime and EndTime are required timestamps")
    first, last = _epoch(start), _epoch(end)
    if first >= last:
        raise ApiError(code, "The parameter StartTime must be less than the parameter EndTime.")
    return first, last


def _period(value: Any, code: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ApiError(code, f"The parameter {where} must be a positive whole number of seconds.")
    if value % 60 and value not in _HIGH_RESOLUTION_PERIODS:
        raise ApiError(code, f"The parameter {where} must be 1, 5, 10, 30 or a multiple of 60.")
    return value


def _epoch(moment: datetime | float) -> float:
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)


def _fingerprint(params: Mapping[str, Any]) -> str:
    """The request without its token: a token is valid only for the query that made it."""
    request = {key: value for key, value in params.items() if key != "NextToken"}
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_token(cursor: tuple[int, int], fingerprint: str) -> str:
    raw = json.dumps({"q": cursor[0], "o": cursor[1], "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, fingerprint: str, queries: int) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if data["f"] != fingerprint:
            raise ValueError("token belongs to another request")
        cursor = int(data["q"]), int(data["o"])
        if not 0 <= cursor[0] < queries or cursor[1] < 0:
            raise ValueError("token out of range")
        return cursor
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError("InvalidNextToken", "The service couldn't process the token.") from error


class _Protocol(Protocol):
    @staticmethod
    def decode(body: bytes) -> Any: ...

    @staticmethod
    def encode(answer: Mapping[str, Any]) -> bytes: ...

    @staticmethod
    def headers() -> dict[str, str]: ...

    @classmethod
    def error(cls, error: ApiError) -> tuple[bytes, dict[str, str]]: ...


class _Json:
    """AWS JSON 1.0: timestamps are epoch seconds; errors carry ``__type``."""

    @staticmethod
    def decode(body: bytes) -> Any:
        try:
            return json.loads(body or b"{}")
        except ValueError as error:
            raise ApiError("SerializationException", f"body is not JSON: {error}") from error

    @staticmethod
    def encode(answer: Mapping[str, Any]) -> bytes:
        return json.dumps(answer, separators=(",", ":")).encode()

    @staticmethod
    def headers() -> dict[str, str]:
        return {"Content-Type": JSON_CONTENT_TYPE}

    @classmethod
    def error(cls, error: ApiError) -> tuple[bytes, dict[str, str]]:
        # Query-compatible services also name the old query error code in a header, which
        # botocore prefers to __type.
        body = cls.encode({"__type": error.code, "message": error.message})
        return body, {**cls.headers(), "x-amzn-query-error": f"{error.code};Sender"}


class _Cbor:
    """smithy-rpc-v2-cbor: timestamps are CBOR tag 1 over epoch seconds."""

    @staticmethod
    def decode(body: bytes) -> Any:
        try:
            return cbor2.loads(body) if body else {}
        except (cbor2.CBORDecodeError, ValueError) as error:
            raise ApiError("SerializationException", f"body is not CBOR: {error}") from error

    @staticmethod
    def encode(answer: Mapping[str, Any]) -> bytes:
        tagged = dict(answer)
        if "MetricDataResults" in answer:
            tagged["MetricDataResults"] = [
                {**result, "Timestamps": [_cbor_time(t) for t in result["Timestamps"]]}
                for result in answer["MetricDataResults"]
            ]
        if "Datapoints" in answer:
            tagged["Datapoints"] = [
                {**point, "Timestamp": _cbor_time(point["Timestamp"])}
                for point in answer["Datapoints"]
            ]
        return cbor2.dumps(tagged)

    @staticmethod
    def headers() -> dict[str, str]:
        return {"Content-Type": CBOR_CONTENT_TYPE, "smithy-protocol": "rpc-v2-cbor"}

    @classmethod
    def error(cls, error: ApiError) -> tuple[bytes, dict[str, str]]:
        body = cbor2.dumps({"__type": error.code, "message": error.message})
        return body, {**cls.headers(), "x-amzn-query-error": f"{error.code};Sender"}


def _cbor_time(epoch: float) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, int(epoch) if float(epoch).is_integer() else epoch)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, app: MetricsServer) -> None:
        super().__init__(address, handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out separately: no delayed-ACK stall
    server: _HttpServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, data, headers = self.server.app.handle(self.path, request_headers(self), body)
        self._reply(status, data, headers)

    def do_GET(self) -> None:
        error = ApiError("UnknownOperationException", "POST only", HTTPStatus.NOT_FOUND)
        self._reply(error.status, *_Json.error(error))

    def _reply(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("cloudwatch stand-in: " + format, *args)
