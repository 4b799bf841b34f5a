"""Members of Slack user groups (`usergroups.users.list`), cached for a few minutes.

Used for admins given as a group and for the groups allowed to use the bot. A group that cannot
be read counts as empty (the safe side: nobody gains a right through it), said in the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

logger = logging.getLogger(__name__)

GROUP_TTL_SECONDS = 300.0


class UserGroups:
    def __init__(
        self,
        client_for: Callable[[], WebClient],
        *,
        ttl: float = GROUP_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_for = client_for
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def members(self, group: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._members.get(group)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        try:
            answer = self._client_for().usergroups_users_list(usergroup=group)
            members = frozenset(str(user) for user in answer.get("users") or ())
        except Exception:
            logger.exception("could not read the user group %s; it counts as empty", group)
            return frozenset()
        with self._lock:
            self._members[group] = (now, members)
        return members

    def any_has(self, groups: tuple[str, ...], user: str) -> bool:
        return any(user in self.members(group) for group in groups)
