"""Logging set-up for `--log-format text|json` and `--log-level`; tokens never reach a log line.

A failure is one line unless the level is debug: `logger.exception(...)` anywhere prints its message
and the exception's own words (`EndpointConnectionError: Could not connect…`), and the traceback
only with `--log-level debug`. The handler decides, so callers keep logging exceptions with
their context and never need to know who is reading.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
from datetime import UTC, datetime

_TOKEN = re.compile(r"xox[abprse]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")

LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
DEFAULT_LEVEL = "info"
SLACK_SDK_REQUESTS = "slack_sdk.web.base_client"


def redact(text: str) -> str:
    return _TOKEN.sub("xox…redacted", text)


def exception_summary(record: logging.LogRecord) -> str | None:
    """`Type: words` of the record's exception on one line, or None without one."""
    if not record.exc_info or record.exc_info[1] is None:
        return None
    error = record.exc_info[1]
    words = " ".join(str(error).split())
    return f"{type(error).__name__}: {words}" if words else type(error).__name__


class TextFormatter(logging.Formatter):
    """`LEVEL logger: message`; with tracebacks=False an exception adds `: Type: words`."""

    def __init__(self, fmt: str | None = None, *, tracebacks: bool = False) -> None:
        super().__init__(fmt)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not (record.exc_info or record.stack_info):
            return redact(super().format(record))
        # A copy: other handlers (a test's capture, say) still get the record as it was.
        short = copy.copy(record)
        summary = exception_summary(record)
        short.msg = f"{record.getMessage()}: {summary}" if summary else record.getMessage()
        short.args = None
        short.exc_info = short.exc_text = short.stack_info = None
        return redact(super().format(short))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; `exception` holds the traceback only when
    tracebacks are on, `error` always holds the exception's one line."""

    def __init__(self, *, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        summary = exception_summary(record)
        if summary:
            entry["error"] = redact(summary)
        if record.exc_info and self.tracebacks:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


def configure(log_format: str = "text", level: str = DEFAULT_LEVEL) -> None:
    """Our loggers at `level`, other libraries' at warning (or `level` when that is higher);
    tracebacks only at debug."""
    number = LEVELS[level]
    tracebacks = number <= logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(tracebacks=tracebacks))
    else:
        handler.setFormatter(
            TextFormatter("%(levelname)s %(name)s: %(message)s", tracebacks=tracebacks)
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, number))
    logging.getLogger("bot").setLevel(number)
    # slack_sdk logs each failed request at ERROR and then raises; whoever called says what
    # failed, in one line. Its own line comes back at debug.
    logging.getLogger(SLACK_SDK_REQUESTS).setLevel(
        logging.DEBUG if tracebacks else logging.CRITICAL
    )
