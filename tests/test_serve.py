"""`whocreated serve` and `whocreated health` around the store and a shutdown: an unusable store
refuses to start (exit 3, one line, no password), /healthz and the Socket Mode heartbeat fail
while the store is unreachable, and a draining process answers 503."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import serve as serve_module
from bot import store as store_module
from bot.cli import main
from bot.config import Settings
from bot.core.policy import Policy, Schedule
from bot.serve import _StoreCheck, health
from bot.shutdown import Shutdown
from bot.slack.app import http_server
from bot.store import Store
from bot.wiring import build
from tests.fake_slack import FakeSlack
from tests.slack.conftest import SECRET, fetch, no_aws, slack_settings
from tests.test_notifier import ALICE, BOB, Clock
from tests.test_rounds import MONDAY_NOON, FixedRound

UNREACHABLE = "postgresql+psycopg://whocreated:s3cret@127.0.0.1:1/whocreated?connect_timeout=3"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a `whocreated` process: nothing of this machine's settings."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_", "WHOCR"))}
    kept.pop("DATABASE_URL", None)
    return {
        **kept,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never reached: the store is checked first
        "XDG_STATE_HOME": str(tmp_path / "state"),
        **extra,
    }


def test_serve_refuses_an_unreachable_store_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=environment(tmp_path, DATABASE_URL=UNREACHABLE),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "whocreated: the store at postgresql+psycopg://whocreated:***@127.0.0.1:1/whocreated"
        "?connect_timeout=3 cannot be used: unreachable (connection refused)"
    ]
    assert "s3cret" not in done.stderr + done.stdout


@pytest.fixture
def locked_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    Store.open(url)
    monkeypatch.setattr(store_module, "SQLITE_BUSY_SECONDS", 0.3)
    holder = sqlite3.connect(tmp_path / "busy.sqlite3")
    holder.execute("BEGIN IMMEDIATE")  # another process is writing, and keeps on
    yield url
    holder.rollback()
    holder.close()


@pytest.mark.parametrize("command", [["serve"], ["scan", "--notify"]])
def test_serve_and_scan_notify_refuse_a_locked_store_in_one_line(
    command: list[str],
    locked_sqlite: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    for name, value in environment(tmp_path, DATABASE_URL=locked_sqlite).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(command) == 3

    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"whocreated: the store at {locked_sqlite} cannot be used: locked by another process"
    ]
    assert captured.out == ""


def test_only_lookups_fall_back_to_memory(
    locked_sqlite: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment(tmp_path, DATABASE_URL=locked_sqlite).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["scan"]) == 3  # not even a read-only scan goes on without its store
    store = Store.open_or_memory(locked_sqlite)
    assert store.warning is not None and "locked by another process" in store.warning


# Health ----------------------------------------------------------------------------------------


class DownStore:
    """A store whose server stopped answering."""

    def ping(self) -> str:
        return "unreachable (connection refused)"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[Any, Shutdown, list[Any]]]:
    services = build(slack_settings(fake_slack), store=Store.in_memory(), aws=no_aws)
    shutdown = Shutdown()
    stores: list[Any] = [services.store]
    check = _StoreCheck(LatestStore(stores), ttl=0)
    server = http_server(
        services.app,
        0,
        host="127.0.0.1",
        draining=shutdown.draining.is_set,
        problem=lambda: f"store {why}" if (why := check()) else None,
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server, shutdown, stores
    server.close()
    services.executor.shutdown(cancel_futures=True)
    services.actions.shutdown(cancel_futures=True)


class LatestStore:
    """The last store of the list: a test swaps in one that stopped answering."""

    def __init__(self, stores: list[Any]) -> None:
        self.stores = stores

    def ping(self) -> str | None:
        return self.stores[-1].ping()


def test_health_fails_while_the_store_is_unreachable(
    served: tuple[Any, Shutdown, list[Any]], capsys: pytest.CaptureFixture
) -> None:
    server, _, stores = served
    settings = Settings(port=server.effective_port)
    assert health(settings, sys.stdout) == 0

    stores.append(DownStore())
    reply = fetch(f"http://127.0.0.1:{server.effective_port}/healthz")
    assert (reply.status, reply.json()) == (
        503,
        {"ok": False, "error": "store unreachable (connection refused)"},
    )
    capsys.readouterr()
    assert health(settings, sys.stdout) == 3
    assert capsys.readouterr().out == "unhealthy: store unreachable (connection refused)\n"


def test_a_draining_process_answers_503_to_slack_and_to_probes(
    served: tuple[Any, Shutdown, list[Any]],
) -> None:
    server, shutdown, _ = served
    base = f"http://127.0.0.1:{server.effective_port}"
    shutdown.draining.set()
    probe = fetch(f"{base}/healthz")
    assert (probe.status, probe.json()["error"]) == (503, "restarting")
    request = urllib.request.Request(f"{base}/slack/events", data=b"payload=%7B%7D", method="POST")
    assert fetch(request).status == 503


def test_the_socket_mode_heartbeat_stops_while_unhealthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(serve_module, "HEARTBEAT_SECONDS", 0.05)
    shutdown = Shutdown()
    healthy = threading.Event()
    serve_module._start_heartbeat(healthy.is_set, shutdown)
    path = serve_module.heartbeat_path()
    threading.Event().wait(0.3)
    assert not path.exists()  # e.g. the store unreachable: nothing written, health fails
    healthy.set()
    threading.Event().wait(0.3)
    assert path.exists()
    shutdown.draining.set()


# A round cut short by a stop ----------------------------------------------------------------


def test_the_round_a_stop_cut_short_runs_again_when_serve_starts_again(
    fake_slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rolling deploy at 12:00: the old process is stopped while its round reads AWS (the
    stop says the slot runs again), and the new one, started at 12:03, runs it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    fake_slack.add_user("alice@example.com", ALICE, "Alice", tz="UTC")
    fake_slack.add_user("bob@example.com", BOB, "Bob", tz="UTC")
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    clock = Clock(MONDAY_NOON)
    policy = Policy(schedule=Schedule(cron="0 12 * * 1-5"))
    settings = slack_settings(fake_slack, port=0, policy=policy, grace_s=0.5)

    def runtime() -> tuple[Any, FixedRound]:
        services = build(settings, store=Store.open(database), aws=no_aws, clock=clock)
        made = serve_module._Runtime(settings, services, Shutdown(), scheduler=True)
        made.rounds.patrol = patrol = FixedRound(clock, (ALICE, BOB))
        return made, patrol

    old, held = runtime()
    held.gate = threading.Event()
    old.start()
    scheduled = threading.Thread(target=old.rounds.run_round)  # as the 12:00 job runs it
    scheduled.start()
    assert held.started.wait(10)
    old.shutdown.requested.set()  # SIGTERM
    assert old.stop() == 1
    assert "its slot runs again at the next start or on the hour" in caplog.text
    held.gate.set()
    scheduled.join(10)
    assert fake_slack.calls_to("chat.postMessage") == []

    clock.now = MONDAY_NOON + timedelta(minutes=3)
    new, patrol = runtime()
    new.start()
    try:
        fake_slack.wait_for_call("chat.postMessage", 2, timeout=30)
    finally:
        new.shutdown.requested.set()
        new.stop()
    assert sorted(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")) == [
        ALICE,
        BOB,
    ]
    assert patrol.runs == 1
