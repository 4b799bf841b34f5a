"""When the outbox stops trying a digest: what no retry cures, how long a failing one is tried.

A digest given up is `failed` in the store and its nudges are let go, so the next round routes
those resources again instead of waiting for a message that will never arrive. Slack's word that
the person or channel cannot be reached ends it at once; so does a history too long to tell
whether an earlier try arrived (posting again could send it twice). Any other failure is tried
again by the hourly retry, at most MAX_ATTEMPTS posts and for at most GIVE_UP_AFTER.
"""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.store import Digest

# Slack errors a retry cannot cure: the person left or cannot be written to, the channel is gone,
# archived, or the bot is not in it.
UNREACHABLE = frozenset(
    {
        "user_not_found",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
    }
)
UNDECIDED = "undecided"  # the history could not say whether an earlier try arrived
TOO_MANY_TRIES = "too_many_tries"
EXPIRED = "expired"

MAX_ATTEMPTS = 5  # posts of one digest that failed for passing reasons (Slack down, timeouts)
GIVE_UP_AFTER = timedelta(days=1)  # a digest tried and still not delivered a day after writing


class Undecided(RuntimeError):
    """The channel's history could not tell whether a digest arrived; it is not posted again."""


class Undeliverable(Exception):
    """The digest was given up (`failure` says why in a word); already logged, once."""

    def __init__(self, digest: Digest, failure: str) -> None:
        super().__init__(f"digest {digest.id} to {digest.target} given up: {failure}")
        self.digest = digest
        self.failure = failure


def incurable(error: BaseException) -> str | None:
    """The failure word when `error` means the digest can never be delivered, else None."""
    if isinstance(error, Undecided):
        return UNDECIDED
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "")
        return code if code in UNREACHABLE else None
    return None


def why(failure: str) -> str:
    """The failure word in a few plain words, for the log."""
    if failure == UNDECIDED:
        return "its channel's history is too long to tell whether an earlier try arrived"
    if failure == TOO_MANY_TRIES:
        return f"{MAX_ATTEMPTS} posts failed"
    if failure == EXPIRED:
        return f"still not delivered {_days(GIVE_UP_AFTER)} after it was written"
    return f"Slack says {failure}"


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return "a day" if days == 1 else f"{days:g} days"
