"""Replace one resource's row in a posted digest with its outcome (chat.update).

The base is, in order: the blocks this process last sent for that message (so two quick decisions
on one digest both stay), the blocks Slack sent in the click's payload, or the message read back
with conversations.history (after a modal, whose payload has no message). Updates of one message
are serialised by a lock, so they compose instead of overwriting each other.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.core import digests
from bot.core.messages import escape_clip
from bot.core.resources import Resource
from bot.registry.patrol import PATROL

logger = logging.getLogger(__name__)

REMEMBERED_MESSAGES = 500
_STRIPES = 32

Blocks = list[dict[str, Any]]


class MessageRows:
    def __init__(self, remembered: int = REMEMBERED_MESSAGES) -> None:
        self._latest: OrderedDict[tuple[str, str], Blocks] = OrderedDict()
        self._remembered = remembered
        self._guard = threading.Lock()
        self._locks = [threading.Lock() for _ in range(_STRIPES)]

    def replace(
        self,
        client: WebClient,
        channel: str,
        ts: str,
        nudge_id: str,
        outcome: str,
        *,
        by_user: str | None,
        now: datetime,
        resource: Resource | None = None,
        base: Sequence[Mapping[str, Any]] | None = None,
    ) -> bool:
        """True when the message now shows the outcome; False (logged) when it could not."""
        key = (channel, ts)
        with self._locks[hash(key) % _STRIPES]:
            blocks = self._remembered_blocks(key) or ([dict(b) for b in base] if base else None)
            if blocks is None:
                blocks = self._fetch(client, channel, ts)
            if blocks is None:
                return False
            updated = [
                block.to_dict()
                for block in digests.outcome_blocks(
                    blocks,
                    nudge_id,
                    outcome,
                    by_user=by_user,
                    now=now,
                    resource=resource,
                    kinds=PATROL,
                )
            ]
            try:
                client.chat_update(
                    channel=channel, ts=ts, blocks=updated, text=escape_clip(outcome, 3000)
                )
            except Exception:
                logger.exception(
                    "could not update message %s in %s for nudge %s", ts, channel, nudge_id
                )
                return False
            self._remember(key, updated)
            return True

    def _remembered_blocks(self, key: tuple[str, str]) -> Blocks | None:
        with self._guard:
            found = self._latest.get(key)
            return list(found) if found is not None else None

    def _remember(self, key: tuple[str, str], blocks: Blocks) -> None:
        with self._guard:
            self._latest[key] = blocks
            self._latest.move_to_end(key)
            while len(self._latest) > self._remembered:
                self._latest.popitem(last=False)

    def _fetch(self, client: WebClient, channel: str, ts: str) -> Blocks | None:
        try:
            answer = client.conversations_history(
                channel=channel, latest=ts, inclusive=True, limit=1
            )
        except Exception:
            logger.exception("could not read message %s in %s to update it", ts, channel)
            return None
        for message in answer.get("messages") or ():
            if message.get("ts") == ts and message.get("blocks"):
                return list(message["blocks"])
        logger.warning("message %s in %s was not found to update it", ts, channel)
        return None
