"""The tests' Slack: the sandbox's recording Slack Web API (bot/sandbox/slack_api.py), started at
once, with the tests' bot token and a shorter `add_user` (email first, the name doubling as the
real name)."""

from __future__ import annotations

from bot.sandbox.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID, Call, SlackApi

BOT_TOKEN = "xoxb-test"

__all__ = ["BOT_ID", "BOT_TOKEN", "BOT_USER_ID", "TEAM_ID", "Call", "FakeSlack"]


class FakeSlack(SlackApi):
    def __init__(self, *, token: str = BOT_TOKEN) -> None:
        super().__init__(token=token)
        self.start()

    def add_user(  # type: ignore[override]
        self,
        email: str,
        user_id: str,
        name: str = "someone",
        tz: str = "Europe/Amsterdam",
        kind: str = "member",
    ) -> None:
        super().add_user(user_id, name, real_name=name, email=email, tz=tz, kind=kind)
