"""Slash commands as Slack sends them, at a steady rate, timing each HTTP reply (the ack).

`python -m bench.load` reads {"url", "texts", "rate", "response_base", "warmup"} as JSON on stdin
and prints {"latencies_ms": [...], "statuses": [...], "send_s"}; the "warmup" texts go first, one
after another, untimed. It runs in a process of its own, so its threads never
compete with the app under test for the interpreter lock, as Slack's servers would not.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack_api import TEAM_ID

SIGNING_SECRET = "benchmark-signing-secret-8f742231b10e"  # the app under test is given it too


def command_body(text: str, response_url: str, number: int) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "bench",
            "channel_id": "C0BENCH01",
            "channel_name": "sandbox",
            "user_id": f"U0ASKER{number % 50:03d}",
            "user_name": "asker",
            "command": "/whocreated",
            "text": text,
            "api_app_id": "A0BENCH01",
            "response_url": response_url,
            "trigger_id": f"{number}.{number}.bench",
        }
    )


def send(url: str, body: str) -> tuple[float, int]:
    """POST one signed command on a new connection, as Slack does; (milliseconds, status)."""
    parts = urlsplit(url)
    timestamp = str(int(time.time()))
    verifier = SignatureVerifier(SIGNING_SECRET)
    signature = verifier.generate_signature(timestamp=timestamp, body=body) or ""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("POST", parts.path, body=body.encode(), headers=headers)
        reply = connection.getresponse()
        reply.read()
        status = reply.status
    except OSError:
        status = 0
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000, status


def run(plan: dict[str, Any]) -> dict[str, Any]:
    texts: list[str] = plan["texts"]
    for number, text in enumerate(plan.get("warmup", [])):
        send(plan["url"], command_body(text, f"{plan['response_base']}warmup{number}", number))
    interval = 1 / plan["rate"]
    results: list[tuple[float, int]] = [(0.0, 0)] * len(texts)
    start = time.perf_counter() + 0.05
    lock = threading.Lock()

    def one(number: int) -> None:
        # Open loop: each command leaves at its own time, whether or not earlier ones were acked.
        time.sleep(max(0.0, start + number * interval - time.perf_counter()))
        body = command_body(texts[number], f"{plan['response_base']}{number}", number)
        outcome = send(plan["url"], body)
        with lock:
            results[number] = outcome

    with ThreadPoolExecutor(max_workers=min(len(texts), 256)) as pool:
        list(pool.map(one, range(len(texts))))
    return {
        "latencies_ms": [round(ms, 2) for ms, _ in results],
        "statuses": [status for _, status in results],
        "send_s": round(time.perf_counter() - start, 3),
    }


def main() -> int:
    print(json.dumps(run(json.load(sys.stdin))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
