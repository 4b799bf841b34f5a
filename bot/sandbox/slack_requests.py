"""What a Slack user does, as Slack sends it: signed requests dispatched to the real Bolt app.

Slash commands (a form body), button clicks and modal submissions (`payload=` JSON) are signed
with the app's signing secret the way Slack signs them and handed to `app.dispatch`, the same
path a request from Slack takes after the HTTP server: Bolt checks the signature, acks, and the
listeners run as they would in production. Replies to `respond()` go to the recording Slack API's
response_url.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack_api import TEAM_ID, SlackApi

FORM = "application/x-www-form-urlencoded"
APP_ID = "A0WHOCREAT"


class SlackRequests:
    def __init__(self, app: App, signing_secret: str, api: SlackApi) -> None:
        self.app = app
        self.signer = SignatureVerifier(signing_secret)
        self.api = api
        self._keys = itertools.count(1)

    def new_key(self) -> str:
        return f"r{next(self._keys)}"

    def command(self, user: str, text: str, *, channel: str) -> tuple[BoltResponse, str]:
        """`/whocreated text` typed by `user`; returns the ack and the response_url key."""
        key = self.new_key()
        form = {
            "team_id": TEAM_ID,
            "team_domain": "sandbox",
            "channel_id": channel,
            "channel_name": self.api.channels.get(channel, "sandbox"),
            "user_id": user,
            "user_name": self._name(user),
            "command": "/whocreated",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": self.api.response_url(key),
            "trigger_id": f"{key}.trigger",
        }
        return self.dispatch(urlencode(form)), key

    def click(
        self,
        user: str,
        button: Mapping[str, Any],
        *,
        channel: str,
        message_ts: str,
        blocks: Sequence[Mapping[str, Any]],
    ) -> tuple[BoltResponse, str]:
        """`user` clicks `button` (as posted) in a message; confirm dialogs are already past."""
        key = self.new_key()
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": {"id": user, "username": self._name(user), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "trigger_id": f"{key}.trigger",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "channel": {"id": channel, "name": "directmessage"},
            "message": {"type": "message", "ts": message_ts, "blocks": list(blocks)},
            "response_url": self.api.response_url(key),
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": button.get("block_id", ""),
                    "type": "button",
                    "value": button.get("value", ""),
                    "text": button.get("text", {"type": "plain_text", "text": ""}),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.dispatch(urlencode({"payload": json.dumps(payload)})), key

    def submit(self, user: str, view: Mapping[str, Any], values: Mapping[str, Any]) -> BoltResponse:
        """`user` submits the modal `view` (as opened) with these input values."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": {"id": user, "username": self._name(user), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "trigger_id": f"{self.new_key()}.trigger",
            "view": {
                **view,
                "state": {"values": dict(values)},
            },
        }
        return self.dispatch(urlencode({"payload": json.dumps(payload)}))

    def dispatch(self, body: str, content_type: str = FORM) -> BoltResponse:
        timestamp = str(int(time.time()))
        signature = str(self.signer.generate_signature(timestamp=timestamp, body=body))
        request = BoltRequest(
            body=body,
            headers={
                "content-type": [content_type],
                "x-slack-request-timestamp": [timestamp],
                "x-slack-signature": [signature],
            },
        )
        return self.app.dispatch(request)

    def _name(self, user: str) -> str:
        found = self.api.users.get(user)
        return found.name if found else user.lower()
