"""One LookupEvents call as every caller makes it: under the shared limiter, throttling retried
after boto3's own retries by slowing every caller of that account and region, denial raised."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError

from bot.aws.errors import is_denied, is_throttled

logger = logging.getLogger(__name__)

THROTTLE_RETRIES = 3  # after boto3's own retries
THROTTLE_BACKOFF_S = 1.0


class Limiter(Protocol):
    def acquire(self, account: str, region: str, *, interactive: bool = True) -> float: ...

    def backoff(self, account: str, region: str, seconds: float) -> None: ...


class LookupDenied(Exception):
    """cloudtrail:LookupEvents is denied in this account and region."""


def lookup_events(
    client: Any,
    request: Mapping[str, Any],
    limiter: Limiter,
    account: str,
    region: str,
    *,
    interactive: bool,
    before_call: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """The response of one LookupEvents call. `before_call` runs after each wait in the limiter,
    right before the call (to count it, or to stop a search that is no longer needed)."""
    attempt = 0
    while True:
        limiter.acquire(account, region, interactive=interactive)
        before_call()
        try:
            response: dict[str, Any] = client.lookup_events(**request)
            return response
        except ClientError as error:
            if is_denied(error):
                logger.warning("LookupEvents denied in %s/%s: %s", account, region, error)
                raise LookupDenied from error
            if not is_throttled(error) or attempt >= THROTTLE_RETRIES:
                raise
            delay = THROTTLE_BACKOFF_S * 2**attempt
            logger.warning(
                "LookupEvents throttled in %s/%s after boto3's retries; again in %.1fs",
                account,
                region,
                delay,
            )
            limiter.backoff(account, region, delay)
            attempt += 1


def record_of(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The CloudTrail record inside one LookupEvents result, or None when it cannot be read."""
    try:
        record = json.loads(event.get("CloudTrailEvent") or "null")
    except ValueError:
        logger.exception("unreadable CloudTrailEvent in event %s", event.get("EventId"))
        return None
    return record if isinstance(record, dict) else None
