"""A fake Slack Web API on 127.0.0.1 that records every call, and a response_url receiver.

Point a WebClient at `fake.url` (it ends in /api/). Methods answer the way Slack does
(`{"ok": true, ...}`, or `{"ok": false, "error": ...}`); anything else is `unknown_method`. Calls
without the expected bot token get `invalid_auth`. `rate_limit_once(method)` makes the next call of
that method answer HTTP 429 with Retry-After: 0. POSTs to `fake.response_url(key)` are recorded as
what `respond()` sent, and `wait_for_response(key)` waits for them.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_TOKEN = "xoxb-test"
TEAM_ID = "T0TEST001"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self, *, token: str = BOT_TOKEN) -> None:
        self.token = token
        self.users_by_email: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self._errors: dict[str, list[str]] = {}
        self._rate_limited: set[str] = set()
        self._refused: dict[str, tuple[int, str]] = {}
        self._views = itertools.count(1)
        self._timestamps = itertools.count(100)
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → message
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # Set-up -----------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/response/{key}"

    def add_user(
        self, email: str, user_id: str, name: str = "someone", tz: str = "Europe/Amsterdam"
    ) -> None:
        self.users_by_email[email.lower()] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "tz": tz,
            "profile": {"email": email, "real_name": name},
        }

    def add_usergroup(self, group_id: str, members: list[str]) -> None:
        self.usergroups[group_id] = list(members)

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """A message as it stands now (posted, then maybe updated)."""
        with self._changed:
            return self.messages[(channel, ts)]

    def fail_next(self, method: str, error: str) -> None:
        """The next call of `method` answers {"ok": false, "error": error}."""
        with self._changed:
            self._errors.setdefault(method, []).append(error)

    def rate_limit_once(self, method: str) -> None:
        with self._changed:
            self._rate_limited.add(method)

    def refuse_responses(self, key: str, status: int = 404, body: str = "expired_url") -> None:
        """Posts to response_url `key` are recorded but answered with an error, like Slack does."""
        with self._changed:
            self._refused[key] = (status, body)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # Inspection -------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        with self._changed:
            if not self._changed.wait_for(
                lambda: len([c for c in self.calls if c.method == method]) >= count, timeout
            ):
                raise AssertionError(f"no {count} call(s) to {method}; calls: {self.methods()}")
            return [call for call in self.calls if call.method == method]

    def wait_for_response(self, key: str, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        with self._changed:
            if not self._changed.wait_for(
                lambda: len(self.responses.get(key, [])) >= count, timeout
            ):
                raise AssertionError(f"nothing posted to response_url {key} in {timeout} s")
            return self.responses[key][count - 1]

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    # Serving ----------------------------------------------------------------------------------

    def _api(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict]:
        with self._changed:
            self.calls.append(Call(method, params, headers))
            self._changed.notify_all()
            if method in self._rate_limited:
                self._rate_limited.discard(method)
                return 429, {"ok": False, "error": "ratelimited"}
            errors = self._errors.get(method)
            if errors:
                return 200, {"ok": False, "error": errors.pop(0)}
        if (
            headers.get("authorization") != f"Bearer {self.token}"
            and params.get("token") != self.token
        ):
            return 200, {"ok": False, "error": "invalid_auth"}
        answer = _METHODS.get(method)
        if answer is None:
            return 200, {"ok": False, "error": "unknown_method"}
        return 200, answer(self, params)

    def _response(self, key: str, body: dict[str, Any]) -> tuple[int, str]:
        with self._changed:
            self.responses.setdefault(key, []).append(body)
            self._changed.notify_all()
            return self._refused.get(key, (200, "ok"))

    def _auth_test(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "whocreated",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _lookup_by_email(self, params: Mapping[str, Any]) -> dict[str, Any]:
        user = self.users_by_email.get(str(params.get("email", "")).lower())
        return {"ok": True, "user": user} if user else {"ok": False, "error": "users_not_found"}

    def _users_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        for user in self.users_by_email.values():
            if user["id"] == params.get("user"):
                return {"ok": True, "user": user}
        return {"ok": False, "error": "user_not_found"}

    def _view(self, params: Mapping[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        view_id = params.get("view_id") or f"V{next(self._views):08d}"
        return {"ok": True, "view": {**(view or {}), "id": view_id, "hash": f"hash-{view_id}"}}

    def _post_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel.startswith(("U", "W")):
            channel = "D" + channel[1:]  # a DM to a user id lands in the app's DM with them
        with self._changed:
            ts = f"1700000000.{next(self._timestamps):06d}"
            self.messages[(channel, ts)] = {
                "ts": ts,
                "text": params.get("text", ""),
                "blocks": _json_field(params, "blocks") or [],
            }
        return {"ok": True, "channel": channel, "ts": ts}

    def _update(self, params: Mapping[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._changed:
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            message = self.messages[key]
            message["text"] = params.get("text", message["text"])
            if "blocks" in params:
                message["blocks"] = _json_field(params, "blocks") or []
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}

    def _post_ephemeral(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._changed:
            ts = f"1700000000.{next(self._timestamps):06d}"
        return {"ok": True, "message_ts": ts}

    def _history(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel, latest = str(params.get("channel")), str(params.get("latest") or "")
        with self._changed:
            found = [
                dict(message)
                for (where, ts), message in self.messages.items()
                if where == channel and (not latest or ts <= latest)
            ]
        found.sort(key=lambda message: message["ts"], reverse=True)
        limit = int(params.get("limit") or 100)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}

    def _usergroup_users(self, params: Mapping[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(str(params.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}


_METHODS: dict[str, Callable[[FakeSlack, Mapping[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "users.lookupByEmail": FakeSlack._lookup_by_email,
    "users.info": FakeSlack._users_info,
    "views.open": FakeSlack._view,
    "views.update": FakeSlack._view,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "conversations.history": FakeSlack._history,
    "views.publish": FakeSlack._view,
    "usergroups.users.list": FakeSlack._usergroup_users,
}


def _json_field(params: Mapping[str, Any], name: str) -> Any:
    """A JSON body holds lists as they are; a form body holds them as JSON text."""
    value = params.get(name)
    return json.loads(value) if isinstance(value, str) else value


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            body = _decode(raw, self.headers.get("Content-Type", ""))
            headers = {key.lower(): value for key, value in self.headers.items()}
            if self.path.startswith("/api/"):
                status, answer = fake._api(self.path[len("/api/") :].split("?")[0], body, headers)
                extra = {"Retry-After": "0"} if status == 429 else {}
                self._send(status, json.dumps(answer), "application/json", extra)
            elif self.path.startswith("/response/"):
                status, text = fake._response(self.path[len("/response/") :], body)
                self._send(status, text, "text/plain")
            else:
                self._send(404, "not found", "text/plain")

        def _send(
            self, status: int, text: str, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

    return Handler


def _decode(raw: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        return json.loads(raw or "{}")
    return dict(parse_qsl(raw, keep_blank_values=True))
