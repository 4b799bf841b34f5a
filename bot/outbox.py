"""The outbox: every message a round posts is recorded before it is posted, and never sent twice.

`queue` writes the message `pending` in the store, with the nudges it brings. `send` claims it
(compare-and-set on its attempt count, so two processes never post it at once), posts it with its
id in Slack message metadata, and marks it `sent` with its channel and ts. A post that failed or
whose answer was lost (a timeout after Slack accepted it, a process killed between post and
record) stays pending; `flush` (at start and hourly) reads the channel's history with its
metadata and marks it sent where it landed, and posts it again only when it is not there. One
that can never be delivered is given up (bot/giving_up.py): marked `failed`, its nudges let go.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from bot import giving_up
from bot.giving_up import Undecided, Undeliverable
from bot.store import Digest, Nudge, Store, new_nudge_id, why_unusable

logger = logging.getLogger(__name__)

EVENT_TYPE = "whocreated_digest"
# A pending digest tried less than this long ago may still be on its way: leave it alone.
RECONCILE_AFTER = timedelta(minutes=1)
# Slack's clock and ours differ a little: read history from a bit before the digest was written.
CLOCK_MARGIN = timedelta(minutes=10)
HISTORY_PAGE = 200
HISTORY_PAGES = 10
WRITE_PAUSE_S = 1.0  # before a second try at writing a digest the store failed to take

__all__ = ["Flushed", "Outbox", "Undecided", "Undeliverable"]


@dataclass
class Flushed:
    """What one flush of the outbox did."""

    sent: int = 0  # posted now
    found: int = 0  # had arrived after all: marked sent without posting again
    waiting: int = 0  # outside the owner's working hours, or still on its way
    failed: list[str] = field(default_factory=list)  # targets whose digest is still pending
    given_up: list[str] = field(default_factory=list)  # targets whose digest never can be

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "found_already_sent": self.found,
            "waiting": self.waiting,
            "failed": len(self.failed),
            "given_up": len(self.given_up),
        }


class Outbox:
    def __init__(
        self,
        store: Store,
        client: Any,  # slack_sdk WebClient
        clock: Callable[[], datetime],
        *,
        in_hours: Callable[[str], bool] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.in_hours = in_hours or (lambda _owner: True)
        self.sleep = sleep

    def queue(
        self,
        *,
        kind: str,
        target: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        owner_slack_user: str | None = None,
        round_id: str | None = None,
        new_nudges: Sequence[Mapping[str, Any]] = (),
        carried: Sequence[Nudge] = (),
    ) -> str:
        """Record a message to post (and its nudges), pending; returns its digest id. A store
        that failed for a passing reason (SQLite busy past its timeout, a PostgreSQL connection
        lost) is tried once more after WRITE_PAUSE_S; what it raises then, the caller gets."""
        digest_id = new_nudge_id()

        def write() -> str:
            return self.store.queue_digest(
                kind=kind,
                target=target,
                text=text,
                blocks=list(blocks or ()),
                now=self.clock(),
                owner_slack_user=owner_slack_user,
                round_id=round_id,
                new_nudges=new_nudges,
                carried=carried,
                digest_id=digest_id,
            )

        try:
            return write()
        except DBAPIError as error:
            if not _passing(error):
                raise
            logger.warning(
                "the store failed writing a %s to %s (%s): trying once more",
                kind,
                target,
                why_unusable(error),
            )
        self.sleep(WRITE_PAUSE_S)
        if self._written(digest_id):  # it was, the answer was lost (a connection cut at commit)
            return digest_id
        return write()

    def _written(self, digest_id: str) -> bool:
        try:
            return self.store.get_digest(digest_id) is not None
        except SQLAlchemyError:
            return False

    def send(self, digest_id: str) -> tuple[str, str] | None:
        """Post a pending digest (after checking history, when it was tried before) and mark it
        sent: (channel, ts). None when another process is posting it. Raises what Slack raised;
        the digest then stays pending for the next flush, unless it was given up (Undeliverable:
        said once in the log)."""
        digest = self.store.get_digest(digest_id)
        if digest is None or digest.status in ("superseded", "failed"):
            return None
        if digest.status == "sent":
            assert digest.channel is not None and digest.message_ts is not None
            return digest.channel, digest.message_ts
        return self._deliver(digest)[1]

    def flush(self) -> Flushed:
        """Deliver what is pending: at start, and hourly. Each digest on its own: one that fails
        stays pending and the others still go."""
        flushed = Flushed()
        now = self.clock()
        for digest in self.store.pending_digests():
            owner = digest.owner_slack_user
            recent = digest.attempted_at is not None and now - digest.attempted_at < RECONCILE_AFTER
            expired = digest.attempts > 0 and now - digest.created_at >= giving_up.GIVE_UP_AFTER
            if recent or (not expired and owner is not None and not self.in_hours(owner)):
                flushed.waiting += 1
                continue
            try:
                how = self._expire(digest) if expired else self._deliver(digest)[0]
            except Undeliverable:
                flushed.given_up.append(digest.target)
                continue
            except Exception:
                logger.exception(
                    "digest %s to %s is still not delivered; tried again within the hour",
                    digest.id,
                    digest.target,
                )
                flushed.failed.append(digest.target)
                continue
            flushed.found += how == "found"
            flushed.sent += how == "sent"
        return flushed

    def _deliver(self, digest: Digest) -> tuple[str, tuple[str, str] | None]:
        """("found", where) when an earlier try had arrived after all, ("sent", where) when
        posted now, ("taken", None) when another process claimed it first."""
        if digest.attempts > 0:
            landed = self._find_or_give_up(digest)
            if landed is not None:
                return "found", landed
        if not self.store.claim_digest(digest.id, attempts=digest.attempts, now=self.clock()):
            return "taken", None
        try:
            response = self.client.chat_postMessage(
                channel=digest.target,
                text=digest.text,
                blocks=digest.blocks or None,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"digest_id": digest.id}},
            )
        except Exception as error:
            self.store.digest_failed(digest.id, _words(error))
            failure = giving_up.incurable(error)
            if failure is None and digest.attempts + 1 >= giving_up.MAX_ATTEMPTS:
                failure = giving_up.TOO_MANY_TRIES
            if failure is not None:
                self._give_up(digest, failure, error)
            raise
        where = (str(response["channel"]), str(response["ts"]))
        self.store.digest_sent(digest.id, channel=where[0], ts=where[1], now=self.clock())
        return "sent", where

    def _find_or_give_up(self, digest: Digest) -> tuple[str, str] | None:
        """Where an earlier try landed (now marked sent), None when it did not; a digest whose
        history says it never can be delivered, or cannot say, is given up."""
        try:
            landed = self.find_posted(digest)
        except Exception as error:
            failure = giving_up.incurable(error)
            if failure is None:
                raise
            self._give_up(digest, failure, error)
        if landed is not None:
            self.store.digest_sent(digest.id, channel=landed[0], ts=landed[1], now=self.clock())
            logger.info("digest %s to %s had arrived: marked sent", digest.id, digest.target)
        return landed

    def _expire(self, digest: Digest) -> str:
        """A digest tried and not delivered for too long: "found" when it had arrived after all,
        else given up (not posted again, however its history answers: a newer round says it)."""
        try:
            landed = self._find_or_give_up(digest)
        except Undeliverable:
            raise
        except Exception as error:
            self._give_up(digest, giving_up.EXPIRED, error)
        if landed is not None:
            return "found"
        self._give_up(digest, giving_up.EXPIRED, None)

    def _give_up(self, digest: Digest, failure: str, error: BaseException | None) -> NoReturn:
        """Mark it failed and let its nudges go; said once, by the process that did it."""
        detail = _words(error) if error is not None else digest.last_error or failure
        let_go = self.store.give_up_digest(
            digest.id, failure=failure, error=detail, now=self.clock()
        )
        if let_go is not None:
            logger.warning(
                "%s %s to %s is given up, not tried again: %s%s",
                digest.kind,
                digest.id,
                digest.target,
                giving_up.why(failure),
                f"; the next round routes its {_resources(let_go)} again" if let_go else "",
            )
        raise Undeliverable(digest, failure) from error

    def find_posted(self, digest: Digest) -> tuple[str, str] | None:
        """Where the digest landed, from its channel's history and the metadata we posted it
        with; None when it is not there. Undecided when history cannot say (too long)."""
        channel = self._channel_of(digest.target)
        oldest = (digest.created_at - CLOCK_MARGIN).timestamp()
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = self.client.conversations_history(
                channel=channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
            for message in page.get("messages") or ():
                if _digest_id(message) == digest.id:
                    return channel, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None
        raise Undecided(f"more than {HISTORY_PAGE * HISTORY_PAGES} messages to read in {channel}")

    def _channel_of(self, target: str) -> str:
        """A channel id as it is; a user's DM: where an earlier digest landed, else opened."""
        if not target.startswith(("U", "W")):
            return target
        known = self.store.digest_channel(target)
        if known:
            return known
        opened = self.client.conversations_open(users=target)
        return str(opened["channel"]["id"])


def _digest_id(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload") or {}
    return str(payload.get("digest_id")) if payload.get("digest_id") else None


def _words(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _resources(count: int) -> str:
    return "1 resource" if count == 1 else f"{count} resources"


def _passing(error: DBAPIError) -> bool:
    """A store failure worth one more try: busy, locked, or its connection lost."""
    return isinstance(error, OperationalError) or bool(error.connection_invalidated)
