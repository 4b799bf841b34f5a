"""A minimal Slack Web API on 127.0.0.1, for the benchmarks (bench must not import tests/).

It answers auth.test as a workspace would, `{"ok": true}` to any other method, and records what
is posted to response URLs (`url_for_response(key)`), which is where slash-command answers go.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

BOT_TOKEN = "xoxb-benchmark"
SIGNING_SECRET = "benchmark-signing-secret-8f742231b10e"
TEAM_ID = "T0BENCH01"


class FakeSlack:
    def __init__(self) -> None:
        self.responses = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def url_for_response(self, key: str) -> str:
        return f"{self.base}/response/{key}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str) -> dict[str, Any] | str:
        if path.startswith("/response/"):
            with self._lock:
                self.responses += 1
            return "ok"
        if path.rstrip("/").endswith("auth.test"):
            return {
                "ok": True,
                "url": "https://bench.slack.com/",
                "team": "Bench",
                "user": "whocreated",
                "team_id": TEAM_ID,
                "user_id": "U0BENCHBOT",
                "bot_id": "B0BENCHBOT",
                "is_enterprise_install": False,
            }
        return {"ok": True}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.fake.answer(self.path)  # type: ignore[attr-defined]
        data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass
