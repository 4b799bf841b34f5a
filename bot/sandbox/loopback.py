"""What the sandbox's stand-ins share: an HTTP server on 127.0.0.1 in its own thread, and, for
the AWS ones, counters of the requests received per region and operation."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self, cast


class LoopbackServer:
    """Start, close, `with`, and `endpoint_url` for a stand-in that sets `self._http`."""

    thread_name = "stand-in"
    _http: ThreadingHTTPServer
    _thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=self.thread_name,
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
            self._thread = None
        self._http.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class CountingServer(LoopbackServer):
    """A loopback stand-in for an AWS service, counting requests per region and operation in
    `self._counts` (under `self._lock`), which it sets."""

    counter_prefix = ""  # e.g. "cloudtrail:", so counters read "cloudtrail:LookupEvents"
    _lock: threading.Lock
    _counts: Counter[tuple[str, str]]  # (region, operation) → requests received

    def _requests(self, region: str | None, operation: str | None) -> int:
        """Requests received, filtered by region and operation (None: all)."""
        with self._lock:
            return sum(
                count
                for (reg, op), count in self._counts.items()
                if (region is None or reg == region) and (operation is None or op == operation)
            )

    def call_counts(self) -> dict[str, dict[str, int]]:
        """region → {"service:Operation": requests}."""
        with self._lock:
            counts: dict[str, dict[str, int]] = {}
            for (region, operation), count in self._counts.items():
                counts.setdefault(region, {})[f"{self.counter_prefix}{operation}"] = count
            return counts

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()


def request_headers(handler: BaseHTTPRequestHandler) -> Mapping[str, str]:
    """A request's headers, looked up without case as HTTP wants (a Message, read as a map)."""
    return cast(Mapping[str, str], handler.headers)
