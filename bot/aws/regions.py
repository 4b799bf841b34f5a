"""The regions to search: the account's enabled regions, else the configured ones, and say so."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws.errors import error_code, is_denied

logger = logging.getLogger(__name__)

ENABLED = ("opt-in-not-required", "opted-in")


def enabled_regions(ec2: Any, default_regions: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """(regions, note): enabled regions, configured defaults first; on failure the defaults.

    The note is None when the list came from AWS, else it says what was searched and which
    permission would have helped.
    """
    fallback = tuple(dict.fromkeys(default_regions))
    try:
        response = ec2.describe_regions(
            AllRegions=False, Filters=[{"Name": "opt-in-status", "Values": list(ENABLED)}]
        )
    except ClientError as error:
        if is_denied(error):
            return fallback, _note("ec2:DescribeRegions denied", fallback)
        logger.exception("DescribeRegions failed; falling back to %s", ", ".join(fallback))
        return fallback, _note(f"ec2:DescribeRegions failed: {error_code(error)}", fallback)
    except BotoCoreError as error:
        logger.exception("DescribeRegions failed; falling back to %s", ", ".join(fallback))
        return fallback, _note(f"ec2:DescribeRegions failed: {type(error).__name__}", fallback)
    # Filter again on our side: AllRegions=False already excludes not-opted-in regions on AWS,
    # but not every endpoint (moto, proxies) applies the filter.
    names = sorted(
        region["RegionName"]
        for region in response.get("Regions", [])
        if region.get("RegionName") and region.get("OptInStatus", ENABLED[0]) in ENABLED
    )
    if not names:
        return fallback, _note("ec2:DescribeRegions returned no regions", fallback)
    first = [region for region in fallback if region in names]
    return tuple(dict.fromkeys([*first, *names])), None


def _note(why: str, searched: Sequence[str]) -> str:
    return f"could not list regions ({why}); searched {', '.join(searched) or 'no region'} only"
