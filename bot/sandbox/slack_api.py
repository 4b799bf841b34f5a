"""A Slack Web API on 127.0.0.1 that records every call: the demo's Slack workspace.

Point a `WebClient(base_url=api.url)` at it (`url` ends in /api/). The methods whocreated uses
answer as Slack does (`{"ok": true, ...}` or `{"ok": false, "error": ...}`); any other method is
`unknown_method`, and a call without the bot token is `invalid_auth`. Messages are kept, so
chat.update and conversations.history work on what was posted; a chat.postMessage to a user id
lands in the app's direct message with them (a `D…` channel, which conversations.open also
answers). Message `metadata` given to chat.postMessage is kept and returned by
conversations.history only with `include_all_metadata`, as Slack does; history reads newest first
between `oldest` and `latest` (both exclusive unless `inclusive`), `limit` at a time, paging with
`cursor`. Timestamps are the current time, so `oldest` works as it does on Slack. POSTs to
`response_url(key)` are recorded as what Bolt's `respond()` sent.

Tokens and scopes as Slack has them: the bot token's granted scopes (every scope whocreated asks
for unless `scopes=` says otherwise) come back in each answer's `x-oauth-scopes` header, and a
method whose scope was not granted answers `missing_scope`. `apps.connections.open` (Socket
Mode) takes only the app-level token (`app_token=`); the bot token there is
`not_allowed_token_type`. `conversations.info` answers for channels added with `add_channel`,
saying whether the bot is a member; a private channel the bot is not in is `channel_not_found`.

Faults, for tests of how whocreated copes: `fail_next(method, error)` makes the next call answer
`{"ok": false, "error": error}`, `rate_limit_once(method)` answers HTTP 429 with Retry-After: 0,
`stall_next(method, seconds)` does the next call's work (a post is accepted and kept) and then
answers only after `seconds`, as a reply lost on the way back makes the client time out, and
`refuse_responses(key)` answers posts to that response_url with an error, as Slack does once a
response_url has expired.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.permissions import SLACK_BOT_SCOPES
from bot.sandbox.loopback import LoopbackServer

TOKEN = "xoxb-sandbox-demo"
TEAM_ID = "T0SANDBOX"
BOT_USER_ID = "U0WHOCREAT"
BOT_ID = "B0WHOCREAT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


OTHER_TEAM_ID = "T0OTHERORG"  # the organisation of people who reach us through a shared channel
USER_KINDS = ("member", "guest", "single-channel guest", "external")


@dataclass(frozen=True)
class User:
    id: str
    name: str
    real_name: str
    email: str
    tz: str
    kind: str = "member"  # one of USER_KINDS, as users.info tells them apart

    def profile(self) -> dict[str, Any]:
        external = self.kind == "external"
        return {
            "id": self.id,
            "team_id": OTHER_TEAM_ID if external else TEAM_ID,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": False,
            "is_restricted": self.kind == "guest",
            "is_ultra_restricted": self.kind == "single-channel guest",
            "is_stranger": external,
            "tz": self.tz,
            "profile": {"email": self.email, "real_name": self.real_name},
        }


class SlackApi(LoopbackServer):
    """Use as a context manager; see the module docstring."""

    thread_name = "slack-api-standin"

    def __init__(
        self,
        *,
        token: str = TOKEN,
        app_token: str | None = None,
        scopes: Iterable[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.scopes = tuple(SLACK_BOT_SCOPES if scopes is None else scopes)
        self.users: dict[str, User] = {}
        self.channels: dict[str, str] = {}  # channel id → name, for people reading the demo
        self.channel_info: dict[str, dict[str, Any]] = {}  # channel id → conversations.info
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → message
        self.metadata: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → metadata
        self.usergroups: dict[str, list[str]] = {}
        self._errors: dict[str, list[str]] = {}  # method → errors its next calls answer
        self._rate_limited: set[str] = set()
        self._stalls: dict[str, list[float]] = {}  # method → seconds its next calls hold back
        self._last_ts = 0.0
        self._refused: dict[str, tuple[int, str]] = {}  # response_url key → (status, body)
        self._views = itertools.count(1)
        self._changed = threading.Condition()
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True

    # Set-up --------------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/response/{key}"

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str,
        email: str,
        tz: str = "UTC",
        kind: str = "member",
    ) -> None:
        if kind not in USER_KINDS:
            raise ValueError(f"kind must be one of {USER_KINDS}")
        with self._changed:
            self.users[user_id] = User(user_id, name, real_name, email, tz, kind)

    def add_channel(
        self, channel_id: str, name: str, *, member: bool = True, private: bool = False
    ) -> None:
        with self._changed:
            self.channels[channel_id] = name
            self.channel_info[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_channel": not private,
                "is_private": private,
                "is_member": member,
            }

    def add_usergroup(self, group_id: str, members: list[str]) -> None:
        with self._changed:
            self.usergroups[group_id] = list(members)

    # Faults --------------------------------------------------------------------------------------

    def fail_next(self, method: str, error: str) -> None:
        """The next call of `method` answers {"ok": false, "error": error}."""
        with self._changed:
            self._errors.setdefault(method, []).append(error)

    def rate_limit_once(self, method: str) -> None:
        """The next call of `method` answers HTTP 429 with Retry-After: 0."""
        with self._changed:
            self._rate_limited.add(method)

    def stall_next(self, method: str, seconds: float) -> None:
        """The next call of `method` is carried out, then answered only after `seconds`."""
        with self._changed:
            self._stalls.setdefault(method, []).append(seconds)

    def refuse_responses(self, key: str, status: int = 404, body: str = "expired_url") -> None:
        """Posts to response_url `key` are recorded but answered with an error."""
        with self._changed:
            self._refused[key] = (status, body)

    # Inspection ----------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def methods(self) -> list[str]:
        """The methods called, in order."""
        with self._changed:
            return [call.method for call in self.calls]

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """The calls to `method` once there are `count` of them; TimeoutError after `timeout`."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: sum(1 for c in self.calls if c.method == method) >= count, timeout
            ):
                called = [call.method for call in self.calls]
                raise TimeoutError(
                    f"no {count} call(s) to {method} within {timeout:g} s; calls: {called}"
                )
            return [call for call in self.calls if call.method == method]

    def wait_for_response(self, key: str, count: int = 1, timeout: float = 30.0) -> dict[str, Any]:
        """The `count`-th message posted to response_url `key`."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: len(self.responses.get(key, [])) >= count, timeout
            ):
                raise TimeoutError(f"nothing posted to response_url {key} within {timeout:g} s")
            return self.responses[key][count - 1]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """A message as it stands now (posted, then maybe updated)."""
        with self._changed:
            return dict(self.messages[(channel, ts)])

    def dm_channel(self, user_id: str) -> str:
        """The app's direct message channel with a user, as chat.postMessage answers it."""
        return "D" + user_id[1:]

    def names(self) -> dict[str, str]:
        """Ids → names, for showing mentions and channels: users, DMs and channels."""
        with self._changed:
            found = {user.id: user.name for user in self.users.values()}
            found.update({self.dm_channel(u.id): f"DM with {u.name}" for u in self.users.values()})
            found.update(self.channels)
            found[BOT_USER_ID] = "whocreated"
        return found

    # Serving ---------------------------------------------------------------------------------

    def _api(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for a Web API call."""
        status, body = self._answer(method, params, headers)
        with self._changed:
            stalls = self._stalls.get(method)
            stall = stalls.pop(0) if stalls else 0.0
        if stall:
            time.sleep(stall)
        return status, body

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        with self._changed:
            self.calls.append(Call(method, params, headers))
            self._changed.notify_all()
            if method in self._rate_limited:
                self._rate_limited.discard(method)
                return 429, {"ok": False, "error": "ratelimited"}
            errors = self._errors.get(method)
            if errors:
                return 200, {"ok": False, "error": errors.pop(0)}
        token = params.get("token") or headers.get("authorization", "").removeprefix("Bearer ")
        if method == "apps.connections.open":
            return 200, self._connections_open(token)
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}
        answer = _METHODS.get(method)
        if answer is None:
            return 200, {"ok": False, "error": "unknown_method"}
        needed = _needed_scope(method, params)
        if needed and needed not in self.scopes:
            provided = ",".join(self.scopes)
            return 200, {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": provided,
            }
        with self._changed:
            result = answer(self, params)
            self._changed.notify_all()
            return 200, result

    def _response(self, key: str, body: dict[str, Any]) -> tuple[int, str]:
        """Record what was posted to a response_url; (HTTP status, body) to answer."""
        with self._changed:
            self.responses.setdefault(key, []).append(body)
            self._changed.notify_all()
            return self._refused.get(key, (200, "ok"))

    def _next_ts(self) -> str:
        """Now, as Slack writes a message's ts; strictly increasing, so each is unique."""
        self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    # Methods (called with the condition held) ----------------------------------------------------

    def _connections_open(self, token: str) -> dict[str, Any]:
        if token and token == self.app_token:
            return {"ok": True, "url": "wss://wss-sandbox.slack.invalid/link/?ticket=sandbox"}
        if token == self.token:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": False, "error": "invalid_auth"}

    def _conversation_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        info = self.channel_info.get(str(params.get("channel")))
        if info is None or (info["is_private"] and not info["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": dict(info)}

    def _auth_test(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://sandbox.slack.invalid/",
            "team": "Sandbox",
            "user": "whocreated",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _lookup_by_email(self, params: Mapping[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        for user in self.users.values():
            if user.email.lower() == email:
                return {"ok": True, "user": user.profile()}
        return {"ok": False, "error": "users_not_found"}

    def _users_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if params.get("user") == BOT_USER_ID:
            bot = {"id": BOT_USER_ID, "team_id": TEAM_ID, "name": "whocreated", "is_bot": True}
            return {"ok": True, "user": bot}
        user = self.users.get(str(params.get("user")))
        return (
            {"ok": True, "user": user.profile()}
            if user
            else {"ok": False, "error": "user_not_found"}
        )

    def _view(self, params: Mapping[str, Any]) -> dict[str, Any]:
        view = _json_field(params, "view") or {}
        view_id = params.get("view_id") or f"V{next(self._views):08d}"
        return {"ok": True, "view": {**view, "id": view_id, "hash": f"hash-{view_id}"}}

    def _post_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel.startswith(("U", "W")):
            channel = self.dm_channel(channel)
        ts = self._next_ts()
        self.messages[(channel, ts)] = {
            "ts": ts,
            "text": params.get("text", ""),
            "blocks": _json_field(params, "blocks") or [],
        }
        metadata = _json_field(params, "metadata")
        if metadata:
            self.metadata[(channel, ts)] = dict(metadata)
        return {"ok": True, "channel": channel, "ts": ts}

    def _open(self, params: Mapping[str, Any]) -> dict[str, Any]:
        users = str(params.get("users") or "").split(",")
        if len(users) != 1 or users[0] not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.dm_channel(users[0]), "is_im": True}}

    def _update(self, params: Mapping[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        message = self.messages.get(key)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message["text"] = params.get("text", message["text"])
        if "blocks" in params:
            message["blocks"] = _json_field(params, "blocks") or []
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}

    def _post_ephemeral(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _history(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if not any(where == channel for where, _ in self.messages) and not self._known(channel):
            return {"ok": False, "error": "channel_not_found"}
        inclusive = _flag(params.get("inclusive"))
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        with_metadata = _flag(params.get("include_all_metadata"))
        found = []
        for (where, ts), message in self.messages.items():
            moment = float(ts)
            inside = oldest <= moment <= latest if inclusive else oldest < moment < latest
            if where != channel or not inside:
                continue
            shown = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, **message}
            if with_metadata and (where, ts) in self.metadata:
                shown["metadata"] = dict(self.metadata[(where, ts)])
            found.append(shown)
        found.sort(key=lambda message: float(message["ts"]), reverse=True)
        start = int(params.get("cursor") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 999))
        page = found[start : start + limit]
        more = len(found) > start + limit
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _known(self, channel: str) -> bool:
        """A channel the workspace has: a named one, or the DM of a known user."""
        return channel in self.channels or any(
            self.dm_channel(user) == channel for user in self.users
        )

    def _usergroup_users(self, params: Mapping[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(str(params.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}


_METHODS: dict[str, Callable[[SlackApi, Mapping[str, Any]], dict[str, Any]]] = {
    "auth.test": SlackApi._auth_test,
    "users.lookupByEmail": SlackApi._lookup_by_email,
    "users.info": SlackApi._users_info,
    "views.open": SlackApi._view,
    "views.update": SlackApi._view,
    "views.publish": SlackApi._view,
    "chat.postMessage": SlackApi._post_message,
    "chat.update": SlackApi._update,
    "chat.postEphemeral": SlackApi._post_ephemeral,
    "conversations.history": SlackApi._history,
    "conversations.open": SlackApi._open,
    "usergroups.users.list": SlackApi._usergroup_users,
    "conversations.info": SlackApi._conversation_info,
}

# The scope each method needs (as Slack's method pages list them); views.* and auth.test need none.
_SCOPES = {
    "users.lookupByEmail": "users:read.email",
    "users.info": "users:read",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "usergroups.users.list": "usergroups:read",
}
# Conversation methods need the scope of the conversation's kind: C… public, G… private, D… DM.
_CONVERSATION_SCOPES = {
    "conversations.history": {"C": "channels:history", "G": "groups:history", "D": "im:history"},
    "conversations.info": {"C": "channels:read", "G": "groups:read", "D": "im:read"},
}


def _needed_scope(method: str, params: Mapping[str, Any]) -> str | None:
    by_kind = _CONVERSATION_SCOPES.get(method)
    if by_kind is None:
        return _SCOPES.get(method)
    return by_kind.get(str(params.get("channel", ""))[:1])


def _json_field(params: Mapping[str, Any], name: str) -> Any:
    """A JSON body holds lists as they are; a form body holds them as JSON text."""
    value = params.get(name)
    return json.loads(value) if isinstance(value, str) else value


def _flag(value: Any) -> bool:
    """A boolean argument as Slack reads it from JSON or a form ("true", "1")."""
    return value is True or str(value).lower() in ("true", "1")


def _decode(raw: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        return json.loads(raw or "{}")
    return dict(parse_qsl(raw, keep_blank_values=True))


def _handler(api: SlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            body = _decode(raw, self.headers.get("Content-Type", ""))
            headers = {key.lower(): value for key, value in self.headers.items()}
            if self.path.startswith("/api/"):
                method = self.path[len("/api/") :].split("?")[0]
                status, answer = api._api(method, body, headers)
                extra = {"x-oauth-scopes": ",".join(api.scopes)}
                if status == 429:
                    extra["Retry-After"] = "0"
                self._send(status, json.dumps(answer), "application/json", extra)
            elif self.path.startswith("/response/"):
                status, text = api._response(self.path[len("/response/") :], body)
                self._send(status, text, "text/plain")
            else:
                self._send(404, "not found", "text/plain")

        def _send(
            self,
            status: int,
            text: str,
            content_type: str,
            extra: Mapping[str, str] | None = None,
        ) -> None:
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a stalled call): the answer is lost, as on Slack

        def log_message(self, format: str, *args: Any) -> None:
            return  # the recorded calls are the log

    return Handler
