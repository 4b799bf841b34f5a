"""The two failures every command reports the same way (DESIGN.md §3, exit codes), raised
wherever they are found and turned into one line on stderr by the command line."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input or configuration: one line on stderr, exit 2."""


class Unavailable(Exception):
    """AWS or Slack unreachable or denied: one line on stderr, exit 3."""
