"""`whocreated serve` and `whocreated health`: run the Slack app, and tell whether it runs well.

Serving: the store must be usable (else exit 3, one line); this process announces itself alive
(an instance lease), settles what a dead predecessor left half done (decisions `acting`, digests
`pending`, a patrol round cut short) and runs the patrol schedule. On SIGTERM or SIGINT it stops
intake (HTTP answers 503, Socket Mode disconnects), lets lookups and actions in flight finish
within WHOCREATED_GRACE_S, tells the people whose work could not finish, and exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
HEARTBEAT_STALE_SECONDS = 3 * HEARTBEAT_SECONDS
STORE_CHECK_SECONDS = 5.0  # /healthz asks the store at most this often


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "whocreated"


def heartbeat_path() -> Path:
    return state_dir() / "heartbeat"


def serve(settings: Settings, *, scheduler: bool = True) -> int:
    """Start the Slack app; Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.errors import Unavailable
    from bot.leases import INSTANCE_PREFIX, INSTANCE_TTL, Lease
    from bot.shutdown import Shutdown
    from bot.store import Store, StoreUnavailable
    from bot.wiring import build

    settings.require_slack()
    from bot.checks import start_up

    try:  # first: an unusable store is fatal, and says so before anything slower
        store = Store.open(settings.database_url)
    except StoreUnavailable as error:
        raise Unavailable(str(error)) from error
    start_up(settings)  # one line each for AWS credentials and region; a refused app token is 3
    shutdown = Shutdown()
    shutdown.install()  # before anything slow: a SIGTERM during start-up still ends cleanly
    try:
        services = build(settings, store=store)
    except SlackApiError as error:
        raise Unavailable(
            f"Slack refused the bot token ({error.response.get('error')}): check SLACK_BOT_TOKEN"
        ) from error
    except (SlackClientError, OSError) as error:
        raise Unavailable(f"Slack is unreachable: {error}") from error
    alive = Lease.claim(
        store,
        INSTANCE_PREFIX + services.holder,
        services.holder,
        ttl=INSTANCE_TTL,
        clock=services.clock,
    )
    assert alive is not None  # a fresh holder id is never taken
    with alive:
        runtime = _Runtime(settings, services, shutdown, scheduler=scheduler)
        runtime.start()
        shutdown.wait()
        left = runtime.stop()
    if left:
        # Work still running past the grace period was told; its threads are not waited for.
        logging.shutdown()
        os._exit(0)
    return 0


class _Runtime:
    """What `serve` runs, and the order it stops in."""

    def __init__(
        self, settings: Settings, services: Any, shutdown: Any, *, scheduler: bool
    ) -> None:
        from bot.cron import cron_trigger
        from bot.deciding import Decisions
        from bot.rounds import Rounds
        from bot.wiring import build_patrol

        self.settings = settings
        self.services = services
        self.shutdown = shutdown
        patrol, notifier = build_patrol(services)
        self.notifier = notifier
        self.decisions = Decisions.for_services(services)
        self.rounds = Rounds(
            patrol,
            notifier,
            store=services.store,
            holder=services.holder,
            clock=services.clock,
            stopping=shutdown.requested,
            schedule=cron_trigger(settings.policy.schedule.cron, settings.policy.schedule.timezone),
        )
        self.with_scheduler = scheduler
        self.scheduler: Any = None
        self.socket: Any = None
        self.http: Any = None
        self._store_check = _StoreCheck(services.store)

    def start(self) -> None:
        from bot.slack.app import http_server, serve_socket_mode

        threading.Thread(target=self._upkeep, name="whocreated-upkeep", daemon=True).start()
        if self.with_scheduler:
            self.scheduler = _start_schedule(self.settings, self.rounds)
        if self.settings.socket_mode:
            assert self.settings.slack_app_token is not None
            self.socket = serve_socket_mode(
                self.services.app, self.settings.slack_app_token, start=False
            )
            self.socket.connect()
            _start_heartbeat(
                lambda: self.socket.client.is_connected() and self._healthy(), self.shutdown
            )
            logger.info("serving /whocreated over Socket Mode")
        else:
            self.http = http_server(
                self.services.app,
                self.settings.port,
                draining=self.shutdown.draining.is_set,
                problem=self._problem,
            )
            threading.Thread(target=self.http.run, name="whocreated-http", daemon=True).start()
            _start_heartbeat(self._healthy, self.shutdown)
            logger.info(
                "serving /whocreated over HTTP on port %d at /slack/events", self.settings.port
            )

    def stop(self) -> int:
        """Close intake, drain both lanes until the grace period ends; how many were left."""
        grace = self.settings.grace_s
        deadline = time.monotonic() + grace
        self.shutdown.draining.set()  # HTTP: 503 from now on
        if self.socket is not None:
            self.socket.close()  # Socket Mode: Slack sends nothing more here
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        busy = self.services.actions.busy + self.services.executor.busy
        logger.info("stopping: %d lookups and actions in flight, up to %g s", busy, grace)
        left = self.services.actions.drain(deadline) + self.services.executor.drain(deadline)
        if self.services.archive_lane is not None:  # a query still running is told "restarting"
            left += self.services.archive_lane.drain(deadline)
        # A round under way stops before its next owner's digest; one still reading AWS at the
        # deadline is left to end with the process. Either way its slot is not recorded as run,
        # so the owners it had not reached get their digests when the slot is caught up.
        while self.rounds.running.is_set() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.rounds.running.is_set():
            logger.warning(
                "the patrol round under way is cut short; its slot runs again at the next start "
                "or on the hour, on any replica, up to %d h after it was due",
                self.rounds.grace.total_seconds() // 3600,
            )
            left += 1
        if self.http is not None:
            self.http.close()
        logger.info("stopped%s", f"; {left} unfinished" if left else "")
        return left

    def _upkeep(self) -> None:
        """What a predecessor left half done: now, and again once its instance lease (if it
        was killed just before this start) has surely expired."""
        from bot.leases import INSTANCE_TTL

        for delay in (0.0, INSTANCE_TTL.total_seconds() + 5):
            if self.shutdown.requested.wait(delay):
                return
            try:
                settled = self.decisions.settle_leftovers()
                if settled:
                    logger.info("settled %d decisions left unfinished by a restart", settled)
                if self.notifier is not None:
                    flushed = self.notifier.retry()
                    if flushed.sent or flushed.found or flushed.failed or flushed.given_up:
                        logger.info("pending digests at start: %s", flushed.summary())
            except Exception:
                logger.exception("settling what a restart left unfinished failed; tried again")

    def _problem(self) -> str | None:
        why = self._store_check()
        return f"store {why}" if why else None

    def _healthy(self) -> bool:
        return not self.shutdown.draining.is_set() and self._store_check() is None


class _StoreCheck:
    """Store.ping, remembered a few seconds (health probes can come often)."""

    def __init__(self, store: Any, ttl: float = STORE_CHECK_SECONDS) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._at = -ttl
        self._why: str | None = None

    def __call__(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self._why = self.store.ping()
                self._at = time.monotonic()
            return self._why


def _start_schedule(settings: Settings, rounds: Any) -> Any:
    """Patrol rounds on the policy's cron; what is pending and a round left unfinished, at start
    and hourly; the weekly summary."""
    from bot.scheduler import build_scheduler

    policy = settings.policy
    scheduler = build_scheduler(
        policy.schedule,
        rounds.run_round,
        hourly=rounds.hourly,
        at_start=rounds.catch_up,
        weekly_summary=rounds.weekly_summary if policy.slack.summary_channel else None,
    )
    scheduler.start()
    logger.info(
        "patrol rounds scheduled at %r (%s); actions are %s",
        policy.schedule.cron,
        policy.schedule.timezone,
        policy.actions.mode,
    )
    return scheduler


def _start_heartbeat(healthy: Callable[[], bool], shutdown: Any) -> None:
    """Touch the heartbeat file while healthy, for `whocreated health` in Socket Mode; an
    unreachable store or a shutdown stops it, so health fails."""
    path = heartbeat_path()

    def beat() -> None:
        while not shutdown.draining.is_set():
            try:
                if healthy():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(str(time.time()))
                else:
                    logger.warning("unhealthy: the heartbeat is not written")
            except OSError:
                logger.warning("cannot write the heartbeat file %s", path, exc_info=True)
            shutdown.draining.wait(HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="whocreated-heartbeat", daemon=True).start()


def _health_problem(error: urllib.error.HTTPError) -> str:
    """What /healthz said is wrong, in words."""
    try:
        said = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        said = {}
    if not isinstance(said, dict):
        said = {}
    if said.get("error") == "clock_skew":
        return (
            f"Slack's requests are refused: they are signed {abs(said.get('skew_s', 0))} s off "
            "this server's clock (Slack allows 300 s); check the clock (NTP)"
        )
    # e.g. "store unreachable (connection refused)", or "draining" while shutting down
    return str(said.get("error") or f"/healthz answered HTTP {error.code}")


def health(settings: Settings, out: TextIO) -> int:
    """0 when the instance on this machine answers (HTTP) or keeps its heartbeat (Socket Mode)."""
    if not settings.socket_mode:
        url = f"http://127.0.0.1:{settings.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                healthy = response.status == 200
        except urllib.error.HTTPError as error:
            out.write(f"unhealthy: {_health_problem(error)}\n")
            return 3
        except OSError as error:
            out.write(f"unhealthy: {url} did not answer ({error})\n")
            return 3
        out.write("healthy\n" if healthy else f"unhealthy: {url} answered badly\n")
        return 0 if healthy else 3
    try:
        age = time.time() - float(heartbeat_path().read_text())
    except (OSError, ValueError):
        out.write("unhealthy: no Socket Mode heartbeat (is `whocreated serve` running?)\n")
        return 3
    if age > HEARTBEAT_STALE_SECONDS:
        out.write(f"unhealthy: last Socket Mode heartbeat {age:.0f} s ago\n")
        return 3
    out.write("healthy\n")
    return 0
