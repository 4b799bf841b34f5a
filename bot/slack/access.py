"""Who may use the bot at all, and how often one person may ask it (DESIGN.md §4, Trust).

By default every full member of the workspace may; guests and people of other organisations
(Slack Connect shared channels) are refused unless the policy lists them. The policy may narrow it
to `allowed_users` and members of `allowed_groups`, and `/whocreated` to `allowed_channels`.
Admins are always allowed. Who someone is comes from `users.info` (cached), and which
organisation is ours from the auth.test Bolt made at start-up (its authorize result on each
request), else from our own auth.test; when Slack cannot say either, the request is refused and
the person asked to try again: never let in by default.

`/whocreated` is also limited per person (`lookups_per_minute`): CloudTrail's LookupEvents allows
an account 2 requests a second, shared by everyone, so one person must not use it all up. The
count lives in this process's memory: each replica counts on its own (README, Security model).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.core.policy import SlackPolicy
from bot.slack.admins import Admins
from bot.slack.user_groups import UserGroups

logger = logging.getLogger(__name__)

Home = tuple[str | None, str | None]  # our team id and enterprise id, from auth.test

USER_TTL_SECONDS = 600.0
RATE_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Person:
    """What users.info says about someone, as far as access is concerned."""

    team_id: str | None
    enterprise_id: str | None
    guest: bool
    stranger: bool  # Slack says so for people of another organisation in a shared channel
    deleted: bool

    @classmethod
    def from_user(cls, user: Mapping[str, Any]) -> Person:
        enterprise = user.get("enterprise_user") or {}
        return cls(
            team_id=user.get("team_id"),
            enterprise_id=enterprise.get("enterprise_id"),
            guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            stranger=bool(user.get("is_stranger")),
            deleted=bool(user.get("deleted") or user.get("is_bot")),
        )


class Access:
    def __init__(
        self,
        client_for: Callable[[], WebClient],
        policy: Callable[[], SlackPolicy],
        *,
        admins: Admins,
        groups: UserGroups,
        monotonic: Callable[[], float] = time.monotonic,
        ttl: float = USER_TTL_SECONDS,
    ) -> None:
        self._client_for = client_for
        self._policy = policy
        self._admins = admins
        self._groups = groups
        self._monotonic = monotonic
        self._ttl = ttl
        self._lock = threading.Lock()
        self._people: dict[str, tuple[float, Person]] = {}
        self._home: Home | None = None  # our team and enterprise, once known

    def refusal(
        self, user: str | None, channel: str | None = None, *, home: Home | None = None
    ) -> str | None:
        """Why this person may not use the bot here (plain words for them), or None.
        `channel` is where a /whocreated was typed; None for buttons and forms. `home` is our
        team and enterprise as Bolt's start-up auth.test gave them, when the request carries
        them."""
        policy = self._policy()
        if not user:
            return "I cannot tell who you are, so I cannot answer."
        if channel and policy.allowed_channels and channel not in policy.allowed_channels:
            where = ", ".join(f"<#{c}>" for c in policy.allowed_channels[:5])
            return f"whocreated answers only in {where} here."
        if self._admins.is_admin(user) or self._listed(user, policy):
            return None
        if policy.allowed_users or policy.allowed_groups:
            return "You are not among the people allowed to use whocreated here: ask an admin."
        person = self._person(user)
        if person is None:
            return (
                "I could not check who you are with Slack just now: please try again in a minute."
            )
        if person.deleted:
            return "This account cannot use whocreated."
        if person.guest:
            return "Guests cannot use whocreated here unless an admin allows them."
        if person.stranger:
            return OTHER_ORGANISATION
        same = self._same_organisation(person, home)
        if same is None:
            return (
                "I could not check which organisation you belong to just now: please try again "
                "in a minute."
            )
        if not same:
            return OTHER_ORGANISATION
        return None

    def _listed(self, user: str, policy: SlackPolicy) -> bool:
        return user in policy.allowed_users or self._groups.any_has(policy.allowed_groups, user)

    def _person(self, user: str) -> Person | None:
        now = self._monotonic()
        with self._lock:
            cached = self._people.get(user)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            answer = self._client_for().users_info(user=user)
            person = Person.from_user(answer.get("user") or {})
        except Exception as error:
            logger.warning("users.info for %s failed (%s): request refused", user, error)
            return cached[1] if cached is not None else None  # stale beats nothing
        with self._lock:
            self._people[user] = (now, person)
        return person

    def _same_organisation(self, person: Person, given: Home | None) -> bool | None:
        """Whether the person is of our team (or enterprise); None when ours is unknown."""
        team, enterprise = self._our_team(given)
        if team is None and enterprise is None:
            return None
        return (team is not None and person.team_id == team) or (
            enterprise is not None and person.enterprise_id == enterprise
        )

    def _our_team(self, given: Home | None) -> Home:
        """Our team and enterprise: as given (Bolt's start-up auth.test), else as learnt before,
        else from auth.test now; (None, None) when Slack cannot say (asked again next time)."""
        if given is not None and any(given):
            with self._lock:
                self._home = given
            return given
        with self._lock:
            if self._home is not None:
                return self._home
        try:
            answer = self._client_for().auth_test()
            home = (answer.get("team_id"), answer.get("enterprise_id"))
        except Exception:
            logger.exception("auth.test failed: people's organisation cannot be checked")
            return (None, None)
        if any(home):
            with self._lock:
                self._home = home
        return home


OTHER_ORGANISATION = "People from other organisations cannot use whocreated here."


class LookupLimit:
    """At most `per_minute` lookups per person in any 60 seconds, in this process: replicas do
    not share the count (with N of them, one person may get N times the limit)."""

    def __init__(
        self,
        per_minute: Callable[[], int],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_minute = per_minute
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._asked: dict[str, deque[float]] = {}

    def wait_for(self, user: str) -> float:
        """0 when this person may look something up now (and it is counted); else the seconds
        until they may."""
        now = self._monotonic()
        limit = max(1, self._per_minute())
        with self._lock:
            times = self._asked.setdefault(user, deque())
            while times and now - times[0] >= RATE_WINDOW_SECONDS:
                times.popleft()
            if len(times) >= limit:
                return RATE_WINDOW_SECONDS - (now - times[0])
            times.append(now)
            return 0.0
