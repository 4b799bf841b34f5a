"""CloudWatch datapoints for many resources through GetMetricData, as few calls as its limits allow.

One GetMetricData call holds at most 500 queries and returns at most 100,800 datapoints, so
queries per call = min(500, ⌊100,800 / datapoints per query⌋) (DESIGN.md §5). The period is one
hour: it is the sparkline's resolution, it is valid for any start time (CloudWatch keeps hourly
data for 455 days, finer data only for 15 or 63), and a 7-day look-back is 168 points, so a call
carries the full 500 queries. Only look-backs over 60 days widen the period, in whole hours, to
keep a query at 1,440 points or fewer. A finer period (the smallest standard one that keeps 1,440
points) would cut the queries per call, 150 instead of 500 for 7 days, and the idle rules gain
nothing from it: a maximum of hourly maxima and a sum of hourly sums are the same numbers.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.faults import RoundFaults
from bot.core.idle import MetricSpec
from bot.core.kinds import Kinds
from bot.core.resources import Resource

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]
ResourceKey = tuple[str, str, str, str]
Observed = dict[ResourceKey, dict[str, Sequence[float]]]

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
HOUR = 3600
MAX_POINTS_PER_QUERY = 1_440
FAILED_STATUSES = frozenset({"Forbidden", "InternalError"})
SERVICE = "cloudwatch"


@dataclass(frozen=True)
class Window:
    """The time range every query of one observe() shares, aligned to whole periods."""

    start: datetime
    end: datetime
    period: int  # seconds
    points: int  # datapoints per query, at most

    @property
    def queries_per_call(self) -> int:
        return queries_per_call(self.points)


def period_for(lookback: timedelta) -> int:
    """Hourly; whole hours wider only when a query would pass 1,440 points."""
    hours = max(1, math.ceil(lookback.total_seconds() / HOUR))
    return HOUR * math.ceil(hours / MAX_POINTS_PER_QUERY)


def queries_per_call(points_per_query: int) -> int:
    return max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // max(1, points_per_query)))


def window(lookback: timedelta, now: datetime) -> Window:
    """Ends at the last whole period before now, so each query holds exactly `points` periods."""
    period = period_for(lookback)
    points = max(1, math.ceil(lookback.total_seconds() / period))
    epoch = int(now.timestamp())
    end = datetime.fromtimestamp(epoch - epoch % period, UTC)
    return Window(end - timedelta(seconds=period * points), end, period, points)


@dataclass(frozen=True)
class _Query:
    id: str
    key: ResourceKey
    spec: MetricSpec
    dimensions: tuple[tuple[str, str], ...]  # one series: every dimension CloudWatch files it by
    parts: int = 1  # how many series (queries) make up this alias of this resource

    def request(self, period: int) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.spec.namespace,
                    "MetricName": self.spec.metric,
                    "Dimensions": [
                        {"Name": name, "Value": value} for name, value in self.dimensions
                    ],
                },
                "Period": period,
                "Stat": self.spec.stat,
            },
            "ReturnData": True,
        }


class MetricsReader:
    """Observations for the idle rules, with clients from client_for(service, region): each
    resource's metrics as its type in `kinds` declares them."""

    def __init__(self, client_for: ClientFactory, kinds: Kinds) -> None:
        self._client_for = client_for
        self._kinds = kinds

    def observe(
        self,
        resources: Iterable[Resource],
        account: str,
        region: str,
        lookback: timedelta,
        now: datetime,
        *,
        faults: RoundFaults | None = None,
    ) -> Observed:
        """resource key → alias → datapoints, oldest first.

        Every alias of a resource whose queries were answered is present, with [] when CloudWatch
        reported nothing. A resource (or alias) whose call failed is absent: the rules call that
        unknown. Resources without metrics (volumes, addresses, clusters) are absent too. Given
        the round's faults, a failed call (denied, or failing after its retries) stops the
        account and region's later batches: they are counted as skipped, not asked.
        """
        span = window(lookback, now)
        queries = list(self._queries(resources, account, region))
        client = self._client_for("cloudwatch", region)
        observed: Observed = {}
        answered: dict[tuple[ResourceKey, str], list[array[float]]] = {}
        per_call = span.queries_per_call
        place = f"{account}/{region}"
        for start in range(0, len(queries), per_call):
            batch = queries[start : start + per_call]
            if faults is not None and faults.failed(SERVICE, place) is not None:
                faults.skipped(SERVICE, place, len({query.key for query in batch}))
                continue
            try:
                values = self._fetch(client, batch, span)
            except (ClientError, BotoCoreError) as error:
                logger.exception(
                    "GetMetricData for %d queries in %s failed; those resources stay unknown",
                    len(batch),
                    place,
                )
                if faults is not None:
                    faults.record(SERVICE, place, error)
                continue
            for query in batch:
                if query.id not in values:
                    continue
                found = answered.setdefault((query.key, query.spec.alias), [])
                found.append(values[query.id])
                if len(found) == query.parts:  # every series of this alias was answered
                    joined = found[0] if len(found) == 1 else array("d", chain(*found))
                    observed.setdefault(query.key, {})[query.spec.alias] = joined
        return observed

    def _queries(
        self, resources: Iterable[Resource], account: str, region: str
    ) -> Iterable[_Query]:
        count = 0
        for resource in resources:
            if (resource.account, resource.region) != (account, region):
                raise ValueError(f"{resource.label} is in {resource.account}/{resource.region}")
            for spec in self._kinds.metrics_for(resource):
                series = self._kinds.series_of(resource, spec)
                if not series:
                    logger.warning(
                        "no CloudWatch dimension for %s %s (%s)", resource.type, resource.id, spec
                    )
                    continue
                for dimensions in series:
                    # Ids are unique within a call and match ^[a-z][a-zA-Z0-9_]*$.
                    pairs = tuple(dimensions.items())
                    yield _Query(f"q{count}", resource.key, spec, pairs, len(series))
                    count += 1

    def _fetch(self, client: Any, batch: Sequence[_Query], span: Window) -> dict[str, array[float]]:
        """One batch, following NextToken; one query's values may span pages."""
        # Compact arrays, not lists of float objects: 10,000 resources × 3 metrics × 168 hours
        # would otherwise hold five million Python floats at once.
        values: dict[str, array[float]] = {query.id: array("d") for query in batch}
        failed: set[str] = set()
        params: dict[str, Any] = {
            "MetricDataQueries": [query.request(span.period) for query in batch],
            "StartTime": span.start,
            "EndTime": span.end,
            "ScanBy": "TimestampAscending",
        }
        seen: set[str] = set()
        while True:
            response = client.get_metric_data(**params)
            for result in response.get("MetricDataResults", []):
                if result.get("Id") not in values:
                    continue
                if result.get("StatusCode") in FAILED_STATUSES:
                    failed.add(result["Id"])
                values[result["Id"]].extend(float(v) for v in result.get("Values", []))
            for message in response.get("Messages", []):
                logger.warning("GetMetricData: %s %s", message.get("Code"), message.get("Value"))
            token = response.get("NextToken")
            if not token:
                break
            if token in seen:
                # An endpoint that repeats itself would loop forever; what was read is partial,
                # and partial sums must not pass for small ones.
                logger.warning("GetMetricData repeated a NextToken after %d pages", len(seen))
                return {}
            seen.add(token)
            params["NextToken"] = token
        if failed:
            logger.warning(
                "GetMetricData could not answer %d of %d queries", len(failed), len(batch)
            )
        return {query_id: found for query_id, found in values.items() if query_id not in failed}


def calls_needed(query_count: int, lookback: timedelta) -> int:
    """GetMetricData calls for this many queries over this look-back: ⌈queries / per call⌉."""
    per_call = queries_per_call(window(lookback, datetime(2000, 1, 1, tzinfo=UTC)).points)
    return math.ceil(query_count / per_call)


def queries_for(resources: Iterable[Resource], kinds: Kinds) -> int:
    """How many queries these resources need (one per series of each metric)."""
    return sum(
        len(kinds.series_of(resource, spec))
        for resource in resources
        for spec in kinds.metrics_for(resource)
    )
