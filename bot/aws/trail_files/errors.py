"""What can go wrong with the logs given, as the command line reports it (DESIGN.md §3)."""

from __future__ import annotations


class TrailLogsError(ValueError):
    """Bad input (exit 2): a path, bucket or prefix that holds no logs, or a file named on the
    command line that is not a CloudTrail log. The message names it."""


class TrailLogsUnavailable(Exception):
    """The logs exist but cannot be read (exit 3): S3 denied or unreachable. Names what."""
