"""Who counts as an admin: the policy's user ids, and the members of its admin user group.

The group's members come from `usergroups.users.list`, cached for a few minutes, and are only asked
for when the clicker is neither the owner nor a listed admin. A group that cannot be read makes
nobody an admin through it (the safe side), and says so in the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.core.decisions import may_act
from bot.core.policy import SlackPolicy

logger = logging.getLogger(__name__)

GROUP_TTL_SECONDS = 300.0


class Admins:
    def __init__(
        self,
        client_for: Callable[[], WebClient],
        policy: Callable[[], SlackPolicy],
        *,
        ttl: float = GROUP_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_for = client_for
        self._policy = policy
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def may_act(self, user: str | None, owner: str | None) -> bool:
        policy = self._policy()
        if may_act(user, owner, policy.admins):
            return True
        if not user or not policy.admin_group:
            return False
        return may_act(user, owner, policy.admins, self.group_members(policy.admin_group))

    def is_admin(self, user: str | None) -> bool:
        return self.may_act(user, None)

    def group_members(self, group: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._members.get(group)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        try:
            answer = self._client_for().usergroups_users_list(usergroup=group)
            members = frozenset(str(user) for user in answer.get("users") or ())
        except Exception:
            logger.exception("could not read the admin user group %s; nobody is admin by it", group)
            return frozenset()
        with self._lock:
            self._members[group] = (now, members)
        return members
