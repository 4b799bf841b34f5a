"""Who counts as an admin: the policy's user ids, and the members of its admin user group.

The group's members come from `usergroups.users.list` (bot.slack.user_groups, cached), and are
only asked for when the clicker is neither the owner nor a listed admin. A group that cannot be
read makes nobody an admin through it (the safe side), and says so in the log.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from bot.core.decisions import may_act
from bot.core.policy import SlackPolicy
from bot.slack.user_groups import UserGroups


class Admins:
    def __init__(
        self,
        client_for: Callable[[], WebClient],
        policy: Callable[[], SlackPolicy],
        *,
        groups: UserGroups | None = None,
    ) -> None:
        self._policy = policy
        self._groups = groups or UserGroups(client_for)

    def may_act(self, user: str | None, owner: str | None) -> bool:
        policy = self._policy()
        if may_act(user, owner, policy.admins):
            return True
        if not user or not policy.admin_group:
            return False
        return may_act(user, owner, policy.admins, self._groups.members(policy.admin_group))

    def is_admin(self, user: str | None) -> bool:
        return self.may_act(user, None)
