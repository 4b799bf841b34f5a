"""`whocreated check`: configuration, Slack auth and scopes, AWS permissions: what is missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from bot.config import ConfigError, Settings

# The bot scopes manifest.yml asks for; a test keeps the two lists the same.
NEEDED_SLACK_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "im:history",
    "channels:history",
    "groups:history",
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    exit_code: int = 3  # a failure means: 2 configuration, 3 denied or unreachable, 0 a warning


def run_checks(settings: Settings, out: TextIO, *, aws: Any = None, web_client: Any = None) -> int:
    checks = [*_config_checks(settings), *_slack_checks(settings, web_client)]
    if settings.aws_region:
        checks.extend(_aws_checks(settings, aws))
    for check in checks:
        status = "ok  " if check.ok else ("warn" if check.exit_code == 0 else "FAIL")
        out.write(f"{status}  {check.name}: {check.detail}\n")
    failures = [check.exit_code for check in checks if not check.ok and check.exit_code]
    if not failures:
        out.write("everything whocreated needs is in place\n")
        return 0
    return 2 if 2 in failures else 3


def _config_checks(settings: Settings) -> list[Check]:
    checks = [
        Check(
            "policy file",
            True,
            (str(settings.policy_path) if settings.policy_path else "none (defaults apply)")
            + f"; actions {settings.policy.actions.mode}, rounds at "
            f"{settings.policy.schedule.cron!r} {settings.policy.schedule.timezone}",
        )
    ]
    try:
        region = settings.require_region()
        checks.append(Check("AWS region", True, region))
    except ConfigError as error:
        checks.append(Check("AWS region", False, str(error), exit_code=2))
    try:
        settings.require_slack()
        mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
        checks.append(Check("Slack settings", True, mode))
    except ConfigError as error:
        checks.append(Check("Slack settings", False, str(error), exit_code=2))
    return checks


def _slack_checks(settings: Settings, web_client: Any) -> list[Check]:
    if not settings.slack_bot_token:
        return []
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    client = web_client or WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url or WebClient.BASE_URL
    )
    try:
        response = client.auth_test()
    except SlackApiError as error:
        return [
            Check(
                "Slack auth.test", False, f"Slack refused the token: {error.response.get('error')}"
            )
        ]
    except (SlackClientError, OSError) as error:
        return [Check("Slack auth.test", False, f"Slack is unreachable: {error}")]
    checks = [
        Check("Slack auth.test", True, f"bot {response.get('user')} in {response.get('team')}")
    ]
    granted = {s.strip() for s in (response.headers.get("x-oauth-scopes") or "").split(",") if s}
    if granted:
        missing = [scope for scope in NEEDED_SLACK_SCOPES if scope not in granted]
        checks.append(
            Check(
                "Slack scopes",
                not missing,
                "all granted"
                if not missing
                else f"missing {', '.join(missing)}: reinstall the app",
            )
        )
    return checks


# (name, service, call, what it is for); each is a cheap read that proves the permission.
_AWS_PROBES: list[tuple[str, str, Callable[[Any], Any], str]] = [
    ("sts:GetCallerIdentity", "sts", lambda c: c.get_caller_identity(), "the account in answers"),
    (
        "cloudtrail:LookupEvents",
        "cloudtrail",
        lambda c: c.lookup_events(MaxResults=1),
        "required: every lookup",
    ),
    (
        "ec2:DescribeRegions",
        "ec2",
        lambda c: c.describe_regions(),
        "searching every enabled region",
    ),
    (
        "ec2:DescribeInstances",
        "ec2",
        lambda c: c.describe_instances(MaxResults=5),
        "fast lookups of instances",
    ),
    (
        "ec2:DescribeVolumes",
        "ec2",
        lambda c: c.describe_volumes(MaxResults=5),
        "fast lookups of volumes",
    ),
    (
        "rds:DescribeDBInstances",
        "rds",
        lambda c: c.describe_db_instances(MaxRecords=20),
        "fast lookups of databases",
    ),
]


def _aws_checks(settings: Settings, aws: Any) -> list[Check]:
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.wiring import AwsClients

    clients = aws or AwsClients()
    region = settings.require_region()
    checks = []
    for name, service, call, purpose in _AWS_PROBES:
        try:
            call(clients(service, region))
            checks.append(Check(name, True, purpose))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            required = purpose.startswith("required")
            checks.append(
                Check(name, False, f"{code}: needed for {purpose}", exit_code=3)
                if required
                else Check(name, False, f"{code}: optional, for {purpose}", exit_code=0)
            )
        except BotoCoreError as error:
            checks.append(Check(name, False, f"AWS unreachable or no credentials: {error}"))
    return checks
