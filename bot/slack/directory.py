"""AWS identity → Slack user: the mapping file, then users.lookupByEmail where the identity's name
can be trusted (bot.core.trust: IAM Identity Center sessions, trusted session roles, IAM users
under the configured domain).

Answers (hits and misses) are cached with a TTL, misses for a shorter time so a person who joins
Slack is found soon. Slack errors never escape: an unknown email is a miss, a missing scope or any
other failure is a miss with one logged warning per kind of error.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import DirectorySettings
from bot.core import trust
from bot.core.events import Actor

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# "<@U012AB3CD>", "<@U012AB3CD|alice>", "@U012AB3CD" or "U012AB3CD" (ids hold a digit).
_SLACK_ID = re.compile(r"^<?@?(?P<id>[UW](?=[A-Z0-9]*\d)[A-Z0-9]{6,14})(?:\|[^>]*)?>?$")


class SlackDirectory:
    def __init__(
        self,
        client: WebClient,
        settings: DirectorySettings,
        *,
        clock: Clock,
        hit_ttl: timedelta = timedelta(hours=12),
        miss_ttl: timedelta = timedelta(minutes=15),
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._hit_ttl = hit_ttl
        self._miss_ttl = miss_ttl
        self._cache: dict[str, tuple[str | None, datetime]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def slack_user(self, actor: Actor) -> str | None:
        """The Slack user id of the person behind this AWS identity, or None when unknown or when
        the identity's name is the caller's own choice (bot.core.trust)."""
        mapped = trust.mapped_user(actor, self._settings.users)
        if mapped is not None:
            return mapped
        email = trust.trusted_email(
            actor,
            email_domain=self._settings.email_domain,
            trusted_session_roles=self._settings.trusted_session_roles,
        )
        return self.user_by_email(email) if email else None

    def claimed_user(self, value: str) -> str | None:
        """The Slack user an owner tag's value names: a mention or member id, an email, a mapped
        IAM user name, or a name under the email domain. For routing a digest only: a tag is a
        claim, and grants no authority (bot.owners decides what a tag may do)."""
        text = value.strip()
        mention = _SLACK_ID.match(text)
        if mention:
            return mention["id"]
        mapped = self._settings.users.get(f"{trust.USER_KEY}{text}") or self._settings.users.get(
            text
        )
        if mapped is not None:
            return mapped
        email = trust.claimed_email(text, self._settings.email_domain)
        return self.user_by_email(email) if email else None

    def user_by_email(self, email: str) -> str | None:
        """users.lookupByEmail, cached; None for nobody (or Slack trouble, logged once)."""
        email = email.lower()
        known, user_id = self._cached(email)
        if known:
            return user_id
        user_id = self._lookup_by_email(email)
        ttl = self._hit_ttl if user_id else self._miss_ttl
        with self._lock:
            self._cache[email] = (user_id, self._clock() + ttl)
        return user_id

    def _cached(self, email: str) -> tuple[bool, str | None]:
        """(known, user id): known is False when never asked or the answer has expired."""
        with self._lock:
            entry = self._cache.get(email)
            if entry is None:
                return False, None
            if entry[1] <= self._clock():
                del self._cache[email]
                return False, None
            return True, entry[0]

    def _lookup_by_email(self, email: str) -> str | None:
        try:
            response = self._client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown_error"))
            if code == "users_not_found":
                return None
            if code == "missing_scope":
                self._warn_once(
                    code,
                    "the Slack bot token lacks the users:read.email scope, so AWS identities "
                    "cannot be matched to Slack users by email; add it and reinstall the app",
                )
            else:
                self._warn_once(code, f"users.lookupByEmail failed ({code}); answers show names")
            return None
        except Exception as error:  # network trouble: answer without a mention, never crash
            self._warn_once(
                type(error).__name__,
                f"users.lookupByEmail could not reach Slack ({type(error).__name__}: {error}); "
                "answers show names",
            )
            return None
        user = response.get("user") or {}
        if user.get("deleted"):
            return None
        user_id = user.get("id")
        return user_id if isinstance(user_id, str) and user_id else None

    def _warn_once(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        logger.warning(message)
