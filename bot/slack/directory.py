"""AWS identity → Slack user: the mapping file, then users.lookupByEmail, then a domain rule.

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
from bot.core.events import Actor

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9._%+'-]+$")
# Identities that name no person: "root@example.com" or a role name is never someone's mailbox.
_NOT_A_PERSON_TYPES = frozenset({"Root", "AWSService", "AWSAccount"})


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
        """The Slack user id of the person behind this AWS identity, or None when unknown."""
        for key in (actor.arn, actor.name):
            if key and key in self._settings.users:
                return self._settings.users[key]
        email = self._email_for(actor)
        if email is None:
            return None
        known, user_id = self._cached(email)
        if known:
            return user_id
        user_id = self._lookup_by_email(email)
        ttl = self._hit_ttl if user_id else self._miss_ttl
        with self._lock:
            self._cache[email] = (user_id, self._clock() + ttl)
        return user_id

    def _email_for(self, actor: Actor) -> str | None:
        name = actor.name
        if not name or actor.identity_type in _NOT_A_PERSON_TYPES:
            return None
        if _EMAIL.match(name):
            return name.lower()  # SSO sessions are usually named after the person's email
        if actor.invoked_by and name == actor.invoked_by:
            return None  # a service acting on its own (rds.amazonaws.com)
        domain = self._settings.email_domain
        if domain and _LOCAL_PART.match(name):
            return f"{name}@{domain}".lower()
        return None

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
