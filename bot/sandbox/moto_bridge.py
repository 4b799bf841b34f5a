"""moto's in-process AWS at the wire: a loopback HTTP server that hands each request to moto.

The benchmarks measure each side in its own process on one sandbox, so the sandbox (moto's state,
the stand-ins) lives in one process and the sides reach it over HTTP, through ``endpoint_url`` or
``AWS_ENDPOINT_URL``. moto's own server needs Flask and the heavy ``moto[server]`` extras; this
bridge needs moto alone. It rebuilds the AWS URL from the request's SigV4 credential scope
(service and region) and passes the request to moto's dispatcher, the one ``mock_aws`` uses for
in-process botocore clients. Run it inside ``mock_aws()``; a process may seed moto directly with
boto3 while other processes call through the bridge.

It also counts requests per region and ``"service:Operation"`` (the SigV4 service name, which is
the endpoint prefix: ``ec2``, ``sts``, ``elasticloadbalancing``…), adds an optional per-call
latency, and lets a sandbox replace moto's answer to one operation (`override`), e.g. with
`regions_answer` where moto lists the China and GovCloud regions as enabled in every account.
EC2 DescribeInstances is paged by instance, as EC2 pages it (bot/sandbox/instance_pages.py).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import botocore.session
from botocore.awsrequest import AWSPreparedRequest
from botocore.compat import HTTPHeaders
from moto.core.models import botocore_stubber

from bot.sandbox import instance_pages
from bot.sandbox.loopback import CountingServer, request_headers

logger = logging.getLogger(__name__)

# (status, headers, body) as moto answers
Answer = tuple[int, Mapping[str, str], bytes | str]
Override = Callable[[str, bytes], Answer]  # (region, request body) → answer

_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)/")
_GLOBAL_HOSTS = {"iam": "iam.amazonaws.com"}  # moto matches IAM on its global endpoint
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "server", "date"}


class MotoBridge(CountingServer):
    """moto over HTTP on 127.0.0.1; use as a context manager inside ``mock_aws()``."""

    thread_name = "moto-bridge"

    def __init__(self, *, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.latency = latency
        self._overrides: dict[tuple[str, str], Override] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._moto = threading.Lock()  # moto's backends are not thread-safe
        self._instance_pages = instance_pages.InstancePager()
        self._http = _HttpServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    def override(self, service: str, operation: str, answer: Override) -> None:
        """Answer `service:operation` with `answer(region, body)` instead of moto."""
        self._overrides[(service, operation)] = answer

    # Requests ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        credential = _CREDENTIAL.search(headers.get("Authorization", ""))
        if credential is None:
            return HTTPStatus.FORBIDDEN, {}, "the bridge needs SigV4-signed requests"
        region, service = credential["region"], credential["service"]
        operation = operation_name(service, method, path, headers, body)
        with self._lock:
            self._counts[(region, f"{service}:{operation}")] += 1
        if self.latency > 0:
            time.sleep(self.latency)
        override = self._overrides.get((service, operation))
        if override is not None:
            return override(region, body)
        if (service, operation) == ("ec2", "DescribeInstances"):
            form, unpaged = instance_pages.unpaged_body(body)
            if instance_pages.wants_pages(form):
                return self._instance_page(region, method, path, headers, form, unpaged)
        return self._moto_answer(service, operation, region, method, path, headers, body)

    def _instance_page(
        self,
        region: str,
        method: str,
        path: str,
        headers: Mapping[str, str],
        form: Mapping[str, str],
        unpaged: bytes,
    ) -> Answer:
        refused: list[Answer] = []

        def everything() -> bytes:
            answer = self._moto_answer(
                "ec2", "DescribeInstances", region, method, path, headers, unpaged
            )
            if answer[0] != HTTPStatus.OK:
                refused.append(answer)
                raise _MotoRefused
            body = answer[2]
            return body.encode() if isinstance(body, str) else body

        try:
            page = self._instance_pages.page(region, form, everything)
        except _MotoRefused:
            return refused[0]
        except instance_pages.BadPaging as problem:
            error = instance_pages.error_answer(problem)
            return HTTPStatus.BAD_REQUEST, {"Content-Type": "text/xml"}, error
        return HTTPStatus.OK, {"Content-Type": "text/xml"}, page

    def _moto_answer(
        self,
        service: str,
        operation: str,
        region: str,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Answer:
        host = _GLOBAL_HOSTS.get(service, f"{service}.{region}.amazonaws.com")
        forwarded = HTTPHeaders()
        for name, value in headers.items():
            if name.lower() not in ("host", "content-length"):
                forwarded[name] = value
        forwarded["Host"] = host  # moto reads some things (S3 buckets) from the host
        request = AWSPreparedRequest(
            method=method,
            url=f"https://{host}{path}",
            headers=forwarded,
            body=body,
            stream_output=False,
        )
        try:
            with self._moto:
                answer = botocore_stubber.process_request(request)
        except Exception:
            logger.exception("moto failed on %s:%s in %s", service, operation, region)
            return HTTPStatus.INTERNAL_SERVER_ERROR, {}, "moto failed"
        if answer is None:
            return HTTPStatus.NOT_FOUND, {}, f"moto does not serve {service}"
        return answer


def operation_name(
    service: str, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> str:
    """The API operation a request calls, from what each AWS protocol puts on the wire."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]  # JSON protocols
    if "/operation/" in path:
        return path.rsplit("/", 1)[-1]  # rpc-v2-cbor
    url = urlsplit(path)
    form = parse_qs(url.query)
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        form.update(parse_qs(body.decode("utf-8", "replace")))
    if form.get("Action"):
        return form["Action"][0]  # query and EC2 protocols
    return _rest_operation(service, method, url.path) or f"{method} {url.path}"


def _rest_operation(service: str, method: str, path: str) -> str | None:
    """REST protocols: the operation whose method and URI template match, most literal first."""
    for pattern, verb, name in _rest_routes(service):
        if verb == method and pattern.match(path):
            return name
    return None


@cache
def _rest_routes(service: str) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:
        return ()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = str(http.get("requestUri", "/")).split("?", 1)[0]
        regex = re.sub(r"\{[^}]+\+\}", ".+", re.sub(r"\{[^}+]+\}", "[^/]+", re.escape(uri)))
        regex = regex.replace(r"\{", "{").replace(r"\}", "}")
        literal = len(re.sub(r"\{[^}]*\}", "", uri))
        routes.append((literal, re.compile(f"^{regex}/?$"), str(http.get("method")), name))
    routes.sort(key=lambda route: -route[0])
    return tuple((pattern, verb, name) for _, pattern, verb, name in routes)


def regions_answer(regions: Iterable[str]) -> Override:
    """EC2 DescribeRegions listing exactly these regions, each enabled without opt-in."""
    items = "".join(
        f"<item><regionName>{escape(name)}</regionName>"
        f"<regionEndpoint>ec2.{escape(name)}.amazonaws.com</regionEndpoint>"
        "<optInStatus>opt-in-not-required</optInStatus></item>"
        for name in regions
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>{uuid.uuid4()}</requestId><regionInfo>{items}</regionInfo>"
        "</DescribeRegionsResponse>"
    )

    def answer(region: str, request_body: bytes) -> Answer:
        return HTTPStatus.OK, {"Content-Type": "text/xml"}, body

    return answer


class _MotoRefused(Exception):
    """moto answered a listing's first page with an error, which goes back as it is."""


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, app: MotoBridge) -> None:
        super().__init__(address, handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    disable_nagle_algorithm = True
    server: _HttpServer

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, answer = self.server.app.handle(
            self.command, self.path, request_headers(self), body
        )
        data = answer.encode() if isinstance(answer, str) else bytes(answer or b"")
        try:
            self.send_response(int(status))
            for name, value in headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller is gone (a process killed mid-call): nobody to answer

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("moto bridge: " + format, *args)
