"""The Bolt app and the two ways to run it: HTTP (WSGI on waitress) and Socket Mode.

One WebClient is made here, pointed at SLACK_API_URL when set and retrying 429s, and handed to
`App(client=...)`, so every Slack call (start-up's auth.test included) goes through it.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.config import Settings
from bot.slack.retries import ConnectionRetry
from bot.slack.signature_watch import SignatureWatch

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from waitress.server import BaseWSGIServer, MultiSocketServer


logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SLACK_RETRIES = 2
# Slack's payloads are a few KB (a modal's state, a message's blocks): a body larger than this is
# refused before it is read, so unsigned posts cannot fill memory.
MAX_BODY_BYTES = 1024 * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_web_client(settings: Settings) -> WebClient:
    """The bot's WebClient: connection retries (never a post that may have arrived) and 429s."""
    handlers = [ConnectionRetry(), RateLimitErrorRetryHandler(max_retry_count=SLACK_RETRIES)]
    kwargs: dict[str, Any] = {"token": settings.slack_bot_token, "retry_handlers": handlers}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return WebClient(**kwargs)


def new_app(
    settings: Settings,
    *,
    web_client: WebClient | None = None,
    token_verification_enabled: bool = True,
) -> App:
    """The Bolt app, its listeners not yet registered (bot.slack.listeners.register does, once the
    services exist); auth.test runs now, so a bad token fails at start-up."""
    client = web_client if web_client is not None else build_web_client(settings)
    # Without a signing secret (Socket Mode needs none) HTTP requests must still fail the check:
    # a random secret nobody knows makes every signature invalid, never an empty-key HMAC.
    signing_secret = settings.slack_signing_secret or secrets.token_urlsafe(32)
    try:
        app = App(
            client=client,
            signing_secret=signing_secret,
            token_verification_enabled=token_verification_enabled,
            request_verification_enabled=True,
            name="whocreated",
            logger=_bolt_logger(),
        )
    except BoltError as error:
        # Bolt wraps a refused auth.test in BoltError; re-raise Slack's own error, which carries
        # the response ("invalid_auth", …) callers use to explain what is wrong.
        if isinstance(error.__context__, SlackApiError):
            raise error.__context__ from None
        raise
    return app


def wsgi_app(
    app: App,
    *,
    watch: SignatureWatch | None = None,
    draining: Callable[[], bool] = lambda: False,
    problem: Callable[[], str | None] = lambda: None,
) -> WsgiApp:
    """POST /slack/events through Bolt (signature checked there), GET /healthz, 404 otherwise.

    `watch` hears of every refused signature (logged, and a clock skew reported by /healthz).
    While `draining` (shutting down) both answer 503; /healthz also while `problem()` names one
    (the store unreachable) or refused signatures point to a skewed clock."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    watch = watch or SignatureWatch()
    unavailable = "503 Service Unavailable"

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH and method == "POST":
            if _declared_length(environ) > MAX_BODY_BYTES:
                return _json(start_response, "413 Payload Too Large", {"ok": False})
            if draining():
                return _json(start_response, unavailable, {"ok": False, "error": "restarting"})
            return slack(environ, _watching(start_response, environ, watch))
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            head = method == "HEAD"
            why = "restarting" if draining() else problem()
            if why:
                return _json(start_response, unavailable, {"ok": False, "error": why}, head=head)
            skew = watch.suspected_skew()
            if skew is not None:
                body = {"ok": False, "error": "clock_skew", "skew_s": round(skew)}
                return _json(start_response, unavailable, body, head=head)
            return _json(start_response, "200 OK", {"ok": True}, head=head)
        return _json(start_response, "404 Not Found", {"ok": False, "error": "not_found"})

    return application


def _declared_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_BODY_BYTES + 1  # not a length: refuse rather than read an unknown amount


def _watching(
    start_response: Callable[..., Any], environ: dict[str, Any], watch: SignatureWatch
) -> Callable[..., Any]:
    """start_response that tells `watch` when Bolt refused the signature (HTTP 401)."""

    def respond(status: str, headers: Any, exc_info: Any = None) -> Any:
        if status.startswith("401"):
            watch.refused(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"))
        if exc_info is None:
            return start_response(status, headers)
        return start_response(status, headers, exc_info)

    return respond


def _json(
    start_response: Callable[..., Any], status: str, body: dict[str, Any], *, head: bool = False
) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [] if head else [data]


def http_server(
    app: App,
    port: int,
    *,
    host: str = "0.0.0.0",
    threads: int = 8,
    watch: SignatureWatch | None = None,
    draining: Callable[[], bool] = lambda: False,
    problem: Callable[[], str | None] = lambda: None,
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for the app (port 0 picks a free port: see `.effective_port`)."""
    from waitress import create_server

    # Each request thread only waits for ack(), never for AWS, so a few threads go a long way.
    # waitress refuses a larger body (413) from its Content-Length before reading it, and stops
    # reading a chunked one at the limit.
    application = wsgi_app(app, watch=watch, draining=draining, problem=problem)
    return create_server(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="whocreated",
        max_request_body_size=MAX_BODY_BYTES,
    )


def serve_http(app: App, port: int, *, host: str = "0.0.0.0") -> None:
    """Serve HTTP mode on waitress until interrupted (Bolt's app.start() is a dev server)."""
    server = http_server(app, port, host=host)
    logger.info("serving Slack events on http://%s:%s%s", host, port, EVENTS_PATH)
    try:
        server.run()
    finally:
        server.close()


def serve_socket_mode(app: App, app_token: str, *, start: bool = True) -> SocketModeHandler:
    """Socket Mode through slack_sdk's built-in client (no extra dependency).

    start=True connects and blocks until interrupted; start=False returns the handler unstarted,
    for a caller that wants its client (e.g. `handler.client.is_connected()` for a heartbeat).
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    if start:
        logger.info("connecting to Slack in Socket Mode")
        try:
            handler.start()
        finally:
            handler.close()
    return handler


class _SameTokenFilter(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that our client (built
    from that same token) wins; that is by design here, so the warning is only noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    bolt = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _SameTokenFilter) for f in bolt.filters):
        bolt.addFilter(_SameTokenFilter())
    return bolt
