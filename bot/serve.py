"""`whocreated serve` and `whocreated health`: run the Slack app, and tell whether it runs well."""

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


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "whocreated"


def heartbeat_path() -> Path:
    return state_dir() / "heartbeat"


def serve(settings: Settings, *, scheduler: bool = True) -> int:
    """Start the Slack app; Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.cli import Unavailable
    from bot.slack.app import serve_http, serve_socket_mode
    from bot.wiring import build

    settings.require_slack()
    from bot.checks import start_up

    start_up(settings)  # one line each for AWS credentials and region; a refused app token is 3
    try:
        services = build(settings)
    except SlackApiError as error:
        raise Unavailable(
            f"Slack refused the bot token ({error.response.get('error')}): check SLACK_BOT_TOKEN"
        ) from error
    except (SlackClientError, OSError) as error:
        raise Unavailable(f"Slack is unreachable: {error}") from error
    if services.store.warning:
        logger.warning(services.store.warning)
    if scheduler:
        _start_schedule(settings, services)
    if settings.socket_mode:
        assert settings.slack_app_token is not None
        handler = serve_socket_mode(services.app, settings.slack_app_token, start=False)
        _start_heartbeat(lambda: handler.client.is_connected())
        logger.info("serving /whocreated over Socket Mode")
        handler.start()
    else:
        _start_heartbeat(lambda: True)
        logger.info("serving /whocreated over HTTP on port %d at /slack/events", settings.port)
        serve_http(services.app, settings.port)
    return 0


def _start_schedule(settings: Settings, services: Any) -> None:
    """Patrol rounds on the policy's cron, deferred digests hourly, the weekly summary."""
    from bot.rounds import Rounds
    from bot.scheduler import build_scheduler
    from bot.wiring import build_patrol

    patrol, notifier = build_patrol(services)
    rounds = Rounds(patrol, notifier)
    policy = settings.policy
    scheduler = build_scheduler(
        policy.schedule,
        rounds.run_round,
        retry_deferred=rounds.retry_deferred,
        weekly_summary=rounds.weekly_summary if policy.slack.summary_channel else None,
    )
    scheduler.start()
    logger.info(
        "patrol rounds scheduled at %r (%s); actions are %s",
        policy.schedule.cron,
        policy.schedule.timezone,
        policy.actions.mode,
    )


def _start_heartbeat(healthy: Callable[[], bool]) -> None:
    """Touch the heartbeat file while healthy, for `whocreated health` in Socket Mode."""
    path = heartbeat_path()

    def beat() -> None:
        while True:
            try:
                if healthy():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(str(time.time()))
            except OSError:
                logger.warning("cannot write the heartbeat file %s", path, exc_info=True)
            time.sleep(HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="whocreated-heartbeat", daemon=True).start()


def _health_problem(error: urllib.error.HTTPError) -> str:
    """What /healthz said is wrong, in words."""
    try:
        said = json.loads(error.read() or b"{}")
    except ValueError:
        said = {}
    if said.get("error") == "clock_skew":
        return (
            f"Slack's requests are refused: they are signed {abs(said.get('skew_s', 0))} s off "
            "this server's clock (Slack allows 300 s); check the clock (NTP)"
        )
    return f"/healthz answered HTTP {error.code} ({said.get('error') or 'no reason given'})"


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
