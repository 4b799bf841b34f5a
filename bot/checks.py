"""`whocreated check`, and the checks `serve` makes as it starts.

`check` says what is in place and what is missing: the configuration, the Slack tokens (their
shape, auth.test, the scopes the features use, a Socket Mode connection with the app token),
that the bot is a member of each configured channel, the AWS credentials, and every IAM
permission the configured features need, from the permissions table (bot/permissions.py),
probed by bot/aws/iam_probe.py. Each line is ok, warn (exit 0: a part of a feature is lost) or
FAIL (exit 2 for configuration, 3 for what Slack or AWS refuses or cannot be reached).

`start_up` is what `serve` runs first: one warning line each for missing or unusable AWS
credentials and a missing region, and a Socket Mode app token Slack refuses is exit 3 at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bot.config import (
    APP_TOKEN_PREFIX,
    BOT_TOKEN_PREFIX,
    ConfigError,
    Settings,
    token_problem,
)
from bot.permissions import PURPOSE, REQUIRED, SLACK_SCOPES, Feature, iam_for

logger = logging.getLogger(__name__)

# A failure in these features costs a part of them; in the others, the feature itself.
_PARTIAL = frozenset({Feature.LOOKUPS, Feature.PATROL, Feature.TAGS, Feature.CHECK})


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    exit_code: int = 3  # a failure means: 2 configuration, 3 denied or unreachable, 0 a warning


def configured_features(settings: Settings) -> tuple[Feature, ...]:
    """The features this configuration uses (check probes their permissions)."""
    policy = settings.policy
    features = [Feature.LOOKUPS, Feature.PATROL]
    if policy.actions.write_tags:
        features.append(Feature.TAGS)
    if policy.actions.enabled:
        features.append(Feature.ACTIONS)
        if policy.actions.snapshot_before_delete:
            features.append(Feature.SNAPSHOTS)
    if policy.accounts.role_name:
        features.append(Feature.ACCOUNTS)
    if policy.accounts.from_organization:
        features.append(Feature.ORGANIZATIONS)
    if policy.archive is not None:
        features.append(Feature.ARCHIVE)
    return tuple(features)


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


# Configuration ---------------------------------------------------------------------------------


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


# Slack -----------------------------------------------------------------------------------------


def _slack_checks(settings: Settings, web_client: Any) -> list[Check]:
    token = settings.slack_bot_token
    if not token or token_problem("SLACK_BOT_TOKEN", token, BOT_TOKEN_PREFIX):
        return []  # said by "Slack settings"; asking Slack would only add invalid_auth
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.slack.app import build_web_client

    client = web_client or build_web_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as error:
        refused = error.response.get("error")
        return [Check("Slack auth.test", False, f"Slack refused the bot token: {refused}")]
    except (SlackClientError, OSError) as error:
        return [Check("Slack auth.test", False, f"Slack is unreachable: {error}")]
    checks = [
        Check("Slack auth.test", True, f"bot {response.get('user')} in {response.get('team')}")
    ]
    granted = {s.strip() for s in (response.headers.get("x-oauth-scopes") or "").split(",") if s}
    if granted:
        checks.extend(_scope_checks(granted))
    checks.extend(_socket_mode_checks(settings, client))
    checks.extend(_channel_checks(settings, client))
    return checks


def _scope_checks(granted: set[str]) -> list[Check]:
    def missing(features: Iterable[Feature]) -> list[str]:
        needed = dict.fromkeys(s for f in features for s in SLACK_SCOPES.get(f, ()))
        return [scope for scope in needed if scope not in granted]

    lacking = missing((Feature.LOOKUPS, Feature.PATROL))
    checks = [
        Check(
            "Slack scopes",
            not lacking,
            "all granted" if not lacking else f"missing {', '.join(lacking)}: reinstall the app",
        )
    ]
    for_check = missing((Feature.CHECK,))
    if for_check and not lacking:
        checks.append(
            Check(
                "Slack scopes for check",
                False,
                f"missing {', '.join(for_check)}: channel membership cannot be checked "
                "(reinstall the app with manifest.yml's scopes)",
                exit_code=0,
            )
        )
    return checks


def _socket_mode_checks(settings: Settings, client: Any) -> list[Check]:
    app_token = settings.slack_app_token
    if not app_token or token_problem("SLACK_APP_TOKEN", app_token, APP_TOKEN_PREFIX):
        return []
    problem = socket_mode_problem(client, app_token)
    if problem:
        return [Check("Slack Socket Mode", False, problem)]
    return [Check("Slack Socket Mode", True, "apps.connections.open accepted the app token")]


def socket_mode_problem(client: Any, app_token: str) -> str | None:
    """Why Slack will not open a Socket Mode connection with `app_token`, or None."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as error:
        refused = error.response.get("error")
        if refused == "not_allowed_token_type":
            return "SLACK_APP_TOKEN is not an app-level token (xapp-…) with connections:write"
        return (
            f"Slack refused the app token for Socket Mode ({refused}): check SLACK_APP_TOKEN "
            "(an app-level token with connections:write)"
        )
    except (SlackClientError, OSError) as error:
        return f"Slack is unreachable for Socket Mode: {error}"
    return None


def _channel_checks(settings: Settings, client: Any) -> list[Check]:
    from slack_sdk.errors import SlackApiError, SlackClientError

    slack = settings.policy.slack
    channels = {
        "fallback_channel": slack.fallback_channel,
        "audit_channel": slack.audit_channel,
        "summary_channel": slack.summary_channel,
    }
    checks = []
    for key, channel in channels.items():
        if not channel:
            continue
        name = f"Slack {key} {channel}"
        try:
            info = client.conversations_info(channel=channel).get("channel") or {}
        except SlackApiError as error:
            refused = error.response.get("error")
            if refused == "missing_scope":
                checks.append(Check(name, False, "cannot tell: needs channels:read/groups:read", 0))
            elif refused == "channel_not_found":
                checks.append(
                    Check(
                        name,
                        False,
                        "not found, or private without the bot: invite it there "
                        "(/invite @whocreated)",
                    )
                )
            else:
                checks.append(Check(name, False, f"Slack refused conversations.info: {refused}"))
            continue
        except (SlackClientError, OSError) as error:
            checks.append(Check(name, False, f"Slack is unreachable: {error}"))
            continue
        label = f"#{info['name']}" if info.get("name") else channel
        if info.get("is_member"):
            checks.append(Check(name, True, f"the bot is a member of {label}"))
        else:
            checks.append(
                Check(name, False, f"the bot is not a member of {label}: /invite @whocreated there")
            )
    return checks


# AWS -------------------------------------------------------------------------------------------


def _aws_checks(settings: Settings, aws: Any) -> list[Check]:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from bot.aws.errors import error_code
    from bot.aws.iam_probe import probe
    from bot.wiring import AwsClients

    clients = aws or AwsClients()
    region = settings.require_region()
    try:
        identity = clients("sts", region).get_caller_identity()
    except NoCredentialsError:
        return [
            Check("AWS credentials", False, "none found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID")
        ]
    except ClientError as error:
        return [Check("AWS credentials", False, f"AWS refused them ({error_code(error)})")]
    except BotoCoreError as error:
        return [Check("AWS credentials", False, f"AWS is unreachable: {error}")]
    arn, account = str(identity.get("Arn")), str(identity.get("Account"))
    checks = [Check("AWS credentials", True, f"{arn} (account {account})")]
    features = configured_features(settings)
    needed = iam_for(f for f in features if f is not Feature.ACCOUNTS)
    try:
        probed = probe(list(needed), clients, region, arn, account)
    except BotoCoreError as error:
        return [*checks, Check("AWS permissions", False, f"AWS is unreachable: {error}")]
    checks.extend(_permission_checks(needed, probed))
    if not settings.policy.actions.enabled:
        checks.append(
            Check(
                "AWS actions",
                True,
                'dry-run: the buttons change nothing (set [actions] mode = "enabled" and run '
                "check again to check their permissions)",
            )
        )
    if Feature.ACCOUNTS in features:
        checks.extend(_account_checks(settings, clients, region))
    if Feature.ARCHIVE in features:
        checks.extend(_archive_checks(settings, clients))
    return checks


def _permission_checks(needed: dict[str, tuple[Feature, ...]], probed: Any) -> list[Check]:
    from bot.aws.iam_probe import Verdict

    simulated = probed.why_not_simulated is None
    checks: list[Check] = [
        Check(
            "AWS permissions",
            simulated,
            f"checked with {probed.method}"
            + ("" if simulated else f", since {probed.why_not_simulated}"),
            0,
        )
    ]
    by_feature: dict[Feature, list[str]] = {}
    for action, features in needed.items():
        for feature in features:
            by_feature.setdefault(feature, []).append(action)
    by_feature = {f: by_feature[f] for f in Feature if f in by_feature}
    for feature, actions in by_feature.items():
        verdicts = [probed.verdicts[action] for action in actions]
        denied = [a for a in actions if probed.verdicts[a] is Verdict.DENIED]
        unverified = [a for a in actions if probed.verdicts[a] is Verdict.UNVERIFIED]
        conditional = [a for a in actions if probed.verdicts[a] is Verdict.CONDITIONAL]
        for action in denied:
            required = action in REQUIRED or feature not in _PARTIAL
            code = probed.details.get(action, "denied")
            words = "needed for" if required else "optional, for"
            checks.append(
                Check(
                    action,
                    False,
                    f"{code}: {words} {feature} ({PURPOSE[feature]})",
                    3 if required else 0,
                )
            )
        allowed = verdicts.count(Verdict.ALLOWED)
        summary = f"{allowed} of {len(actions)} permissions allowed"
        if conditional:
            keys = sorted({probed.details.get(a, "") for a in conditional} - {""})
            summary += (
                f"; {len(conditional)} only under the policy's conditions ({'; '.join(keys)})"
            )
        if unverified:
            summary += f"; not verified: {', '.join(unverified)}"
        ok = not denied and not unverified
        checks.append(Check(f"AWS {feature}", ok, summary, 0))
    return checks


def _account_checks(settings: Settings, clients: Any, region: str) -> list[Check]:
    """Assume the policy's role in each listed account, as a round does."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.aws.accounts import SESSION_NAME
    from bot.aws.errors import error_code

    accounts = settings.policy.accounts
    checks = []
    ids = accounts.ids
    if accounts.from_organization:
        ids, listing = _organization_checks(settings, clients, region)
        checks.extend(listing)
    for account in ids:
        role_arn = f"arn:aws:iam::{account}:role/{accounts.role_name}"
        request: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
        if accounts.external_id:
            request["ExternalId"] = accounts.external_id
        try:
            clients("sts", region).assume_role(**request)
            checks.append(Check(f"AWS account {account}", True, f"{role_arn} assumed"))
        except ClientError as error:
            checks.append(
                Check(
                    f"AWS account {account}",
                    False,
                    f"cannot assume {role_arn} ({error_code(error)})",
                )
            )
        except BotoCoreError as error:
            checks.append(Check(f"AWS account {account}", False, f"AWS is unreachable: {error}"))
    return checks


def _organization_checks(
    settings: Settings, clients: Any, region: str
) -> tuple[tuple[str, ...], list[Check]]:
    """List the organization's accounts as a round does: (the selected ones, what was said)."""
    from bot.aws.organization import OrganizationUnavailable, select

    accounts = settings.policy.accounts
    try:
        chosen = select(clients("organizations", region), accounts)
    except OrganizationUnavailable as error:
        return (), [Check("AWS organization", False, str(error))]
    where = f"under {', '.join(accounts.ous)}" if accounts.ous else "in the whole organization"
    checks = [Check("AWS organization", True, f"{len(chosen.accounts)} active accounts {where}")]
    checks.extend(Check("AWS organization", False, note, 0) for note in chosen.notes)
    return chosen.accounts, checks


def _archive_checks(settings: Settings, clients: Any) -> list[Check]:
    """The trail archive: its workgroup (where results go, what a query may scan) and its table
    (the partitions a query names)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.aws.errors import error_code

    archive = settings.policy.archive
    assert archive is not None
    region = archive.region or settings.require_region()
    checks = []
    try:
        workgroup = clients("athena", region).get_work_group(WorkGroup=archive.workgroup)
        configuration = workgroup["WorkGroup"].get("Configuration") or {}
    except ClientError as error:
        code = error_code(error)
        return [Check("AWS archive", False, f"workgroup {archive.workgroup}: {code}")]
    except BotoCoreError as error:
        return [Check("AWS archive", False, f"Athena is unreachable: {error}")]
    output = (configuration.get("ResultConfiguration") or {}).get("OutputLocation")
    where = archive.output_location or output
    if not where:
        checks.append(
            Check(
                "AWS archive",
                False,
                f"workgroup {archive.workgroup} has no query result location: set "
                "[athena] output_location",
                2,
            )
        )
    cutoff = configuration.get("BytesScannedCutoffPerQuery")
    if cutoff:
        checks.append(
            Check(
                "AWS archive",
                True,
                f"workgroup {archive.workgroup}, results to {where}; a query stops at "
                f"{cutoff / 1e9:.1f} GB scanned (its per-query limit)",
            )
        )
    else:
        checks.append(
            Check(
                "AWS archive",
                False,
                f"workgroup {archive.workgroup} sets no per-query bytes scanned limit: a query "
                "without a creation time reads every day since [athena] earliest of its "
                "accounts; set one (Athena → Workgroups → Data usage controls)",
                0,
            )
        )
    checks.append(_archive_table_check(settings, clients, region))
    return checks


def _archive_table_check(settings: Settings, clients: Any, region: str) -> Check:
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.aws.errors import error_code

    archive = settings.policy.archive
    assert archive is not None
    name = f"{archive.database}.{archive.table}"
    try:
        table = clients("glue", region).get_table(DatabaseName=archive.database, Name=archive.table)
    except ClientError as error:
        return Check("AWS archive table", False, f"{name}: {error_code(error)}")
    except BotoCoreError as error:
        return Check("AWS archive table", False, f"Glue is unreachable: {error}")
    keys = {str(key.get("Name", "")).lower() for key in table["Table"].get("PartitionKeys", [])}
    wanted = [archive.account_partition, archive.region_partition, archive.date_partition]
    missing = [key for key in wanted if key not in keys]
    if missing:
        return Check(
            "AWS archive table",
            False,
            f"{name} has no partition {', '.join(missing)}: queries would read the whole "
            "table or fail (see the README's table layout, or set [athena] *_partition)",
            2,
        )
    return Check("AWS archive table", True, f"{name}, partitioned by {', '.join(wanted)}")


# serve's start -----------------------------------------------------------------------------------


def start_up(
    settings: Settings,
    *,
    web_client: Any = None,
    credentials: Callable[[], Any] | None = None,
    caller: Callable[[], Any] | None = None,
) -> None:
    """Warn (one line each) about missing or unusable AWS credentials and a missing region, and
    raise bot.cli.Unavailable when Slack refuses the Socket Mode app token."""
    for warning in aws_warnings(settings, credentials=credentials, caller=caller):
        logger.warning(warning)
    if settings.socket_mode and settings.slack_app_token:
        from bot.errors import Unavailable
        from bot.slack.app import build_web_client

        problem = socket_mode_problem(
            web_client or build_web_client(settings), settings.slack_app_token
        )
        if problem:
            raise Unavailable(problem)


def aws_warnings(
    settings: Settings,
    *,
    credentials: Callable[[], Any] | None = None,
    caller: Callable[[], Any] | None = None,
) -> Sequence[str]:
    """What is wrong with AWS at start, one line each; `serve` still starts (Slack works)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.aws.errors import error_code

    warnings = []
    if not settings.aws_region:
        warnings.append(
            "no AWS region configured: us-east-1 is assumed; set AWS_REGION (or "
            "AWS_DEFAULT_REGION, a profile region, or [aws] region in whocreated.toml)"
        )
    try:
        found = (credentials or _boto3_credentials)()
    except BotoCoreError as error:
        return [
            *warnings,
            f"AWS credentials could not be loaded ({error}): lookups and rounds will fail",
        ]
    if found is None:
        return [
            *warnings,
            "no AWS credentials found: lookups and patrol rounds will fail until AWS_PROFILE, "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance or pod role is set",
        ]
    try:
        (caller or (lambda: _quick_sts(settings).get_caller_identity()))()
    except ClientError as error:
        warnings.append(
            f"AWS refused the credentials ({error_code(error)}): lookups and patrol rounds will "
            "fail until they are fixed"
        )
    except BotoCoreError as error:
        warnings.append(f"AWS is unreachable ({error}): lookups and patrol rounds will fail")
    return warnings


def _boto3_credentials() -> Any:
    import boto3

    return boto3.Session().get_credentials()


def _quick_sts(settings: Settings) -> Any:
    """An STS client that gives up in seconds: start-up must not hang on a dead network."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5)
    return boto3.client("sts", region_name=settings.aws_region or "us-east-1", config=config)
