"""ack: slash commands at a steady rate through the real Bolt app over HTTP, every AWS call slow.

Ours is the product: `wiring.build` → the Bolt app with our listeners → waitress
(`bot.slack.app.http_server`); the listener acks at once and looks up on our executor. Naive is
what many bots do: the same lookup service, called in the handler before `ack()`. Each command
names a different instance, so every one of them needs AWS. The commands come from a separate
process (bench/load.py) that times each HTTP reply; Bolt answers a request whose handler has not
acked within 3 seconds with an error, which Slack shows as a timeout.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.registry import Benchmark, Figures, Run, register

if TYPE_CHECKING:
    from bench.sandbox import Sandbox

HOME = "us-east-1"
SLACK_TIMEOUT_MS = 3000
# Both sides are measured warm, as a bot that has been running: one lookup done before serving
# (its AWS calls are in the counts), then, over HTTP, `help` and `--region us-east-1` with no
# resource (usage, answered in the ack, no AWS call). A fresh process pays once for lazy work:
# the first `--region` loads botocore's region table, about 80 ms here, which that ack waits for.
WARMUP = ("help", "--region us-east-1")


def _scale(quick: bool) -> dict[str, Any]:
    return {
        "commands": 60 if quick else 200,
        "naive_commands": 12 if quick else 60,  # bounded: each takes seconds
        "per_second": 20,
        "aws_latency_s": 1.0,
    }


def _setup(sandbox: Sandbox, scale: Mapping[str, Any]) -> dict[str, Any]:
    from bot.sandbox.records import CLI, iam_user, run_instances
    from bot.sandbox.slack_api import SlackApi

    count = max(scale["commands"], scale["naive_commands"]) + 1  # the last one warms up
    created = datetime.now(UTC) - timedelta(days=3)
    ids = sandbox.launch(HOME, [created + timedelta(seconds=n) for n in range(count)])
    image = sandbox.image(HOME)
    alice = iam_user("alice")
    sandbox.trail.add_many(
        run_instances(
            instance_id,
            created + timedelta(seconds=n),
            alice,
            region=HOME,
            agent=CLI,
            image_id=image,
            instance_type="t3.micro",
        )
        for n, instance_id in enumerate(ids)
    )
    slack = sandbox.adopt(SlackApi())
    sandbox.set_latency(scale["aws_latency_s"])
    return {
        "ids": ids[:-1],
        "warm_up_id": ids[-1],
        "slack_api": slack.url,
        "responses": slack.response_url(""),
    }


def _settings(context: Mapping[str, Any]) -> Any:
    from bench.load import SIGNING_SECRET
    from bot.config import Settings
    from bot.sandbox.slack_api import TOKEN

    return Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=context["slack_api"],
        aws_region=HOME,
    )


def _serve_and_send(app: Any, context: Mapping[str, Any], count: int) -> Figures:
    """Serve `app` on waitress, send `count` commands from another process, time the acks."""
    from bot.slack.app import http_server

    server = http_server(app, 0, host="127.0.0.1")
    threading.Thread(target=server.run, name="waitress", daemon=True).start()
    texts = [f"{instance_id} --region {HOME}" for instance_id in context["ids"][:count]]
    plan = {
        "url": f"http://127.0.0.1:{server.effective_port}/slack/events",
        "texts": texts,
        "warmup": list(WARMUP),
        "rate": context["scale"]["per_second"],
        "response_base": context["responses"],
    }
    sent = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(sent.stdout)
    latencies = sorted(result["latencies_ms"])
    acked = [
        ms
        for ms, status in zip(result["latencies_ms"], result["statuses"], strict=True)
        if status == 200 and ms < SLACK_TIMEOUT_MS
    ]
    return {
        "wall_s": result["send_s"],
        "commands": count,
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1),
        "acked_within_3s": len(acked),
    }


def _percentile(ordered: list[float], rank: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def _warm_up(services: Any, context: Mapping[str, Any]) -> None:
    from bot.core.refs import parse

    services.lookups.lookup(parse(context["warm_up_id"]), HOME)


def _ours(context: Mapping[str, Any]) -> Figures:
    from bench.clients import ours_clients
    from bot.store import Store
    from bot.wiring import build

    services = build(_settings(context), store=Store.in_memory(), aws=ours_clients())
    _warm_up(services, context)
    figures = _serve_and_send(services.app, context, context["scale"]["commands"])
    # Lookups still queued are not what this measures; those running finish before exit.
    services.executor.shutdown(wait=False, cancel_futures=True)
    return figures


def _naive(context: Mapping[str, Any]) -> Figures:
    from slack_bolt import Ack, App

    from bench.clients import ours_clients
    from bot.core import messages
    from bot.core.refs import InvalidReference, parse
    from bot.slack.app import build_web_client
    from bot.store import Store
    from bot.wiring import build

    settings = _settings(context)
    # The same lookups as ours: only where the ack happens differs.
    services = build(settings, store=Store.in_memory(), aws=ours_clients(), with_app=False)
    _warm_up(services, context)
    app = App(client=build_web_client(settings), signing_secret=settings.slack_signing_secret)

    def whocreated(ack: Ack, command: Mapping[str, Any]) -> None:
        reference, _, region = str(command["text"]).strip().partition(" --region ")
        if reference in ("", "help") or reference.startswith("--"):
            ack(text=messages.usage_text())
            return
        try:
            ref = parse(reference)
        except InvalidReference as error:
            ack(text=str(error))
            return
        answer = services.lookups.lookup(ref, region or None)
        ack(text=messages.fallback_text(answer))  # only now: AWS first, then the ack

    app.command("/whocreated")(whocreated)
    return _serve_and_send(app, context, context["scale"]["naive_commands"])


def _targets(ours: Figures, naive: Figures, scale: Mapping[str, Any]) -> dict[str, bool]:
    return {
        "p99_under_100_ms": ours["p99_ms"] < 100,
        "every_command_acked_within_3s": ours["acked_within_3s"] == ours["commands"],
    }


register(
    Benchmark(
        name="ack",
        scale=_scale,
        setup=_setup,
        runs=(Run("ours", _ours), Run("naive", _naive)),
        targets=_targets,
    )
)
