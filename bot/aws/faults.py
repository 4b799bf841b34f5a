"""What failed in one patrol round: a service that failed is not asked again in that round.

A failing dependency must not make a round crawl: asked again for every resource, each call would
go through botocore's retries and time out again. After the first failure of a service in a
region (the Pricing API is global: one failure anywhere stops it everywhere), the round skips it,
counts what it skipped, and says so in its notes and in the digests.

Denials are recorded too (a denied GetMetricData stays denied), except for describe calls, whose
permissions are per operation: a denied DescribeVolumes says nothing about DescribeInstances.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code

GLOBAL = "global"

# How each service is named in notes, and what its absence costs.
NAMES: Mapping[str, tuple[str, str]] = {
    "pricing": ("the Pricing API", "no price"),
    "cloudwatch": ("CloudWatch GetMetricData", "not judged"),
    "ec2": ("EC2", "not checked"),
    "elbv2": ("Elastic Load Balancing", "not checked"),
    "elb": ("Elastic Load Balancing (classic)", "not checked"),
    "rds": ("RDS", "not checked"),
    "eks": ("EKS", "not checked"),
}


@dataclass(frozen=True)
class Fault:
    service: str
    region: str
    why: str  # "HTTP 500", "AccessDenied", "EndpointConnectionError"


def why(error: BaseException) -> str:
    """A failure in a few words: the AWS error code, the HTTP status, or the exception's name."""
    if isinstance(error, ClientError):
        code = error_code(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int) and status >= 500:
            return f"HTTP {status}" if code in ("Unknown", str(status)) else f"HTTP {status} {code}"
        return code
    if isinstance(error, BotoCoreError):
        return type(error).__name__
    return type(error).__name__


class RoundFaults:
    """Shared by one round's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str], Fault] = {}
        self._skipped: dict[tuple[str, str], int] = {}

    def failed(self, service: str, region: str = GLOBAL) -> Fault | None:
        """The fault that stops `service` in `region` (or everywhere) for this round, if any."""
        with self._lock:
            return self._faults.get((service, region)) or self._faults.get((service, GLOBAL))

    def record(self, service: str, region: str, error: BaseException) -> Fault:
        """The first failure of a service in a region is kept; later ones change nothing."""
        with self._lock:
            return self._faults.setdefault((service, region), Fault(service, region, why(error)))

    def skipped(self, service: str, region: str = GLOBAL, count: int = 1) -> None:
        """`count` things were not asked of `service` because it had failed."""
        with self._lock:
            key = (service, region)
            self._skipped[key] = self._skipped.get(key, 0) + count

    def notes(self) -> list[str]:
        """One line per failed service and region, for the round's notes and the digests:
        `no price: the Pricing API failed (HTTP 500); not asked again this round (57 resources)`.
        """
        with self._lock:
            faults = sorted(self._faults.values(), key=lambda f: (f.service, f.region))
            skipped = dict(self._skipped)
        lines = []
        for fault in faults:
            name, cost = NAMES.get(fault.service, (fault.service, "skipped"))
            where = "" if fault.region == GLOBAL else f" in {fault.region}"
            count = skipped.get((fault.service, fault.region), 0)
            more = f" ({count} more not asked)" if count else ""
            lines.append(
                f"{cost}: {name} failed{where} ({fault.why}); not asked again this round{more}"
            )
        return lines
