"""An AWS endpoint that fails every call, for tests and benchmarks of a dependency that is down.

Point a boto3 client at `endpoint_url` (AWS_ENDPOINT_URL_PRICING, say): every request is
answered with `status` and the error body of the service's protocol (JSON `__type` and `message`
for the JSON services such as Pricing, EC2's XML `<Response><Errors>…`), as AWS answers an
internal failure, so botocore's own retries and error parsing run. Requests are counted per
region and operation (from the SigV4 credential scope, and X-Amz-Target or the Action form field),
like the other stand-ins.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from bot.sandbox.loopback import CountingServer

_REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/,\s]+)/")


class FailingServer(CountingServer):
    thread_name = "failing-aws-standin"

    def __init__(
        self,
        *,
        service: str = "pricing",
        status: int = 500,
        code: str = "InternalFailure",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.counter_prefix = f"{service}:"
        self.service = service
        self.status = status
        self.code = code
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True

    def requests(self, operation: str | None = None) -> int:
        """Requests received (each retry counts), over every region."""
        return self._requests(None, operation)

    def _count(self, region: str, operation: str) -> None:
        with self._lock:
            self._counts[(region, operation)] += 1


def _handler(server: FailingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            scope = _REGION.search(self.headers.get("Authorization", ""))
            target = self.headers.get("X-Amz-Target", "")
            action = parse_qs(raw.decode(errors="replace")).get("Action", ["?"])[0]
            operation = target.rpartition(".")[2] if target else action
            server._count(scope["region"] if scope else "", operation)
            if server.service == "ec2":
                body = (
                    f"<Response><Errors><Error><Code>{escape(server.code)}</Code>"
                    "<Message>stand-in failure</Message></Error></Errors>"
                    "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
                ).encode()
                content_type = "text/xml"
            else:
                body = json.dumps({"__type": server.code, "message": "stand-in failure"}).encode()
                content_type = "application/x-amz-json-1.1"
            self.send_response(server.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
